"""API keys, stored as a hash of their secret and found by their key id."""
from __future__ import annotations

from dataclasses import dataclass

from pynamodb.exceptions import DoesNotExist

from chalicelib.accounts.tables import ApiKeyRecord


@dataclass
class ApiKeyRow:
    key_id: str
    workspace_id: str
    secret_hash: str
    role: str
    created_at: str
    name: str | None = None
    revoked_at: str | None = None


def _row(r: ApiKeyRecord) -> ApiKeyRow:
    return ApiKeyRow(r.key_id, r.workspace_id, r.secret_hash, r.role, r.created_at, r.name, r.revoked_at)


class ApiKeyRepository:
    def create(self, row: ApiKeyRow) -> None:
        ApiKeyRecord(row.key_id, workspace_id=row.workspace_id, secret_hash=row.secret_hash,
                     role=row.role, name=row.name, created_at=row.created_at,
                     ).save(condition=ApiKeyRecord.key_id.does_not_exist())

    def get(self, key_id: str) -> ApiKeyRow | None:
        try:
            return _row(ApiKeyRecord.get(key_id))
        except DoesNotExist:
            return None

    def list_for_workspace(self, workspace_id: str) -> list[ApiKeyRow]:
        return [_row(r) for r in ApiKeyRecord.by_workspace.query(workspace_id)]

    def revoke(self, workspace_id: str, key_id: str, revoked_at: str) -> bool:
        from pynamodb.exceptions import UpdateError

        try:
            ApiKeyRecord(key_id).update(
                actions=[ApiKeyRecord.revoked_at.set(revoked_at)],
                condition=(ApiKeyRecord.workspace_id == workspace_id),
            )
        except UpdateError:
            return False
        return True
