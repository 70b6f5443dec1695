"""The publishing engine's outcomes, counted and announced off the publish path.

The posts table's stream (chalicelib/publishing/outcome_records.py reads it) feeds this consumer: the
`count_outcomes` Lambda on AWS, the local stack's stream poller, the same handler. For each delivery that
reached a final status it adds to the channel's day counter (and puts a published post's own item), and
tells subscribed webhook endpoints `delivery.unknown`; for each post that reached a final status,
`post.published` or `post.failed`.

A stream delivers a record at least once (a failed batch is retried whole, a poller may read a record
again), so both are idempotent: a count commits with a marker put on condition that it is new
(MetricsRepository.add_once), and each webhook event has its own event key (WebhookEmitter.emit).
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Protocol

from chalicelib.core.clock import Clock, local_day, to_rfc3339
from chalicelib.metrics.metric_repository import MetricsRepository, delivery_counts
from chalicelib.publishing.outcome_records import DeliveryFinished, PostFinished, finished
from chalicelib.publishing.post_repository import DeliveryRow, PostRow

log = logging.getLogger("herald.outcome_consumer")

# How long a counted marker is kept: past the stream's 24 hours of retention, with room.
COUNTED_KEPT_FOR = timedelta(days=7)

# (workspace_id, post_id) -> the post and its deliveries, or None when it is gone
PostReader = Callable[[str, str], tuple[PostRow, list[DeliveryRow]] | None]


class Emitter(Protocol):  # the part of outbound_webhooks.sending.WebhookEmitter used here
    def emit(self, workspace_id: str, event_type: str, data: dict[str, Any],
             event_key: str | None = None) -> str | None: ...


@dataclass
class OutcomeReport:
    counted: int = 0
    repeated: int = 0  # outcomes counted before (a record delivered again)
    announced: int = 0
    failed: list[str] = field(default_factory=list)  # sequence numbers of records to deliver again


class OutcomeConsumer:
    def __init__(self, metrics: MetricsRepository, read_post: PostReader, emitter: Emitter, clock: Clock) -> None:
        self.metrics = metrics
        self.read_post = read_post
        self.emitter = emitter
        self.clock = clock

    def consume(self, records: Iterable[Mapping[str, Any]]) -> OutcomeReport:
        """Every record of one batch, in order. The first that fails stops the batch: it and those after it
        are reported failed (a stream is read in order, so Lambda starts again from the first failed one)."""
        report = OutcomeReport()
        remaining = list(records)
        for index, record in enumerate(remaining):
            try:
                self.apply(record, report)
            except Exception:
                log.exception("Counting stream record %s failed; it is delivered again", _sequence(record))
                report.failed = [_sequence(r) for r in remaining[index:]]
                break
        return report

    def apply(self, record: Mapping[str, Any], report: OutcomeReport) -> None:
        outcome = finished(record)
        if isinstance(outcome, DeliveryFinished):
            self._delivery(outcome, report)
        elif isinstance(outcome, PostFinished):
            self._post(outcome, report)

    def _delivery(self, outcome: DeliveryFinished, report: OutcomeReport) -> None:
        read = self.read_post(outcome.workspace_id, outcome.post_id)
        post = read[0] if read else None
        increments, appends = delivery_counts(
            outcome.status, post_id=outcome.post_id, remote_id=outcome.remote_id, remote_url=outcome.remote_url,
            published_at=outcome.published_at, publish_at=outcome.publish_at,
            text=post.text_for(outcome.channel_id) if post else "")
        moment = outcome.published_at or outcome.finished_at or self.clock.now()
        day = local_day(moment, (post.timezone if post else None) or "UTC")
        if increments and not self.metrics.add_once(outcome.once_key, self.clock.now() + COUNTED_KEPT_FOR,
                                                    outcome.workspace_id, outcome.channel_id, day,
                                                    increments, appends):
            report.repeated += 1
        elif increments:
            report.counted += 1
        if outcome.status == "unknown":
            self._announce(report, outcome.workspace_id, "delivery.unknown", {
                "post_id": outcome.post_id, "channel_id": outcome.channel_id, "network": outcome.network,
                "status": "unknown", "last_error": outcome.last_error,
                "finished_at": to_rfc3339(outcome.finished_at)}, outcome.once_key)

    def _post(self, outcome: PostFinished, report: OutcomeReport) -> None:
        read = self.read_post(outcome.workspace_id, outcome.post_id)
        if read is None:
            return
        post, deliveries = read
        event_type = "post.published" if outcome.status == "published" else "post.failed"
        self._announce(report, outcome.workspace_id, event_type, {
            "post_id": post.post_id, "status": outcome.status, "publish_at": to_rfc3339(post.publish_at),
            "deliveries": [_delivery_data(d) for d in deliveries]}, outcome.once_key)

    def _announce(self, report: OutcomeReport, workspace_id: str, event_type: str, data: dict[str, Any],
                  once_key: str) -> None:
        if self.emitter.emit(workspace_id, event_type, data, event_key=once_key):
            report.announced += 1


def _delivery_data(delivery: DeliveryRow) -> dict[str, Any]:
    return {"channel_id": delivery.channel_id, "network": delivery.network, "status": delivery.status,
            "remote_id": delivery.remote_id, "remote_url": delivery.remote_url,
            "published_at": to_rfc3339(delivery.published_at), "last_error": delivery.last_error}


def _sequence(record: Mapping[str, Any]) -> str:
    return str((record.get("dynamodb") or {}).get("SequenceNumber", ""))


