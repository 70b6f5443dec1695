"""What the built-in sandbox network received. It is a network of its own, so it
keeps every request, duplicates included, with the time it arrived."""
from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from chalicelib.core.pages import decode_cursor, encode_cursor
from chalicelib.publishing.post_repository import key_time
from chalicelib.publishing.tables import SandboxPostRecord

ATTEMPTS_KEY = "~attempts"


@dataclass
class SandboxReceipt:
    delivery_id: str
    text: str
    received_at: str
    remote_id: str
    kind: str = "post"
    in_reply_to: str | None = None
    media: list[dict[str, Any]] = field(default_factory=list)


class SandboxStore:
    def record(self, workspace_id: str, channel_id: str, *, delivery_id: str, text: str,
               received_at: datetime, media: list[dict[str, Any]], kind: str = "post",
               in_reply_to: str | None = None) -> str:
        remote_id = f"sbx_{secrets.token_hex(8)}"
        SandboxPostRecord(
            f"{workspace_id}#{channel_id}", f"{key_time(received_at)}#{remote_id}",
            delivery_id=delivery_id, text=text, received_at=key_time(received_at), remote_id=remote_id,
            media=media, kind=kind, in_reply_to=in_reply_to,
        ).save()
        return remote_id

    def count_attempt(self, workspace_id: str, channel_id: str) -> int:
        """Counts publish attempts per channel, atomically, for `fail_times`."""
        item = SandboxPostRecord(f"{workspace_id}#{channel_id}", ATTEMPTS_KEY)
        item.update(actions=[SandboxPostRecord.attempts.add(1)])
        return int(item.attempts)

    def newest_post(self, workspace_id: str, channel_id: str) -> str | None:
        """The remote id of the newest post the channel received (replies left out), or None."""
        for record in SandboxPostRecord.query(f"{workspace_id}#{channel_id}",
                                              SandboxPostRecord.received_key < ATTEMPTS_KEY,
                                              scan_index_forward=False, page_size=25, consistent_read=True):
            if record.kind == "post" and record.remote_id:
                return str(record.remote_id)
        return None

    def list(self, workspace_id: str, channel_id: str, limit: int,
             cursor: str | None) -> tuple[list[SandboxReceipt], str | None]:
        channel_key = f"{workspace_id}#{channel_id}"
        result = SandboxPostRecord.query(
            channel_key, SandboxPostRecord.received_key < ATTEMPTS_KEY, limit=limit,
            last_evaluated_key=decode_cursor(cursor, {"channel_key": channel_key}, ("channel_key", "received_key")),
            consistent_read=True,
        )
        items = [SandboxReceipt(r.delivery_id, r.text, r.received_at, r.remote_id, r.kind, r.in_reply_to,
                                [m.as_dict() if hasattr(m, "as_dict") else dict(m) for m in (r.media or [])])
                 for r in result]
        return items, encode_cursor(result.last_evaluated_key)
