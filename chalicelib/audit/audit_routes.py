"""`GET /audit`: the workspace's audit log, newest first, or as CSV."""
from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from chalice import Blueprint, Response

from chalicelib.audit.schemas import AuditPage, AuditQuery
from chalicelib.core.api import Call, route
from chalicelib.core.clock import to_rfc3339
from chalicelib.core.errors import ValidationFailed

if TYPE_CHECKING:
    from chalicelib.audit.audit_repository import AuditEntry
    from chalicelib.wiring import Container

bp = Blueprint(__name__)


def entry_view(row: AuditEntry) -> dict[str, Any]:
    return {"id": row.audit_id, "at": row.at, "actor": row.actor, "actor_role": row.actor_role,
            "action": row.action, "object_type": row.object_type, "object_id": row.object_id,
            "status": row.status, "source_ip": row.source_ip, "user_agent": row.user_agent,
            "changes": row.changes}


@route(bp, "/audit", "GET", summary="Every write made in the workspace: who, what, when, from where",
       tag="audit", role="admin", query=AuditQuery, response=AuditPage, also_serves=("text/csv",))
def list_audit(call: Call[Container]) -> Any:
    q: AuditQuery = call.query
    now = call.deps.clock.now()
    last = q.to or now
    first = q.from_ or (last - timedelta(days=30))
    if first > last:
        raise ValidationFailed.field("from", "must be before `to`")
    bounds = (to_rfc3339(first) or "", to_rfc3339(last) or "")
    audit = call.deps.audit_log
    if q.format == "csv":
        body = audit.csv(call.workspace_id, *bounds, q.actor, q.object)
        return Response(body=body, status_code=200, headers={
            "Content-Type": "text/csv; charset=utf-8",
            "Content-Disposition": f'attachment; filename="audit-{call.workspace_id}.csv"'})
    rows, cursor = audit.list(call.workspace_id, *bounds, q.actor, q.object, q.limit, q.cursor)
    return {"items": [entry_view(r) for r in rows], "next_cursor": cursor,
            "retention_days": audit.retention_days(call.workspace_id)}
