"""Answers of the people routes."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from chalicelib.accounts.api_key_repository import ApiKeyRow
    from chalicelib.accounts.workspace_repository import WorkspaceRow
    from chalicelib.people.identity import Tokens
    from chalicelib.people.people import Member
    from chalicelib.people.people_repository import InvitationRow


def tokens_view(tokens: Tokens) -> dict[str, Any]:
    return {"access_token": tokens.access_token, "id_token": tokens.id_token,
            "refresh_token": tokens.refresh_token, "expires_in": tokens.expires_in, "token_type": "Bearer"}


def invitation_view(row: InvitationRow) -> dict[str, Any]:
    return {"id": row.invitation_id, "email": row.email, "role": row.role, "kind": row.kind,
            "scope_id": row.scope_id, "status": row.status, "invited_by": row.invited_by,
            "created_at": row.created_at, "expires_at": row.expires_at}


def member_view(member: Member) -> dict[str, Any]:
    return {"user_id": member.user_id, "email": member.email, "role": member.role, "through": member.through,
            "created_at": member.created_at}


def key_view(row: ApiKeyRow) -> dict[str, Any]:
    return {"id": row.key_id, "role": row.role, "name": row.name, "created_at": row.created_at,
            "revoked_at": row.revoked_at}


def client_view(row: WorkspaceRow) -> dict[str, Any]:
    return {"id": row.workspace_id, "name": row.name, "timezone": row.timezone, "agency_id": row.agency_id,
            "created_at": row.created_at}


def named(row: WorkspaceRow) -> dict[str, str]:
    return {"id": row.workspace_id, "name": row.name}
