"""Appends to and reads the audit log (tables.py has the keys)."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from chalicelib.audit.tables import AuditRecord
from chalicelib.core.pages import decode_cursor, encode_cursor

TABLE_KEYS = ("workspace_id", "entry_key")


@dataclass
class AuditEntry:
    workspace_id: str
    audit_id: str
    at: str
    actor: str
    actor_role: str
    action: str
    object_type: str
    object_id: str | None
    status: int
    source_ip: str
    user_agent: str
    changes: dict[str, Any] = field(default_factory=dict)

    @property
    def entry_key(self) -> str:
        return f"{self.at}#{self.audit_id}"


def _entry(r: AuditRecord) -> AuditEntry:
    audit_id = r.entry_key.rsplit("#", 1)[1]
    return AuditEntry(r.workspace_id, audit_id, r.at, r.actor, r.actor_role, r.action, r.object_type,
                      r.object_id, int(r.status), r.source_ip, r.user_agent, json.loads(r.changes or "{}"))


class AuditRepository:
    def append(self, entry: AuditEntry, expires_at: datetime) -> None:
        record = AuditRecord(
            entry.workspace_id, entry.entry_key, actor_key=f"{entry.workspace_id}#{entry.actor}",
            object_key=f"{entry.workspace_id}#{entry.object_id}" if entry.object_id else None,
            actor=entry.actor, actor_role=entry.actor_role, action=entry.action, object_type=entry.object_type,
            object_id=entry.object_id, status=entry.status, source_ip=entry.source_ip,
            user_agent=entry.user_agent, changes=json.dumps(entry.changes, separators=(",", ":"),
                                                            ensure_ascii=False, default=str),
            at=entry.at, expires_at_epoch=expires_at)
        record.save(condition=AuditRecord.entry_key.does_not_exist())

    def query(self, workspace_id: str, first: str, last: str, *, actor: str | None, object_id: str | None,
              limit: int, cursor: str | None) -> tuple[list[AuditEntry], str | None]:
        """Newest first, `first` <= entry key <= `last`; by the most selective index the filters allow."""
        between = AuditRecord.entry_key.between(first, last)
        if object_id is not None:
            index, hash_key, keys = AuditRecord.by_object, f"{workspace_id}#{object_id}", ("object_key",)
        elif actor is not None:
            index, hash_key, keys = AuditRecord.by_actor, f"{workspace_id}#{actor}", ("actor_key",)
        else:
            index, hash_key, keys = None, workspace_id, ()
        start = decode_cursor(cursor, {"workspace_id": workspace_id}, (*TABLE_KEYS, *keys))
        condition = (AuditRecord.actor == actor) if (object_id is not None and actor is not None) else None
        source = index.query if index is not None else AuditRecord.query
        found = source(hash_key, between, filter_condition=condition, scan_index_forward=False, limit=limit,
                       last_evaluated_key=start)
        rows = [_entry(r) for r in found]
        return rows, encode_cursor(found.last_evaluated_key)
