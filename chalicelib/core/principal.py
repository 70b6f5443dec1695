"""Who is calling, and how roles rank: chalice-free, so services and the route decorator share it."""
from __future__ import annotations

from dataclasses import dataclass

# `client`: a client reviewer, below every member: it reaches only the routes made for it (role="client"),
# and there only what was sent to it.
ROLE_RANK = {"client": -1, "viewer": 0, "editor": 1, "admin": 2, "owner": 3}


@dataclass(frozen=True)
class Principal:
    workspace_id: str
    role: str
    key_id: str
    # Known for a client reviewer (and, later, a signed-in user): what an approval step names.
    email: str | None = None
    # A credential that reaches one object only: `post:<post_id>` for a reviewer's session.
    scope: str | None = None
