"""Writes the route decorator cannot record itself (the route has no workspace principal: accepting an
invitation, an agency making a client workspace): the same audit hook, the person named as the actor."""
from __future__ import annotations

import logging
from typing import Any

from chalicelib.core.api import Call
from chalicelib.core.audit_trail import WriteMade, record_write, redacted
from chalicelib.core.principal import Principal

log = logging.getLogger("herald.people.audit")


def record_as(call: Call[Any], workspace_id: str, actor: str, role: str, action: str, changes: dict[str, Any],
              answer_id: str | None) -> None:
    method, _, route_path = action.partition(" ")
    user_id = actor.removeprefix("user:")
    principal = Principal(workspace_id, role, "", user_id=user_id, auth="user")
    forwarded = call.headers.get("x-forwarded-for", "").split(",")[0].strip()
    try:
        record_write(call.deps, WriteMade(principal, method, route_path, {}, redacted(changes), 200, forwarded,
                                          call.headers.get("user-agent", "")[:300], answer_id))
    except Exception:  # as the route decorator: a log that cannot be written does not undo the write
        log.exception("AUDIT LOG WRITE FAILED for %s by %s", action, actor)
