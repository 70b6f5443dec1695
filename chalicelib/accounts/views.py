"""Workspace and channel rows turned into the contract's shapes."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalicelib.links.settings import link_settings

if TYPE_CHECKING:  # the rows' modules load PynamoDB: only when a handler reads a table
    from chalicelib.accounts.channel_repository import ChannelRow
    from chalicelib.accounts.workspace_repository import WorkspaceRow


def workspace_view(row: WorkspaceRow) -> dict[str, Any]:
    return {"id": row.workspace_id, "name": row.name, "timezone": row.timezone, "created_at": row.created_at,
            "links": link_settings(row.links).model_dump(), "language": row.language}


def channel_view(row: ChannelRow) -> dict[str, Any]:
    return {"id": row.channel_id, "network": row.network, "name": row.name, "handle": row.handle,
            "status": row.status, "settings": row.settings, "created_at": row.created_at,
            "updated_at": row.updated_at, "health": row.health}
