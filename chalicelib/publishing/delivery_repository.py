"""The publishing engine's writes. Every transition is one conditional write:
a delivery moves only from the state the engine read, and a worker writes an
outcome only while it still holds its claim (see docs/publishing.md)."""
from __future__ import annotations

import json
import random
import secrets
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pynamodb.exceptions import TransactWriteError, UpdateError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action

from chalicelib.core.clock import Clock, SystemClock
from chalicelib.publishing.post_repository import (
    DELIVERY_SK,
    POST_SK,
    DeliveryRow,
    PostRepository,
    PostRow,
    delivery_row,
    due_shard,
    key_time,
    post_pk,
)
from chalicelib.publishing.tables import DeliveryRecord, PostRecord, PostTableRecord

# A post, its deliveries and its outcome_seq, as PostRepository.get_with_seq reads them.
PostRead = tuple[PostRow, list[DeliveryRow], int | None]

# Attempts at writing an outcome while other deliveries of the same post keep finishing.
OUTCOME_ATTEMPTS = 20


@dataclass(frozen=True)
class Finishing:
    """One delivery's final write in an outcome transaction."""
    row: DeliveryRow
    status: str
    actions: list[Action]
    condition: Condition


class LostClaim(Exception):
    """The condition failed: someone else moved the delivery first."""


@dataclass(frozen=True)
class Outcome:
    status: str
    attempts: int | None = None
    remote_id: str | None = None
    remote_url: str | None = None
    published_at: datetime | None = None
    last_error: str | None = None
    # While not terminal: when its message is due, and until when that message may
    # take before the tick treats it as lost (next_due when not given).
    next_due: datetime | None = None
    lease_until: datetime | None = None
    # What the adapter recorded (written with the outcome: a StillProcessing's progress).
    progress: Mapping[str, Any] | None = None
    # Queued again after an ambiguous attempt: the next claim looks before publishing.
    look_first: bool = False
    # A wait for the network (StillProcessing) or a budget's turn is not a failed attempt: the claim's +1 undone.
    uncount_attempt: bool = False
    warnings: tuple[str, ...] = field(default_factory=tuple)

    @property
    def lease(self) -> datetime | None:
        return self.lease_until or self.next_due


def _due_actions(row: DeliveryRow, due: datetime | None, shards: int) -> list[Action]:
    if due is None:
        return [DeliveryRecord.due_shard.remove(), DeliveryRecord.due_key.remove()]
    return [DeliveryRecord.due_shard.set(due_shard(row.post_id, shards)),
            DeliveryRecord.due_key.set(f"{key_time(due)}#{row.post_id}#{row.channel_id}")]


def _holding(token: str) -> Condition:
    """The delivery is still under this worker's claim."""
    return (DeliveryRecord.status == "publishing") & (DeliveryRecord.claim_token == token)


def _send_actions(due: datetime) -> list[Action]:
    """A new message for the delivery: a fresh send token, and the moment before which it may not claim."""
    return [DeliveryRecord.send_token.set(secrets.token_hex(8)), DeliveryRecord.next_due.set(key_time(due))]


# (the post's stored status, its deliveries' statuses) -> the post's final status, or None while open
FinalStatus = Callable[[str, list[str]], str | None]


class DeliveryRepository:
    def __init__(self, posts: PostRepository, final_post_status: FinalStatus, clock: Clock | None = None,
                 sleep: Callable[[float], None] = time.sleep, jitter: Callable[[], float] = random.random) -> None:
        self.posts = posts
        # The post's rule (publishing/post_status.py), handed in: a repository calls no service.
        self.final_post_status = final_post_status
        self.shards = posts.due_shards
        self.clock = clock or SystemClock()
        # Between attempts at an outcome transaction that collided with another (see _finish).
        self.sleep = sleep
        self.jitter = jitter

    def _record(self, row: DeliveryRow) -> DeliveryRecord:
        return DeliveryRecord(post_pk(row.workspace_id, row.post_id), DELIVERY_SK + row.channel_id)

    def _update(self, row: DeliveryRow, actions: list[Action], condition: Condition) -> DeliveryRow:
        record = self._record(row)
        try:
            record.update(actions=actions, condition=condition)
        except UpdateError as exc:
            if getattr(exc, "cause_response_code", "") == "ConditionalCheckFailedException":
                raise LostClaim(str(exc)) from None
            raise
        return delivery_row(record)

    def due(self, shard: int, until: datetime, page_size: int = 200) -> Iterator[DeliveryRow]:
        """Everything the engine must act on by `until` in one shard: scheduled
        deliveries now due, and queued/publishing ones whose lease ran out. The rows
        hold what the `due` index projects: not what the network answered
        (`remote_id`, `remote_url`, `published_at`, `last_error` are None)."""
        condition = DeliveryRecord.due_key <= key_time(until) + "#~"
        for record in PostTableRecord.due.query(str(shard), condition, page_size=page_size):
            if isinstance(record, DeliveryRecord):
                yield delivery_row(record)

    def due_page(self, shard: int, until: datetime, start: dict[str, Any] | None,
                 limit: int) -> tuple[list[DeliveryRow], dict[str, Any] | None]:
        """At most `limit` rows of `due` from `start` (a key this returned); the key to go on from, or None
        when the shard has no more up to `until`. A tick unit pages through its shard this way."""
        condition = DeliveryRecord.due_key <= key_time(until) + "#~"
        result = PostTableRecord.due.query(str(shard), condition, limit=limit, page_size=limit,
                                           last_evaluated_key=start)
        rows = [delivery_row(record) for record in result if isinstance(record, DeliveryRecord)]
        return rows, result.last_evaluated_key

    def mark_queued(self, row: DeliveryRow, lease_until: datetime) -> DeliveryRow:
        """scheduled → queued, or queued → queued with a new lease (a lost message
        sent again). Guarded by the status, version and lease the caller read.

        Queuing leaves the `due` entry at the due time: the tick passes over it while
        its lease runs (it reads status and lease from the entry), and rewriting an entry
        in place costs one index write where moving its key costs two."""
        condition = (DeliveryRecord.status == row.status) & (DeliveryRecord.post_version == row.post_version)
        if row.lease_until is not None:
            condition &= DeliveryRecord.lease_until == key_time(row.lease_until)
        else:
            condition &= DeliveryRecord.lease_until.does_not_exist()
        actions: list[Action] = [DeliveryRecord.status.set("queued"),
                                 DeliveryRecord.lease_until.set(key_time(lease_until))]
        if row.status == "scheduled":  # a new message: it alone may claim, once it is due
            assert row.due_at is not None
            actions += _send_actions(row.due_at)
        else:  # sent again with the same token: whichever copy comes first claims; looked at next after this lease
            actions += _due_actions(row, lease_until, self.shards)
        return self._update(row, actions, condition)

    def claim(self, row: DeliveryRow, token: str, lease_until: datetime, now: datetime) -> DeliveryRow:
        """queued → publishing, for the message's version and send token only, once the message is due
        (`next_due` <= now); attempts + 1. A copy of an earlier message, or one early, claims nothing. The
        `due` entry stays where it is (see mark_queued): an expired claim is found from it."""
        sent = (DeliveryRecord.send_token == row.send_token if row.send_token is not None
                else DeliveryRecord.send_token.does_not_exist())
        condition = ((DeliveryRecord.status == "queued") & (DeliveryRecord.post_version == row.post_version)
                     & sent & (DeliveryRecord.next_due.does_not_exist()
                               | (DeliveryRecord.next_due <= key_time(now))))
        actions: list[Action] = [DeliveryRecord.status.set("publishing"), DeliveryRecord.claim_token.set(token),
                   DeliveryRecord.lease_until.set(key_time(lease_until)), DeliveryRecord.attempts.add(1),
                   DeliveryRecord.first_attempt_at.set(
                       DeliveryRecord.first_attempt_at | key_time(self.clock.now()))]
        return self._update(row, actions, condition)

    def record_progress(self, row: DeliveryRow, token: str, progress: Mapping[str, Any],
                        lease_until: datetime) -> None:
        """What the adapter did so far, only while the claim is ours (a worker that lost it writes nothing);
        the claim's lease runs on from here, so a long multi-step publish keeps it. The `due` entry stays."""
        self._update(row, [DeliveryRecord.progress.set(json.dumps(dict(progress))),
                           DeliveryRecord.lease_until.set(key_time(lease_until))], _holding(token))

    def expire_claim(self, row: DeliveryRow, outcome: Outcome) -> DeliveryRow:
        """A publishing delivery whose worker never came back (lease ran out)."""
        assert row.lease_until is not None and row.claim_token is not None
        condition = _holding(row.claim_token) & (DeliveryRecord.lease_until == key_time(row.lease_until))
        return self._finish(row, outcome, condition)

    def finish(self, row: DeliveryRow, token: str, outcome: Outcome, read: PostRead | None = None) -> DeliveryRow:
        """Writes what the network answered, only while the claim is still ours. `read` is the
        post as the worker read it before publishing: the first attempt uses it instead of
        reading again (if another delivery finished since, its outcome_seq says so)."""
        return self._finish(row, outcome, _holding(token), read)

    def _outcome_actions(self, row: DeliveryRow, outcome: Outcome) -> list[Action]:
        actions: list[Action] = [DeliveryRecord.status.set(outcome.status)]
        for name in ("remote_id", "remote_url", "last_error"):
            value = getattr(outcome, name)
            if value is not None:
                actions.append(getattr(DeliveryRecord, name).set(value))
        if outcome.published_at is not None:
            actions.append(DeliveryRecord.published_at.set(key_time(outcome.published_at)))
        if outcome.status == "published" and outcome.last_error is None:
            actions.append(DeliveryRecord.last_error.remove())  # earlier attempts' errors are history
        if outcome.progress is not None:
            actions.append(DeliveryRecord.progress.set(json.dumps(dict(outcome.progress))))
        if outcome.warnings:
            actions.append(DeliveryRecord.warnings.set([str(w) for w in outcome.warnings]))
        actions.append(DeliveryRecord.look_first.set(True) if outcome.look_first
                       else DeliveryRecord.look_first.remove())
        if outcome.uncount_attempt:
            actions.append(DeliveryRecord.attempts.add(-1))
        if outcome.status == "queued":
            assert outcome.next_due is not None and outcome.lease is not None
            actions.append(DeliveryRecord.lease_until.set(key_time(outcome.lease)))
            actions += _send_actions(outcome.next_due)  # the retry's message: earlier ones claim nothing
        else:
            actions += [DeliveryRecord.lease_until.remove(), DeliveryRecord.claim_token.remove(),
                        DeliveryRecord.send_token.remove(), DeliveryRecord.next_due.remove()]
        if outcome.next_due is None:  # final: the counter consumer counts it on this moment's local day
            actions.append(DeliveryRecord.finished_at.set(key_time(self.clock.now())))
        if outcome.status == "scheduled":
            assert outcome.next_due is not None
            actions.append(DeliveryRecord.due_at.set(key_time(outcome.next_due)))
        return actions + _due_actions(row, outcome.lease, self.shards)

    def _finish(self, row: DeliveryRow, outcome: Outcome, condition: Condition,
                read: PostRead | None = None) -> DeliveryRow:
        actions = self._outcome_actions(row, outcome)
        if outcome.next_due is not None:  # not terminal: the post's status cannot change
            return self._update(row, actions, condition)
        if not self._write_final([Finishing(row, outcome.status, actions, condition)],
                                 self._current_read(row, read)):
            raise LostClaim("the claim was lost")
        return DeliveryRow(**{**row.__dict__, "status": outcome.status})

    def finish_together(self, finishing: list[tuple[DeliveryRow, str, Outcome]]) -> list[DeliveryRow] | None:
        """The final outcomes of several deliveries of one post, each still under its worker's claim (row,
        claim token, outcome), in one transaction with the post's change: one write request where one
        apiece would collide on the post item. None when one of the claims was lost: nothing was
        written, and the caller finishes them one by one (the lost one learns it then)."""
        assert len({(row.workspace_id, row.post_id) for row, _token, _outcome in finishing}) == 1
        assert all(outcome.next_due is None for _row, _token, outcome in finishing)
        items = [Finishing(row, outcome.status, self._outcome_actions(row, outcome),
                           _holding(token))
                 for row, token, outcome in finishing]
        if not self._write_final(items, None):
            return None
        return [DeliveryRow(**{**item.row.__dict__, "status": item.status}) for item in items]

    def _write_final(self, items: list[Finishing], read: PostRead | None) -> bool:
        """The deliveries' final writes and their post's change in one transaction, read again and tried
        again while the post moves under it. False when a delivery's condition failed (nothing written)."""
        first = items[0].row
        for attempt in range(OUTCOME_ATTEMPTS):
            read = read or self.posts.get_with_seq(first.workspace_id, first.post_id)
            post_actions, post_condition = self._post_change(first, {i.row.channel_id: i.status for i in items},
                                                             read)
            read = None
            try:
                with self.posts._tx() as tx:
                    # Updates only, in this order: the cancellation reasons are read by position below.
                    for item in items:
                        tx.update(self._record(item.row), actions=item.actions, condition=item.condition)
                    tx.update(PostRecord(post_pk(first.workspace_id, first.post_id), POST_SK),
                              actions=post_actions, condition=post_condition & PostRecord.pk.exists())
            except TransactWriteError as exc:
                reasons = [r.code if r else None for r in (exc.cancellation_reasons or [])]
                if "ConditionalCheckFailed" in reasons[:len(items)]:
                    return False
                post_moved = len(reasons) > len(items) and reasons[len(items)] == "ConditionalCheckFailed"
                if not post_moved and "TransactionConflict" not in reasons:
                    raise
                # The post moved: this was the last open delivery after all, or (posts made before
                # open_deliveries) another finished meanwhile; or, on DynamoDB, another was finishing
                # at the same moment. Read again after a short random pause.
                self.sleep(self.jitter() * min(0.4, 0.01 * 2 ** attempt))
                continue
            return True
        raise RuntimeError("could not record the outcome: the post kept changing")

    def _current_read(self, row: DeliveryRow, read: PostRead | None) -> PostRead | None:
        """The worker's read from before publishing, if it still tells which outcome to write.

        Siblings finish while this delivery was publishing, so a read that showed others open may be
        stale: the last of them would only learn it is last from a refused transaction, a write request
        per post. One consistent read of the post item costs less than that refused write."""
        if read is None or read[0].open_deliveries is None or read[0].open_deliveries <= 1:
            return read
        current = self.posts.get_post(row.workspace_id, row.post_id)
        if current is not None and current.open_deliveries is not None and current.open_deliveries > 1:
            return read  # still not the last: the decrement needs nothing more from the read
        return None  # the last one now (or gone): read it all again

    def _post_change(self, row: DeliveryRow, finishing: Mapping[str, str],
                     read: PostRead | None) -> tuple[list[Action], Condition]:
        """What final outcomes (channel id -> status) do to their post, and on what condition.

        While other deliveries stay open they only take themselves off `open_deliveries` (on condition
        that more than they are open), so the deliveries of a post finishing apart do not wait for each
        other. The ones that find themselves the last set the post's status from every delivery, on
        condition that they still are the last. Posts written before `open_deliveries` existed are
        serialised on `outcome_seq`, as they were."""
        if read is None:  # the post is gone: the transaction fails on pk.exists
            return [PostRecord.outcome_seq.add(1)], PostRecord.outcome_seq.does_not_exist()
        post, deliveries, seq = read
        remaining, count = post.open_deliveries, len(finishing)
        if remaining is not None and remaining > count:
            return [PostRecord.open_deliveries.add(-count)], PostRecord.open_deliveries > count
        statuses = [finishing.get(d.channel_id, d.status) for d in deliveries]
        derived = self.final_post_status(post.status, statuses)
        actions: list[Action] = [PostRecord.outcome_seq.set((seq or 0) + 1)]
        if derived is not None:
            actions += [PostRecord.status.set(derived),
                        PostRecord.post_workspace_status.set(f"{row.workspace_id}#{derived}")]
        if remaining is not None:
            actions.append(PostRecord.open_deliveries.set(max(0, remaining - count)))
            return actions, PostRecord.open_deliveries == remaining
        return actions, (PostRecord.outcome_seq.does_not_exist() if seq is None else PostRecord.outcome_seq == seq)
