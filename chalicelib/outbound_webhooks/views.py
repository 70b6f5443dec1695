"""Endpoints and deliveries as the API shows them: never a secret, except once when made or rotated."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from chalicelib.outbound_webhooks.endpoint_repository import Delivery, Endpoint


def endpoint_view(row: Endpoint) -> dict[str, Any]:
    return {"id": row.endpoint_id, "url": row.url, "events": row.events, "description": row.description,
            "status": row.status, "disabled_reason": row.disabled_reason, "failing_since": row.failing_since,
            "created_at": row.created_at, "updated_at": row.updated_at}


def delivery_view(row: Delivery) -> dict[str, Any]:
    pending = row.status == "pending"
    return {"id": row.message_id, "event_type": row.event_type, "status": row.status, "attempts": row.attempts,
            "created_at": row.created_at, "last_attempt_at": row.last_attempt_at,
            "next_attempt_at": row.next_attempt_at if pending else None,
            "response_status": row.response_status, "last_error": row.last_error}
