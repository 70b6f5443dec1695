"""Rows turned into the contract's shapes."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalicelib.core.clock import to_rfc3339
from chalicelib.publishing.post_status import derive_post_status

if TYPE_CHECKING:  # the rows' modules load PynamoDB: only when a handler reads a table
    from chalicelib.publishing.post_repository import DeliveryRow, PostRow


def delivery_view(row: DeliveryRow) -> dict[str, Any]:
    return {"channel_id": row.channel_id, "network": row.network, "status": row.status,
            "remote_id": row.remote_id, "remote_url": row.remote_url, "attempts": row.attempts,
            "last_error": row.last_error, "published_at": to_rfc3339(row.published_at),
            "due_at": to_rfc3339(row.due_at) if row.status == "scheduled" else None,
            "at_risk": _at_risk(row), "risk": row.at_risk if _at_risk(row) else None}


def _at_risk(row: DeliveryRow) -> bool:
    return bool(row.at_risk) and row.status in ("scheduled", "queued")


def post_view(post: PostRow, deliveries: list[DeliveryRow]) -> dict[str, Any]:
    return {
        "id": post.post_id,
        "status": derive_post_status(post.status, [d.status for d in deliveries]),
        "text": post.text,
        "publish_at": to_rfc3339(post.publish_at),
        "channel_ids": post.channel_ids,
        "variants": post.variants,
        "media": post.media,
        "deliveries": [delivery_view(d) for d in deliveries],
        "created_at": to_rfc3339(post.created_at),
        "updated_at": to_rfc3339(post.updated_at),
        "version": post.version,
        "at_risk": any(_at_risk(d) for d in deliveries),
    }
