"""The publishing engine's two Lambda functions."""
from __future__ import annotations

import logging
from typing import Any

from chalice import Blueprint, Rate
from chalice.app import CloudWatchEvent, SQSEvent

from chalicelib.settings import get_settings

log = logging.getLogger("herald.jobs")
bp = Blueprint(__name__)


@bp.schedule(Rate(1, unit=Rate.MINUTES), name="tick")
def tick(event: CloudWatchEvent) -> dict[str, Any]:
    from chalicelib.deps import container

    report = container().engine.publish_due_deliveries()
    return {"queued": report.queued, "resent": report.resent, "recovered": report.recovered,
            "marked_unknown": report.marked_unknown, "errors": report.errors}


@bp.on_sqs_message(queue=get_settings().queue("publish"), batch_size=10, name="publish_worker")
def publish_worker(event: SQSEvent) -> dict[str, Any]:
    """Each record on its own: one that fails is retried by SQS, the rest are done."""
    from chalicelib.deps import container
    from chalicelib.queues import PublishMessage

    engine = container().engine
    failures = []
    for record in event:
        try:
            message = PublishMessage.parse(record.body)
        except (ValueError, KeyError, TypeError):
            log.error("Dropped a malformed publish message %s", record.to_dict().get("messageId"))
            continue
        try:
            engine.publish_delivery(message)
        except Exception:
            log.exception("Publishing %s.%s failed; SQS will deliver it again", message.post_id,
                          message.channel_id)
            failures.append({"itemIdentifier": record.to_dict()["messageId"]})
    return {"batchItemFailures": failures}
