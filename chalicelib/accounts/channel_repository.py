"""Connected channels, per workspace; also found by their network account id."""
from __future__ import annotations

import builtins
import contextlib
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


def _row(r: ChannelRecord) -> ChannelRow:
    settings = r.settings.as_dict() if hasattr(r.settings, "as_dict") else dict(r.settings or {})
    return ChannelRow(r.workspace_id, r.channel_id, r.network, r.name, r.status, r.created_at,
                      r.updated_at, r.handle, settings, r.credentials_sealed, r.account_key)


def poll_key(network: str) -> str | None:
    spec = get_spec(network)
    return f"poll#{network}" if spec is not None and spec.polls_inbox else None


def _record(row: ChannelRow) -> ChannelRecord:
    return ChannelRecord(
        row.workspace_id, row.channel_id, network=row.network, name=row.name, status=row.status,
        handle=row.handle, settings=row.settings, credentials_sealed=row.credentials_sealed,
        account_key=row.account_key, poll_key=poll_key(row.network), created_at=row.created_at,
        updated_at=row.updated_at,
    )


class ChannelRepository:
    def create(self, row: ChannelRow) -> None:
        _record(row).save(condition=ChannelRecord.channel_id.does_not_exist())

    def get(self, workspace_id: str, channel_id: str) -> ChannelRow | None:
        try:
            return _row(ChannelRecord.get(workspace_id, channel_id))
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

    def list_all(self, workspace_id: str) -> builtins.list[ChannelRow]:
        return [_row(r) for r in ChannelRecord.query(workspace_id)]

    def save(self, row: ChannelRow) -> None:
        _record(row).save(condition=ChannelRecord.channel_id.exists())

    def set_status(self, workspace_id: str, channel_id: str, status: str, updated_at: str) -> None:
        with contextlib.suppress(UpdateError):  # the channel was deleted meanwhile
            ChannelRecord(workspace_id, channel_id).update(
                actions=[ChannelRecord.status.set(status), ChannelRecord.updated_at.set(updated_at)],
                condition=ChannelRecord.channel_id.exists(),
            )

    def set_credentials(self, workspace_id: str, channel_id: str, sealed: bytes, updated_at: str) -> None:
        ChannelRecord(workspace_id, channel_id).update(
            actions=[ChannelRecord.credentials_sealed.set(sealed), ChannelRecord.updated_at.set(updated_at)],
            condition=ChannelRecord.channel_id.exists(),
        )

    def delete(self, workspace_id: str, channel_id: str) -> None:
        ChannelRecord(workspace_id, channel_id).delete()

    def find_by_account(self, network: str, account_id: str) -> builtins.list[ChannelRow]:
        return [_row(r) for r in ChannelRecord.by_account.query(f"{network}#{account_id}")]

    def pollable(self, network: str) -> builtins.list[ChannelRow]:
        """Every channel of a network the inbox poller reads, through the sparse `pollable` index."""
        key = poll_key(network)
        return [_row(r) for r in ChannelRecord.pollable.query(key)] if key else []
