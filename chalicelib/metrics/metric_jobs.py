"""The nightly metrics roll-up.

It runs every hour at :15 (UTC) because a local day ends at a different hour in
every time zone; each run rolls up the workspaces whose previous local day has
ended since, so each workspace is rolled up once a night, shortly after its
midnight. `detail.date` (from `cli run-job nightly-metrics --date`) re-runs one day.
"""
from __future__ import annotations

import logging
from datetime import date
from typing import Any

from chalice import Blueprint, Cron
from chalice.app import CloudWatchEvent

log = logging.getLogger("herald.jobs")
bp = Blueprint(__name__)


@bp.schedule(Cron(15, "*", "*", "*", "?", "*"), name="nightly_metrics")
def nightly_metrics(event: CloudWatchEvent) -> dict[str, Any]:
    from chalicelib.wiring import container

    wanted = (event.detail or {}).get("date")
    day = date.fromisoformat(wanted) if wanted else None
    return container().rollup.run(day).as_dict()
