"""Goals: a report figure, a target, a period and the channels it covers, and how it is doing.

Progress is read with the reports' own function (ReportService.figures_for), so a goal and the report of
its period can never disagree. Ad spend efficiency is the ads' cost per conversion (spend / conversions, lower
is better), read with the function the ads' results and the reports' ads section use (ads/ad_goals.py): its
target is money, so the goal has a currency and follows only the campaigns that spend in it, optionally
only some campaigns.
"""
from __future__ import annotations

import calendar
from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime, time, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from chalicelib.core.clock import Clock, to_rfc3339
from chalicelib.core.errors import Conflict, NotFound, ValidationFailed
from chalicelib.core.ids import new_id
from chalicelib.goals.goal_repository import MAX_GOALS, GoalRepository, GoalRow
from chalicelib.goals.pace import Kind, progress
from chalicelib.metrics.figures import FIGURES

# metric -> (the report figure, how it is paced)
GOAL_FIGURES: dict[str, tuple[str, Kind]] = {
    "audience_growth": ("audience_growth", "cumulative"),
    "engagement_rate": ("engagement_rate", "level"),
    "reach": ("potential_reach", "cumulative"),
    "word_of_mouth": ("word_of_mouth", "cumulative"),
    "response_rate": ("response_rate", "level"),
    "response_time": ("first_response_median_s", "lower_is_better"),
    "traffic": ("clicks", "cumulative"),
    "conversions": ("conversions", "cumulative"),
    "ad_spend_efficiency": ("cost_per_conversion", "lower_is_better"),
}
AD_METRICS = ("ad_spend_efficiency",)
UNITS = {key: unit for key, _label, unit in FIGURES} | {"cost_per_conversion": "amount"}
MAX_CUSTOM_DAYS = 366

Figures = Callable[[str, date, date, list[str] | None], dict[str, Any]]


def resolve_period(fields: dict[str, Any]) -> tuple[str, str, date, date]:
    """(kind, label, first day, last day) from `period` and its month, quarter or from/to."""
    kind = fields.get("period")
    if kind == "month":
        month = _required(fields, "month")
        year, number = int(month[:4]), int(month[5:])
        return kind, month, date(year, number, 1), date(year, number, calendar.monthrange(year, number)[1])
    if kind == "quarter":
        quarter = _required(fields, "quarter")
        year, number = int(quarter[:4]), int(quarter[-1])
        last_month = 3 * number
        return (kind, quarter, date(year, last_month - 2, 1),
                date(year, last_month, calendar.monthrange(year, last_month)[1]))
    first, last = _required(fields, "from_", "from"), _required(fields, "to")
    if last < first:
        raise ValidationFailed.field("to", "must be the same day as `from` or later")
    if (last - first).days + 1 > MAX_CUSTOM_DAYS:
        raise ValidationFailed.field("to", f"at most {MAX_CUSTOM_DAYS} days from `from`")
    return "custom", f"{first.isoformat()}..{last.isoformat()}", first, last


def _required(fields: dict[str, Any], key: str, name: str | None = None) -> Any:
    if fields.get(key) is None:
        raise ValidationFailed.field(name or key, f"required for a {fields.get('period')} period")
    return fields[key]


class AdFigures(Protocol):
    """The ads feature, as goals read it (chalicelib/ads/ad_goals.py)."""

    def campaign(self, workspace_id: str, campaign_id: str) -> Any: ...

    def figures(self, workspace_id: str, first: date, last: date, channel_ids: list[str] | None,
                campaign_ids: list[str] | None, currency: str | None) -> dict[str, Any]: ...


class GoalService:
    def __init__(self, goals: GoalRepository, figures: Figures, channel_exists: Callable[[str, str], bool],
                 timezones: Callable[[str], str], clock: Clock, ads: AdFigures) -> None:
        self.goals = goals
        self.figures = figures
        self.channel_exists = channel_exists
        self.timezones = timezones
        self.clock = clock
        self.ads = ads

    def list_all(self, workspace_id: str) -> list[dict[str, Any]]:
        rows = sorted(self.goals.list(workspace_id), key=lambda g: (g.first_day, g.goal_id))
        return [self.view(row) for row in rows]

    def get(self, workspace_id: str, goal_id: str) -> GoalRow:
        found = self.goals.get(workspace_id, goal_id)
        if found is None:
            raise NotFound(f"No goal {goal_id} in this workspace.")
        return found

    def create(self, workspace_id: str, metric: str, target: float, period: dict[str, Any],
               channel_ids: list[str] | None, currency: str | None = None,
               campaign_ids: list[str] | None = None) -> dict[str, Any]:
        kind, label, first, last = resolve_period(period)
        self._check_channels(workspace_id, channel_ids)
        self._check_ad_scope(workspace_id, metric, currency, campaign_ids)
        if len(self.goals.list(workspace_id)) >= MAX_GOALS:
            raise Conflict(f"A workspace has at most {MAX_GOALS} goals; delete one first.", code="too_many_goals")
        now = to_rfc3339(self.clock.now())
        row = GoalRow(workspace_id, new_id("gol", self.clock.now()), metric, target, kind, label, first, last,
                      _distinct(channel_ids), now, now, currency, _distinct(campaign_ids))
        self.goals.put(row)
        return self.view(row)

    def update(self, workspace_id: str, goal_id: str, changes: dict[str, Any]) -> dict[str, Any]:
        row = self.get(workspace_id, goal_id)
        if changes.get("period") is not None or any(k in changes for k in ("month", "quarter", "from_", "to")):
            period = {"period": row.period, **changes}
            kind, label, first, last = resolve_period(period)
            row = replace(row, period=kind, label=label, first_day=first, last_day=last)
        if changes.get("target") is not None:
            row = replace(row, target=changes["target"])
        if "channel_ids" in changes:
            self._check_channels(workspace_id, changes["channel_ids"])
            row = replace(row, channel_ids=_distinct(changes["channel_ids"]))
        if "currency" in changes or "campaign_ids" in changes:
            row = self._with_ad_scope(row, changes)
        row = replace(row, updated_at=to_rfc3339(self.clock.now()))
        self.goals.put(row)
        return self.view(row)

    def delete(self, workspace_id: str, goal_id: str) -> None:
        self.get(workspace_id, goal_id)
        self.goals.delete(workspace_id, goal_id)

    def _check_channels(self, workspace_id: str, channel_ids: list[str] | None) -> None:
        for index, channel_id in enumerate(channel_ids or []):
            if not self.channel_exists(workspace_id, channel_id):
                raise ValidationFailed.field(f"channel_ids.{index}", f"no channel {channel_id} in this workspace")

    def _with_ad_scope(self, row: GoalRow, changes: dict[str, Any]) -> GoalRow:
        currency = changes.get("currency") or row.currency
        campaign_ids = changes.get("campaign_ids", row.campaign_ids)
        self._check_ad_scope(row.workspace_id, row.metric, currency, campaign_ids)
        return replace(row, currency=currency, campaign_ids=_distinct(campaign_ids))

    def _check_ad_scope(self, workspace_id: str, metric: str, currency: str | None,
                        campaign_ids: list[str] | None) -> None:
        """An ad goal's currency and campaigns; no other goal has them."""
        if metric not in AD_METRICS:
            for name, given in (("currency", currency), ("campaign_ids", campaign_ids)):
                if given is not None:
                    raise ValidationFailed.field(name, f"only a goal on {', '.join(AD_METRICS)} has one")
            return
        if currency is None:
            raise ValidationFailed.field("currency", f"required for {metric}: its target is an amount of money "
                                                     "(the cost per conversion)")
        for index, campaign_id in enumerate(campaign_ids or []):
            campaign = self.ads.campaign(workspace_id, campaign_id)
            if campaign is None:
                raise ValidationFailed.field(f"campaign_ids.{index}", f"no ad campaign {campaign_id} in this "
                                                                      "workspace")
            if campaign.currency != currency:
                raise ValidationFailed.field(f"campaign_ids.{index}", f"spends in {campaign.currency}, not "
                                                                      f"{currency}")

    # -- progress -------------------------------------------------------------------

    def view(self, row: GoalRow, as_of: datetime | None = None) -> dict[str, Any]:
        figure, _kind = GOAL_FIGURES[row.metric]
        return {"id": row.goal_id, "metric": row.metric, "figure": figure, "unit": UNITS.get(figure, "count"),
                "target": row.target,
                "period": {"kind": row.period, "label": row.label, "from": row.first_day.isoformat(),
                           "to": row.last_day.isoformat()},
                "channel_ids": row.channel_ids, "currency": row.currency, "campaign_ids": row.campaign_ids,
                "created_at": row.created_at, "updated_at": row.updated_at,
                "progress": self.progress(row, as_of or self.clock.now())}

    def progress(self, row: GoalRow, moment: datetime) -> dict[str, Any]:
        figure, kind = GOAL_FIGURES[row.metric]
        zone = ZoneInfo(self.timezones(row.workspace_id))
        start = datetime.combine(row.first_day, time(), zone)
        end = datetime.combine(row.last_day + timedelta(days=1), time(), zone)
        elapsed = (moment - start) / (end - start)
        through = min(row.last_day, moment.astimezone(zone).date())
        value, missed = self._value(row, figure, through) if through >= row.first_day else (None, False)
        answer = progress(kind, value, row.target, elapsed)
        if missed and elapsed >= 1:
            answer["pace"] = "behind"  # money spent and not one conversion: no cost per conversion to meet
        return {**answer, "as_of": max(through, row.first_day).isoformat()}

    def _value(self, row: GoalRow, figure: str, through: date) -> tuple[float | None, bool]:
        """(the figure from the first day through `through`, whether it is unknown though money was spent)."""
        if row.metric in AD_METRICS:
            ads = self.ads.figures(row.workspace_id, row.first_day, through, row.channel_ids, row.campaign_ids,
                                   row.currency)
            return ads[figure], bool(ads["spend"]) and not ads["conversions"]
        return self.figures(row.workspace_id, row.first_day, through, row.channel_ids).get(figure), False

    def report_section(self, workspace_id: str, first: date, last: date) -> list[dict[str, Any]]:
        """The goals whose period overlaps a report's, as they stood at the end of its last day (or now)."""
        zone = ZoneInfo(self.timezones(workspace_id))
        moment = min(self.clock.now(), datetime.combine(last + timedelta(days=1), time(), zone))
        rows = [g for g in self.goals.list(workspace_id) if g.first_day <= last and g.last_day >= first]
        return [self.view(row, moment) for row in sorted(rows, key=lambda g: (g.first_day, g.goal_id))]


def _distinct(channel_ids: list[str] | None) -> list[str] | None:
    return None if channel_ids is None else list(dict.fromkeys(channel_ids))
