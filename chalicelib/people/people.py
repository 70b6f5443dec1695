"""People: who a bearer token is, which workspace they act in and with what role, sign in and out, password
resets, invitations and members.

A bearer is either an API key (`hrld_...`, AccessService, unchanged) or a Cognito JWT (verified as API
Gateway's Cognito authorizer would, jwt_verifier.py). A person picks the workspace with the
`X-Herald-Workspace` header; without it, the one workspace they belong to (when there is exactly one).
Their role there is their membership's, or their agency's when the workspace is a client of an agency they
belong to (the higher of the two). A workspace they cannot open is a 404, as any other workspace's object.
"""
from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

from chalicelib.core.clock import Clock, parse_rfc3339, to_rfc3339
from chalicelib.core.errors import BadRequest, Conflict, Forbidden, NotFound, Unauthorized, ValidationFailed
from chalicelib.core.ids import new_id
from chalicelib.core.mail import Mailer
from chalicelib.core.principal import AGENCY_ROLES, MEMBER_ROLES, ROLE_RANK, Principal
from chalicelib.people.identity import CognitoIdentity, Tokens
from chalicelib.people.jwt_verifier import CognitoTokenVerifier, InvalidToken, looks_like_jwt
from chalicelib.people.people_repository import (
    InvitationRepository,
    InvitationRow,
    MembershipRepository,
    MembershipRow,
    PasswordResetRepository,
    ResetRow,
    UserRepository,
    UserRow,
)

log = logging.getLogger("herald.people")

WORKSPACE_HEADER = "x-herald-workspace"
AGENCY_HEADER = "x-herald-agency"
INVITATION_DAYS = 7
RESET_MINUTES = 60
TOKEN_PATTERN = re.compile(r"^(inv|rst)_([0-9a-z_]{8,40})\.([A-Za-z0-9_-]{43})$")


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def normal_email(email: str) -> str:
    return email.strip().lower()


class KeyAuthenticator(Protocol):
    def authenticate(self, headers: dict[str, str]) -> Principal: ...


class WorkspaceLookup(Protocol):
    def __call__(self, workspace_id: str) -> tuple[str, str | None] | None:
        """The workspace's name and agency id, or None when there is no such workspace."""
        ...


@dataclass(frozen=True)
class SignedInUser:
    user: UserRow
    token: str
    issued_at: int


@dataclass(frozen=True)
class Invited:
    invitation: InvitationRow
    token: str


@dataclass(frozen=True)
class Member:
    user_id: str
    email: str
    role: str
    through: str  # workspace | agency
    created_at: str


def _mint(prefix: str, now_id: str) -> tuple[str, str, str]:
    """(record id, full token, secret's hash): the id finds the record, the secret proves the holder."""
    secret = secrets.token_urlsafe(32)
    return now_id, f"{prefix}_{now_id.split('_', 1)[1]}.{secret}", _hash(secret)


def _parse_token(token: str, prefix: str) -> tuple[str, str] | None:
    match = TOKEN_PATTERN.match(token.strip())
    if match is None or match.group(1) != prefix:
        return None
    return f"{prefix}_{match.group(2)}", match.group(3)


class PeopleService:
    def __init__(self, users: UserRepository, memberships: MembershipRepository,
                 invitations: InvitationRepository, resets: PasswordResetRepository,
                 identity: CognitoIdentity, verifier: Callable[[], CognitoTokenVerifier], keys: KeyAuthenticator,
                 workspace_of: WorkspaceLookup, mailer: Callable[[], Mailer], clock: Clock,
                 public_base_url: str) -> None:
        self.users = users
        self.memberships = memberships
        self.invitations = invitations
        self.resets = resets
        self.identity = identity
        self._verifier = verifier
        self.keys = keys
        self.workspace_of = workspace_of
        self._mailer = mailer
        self.clock = clock
        self.public_base_url = public_base_url

    # -- who is calling ------------------------------------------------------------

    @staticmethod
    def bearer(headers: dict[str, str]) -> str:
        scheme, _, token = headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized("Send your API key or sign-in token as 'Authorization: Bearer <token>'.")
        return token.strip()

    def authenticate(self, headers: dict[str, str]) -> Principal:
        """The one way a route learns who calls: an API key's workspace, or a person's chosen workspace."""
        token = self.bearer(headers)
        if not looks_like_jwt(token):
            return self.keys.authenticate(headers)
        signed_in = self.signed_in(token)
        return self.principal_for(signed_in.user, self._chosen_workspace(signed_in.user, headers))

    def signed_in(self, token: str) -> SignedInUser:
        try:
            verified = self._verifier().verify(token)
        except InvalidToken as why:
            log.info("A sign-in token was refused: %s", why)
            raise Unauthorized("This sign-in token is not valid or has expired; sign in again.") from None
        user = self.users.get(verified.username)
        if user is None or verified.issued_at <= user.tokens_valid_after:
            raise Unauthorized("This sign-in token is no longer valid (signed out); sign in again.")
        return SignedInUser(user, token, verified.issued_at)

    def _chosen_workspace(self, user: UserRow, headers: dict[str, str]) -> str:
        chosen = headers.get(WORKSPACE_HEADER, "").strip()
        if chosen:
            return chosen
        memberships = self.memberships.of_user(user.user_id)
        workspaces = [m.scope_id for m in memberships if m.kind == "workspace"]
        if len(workspaces) == 1 and not any(m.kind == "agency" for m in memberships):
            return workspaces[0]
        raise BadRequest("Say which workspace with the X-Herald-Workspace header (GET /me lists yours).",
                         code="workspace_required")

    def role_in(self, user: UserRow, workspace_id: str) -> tuple[str, str | None] | None:
        """(role, agency id when reached through the agency) in this workspace, or None."""
        found = self.workspace_of(workspace_id)
        if found is None:
            return None
        direct = self.memberships.get(user.user_id, workspace_id)
        via = self.memberships.get(user.user_id, found[1]) if found[1] else None
        choices = [(m.role, m.scope_id if m.kind == "agency" else None) for m in (direct, via) if m is not None]
        return max(choices, key=lambda choice: ROLE_RANK[choice[0]]) if choices else None

    def principal_for(self, user: UserRow, workspace_id: str) -> Principal:
        reached = self.role_in(user, workspace_id)
        if reached is None:
            raise NotFound(f"No workspace {workspace_id} that you can open.")
        role, agency_id = reached
        return Principal(workspace_id, role, "", user_id=user.user_id, email=user.email, auth="user",
                         agency_id=agency_id)

    # -- sign in, out, passwords -------------------------------------------------------

    def sign_in(self, email: str, password: str) -> Tokens:
        user = self.users.by_email(normal_email(email))
        if user is None:
            raise Unauthorized("The email or password is not right.", code="sign_in_failed")
        return self.identity.sign_in(user.user_id, password)

    def refresh(self, refresh_token: str) -> Tokens:
        return self.identity.refresh(refresh_token)

    def sign_out(self, headers: dict[str, str]) -> None:
        token = self.bearer(headers)
        if not looks_like_jwt(token):
            raise BadRequest("Sign out with the access token you signed in with (API keys are revoked instead).")
        signed_in = self.signed_in(token)
        self.identity.sign_out(token)
        # Cognito's access tokens stay valid for their hour on any verifier; Herald's own cut-off ends them now.
        # At least this token's own issue time: a verifier's clock a little behind Cognito's must not spare it.
        self.users.refuse_tokens_until(signed_in.user.user_id,
                                       max(int(self.clock.now().timestamp()), signed_in.issued_at))

    def request_password_reset(self, email: str) -> None:
        """Mails a single-use link when the address is a user's; answers the same either way."""
        user = self.users.by_email(normal_email(email))
        if user is None:
            log.info("A password reset was asked for an unknown address")
            return
        now = self.clock.now()
        reset_id, token, secret_hash = _mint("rst", new_id("rst", now))
        expires = now + timedelta(minutes=RESET_MINUTES)
        self.resets.create(ResetRow(reset_id, user.user_id, secret_hash, to_rfc3339(expires)), expires)
        self._mailer().send(user.email, "Reset your Herald password",
                            f"Someone (we hope you) asked to reset your Herald password.\n\n"
                            f"Your reset token, valid for {RESET_MINUTES} minutes and usable once:\n{token}\n\n"
                            f"Set a new password: POST {self.public_base_url}/auth/password-reset/confirm "
                            '{"token": "<the token>", "password": "<new password>"}\n\n'
                            "If you did not ask, ignore this mail.")

    def confirm_password_reset(self, token: str, password: str) -> None:
        parsed = _parse_token(token, "rst")
        row = self.resets.get(parsed[0]) if parsed else None
        given = _hash(parsed[1]) if parsed else _hash("-")
        now = self.clock.now()
        if (row is None or not hmac.compare_digest(row.secret_hash, given) or row.used_at
                or parse_rfc3339(row.expires_at) <= now):
            raise NotFound("This reset token is not valid, was used or has expired; ask for a new one.")
        self.identity.set_password(row.user_id, password)  # a refused password leaves the token usable
        if not self.resets.use(row.reset_id, to_rfc3339(now)):
            raise NotFound("This reset token was just used.")
        self.identity.sign_out_everywhere(row.user_id)
        self.users.refuse_tokens_until(row.user_id, int(now.timestamp()))

    # -- invitations -------------------------------------------------------------------

    def invite(self, by: Principal | UserRow, scope_id: str, kind: str, email: str, role: str,
               inviter_role: str, scope_name: str) -> Invited:
        allowed = MEMBER_ROLES if kind == "workspace" else AGENCY_ROLES
        if role not in allowed:
            raise ValidationFailed.field("role", f"must be one of {', '.join(allowed)}")
        _no_higher(role, inviter_role, "invite someone as")
        now = self.clock.now()
        invitation_id, token, secret_hash = _mint("inv", new_id("inv", now))
        expires = now + timedelta(days=INVITATION_DAYS)
        actor = by.actor if isinstance(by, Principal) else f"user:{by.user_id}"
        row = InvitationRow(invitation_id, scope_id, kind, normal_email(email), role, secret_hash, actor,
                            "pending", to_rfc3339(now), to_rfc3339(expires))
        self.invitations.create(row, expires)
        self._mailer().send(row.email, f"You are invited to {scope_name} on Herald",
                            f"You are invited to {scope_name} on Herald as {role}.\n\n"
                            f"Your invitation token, valid for {INVITATION_DAYS} days and usable once:\n{token}\n\n"
                            f"Accept it: POST {self.public_base_url}/invitations/accept "
                            '{"token": "<the token>", "password": "<a password, if you are new to Herald>"}\n',
                            html=f"<p>You are invited to <b>{_escape(scope_name)}</b> on Herald as {role}.</p>"
                                 f"<p>Your invitation token (valid {INVITATION_DAYS} days, usable once):</p>"
                                 f"<pre>{token}</pre>")
        return Invited(row, token)

    def list_invitations(self, scope_id: str) -> list[InvitationRow]:
        return [row for row in self.invitations.of_scope(scope_id) if row.status == "pending"]

    def revoke_invitation(self, scope_id: str, invitation_id: str) -> None:
        if not self.invitations.move(invitation_id, scope_id, "pending", "revoked"):
            raise NotFound(f"No pending invitation {invitation_id} here.")

    def accept(self, token: str, password: str | None) -> tuple[UserRow, MembershipRow]:
        row = self._pending_invitation(token)
        user = self.users.by_email(row.email)
        if user is None:
            if not password:
                raise ValidationFailed.field("password", "is needed: this makes your Herald account")
            user = self._new_user(row.email, password)
        if not self.invitations.move(row.invitation_id, row.scope_id, "pending", "accepted"):
            raise NotFound("This invitation was just used.")
        membership = self._join(user, row.scope_id, row.kind, row.role)
        return user, membership

    def _pending_invitation(self, token: str) -> InvitationRow:
        parsed = _parse_token(token, "inv")
        row = self.invitations.get(parsed[0]) if parsed else None
        given = _hash(parsed[1]) if parsed else _hash("-")
        now = self.clock.now()
        if (row is None or not hmac.compare_digest(row.secret_hash, given) or row.status != "pending"
                or parse_rfc3339(row.expires_at) <= now):
            raise NotFound("This invitation is not valid, was used, revoked or has expired.")
        return row

    def _new_user(self, email: str, password: str) -> UserRow:
        user = UserRow(new_id("usr", self.clock.now()), email, to_rfc3339(self.clock.now()))
        self.identity.create_user(user.user_id, email)
        self.identity.set_password(user.user_id, password)
        if not self.users.create(user):
            raise Conflict("This account was just made; sign in.")
        return user

    def _join(self, user: UserRow, scope_id: str, kind: str, role: str) -> MembershipRow:
        existing = self.memberships.get(user.user_id, scope_id)
        if existing is not None and ROLE_RANK[existing.role] >= ROLE_RANK[role]:
            return existing  # an invitation never lowers a role
        membership = MembershipRow(user.user_id, scope_id, kind, role, user.email, to_rfc3339(self.clock.now()))
        self.memberships.put(membership)
        return membership

    def add_member(self, user: UserRow, scope_id: str, kind: str, role: str) -> MembershipRow:
        """Made without an invitation: the person who makes an agency owns it."""
        return self._join(user, scope_id, kind, role)

    # -- members -------------------------------------------------------------------

    def members(self, workspace_id: str) -> list[Member]:
        found = self.workspace_of(workspace_id)
        agency_id = found[1] if found else None
        rows = [(m, "workspace") for m in self.memberships.of_scope(workspace_id)]
        if agency_id:
            rows += [(m, "agency") for m in self.memberships.of_scope(agency_id)]
        return [Member(m.user_id, m.email, m.role, through, m.created_at) for m, through in rows]

    def change_role(self, by: Principal, scope_id: str, user_id: str, role: str) -> MembershipRow:
        allowed = MEMBER_ROLES if scope_id.startswith("ws_") else AGENCY_ROLES
        if role not in allowed:
            raise ValidationFailed.field("role", f"must be one of {', '.join(allowed)}")
        current = self._member(scope_id, user_id)
        _no_higher(role, by.role, "give the role")
        _no_higher(current.role, by.role, "change the role of someone who is")
        if current.role == "owner" and role != "owner":
            self._keep_an_owner(scope_id, user_id)
        self.memberships.set_role(user_id, scope_id, role)
        current.role = role
        return current

    def remove(self, by: Principal, scope_id: str, user_id: str) -> None:
        current = self._member(scope_id, user_id)
        if by.user_id != user_id:
            _no_higher(current.role, by.role, "remove someone who is")
        if current.role == "owner":
            self._keep_an_owner(scope_id, user_id)
        self.memberships.delete(user_id, scope_id)

    def _member(self, scope_id: str, user_id: str) -> MembershipRow:
        found = self.memberships.get(user_id, scope_id)
        if found is None:
            raise NotFound(f"No member {user_id} here.")
        return found

    def _keep_an_owner(self, scope_id: str, leaving: str) -> None:
        owners = [m for m in self.memberships.of_scope(scope_id) if m.role == "owner" and m.user_id != leaving]
        if not owners:
            raise Conflict("This is the last owner: make someone else owner first.", code="last_owner")


def _no_higher(role: str, own_role: str, doing: str) -> None:
    if ROLE_RANK.get(role, 99) > ROLE_RANK[own_role]:
        raise Forbidden(f"You cannot {doing} {role}: your role here is {own_role}.")


def _escape(text: str) -> str:
    import html

    return html.escape(text)
