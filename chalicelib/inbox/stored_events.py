"""An inbound event as Herald keeps it: the network's event, the channel it
belongs to, and when it reached Herald.

The same JSON is written to the `webhook_events` table and sent on the
`inbox_events` queue, so a message parked on the dead-letter queue can be
replayed on its own, even after the table's copy has expired.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from chalicelib.core.clock import parse_rfc3339, to_rfc3339
from chalicelib.networks.base import InboundEvent

_EVENT_FIELDS = tuple(f.name for f in fields(InboundEvent))
AGAIN = "again"  # a queued copy's mark: sent again by the ingest path (StoredEvent.to_json)


def queued_again(data: dict[str, Any]) -> bool:
    """Whether a queued stored event (StoredEvent JSON, parsed) was sent again by a repeat delivery."""
    return data.get(AGAIN) is True


@dataclass(frozen=True)
class StoredEvent:
    workspace_id: str
    channel_id: str
    received_at: datetime
    event: InboundEvent

    @property
    def key(self) -> str:
        """One network event for one channel: the dedupe key."""
        return f"{self.workspace_id}#{self.channel_id}#{self.event.event_id}"

    def to_dict(self) -> dict[str, Any]:
        event = {name: getattr(self.event, name) for name in _EVENT_FIELDS}
        event["occurred_at"] = to_rfc3339(self.event.occurred_at)
        event["reply_context"] = dict(self.event.reply_context)
        return {"workspace_id": self.workspace_id, "channel_id": self.channel_id,
                "received_at": to_rfc3339(self.received_at), "event": event}

    def to_json(self, *, with_text: bool = True, again: bool = False) -> str:
        """`again`: queued again by a repeat delivery that found it stored but not yet in its message (the
        first copy is most likely still on the queue): the consumer looks before it writes (`queued_again`)."""
        data = self.to_dict()
        if not with_text:  # a message keeps its event beside its own text
            del data["event"]["text"]
        if again:
            data[AGAIN] = True
        return json.dumps(data, separators=(",", ":"), ensure_ascii=False, default=str)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StoredEvent:
        raw = dict(data["event"])
        raw["occurred_at"] = parse_rfc3339(raw["occurred_at"])
        raw["reply_context"] = dict(raw.get("reply_context") or {})
        event = InboundEvent(**{name: raw[name] for name in _EVENT_FIELDS if name in raw})
        received_at = parse_rfc3339(data["received_at"])
        return cls(str(data["workspace_id"]), str(data["channel_id"]), received_at, event)

    @classmethod
    def from_json(cls, text: str) -> StoredEvent:
        return cls.from_dict(json.loads(text))
