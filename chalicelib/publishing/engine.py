"""The publishing engine: every delivery out on its second, at most once.

- `publish_due_deliveries` (the tick, every minute) queues what is due before
  the end of the next minute, with an SQS delay of the seconds left, and
  recovers anything whose lease ran out.
- `queue_due_soon` does the same at once for a post made or rescheduled after
  the tick that would have queued it.
- `publish_delivery` (the worker, per message) claims the delivery with a
  conditional write, calls the network, and writes the outcome only while it
  still holds the claim.

Every state change and the condition that guards it are in docs/publishing.md.
"""
from __future__ import annotations

import logging
import math
import random
import secrets
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from chalicelib.accounts.channel_repository import ChannelRow
from chalicelib.core.clock import Clock, parse_rfc3339, to_rfc3339
from chalicelib.networks.base import (
    AmbiguousError,
    MediaItem,
    NetworkAdapter,
    NetworkError,
    PublishRequest,
    PublishResult,
    StillProcessing,
    ThreadPart,
)
from chalicelib.networks.failures import POST_WORDING, classify_network_error
from chalicelib.publishing.budgets import Budgets
from chalicelib.publishing.delivery_repository import DeliveryRepository, LostClaim, Outcome
from chalicelib.publishing.post_repository import DeliveryRow, PostRepository, PostRow
from chalicelib.publishing.publish_queue import BATCH, PublishMessage, PublishQueue, TickUnit
from chalicelib.publishing.short_text import with_short_links
from chalicelib.publishing.sibling_outcomes import SiblingOutcomes

log = logging.getLogger("herald.publishing")

Outgoing = tuple[PublishMessage, datetime]

MAX_ATTEMPTS = 5
RETRY_BASE_S = 15.0
# A queued delivery's message should have been handled this long after it was due; if it was not, the
# message was lost (or is late) and is sent again with the same send token: whichever copy comes first claims.
QUEUED_GRACE = timedelta(seconds=60)
# Unless messages are waiting in the publish queue: then a late one is most likely in that line, and a copy
# would join it, cost a write and a refused claim, and lengthen the line (a backlog of minutes re-sent
# every minute grows itself). Sent again behind a backlog only this long after its lease.
BACKLOG_GRACE = timedelta(minutes=10)
# Longer than the worker function's timeout, so a live worker never loses its claim.
CLAIM_LEASE = timedelta(seconds=120)
# A message that arrives early (SQS delays are whole seconds) waits at most this long.
MAX_EARLY_WAIT_S = 15.0
# A network still processing (a Meta container, a video) is asked again at most this far apart, and waited
# for this long after the first attempt before the delivery fails.
MAX_CHECK_AFTER_S = 300.0
MAX_PROCESSING_WAIT = timedelta(hours=2)
# A delivery claimed while its post waits for approval is looked at again this much later.
APPROVAL_RECHECK = timedelta(minutes=5)
# A repeat is sent on an idempotent network only this long before its window ends: the first request reached the
# network after its claim, but a repeat must not arrive just after the network forgot the key.
WINDOW_MARGIN = timedelta(seconds=60)
# The tick's work is spread over one unit per due shard (docs/publishing.md): each reads its shard a page at a
# time and hands what is left to a new unit once it has run this long, well inside its function's 60 s.
TICK_PAGE = 100
TICK_UNIT_BUDGET_S = 20.0


@dataclass
class TickReport:
    queued: int = 0
    resent: int = 0
    recovered: int = 0
    marked_unknown: int = 0
    skipped: int = 0
    continued: int = 0  # units that ran out of time and handed the rest of their shard to a new unit
    waiting: int = 0  # queued past their lease, left alone while messages wait in the publish queue
    queue_waiting: int | None = None  # the publish queue's waiting messages, once read
    errors: list[str] = field(default_factory=list)

    def add(self, other: TickReport) -> None:
        for name in ("queued", "resent", "recovered", "marked_unknown", "skipped", "continued", "waiting"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.errors += other.errors


def message_for(row: DeliveryRow, due: datetime) -> Outgoing:
    """A message and the moment it is due: its delay is worked out when it is sent."""
    return PublishMessage(row.workspace_id, row.post_id, row.channel_id, row.post_version,
                          to_rfc3339(due) or "", row.send_token), due


def whole_posts_cut(batch: list[Outgoing], following: Outgoing) -> int:
    """Where to cut a full batch so that no post's messages are split between two batches (a worker batch
    writes a post's outcomes together: sibling_outcomes.py): after the last post that ends in it, or after
    BATCH messages when one post fills it."""
    posts = [message.post_id for message, _due in batch[:BATCH]] + [following[0].post_id]
    return next((cut for cut in range(BATCH, 0, -1) if posts[cut] != posts[cut - 1]), BATCH)


def tick_horizon(now: datetime) -> datetime:
    """How far ahead the tick that runs in `now`'s minute queues: to the end of the next minute."""
    return now.replace(second=0, microsecond=0) + timedelta(minutes=2)


class PublishingEngine:
    def __init__(self, deliveries: DeliveryRepository, posts: PostRepository, channels: Any, queue: PublishQueue,
                 adapters: Callable[[str], NetworkAdapter], media: Any, clock: Clock,
                 sleep: Callable[[float], None] = time.sleep, jitter: Callable[[], float] = random.random,
                 checkpoint: Callable[[str], None] = lambda _step: None, tick_threads: int = 8,
                 budgets: Budgets | None = None, tick_queue: PublishQueue | None = None,
                 timer: Callable[[], float] = time.monotonic) -> None:
        self.deliveries = deliveries
        self.posts = posts
        self.channels = channels
        self.queue = queue
        self.adapters = adapters
        self.media = media
        self.clock = clock
        self.sleep = sleep
        self.jitter = jitter
        # Called between the worker's steps; tests inject crashes through it.
        self.checkpoint = checkpoint
        self.tick_threads = tick_threads
        # The rate budgets (per account, per network) a delivery must have a place in before it is claimed.
        self.budgets = budgets or Budgets(None, adapters, clock)
        # Where the tick function puts its units (one per shard), and how a unit measures its time budget.
        self.tick_queue = tick_queue
        self.timer = timer
        self.tick_page = TICK_PAGE

    # -- the tick ----------------------------------------------------------------

    def publish_due_deliveries(self) -> TickReport:
        now = self.clock.now()
        horizon = tick_horizon(now)
        shards = range(self.deliveries.shards)
        report = TickReport()
        with ThreadPoolExecutor(max_workers=max(1, min(self.tick_threads, len(shards)))) as pool:
            for shard_report in pool.map(lambda s: self._tick_shard(s, horizon), shards):
                report.add(shard_report)
        log.info("Tick: %d queued, %d re-sent, %d recovered, %d unknown, %d late behind waiting messages",
                 report.queued, report.resent, report.recovered, report.marked_unknown, report.waiting)
        return report

    def fan_out_tick(self) -> int:
        """The tick function's whole work: one unit per due shard on the tick queue, each done by a tick
        worker (`run_tick_unit`). Returns how many were sent."""
        assert self.tick_queue is not None
        horizon = to_rfc3339(tick_horizon(self.clock.now())) or ""
        units = [(TickUnit(shard, horizon), 0) for shard in range(self.deliveries.shards)]
        refused = self.tick_queue.send(units)
        if refused:  # this run fails (and alarms); the next minute's tick reads every shard again
            raise RuntimeError(f"SQS refused {len(refused)} of {len(units)} tick units")
        return len(units)

    def run_tick_unit(self, unit: TickUnit) -> TickReport:
        """One shard of a tick, a page at a time, for at most TICK_UNIT_BUDGET_S: what is left of the shard
        goes to a new unit. A unit that dies is delivered again by SQS and starts from its own cursor again;
        a row it marked queued without sending its message is sent again by the sweep when its lease ends."""
        assert self.tick_queue is not None
        started, report = self.timer(), TickReport()
        horizon, cursor = parse_rfc3339(unit.horizon), unit.cursor
        while True:
            cursor = self._tick_page(unit.shard, horizon, cursor, report)
            if cursor is None:
                return report
            if self.timer() - started >= TICK_UNIT_BUDGET_S:
                self.tick_queue.send([(TickUnit(unit.shard, unit.horizon, cursor), 0)])
                report.continued += 1
                return report

    def _tick_shard(self, shard: int, horizon: datetime) -> TickReport:
        """One shard whole, in this process (publish_due_deliveries: tests, tools)."""
        report, cursor = TickReport(), None
        while True:
            cursor = self._tick_page(shard, horizon, cursor, report)
            if cursor is None:
                return report

    def _tick_page(self, shard: int, horizon: datetime, cursor: dict[str, Any] | None,
                   report: TickReport) -> dict[str, Any] | None:
        now = self.clock.now()
        rows, cursor = self.deliveries.due_page(shard, horizon, cursor, self.tick_page)
        outgoing: list[Outgoing] = []
        for row in rows:
            try:
                message = self._act_on_due(row, now, report)
            except LostClaim:
                report.skipped += 1  # a worker or an edit moved it first
                continue
            if message is None:
                continue
            if len(outgoing) >= BATCH:  # sent once full, whole posts only; its delays are counted from then
                cut = whole_posts_cut(outgoing, message)
                self._send_marked(outgoing[:cut], report)
                outgoing = outgoing[cut:]
            outgoing.append(message)
        self._send_marked(outgoing, report)
        return cursor

    def _send_marked(self, outgoing: list[Outgoing], report: TickReport) -> None:
        if outgoing:
            self.checkpoint("tick_marked")  # rows marked, messages not yet sent: tests crash the tick here
        self._send(outgoing, report)

    def _act_on_due(self, row: DeliveryRow, now: datetime, report: TickReport) -> Outgoing | None:
        if row.status == "scheduled" and row.due_at is not None:
            message = self._queue(row, row.due_at, now)[1]  # LostClaim when another unit or the API was first
            report.queued += 1
            return message
        if row.lease_until is None or row.lease_until > now:
            report.skipped += 1
            return None
        if row.status == "queued":  # its message was lost or is late, or its worker died before claiming
            if now - row.lease_until < BACKLOG_GRACE and self._queue_has_waiting_messages(report):
                report.waiting += 1
                return None
            queued = self.deliveries.mark_queued(row, now + QUEUED_GRACE)  # the same send token
            report.resent += 1
            return message_for(queued, now)
        if row.status == "publishing":
            return self._recover_claim(row, now, report)
        return None

    def _queue_has_waiting_messages(self, report: TickReport) -> bool:
        """Read once per tick report (a unit's page run), and only when a late queued delivery asks."""
        if report.queue_waiting is None:
            try:
                report.queue_waiting = self.queue.waiting()
            except Exception:  # unknown: a late message is treated as lost, as with an empty queue
                log.exception("Could not read how many messages wait in the publish queue")
                report.queue_waiting = 0
        return report.queue_waiting > 0

    def _recover_claim(self, row: DeliveryRow, now: datetime,
                       report: TickReport) -> Outgoing | None:
        """A worker claimed it and never reported back: it may have published."""
        adapter = self.adapters(row.network)
        if (adapter.idempotent_publish or can_look(adapter)) and row.attempts < MAX_ATTEMPTS:
            # It may be out: the next claim asks the network before publishing where it is not idempotent, or
            # its idempotency window has passed (docs/publishing.md).
            queued = self.deliveries.expire_claim(row, Outcome("queued", next_due=now, lease_until=now + QUEUED_GRACE,
                                                               look_first=True))
            report.recovered += 1
            return message_for(queued, now)
        self.deliveries.expire_claim(row, Outcome(
            "unknown", last_error="The publishing worker stopped after claiming this delivery; "
                                  f"{row.network} may or may not have published it. Check the channel "
                                  "before publishing again."))
        report.marked_unknown += 1
        return None

    def _queue(self, row: DeliveryRow, due: datetime, now: datetime) -> tuple[DeliveryRow, Outgoing]:
        """scheduled → queued, its lease running until a minute after it is due."""
        queued = self.deliveries.mark_queued(row, max(due, now) + QUEUED_GRACE)
        return queued, message_for(queued, due)

    def _send(self, outgoing: list[Outgoing], report: TickReport) -> None:
        if not outgoing:
            return
        now = self.clock.now()
        try:
            refused = self.queue.send([(message, _delay(due, now)) for message, due in outgoing])
        except Exception as exc:  # the lease brings them back at a later tick
            log.exception("Could not send %d publish messages", len(outgoing))
            report.errors.append(str(exc))
            return
        if refused:
            log.warning("SQS refused %d publish messages; their lease brings them back", len(refused))
            report.errors.append(f"SQS refused {len(refused)} messages; their lease brings them back")

    def queue_due_soon(self, deliveries: list[DeliveryRow]) -> list[DeliveryRow]:
        """Queues at once the deliveries the tick has already looked past: due before
        the horizon of this minute's tick (publish-now included). Returns the
        deliveries as they are now."""
        now = self.clock.now()
        horizon = tick_horizon(now)
        outgoing, rows = [], []
        for row in deliveries:
            if row.status == "scheduled" and row.due_at is not None and row.due_at <= horizon:
                try:
                    row, message = self._queue(row, row.due_at, now)
                    outgoing.append(message)
                except LostClaim:
                    pass  # the tick got there first
            rows.append(row)
        self._send(outgoing, TickReport())
        return rows

    # -- the worker --------------------------------------------------------------

    def sibling_outcomes(self, messages: list[PublishMessage]) -> SiblingOutcomes:
        """For a worker batch published at once: its deliveries of one post write their outcomes together."""
        return SiblingOutcomes(self.deliveries, messages)

    def publish_delivery(self, message: PublishMessage, siblings: SiblingOutcomes | None = None) -> str:
        """Returns what happened, for the log: published, failed, unknown, retrying, processing, deferred
        (its budget was full: the message comes back shortly), early (sent again to come back when due) or
        dropped (not the delivery's live message, or the delivery moved on). `siblings`: the batch's."""
        try:
            return self._publish_delivery(message, siblings)
        finally:
            if siblings is not None:
                siblings.leave(message)

    def _publish_delivery(self, message: PublishMessage, siblings: SiblingOutcomes | None) -> str:
        due = parse_rfc3339(message.due_at)
        wait = (due - self.clock.now()).total_seconds()
        if wait > MAX_EARLY_WAIT_S:  # its claim would be refused: it comes back at its time
            self._send([(message, due)], TickReport())
            return "early"
        if wait > 0:
            self.sleep(wait)
        token = secrets.token_hex(12)
        channel: ChannelRow | None = self.channels.find(message.workspace_id, message.channel_id)
        places = self.budgets.take(channel, token) if channel is not None else []
        if places is None:  # over budget: not an attempt; the delivery stays queued under its lease
            self._send([(message, self.clock.now() + timedelta(seconds=self.budgets.wait_s()))], TickReport())
            log.info("Deferred %s.%s: its rate budget is in use", message.post_id, message.channel_id)
            return "deferred"
        try:
            return self._claim_and_publish(message, channel, token, due, siblings)
        finally:
            self.budgets.give_back(places, token)

    def _claim_and_publish(self, message: PublishMessage, channel: ChannelRow | None, token: str,
                           due: datetime, siblings: SiblingOutcomes | None) -> str:
        probe = DeliveryRow(message.workspace_id, message.post_id, message.channel_id, "", "queued",
                            post_version=message.post_version, send_token=message.send_token)
        now = max(self.clock.now(), due)  # it slept until the message was due (SQS delays are whole seconds)
        try:
            claimed = self.deliveries.claim(probe, token, now + CLAIM_LEASE, now)
        except LostClaim:
            log.info("Dropped a message for %s: edited, canceled or already claimed", probe.delivery_id)
            return "dropped"
        self.checkpoint("claimed")
        read = self.posts.get_with_seq(claimed.workspace_id, claimed.post_id)
        try:
            outcome = self._attempt(claimed, read[0] if read else None, channel, token)
        except LostClaim:
            log.error("Lost the claim on %s while publishing; the sweep decides", claimed.delivery_id)
            return "lost_claim"
        self.checkpoint("attempted")
        try:
            finished = (siblings.finish(message, claimed, token, outcome, read) if siblings is not None
                        else self.deliveries.finish(claimed, token, outcome, read))
        except LostClaim:
            log.error("Lost the claim on %s before writing %s; the sweep decides", claimed.delivery_id,
                      outcome.status)
            return "lost_claim"
        self.checkpoint("finished")
        if outcome.status == "queued" and outcome.next_due is not None:
            self._send([message_for(finished, outcome.next_due)], TickReport())
        said = _said(outcome)
        log.info("Delivery %s to %s: %s", claimed.delivery_id, claimed.network, said)
        return said

    def _attempt(self, delivery: DeliveryRow, post: PostRow | None, channel: ChannelRow | None,
                 token: str) -> Outcome:
        if post is None:
            return Outcome("failed", last_error="The post was deleted.")
        if post.status == "pending_approval":  # the approval guard: never out before approval completes
            return self._awaiting_approval()
        if channel is None:
            return Outcome("failed", last_error="The channel was disconnected before the post went out.")
        if channel.status != "active":
            return Outcome("failed", last_error=f"The channel is {channel.status.replace('_', ' ')}: "
                                                "reconnect it in Herald, then publish again.")
        adapter = self.adapters(channel.network)
        progress = ProgressKeeper(self, delivery, token)
        before = self._before_sending(adapter, delivery)
        if before == "unknown":
            return self._past_window(delivery, adapter)
        looking = before == "look"
        try:
            request = self._request(post, delivery, progress)
            context = self.channels.context_for(channel)
            if looking:
                found = adapter.find_published(context, request)  # type: ignore[attr-defined]
                if found is not None:
                    return _published(found, self.clock.now())
                looking = False
                delivery = replace(delivery, look_first=False)  # certainly absent: this attempt starts afresh
                request = replace(request, progress=progress.current)
            result = adapter.publish(context, request)
        except LostClaim:
            raise
        except StillProcessing as waiting:
            return self._processing(delivery, waiting)
        except NetworkError as error:
            return self._failure(delivery, channel, adapter, error, looking=looking)
        except Exception as error:  # a bug after the request may have gone out: never retry blindly
            log.exception("Unexpected error publishing %s", delivery.delivery_id)
            return self._failure(delivery, channel, adapter, error, looking=looking)
        return _published(result, self.clock.now())

    def _request(self, post: PostRow, delivery: DeliveryRow, progress: ProgressKeeper) -> PublishRequest:
        """The delivery as its adapter sees it (posts.py builds the same one to check the post when it is saved)."""
        return build_request(post, delivery.channel_id, delivery.network, lambda item: self._media_item(post, item),
                             short_links=delivery.short_links,
                             delivery_id=delivery.delivery_id, progress=progress.current,
                             record_progress=progress.record, first_attempt_at=delivery.first_attempt_at)

    def _media_item(self, post: PostRow, item: dict[str, Any]) -> MediaItem:
        if self.media:
            return self.media.item_for(post.workspace_id, item)
        return MediaItem(mime=str(item.get("mime", "")), alt=str(item.get("alt", "")), url=item.get("url"),
                         media_id=item.get("media_id"))

    def _awaiting_approval(self) -> Outcome:
        """A message that reached a post now pending approval (its deliveries normally carry no due time
        then, so none is sent): not an attempt; looked at again later, when the approval may be complete
        (approving rewrites the deliveries and queues them itself)."""
        next_due = self.clock.now() + APPROVAL_RECHECK
        return Outcome("queued", uncount_attempt=True, next_due=next_due, lease_until=next_due + QUEUED_GRACE,
                       last_error="Waiting for approval: not published before its approval is complete")

    def _processing(self, delivery: DeliveryRow, waiting: StillProcessing) -> Outcome:
        """The network is still working on a step: checked again by a delayed message, never by sleeping."""
        now = self.clock.now()
        started = delivery.first_attempt_at or now
        if now - started > MAX_PROCESSING_WAIT:
            hours = MAX_PROCESSING_WAIT.total_seconds() / 3600
            return Outcome("failed", progress=waiting.progress,
                           last_error=f"{delivery.network} was still processing the post {hours:g} hours after "
                                      f"the first attempt ({waiting.message}); Herald stopped waiting.")
        check_after = min(MAX_CHECK_AFTER_S, max(1.0, waiting.check_after_s))
        next_due = now + timedelta(seconds=check_after)
        return Outcome("queued", progress=waiting.progress, uncount_attempt=True, next_due=next_due,
                       lease_until=next_due + QUEUED_GRACE,
                       last_error=f"Waiting for {delivery.network}: {waiting.message}; "
                                  f"checking again at {to_rfc3339(next_due)}")

    def _before_sending(self, adapter: NetworkAdapter, delivery: DeliveryRow) -> str:
        """send, look (ask the network first) or unknown (it may be out and nobody can tell). An earlier attempt
        that may be out (`look_first`) is sent again only where the network still recognises the repeat."""
        if not delivery.look_first:
            return "send"
        if adapter.idempotent_publish and self._inside_window(adapter, delivery):
            return "send"
        return "look" if can_look(adapter) else "unknown"

    def _inside_window(self, adapter: NetworkAdapter, delivery: DeliveryRow) -> bool:
        """The network still knows the first attempt's idempotency key (`idempotency_window`; None: always)."""
        window = idempotency_window(adapter)
        if window is None or delivery.first_attempt_at is None:
            return True
        return self.clock.now() + WINDOW_MARGIN < delivery.first_attempt_at + window

    def _past_window(self, delivery: DeliveryRow, adapter: NetworkAdapter) -> Outcome:
        window = idempotency_window(adapter) or timedelta(0)
        return Outcome("unknown", uncount_attempt=True, last_error=(
            f"An earlier attempt (the first at {to_rfc3339(delivery.first_attempt_at)}) may have reached "
            f"{delivery.network}, which recognises a repeat for {_spoken(window)} only; that has passed and "
            f"{delivery.network} cannot be asked, so Herald did not send it again. Check the channel before "
            "publishing again."))

    def _failure(self, delivery: DeliveryRow, channel: ChannelRow, adapter: NetworkAdapter,
                 error: Exception, *, looking: bool = False) -> Outcome:
        if isinstance(error, AmbiguousError) and not adapter.idempotent_publish and can_look(adapter):
            return self._look_later(delivery, channel, error, looking=looking)
        failure = classify_network_error(error, delivery.attempts, network=channel.network, wording=POST_WORDING,
                                         max_attempts=MAX_ATTEMPTS, resend_is_safe=adapter.idempotent_publish)
        if failure.needs_reauth:
            self.channels.mark_needs_reauth(channel.workspace_id, channel.channel_id)
        # This attempt, or an earlier one not settled since, may be out on the network.
        unsure = delivery.look_first or not isinstance(error, NetworkError) or isinstance(error, AmbiguousError)
        if failure.status == "failed" and unsure:  # never `failed` while it may be visible
            return Outcome("unknown", last_error=f"{failure.message}. An earlier attempt may have reached "
                                                 f"{channel.network}; check the channel before publishing again.")
        if failure.status != "retry":
            return Outcome(failure.status, last_error=failure.message)
        next_due = self._retry_time(delivery, failure.retry_after_s)
        # A look that could not be made (the network busy) is made again: the delivery still may be out.
        return Outcome("queued", last_error=f"{failure.message}; retrying at {to_rfc3339(next_due)}",
                       next_due=next_due, lease_until=next_due + QUEUED_GRACE, look_first=looking or unsure)

    def _look_later(self, delivery: DeliveryRow, channel: ChannelRow, error: AmbiguousError, *,
                    looking: bool) -> Outcome:
        """An attempt whose outcome is unknown on a network that can be asked: ask before sending again.
        When the asking itself cannot tell, a person must look."""
        if looking:
            return Outcome("unknown", last_error=f"{error.message}. {channel.network} cannot tell whether it "
                                                 "published this post; check the channel before publishing again.")
        if delivery.attempts >= MAX_ATTEMPTS:
            return Outcome("unknown", last_error=f"{error.message} (attempt {delivery.attempts} of "
                                                 f"{MAX_ATTEMPTS}). {channel.network} may or may not have "
                                                 "published it; check the channel before publishing again.")
        next_due = self._retry_time(delivery, None)
        return Outcome("queued", look_first=True, next_due=next_due, lease_until=next_due + QUEUED_GRACE,
                       last_error=f"{error.message}; Herald asks {channel.network} at {to_rfc3339(next_due)} "
                                  "whether it was published before trying again")

    def _retry_time(self, delivery: DeliveryRow, retry_after_s: float | None) -> datetime:
        backoff = RETRY_BASE_S * 2 ** (max(1, delivery.attempts) - 1) * (0.8 + 0.4 * self.jitter())
        return self.clock.now() + timedelta(seconds=min(900.0, max(backoff, retry_after_s or 0)))

    def record_progress(self, delivery: DeliveryRow, token: str, progress: Mapping[str, Any]) -> None:
        """An adapter's step, saved before it takes the next (LostClaim when the claim is no longer ours)."""
        self.deliveries.record_progress(delivery, token, progress, self.clock.now() + CLAIM_LEASE)
        self.checkpoint("progress")


class ProgressKeeper:
    """The delivery's progress during one attempt: what earlier attempts recorded, then each step saved."""

    def __init__(self, engine: PublishingEngine, delivery: DeliveryRow, token: str) -> None:
        self.engine = engine
        self.delivery = delivery
        self.token = token
        self.current: dict[str, Any] = dict(delivery.progress)

    def record(self, progress: Mapping[str, Any]) -> None:
        self.engine.record_progress(self.delivery, self.token, progress)
        self.current = dict(progress)


def build_request(post: PostRow, channel_id: str, network: str, media_item: Callable[[dict[str, Any]], MediaItem],
                  short_links: Mapping[str, str] | None = None, **extra: Any) -> PublishRequest:
    """One channel's PublishRequest of a post: its variant's text, media and thread parts (else the post's),
    described, the first comment, and the network's options (`variants[channel].<network>`)."""
    variant = post.variants.get(channel_id) or {}
    text = with_short_links(post.text_for(channel_id), short_links)
    thread = tuple(ThreadPart(text=str(part.get("text") or ""),
                              media=tuple(media_item(item) for item in part.get("media") or []))
                   for part in post.thread_for(channel_id))
    return PublishRequest(delivery_id=extra.pop("delivery_id", f"{post.post_id}.{channel_id}"), text=text,
                          media=tuple(media_item(item) for item in post.media_for(channel_id)), thread=thread,
                          first_comment=post.first_comment, options=dict(variant.get(network) or {}), **extra)


def can_look(adapter: NetworkAdapter) -> bool:
    """The adapter can ask its network whether a delivery is out (LooksBeforeRetry)."""
    return callable(getattr(adapter, "find_published", None))


def idempotency_window(adapter: NetworkAdapter) -> timedelta | None:
    """How long an idempotent network recognises a repeated publish (None: for ever, as Bluesky's record key)."""
    window = getattr(adapter, "idempotency_window", None)
    return window if isinstance(window, timedelta) else None


def _spoken(window: timedelta) -> str:
    minutes = int(window.total_seconds() // 60)
    return f"{minutes // 60} hour{'s' if minutes // 60 != 1 else ''}" if minutes % 60 == 0 else f"{minutes} minutes"


def _said(outcome: Outcome) -> str:
    if outcome.status != "queued":
        return outcome.status
    return "processing" if outcome.uncount_attempt else "retrying"


def _published(result: PublishResult, now: datetime) -> Outcome:
    warnings = tuple(result.warnings)
    return Outcome("published", remote_id=result.remote_id, remote_url=result.remote_url,
                   published_at=result.published_at or now, warnings=warnings,
                   last_error="; ".join(warnings) if warnings else None)


def _delay(due: datetime, now: datetime) -> int:
    """Whole seconds to wait; rounded down, the worker sleeps the rest."""
    return max(0, math.floor((due - now).total_seconds()))
