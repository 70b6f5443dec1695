"""The inbox's Lambda functions: the `inbox_events` consumer and the pollers."""
from __future__ import annotations

import logging
from typing import Any

from chalice import Blueprint, Rate
from chalice.app import CloudWatchEvent, SQSEvent

from chalicelib.core.settings import get_settings

log = logging.getLogger("herald.jobs")
bp = Blueprint(__name__)


@bp.on_sqs_message(queue=get_settings().queue("inbox_events"), batch_size=10, name="inbox_worker")
def inbox_worker(event: SQSEvent) -> dict[str, Any]:
    """Each message on its own: one that fails is delivered again by SQS (then parked on the DLQ)."""
    from chalicelib.inbox.inbox_queue import unpack_events
    from chalicelib.inbox.stored_events import StoredEvent
    from chalicelib.wiring import container

    consumer = container().inbox_consumer
    failures = []
    for record in event:
        message_id = record.to_dict().get("messageId")
        try:
            consumer.process([StoredEvent.from_dict(item) for item in unpack_events(record.body)])
        except Exception:  # a message we cannot read is kept too: it ends on the DLQ, never dropped
            log.exception("Applying inbox message %s failed; SQS will deliver it again", message_id)
            failures.append({"itemIdentifier": message_id})
    return {"batchItemFailures": failures}


@bp.schedule(Rate(1, unit=Rate.MINUTES), name="poll_inbox")
def poll_inbox(event: CloudWatchEvent) -> dict[str, Any]:
    from chalicelib.wiring import container

    report = container().inbox_poller.poll_all()
    return {"channels": report.channels, "stored": report.stored, "requeued": report.requeued,
            "duplicates": report.duplicates, "skipped": report.skipped, "failed": report.failed}
