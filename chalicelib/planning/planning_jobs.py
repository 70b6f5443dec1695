"""The daily plan_ahead job: recurring series made 60 days ahead, evergreen posts copied into the queue."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice import Blueprint, Cron
from chalice.app import CloudWatchEvent

import chalicelib.wiring  # noqa: F401 - registers the services `with_services` hands over
from chalicelib.core.api import with_services

if TYPE_CHECKING:
    from chalicelib.wiring import Container

bp = Blueprint(__name__)


@bp.schedule(Cron(20, 4, "*", "*", "?", "*"), name="plan_ahead")
@with_services
def plan_ahead(event: CloudWatchEvent, deps: Container) -> dict[str, Any]:
    return deps.series.run()
