"""Who is calling, and how roles rank: chalice-free, so services and the route decorator share it."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

# `client`: a client's reviewer. It ranks below viewer, so it passes no route's role check that asks for
# viewer or more; a route open to reviewers says `role="client"` and its service limits what they see.
ROLE_RANK = {"client": -1, "viewer": 0, "editor": 1, "admin": 2, "owner": 3}
# Roles an API key may have: keys are for machines, never reviewers.
KEY_ROLES = ("viewer", "editor", "admin", "owner")
# Roles a person may be given in a workspace, and in an agency (an agency's role reaches its client workspaces).
MEMBER_ROLES = ("owner", "admin", "editor", "viewer", "client")
AGENCY_ROLES = ("owner", "admin", "editor", "viewer")

AuthMethod = Literal["api_key", "user"]


@dataclass(frozen=True)
class Principal:
    workspace_id: str
    role: str
    key_id: str  # the API key's id; empty for a person
    user_id: str | None = None
    # Known for a person and for a client reviewer: what an approval step names.
    email: str | None = None
    auth: AuthMethod = "api_key"
    # Set when a person reaches a client workspace through their membership of its agency.
    agency_id: str | None = None
    # A credential that reaches one object only: `post:<post_id>` for a reviewer's session.
    scope: str | None = None

    @property
    def actor(self) -> str:
        """Who the audit log and ownership checks name: `user:<id>` or `key:<id>`."""
        return f"user:{self.user_id}" if self.user_id else f"key:{self.key_id}"

    @property
    def caller_id(self) -> str:
        """What a thing begun by this caller remembers: the key id (as before people existed), or `user:<id>`."""
        return f"user:{self.user_id}" if self.user_id else self.key_id

    def outranks_or_equals(self, role: str) -> bool:
        return ROLE_RANK[self.role] >= ROLE_RANK[role]
