"""The inbox's Lambda functions: the `inbox_events` consumer, the inbox table stream's consumer and the
pollers."""
from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from chalice import Blueprint, Rate
from chalice.app import CloudWatchEvent, DynamoDBEvent, SQSEvent

import chalicelib.wiring  # noqa: F401 - registers the services `with_services` hands over
from chalicelib.core.api import with_services
from chalicelib.core.settings import get_settings

if TYPE_CHECKING:
    from chalicelib.wiring import Container

log = logging.getLogger("herald.jobs")
bp = Blueprint(__name__)


@bp.on_sqs_message(queue=get_settings().queue("inbox_events"), batch_size=10, name="inbox_worker")
@with_services
def inbox_worker(event: SQSEvent, deps: Container) -> dict[str, Any]:
    """Each message on its own: one that fails is delivered again by SQS (then parked on the DLQ). Each event is
    one conditional write of its message; the rest follows from the inbox table's stream (`thread_messages`)."""
    from chalicelib.inbox.inbox_queue import unpack_events
    consumer = deps.inbox_consumer
    failures = []
    for record in event:
        raw = record.to_dict()
        message_id = raw.get("messageId")
        redelivered = str((raw.get("attributes") or {}).get("ApproximateReceiveCount", "1")) != "1"
        try:
            consumer.process_message(unpack_events(record.body), redelivered)
        except Exception:  # a message we cannot read is kept too: it ends on the DLQ, never dropped
            log.exception("Applying inbox message %s failed; SQS will deliver it again", message_id)
            failures.append({"itemIdentifier": message_id})
    return {"batchItemFailures": failures}


# Streams keep a record 24 hours: start from the oldest, so a consumer deployed late still threads everything.
@bp.on_dynamodb_record(stream_arn=get_settings().stream_arn("inbox"), batch_size=100,
                       starting_position="TRIM_HORIZON", name="thread_messages")
@with_services
def thread_messages(event: DynamoDBEvent, deps: Container) -> dict[str, Any]:
    """Threads each event the queue consumer wrote into its conversation, runs listening, counts it once and
    tells webhook endpoints (inbox/event_consumer.py). A record that fails comes back with every one after it."""
    report = deps.inbox_stream_consumer.consume(event.to_dict().get("Records") or [])
    return {"batchItemFailures": [{"itemIdentifier": sequence} for sequence in report.failed[:1]]}


@bp.schedule(Rate(1, unit=Rate.MINUTES), name="poll_inbox")
@with_services
def poll_inbox(event: CloudWatchEvent, deps: Container) -> dict[str, Any]:
    report = deps.inbox_poller.poll_all()
    return {"channels": report.channels, "stored": report.stored, "requeued": report.requeued,
            "duplicates": report.duplicates, "skipped": report.skipped, "failed": report.failed}


@bp.schedule(Rate(15, unit=Rate.MINUTES), name="search_listening")
@with_services
def search_listening(event: CloudWatchEvent, deps: Container) -> dict[str, Any]:
    """Listening rules with `search: true`, searched on Bluesky, Mastodon and X (inbox/listening_search.py)."""
    report = deps.listening_searcher.search_all()
    return {"rules": report.rules, "searches": report.searches, "mentions": report.mentions,
            "refused": report.refused, "failed": report.failed}
