"""Workspaces and their calendar-feed token."""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from pynamodb.exceptions import DoesNotExist
from pynamodb.expressions.update import Action

from chalicelib.accounts.tables import WorkspaceRecord


@dataclass
class WorkspaceRow:
    workspace_id: str
    name: str
    timezone: str
    created_at: str
    feed_token_id: str | None = None
    feed_token_sealed: bytes | None = None
    audit_retention_days: int | None = None
    agency_id: str | None = None
    links: dict[str, Any] | None = None
    language: str | None = None


def _row(record: WorkspaceRecord) -> WorkspaceRow:
    return WorkspaceRow(record.workspace_id, record.name, record.timezone, record.created_at,
                        record.feed_token_id, record.feed_token_sealed,
                        int(record.audit_retention_days) if record.audit_retention_days is not None else None,
                        record.agency_id, json.loads(record.links) if record.links else None, record.language)


class WorkspaceRepository:
    def create(self, row: WorkspaceRow) -> None:
        WorkspaceRecord(
            row.workspace_id, name=row.name, timezone=row.timezone, created_at=row.created_at,
            agency_id=row.agency_id,
        ).save(condition=WorkspaceRecord.workspace_id.does_not_exist())

    def get(self, workspace_id: str) -> WorkspaceRow | None:
        try:
            return _row(WorkspaceRecord.get(workspace_id))
        except DoesNotExist:
            return None

    def update(self, workspace_id: str, *, name: str | None = None, timezone: str | None = None,
               audit_retention_days: int | None = None, links: dict[str, Any] | None = None,
               language: str | None = None) -> None:
        actions: list[Action] = []
        if links is not None:
            actions.append(WorkspaceRecord.links.set(json.dumps(links, separators=(",", ":"))))
        if language is not None:
            actions.append(WorkspaceRecord.language.set(language))
        if audit_retention_days is not None:
            actions.append(WorkspaceRecord.audit_retention_days.set(audit_retention_days))
        if name is not None:
            actions.append(WorkspaceRecord.name.set(name))
        if timezone is not None:
            actions.append(WorkspaceRecord.timezone.set(timezone))
        if actions:
            WorkspaceRecord(workspace_id).update(
                actions=actions, condition=WorkspaceRecord.workspace_id.exists())

    def set_feed_token(self, workspace_id: str, token_id: str, sealed: bytes) -> None:
        self._update_feed_token(workspace_id, [WorkspaceRecord.feed_token_id.set(token_id),
                                               WorkspaceRecord.feed_token_sealed.set(sealed)])

    def clear_feed_token(self, workspace_id: str) -> None:
        self._update_feed_token(workspace_id, [WorkspaceRecord.feed_token_id.remove(),
                                               WorkspaceRecord.feed_token_sealed.remove()])

    @staticmethod
    def _update_feed_token(workspace_id: str, actions: list[Action]) -> None:
        WorkspaceRecord(workspace_id).update(actions=actions, condition=WorkspaceRecord.workspace_id.exists())

    def find_by_feed_token(self, token_id: str) -> WorkspaceRow | None:
        for record in WorkspaceRecord.by_feed_token.query(token_id, limit=1):
            return _row(record)
        return None

    def of_agency(self, agency_id: str) -> list[WorkspaceRow]:
        """An agency's client workspaces, in id order (one Query on `by_agency`)."""
        return [_row(record) for record in WorkspaceRecord.by_agency.query(agency_id)]
