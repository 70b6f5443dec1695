"""The daily brand consistency check (every workspace with a brand profile)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice import Blueprint, Cron
from chalice.app import CloudWatchEvent

import chalicelib.wiring  # noqa: F401 - registers the services `with_services` hands over
from chalicelib.core.api import with_services

if TYPE_CHECKING:
    from chalicelib.wiring import Container

bp = Blueprint(__name__)


@bp.schedule(Cron(30, 5, "*", "*", "?", "*"), name="brand_consistency")
@with_services
def brand_consistency(event: CloudWatchEvent, deps: Container) -> dict[str, Any]:
    return deps.brand_consistency.check_all()
