"""Ad campaigns: made, changed and removed by a workspace; results entered (or imported as CSV) for the
networks Herald does not read, and read back with their figures and pacing.

A Meta campaign names a Facebook or Instagram channel and an ad account (`act_<id>`): Herald reads the account
with that channel's token when the campaign is saved, and refuses an account the token cannot read. Its
results come only from Meta (ads_sync.py); entering them by hand is refused.
"""
from __future__ import annotations

import builtins
from collections.abc import Callable
from dataclasses import replace
from datetime import date
from typing import Any

from chalicelib.accounts.channels import ChannelService
from chalicelib.ads.ad_figures import totals
from chalicelib.ads.ad_repository import AdRepository, Campaign, DayResult
from chalicelib.ads.pacing import pacing
from chalicelib.ads.schemas import Budget, MetaLink, ResultRow
from chalicelib.core.clock import Clock, local_day, to_rfc3339
from chalicelib.core.errors import Conflict, NotFound, ValidationFailed
from chalicelib.core.ids import new_id
from chalicelib.networks.base import NetworkError
from chalicelib.networks.meta_ads import AdAccount, MetaAds

META_NETWORKS = ("facebook", "instagram")
DEFAULT_CONVERSION_ACTIONS = ("purchase", "lead", "complete_registration")


def channel_token(credentials: dict[str, Any]) -> str:
    return str(credentials.get("access_token") or credentials.get("page_access_token") or "")


class CampaignService:
    def __init__(self, repository: AdRepository, channels: ChannelService, meta: MetaAds, clock: Clock, *,
                 post_exists: Callable[[str, str], bool], workspace_timezone: Callable[[str], str]) -> None:
        self.repository = repository
        self.channels = channels
        self.meta = meta
        self.clock = clock
        self.post_exists = post_exists
        self.workspace_timezone = workspace_timezone

    def _now(self) -> str:
        return to_rfc3339(self.clock.now()) or ""

    # -- campaigns ---------------------------------------------------------------------

    def get(self, workspace_id: str, campaign_id: str) -> Campaign:
        row = self.repository.get(workspace_id, campaign_id)
        if row is None:
            raise NotFound(f"No ad campaign {campaign_id} in this workspace.")
        return row

    def list(self, workspace_id: str, limit: int, cursor: str | None) -> tuple[builtins.list[Campaign], str | None]:
        return self.repository.list(workspace_id, limit, cursor)

    def create(self, workspace_id: str, body: Any) -> Campaign:
        now = self._now()
        budget: Budget = body.budget
        campaign = Campaign(
            workspace_id, new_id("adc", self.clock.now()), body.name, body.source, budget.currency, budget.total,
            budget.daily, body.start_date.isoformat(), body.end_date.isoformat(), now, now,
            network=body.network or ("meta" if body.source == "meta" else "other"), objective=body.objective or "",
            audience=body.audience or "", timezone=self.workspace_timezone(workspace_id),
            post_ids=self._checked_posts(workspace_id, body.post_ids or []))
        if body.meta is not None:
            campaign = self._linked(campaign, body.meta)
        self.repository.save(campaign)
        return campaign

    def update(self, workspace_id: str, campaign_id: str, changes: dict[str, Any]) -> Campaign:
        row = self.get(workspace_id, campaign_id)
        simple = {k: changes[k] for k in ("name", "objective", "audience", "status") if k in changes}
        row = replace(row, **simple)
        if "post_ids" in changes:
            row = replace(row, post_ids=self._checked_posts(workspace_id, changes["post_ids"]))
        if "budget" in changes:
            row = self._with_budget(row, changes["budget"])
        start = changes.get("start_date") or date.fromisoformat(row.start_date)
        end = changes.get("end_date") or date.fromisoformat(row.end_date)
        if end < start:
            raise ValidationFailed.field("end_date", "must not be before start_date")
        row = replace(row, start_date=start.isoformat(), end_date=end.isoformat(), live=True,
                      updated_at=self._now())
        self.repository.save(row)
        return row

    def delete(self, workspace_id: str, campaign_id: str) -> None:
        self.get(workspace_id, campaign_id)
        self.repository.delete(workspace_id, campaign_id)

    @staticmethod
    def _with_budget(row: Campaign, budget: Budget) -> Campaign:
        if row.source == "meta" and budget.currency != row.currency:
            raise ValidationFailed.field("budget.currency", f"the ad account spends in {row.currency}")
        return replace(row, total_budget=budget.total, daily_budget=budget.daily, currency=budget.currency)

    def _checked_posts(self, workspace_id: str, post_ids: builtins.list[str]) -> builtins.list[str]:
        unique = list(dict.fromkeys(post_ids))
        for index, post_id in enumerate(unique):
            if not self.post_exists(workspace_id, post_id):
                raise ValidationFailed.field(f"post_ids.{index}", f"no post {post_id} in this workspace")
        return unique

    def _linked(self, campaign: Campaign, link: MetaLink) -> Campaign:
        """The campaign with its Meta ad account, read with the channel's token (never trusted as typed)."""
        channel = self.channels.get(campaign.workspace_id, link.channel_id)
        if channel.network not in META_NETWORKS:
            raise ValidationFailed.field("meta.channel_id", f"is a {channel.network} channel; the Marketing API "
                                                            "is read with a Facebook or Instagram channel's token")
        token = channel_token(self.channels.context_for(channel).credentials)
        account = self._reachable_account(token, link)
        if account.currency and account.currency != campaign.currency:
            raise ValidationFailed.field("budget.currency", f"the ad account {account.account_id} spends in "
                                                            f"{account.currency}")
        return replace(campaign, channel_id=channel.channel_id, ad_account_id=account.account_id,
                       ad_account_name=account.name, meta_campaign_id=link.campaign_id,
                       timezone=account.timezone or campaign.timezone,
                       conversion_actions=list(link.conversion_actions or DEFAULT_CONVERSION_ACTIONS))

    def _reachable_account(self, token: str, link: MetaLink) -> AdAccount:
        try:
            account = self.meta.ad_account(token, link.ad_account_id)
            owner = self.meta.campaign_account(token, link.campaign_id) if link.campaign_id else None
        except NetworkError as refused:
            raise ValidationFailed.field("meta.ad_account_id", f"this channel's token cannot read "
                                                               f"{link.ad_account_id}: {refused}") from None
        if owner is not None and owner != account.account_id:
            raise ValidationFailed.field("meta.campaign_id", f"belongs to {owner}, not {account.account_id}")
        return account

    # -- results -----------------------------------------------------------------------

    def results(self, workspace_id: str, campaign_id: str, first: date | None = None,
                last: date | None = None) -> dict[str, Any]:
        campaign = self.get(workspace_id, campaign_id)
        return self._results(campaign, first, last)

    def _results(self, campaign: Campaign, first: date | None, last: date | None) -> dict[str, Any]:
        first = first or date.fromisoformat(campaign.start_date)
        last = last or date.fromisoformat(campaign.end_date)
        if last < first:
            raise ValidationFailed.field("from", "must not be after `to`")
        every_day = self.repository.days(campaign.workspace_id, campaign.campaign_id)
        shown = [d for d in every_day if first.isoformat() <= d.day <= last.isoformat()]
        state = pacing(date.fromisoformat(campaign.start_date), date.fromisoformat(campaign.end_date),
                       campaign.total_budget, campaign.daily_budget, every_day,
                       local_day(self.clock.now(), campaign.timezone))
        return {"campaign_id": campaign.campaign_id, "currency": campaign.currency, "from": first.isoformat(),
                "to": last.isoformat(), "totals": totals(shown).figures(),
                "days": [{"date": d.day, "source": d.source, **totals([d]).figures()} for d in shown],
                "pacing": state.view()}

    def enter_results(self, workspace_id: str, campaign_id: str, rows: builtins.list[ResultRow],
                      source: str) -> dict[str, Any]:
        """Writes each day whole (idempotent per day); nothing is written when any row is refused."""
        campaign = self.get(workspace_id, campaign_id)
        if campaign.source == "meta":
            raise Conflict("This campaign's results are read from Meta every day; they cannot be entered.",
                           code="results_from_network")
        today = local_day(self.clock.now(), campaign.timezone)
        seen: set[date] = set()
        for index, row in enumerate(rows):
            where = f"rows.{index}.date"
            if row.date in seen:
                raise ValidationFailed.field(where, f"{row.date} is given twice")
            if not campaign.start_date <= row.date.isoformat() <= campaign.end_date:
                raise ValidationFailed.field(where, f"is outside the flight {campaign.start_date} to "
                                                    f"{campaign.end_date}")
            if row.date > today:
                raise ValidationFailed.field(where, "has not happened yet")
            seen.add(row.date)
        now = self._now()
        self.repository.put_days(workspace_id, campaign_id, [
            DayResult(r.date.isoformat(), r.impressions, r.clicks, r.spend, r.conversions, source, now, r.reach)
            for r in rows])
        return {**self._results(campaign, None, None), "days_written": len(rows)}

