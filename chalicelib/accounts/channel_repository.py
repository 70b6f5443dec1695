"""Connected channels, per workspace; also found by their network account id."""
from __future__ import annotations

import contextlib
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from pynamodb.exceptions import DoesNotExist, UpdateError

from chalicelib.accounts.tables import ChannelRecord
from chalicelib.core.pages import decode_cursor, encode_cursor
from chalicelib.networks.registry import get_spec


@dataclass
class ChannelRow:
    workspace_id: str
    channel_id: str
    network: str
    name: str
    status: str
    created_at: str
    updated_at: str
    handle: str | None = None
    settings: dict[str, Any] = field(default_factory=dict)
    credentials_sealed: bytes | None = None
    account_key: str | None = None
    token_expires_at: str | None = None
    grant_expires_at: str | None = None
    token_version: int = 0
    health: dict[str, Any] | None = None
    grant_key: str | None = None
    # Read only (never written back by a save): a worker's claim on a token refresh lasts until then.
    refresh_lease_until: str | None = None


HEALTH_SHARDS = 4  # the daily health job queries `by_health` once per shard


def _plain(value: Any) -> dict[str, Any]:
    return value.as_dict() if hasattr(value, "as_dict") else dict(value or {})


def _row(r: ChannelRecord) -> ChannelRow:
    return ChannelRow(r.workspace_id, r.channel_id, r.network, r.name, r.status, r.created_at,
                      r.updated_at, r.handle, _plain(r.settings), r.credentials_sealed, r.account_key,
                      r.token_expires_at, r.grant_expires_at, int(r.token_version or 0),
                      _plain(r.health) if r.health is not None else None, r.grant_key,
                      r.refresh_lease_until)


def health_key(channel_id: str) -> str:
    return f"health#{zlib.crc32(channel_id.encode()) % HEALTH_SHARDS}"


def poll_key(network: str) -> str | None:
    spec = get_spec(network)
    return f"poll#{network}" if spec is not None and spec.polls_inbox else None


def _record(row: ChannelRow) -> ChannelRecord:
    return ChannelRecord(
        row.workspace_id, row.channel_id, network=row.network, name=row.name, status=row.status,
        handle=row.handle, settings=row.settings, credentials_sealed=row.credentials_sealed,
        account_key=row.account_key, poll_key=poll_key(row.network), created_at=row.created_at,
        updated_at=row.updated_at, token_expires_at=row.token_expires_at, grant_expires_at=row.grant_expires_at,
        token_version=row.token_version, health=row.health, health_key=health_key(row.channel_id),
        grant_key=row.grant_key,
    )


class ChannelRepository:
    def create(self, row: ChannelRow) -> None:
        _record(row).save(condition=ChannelRecord.channel_id.does_not_exist())

    def get(self, workspace_id: str, channel_id: str, *, consistent: bool = False) -> ChannelRow | None:
        try:
            return _row(ChannelRecord.get(workspace_id, channel_id, consistent_read=consistent))
        except DoesNotExist:
            return None

    def get_many(self, workspace_id: str, channel_ids: list[str]) -> dict[str, ChannelRow]:
        keys = [(workspace_id, cid) for cid in dict.fromkeys(channel_ids)]
        return {r.channel_id: _row(r) for r in ChannelRecord.batch_get(keys)}

    def list(self, workspace_id: str, limit: int, cursor: str | None) -> tuple[list[ChannelRow], str | None]:
        start = decode_cursor(cursor, {"workspace_id": workspace_id}, ("workspace_id", "channel_id"))
        result = ChannelRecord.query(workspace_id, limit=limit, last_evaluated_key=start)
        rows = [_row(r) for r in result]
        return rows, encode_cursor(result.last_evaluated_key)

    def list_all(self, workspace_id: str) -> list[ChannelRow]:
        return [_row(r) for r in ChannelRecord.query(workspace_id)]

    def save(self, row: ChannelRow) -> None:
        _record(row).save(condition=ChannelRecord.channel_id.exists())

    def set_status(self, workspace_id: str, channel_id: str, status: str, updated_at: str,
                   health: dict[str, Any] | None = None) -> None:
        actions: list[Any] = [ChannelRecord.status.set(status), ChannelRecord.updated_at.set(updated_at)]
        if health is not None:
            actions.append(ChannelRecord.health.set(health))
        with contextlib.suppress(UpdateError):  # the channel was deleted meanwhile
            ChannelRecord(workspace_id, channel_id).update(
                actions=actions, condition=ChannelRecord.channel_id.exists(),
            )

    def set_health(self, workspace_id: str, channel_id: str, health: dict[str, Any]) -> None:
        with contextlib.suppress(UpdateError):
            ChannelRecord(workspace_id, channel_id).update(
                actions=[ChannelRecord.health.set(health)], condition=ChannelRecord.channel_id.exists())

    # -- the atomic token refresh (accounts/tokens.py) ------------------------------------------------

    def claim_refresh(self, workspace_id: str, channel_id: str, version: int, claim: str, until: str,
                      now: str) -> bool:
        """Takes the right to refresh the token at `version`: only if nobody refreshed it since and no other
        worker holds an unexpired claim."""
        try:
            ChannelRecord(workspace_id, channel_id).update(
                actions=[ChannelRecord.refresh_claim.set(claim), ChannelRecord.refresh_lease_until.set(until)],
                condition=ChannelRecord.channel_id.exists() & (ChannelRecord.token_version == version)
                & (ChannelRecord.refresh_lease_until.does_not_exist() | (ChannelRecord.refresh_lease_until < now)),
            )
        except UpdateError:
            return False
        return True

    def store_refreshed(self, workspace_id: str, channel_id: str, version: int, claim: str, sealed: bytes,
                        token_expires_at: str | None, grant_expires_at: str | None, updated_at: str) -> bool:
        """Writes the refreshed credentials as `version + 1`, only while the claim is still ours."""
        actions: list[Any] = [
            ChannelRecord.credentials_sealed.set(sealed), ChannelRecord.token_version.set(version + 1),
            ChannelRecord.updated_at.set(updated_at), ChannelRecord.refresh_claim.remove(),
            ChannelRecord.refresh_lease_until.remove(),
            ChannelRecord.token_expires_at.set(token_expires_at) if token_expires_at
            else ChannelRecord.token_expires_at.remove(),
            ChannelRecord.grant_expires_at.set(grant_expires_at) if grant_expires_at
            else ChannelRecord.grant_expires_at.remove(),
        ]
        try:
            ChannelRecord(workspace_id, channel_id).update(
                actions=actions,
                condition=(ChannelRecord.token_version == version) & (ChannelRecord.refresh_claim == claim))
        except UpdateError:
            return False
        return True

    def release_refresh(self, workspace_id: str, channel_id: str, claim: str) -> None:
        with contextlib.suppress(UpdateError):
            ChannelRecord(workspace_id, channel_id).update(
                actions=[ChannelRecord.refresh_claim.remove(), ChannelRecord.refresh_lease_until.remove()],
                condition=ChannelRecord.refresh_claim == claim)

    def set_credentials(self, workspace_id: str, channel_id: str, sealed: bytes, updated_at: str) -> None:
        ChannelRecord(workspace_id, channel_id).update(
            actions=[ChannelRecord.credentials_sealed.set(sealed), ChannelRecord.updated_at.set(updated_at)],
            condition=ChannelRecord.channel_id.exists(),
        )

    def delete(self, workspace_id: str, channel_id: str) -> None:
        ChannelRecord(workspace_id, channel_id).delete()

    def find_by_account(self, network: str, account_id: str) -> list[ChannelRow]:
        return [_row(r) for r in ChannelRecord.by_account.query(f"{network}#{account_id}")]

    def find_by_grant(self, grant_key: str) -> list[ChannelRow]:
        return [_row(r) for r in ChannelRecord.by_grant.query(grant_key)]

    def in_health_shard(self, shard: int) -> Iterator[ChannelRow]:
        """Every channel of one shard of `by_health` (the daily health job reads them all, shard by shard)."""
        for record in ChannelRecord.by_health.query(f"health#{shard}"):
            yield _row(record)

    def pollable(self, network: str) -> list[ChannelRow]:
        """Every channel of a network the inbox poller reads, through the sparse `pollable` index."""
        key = poll_key(network)
        return [_row(r) for r in ChannelRecord.pollable.query(key)] if key else []
