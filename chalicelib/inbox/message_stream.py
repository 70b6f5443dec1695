"""The inbox table's stream, read as the stored events the queue consumer wrote into messages.

DynamoDB Streams (view NEW_AND_OLD_IMAGES) hands the inbox's stream consumer every change of the inbox
table; this module is the only code that knows what those images hold. A change is a written event when a
message item's `events` set gained a key: its `last_event` (StoredEvent JSON without the text) is that
event, and the message's text is its text. Conversations, replies being sent and a sent reply's own
message (no `events`) are not: the reply path threads those itself.
"""
from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from chalicelib.inbox.conversation_repository import MESSAGE_SK
from chalicelib.inbox.stored_events import StoredEvent

Image = Mapping[str, Mapping[str, Any]]


@dataclass(frozen=True)
class WrittenEvent:
    stored: StoredEvent
    conversation_id: str


def _keys(image: Image) -> set[str]:
    return set((image.get("events") or {}).get("SS") or [])


def _text(image: Image, name: str) -> str:
    return str((image.get(name) or {}).get("S") or "")


def written_event(record: Mapping[str, Any]) -> WrittenEvent | None:
    """The event this stream record wrote into a message, or None when it wrote none."""
    if record.get("eventName") not in ("INSERT", "MODIFY"):
        return None
    change = record.get("dynamodb") or {}
    if not _text(change.get("Keys") or {}, "sk").startswith(MESSAGE_SK):
        return None
    new: Image = change.get("NewImage") or {}
    added = _keys(new) - _keys(change.get("OldImage") or {})
    last = _text(new, "last_event")
    if not added or not last:
        return None
    data = json.loads(last)
    data["event"]["text"] = _text(new, "text")
    stored = StoredEvent.from_dict(data)
    if stored.key not in added:  # never written so: the key and the record are set in one update
        return None
    return WrittenEvent(stored, _text(new, "conversation_id"))
