"""The outbound webhooks' Lambda functions: the sender (one attempt per message) and the sweeper."""
from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from chalice import Blueprint, Rate
from chalice.app import CloudWatchEvent, SQSEvent

import chalicelib.wiring  # noqa: F401 - registers the services `with_services` hands over
from chalicelib.core.api import with_services
from chalicelib.core.settings import get_settings

if TYPE_CHECKING:
    from chalicelib.wiring import Container

log = logging.getLogger("herald.jobs")
bp = Blueprint(__name__)


@bp.on_sqs_message(queue=get_settings().queue("webhook_deliveries"), batch_size=10, name="webhook_sender")
@with_services
def webhook_sender(event: SQSEvent, deps: Container) -> dict[str, Any]:
    """An endpoint's failure is an outcome recorded on the delivery, not a failed message; a message fails
    (and SQS delivers it again) only when Herald itself could not record what happened."""
    from chalicelib.outbound_webhooks.delivery_queue import AttemptMessage
    sender = deps.webhook_sender
    failures = []
    for record in event:
        message_id = record.to_dict().get("messageId")
        try:
            sender.attempt(AttemptMessage.from_json(record.body))
        except Exception:
            log.exception("Webhook attempt %s failed; SQS will deliver it again", message_id)
            failures.append({"itemIdentifier": message_id})
    return {"batchItemFailures": failures}


@bp.schedule(Rate(1, unit=Rate.MINUTES), name="sweep_webhook_deliveries")
@with_services
def sweep_webhook_deliveries(event: CloudWatchEvent, deps: Container) -> dict[str, Any]:
    return {"queued": deps.webhook_sender.sweep()}
