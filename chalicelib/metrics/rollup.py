"""The nightly roll-up: counters and the networks' own figures become daily rows.

For each workspace in the registry, once a local day has ended in its time
zone, every channel gets one daily row for that day: the day's counters, the
follower count the network reports now, and the latest likes, reposts,
replies and impressions of the posts published that day. The rows of the six
days before are rebuilt too, from their counters (a first response that came
late) and fresh post figures (engagement keeps coming for a few days).

- Idempotent: a row is a function of its counters, the network's answer and
  the stored row; it is written only when it changed.
- Catches up: the registry keeps the last day rolled up per workspace; a run
  does every day since (at most MAX_CATCH_UP_DAYS).
- A network that fails leaves its figures missing (None), never zero; the next
  night asks again for the posts of the last seven days.
- Cost per channel and night: one Query (counters and rows of the window), one
  call to the network, and the rows that changed. Nothing reads the events.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from chalicelib.accounts.channel_repository import ChannelRepository, ChannelRow
from chalicelib.core.clock import Clock
from chalicelib.metrics.figures import post_missing
from chalicelib.metrics.metric_repository import (
    WORKSPACE_SERIES,
    DailyRow,
    DayCounts,
    MetricsRepository,
    RegistryEntry,
    WorkspaceRegistry,
    days_between,
)
from chalicelib.networks.base import (
    ChannelContext,
    ChannelInsights,
    NetworkAdapter,
    NetworkError,
    PermanentError,
    PostInsights,
)

log = logging.getLogger("herald.rollup")

REFRESH_DAYS = 7
MAX_CATCH_UP_DAYS = 35
POST_FIELDS = ("post_id", "remote_id", "remote_url", "published_at", "preview")
FIGURE_FIELDS = ("likes", "reposts", "replies", "impressions")


@dataclass
class RollupReport:
    workspaces: int = 0
    channel_days: int = 0
    rows_written: int = 0
    insights_missing: int = 0
    skipped: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {"workspaces": self.workspaces, "channel_days": self.channel_days,
                "rows_written": self.rows_written, "insights_missing": self.insights_missing,
                "skipped": self.skipped, "errors": self.errors}


@dataclass
class Fetched:
    """What one network answered for one channel tonight."""

    insights: ChannelInsights | None = None
    status: str = "ok"  # ok | missing | unavailable | none
    error: str | None = None


@dataclass(frozen=True)
class SeriesTask:
    entry: RegistryEntry
    days: tuple[date, ...]
    channel: ChannelRow | None  # None: the workspace's own series (listening matches)
    followers_day: date | None


class RollupService:
    def __init__(self, metrics: MetricsRepository, registry: WorkspaceRegistry, channels: ChannelRepository,
                 contexts: Callable[[ChannelRow], ChannelContext], adapters: Callable[[str], NetworkAdapter],
                 clock: Clock, threads: int = 8,
                 period_closed_hooks: list[Callable[[str, str], None]] | None = None) -> None:
        self.metrics = metrics
        self.registry = registry
        self.channels = channels
        self.contexts = contexts
        self.adapters = adapters
        self.clock = clock
        self.threads = threads
        # Called with (workspace id, "2026-03" or "2026-Q1") when a workspace's month or quarter is rolled up.
        self.period_closed_hooks = list(period_closed_hooks or [])

    def run(self, day: date | None = None, shards: Iterable[int] | None = None) -> RollupReport:
        """Rolls up every workspace's ended days; with `day`, that day only
        (where it has ended), leaving the catch-up watermark alone."""
        now = self.clock.now()
        report = RollupReport()
        entries = [e for shard in (shards if shards is not None else range(self.registry.shards))
                   for e in self.registry.list_shard(shard)]
        plans = [p for p in self._map(lambda e: self._plan(e, now, day, report), entries) if p]
        tasks = [task for plan in plans for task in plan]
        results = self._map(self._roll_series_safely, tasks)
        done: dict[str, list[bool]] = {}
        series: dict[str, set[str]] = {}
        for task, (written, missing, ok) in zip(tasks, results, strict=True):
            workspace_id = task.entry.workspace_id
            done.setdefault(workspace_id, []).append(ok)
            channel_id = task.channel.channel_id if task.channel else WORKSPACE_SERIES
            series.setdefault(workspace_id, set()).add(channel_id)
            report.channel_days += len(task.days) if task.channel else 0
            report.rows_written += written
            report.insights_missing += missing
            if not ok:
                report.errors.append(f"{workspace_id}/{channel_id}")
        for plan in plans:
            entry, last = plan[0].entry, max(plan[0].days)
            if day is None and all(done[entry.workspace_id]):
                self.registry.mark_rolled(entry.workspace_id, last, series[entry.workspace_id])
                self._periods_closed(entry.workspace_id, plan[0].days)
            elif day is not None:
                self.registry.add_series(entry.workspace_id, series[entry.workspace_id])
        report.workspaces = len(plans)
        log.info("Roll-up: %d workspaces, %d channel-days, %d rows written, %d with missing insights",
                 report.workspaces, report.channel_days, report.rows_written, report.insights_missing)
        return report

    def _periods_closed(self, workspace_id: str, days: tuple[date, ...]) -> None:
        for period in closed_periods(days):
            for hook in self.period_closed_hooks:
                try:
                    hook(workspace_id, period)
                except Exception:  # a notification never undoes a roll-up
                    log.exception("period-closed hook failed for %s %s", workspace_id, period)

    def _map(self, fn: Callable[[Any], Any], items: list[Any]) -> list[Any]:
        """In parallel: most of the time goes to waiting for DynamoDB and the networks."""
        if self.threads <= 1 or len(items) <= 1:
            return [fn(item) for item in items]
        with ThreadPoolExecutor(max_workers=min(self.threads, len(items))) as pool:
            return list(pool.map(fn, items))

    def _plan(self, entry: RegistryEntry, now: datetime, only: date | None,
              report: RollupReport) -> list[SeriesTask]:
        yesterday = now.astimezone(ZoneInfo(entry.timezone)).date() - timedelta(days=1)
        if only is not None:
            if only > yesterday:
                report.skipped.append(f"{entry.workspace_id}: {only} has not ended in {entry.timezone}")
                return []
            days = [only]
        else:
            first = entry.rolled_through + timedelta(days=1) if entry.rolled_through else yesterday
            days = days_between(max(first, yesterday - timedelta(days=MAX_CATCH_UP_DAYS - 1)), yesterday)
        if not days:
            return []
        followers_day = yesterday if yesterday in days else None
        channels: list[ChannelRow | None] = [*self.channels.list_all(entry.workspace_id), None]
        return [SeriesTask(entry, tuple(days), channel, followers_day) for channel in channels]

    def _roll_series_safely(self, task: SeriesTask) -> tuple[int, int, bool]:
        try:
            written, missing = self.roll_series(task)
            return written, missing, True
        except Exception:
            channel_id = task.channel.channel_id if task.channel else WORKSPACE_SERIES
            log.exception("Roll-up of %s/%s failed; the next run does it again", task.entry.workspace_id,
                          channel_id)
            return 0, 0, False

    def roll_series(self, task: SeriesTask) -> tuple[int, int]:
        """Returns (rows written, rows still missing insights)."""
        workspace_id = task.entry.workspace_id
        channel_id = task.channel.channel_id if task.channel else WORKSPACE_SERIES
        first = min(task.days) - timedelta(days=REFRESH_DAYS - 1)
        counters, rows = self.metrics.window(workspace_id, channel_id, first, max(task.days))
        days = sorted(set(task.days) | set(rows))
        if task.channel is None:  # no network, no followers: a row only where something was counted
            days = [d for d in days if d in counters or d in rows]
        remote_ids = [p["remote_id"] for d in days for p in counters.get(d, DayCounts(d)).posts
                      if p.get("remote_id")]
        fetched = self._fetch(task.channel, remote_ids)
        changed, missing = [], 0
        for day in days:
            row = build_row(workspace_id, channel_id, day, counters.get(day), rows.get(day), fetched,
                            followers_now=day == task.followers_day)
            if row.insights in ("missing", "unavailable"):
                missing += 1
            if row != rows.get(day):
                changed.append(row)
        self.metrics.put_rows(changed)
        return len(changed), missing

    def _fetch(self, channel: ChannelRow | None, remote_ids: list[str]) -> Fetched:
        if channel is None:
            return Fetched(status="none")
        if channel.status != "active":
            return Fetched(status="missing", error=f"the channel is {channel.status.replace('_', ' ')}")
        try:
            insights = self.adapters(channel.network).fetch_insights(self.contexts(channel), remote_ids)
        except PermanentError as error:
            return Fetched(status="unavailable", error=_said_by(channel.network, error.message))
        except NetworkError as error:
            return Fetched(status="missing", error=_said_by(channel.network, error.message))
        except Exception as error:  # a bug or an outage must not stop the other channels
            log.exception("Insights from %s channel %s failed", channel.network, channel.channel_id)
            return Fetched(status="missing",
                           error=f"{channel.network}: unexpected error ({type(error).__name__})")
        return Fetched(insights=insights)


def closed_periods(days: tuple[date, ...]) -> list[str]:
    """The months ("2026-03") and quarters ("2026-Q1") whose last day is among `days`."""
    closed: list[str] = []
    for day in sorted(days):
        if (day + timedelta(days=1)).day != 1:
            continue
        closed.append(f"{day.year}-{day.month:02d}")
        if day.month % 3 == 0:
            closed.append(f"{day.year}-Q{day.month // 3}")
    return closed


def _said_by(network: str, message: str) -> str:
    return message if message.lower().startswith(network) else f"{network}: {message}"


def build_row(workspace_id: str, channel_id: str, day: date, counts: DayCounts | None,
              existing: DailyRow | None, fetched: Fetched, followers_now: bool) -> DailyRow:
    """One series' day from its counters, tonight's answer from the network and the stored row."""
    counts = counts or DayCounts(day)
    posts = _posts_with_figures(counts.posts, fetched.insights, existing)
    followers = _followers(fetched.insights, existing, followers_now)
    row = DailyRow(workspace_id, channel_id, day, dict(counts.counts), list(counts.lateness_s),
                   list(counts.first_response_s), posts, followers,
                   traffic=[dict(item) for item in counts.traffic])
    row.insights, row.insights_error = _insights_state(fetched, existing, row, followers_now)
    return row


def _posts_with_figures(counted: list[dict[str, Any]], insights: ChannelInsights | None,
                        existing: DailyRow | None) -> list[dict[str, Any]]:
    """The day's posts, each with tonight's figures, else marked gone, else the stored figures."""
    answered = {p.remote_id: p for p in insights.posts} if insights else None
    stored = {(p.get("post_id"), p.get("remote_id")): p for p in (existing.posts if existing else [])}
    return [_post_entry(post, answered, stored) for post in counted]


def _post_entry(post: dict[str, Any], answered: dict[str, PostInsights] | None,
                stored: dict[tuple[Any, Any], dict[str, Any]]) -> dict[str, Any]:
    """`answered` is None when the network did not answer tonight."""
    entry = _fields_set(post, POST_FIELDS)
    remote_id = post.get("remote_id")
    if answered is not None and remote_id in answered:
        entry.update(_figures_of(answered[remote_id]))
    elif answered is not None and remote_id:
        entry["gone"] = True  # the network answered without it: deleted there
    else:
        entry.update(_fields_set(stored.get((post.get("post_id"), remote_id), {}), (*FIGURE_FIELDS, "gone")))
    return entry


def _figures_of(figures: PostInsights) -> dict[str, int]:
    return {k: getattr(figures, k) for k in FIGURE_FIELDS if getattr(figures, k) is not None}


def _fields_set(source: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    """The keys whose value is known (missing is never zero)."""
    return {k: source[k] for k in keys if source.get(k) is not None}


def _followers(insights: ChannelInsights | None, existing: DailyRow | None, followers_now: bool) -> int | None:
    """Tonight's count when tonight counts for this day, else the one stored with the row."""
    if followers_now and insights is not None:
        return insights.followers
    return existing.followers if existing else None


def _insights_state(fetched: Fetched, existing: DailyRow | None, row: DailyRow,
                    followers_now: bool) -> tuple[str, str | None]:
    """(insights, insights_error) of the built row: are the network's figures for this day all in, and if not why."""
    if fetched.status == "none":
        return "none", None
    if row.followers is not None and not any(post_missing(p) for p in row.posts):
        return "ok", None
    if fetched.insights is None:
        return fetched.status, fetched.error
    if followers_now and row.followers is None:
        return "unavailable", "the network gave no follower count"
    if existing is not None and existing.insights != "ok":
        return existing.insights, existing.insights_error
    # tonight's answer came, but this day's follower count was never taken
    return "missing", "no follower count was taken that day"
