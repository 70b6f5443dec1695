"""The nightly metrics roll-up, and the counter consumer of the posts table's stream.

It runs every hour at :15 (UTC) because a local day ends at a different hour in
every time zone; each run rolls up the workspaces whose previous local day has
ended since, so each workspace is rolled up once a night, shortly after its
midnight. `detail.date` (from `cli run-job nightly-metrics --date`) re-runs one day.
"""
from __future__ import annotations

import logging
from datetime import date
from typing import TYPE_CHECKING, Any

from chalice import Blueprint, Cron
from chalice.app import CloudWatchEvent, DynamoDBEvent

import chalicelib.wiring  # noqa: F401 - registers the services `with_services` hands over
from chalicelib.core.api import with_services
from chalicelib.core.settings import get_settings

if TYPE_CHECKING:
    from chalicelib.wiring import Container

log = logging.getLogger("herald.jobs")
bp = Blueprint(__name__)


@bp.schedule(Cron(15, "*", "*", "*", "?", "*"), name="nightly_metrics")
@with_services
def nightly_metrics(event: CloudWatchEvent, deps: Container) -> dict[str, Any]:
    wanted = (event.detail or {}).get("date")
    day = date.fromisoformat(wanted) if wanted else None
    return deps.rollup.run(day).as_dict()


# Streams keep a record 24 hours: start from the oldest, so a consumer deployed late still counts everything.
@bp.on_dynamodb_record(stream_arn=get_settings().stream_arn("posts"), batch_size=100,
                       starting_position="TRIM_HORIZON", name="count_outcomes")
@with_services
def count_outcomes(event: DynamoDBEvent, deps: Container) -> dict[str, Any]:
    """Counts each final delivery outcome once and tells webhook endpoints (metrics/outcome_consumer.py).
    A record that fails comes back with every one after it (ReportBatchItemFailures, by sequence number)."""
    report = deps.outcome_consumer.consume(event.to_dict().get("Records") or [])
    return {"batchItemFailures": [{"itemIdentifier": sequence} for sequence in report.failed[:1]]}
