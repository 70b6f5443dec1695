"""Request and answer shapes of the ads routes."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, Field, model_validator

from chalicelib.core.fields import Day, MultiLine, SingleLine
from chalicelib.core.schemas import Limit, RequestModel

Money = Annotated[Decimal, Field(ge=0, max_digits=14, decimal_places=2, allow_inf_nan=False)]
Currency = Annotated[str, Field(pattern=r"^[A-Z]{3}$", description="ISO 4217, e.g. EUR, USD, TRY.")]
Objective = Literal["awareness", "traffic", "engagement", "leads", "app_promotion", "sales"]
PostId = Annotated[str, Field(pattern=r"^pst_[0-9a-z]{1,40}$")]
ActionType = Annotated[str, Field(pattern=r"^[a-z0-9_.]{1,100}$")]


class Budget(RequestModel):
    total: Annotated[Money, Field(gt=0)]
    daily: Annotated[Money, Field(gt=0)] | None = None
    currency: Currency

    @model_validator(mode="after")
    def _daily_within_total(self) -> Budget:
        if self.daily is not None and self.daily > self.total:
            raise ValueError("daily must not be more than total")
        return self


class MetaLink(RequestModel):
    channel_id: Annotated[str, SingleLine(60), Field(description="A Facebook or Instagram channel whose token "
                                                                 "reads the ad account (ads_read).")]
    ad_account_id: Annotated[str, Field(pattern=r"^act_[0-9]{1,20}$", description="act_<id>, as Ads Manager shows.")]
    campaign_id: Annotated[str, Field(pattern=r"^[0-9]{1,25}$")] | None = Field(
        default=None, description="The Meta campaign to follow; without it the whole ad account's figures.")
    conversion_actions: Annotated[list[ActionType], Field(max_length=20)] | None = Field(
        default=None, description="The action types counted as conversions. Default: purchase, lead, "
                                  "complete_registration.")


class CampaignFields(RequestModel):
    objective: Objective | None = None
    audience: Annotated[str, MultiLine(max_length=2000)] | None = Field(
        default=None, description="Who the ads are for, in words (the targeting itself is set in the network).")
    post_ids: Annotated[list[PostId], Field(max_length=50)] | None = Field(
        default=None, description="The posts the campaign promotes.")


class CampaignCreate(CampaignFields):
    name: Annotated[str, SingleLine(200)]
    budget: Budget
    start_date: Day
    end_date: Day
    source: Literal["meta", "manual"] = Field(
        default="manual", description="`meta`: results read daily from the Marketing API; `manual`: entered or "
                                      "imported as CSV (POST /ads/campaigns/{id}/results).")
    network: Annotated[str, Field(pattern=r"^[a-z_]{2,30}$")] | None = Field(
        default=None, description="Where a manual campaign runs: tiktok, linkedin, google, x, pinterest...")
    meta: MetaLink | None = None

    @model_validator(mode="after")
    def _consistent(self) -> CampaignCreate:
        if self.end_date < self.start_date:
            raise ValueError("end_date must not be before start_date")
        if (self.source == "meta") != (self.meta is not None):
            raise ValueError("a meta campaign needs `meta` (channel_id, ad_account_id); a manual one has none")
        return self


class CampaignPatch(CampaignFields):
    name: Annotated[str, SingleLine(200)] | None = None
    budget: Budget | None = None
    start_date: Day | None = None
    end_date: Day | None = None
    status: Literal["active", "paused"] | None = None


class ResultRow(RequestModel):
    date: Day
    impressions: Annotated[int, Field(ge=0, le=10**12)]
    clicks: Annotated[int, Field(ge=0, le=10**12)]
    spend: Money
    conversions: Annotated[int, Field(ge=0, le=10**12)] = 0
    reach: Annotated[int, Field(ge=0, le=10**12)] | None = None


class ResultsEntry(RequestModel):
    rows: Annotated[list[ResultRow], Field(min_length=1, max_length=400)]


class ResultsQuery(RequestModel):
    from_: Day | None = Field(default=None, alias="from", description="Default: the campaign's start.")
    to: Day | None = Field(default=None, description="Default: the campaign's end.")


class CampaignPageQuery(RequestModel):
    limit: Limit = 50
    cursor: str | None = None


class BudgetOut(BaseModel):
    total: float
    daily: float | None
    currency: str


class MetaOut(BaseModel):
    channel_id: str | None
    ad_account_id: str | None
    ad_account_name: str | None
    campaign_id: str | None
    conversion_actions: list[str]
    synced_at: datetime | None
    problem: str | None


class CampaignOut(BaseModel):
    id: str
    name: str
    source: Literal["meta", "manual"]
    network: str
    objective: str | None
    audience: str
    budget: BudgetOut
    start_date: date
    end_date: date
    timezone: str = Field(description="Whose days the results are: the ad account's, else the workspace's.")
    post_ids: list[str]
    status: str
    meta: MetaOut | None
    created_at: datetime
    updated_at: datetime


class CampaignPage(BaseModel):
    items: list[CampaignOut]
    next_cursor: str | None


class Figures(BaseModel):
    impressions: int
    reach: int | None
    clicks: int
    spend: float | None
    conversions: int
    ctr: float | None = Field(description="clicks / impressions × 100")
    cpc: float | None = Field(description="spend / clicks")
    cpm: float | None = Field(description="spend / impressions × 1000")
    cost_per_conversion: float | None = Field(description="spend / conversions")


class DayOut(Figures):
    date: date
    source: str


class Pacing(BaseModel):
    as_of: date | None = Field(description="The last finished day of the flight the pacing looks at.")
    flight_days: int
    elapsed_days: int
    expected_spend: float | None
    spend_to_date: float | None
    day_spend: float | None
    alerts: list[str] = Field(description="over_budget, overpacing, underpacing, daily_overspend.")


class ResultsOut(BaseModel):
    campaign_id: str
    currency: str
    from_: date = Field(alias="from")
    to: date
    totals: Figures
    days: list[DayOut]
    pacing: Pacing


class ResultsWritten(ResultsOut):
    days_written: int
