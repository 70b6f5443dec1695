"""OAuth connections in progress: one item per `state`, found by the state's SHA-256, moved from step to step
by conditional writes so that a state is used once."""
from __future__ import annotations

from dataclasses import dataclass

from pynamodb.exceptions import DoesNotExist, PutError, UpdateError
from pynamodb.expressions.update import Action

from chalicelib.accounts.tables import ConnectStateRecord


@dataclass
class ConnectState:
    state_hash: str
    workspace_id: str
    started_by: str
    network: str
    redirect_uri: str
    status: str
    created_at: str
    expires_at: str
    expires_at_epoch: int
    verifier_sealed: bytes | None = None
    accounts_sealed: bytes | None = None


class StateTaken(Exception):
    """The state was not in the step the write expected: used already (or by a concurrent request)."""


def _row(r: ConnectStateRecord) -> ConnectState:
    epoch = r.expires_at_epoch
    return ConnectState(r.state_hash, r.workspace_id, r.started_by, r.network, r.redirect_uri, r.status,
                        r.created_at, r.expires_at, int(epoch.timestamp()) if epoch is not None else 0,
                        r.verifier_sealed, r.accounts_sealed)


class ConnectStateRepository:
    def create(self, row: ConnectState) -> None:
        from datetime import UTC, datetime

        record = ConnectStateRecord(
            row.state_hash, workspace_id=row.workspace_id, started_by=row.started_by, network=row.network,
            redirect_uri=row.redirect_uri, status=row.status, verifier_sealed=row.verifier_sealed,
            accounts_sealed=row.accounts_sealed, created_at=row.created_at, expires_at=row.expires_at,
            expires_at_epoch=datetime.fromtimestamp(row.expires_at_epoch, UTC))
        try:
            record.save(condition=ConnectStateRecord.state_hash.does_not_exist())
        except PutError as exc:  # 256 random bits do not collide; a retried request might
            if _lost_the_condition(exc):
                raise StateTaken(row.state_hash) from exc
            raise

    def get(self, state_hash: str) -> ConnectState | None:
        try:
            return _row(ConnectStateRecord.get(state_hash, consistent_read=True))
        except DoesNotExist:
            return None

    def advance(self, state_hash: str, expected: str, status: str, *, accounts_sealed: bytes | None = None,
                expires_at: str | None = None, expires_at_epoch: int | None = None) -> None:
        """Moves the state from `expected` to `status` (raises StateTaken when it was not in `expected`)."""
        from datetime import UTC, datetime

        actions: list[Action] = [ConnectStateRecord.status.set(status)]
        if accounts_sealed is not None:
            actions.append(ConnectStateRecord.accounts_sealed.set(accounts_sealed))
        if expires_at is not None and expires_at_epoch is not None:
            actions += [ConnectStateRecord.expires_at.set(expires_at),
                        ConnectStateRecord.expires_at_epoch.set(datetime.fromtimestamp(expires_at_epoch, UTC))]
        try:
            ConnectStateRecord(state_hash).update(
                actions=actions,
                condition=ConnectStateRecord.state_hash.exists() & (ConnectStateRecord.status == expected))
        except UpdateError as exc:
            if _lost_the_condition(exc):
                raise StateTaken(state_hash) from exc
            raise


def _lost_the_condition(exc: Exception) -> bool:
    return getattr(exc, "cause_response_code", "") == "ConditionalCheckFailedException"
