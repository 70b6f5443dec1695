"""The daily ads job: Meta campaigns' results read, every live campaign's pacing checked (ads_sync.py)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice import Blueprint, Cron
from chalice.app import CloudWatchEvent

import chalicelib.wiring  # noqa: F401 - registers the services `with_services` hands over
from chalicelib.core.api import with_services

if TYPE_CHECKING:
    from chalicelib.wiring import Container

bp = Blueprint(__name__)


# 07:15 UTC: yesterday has ended in every zone from UTC-7 eastwards; Meta's figures of a day settle later,
# so each run reads the last days again (ads_sync.REREAD_DAYS).
@bp.schedule(Cron(15, 7, "*", "*", "?", "*"), name="ads_daily")
@with_services
def ads_daily(event: CloudWatchEvent, deps: Container) -> dict[str, Any]:
    return deps.ads_sync.run()
