"""Reading the metrics: daily figures, monthly and quarterly reports, best times to post.

Everything is read from the daily rows (one Query per channel for the whole
range); a day that is not rolled up yet is shown from its live counters, with
its network figures marked pending.
"""
from __future__ import annotations

import calendar
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from chalicelib.clock import Clock, parse_rfc3339, to_rfc3339
from chalicelib.errors import NotFound, ValidationFailed
from chalicelib.repositories.channels import ChannelRepository
from chalicelib.repositories.metrics import (
    WORKSPACE_SERIES,
    DailyRow,
    MetricsRepository,
    WorkspaceRegistry,
    days_between,
)
from chalicelib.services import figures as fig

MAX_DAILY_SPAN_DAYS = 366
# How far before a period to look for the follower count it starts from.
BASELINE_DAYS = 31
BEST_TIMES_WEEKS = 16
MIN_SLOT_POSTS = 2
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@dataclass(frozen=True)
class Period:
    kind: str  # month | quarter
    label: str
    first: date
    last: date

    @property
    def days(self) -> list[date]:
        return days_between(self.first, self.last)

    def as_dict(self) -> dict[str, str]:
        return {"kind": self.kind, "label": self.label, "from": self.first.isoformat(),
                "to": self.last.isoformat()}


def month_period(month: str) -> Period:
    if not re.fullmatch(r"[0-9]{4}-(0[1-9]|1[0-2])", month):  # [0-9]: \d and int() take other digits too
        raise ValidationFailed.field("month", "must look like YYYY-MM")
    year, number = (int(part) for part in month.split("-"))
    last = date(year, number, calendar.monthrange(year, number)[1])
    return Period("month", month, date(year, number, 1), last)


def quarter_period(quarter: str) -> Period:
    match = re.fullmatch(r"([0-9]{4})-Q([1-4])", quarter)
    if not match:
        raise ValidationFailed.field("quarter", "must look like YYYY-Qn, n from 1 to 4")
    year, number = int(match.group(1)), int(match.group(2))
    first_month = 3 * (number - 1) + 1
    last = date(year, first_month + 2, calendar.monthrange(year, first_month + 2)[1])
    return Period("quarter", quarter, date(year, first_month, 1), last)


def previous_period(period: Period) -> Period:
    before = period.first - timedelta(days=1)
    if period.kind == "month":
        return month_period(f"{before.year:04d}-{before.month:02d}")
    return quarter_period(f"{before.year:04d}-Q{(before.month - 1) // 3 + 1}")


def pending_row(workspace_id: str, channel_id: str, counts: Any) -> DailyRow:
    return DailyRow(workspace_id, channel_id, counts.day, dict(counts.counts), list(counts.lateness_s),
                    list(counts.first_response_s), [dict(p) for p in counts.posts], None, "pending",
                    "not rolled up yet")


class ReportService:
    def __init__(self, metrics: MetricsRepository, registry: WorkspaceRegistry, channels: ChannelRepository,
                 workspaces: Callable[[str], Any], clock: Clock, threads: int = 8) -> None:
        self.metrics = metrics
        self.registry = registry
        self.channels = channels
        self.workspaces = workspaces
        self.clock = clock
        self.threads = threads

    # -- reading rows ------------------------------------------------------------

    def _series(self, workspace_id: str) -> tuple[list[str], dict[str, dict[str, str]]]:
        """Every series the workspace has data in (disconnected channels too), and channel names."""
        names = {c.channel_id: {"name": c.name, "network": c.network}
                 for c in self.channels.list_all(workspace_id)}
        entry = self.registry.get(workspace_id)
        known = set(entry.series if entry else ()) | set(names) | {WORKSPACE_SERIES}
        ordered = sorted(names, key=lambda cid: (names[cid]["name"], cid)) + sorted(known - set(names))
        return ordered, names

    def _rows(self, workspace_id: str, series: list[str], first: date, last: date) -> list[DailyRow]:
        def one(channel_id: str) -> list[DailyRow]:
            counters, rows = self.metrics.window(workspace_id, channel_id, first, last)
            for day, counts in counters.items():
                rows.setdefault(day, pending_row(workspace_id, channel_id, counts))
            return list(rows.values())

        with ThreadPoolExecutor(max_workers=max(1, min(self.threads, len(series)))) as pool:
            return [row for rows in pool.map(one, series) for row in rows]

    def _timezone(self, workspace_id: str) -> tuple[Any, str]:
        workspace = self.workspaces(workspace_id)
        return workspace, workspace.timezone

    # -- daily -------------------------------------------------------------------

    def daily(self, workspace_id: str, first: date, last: date, channel_id: str | None) -> dict[str, Any]:
        if last < first:
            raise ValidationFailed.field("to", "must be the same day as `from` or later")
        if (last - first).days + 1 > MAX_DAILY_SPAN_DAYS:
            raise ValidationFailed.field("to", f"at most {MAX_DAILY_SPAN_DAYS} days from `from`")
        _workspace, timezone = self._timezone(workspace_id)
        series, names = self._series(workspace_id)
        if channel_id is not None:
            if channel_id not in series or channel_id == WORKSPACE_SERIES:
                raise NotFound(f"No channel {channel_id} in this workspace.")
            series = [channel_id]
        rows = self._rows(workspace_id, series, first - timedelta(days=BASELINE_DAYS), last)
        baseline = _last_followers([r for r in rows if r.day < first])
        days = []
        for day in days_between(first, last):
            today = [r for r in rows if r.day == day]
            figures = fig.summarize(today, baseline)
            baseline.update({r.channel_id: r.followers for r in today if r.followers is not None})
            network_rows = [r for r in today if r.channel_id != WORKSPACE_SERIES]
            if any(r.followers is None for r in network_rows):
                figures["followers"] = None  # a sum without one channel's count would look like a drop
            days.append({
                "date": day.isoformat(),
                "rolled_up": bool(today) and all(r.insights != "pending" for r in today),
                "insights_missing": [r.channel_id for r in network_rows
                                     if r.insights in ("missing", "unavailable")],
                **figures,
            })
        return {"from": first.isoformat(), "to": last.isoformat(), "timezone": timezone,
                "channel_id": channel_id, "days": days}

    # -- reports -----------------------------------------------------------------

    def report(self, workspace_id: str, period: Period) -> dict[str, Any]:
        workspace, timezone = self._timezone(workspace_id)
        previous = previous_period(period)
        series, names = self._series(workspace_id)
        rows = self._rows(workspace_id, series, previous.first - timedelta(days=BASELINE_DAYS), period.last)
        lead_in = [r for r in rows if r.day < previous.first]
        before = [r for r in rows if previous.first <= r.day <= previous.last]
        current = [r for r in rows if period.first <= r.day <= period.last]
        network_series = {s for s in series if s != WORKSPACE_SERIES}

        now_figures = fig.summarize(current, _last_followers(lead_in + before))
        previous_figures = _summarize_if_any(before, _last_followers(lead_in))
        channels = []
        for channel_id in series:
            if channel_id == WORKSPACE_SERIES:
                continue
            mine = [r for r in rows if r.channel_id == channel_id]
            if channel_id not in names and not any(period.first <= r.day <= period.last for r in mine):
                continue  # a disconnected channel with nothing in this period
            described = names.get(channel_id, {"name": "(disconnected channel)", "network": ""})
            now_rows = [r for r in current if r.channel_id == channel_id]
            before_rows = [r for r in before if r.channel_id == channel_id]
            lead_rows = [r for r in lead_in if r.channel_id == channel_id]
            channels.append({
                "channel_id": channel_id, **described,
                "figures": fig.compare(fig.summarize(now_rows, _last_followers(lead_rows + before_rows)),
                                       _summarize_if_any(before_rows, _last_followers(lead_rows))),
            })
        rolled = {(r.channel_id, r.day) for r in current if r.insights != "pending"}
        tracked_from = _created_day(workspace, timezone) or period.first
        pending = [d.isoformat() for d in period.days
                   if d >= tracked_from and any((s, d) not in rolled for s in network_series if s in names)]
        missing = fig.missing_insights([r for r in current if r.channel_id != WORKSPACE_SERIES])
        for item in missing:
            item["channel_name"] = names.get(item["channel_id"], {}).get("name", "(disconnected channel)")
        top = fig.top_posts(current)
        for post in top:
            post["channel_name"] = names.get(post["channel_id"], {}).get("name", "(disconnected channel)")
        return {
            "workspace": {"id": workspace_id, "name": getattr(workspace, "name", ""), "timezone": timezone},
            "period": period.as_dict(),
            "previous_period": previous.as_dict(),
            "generated_at": to_rfc3339(self.clock.now()),
            "complete": not pending and not [m for m in missing if m["insights"] != "pending"],
            "pending_days": pending,
            "missing": [m for m in missing if m["insights"] != "pending"],
            "figures": fig.compare(now_figures, previous_figures),
            "channels": channels,
            "daily": fig.daily_series(current, period.days, network_series),
            "previous_daily": fig.daily_series(before, previous.days, network_series),
            "top_posts": top,
        }

    # -- best time to post -----------------------------------------------------------

    def best_times(self, workspace_id: str, channel_id: str) -> dict[str, Any]:
        channel = self.channels.get(workspace_id, channel_id)
        if channel is None:
            raise NotFound(f"No channel {channel_id} in this workspace.")
        _workspace, timezone = self._timezone(workspace_id)
        zone = ZoneInfo(timezone)
        last = self.clock.now().astimezone(zone).date() - timedelta(days=1)
        first = last - timedelta(weeks=BEST_TIMES_WEEKS) + timedelta(days=1)
        rows = [r for r in self._rows(workspace_id, [channel_id], first, last) if r.insights != "pending"]
        posts = [p for r in rows for p in r.posts if p.get("published_at")]
        scored = [p for p in posts if fig.measured(p)]
        slots: dict[tuple[int, int], list[int]] = {}
        for post in scored:
            local = parse_rfc3339(post["published_at"]).astimezone(zone)
            slots.setdefault((local.weekday(), local.hour), []).append(fig.engagements(post))

        def describe(posts_in: list[int]) -> dict[str, Any]:
            return {"posts": len(posts_in), "engagements": sum(posts_in),
                    "average_engagements": fig.clean(sum(posts_in) / len(posts_in)) if posts_in else None}

        slot_list = [{"weekday": WEEKDAYS[w], "weekday_index": w, "hour": h, **describe(values)}
                     for (w, h), values in slots.items()]
        slot_list.sort(key=lambda s: (-(s["average_engagements"] or 0), -s["posts"], s["weekday_index"],
                                      s["hour"]))
        by_weekday = [{"weekday": WEEKDAYS[w], "weekday_index": w,
                       **describe([v for (sw, _h), vs in slots.items() if sw == w for v in vs])}
                      for w in range(7)]
        by_hour = [{"hour": h, **describe([v for (_w, sh), vs in slots.items() if sh == h for v in vs])}
                   for h in range(24)]
        return {
            "channel_id": channel_id, "timezone": timezone, "from": first.isoformat(), "to": last.isoformat(),
            "weeks": BEST_TIMES_WEEKS,
            "sample_size": len(scored),
            "posts_without_figures": len(posts) - len(scored),
            "min_posts_per_slot": MIN_SLOT_POSTS,
            "best": [s for s in slot_list if s["posts"] >= MIN_SLOT_POSTS][:3],
            "slots": slot_list,
            "by_weekday": by_weekday,
            "by_hour": by_hour,
        }


def _summarize_if_any(rows: list[DailyRow], baseline: dict[str, int]) -> dict[str, Any]:
    """A period without a single row (before the workspace or channel existed)
    has no figures to compare with, rather than zeros."""
    if not rows:
        return dict.fromkeys(fig.FIGURE_KEYS)
    return fig.summarize(rows, baseline)


def _created_day(workspace: Any, timezone: str) -> date | None:
    created = getattr(workspace, "created_at", None)
    return parse_rfc3339(created).astimezone(ZoneInfo(timezone)).date() if created else None


def _last_followers(rows: list[DailyRow]) -> dict[str, int]:
    last: dict[str, int] = {}
    for row in sorted(rows, key=lambda r: r.day):
        if row.followers is not None:
            last[row.channel_id] = row.followers
    return last
