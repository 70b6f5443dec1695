"""The feed reader: every few minutes, the feeds whose next read is due (chalicelib/feeds/feeds.py)."""
from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from chalice import Blueprint, Rate
from chalice.app import CloudWatchEvent

import chalicelib.wiring  # noqa: F401 - registers the services `with_services` hands over
from chalicelib.core.api import with_services

if TYPE_CHECKING:
    from chalicelib.wiring import Container

bp = Blueprint(__name__)


@bp.schedule(Rate(5, unit=Rate.MINUTES), name="fetch_feeds")
@with_services
def fetch_feeds(event: CloudWatchEvent, deps: Container) -> dict[str, Any]:
    """Each feed is read every 15 minutes (longer while it fails); this run finds the ones due."""
    return asdict(deps.feeds.fetch_due())
