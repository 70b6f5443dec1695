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
from chalicelib.publishing.publish_queue import BATCH, PublishMessage, PublishQueue

log = logging.getLogger("herald.publishing")

Outgoing = tuple[PublishMessage, datetime]

MAX_ATTEMPTS = 5
RETRY_BASE_S = 15.0
# A queued delivery's message should have been handled this long after it was due;
# if it was not and the queue is idle, the message was lost and is sent again.
QUEUED_GRACE = timedelta(seconds=60)
# While the queue holds messages, a late one is most likely waiting behind them, and
# a copy would only join the same line: sent again only this long after its lease.
BACKLOG_GRACE = timedelta(minutes=15)
# Longer than the worker function's timeout, so a live worker never loses its claim.
CLAIM_LEASE = timedelta(seconds=120)
# A message that arrives early (SQS delays are whole seconds) waits at most this long.
MAX_EARLY_WAIT_S = 15.0
# A network still processing (a Meta container, a video) is asked again at most this far apart, and waited
# for this long after the first attempt before the delivery fails.
MAX_CHECK_AFTER_S = 300.0
MAX_PROCESSING_WAIT = timedelta(hours=2)


@dataclass
class TickReport:
    queued: int = 0
    resent: int = 0
    recovered: int = 0
    marked_unknown: int = 0
    skipped: int = 0
    waiting: int = 0  # queued past their lease, left alone because the queue has a backlog
    errors: list[str] = field(default_factory=list)

    def add(self, other: TickReport) -> None:
        for name in ("queued", "resent", "recovered", "marked_unknown", "skipped", "waiting"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.errors += other.errors


def message_for(row: DeliveryRow, due: datetime) -> Outgoing:
    """A message and the moment it is due: its delay is worked out when it is sent."""
    return PublishMessage(row.workspace_id, row.post_id, row.channel_id, row.post_version,
                          to_rfc3339(due) or ""), due


def tick_horizon(now: datetime) -> datetime:
    """How far ahead the tick that runs in `now`'s minute queues: to the end of the next minute."""
    return now.replace(second=0, microsecond=0) + timedelta(minutes=2)


class PublishingEngine:
    def __init__(self, deliveries: DeliveryRepository, posts: PostRepository, channels: Any, queue: PublishQueue,
                 adapters: Callable[[str], NetworkAdapter], media: Any, clock: Clock,
                 sleep: Callable[[float], None] = time.sleep, jitter: Callable[[], float] = random.random,
                 checkpoint: Callable[[str], None] = lambda _step: None, tick_threads: int = 8,
                 budgets: Budgets | None = None) -> None:
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

    # -- the tick ----------------------------------------------------------------

    def publish_due_deliveries(self) -> TickReport:
        now = self.clock.now()
        horizon = tick_horizon(now)
        backlog = self._queue_backlog()
        shards = range(self.deliveries.shards)
        report = TickReport()
        with ThreadPoolExecutor(max_workers=max(1, min(self.tick_threads, len(shards)))) as pool:
            for shard_report in pool.map(lambda s: self._tick_shard(s, now, horizon, backlog), shards):
                report.add(shard_report)
        log.info("Tick: %d queued, %d re-sent, %d recovered, %d unknown, %d waiting behind a backlog of %s",
                 report.queued, report.resent, report.recovered, report.marked_unknown, report.waiting, backlog)
        return report

    def _queue_backlog(self) -> int | None:
        try:
            return self.queue.backlog()
        except Exception:  # unknown: treat late messages as lost, as without a backlog
            log.exception("Could not read the publish queue's backlog")
            return None

    def _tick_shard(self, shard: int, now: datetime, horizon: datetime, backlog: int | None) -> TickReport:
        report, outgoing = TickReport(), []
        for row in self.deliveries.due(shard, horizon):
            try:
                message = self._act_on_due(row, now, backlog, report)
            except LostClaim:
                report.skipped += 1  # a worker or an edit moved it first
                continue
            if message is not None:
                outgoing.append(message)
            if len(outgoing) >= BATCH:  # sent as soon as a batch is full: its delays are counted from then
                self._send(outgoing, report)
                outgoing = []
        self._send(outgoing, report)
        return report

    def _act_on_due(self, row: DeliveryRow, now: datetime, backlog: int | None,
                    report: TickReport) -> Outgoing | None:
        if row.status == "scheduled" and row.due_at is not None:
            report.queued += 1
            return self._queue(row, row.due_at, now)[1]
        if row.lease_until is None or row.lease_until > now:
            report.skipped += 1
            return None
        if row.status == "queued":  # its message was lost, or its worker died before claiming
            if backlog and now - row.lease_until < BACKLOG_GRACE:
                report.waiting += 1
                return None
            self.deliveries.mark_queued(row, now + QUEUED_GRACE)
            report.resent += 1
            return message_for(row, now)
        if row.status == "publishing":
            return self._recover_claim(row, now, report)
        return None

    def _recover_claim(self, row: DeliveryRow, now: datetime,
                       report: TickReport) -> Outgoing | None:
        """A worker claimed it and never reported back: it may have published."""
        adapter = self.adapters(row.network)
        if adapter.idempotent_publish and row.attempts < MAX_ATTEMPTS:
            self.deliveries.expire_claim(row, Outcome("queued", next_due=now, lease_until=now + QUEUED_GRACE))
            report.recovered += 1
            return message_for(row, now)
        if callable(getattr(adapter, "find_published", None)) and row.attempts < MAX_ATTEMPTS:
            # It may be out: the next claim asks the network before publishing (docs/publishing.md).
            self.deliveries.expire_claim(row, Outcome("queued", next_due=now, lease_until=now + QUEUED_GRACE,
                                                      look_first=True))
            report.recovered += 1
            return message_for(row, now)
        self.deliveries.expire_claim(row, Outcome(
            "unknown", last_error="The publishing worker stopped after claiming this delivery; "
                                  f"{row.network} may or may not have published it. Check the channel "
                                  "before publishing again."))
        report.marked_unknown += 1
        return None

    def _queue(self, row: DeliveryRow, due: datetime, now: datetime) -> tuple[DeliveryRow, Outgoing]:
        """scheduled → queued, its lease running until a minute after it is due."""
        queued = self.deliveries.mark_queued(row, max(due, now) + QUEUED_GRACE)
        return queued, message_for(row, due)

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

    def publish_delivery(self, message: PublishMessage) -> str:
        """Returns what happened, for the log: published, failed, unknown, retrying, processing, deferred
        (its budget was full: the message comes back shortly) or dropped."""
        wait = (parse_rfc3339(message.due_at) - self.clock.now()).total_seconds()
        if 0 < wait <= MAX_EARLY_WAIT_S:
            self.sleep(wait)
        token = secrets.token_hex(12)
        channel: ChannelRow | None = self.channels.find(message.workspace_id, message.channel_id)
        places = self.budgets.take(channel, token) if channel is not None else []
        if places is None:  # over budget: not an attempt; the delivery stays queued under its lease
            self._send([(message, self.clock.now() + timedelta(seconds=self.budgets.wait_s()))], TickReport())
            log.info("Deferred %s.%s: its rate budget is in use", message.post_id, message.channel_id)
            return "deferred"
        try:
            return self._claim_and_publish(message, channel, token)
        finally:
            self.budgets.give_back(places, token)

    def _claim_and_publish(self, message: PublishMessage, channel: ChannelRow | None, token: str) -> str:
        probe = DeliveryRow(message.workspace_id, message.post_id, message.channel_id, "", "queued",
                            post_version=message.post_version)
        try:
            claimed = self.deliveries.claim(probe, token, self.clock.now() + CLAIM_LEASE)
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
            self.deliveries.finish(claimed, token, outcome, read)
        except LostClaim:
            log.error("Lost the claim on %s before writing %s; the sweep decides", claimed.delivery_id,
                      outcome.status)
            return "lost_claim"
        self.checkpoint("finished")
        if outcome.status == "queued" and outcome.next_due is not None:
            self._send([message_for(claimed, outcome.next_due)], TickReport())
        said = _said(outcome)
        log.info("Delivery %s to %s: %s", claimed.delivery_id, claimed.network, said)
        return said

    def _attempt(self, delivery: DeliveryRow, post: PostRow | None, channel: ChannelRow | None,
                 token: str) -> Outcome:
        if post is None:
            return Outcome("failed", last_error="The post was deleted.")
        if channel is None:
            return Outcome("failed", last_error="The channel was disconnected before the post went out.")
        if channel.status != "active":
            return Outcome("failed", last_error=f"The channel is {channel.status.replace('_', ' ')}: "
                                                "reconnect it in Herald, then publish again.")
        adapter = self.adapters(channel.network)
        progress = ProgressKeeper(self, delivery, token)
        looking = delivery.look_first and callable(getattr(adapter, "find_published", None))
        try:
            request = self._request(post, delivery, progress)
            context = self.channels.context_for(channel)
            if looking:
                found = adapter.find_published(context, request)  # type: ignore[attr-defined]
                if found is not None:
                    return _published(found, self.clock.now())
                looking = False
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
                             delivery_id=delivery.delivery_id, progress=progress.current,
                             record_progress=progress.record, first_attempt_at=delivery.first_attempt_at)

    def _media_item(self, post: PostRow, item: dict[str, Any]) -> MediaItem:
        if self.media:
            return self.media.item_for(post.workspace_id, item)
        return MediaItem(mime=str(item.get("mime", "")), alt=str(item.get("alt", "")), url=item.get("url"),
                         media_id=item.get("media_id"))

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

    def _failure(self, delivery: DeliveryRow, channel: ChannelRow, adapter: NetworkAdapter,
                 error: Exception, *, looking: bool = False) -> Outcome:
        if isinstance(error, AmbiguousError) and not adapter.idempotent_publish \
                and callable(getattr(adapter, "find_published", None)):
            return self._look_later(delivery, channel, error, looking=looking)
        failure = classify_network_error(error, delivery.attempts, network=channel.network, wording=POST_WORDING,
                                         max_attempts=MAX_ATTEMPTS, resend_is_safe=adapter.idempotent_publish)
        if failure.needs_reauth:
            self.channels.mark_needs_reauth(channel.workspace_id, channel.channel_id)
        if failure.status != "retry":
            return Outcome(failure.status, last_error=failure.message)
        next_due = self._retry_time(delivery, failure.retry_after_s)
        # A look that could not be made (the network busy) is made again: the delivery still may be out.
        return Outcome("queued", last_error=f"{failure.message}; retrying at {to_rfc3339(next_due)}",
                       next_due=next_due, lease_until=next_due + QUEUED_GRACE, look_first=looking)

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
                  **extra: Any) -> PublishRequest:
    """One channel's PublishRequest of a post: its variant's text and media, the media and thread parts described,
    the first comment, and the network's options (`variants[channel].<network>`)."""
    variant = post.variants.get(channel_id) or {}
    text = post.text_for(channel_id)
    thread = tuple(ThreadPart(text=str(part.get("text") or ""),
                              media=tuple(media_item(item) for item in part.get("media") or []))
                   for part in post.thread)
    return PublishRequest(delivery_id=extra.pop("delivery_id", f"{post.post_id}.{channel_id}"), text=text,
                          media=tuple(media_item(item) for item in post.media_for(channel_id)), thread=thread,
                          first_comment=post.first_comment, options=dict(variant.get(network) or {}), **extra)


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
