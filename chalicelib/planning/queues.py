"""Each channel's queue: weekly slots in the workspace's time zone, and the posts that take them.

A queued post is an ordinary scheduled post: its delivery to each channel is due at the slot it holds
(PostRow.plan `queue`), so the engine, the calendar and the .ics feed treat it like any other. The slot
claims (queue_repository.py) are what keeps two posts out of one slot; the queue's order is the order of
the slots its posts hold. A slot less than QUEUE_LOCK away is no longer offered or moved: the engine may
already have queued its delivery.
"""
from __future__ import annotations

import logging
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from chalicelib.core.clock import Clock, to_rfc3339
from chalicelib.core.errors import ApiError, Conflict, NotFound, ValidationFailed
from chalicelib.core.ids import new_id
from chalicelib.planning.queue_repository import CLAIM_KEPT, Claim, Move, QueueRepository, QueueSchedule
from chalicelib.planning.slots import LOOK_AHEAD_DAYS, WEEKDAYS, Slot, first_n, next_free, upcoming

if TYPE_CHECKING:
    from chalicelib.accounts.channel_repository import ChannelRepository
    from chalicelib.publishing.post_repository import DeliveryRow, PostRow
    from chalicelib.publishing.posts import PostDraft, PostService

log = logging.getLogger("herald.queues")
QUEUE_LOCK = timedelta(minutes=2)
CLAIM_TRIES = 50
SHOWN_NEXT = 5
Placed = tuple["PostRow", list["DeliveryRow"]]


class QueueService:
    def __init__(self, queues: QueueRepository, posts: PostService, channels: ChannelRepository,
                 timezone: Callable[[str], str], clock: Clock,
                 best_times: Callable[[str, str], dict[str, Any]] | None = None) -> None:
        self.queues = queues
        self.posts = posts
        self.channels = channels
        self.timezone = timezone
        self.clock = clock
        self.best_times = best_times

    # -- the schedule ------------------------------------------------------------

    def get(self, workspace_id: str, channel_id: str) -> dict[str, Any]:
        self._check_channel(workspace_id, channel_id)
        schedule = self.queues.get_schedule(workspace_id, channel_id)
        return self._view(schedule, self._order(workspace_id, channel_id))

    def put(self, workspace_id: str, channel_id: str, slots: list[Slot] | None, paused: bool | None,
            version: int | None = None) -> dict[str, Any]:
        """New slots move the queued posts into them in order; pausing holds them; resuming lets them go from
        the next slots on. The answer says which moved (`moved`: post id, old and new time)."""
        self._check_channel(workspace_id, channel_id)
        schedule = self.queues.get_schedule(workspace_id, channel_id)
        if version is not None and version != schedule.version:
            raise Conflict(f"You edited version {version}, but the queue is at version {schedule.version}; "
                           "read it again and retry.", code="version_conflict")
        resuming = schedule.paused and paused is False
        order = self._waiting(workspace_id, channel_id) if resuming else self._order(workspace_id, channel_id)
        new_slots = schedule.slots if slots is None else sorted(set(slots))
        if order and not new_slots:
            raise ValidationFailed.field("slots", f"{len(order)} posts are queued; a queue with posts needs at "
                                                  "least one slot (move or cancel them first)")
        reslot = slots is not None and new_slots != schedule.slots
        schedule.slots, schedule.paused = new_slots, schedule.paused if paused is None else paused
        saved = self.queues.save_schedule(schedule, self.clock.now())
        moved: list[dict[str, Any]] = []
        if reslot or resuming:
            times = first_n(new_slots, self._zone(workspace_id), self._after(), len(order))
            moved = self._assign(workspace_id, channel_id, order, [c.post_id for c in order], times,
                                 hold=saved.paused)
        elif paused is not None:
            self._hold(workspace_id, channel_id, order, saved.paused)
        view = self._view(saved, self._order(workspace_id, channel_id))
        view["moved"] = moved
        return view

    # -- queuing a post ------------------------------------------------------------

    def queue_post(self, workspace_id: str, draft: PostDraft, *, post_id: str | None = None,
                   recycled_from: str | None = None, batch: QueueBatch | None = None) -> Placed:
        """A new post in the next free slot of each target channel (`queue_slot` "each"), in the first slot
        free on all of them ("common"), or first in each queue (`queue` "front": the queue shifts back).
        Posts queued one after another in bulk (an import) share a `batch` (`new_batch`): each queue's
        schedule and claims are read once, not once per post."""
        self._check_draft(draft)
        channel_ids = list(dict.fromkeys(draft.channel_ids))
        batch = batch or QueueBatch()
        schedules = {cid: batch.schedules.get(cid) or batch.schedules.setdefault(
            cid, self._schedule_for_queue(workspace_id, cid, i)) for i, cid in enumerate(channel_ids)}
        post_id = post_id or new_id("pst")
        extra = {"recycled_from": recycled_from}
        if draft.queue == "front":
            return self._queue_front(workspace_id, draft, post_id, schedules, extra)
        if draft.queue_slot == "common":
            taken = self._claim_common(workspace_id, post_id, schedules)
        else:
            taken = {cid: self._claim_next(workspace_id, cid, post_id, s, batch) for cid, s in schedules.items()}
        try:
            return self._create(workspace_id, draft, post_id, taken, schedules, extra)
        except ApiError:
            for cid, slot in taken.items():
                self.queues.release(workspace_id, cid, slot, post_id)
                batch.returned.setdefault(cid, []).append(slot)
            raise

    def new_batch(self) -> QueueBatch:
        return QueueBatch()

    def _check_draft(self, draft: PostDraft) -> None:
        if draft.publish_at is not None:
            raise ValidationFailed.field("publish_at", "give either publish_at or queue, not both")
        if draft.status == "draft":
            raise ValidationFailed.field("status", "a queued post is scheduled; leave status out")
        if draft.queue not in ("next", "front"):
            raise ValidationFailed.field("queue_position", "is next or front")
        if draft.queue == "front" and draft.queue_slot == "common":
            raise ValidationFailed.field("queue_slot", "common goes with queue_position next")
        if draft.recurrence:
            raise ValidationFailed.field("recurrence", "a recurring post is not queued; give publish_at")

    def _schedule_for_queue(self, workspace_id: str, channel_id: str, index: int) -> QueueSchedule:
        schedule = self.queues.get_schedule(workspace_id, channel_id)
        if not schedule.slots:
            raise ValidationFailed.field(f"channel_ids.{index}", f"channel {channel_id} has no queue slots; "
                                         f"set them with PUT /channels/{channel_id}/queue")
        return schedule

    def _create(self, workspace_id: str, draft: PostDraft, post_id: str, taken: dict[str, datetime],
                schedules: dict[str, QueueSchedule], extra: dict[str, Any]) -> Placed:
        from dataclasses import replace

        held = sorted(cid for cid, s in schedules.items() if s.paused)
        plan = {"queue": {cid: to_rfc3339(t) for cid, t in taken.items()}, "held": held,
                "recycle_after_days": draft.recycle_after_days, **extra}
        planned = replace(draft, queue=None, publish_at=min(taken.values()), status="scheduled")
        return self.posts.create_planned(workspace_id, planned, plan, post_id=post_id)

    def _claim_next(self, workspace_id: str, channel_id: str, post_id: str, schedule: QueueSchedule,
                    batch: QueueBatch) -> datetime:
        if channel_id not in batch.free:
            after = self._after()
            taken = {c.slot_at for c in self.queues.claims(workspace_id, channel_id, after)}
            batch.free[channel_id] = (t for t in upcoming(schedule.slots, self._zone(workspace_id), after)
                                      if t not in taken)
        for _try in range(CLAIM_TRIES):
            returned = batch.returned.get(channel_id)
            if returned:  # freed by a post of the batch that failed: the earliest first
                returned.sort()
                slot: datetime | None = returned.pop(0)
            else:
                slot = next(batch.free[channel_id], None)
            if slot is None:
                break
            if self.queues.claim(workspace_id, channel_id, slot, post_id):
                return slot
            # taken meanwhile by a post queued at the same moment: the next one
        raise Conflict(f"No free slot in the queue of channel {channel_id} in the next "
                       f"{LOOK_AHEAD_DAYS} days.", code="queue_full")

    def _claim_common(self, workspace_id: str, post_id: str,
                      schedules: dict[str, QueueSchedule]) -> dict[str, datetime]:
        zone, after = self._zone(workspace_id), self._after()
        free = {cid: set(upcoming(s.slots, zone, after)) - {c.slot_at for c in self.queues.claims(
            workspace_id, cid, after)} for cid, s in schedules.items()}
        for slot in sorted(set.intersection(*free.values())):
            got = [cid for cid in schedules if self.queues.claim(workspace_id, cid, slot, post_id)]
            if len(got) == len(schedules):
                return dict.fromkeys(schedules, slot)
            for cid in got:
                self.queues.release(workspace_id, cid, slot, post_id)
        raise ValidationFailed.field("queue_slot", "the channels' queues have no free slot in common")

    def _queue_front(self, workspace_id: str, draft: PostDraft, post_id: str,
                     schedules: dict[str, QueueSchedule], extra: dict[str, Any]) -> Placed:
        """The new post takes each queue's first slot; the posts there move one slot back."""
        zone, after = self._zone(workspace_id), self._after()
        plans = {}
        for cid, schedule in schedules.items():
            order = self.queues.claims(workspace_id, cid, after)
            added = next_free(schedule.slots, zone, after, {c.slot_at for c in order})
            if added is None:
                raise Conflict(f"No free slot in the queue of channel {cid}.", code="queue_full")
            times = sorted([c.slot_at for c in order] + [added])
            self.queues.move(workspace_id, cid, _moves(order, [post_id] + [c.post_id for c in order], times))
            plans[cid] = (order, times)
        try:
            placed = self._create(workspace_id, draft, post_id, {cid: t[0] for cid, (_o, t) in plans.items()},
                                  schedules, extra)
        except ApiError:
            for cid, (order, times) in plans.items():
                self.queues.move(workspace_id, cid, _undo(_moves(order, [post_id] + [c.post_id for c in order],
                                                                 times)))
            raise
        for cid, (order, times) in plans.items():
            self._reslot_posts(workspace_id, cid, order, dict(zip([c.post_id for c in order], times[1:],
                                                                  strict=True)), schedules[cid].paused)
        return placed

    # -- reordering ------------------------------------------------------------------

    def move(self, workspace_id: str, channel_id: str, post_id: str, position: int) -> dict[str, Any]:
        """Moves a queued post to a position (0: first); the posts between shift by one."""
        order = self._order_of(workspace_id, channel_id, [post_id])
        ids = [c.post_id for c in order if c.post_id != post_id]
        ids.insert(min(position, len(ids)), post_id)
        return self._reordered(workspace_id, channel_id, order, ids)

    def swap(self, workspace_id: str, channel_id: str, first: str, second: str) -> dict[str, Any]:
        order = self._order_of(workspace_id, channel_id, [first, second])
        ids = [c.post_id for c in order]
        i, j = ids.index(first), ids.index(second)
        ids[i], ids[j] = ids[j], ids[i]
        return self._reordered(workspace_id, channel_id, order, ids)

    def shuffle(self, workspace_id: str, channel_id: str, seed: int | None) -> dict[str, Any]:
        """The queued posts in a random order over the same slots; a seed gives the same order each time."""
        order = self._order_of(workspace_id, channel_id, [])
        ids = [c.post_id for c in order]
        random.Random(seed).shuffle(ids)  # noqa: S311 - an order of posts, not a secret
        return self._reordered(workspace_id, channel_id, order, ids)

    def _order_of(self, workspace_id: str, channel_id: str, post_ids: list[str]) -> list[Claim]:
        self._check_channel(workspace_id, channel_id)
        order = self._order(workspace_id, channel_id)
        queued = {c.post_id for c in order}
        for post_id in post_ids:
            if post_id not in queued:
                raise NotFound(f"Post {post_id} is not in the queue of channel {channel_id} (or goes out within "
                               f"{int(QUEUE_LOCK.total_seconds() // 60)} minutes).")
        return order

    def _reordered(self, workspace_id: str, channel_id: str, order: list[Claim], ids: list[str]) -> dict[str, Any]:
        schedule = self.queues.get_schedule(workspace_id, channel_id)
        moved = self._assign(workspace_id, channel_id, order, ids, [c.slot_at for c in order], schedule.paused)
        view = self._view(schedule, self._order(workspace_id, channel_id))
        view["moved"] = moved
        return view

    # -- moving posts between slots ------------------------------------------------

    def _assign(self, workspace_id: str, channel_id: str, order: list[Claim], ids: list[str],
                times: list[datetime], hold: bool) -> list[dict[str, Any]]:
        """Gives `ids[i]` the slot `times[i]`: the claims first (one conditional transaction), then each post
        whose slot changed. Returns what moved."""
        self.queues.move(workspace_id, channel_id, _moves(order, ids, times))
        return self._reslot_posts(workspace_id, channel_id, order, dict(zip(ids, times, strict=True)), hold,
                                  every=True)

    def _reslot_posts(self, workspace_id: str, channel_id: str, order: list[Claim], new: dict[str, datetime],
                      hold: bool, every: bool = False) -> list[dict[str, Any]]:
        old = {c.post_id: c.slot_at for c in order}
        moved = []
        for post_id, slot in new.items():
            if slot == old.get(post_id) and not every:
                continue
            try:
                self.posts.reslot(workspace_id, post_id, {channel_id: slot}, hold=hold)
            except (Conflict, NotFound):
                log.warning("Queued post %s could not move to %s (edited or going out meanwhile)", post_id, slot)
                continue
            if slot != old.get(post_id):
                moved.append({"post_id": post_id, "channel_id": channel_id, "old": to_rfc3339(old.get(post_id)),
                              "new": to_rfc3339(slot)})
        return moved

    def _hold(self, workspace_id: str, channel_id: str, order: list[Claim], hold: bool) -> None:
        self._reslot_posts(workspace_id, channel_id, order, {c.post_id: c.slot_at for c in order}, hold,
                           every=True)

    # -- what a post's edit means for its slots -------------------------------------

    def post_saved(self, post: PostRow, plan_before: dict[str, Any]) -> None:
        """Frees the slots a post no longer holds: it left the queue (given a time, made a draft, a channel
        dropped) or was canceled."""
        now_queue = {} if post.status == "canceled" else dict(post.plan.get("queue") or {})
        for channel_id, slot in (plan_before.get("queue") or {}).items():
            if now_queue.get(channel_id) != slot:
                self.queues.release(post.workspace_id, channel_id, _parse(slot), post.post_id)

    # -- helpers ---------------------------------------------------------------------

    def _check_channel(self, workspace_id: str, channel_id: str) -> None:
        if self.channels.get(workspace_id, channel_id) is None:
            raise NotFound(f"No channel {channel_id} in this workspace.")

    def _zone(self, workspace_id: str) -> ZoneInfo:
        return ZoneInfo(self.timezone(workspace_id))

    def _after(self) -> datetime:
        return self.clock.now() + QUEUE_LOCK

    def _order(self, workspace_id: str, channel_id: str) -> list[Claim]:
        return self.queues.claims(workspace_id, channel_id, self._after())

    def _waiting(self, workspace_id: str, channel_id: str) -> list[Claim]:
        """A paused queue's posts: those ahead, and those whose slot went by while they were held."""
        since = self.clock.now() - CLAIM_KEPT
        claims = self.queues.claims(workspace_id, channel_id, since)
        gone_by = [c for c in claims if c.slot_at <= self._after()]
        held = {p.post_id for p in self.posts.posts.posts_by_ids(workspace_id, [c.post_id for c in gone_by])
                if p.status == "scheduled" and channel_id in (p.plan.get("held") or [])}
        return [c for c in claims if c.slot_at > self._after() or c.post_id in held]

    def _view(self, schedule: QueueSchedule, order: list[Claim]) -> dict[str, Any]:
        zone = self._zone(schedule.workspace_id)
        taken = {c.slot_at for c in order}
        free = [t for t in upcoming(schedule.slots, zone, self._after()) if t not in taken][:SHOWN_NEXT]
        return {
            "channel_id": schedule.channel_id, "timezone": zone.key, "slots": [s.label for s in schedule.slots],
            "paused": schedule.paused, "version": schedule.version,
            "posts": [{"post_id": c.post_id, "position": i, "slot_at": to_rfc3339(c.slot_at),
                       "local_time": c.slot_at.astimezone(zone).isoformat()} for i, c in enumerate(order)],
            "next_free_slots": [to_rfc3339(t) for t in free],
            "suggested_slots": self._suggested(schedule),
        }

    def _suggested(self, schedule: QueueSchedule) -> list[dict[str, Any]]:
        """The channel's best posting times (metrics' best-times figures) as slots, beside the current ones."""
        if self.best_times is None:
            return []
        current = {(s.weekday, s.at.hour) for s in schedule.slots}
        best = self.best_times(schedule.workspace_id, schedule.channel_id).get("best") or []
        return [{"weekday": WEEKDAYS[b["weekday_index"]], "time": f"{b['hour']:02d}:00", "posts": b["posts"],
                 "average_engagements": b["average_engagements"],
                 "in_schedule": (b["weekday_index"], b["hour"]) in current} for b in best]


@dataclass
class QueueBatch:
    """What posts queued one after another share: each channel's schedule and its free slots ahead."""

    schedules: dict[str, QueueSchedule] = field(default_factory=dict)
    free: dict[str, Iterator[datetime]] = field(default_factory=dict)
    returned: dict[str, list[datetime]] = field(default_factory=dict)


def _moves(order: list[Claim], ids: list[str], times: list[datetime]) -> list[Move]:
    """The claim changes that give `ids[i]` the slot `times[i]` (slots no longer held are freed)."""
    before = {c.slot_at: c.post_id for c in order}
    after = dict(zip(times, ids, strict=True))
    return [Move(t, before.get(t), after.get(t)) for t in sorted(set(before) | set(after))]


def _undo(moves: list[Move]) -> list[Move]:
    return [Move(m.slot_at, m.after, m.before) for m in moves]


def _parse(text: str) -> datetime:
    from chalicelib.core.clock import parse_rfc3339

    return parse_rfc3339(text)
