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
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from chalicelib.accounts.channel_repository import ChannelRepository
from chalicelib.core.clock import Clock, parse_rfc3339, to_rfc3339
from chalicelib.core.errors import NotFound, ValidationFailed
from chalicelib.metrics import figures as fig
from chalicelib.metrics.metric_repository import (
    WORKSPACE_SERIES,
    DailyRow,
    MetricsRepository,
    WorkspaceRegistry,
    days_between,
)

MAX_DAILY_SPAN_DAYS = 366
# How far before a period to look for the follower count it starts from.
BASELINE_DAYS = 31
BEST_TIMES_WEEKS = 16
MIN_SLOT_POSTS = 2
DISCONNECTED = "(disconnected channel)"
UNATTRIBUTED_NAME = "(no click within the attribution window)"
# A feature's table in a report (ads...): (workspace id, first day, last day) -> {title, table: {columns, rows}, ...}.
SectionTable = Callable[[str, date, date], dict[str, Any]]
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


# A section read over the report's exact span (listening, brand): (workspace id, start, end as UTC instants).
MomentSection = Callable[[str, datetime, datetime], Any]


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
                    "not rolled up yet", [dict(t) for t in counts.traffic])


# A section another feature adds to each report (the goals): (workspace id, first day, last day) -> its items.
ReportSection = Callable[[str, date, date], list[dict[str, Any]]]


class ReportService:
    def __init__(self, metrics: MetricsRepository, registry: WorkspaceRegistry, channels: ChannelRepository,
                 workspaces: Callable[[str], Any], clock: Clock, threads: int = 8,
                 sections: dict[str, ReportSection] | None = None,
                 tables: dict[str, SectionTable] | None = None,
                 moment_sections: dict[str, MomentSection] | None = None) -> None:
        """`sections`: other features' parts of the report (goals), by the key they take in it, shown by the
        report's own renderers; `tables`: parts that are plain data with a `title` and a `table`
        ({columns, rows}) that the CSV and the HTML show as they are (ads)."""
        self.tables = dict(tables or {})
        self.moment_sections = dict(moment_sections or {})
        self.metrics = metrics
        # Sections other features add to the monthly and quarterly reports (share of voice, brand
        # consistency): each gets the workspace and the period's [start, end) in UTC.
        self.sections = dict(sections or {})
        self.registry = registry
        self.channels = channels
        self.workspaces = workspaces
        self.clock = clock
        self.threads = threads
        self.sections = dict(sections or {})

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

    def figures_for(self, workspace_id: str, first: date, last: date,
                    channel_ids: list[str] | None = None) -> dict[str, Any]:
        """The figures of `first`..`last` for the whole workspace (None) or some channels, summed as the
        reports sum them (the goals' progress reads these)."""
        series = self._series(workspace_id)[0] if channel_ids is None else list(channel_ids)
        rows = self._rows(workspace_id, series, first - timedelta(days=BASELINE_DAYS), last)
        return fig.summarize([r for r in rows if first <= r.day <= last],
                             _last_followers([r for r in rows if r.day < first]))

    # -- daily -------------------------------------------------------------------

    def daily(self, workspace_id: str, first: date, last: date, channel_id: str | None) -> dict[str, Any]:
        _check_daily_span(first, last)
        _workspace, timezone = self._timezone(workspace_id)
        series = _chosen_series(self._series(workspace_id)[0], channel_id)
        rows = self._rows(workspace_id, series, first - timedelta(days=BASELINE_DAYS), last)
        baseline = _last_followers([r for r in rows if r.day < first])
        days = []
        for day in days_between(first, last):
            today = [r for r in rows if r.day == day]
            days.append(_daily_entry(day, today, baseline))
            baseline.update({r.channel_id: r.followers for r in today if r.followers is not None})
        return {"from": first.isoformat(), "to": last.isoformat(), "timezone": timezone,
                "channel_id": channel_id, "days": days}

    # -- reports -----------------------------------------------------------------

    def report(self, workspace_id: str, period: Period) -> dict[str, Any]:
        workspace, timezone = self._timezone(workspace_id)
        previous = previous_period(period)
        series, names = self._series(workspace_id)
        rows = self._rows(workspace_id, series, previous.first - timedelta(days=BASELINE_DAYS), period.last)
        windows = _ReportRows.split(rows, period, previous)
        network_series = {s for s in series if s != WORKSPACE_SERIES}
        connected = [s for s in network_series if s in names]
        pending = _pending_days(period, windows.current, connected,
                                _created_day(workspace, timezone) or period.first)
        missing = [m for m in _named(fig.missing_insights(windows.of_networks().current), names)
                   if m["insights"] != "pending"]
        answer = {
            "workspace": {"id": workspace_id, "name": getattr(workspace, "name", ""), "timezone": timezone},
            "period": period.as_dict(),
            "previous_period": previous.as_dict(),
            "generated_at": to_rfc3339(self.clock.now()),
            "complete": not pending and not missing,
            "pending_days": pending,
            "missing": missing,
            "figures": windows.figures(),
            "channels": _channel_reports(series, names, windows),
            "daily": fig.daily_series(windows.current, period.days, network_series),
            "previous_daily": fig.daily_series(windows.before, previous.days, network_series),
            "top_posts": _named(fig.top_posts(windows.current), names),
            "traffic_posts": _named(fig.traffic_by_post(windows.current),
                                    {**names, WORKSPACE_SERIES: {"name": UNATTRIBUTED_NAME}}),
            **{key: part(workspace_id, period.first, period.last) for key, part in self.tables.items()},
            "sections": list(self.tables),
            **self._moment_sections(workspace_id, period, timezone),
        }
        for name, section in self.sections.items():
            answer[name] = section(workspace_id, period.first, period.last)
        return answer

    def _moment_sections(self, workspace_id: str, period: Period, timezone: str) -> dict[str, Any]:
        zone = ZoneInfo(timezone)
        start = datetime.combine(period.first, time(), zone).astimezone(UTC)
        end = datetime.combine(period.last + timedelta(days=1), time(), zone).astimezone(UTC)
        return {name: section(workspace_id, start, end) for name, section in self.moment_sections.items()}

    # -- best time to post -----------------------------------------------------------

    def best_times(self, workspace_id: str, channel_id: str) -> dict[str, Any]:
        if self.channels.get(workspace_id, channel_id) is None:
            raise NotFound(f"No channel {channel_id} in this workspace.")
        _workspace, timezone = self._timezone(workspace_id)
        zone = ZoneInfo(timezone)
        first, last = _best_times_window(self.clock.now().astimezone(zone).date())
        rows = self._rows(workspace_id, [channel_id], first, last)
        posts = _published_posts(rows)
        scored = [p for p in posts if fig.measured(p)]
        slots = _slots(scored, zone)
        slot_list = _ranked_slots(slots)
        clicks = _clicks_by_hour(posts, rows, zone)
        return {
            "channel_id": channel_id, "timezone": timezone, "from": first.isoformat(), "to": last.isoformat(),
            "weeks": BEST_TIMES_WEEKS,
            "sample_size": len(scored),
            "posts_without_figures": len(posts) - len(scored),
            "min_posts_per_slot": MIN_SLOT_POSTS,
            "best": [s for s in slot_list if s["posts"] >= MIN_SLOT_POSTS][:3],
            "slots": slot_list,
            "by_weekday": _by_weekday(slots),
            "by_hour": [{**slot, "clicks": clicks.get(slot["hour"], 0)} for slot in _by_hour(slots)],
        }


# -- daily, piece by piece ---------------------------------------------------------

def _check_daily_span(first: date, last: date) -> None:
    if last < first:
        raise ValidationFailed.field("to", "must be the same day as `from` or later")
    if (last - first).days + 1 > MAX_DAILY_SPAN_DAYS:
        raise ValidationFailed.field("to", f"at most {MAX_DAILY_SPAN_DAYS} days from `from`")


def _chosen_series(series: list[str], channel_id: str | None) -> list[str]:
    """Every series, or the one channel asked for (the workspace's own series is not a channel)."""
    if channel_id is None:
        return series
    if channel_id not in series or channel_id == WORKSPACE_SERIES:
        raise NotFound(f"No channel {channel_id} in this workspace.")
    return [channel_id]


def _daily_entry(day: date, today: list[DailyRow], baseline: dict[str, int]) -> dict[str, Any]:
    """One day's figures; `baseline` holds each channel's last follower count before that day."""
    figures = fig.summarize(today, baseline)
    network_rows = [r for r in today if r.channel_id != WORKSPACE_SERIES]
    if any(r.followers is None for r in network_rows):
        figures["followers"] = None  # a sum without one channel's count would look like a drop
    return {
        "date": day.isoformat(),
        "rolled_up": bool(today) and all(r.insights != "pending" for r in today),
        "insights_missing": [r.channel_id for r in network_rows if r.insights in ("missing", "unavailable")],
        **figures,
        "traffic": [{"channel_id": r.channel_id, **item} for r in today for item in r.traffic],
    }


# -- reports, piece by piece -------------------------------------------------------

@dataclass(frozen=True)
class _ReportRows:
    """A report's rows by window: the lead-in (only for the follower counts the
    previous period starts from), the previous period, and the period."""

    lead_in: list[DailyRow]
    before: list[DailyRow]
    current: list[DailyRow]

    @classmethod
    def split(cls, rows: list[DailyRow], period: Period, previous: Period) -> _ReportRows:
        return cls(lead_in=[r for r in rows if r.day < previous.first],
                   before=[r for r in rows if previous.first <= r.day <= previous.last],
                   current=[r for r in rows if period.first <= r.day <= period.last])

    def where(self, keep: Callable[[DailyRow], bool]) -> _ReportRows:
        return _ReportRows([r for r in self.lead_in if keep(r)], [r for r in self.before if keep(r)],
                           [r for r in self.current if keep(r)])

    def of(self, channel_id: str) -> _ReportRows:
        return self.where(lambda r: r.channel_id == channel_id)

    def of_networks(self) -> _ReportRows:
        return self.where(lambda r: r.channel_id != WORKSPACE_SERIES)

    def figures(self) -> dict[str, dict[str, Any]]:
        """The period's figures next to the previous period's."""
        return fig.compare(fig.summarize(self.current, _last_followers(self.lead_in + self.before)),
                           _summarize_if_any(self.before, _last_followers(self.lead_in)))


def _channel_reports(series: list[str], names: dict[str, dict[str, str]],
                     windows: _ReportRows) -> list[dict[str, Any]]:
    """Each channel's figures; a disconnected channel only when it has rows in the period."""
    channels = []
    for channel_id in series:
        if channel_id == WORKSPACE_SERIES:
            continue
        mine = windows.of(channel_id)
        if channel_id not in names and not mine.current:
            continue  # a disconnected channel with nothing in this period
        described = names.get(channel_id, {"name": DISCONNECTED, "network": ""})
        channels.append({"channel_id": channel_id, **described, "figures": mine.figures()})
    return channels


def _pending_days(period: Period, current: list[DailyRow], connected: list[str], tracked_from: date) -> list[str]:
    """The days since tracking began on which a connected channel's row is not rolled up yet."""
    rolled = {(r.channel_id, r.day) for r in current if r.insights != "pending"}
    return [d.isoformat() for d in period.days
            if d >= tracked_from and any((s, d) not in rolled for s in connected)]


def _named(items: list[dict[str, Any]], names: dict[str, dict[str, str]]) -> list[dict[str, Any]]:
    """The items, each given its channel's name."""
    for item in items:
        item["channel_name"] = names.get(item["channel_id"], {}).get("name", DISCONNECTED)
    return items


# -- best times, piece by piece -----------------------------------------------------

Slots = dict[tuple[int, int], list[int]]


def _best_times_window(today: date) -> tuple[date, date]:
    """The BEST_TIMES_WEEKS up to yesterday, in the workspace's time zone."""
    last = today - timedelta(days=1)
    return last - timedelta(weeks=BEST_TIMES_WEEKS) + timedelta(days=1), last


def _published_posts(rows: list[DailyRow]) -> list[dict[str, Any]]:
    """The posts of the rolled-up days (a day still pending has no figures yet)."""
    return [p for r in rows if r.insights != "pending" for p in r.posts if p.get("published_at")]


def _slots(scored: list[dict[str, Any]], zone: ZoneInfo) -> Slots:
    """The engagements of each post, by (weekday, hour) of its publication in the workspace's time zone."""
    slots: Slots = {}
    for post in scored:
        local = parse_rfc3339(post["published_at"]).astimezone(zone)
        slots.setdefault((local.weekday(), local.hour), []).append(fig.engagements(post))
    return slots


def _ranked_slots(slots: Slots) -> list[dict[str, Any]]:
    """Every slot, best average first (then more posts, then earlier in the week)."""
    ranked = [{"weekday": WEEKDAYS[w], "weekday_index": w, "hour": h, **_engagement_summary(values)}
              for (w, h), values in slots.items()]
    ranked.sort(key=lambda s: (-(s["average_engagements"] or 0), -s["posts"], s["weekday_index"], s["hour"]))
    return ranked


def _by_weekday(slots: Slots) -> list[dict[str, Any]]:
    return [{"weekday": WEEKDAYS[w], "weekday_index": w,
             **_engagement_summary([v for (weekday, _hour), values in slots.items() if weekday == w
                                    for v in values])}
            for w in range(7)]


def _by_hour(slots: Slots) -> list[dict[str, Any]]:
    return [{"hour": h, **_engagement_summary([v for (_weekday, hour), values in slots.items() if hour == h
                                               for v in values])}
            for h in range(24)]


def _clicks_by_hour(posts: list[dict[str, Any]], rows: list[DailyRow], zone: ZoneInfo) -> dict[int, int]:
    """The clicks on each post's short links (any day of the window), by the local hour it was published."""
    clicks: dict[str, float] = {}
    for row in rows:
        for item in row.traffic:
            if item.get("post_id"):
                clicks[item["post_id"]] = clicks.get(item["post_id"], 0) + float(item.get("clicks") or 0)
    by_hour: dict[int, int] = {}
    for post in posts:
        hour = parse_rfc3339(post["published_at"]).astimezone(zone).hour
        by_hour[hour] = by_hour.get(hour, 0) + int(clicks.get(post.get("post_id") or "", 0))
    return by_hour


def _engagement_summary(engagements: list[int]) -> dict[str, Any]:
    return {"posts": len(engagements), "engagements": sum(engagements),
            "average_engagements": fig.clean(sum(engagements) / len(engagements)) if engagements else None}


# -- shared ---------------------------------------------------------------------------

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
