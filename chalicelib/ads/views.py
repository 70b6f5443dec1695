"""Campaigns as the API shows them."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalicelib.ads.ad_figures import money

if TYPE_CHECKING:
    from chalicelib.ads.ad_repository import Campaign


def campaign_view(c: Campaign) -> dict[str, Any]:
    meta = None if c.source != "meta" else {
        "channel_id": c.channel_id, "ad_account_id": c.ad_account_id, "ad_account_name": c.ad_account_name,
        "campaign_id": c.meta_campaign_id, "conversion_actions": list(c.conversion_actions),
        "synced_at": c.synced_at, "problem": c.sync_problem}
    return {"id": c.campaign_id, "name": c.name, "source": c.source, "network": c.network,
            "objective": c.objective or None, "audience": c.audience,
            "budget": {"total": money(c.total_budget), "daily": money(c.daily_budget), "currency": c.currency},
            "start_date": c.start_date, "end_date": c.end_date, "timezone": c.timezone,
            "post_ids": list(c.post_ids), "status": c.status, "meta": meta,
            "created_at": c.created_at, "updated_at": c.updated_at}
