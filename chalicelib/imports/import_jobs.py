"""The import worker: one chunk of one import per message (chalicelib/imports/imports.py)."""
from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from chalice import Blueprint
from chalice.app import SQSEvent

import chalicelib.wiring  # noqa: F401 - registers the services `with_services` hands over
from chalicelib.core.api import with_services
from chalicelib.core.settings import get_settings

if TYPE_CHECKING:
    from chalicelib.wiring import Container

log = logging.getLogger("herald.jobs")
bp = Blueprint(__name__)


@bp.on_sqs_message(queue=get_settings().queue("post_imports"), batch_size=1, name="import_worker")
@with_services
def import_worker(event: SQSEvent, deps: Container) -> dict[str, Any]:
    """A failure of Herald's own (not a bad row, which is a result) fails the message: SQS delivers it again
    and the chunk is worked again from the import's saved progress."""
    from chalicelib.imports.import_queue import parse_step

    failures = []
    for record in event:
        message_id = record.to_dict().get("messageId")
        try:
            deps.imports.run_step(*parse_step(record.body))
        except Exception:
            log.exception("Import step %s failed; SQS will deliver it again", message_id)
            failures.append({"itemIdentifier": message_id})
    return {"batchItemFailures": failures}
