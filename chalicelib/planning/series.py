"""Recurring posts and evergreen recycling: a series is a rule and the post it repeats; its occurrences are
ordinary scheduled posts, made PLAN_AHEAD ahead by the daily job (and the first at once).

Each occurrence has a fixed id made of the series id and its key (its local start), so a second run, or two
at once, make nothing twice: the post is written only if absent. An occurrence edited alone is `detached`:
series edits pass it by. Editing the series changes the occurrences not yet out; changing its rule cancels
those the new rule no longer has; ending it cancels every one not yet out.
"""
from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from chalicelib.core.clock import Clock
from chalicelib.core.errors import ApiError, Conflict, NotFound, ValidationFailed
from chalicelib.core.ids import new_id
from chalicelib.planning.recurrence import Recurrence
from chalicelib.planning.series_repository import JobItem, Occurrence, Recycling, SeriesRepository, SeriesRow

if TYPE_CHECKING:
    from chalicelib.planning.queue_repository import QueueRepository
    from chalicelib.planning.queues import QueueService
    from chalicelib.publishing.post_repository import DeliveryRow, PostRow
    from chalicelib.publishing.posts import PostDraft, PostService

log = logging.getLogger("herald.series")
PLAN_AHEAD = timedelta(days=60)
TEMPLATE_FIELDS = ("text", "channel_ids", "variants", "media", "thread", "first_comment")
OUT = ("published", "partially_published", "failed", "canceled", "publishing")
RECYCLED_FROM = ("published", "partially_published")


@dataclass
class PlanReport:
    series: int = 0
    occurrences_made: int = 0
    recycled: int = 0
    errors: int = 0
    canceled: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"series": self.series, "occurrences_made": self.occurrences_made, "recycled": self.recycled,
                "errors": self.errors}


def occurrence_post_id(series_id: str, key: str) -> str:
    return f"pst_{series_id.removeprefix('ser_')}_{key.lower()}"


def recycled_post_id(post_id: str) -> str:
    return "pst_" + hashlib.sha256(f"recycle:{post_id}".encode()).hexdigest()[:22]


class SeriesService:
    def __init__(self, series: SeriesRepository, posts: PostService, queues: QueueService,
                 queue_repository: QueueRepository, timezone: Callable[[str], str], clock: Clock) -> None:
        self.series = series
        self.posts = posts
        self.queues = queues
        self.queue_repository = queue_repository
        self.timezone = timezone
        self.clock = clock

    # -- a new series ------------------------------------------------------------

    def start_series(self, workspace_id: str, draft: PostDraft) -> tuple[PostRow, list[DeliveryRow]]:
        """The series and its first occurrence (answered as the post made), then the rest of PLAN_AHEAD."""
        if draft.publish_at is None:
            raise ValidationFailed.field("publish_at", "a recurring post starts at publish_at (its DTSTART)")
        if draft.status == "draft":
            raise ValidationFailed.field("status", "a recurring post is scheduled; leave status out")
        zone = ZoneInfo(self.timezone(workspace_id))
        now = self.clock.now()
        row = SeriesRow(workspace_id, new_id("ser"), "", draft.publish_at.astimezone(zone).replace(tzinfo=None),
                        zone.key, {name: getattr(draft, name) for name in TEMPLATE_FIELDS}, now, now)
        rule = Recurrence(draft.recurrence or "", row.dtstart, zone)
        row.recurrence = rule.text
        first = rule.next_after(now)
        if first is None:
            raise ValidationFailed.field("recurrence", "has no occurrence after now")
        post = self._make(row, *first)  # checks the post like any other: nothing is saved if it fails
        self.series.save(row)
        self.series.put_occurrence(workspace_id, row.series_id, Occurrence(first[0], post[0].post_id, first[1]))
        self.plan(row)
        return post

    # -- reading -----------------------------------------------------------------------

    def get(self, workspace_id: str, series_id: str) -> dict[str, Any]:
        return self._view(self._series(workspace_id, series_id))

    def list_series(self, workspace_id: str) -> list[dict[str, Any]]:
        return [self._summary(row) for row in self.series.list_series(workspace_id)]

    # -- editing and ending ------------------------------------------------------------

    def update(self, workspace_id: str, series_id: str, changes: dict[str, Any], version: int | None) -> dict[str, Any]:
        """Changes the series and every occurrence not yet out and not edited alone; a new rule cancels the
        occurrences it no longer has and makes the ones it adds."""
        row = self._series(workspace_id, series_id)
        if row.status != "active":
            raise Conflict("The series has ended; start a new one.", code="not_editable")
        if version is not None and version != row.version:
            raise Conflict(f"You edited version {version}, but the series is at version {row.version}.",
                           code="version_conflict")
        content = {k: v for k, v in changes.items() if k in TEMPLATE_FIELDS}
        rule = Recurrence(changes.get("recurrence") or row.recurrence, row.dtstart, ZoneInfo(row.timezone))
        keys = {key for key, _at in rule.between(self.clock.now(), self.clock.now() + PLAN_AHEAD)}
        changed: list[str] = []
        canceled: list[str] = []
        for occurrence, post in self._future(row):
            if post.plan.get("detached"):
                continue
            if "recurrence" in changes and occurrence.key not in keys:
                self.posts.cancel(workspace_id, post.post_id)
                canceled.append(post.post_id)
            elif content or "recurrence" in changes:
                self.posts.update(workspace_id, post.post_id, {**content, "recurrence": rule.text}, None,
                                  as_series=True)
                changed.append(post.post_id)
        row.template.update(content)
        row.recurrence, row.updated_at = rule.text, self.clock.now()
        self.series.save(row)
        self.plan(row)
        return {**self._view(row), "changed": changed, "canceled": canceled}

    def end(self, workspace_id: str, series_id: str) -> dict[str, Any]:
        """No more occurrences: every one not yet out is canceled (those edited alone too)."""
        row = self._series(workspace_id, series_id)
        canceled = []
        for _occurrence, post in self._future(row):
            self.posts.cancel(workspace_id, post.post_id)
            canceled.append(post.post_id)
        if row.status == "active":
            row.status, row.updated_at = "ended", self.clock.now()
            self.series.save(row)
        return {**self._view(row), "changed": [], "canceled": canceled}

    # -- the daily job ---------------------------------------------------------------

    def run(self) -> dict[str, Any]:
        """Every active series planned PLAN_AHEAD ahead and every evergreen post due copied; each item alone
        (one failing is logged and counted, the rest go on). Running it twice makes nothing twice."""
        report = PlanReport()
        for item in list(self.series.job_items()):
            try:
                self._run_item(item, report)
            except Exception:
                log.exception("Planning %s %s of workspace %s failed", item.kind, item.item_id, item.workspace_id)
                report.errors += 1
        return report.as_dict()

    def _run_item(self, item: JobItem, report: PlanReport) -> None:
        if item.kind == "series":
            row = self.series.get(item.workspace_id, item.item_id)
            if row is not None and row.status == "active":
                report.series += 1
                report.occurrences_made += self.plan(row)
        elif item.kind == "recycle":
            report.recycled += self._recycle(item.workspace_id, item.item_id)

    def plan(self, row: SeriesRow) -> int:
        """Makes the series' occurrences up to PLAN_AHEAD that are not made yet; returns how many."""
        now = self.clock.now()
        rule = Recurrence(row.recurrence, row.dtstart, ZoneInfo(row.timezone))
        made = {o.key for o in self.series.occurrences(row.workspace_id, row.series_id)}
        count = 0
        for key, at in rule.between(now, now + PLAN_AHEAD):
            if key in made:
                continue
            try:
                post, _deliveries = self._make(row, key, at)
                count += 1
            except Conflict as exc:
                if exc.code != "post_exists":
                    raise
                post_id = occurrence_post_id(row.series_id, key)  # made by a run that stopped before indexing
            else:
                post_id = post.post_id
            self.series.put_occurrence(row.workspace_id, row.series_id, Occurrence(key, post_id, at))
        return count

    def _make(self, row: SeriesRow, key: str, at: datetime) -> tuple[PostRow, list[DeliveryRow]]:
        from chalicelib.publishing.posts import PostDraft

        t = row.template
        draft = PostDraft(t["text"], list(t["channel_ids"]), dict(t.get("variants") or {}), list(t.get("media") or []),
                          at, "scheduled", thread=list(t.get("thread") or []), first_comment=t.get("first_comment"))
        plan = {"series_id": row.series_id, "occurrence_key": key, "recurrence": row.recurrence}
        return self.posts.create_planned(row.workspace_id, draft, plan,
                                         post_id=occurrence_post_id(row.series_id, key))

    # -- evergreen recycling ---------------------------------------------------------

    def post_saved(self, post: PostRow, plan_before: dict[str, Any]) -> None:
        """A post with `recycle_after_days` waits to be recycled; one canceled, or without it, no longer."""
        days = post.plan.get("recycle_after_days")
        if days and post.status != "canceled":
            current = self.series.get_recycling(post.workspace_id, post.post_id)
            if current is None or current.after_days != days:
                self.series.save_recycling(Recycling(post.workspace_id, post.post_id, int(days)))
        elif plan_before.get("recycle_after_days"):
            self.series.delete_recycling(post.workspace_id, post.post_id)

    def _recycle(self, workspace_id: str, post_id: str) -> int:
        """Copies an evergreen post into the queue once it has been out `after_days`; returns 1 if it did."""
        waiting = self.series.get_recycling(workspace_id, post_id)
        found = self.posts.posts.get(workspace_id, post_id)
        if waiting is None or found is None:
            return 0
        post, deliveries = found
        shown = _shown_status(post, deliveries)
        if shown not in RECYCLED_FROM:
            if shown in ("failed", "canceled"):
                self.series.save_recycling(replace(waiting, waiting=False))
            return 0
        out_at = max((d.published_at for d in deliveries if d.published_at), default=post.publish_at)
        due = (out_at or self.clock.now()) + timedelta(days=waiting.after_days)
        if due > self.clock.now():
            return 0
        copy_id = recycled_post_id(post_id)
        made = 0
        if self.posts.posts.get_post(workspace_id, copy_id) is None:
            self._copy(post, copy_id, waiting.after_days, due)
            made = 1
        self.series.save_recycling(replace(waiting, waiting=False, copy_id=copy_id))
        return made

    def _copy(self, post: PostRow, copy_id: str, days: int, due: datetime) -> None:
        """Into the queue when every channel has slots, else at the time it fell due (now, if that passed)."""
        from chalicelib.publishing.posts import PostDraft

        draft = PostDraft(post.text, list(post.channel_ids), dict(post.variants), list(post.media), None, None,
                          thread=list(post.thread), first_comment=post.first_comment, recycle_after_days=days)
        has_slots = all(self.queue_repository.get_schedule(post.workspace_id, cid).slots for cid in post.channel_ids)
        try:
            if has_slots:
                self.queues.queue_post(post.workspace_id, replace(draft, queue="next"), post_id=copy_id,
                                       recycled_from=post.post_id)
                return
        except ApiError as exc:
            log.warning("Recycling %s into the queue failed (%s); scheduled instead", post.post_id, exc.message)
        at = max(due, self.clock.now() + timedelta(minutes=1))
        self.posts.create_planned(post.workspace_id, replace(draft, publish_at=at, status="scheduled"),
                                  {"recycle_after_days": days, "recycled_from": post.post_id}, post_id=copy_id)

    # -- helpers ---------------------------------------------------------------------

    def _series(self, workspace_id: str, series_id: str) -> SeriesRow:
        row = self.series.get(workspace_id, series_id)
        if row is None:
            raise NotFound(f"No series {series_id} in this workspace.")
        return row

    def _future(self, row: SeriesRow) -> list[tuple[Occurrence, PostRow]]:
        """The occurrences not yet out (scheduled, due after now), with their posts."""
        now = self.clock.now()
        ahead = [o for o in self.series.occurrences(row.workspace_id, row.series_id) if o.publish_at > now]
        posts = {p.post_id: p for p in self.posts.posts.posts_by_ids(row.workspace_id, [o.post_id for o in ahead])}
        return [(o, posts[o.post_id]) for o in ahead
                if o.post_id in posts and posts[o.post_id].status == "scheduled"]

    def _summary(self, row: SeriesRow) -> dict[str, Any]:
        from chalicelib.core.clock import to_rfc3339

        zone = ZoneInfo(row.timezone)
        return {"id": row.series_id, "status": row.status, "recurrence": row.recurrence,
                "dtstart": row.dtstart.replace(tzinfo=zone).isoformat(), "timezone": row.timezone,
                "text": row.template.get("text", ""), "channel_ids": row.template.get("channel_ids", []),
                "version": row.version, "created_at": to_rfc3339(row.created_at),
                "updated_at": to_rfc3339(row.updated_at)}

    def _view(self, row: SeriesRow) -> dict[str, Any]:
        from chalicelib.core.clock import to_rfc3339

        occurrences = sorted(self.series.occurrences(row.workspace_id, row.series_id), key=lambda o: o.publish_at)
        posts = {p.post_id: p for p in self.posts.posts.posts_by_ids(row.workspace_id,
                                                                     [o.post_id for o in occurrences])}
        return {**self._summary(row), "occurrences": [
            {"key": o.key, "post_id": o.post_id, "publish_at": to_rfc3339(o.publish_at),
             "status": posts[o.post_id].status if o.post_id in posts else "missing",
             "detached": bool(posts[o.post_id].plan.get("detached")) if o.post_id in posts else False}
            for o in occurrences]}


def _shown_status(post: PostRow, deliveries: list[DeliveryRow]) -> str:
    from chalicelib.publishing.post_status import derive_post_status

    return derive_post_status(post.status, [d.status for d in deliveries])
