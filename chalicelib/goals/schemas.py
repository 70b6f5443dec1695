"""Goals: request and answer shapes."""
from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from chalicelib.core.fields import Day, Month, Quarter
from chalicelib.core.schemas import RequestModel

GoalMetric = Literal["audience_growth", "engagement_rate", "reach", "word_of_mouth", "response_rate",
                     "response_time", "traffic", "conversions", "ad_spend_efficiency"]
PeriodKind = Literal["month", "quarter", "custom"]
Target = Annotated[float, Field(gt=0, le=1e12, allow_inf_nan=False)]
ChannelIds = Annotated[list[Annotated[str, Field(max_length=64)]], Field(min_length=1, max_length=100)]
CampaignIds = Annotated[list[Annotated[str, Field(max_length=64)]], Field(min_length=1, max_length=50)]
Currency = Annotated[str, Field(pattern=r"^[A-Z]{3}$", description="ISO 4217, e.g. EUR, USD, TRY.")]


class GoalFields(RequestModel):
    period: PeriodKind | None = None
    month: Month | None = Field(default=None, description="YYYY-MM, for a month")
    quarter: Quarter | None = Field(default=None, description="YYYY-Qn, for a quarter")
    from_: Day | None = Field(default=None, alias="from", description="First day of a custom period")
    to: Day | None = Field(default=None, description="Last day of a custom period (at most 366 days)")
    channel_ids: ChannelIds | None = Field(default=None, description="The channels it covers; null: all")
    currency: Currency | None = Field(default=None, description="ad_spend_efficiency only, and required there: "
                                                                "the target's currency; only campaigns spending "
                                                                "in it are followed")
    campaign_ids: CampaignIds | None = Field(default=None, description="ad_spend_efficiency only: the ad "
                                                                       "campaigns it covers; null: all")


class GoalCreate(GoalFields):
    metric: GoalMetric
    target: Target = Field(description="A count, a percentage (engagement and response rate), seconds "
                                       "(response time, where lower is better) or an amount in `currency` "
                                       "(ad spend efficiency: cost per conversion, where lower is better)")
    period: PeriodKind


class GoalPatch(GoalFields):
    target: Target | None = None


class GoalPeriod(BaseModel):
    kind: PeriodKind
    label: str
    from_: date = Field(alias="from")
    to: date


class GoalProgress(BaseModel):
    value: float | None = Field(description="The figure so far, as the reports compute it; null: not known")
    target: float
    expected: float | None = Field(description="Where it should be by now to reach the target")
    percent_of_target: float | None
    elapsed_pct: float
    pace: Literal["not_started", "unknown", "on_track", "behind", "ahead", "met"]
    behind_by: float | None
    ahead_by: float | None
    as_of: date = Field(description="The last local day counted")


class Goal(BaseModel):
    id: str
    metric: GoalMetric
    figure: str = Field(description="The report figure it follows")
    unit: str
    target: float
    period: GoalPeriod
    channel_ids: list[str] | None
    currency: str | None = Field(description="ad_spend_efficiency: the target's currency; else null")
    campaign_ids: list[str] | None = Field(description="ad_spend_efficiency: the campaigns it covers; null: all")
    created_at: str
    updated_at: str
    progress: GoalProgress


class GoalList(BaseModel):
    items: list[Goal]
    next_cursor: str | None = None

    model_config = {"json_schema_extra": {"description": "Every goal of the workspace (at most 100)"}}


def period_fields(body: GoalFields) -> dict[str, Any]:
    return body.model_dump(include={"period", "month", "quarter", "from_", "to"}, exclude_unset=True)
