"""Who I am (`GET /me`), a workspace's invitations and members, and its API keys over HTTP."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice import Blueprint

from chalicelib.core.api import Call, route
from chalicelib.core.errors import Forbidden
from chalicelib.core.principal import ROLE_RANK
from chalicelib.people.schemas import (
    ApiKeyCreate,
    ApiKeyCreated,
    ApiKeyPage,
    InvitationCreate,
    InvitationOut,
    InvitationPage,
    Me,
    MemberOut,
    MemberPage,
    MemberPatch,
)
from chalicelib.people.views import invitation_view, key_view, member_view

if TYPE_CHECKING:
    from chalicelib.wiring import Container

bp = Blueprint(__name__)
TAG = "people"
WORKSPACE_HEADER = {"X-Herald-Workspace": {"type": "string", "description": (
    "With a sign-in token: the workspace to act in (GET /me lists them); optional when you have one.")}}


@route(bp, "/me", "GET", summary="Who I am, and the workspaces and agencies I can open with my role",
       tag=TAG, role=None, own_auth=True, response=Me)
def me(call: Call[Container]) -> dict[str, Any]:
    return call.deps.agencies.me(call.headers)


# -- invitations ---------------------------------------------------------------------------------

@route(bp, "/invitations", "POST", summary="Invite someone by email to this workspace", tag=TAG, role="admin",
       body=InvitationCreate, response=InvitationOut, status=201, request_headers=WORKSPACE_HEADER)
def invite(call: Call[Container]) -> dict[str, Any]:
    assert call.principal is not None
    workspace = call.deps.access.get_workspace(call.workspace_id)
    invited = call.deps.people.invite(call.principal, call.workspace_id, "workspace", call.body.email,
                                      call.body.role, call.principal.role, workspace.name)
    return invitation_view(invited.invitation)


@route(bp, "/invitations", "GET", summary="Pending invitations of this workspace", tag=TAG, role="admin",
       response=InvitationPage, request_headers=WORKSPACE_HEADER)
def list_invitations(call: Call[Container]) -> dict[str, Any]:
    return {"items": [invitation_view(r) for r in call.deps.people.list_invitations(call.workspace_id)],
            "next_cursor": None}


@route(bp, "/invitations/{invitation_id}", "DELETE", summary="Revoke a pending invitation", tag=TAG,
       role="admin", status=204, request_headers=WORKSPACE_HEADER)
def revoke_invitation(call: Call[Container], invitation_id: str) -> None:
    call.deps.people.revoke_invitation(call.workspace_id, invitation_id)


# -- members -----------------------------------------------------------------------------------

@route(bp, "/members", "GET", summary="Members of this workspace (its own, and its agency's)", tag=TAG,
       role="viewer", response=MemberPage, request_headers=WORKSPACE_HEADER)
def list_members(call: Call[Container]) -> dict[str, Any]:
    return {"items": [member_view(m) for m in call.deps.people.members(call.workspace_id)], "next_cursor": None}


@route(bp, "/members/{user_id}", "PATCH", summary="Change a member's role", tag=TAG, role="admin",
       body=MemberPatch, response=MemberOut, errors=(409,), request_headers=WORKSPACE_HEADER)
def change_role(call: Call[Container], user_id: str) -> dict[str, Any]:
    assert call.principal is not None
    row = call.deps.people.change_role(call.principal, call.workspace_id, user_id, call.body.role)
    return {"user_id": row.user_id, "email": row.email, "role": row.role, "through": "workspace",
            "created_at": row.created_at}


@route(bp, "/members/{user_id}", "DELETE", summary="Remove a member (never the last owner)", tag=TAG,
       role="admin", status=204, errors=(409,), request_headers=WORKSPACE_HEADER)
def remove_member(call: Call[Container], user_id: str) -> None:
    assert call.principal is not None
    call.deps.people.remove(call.principal, call.workspace_id, user_id)


# -- API keys ----------------------------------------------------------------------------------

@route(bp, "/api-keys", "GET", summary="This workspace's API keys (never their secrets)", tag=TAG, role="admin",
       response=ApiKeyPage, request_headers=WORKSPACE_HEADER)
def list_keys(call: Call[Container]) -> dict[str, Any]:
    return {"items": [key_view(r) for r in call.deps.access.list_keys(call.workspace_id)], "next_cursor": None}


@route(bp, "/api-keys", "POST", summary="Make an API key (its secret is shown in this answer only)", tag=TAG,
       role="admin", body=ApiKeyCreate, response=ApiKeyCreated, status=201, request_headers=WORKSPACE_HEADER)
def create_key(call: Call[Container]) -> dict[str, Any]:
    assert call.principal is not None
    body: ApiKeyCreate = call.body
    if ROLE_RANK[body.role] > ROLE_RANK[call.principal.role]:
        raise Forbidden(f"You cannot make a key with the {body.role} role: yours here is {call.principal.role}.")
    issued = call.deps.access.issue_key(call.workspace_id, body.role, name=body.name)
    row = call.deps.access.keys.get(issued.key_id)
    assert row is not None
    return {**key_view(row), "api_key": issued.api_key}


@route(bp, "/api-keys/{key_id}", "DELETE", summary="Revoke an API key", tag=TAG, role="admin", status=204,
       request_headers=WORKSPACE_HEADER)
def revoke_key(call: Call[Container], key_id: str) -> None:
    call.deps.access.revoke_key(call.workspace_id, key_id)
