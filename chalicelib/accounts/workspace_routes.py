"""The workspace: its name and time zone."""
from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib.accounts.schemas import Workspace, WorkspacePatch
from chalicelib.accounts.views import workspace_view
from chalicelib.core.api import Call, route
from chalicelib.wiring import Container

bp = Blueprint(__name__)
TAG = "workspace"


@route(bp, "/workspace", "GET", summary="Read the workspace", tag=TAG, response=Workspace)
def get_workspace(call: Call[Container]) -> dict[str, Any]:
    return workspace_view(call.deps.access.get_workspace(call.workspace_id))


@route(bp, "/workspace", "PATCH", summary="Rename or change the time zone", tag=TAG, role="admin",
       body=WorkspacePatch, response=Workspace)
def update_workspace(call: Call[Container]) -> dict[str, Any]:
    body: WorkspacePatch = call.body
    row = call.deps.access.update_workspace(call.workspace_id, name=body.name, timezone=body.timezone,
                                            audit_retention_days=body.audit_retention_days, links=body.links,
                                            language=body.language)
    return workspace_view(row)
