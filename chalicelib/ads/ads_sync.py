"""The daily ads job: every live campaign (the `live` index, no Scan) has its Meta results read, then its
pacing checked; an alert goes out as `ads.pacing_alert` at most once per campaign per day.

Meta keeps attributing conversions to a day for a while after it (the attribution window), so each run reads
the last REREAD_DAYS again; a campaign whose flight ended SETTLE_DAYS ago is read a last time and leaves the
index.
"""
from __future__ import annotations

import logging
from collections import Counter
from dataclasses import replace
from datetime import date, timedelta
from typing import Any

from chalicelib.accounts.channels import ChannelService
from chalicelib.ads.ad_repository import AdRepository, Campaign, DayResult
from chalicelib.ads.campaigns import channel_token
from chalicelib.ads.pacing import pacing
from chalicelib.core.clock import Clock, local_day, to_rfc3339
from chalicelib.networks.base import NetworkError
from chalicelib.networks.meta_ads import InsightDay, MetaAds

log = logging.getLogger("herald.ads")

REREAD_DAYS = 7
SETTLE_DAYS = 7
EVENT = "ads.pacing_alert"


class AdsSync:
    def __init__(self, repository: AdRepository, channels: ChannelService, meta: MetaAds, emit: Any,
                 clock: Clock) -> None:
        """`emit(workspace_id, event_type, data, event_key=...)`: the outbound webhook emitter."""
        self.repository = repository
        self.channels = channels
        self.meta = meta
        self.emit = emit
        self.clock = clock

    def run(self) -> dict[str, Any]:
        counts: Counter[str] = Counter()
        for workspace_id, campaign_id in list(self.repository.live()):
            campaign = self.repository.get(workspace_id, campaign_id)
            if campaign is None:
                continue
            try:
                counts.update(self.campaign(campaign))
            except Exception:  # one campaign's trouble must not stop the others
                log.exception("ads sync of %s failed", campaign_id)
                counts["failed"] += 1
        log.info("ads_daily: %s", dict(counts))
        return dict(counts)

    def campaign(self, campaign: Campaign) -> list[str]:
        """What was done: `synced`, `sync_failed`, `alerted`, `settled`."""
        done = []
        today = local_day(self.clock.now(), campaign.timezone)
        known = True  # a Meta campaign whose read failed has unknown spend: no pacing on it
        if campaign.source == "meta":
            campaign, known = self._sync(campaign, today)
            done.append("synced" if known else "sync_failed")
        if known and campaign.status == "active" and self._alert(campaign, today):
            campaign = replace(campaign, last_alert_day=(today - timedelta(days=1)).isoformat())
            done.append("alerted")
        if today > date.fromisoformat(campaign.end_date) + timedelta(days=SETTLE_DAYS):
            campaign = replace(campaign, live=False)
            done.append("settled")
        self.repository.record_run(campaign)
        return done

    def _sync(self, campaign: Campaign, today: date) -> tuple[Campaign, bool]:
        start, end = date.fromisoformat(campaign.start_date), date.fromisoformat(campaign.end_date)
        until = min(end, today - timedelta(days=1))
        since = start if campaign.synced_at is None else max(start, until - timedelta(days=REREAD_DAYS - 1))
        if until < since:
            return campaign, True
        node = campaign.meta_campaign_id or campaign.ad_account_id or ""
        try:
            channel = self.channels.get(campaign.workspace_id, campaign.channel_id or "")
            token = channel_token(self.channels.context_for(channel).credentials)
            days = self.meta.daily_insights(token, node, since, until)
        except NetworkError as refused:
            return replace(campaign, sync_problem=f"Meta: {refused}"[:500]), False
        except Exception as trouble:  # NotFound: the channel was removed
            return replace(campaign, sync_problem=str(trouble)[:500]), False
        now = to_rfc3339(self.clock.now()) or ""
        self.repository.put_days(campaign.workspace_id, campaign.campaign_id,
                                 [_day_result(d, campaign.conversion_actions, now) for d in days])
        return replace(campaign, synced_at=now, sync_problem=None), True

    def _alert(self, campaign: Campaign, today: date) -> bool:
        state = pacing(date.fromisoformat(campaign.start_date), date.fromisoformat(campaign.end_date),
                       campaign.total_budget, campaign.daily_budget,
                       self.repository.days(campaign.workspace_id, campaign.campaign_id), today)
        if not state.alerts or state.as_of is None or campaign.last_alert_day == state.as_of.isoformat():
            return False
        if state.as_of != today - timedelta(days=1):
            return False  # a flight that ended: its last day was paced when it was yesterday
        self.emit(campaign.workspace_id, EVENT, {
            "campaign_id": campaign.campaign_id, "name": campaign.name, "source": campaign.source,
            "currency": campaign.currency, "total_budget": float(campaign.total_budget),
            "daily_budget": None if campaign.daily_budget is None else float(campaign.daily_budget),
            **state.view()}, event_key=f"{campaign.campaign_id}:{state.as_of.isoformat()}")
        return True


def _day_result(day: InsightDay, conversion_actions: list[str], recorded_at: str) -> DayResult:
    conversions = sum(day.actions.get(kind, 0) for kind in conversion_actions)
    return DayResult(day.day.isoformat(), day.impressions, day.clicks, day.spend, conversions, "meta",
                     recorded_at, day.reach, dict(day.actions))
