"""Request and answer shapes of the metrics routes (validation and the OpenAPI document)."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from chalicelib.core.fields import Day, Month, Quarter
from chalicelib.core.schemas import RequestModel

Figure = float | None
ReportFormat = Literal["json", "csv", "html"]


class DailyQuery(RequestModel):
    from_: Day = Field(alias="from", description="YYYY-MM-DD, a local day in the workspace time zone")
    to: Day = Field(description="YYYY-MM-DD, inclusive; at most 366 days after `from`")
    channel_id: str | None = None


class MonthlyReportQuery(RequestModel):
    month: Month
    format: ReportFormat = "json"


class QuarterlyReportQuery(RequestModel):
    quarter: Quarter
    format: ReportFormat = "json"


class FigureSet(BaseModel):
    """The figures of a day, a period or a channel; null: not known (never 0 for missing)."""

    model_config = ConfigDict(extra="allow")
    followers: Figure = None
    audience_growth: Figure = None
    audience_growth_pct: Figure = None
    posts_published: Figure = None
    posts_failed: Figure = None
    posts_unknown: Figure = None
    posts_on_time: Figure = None
    on_time_rate: Figure = None
    lateness_median_s: Figure = None
    lateness_p90_s: Figure = None
    likes: Figure = None
    reposts: Figure = None
    replies: Figure = None
    engagements: Figure = None
    engagements_per_post: Figure = None
    impressions: Figure = None
    engagement_rate: Figure = None
    engagement_rate_by_followers: Figure = None
    potential_reach: Figure = None
    comments: Figure = None
    messages: Figure = None
    mentions: Figure = None
    listening_matches: Figure = None
    word_of_mouth: Figure = None
    conversations: Figure = None
    answered_within_24h: Figure = None
    response_rate: Figure = None
    first_response_median_s: Figure = None
    first_response_p90_s: Figure = None
    replies_sent: Figure = None
    clicks: Figure = None
    unique_visitors: Figure = None
    conversions: Figure = None
    conversions_unattributed: Figure = None
    conversion_value: Figure = None
    conversion_rate: Figure = None


class LinkTraffic(BaseModel):
    """One short link's day: each channel of a post has its own link, so clicks are the channel's."""

    channel_id: str = Field(description="`workspace` for conversions no click within the window explains")
    code: str | None
    post_id: str | None
    clicks: float
    unique_visitors: float
    conversions: float
    conversion_value: float


class MetricsDay(FigureSet):
    date: date
    rolled_up: bool
    insights_missing: list[str] = Field(description="Channels whose network figures for the day are missing")
    traffic: list[LinkTraffic] = Field(default_factory=list, description="Per short link (post and channel)")


class DailyMetrics(BaseModel):
    from_: date = Field(alias="from")
    to: date
    timezone: str
    channel_id: str | None
    days: list[MetricsDay]


class Comparison(BaseModel):
    value: Figure
    previous: Figure
    change: Figure
    change_pct: Figure


class ReportPeriod(BaseModel):
    kind: Literal["month", "quarter"]
    label: str
    from_: date = Field(alias="from")
    to: date


class ReportChannel(BaseModel):
    channel_id: str
    name: str
    network: str
    figures: dict[str, Comparison]


class ReportDay(BaseModel):
    date: date
    followers: Figure
    posts_published: Figure
    engagements: Figure
    impressions: Figure
    inbound: Figure
    conversations: Figure
    response_rate: Figure
    first_response_median_s: Figure
    clicks: Figure = None
    conversions: Figure = None
    rolled_up: bool


class MissingInsight(BaseModel):
    date: date
    channel_id: str
    channel_name: str | None = None
    insights: str
    followers_missing: bool
    posts_missing: int
    reason: str | None


class Report(BaseModel):
    workspace: dict[str, Any]
    period: ReportPeriod
    previous_period: ReportPeriod
    generated_at: datetime
    complete: bool = Field(description="Every day rolled up and every network figure in")
    pending_days: list[date]
    missing: list[MissingInsight]
    figures: dict[str, Comparison]
    channels: list[ReportChannel]
    daily: list[ReportDay]
    previous_daily: list[ReportDay]
    top_posts: list[dict[str, Any]]
    traffic_posts: list[dict[str, Any]] = Field(default_factory=list, description=(
        "Clicks, unique visitors, conversions and their rate per post and channel, most clicked first"))
    goals: list[dict[str, Any]] = Field(default_factory=list, description=(
        "The goals whose period overlaps the report's, with their progress and pace at its end"))
    share_of_voice: dict[str, Any] | None = Field(default=None, description=(
        "Listening: {brand: {mentions, share}, competitors: [{name, mentions, share}], by_network: [{network, "
        "brand, brand_share, competitors: [{name, mentions, share}]}]}; a post counts once per side, shares "
        "in percent of brand + competitor mentions."))
    brand_consistency: dict[str, Any] | None = Field(default=None, description=(
        "The latest brand consistency check (as GET /brand/consistency answers); None without one."))


class TimeSlot(BaseModel):
    model_config = ConfigDict(extra="allow")
    posts: int
    engagements: int
    average_engagements: Figure


class BestTimes(BaseModel):
    channel_id: str
    timezone: str
    from_: date = Field(alias="from")
    to: date
    weeks: int
    sample_size: int = Field(description="Posts with network figures the answer rests on")
    posts_without_figures: int
    min_posts_per_slot: int
    best: list[TimeSlot]
    slots: list[TimeSlot]
    by_weekday: list[TimeSlot]
    by_hour: list[TimeSlot]
