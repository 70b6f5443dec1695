"""Signing in and out, password resets and accepting an invitation: the routes a person calls without (or
before) a workspace. None takes an API key."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice import Blueprint

from chalicelib.core.api import Call, route
from chalicelib.people.schemas import (
    Accepted,
    InvitationAccept,
    PasswordResetAsk,
    PasswordResetConfirm,
    Refresh,
    SignedIn,
    SignIn,
)
from chalicelib.people.views import tokens_view

if TYPE_CHECKING:
    from chalicelib.wiring import Container

bp = Blueprint(__name__)
TAG = "people"


@route(bp, "/auth/sign-in", "POST", summary="Sign in with email and password (Cognito USER_PASSWORD_AUTH)",
       tag=TAG, role=None, body=SignIn, response=SignedIn, errors=(401,))
def sign_in(call: Call[Container]) -> dict[str, Any]:
    return tokens_view(call.deps.people.sign_in(call.body.email, call.body.password))


@route(bp, "/auth/refresh", "POST", summary="New access and ID tokens from a refresh token", tag=TAG,
       role=None, body=Refresh, response=SignedIn, errors=(401,))
def refresh(call: Call[Container]) -> dict[str, Any]:
    return tokens_view(call.deps.people.refresh(call.body.refresh_token))


@route(bp, "/auth/sign-out", "POST", summary="Sign out everywhere (GlobalSignOut; older tokens are refused)",
       tag=TAG, role=None, own_auth=True, status=204, errors=(400,))
def sign_out(call: Call[Container]) -> None:
    call.deps.people.sign_out(call.headers)


@route(bp, "/auth/password-reset", "POST", summary="Mail a single-use password reset token", tag=TAG,
       role=None, body=PasswordResetAsk, status=202)
def ask_password_reset(call: Call[Container]) -> dict[str, Any]:
    call.deps.people.request_password_reset(call.body.email)
    return {"status": "sent if the address is a user's"}


@route(bp, "/auth/password-reset/confirm", "POST", summary="Set a new password with the mailed token", tag=TAG,
       role=None, body=PasswordResetConfirm, status=204, errors=(404,))
def confirm_password_reset(call: Call[Container]) -> None:
    call.deps.people.confirm_password_reset(call.body.token, call.body.password)


@route(bp, "/invitations/accept", "POST", summary="Accept an invitation (a new person sets a password)",
       tag=TAG, role=None, body=InvitationAccept, response=Accepted, errors=(404,))
def accept_invitation(call: Call[Container]) -> dict[str, Any]:
    from chalicelib.people.audit import record_as

    user, membership = call.deps.people.accept(call.body.token, call.body.password)
    if membership.kind == "workspace":
        record_as(call, membership.scope_id, f"user:{user.user_id}", membership.role, "POST /invitations/accept",
                  {"role": membership.role, "email": user.email}, user.user_id)
    return {"user_id": user.user_id, "email": user.email, "scope_id": membership.scope_id,
            "kind": membership.kind, "role": membership.role}
