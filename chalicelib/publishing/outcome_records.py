"""The posts table's stream, read as the engine's final outcomes.

DynamoDB Streams (view NEW_AND_OLD_IMAGES) hands the counter consumer every change of the posts table;
this module is the only code that knows what those images hold. A change is an outcome when an existing
item moved into a final status: a delivery that became published, failed or unknown, or a post that became
published, partially published or failed. Inserts never are (a post is never made final; a table restored
into the local stack inserts its items again), nor is a write that leaves the status as it was.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from chalicelib.publishing.post_repository import DELIVERY_SK, POST_SK, UNDATED

DELIVERY_OUTCOMES = ("published", "failed", "unknown")
POST_OUTCOMES = ("published", "partially_published", "failed")

Image = Mapping[str, Mapping[str, Any]]


@dataclass(frozen=True)
class DeliveryFinished:
    workspace_id: str
    post_id: str
    channel_id: str
    network: str
    status: str
    post_version: int
    publish_at: datetime | None
    published_at: datetime | None
    finished_at: datetime | None
    remote_id: str | None
    remote_url: str | None
    last_error: str | None

    @property
    def delivery_id(self) -> str:
        return f"{self.post_id}.{self.channel_id}"

    @property
    def once_key(self) -> str:
        """One per delivery reaching this status at this version of its post: the same stream record
        delivered twice has it, and so has no other change (an edit makes a new version)."""
        return f"{self.delivery_id}#{self.status}#v{self.post_version}"


@dataclass(frozen=True)
class PostFinished:
    workspace_id: str
    post_id: str
    status: str
    version: int

    @property
    def once_key(self) -> str:
        return f"{self.post_id}#v{self.version}"


Finished = DeliveryFinished | PostFinished


def _text(image: Image, name: str) -> str | None:
    value = image.get(name) or {}
    if "S" in value:
        return str(value["S"])
    if "N" in value:
        return str(value["N"])
    return None


def _int(image: Image, name: str, default: int) -> int:
    text = _text(image, name)
    return int(float(text)) if text is not None else default


def _time(text: str | None) -> datetime | None:
    if not text or text.startswith(UNDATED):
        return None
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _moved_into(record: Mapping[str, Any], statuses: tuple[str, ...]) -> tuple[Image, str] | None:
    change = record.get("dynamodb") or {}
    new, old = change.get("NewImage"), change.get("OldImage")
    if record.get("eventName") != "MODIFY" or not new or not old:
        return None
    status = _text(new, "status")
    if status not in statuses or _text(old, "status") == status:
        return None
    return new, status


def _delivery(new: Image, status: str) -> DeliveryFinished:
    publish_key = _text(new, "publish_key") or ""
    return DeliveryFinished(
        workspace_id=_text(new, "workspace_id") or "", post_id=_text(new, "post_id") or "",
        channel_id=_text(new, "channel_id") or "", network=_text(new, "network") or "", status=status,
        post_version=_int(new, "post_version", 1), publish_at=_time(publish_key.split("#", 1)[0]),
        published_at=_time(_text(new, "published_at")), finished_at=_time(_text(new, "finished_at")),
        remote_id=_text(new, "remote_id"), remote_url=_text(new, "remote_url"),
        last_error=_text(new, "last_error"))


def finished(record: Mapping[str, Any]) -> Finished | None:
    """The outcome one stream record of the posts table carries, if any."""
    image = ((record.get("dynamodb") or {}).get("NewImage")) or {}
    sort_key = _text(image, "sk") or ""
    if sort_key.startswith(DELIVERY_SK):
        moved = _moved_into(record, DELIVERY_OUTCOMES)
        return _delivery(*moved) if moved else None
    if sort_key == POST_SK:
        moved = _moved_into(record, POST_OUTCOMES)
        if moved:
            new, status = moved
            return PostFinished(_text(new, "workspace_id") or "", _text(new, "post_id") or "", status,
                                _int(new, "version", 1))
    return None
