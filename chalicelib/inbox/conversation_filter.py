"""Which conversations a list asks for: plain data, shared by the route, the service and the repository."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ConversationFilter:
    status: str | None = None
    channel_id: str | None = None
    kind: str | None = None
    assignee: str | None = None
    tag: str | None = None
