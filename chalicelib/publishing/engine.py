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
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from chalicelib.accounts.channel_repository import ChannelRow
from chalicelib.core.clock import Clock, parse_rfc3339, to_rfc3339
from chalicelib.networks.base import MediaItem, NetworkAdapter, NetworkError, PublishRequest, PublishResult
from chalicelib.networks.failures import POST_WORDING, classify_network_error
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
                 checkpoint: Callable[[str], None] = lambda _step: None, tick_threads: int = 8) -> None:
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
        """Returns what happened, for the log: published, failed, unknown, retrying or dropped."""
        wait = (parse_rfc3339(message.due_at) - self.clock.now()).total_seconds()
        if 0 < wait <= MAX_EARLY_WAIT_S:
            self.sleep(wait)
        token = secrets.token_hex(12)
        probe = DeliveryRow(message.workspace_id, message.post_id, message.channel_id, "", "queued",
                            post_version=message.post_version)
        try:
            claimed = self.deliveries.claim(probe, token, self.clock.now() + CLAIM_LEASE)
        except LostClaim:
            log.info("Dropped a message for %s: edited, canceled or already claimed", probe.delivery_id)
            return "dropped"
        self.checkpoint("claimed")
        read = self.posts.get_with_seq(claimed.workspace_id, claimed.post_id)
        outcome = self._attempt(claimed, read[0] if read else None)
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
        log.info("Delivery %s to %s: %s", claimed.delivery_id, claimed.network,
                 "retrying" if outcome.status == "queued" else outcome.status)
        return "retrying" if outcome.status == "queued" else outcome.status

    def _attempt(self, delivery: DeliveryRow, post: PostRow | None) -> Outcome:
        channel: ChannelRow | None = self.channels.find(delivery.workspace_id, delivery.channel_id)
        if post is None:
            return Outcome("failed", last_error="The post was deleted.")
        if channel is None:
            return Outcome("failed", last_error="The channel was disconnected before the post went out.")
        if channel.status != "active":
            return Outcome("failed", last_error=f"The channel is {channel.status.replace('_', ' ')}: "
                                                "reconnect it in Herald, then publish again.")
        adapter = self.adapters(channel.network)
        try:
            request = self._request(post, delivery)
            result = adapter.publish(self.channels.context_for(channel), request)
        except NetworkError as error:
            return self._failure(delivery, channel, adapter, error)
        except Exception as error:  # a bug after the request may have gone out: never retry blindly
            log.exception("Unexpected error publishing %s", delivery.delivery_id)
            return self._failure(delivery, channel, adapter, error)
        return _published(result, self.clock.now())

    def _request(self, post: PostRow, delivery: DeliveryRow) -> PublishRequest:
        media = tuple(self.media.item_for(post.workspace_id, item) for item in post.media) if self.media else tuple(
            MediaItem(mime=str(item.get("mime", "")), alt=str(item.get("alt", "")), url=item.get("url"),
                      media_id=item.get("media_id")) for item in post.media)
        return PublishRequest(delivery_id=delivery.delivery_id, text=post.text_for(delivery.channel_id), media=media)

    def _failure(self, delivery: DeliveryRow, channel: ChannelRow, adapter: NetworkAdapter,
                 error: Exception) -> Outcome:
        failure = classify_network_error(error, delivery.attempts, network=channel.network, wording=POST_WORDING,
                                         max_attempts=MAX_ATTEMPTS, resend_is_safe=adapter.idempotent_publish)
        if failure.needs_reauth:
            self.channels.mark_needs_reauth(channel.workspace_id, channel.channel_id)
        if failure.status != "retry":
            return Outcome(failure.status, last_error=failure.message)
        backoff = RETRY_BASE_S * 2 ** (delivery.attempts - 1) * (0.8 + 0.4 * self.jitter())
        next_due = self.clock.now() + timedelta(seconds=min(900.0, max(backoff, failure.retry_after_s or 0)))
        return Outcome("queued", last_error=f"{failure.message}; retrying at {to_rfc3339(next_due)}",
                       next_due=next_due, lease_until=next_due + QUEUED_GRACE)


def _published(result: PublishResult, now: datetime) -> Outcome:
    return Outcome("published", remote_id=result.remote_id, remote_url=result.remote_url,
                   published_at=result.published_at or now)


def _delay(due: datetime, now: datetime) -> int:
    """Whole seconds to wait; rounded down, the worker sleeps the rest."""
    return max(0, math.floor((due - now).total_seconds()))
