"""Reads and writes ad campaigns and their daily results (tables.py has the keys)."""
from __future__ import annotations

import builtins
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal

from pynamodb.exceptions import DoesNotExist, UpdateError

from chalicelib.ads.tables import CampaignRecord, ResultRecord
from chalicelib.core.pages import decode_cursor, encode_cursor
from chalicelib.core.tables import set_or_remove

CAMPAIGN = "campaign#"
RESULT = "result#"
LIVE = "live"


@dataclass
class Campaign:
    workspace_id: str
    campaign_id: str
    name: str
    source: str
    currency: str
    total_budget: Decimal
    daily_budget: Decimal | None
    start_date: str
    end_date: str
    created_at: str
    updated_at: str
    network: str = ""
    objective: str = ""
    audience: str = ""
    timezone: str = "UTC"
    post_ids: list[str] = field(default_factory=list)
    channel_id: str | None = None
    ad_account_id: str | None = None
    ad_account_name: str | None = None
    meta_campaign_id: str | None = None
    conversion_actions: list[str] = field(default_factory=list)
    status: str = "active"
    synced_at: str | None = None
    sync_problem: str | None = None
    last_alert_day: str | None = None
    live: bool = True


@dataclass(frozen=True)
class DayResult:
    day: str
    impressions: int
    clicks: int
    spend: Decimal
    conversions: int
    source: str
    recorded_at: str
    reach: int | None = None
    actions: dict[str, int] = field(default_factory=dict)


def _decimal(text: str | None) -> Decimal | None:
    return Decimal(text) if text is not None else None


def _campaign(r: CampaignRecord) -> Campaign:
    return Campaign(r.workspace_id, r.campaign_id, r.name, r.source, r.currency, Decimal(r.total_budget),
                    _decimal(r.daily_budget), r.start_date, r.end_date, r.created_at, r.updated_at,
                    network=r.network, objective=r.objective, audience=r.audience, timezone=r.timezone,
                    post_ids=list(r.post_ids or []), channel_id=r.channel_id, ad_account_id=r.ad_account_id,
                    ad_account_name=r.ad_account_name, meta_campaign_id=r.meta_campaign_id,
                    conversion_actions=list(r.conversion_actions or []), status=r.status, synced_at=r.synced_at,
                    sync_problem=r.sync_problem, last_alert_day=r.last_alert_day, live=r.live_shard is not None)


def _record(c: Campaign) -> CampaignRecord:
    return CampaignRecord(
        c.workspace_id, CAMPAIGN + c.campaign_id, campaign_id=c.campaign_id, name=c.name, source=c.source,
        network=c.network, objective=c.objective, audience=c.audience, currency=c.currency,
        total_budget=str(c.total_budget), daily_budget=None if c.daily_budget is None else str(c.daily_budget),
        start_date=c.start_date, end_date=c.end_date, timezone=c.timezone, post_ids=list(c.post_ids),
        channel_id=c.channel_id, ad_account_id=c.ad_account_id, ad_account_name=c.ad_account_name,
        meta_campaign_id=c.meta_campaign_id, conversion_actions=list(c.conversion_actions), status=c.status,
        synced_at=c.synced_at, sync_problem=c.sync_problem, last_alert_day=c.last_alert_day,
        created_at=c.created_at, updated_at=c.updated_at,
        live_shard=LIVE if c.live else None, campaign_ref=f"{c.workspace_id}#{c.campaign_id}" if c.live else None)


def _result(r: ResultRecord) -> DayResult:
    return DayResult(r.day, int(r.impressions), int(r.clicks), Decimal(r.spend), int(r.conversions), r.source,
                     r.recorded_at, None if r.reach is None else int(r.reach), json.loads(r.actions or "{}"))


class AdRepository:
    def get(self, workspace_id: str, campaign_id: str) -> Campaign | None:
        try:
            return _campaign(CampaignRecord.get(workspace_id, CAMPAIGN + campaign_id, consistent_read=True))
        except DoesNotExist:
            return None

    def save(self, campaign: Campaign) -> None:
        _record(campaign).save()

    def record_run(self, c: Campaign) -> None:
        """What the daily job learnt (sync, alert, still live), leaving every field a PATCH sets alone; nothing
        when the campaign was deleted meanwhile."""
        live = c.live
        try:
            CampaignRecord(c.workspace_id, CAMPAIGN + c.campaign_id).update(actions=[
                set_or_remove(CampaignRecord.synced_at, c.synced_at),
                set_or_remove(CampaignRecord.sync_problem, c.sync_problem),
                set_or_remove(CampaignRecord.last_alert_day, c.last_alert_day),
                set_or_remove(CampaignRecord.live_shard, LIVE if live else None),
                set_or_remove(CampaignRecord.campaign_ref, f"{c.workspace_id}#{c.campaign_id}" if live else None),
            ], condition=CampaignRecord.item_key.exists())
        except UpdateError as exc:
            if getattr(exc, "cause_response_code", "") != "ConditionalCheckFailedException":
                raise

    def delete(self, workspace_id: str, campaign_id: str) -> None:
        """The campaign and every day of its results."""
        with ResultRecord.batch_write() as batch:
            for r in ResultRecord.query(workspace_id, ResultRecord.item_key.startswith(f"{RESULT}{campaign_id}#")):
                batch.delete(r)
        CampaignRecord(workspace_id, CAMPAIGN + campaign_id).delete()

    def list(self, workspace_id: str, limit: int, cursor: str | None) -> tuple[builtins.list[Campaign], str | None]:
        start = decode_cursor(cursor, {"workspace_id": workspace_id}, ("workspace_id", "item_key"))
        found = CampaignRecord.query(workspace_id, CampaignRecord.item_key.startswith(CAMPAIGN), limit=limit,
                                     last_evaluated_key=start)
        rows = [_campaign(r) for r in found]
        return rows, encode_cursor(found.last_evaluated_key)

    def all_of(self, workspace_id: str) -> builtins.list[Campaign]:
        return [_campaign(r) for r in CampaignRecord.query(workspace_id,
                                                           CampaignRecord.item_key.startswith(CAMPAIGN))]

    def live(self) -> Iterator[tuple[str, str]]:
        """(workspace id, campaign id) of every campaign the daily job still reads."""
        for r in CampaignRecord.live.query(LIVE):
            if r.campaign_ref:
                workspace_id, campaign_id = r.campaign_ref.split("#", 1)
                yield workspace_id, campaign_id

    def put_days(self, workspace_id: str, campaign_id: str, days: builtins.list[DayResult]) -> None:
        with ResultRecord.batch_write() as batch:
            for d in days:
                batch.save(ResultRecord(
                    workspace_id, f"{RESULT}{campaign_id}#{d.day}", day=d.day, impressions=d.impressions,
                    reach=d.reach, clicks=d.clicks, spend=str(d.spend), conversions=d.conversions,
                    actions=json.dumps(d.actions, separators=(",", ":"), sort_keys=True), source=d.source,
                    recorded_at=d.recorded_at))

    def days(self, workspace_id: str, campaign_id: str, first: str = "",
             last: str = "~") -> builtins.list[DayResult]:
        prefix = f"{RESULT}{campaign_id}#"
        return [_result(r) for r in ResultRecord.query(
            workspace_id, ResultRecord.item_key.between(prefix + first, prefix + last), consistent_read=True)]
