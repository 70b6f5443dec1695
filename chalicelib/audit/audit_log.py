"""The audit log: every write a key (or, later, a person) made through the API, who, what, when, from where,
and the fields it set (never a secret); read back by time, actor or object, and as CSV."""
from __future__ import annotations

import csv
import io
import json
import time
from datetime import timedelta
from typing import Any

from chalicelib.audit.audit_repository import AuditEntry, AuditRepository
from chalicelib.core.audit_trail import DEFAULT_RETENTION_DAYS, WriteMade
from chalicelib.core.clock import Clock, to_rfc3339
from chalicelib.core.ids import new_id

RETENTION_CACHE_S = 60.0
CSV_COLUMNS = ("at", "actor", "actor_role", "action", "object_type", "object_id", "status", "source_ip",
               "user_agent", "changes")


def object_of(write: WriteMade) -> tuple[str, str | None]:
    """The kind (the route's first segment: `posts`, `channels`...) and id of what the write touched."""
    kind = write.route.strip("/").split("/", 1)[0]
    ids = [value for name, value in write.params.items() if name.endswith("_id")]
    return kind, (ids[0] if ids else write.answer_id)


class AuditLog:
    def __init__(self, repository: AuditRepository, retention_of: Any, clock: Clock) -> None:
        """`retention_of(workspace_id)`: the workspace's retention in days, or None for the default."""
        self.repository = repository
        self.retention_of = retention_of
        self.clock = clock
        self._retention: dict[str, tuple[float, int]] = {}

    def record(self, _deps: Any, write: WriteMade) -> None:
        now = self.clock.now()
        kind, object_id = object_of(write)
        principal = write.principal
        entry = AuditEntry(principal.workspace_id, new_id("au", now), to_rfc3339(now) or "",
                           principal.actor, principal.role, f"{write.method} {write.route}", kind,
                           object_id, write.status, write.source_ip, write.user_agent, write.changes)
        days = self._retention_days(principal.workspace_id)
        self.repository.append(entry, now + timedelta(days=days))

    def retention_days(self, workspace_id: str) -> int:
        return int(self.retention_of(workspace_id) or DEFAULT_RETENTION_DAYS)

    def _retention_days(self, workspace_id: str) -> int:
        cached = self._retention.get(workspace_id)
        if cached is not None and time.monotonic() - cached[0] < RETENTION_CACHE_S:
            return cached[1]
        days = self.retention_of(workspace_id) or DEFAULT_RETENTION_DAYS
        self._retention[workspace_id] = (time.monotonic(), days)
        return int(days)

    def list(self, workspace_id: str, first: str, last: str, actor: str | None, object_id: str | None,
             limit: int, cursor: str | None) -> tuple[list[AuditEntry], str | None]:
        return self.repository.query(workspace_id, first, last + "~", actor=actor, object_id=object_id,
                                     limit=limit, cursor=cursor)

    def csv(self, workspace_id: str, first: str, last: str, actor: str | None, object_id: str | None,
            max_rows: int = 50_000) -> str:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(CSV_COLUMNS)
        cursor: str | None = None
        written = 0
        while written < max_rows:
            rows, cursor = self.list(workspace_id, first, last, actor, object_id, 100, cursor)
            for row in rows:
                writer.writerow([_cell(v) for v in (row.at, row.actor, row.actor_role, row.action,
                                                     row.object_type, row.object_id or "", row.status,
                                                     row.source_ip, row.user_agent,
                                                     json.dumps(row.changes, ensure_ascii=False))])
            written += len(rows)
            if cursor is None:
                break
        return out.getvalue()


def _cell(value: Any) -> str:
    """A cell a spreadsheet shows as text: never a formula (CSV injection)."""
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
