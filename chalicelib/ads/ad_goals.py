"""What a goal on ad spend efficiency follows: the ad figures (ad_figures.py) of the campaigns it covers.

A goal covers the campaigns in its currency (money in different currencies is never added up) that ran in its
period, narrowed to the campaigns it names and to its channels: a campaign is on a channel when it is a Meta
campaign read with that channel's token or promotes a post published there. Its days are the campaign's days
(the ad account's time zone), counted when they fall within the goal's days.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Iterator
from datetime import date
from typing import Any

from chalicelib.ads.ad_figures import totals
from chalicelib.ads.ad_repository import AdRepository, Campaign, DayResult


class AdGoalFigures:
    def __init__(self, repository: AdRepository, post_channels: Callable[[str, str], builtins.list[str]]) -> None:
        """`post_channels(workspace id, post id)`: the channels a post goes to (none when it is gone)."""
        self.repository = repository
        self.post_channels = post_channels

    def campaign(self, workspace_id: str, campaign_id: str) -> Campaign | None:
        return self.repository.get(workspace_id, campaign_id)

    def figures(
        self,
        workspace_id: str,
        first: date,
        last: date,
        channel_ids: builtins.list[str] | None,
        campaign_ids: builtins.list[str] | None,
        currency: str | None,
    ) -> dict[str, Any]:
        """Impressions, clicks, spend, conversions and their ratios (cost_per_conversion...) over the days."""
        days: builtins.list[DayResult] = []
        for campaign in self._covered(workspace_id, first, last, channel_ids, campaign_ids, currency):
            days += self.repository.days(workspace_id, campaign.campaign_id, first.isoformat(), last.isoformat())
        return totals(days).figures()

    def _covered(
        self,
        workspace_id: str,
        first: date,
        last: date,
        channel_ids: builtins.list[str] | None,
        campaign_ids: builtins.list[str] | None,
        currency: str | None,
    ) -> Iterator[Campaign]:
        for campaign in self.repository.all_of(workspace_id):
            if (
                campaign.currency != currency
                or campaign.end_date < first.isoformat()
                or campaign.start_date > last.isoformat()
            ):
                continue
            if campaign_ids is not None and campaign.campaign_id not in campaign_ids:
                continue
            if channel_ids is None or self._channels(campaign) & set(channel_ids):
                yield campaign

    def _channels(self, campaign: Campaign) -> set[str]:
        found = {campaign.channel_id} if campaign.channel_id else set()
        for post_id in campaign.post_ids:
            found.update(self.post_channels(campaign.workspace_id, post_id))
        return found
