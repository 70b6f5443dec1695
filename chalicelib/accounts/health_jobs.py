"""The daily channel_health job: every channel checked (accounts/health.py), tokens refreshed ahead."""
from __future__ import annotations

from typing import Any

from chalice import Blueprint, Cron
from chalice.app import CloudWatchEvent

bp = Blueprint(__name__)


@bp.schedule(Cron(40, 5, "*", "*", "?", "*"), name="channel_health")
def channel_health(event: CloudWatchEvent) -> dict[str, Any]:
    from chalicelib.wiring import container

    return container().health.run()
