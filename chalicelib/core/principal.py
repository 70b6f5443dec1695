"""Who is calling, and how roles rank: chalice-free, so services and the route decorator share it."""
from __future__ import annotations

from dataclasses import dataclass

ROLE_RANK = {"viewer": 0, "editor": 1, "admin": 2, "owner": 3}


@dataclass(frozen=True)
class Principal:
    workspace_id: str
    role: str
    key_id: str
