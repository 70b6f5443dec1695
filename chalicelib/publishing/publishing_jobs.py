"""The publishing engine's two Lambda functions."""
from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from chalice import Blueprint, Rate
from chalice.app import CloudWatchEvent, SQSEvent, SQSRecord

import chalicelib.wiring  # noqa: F401 - registers the services `with_services` hands over
from chalicelib.core.api import with_services
from chalicelib.core.settings import get_settings

if TYPE_CHECKING:
    from chalicelib.publishing.engine import PublishingEngine
    from chalicelib.publishing.publish_queue import PublishMessage
    from chalicelib.publishing.sibling_outcomes import SiblingOutcomes
    from chalicelib.wiring import Container

log = logging.getLogger("herald.jobs")
bp = Blueprint(__name__)


@bp.schedule(Rate(1, unit=Rate.MINUTES), name="tick")
@with_services
def tick(event: CloudWatchEvent, deps: Container) -> dict[str, Any]:
    """Every minute: one unit per due shard on the tick queue; the tick workers do the shards at once."""
    return {"units": deps.engine.fan_out_tick()}


@bp.on_sqs_message(queue=get_settings().queue("tick"), batch_size=1, name="tick_worker")
@with_services
def tick_worker(event: SQSEvent, deps: Container) -> dict[str, Any]:
    """One shard of a tick (or what a unit before it left of one). A unit that fails comes back after the
    queue's visibility timeout; doing it again is harmless (every write is conditional)."""
    from chalicelib.publishing.publish_queue import TickUnit

    failed = []
    for record in event:
        try:
            unit = TickUnit.parse(record.body)
        except (ValueError, KeyError, TypeError):
            log.error("Dropped a malformed tick unit %s", record.to_dict().get("messageId"))
            continue
        try:
            report = deps.engine.run_tick_unit(unit)
        except Exception:
            log.exception("Tick unit for shard %d failed; SQS will deliver it again", unit.shard)
            failed.append(record.to_dict().get("messageId"))
            continue
        log.info("Tick shard %d: %d queued, %d re-sent, %d recovered, %d unknown, %d late behind waiting messages%s",
                 unit.shard, report.queued, report.resent, report.recovered, report.marked_unknown, report.waiting,
                 ", continued" if report.continued else "")
    return {"batchItemFailures": [{"itemIdentifier": message_id} for message_id in failed if message_id]}


@bp.on_sqs_message(queue=get_settings().queue("publish"), batch_size=10, name="publish_worker")
@with_services
def publish_worker(event: SQSEvent, deps: Container) -> dict[str, Any]:
    """The records of a batch at once: each is due now (within a second), and one
    waiting for another's network call would go out late. A post's deliveries in the
    batch write their outcomes together (publishing/sibling_outcomes.py). A record that
    fails is retried by SQS; the rest are done."""
    from concurrent.futures import ThreadPoolExecutor

    engine = deps.engine
    work: list[tuple[str | None, PublishMessage]] = []
    for record in event:
        message = parse_record(record)
        if message is not None:
            work.append((record.to_dict().get("messageId"), message))
    siblings = engine.sibling_outcomes([message for _id, message in work])

    def publish(item: tuple[str | None, PublishMessage]) -> str | None:
        return publish_record(engine, item[0], item[1], siblings)

    if len(work) == 1:
        failed = [publish(work[0])]
    else:
        with ThreadPoolExecutor(max_workers=max(1, len(work))) as pool:
            failed = list(pool.map(publish, work))
    return {"batchItemFailures": [{"itemIdentifier": message_id} for message_id in failed if message_id]}


def parse_record(record: SQSRecord) -> PublishMessage | None:
    from chalicelib.publishing.publish_queue import PublishMessage

    try:
        return PublishMessage.parse(record.body)
    except (ValueError, KeyError, TypeError):
        log.error("Dropped a malformed publish message %s", record.to_dict().get("messageId"))
        return None


def publish_record(engine: PublishingEngine, message_id: str | None, message: PublishMessage,
                   siblings: SiblingOutcomes | None = None) -> str | None:
    """Publishes one record's delivery; returns its message id if SQS should deliver it again."""
    try:
        engine.publish_delivery(message, siblings)
    except Exception:
        log.exception("Publishing %s.%s failed; SQS will deliver it again", message.post_id, message.channel_id)
        return message_id
    return None
