"""The daily channel_health job: every channel checked (accounts/health.py), tokens refreshed ahead."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice import Blueprint, Cron
from chalice.app import CloudWatchEvent

import chalicelib.wiring  # noqa: F401 - registers the services `with_services` hands over
from chalicelib.core.api import with_services

if TYPE_CHECKING:
    from chalicelib.wiring import Container

bp = Blueprint(__name__)


@bp.schedule(Cron(40, 5, "*", "*", "?", "*"), name="channel_health")
@with_services
def channel_health(event: CloudWatchEvent, deps: Container) -> dict[str, Any]:
    return deps.health.run()
