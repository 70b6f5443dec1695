"""Workspaces, API keys and the calendar-feed token.

Keys look like `hrld_<key id>_<secret>`: the key id finds the record with one
GetItem, and only a SHA-256 of the secret is stored (the secret has 256 bits of
entropy, so a fast hash is enough). A key is shown once, when it is made.
"""
from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from chalicelib.accounts.api_key_repository import ApiKeyRepository, ApiKeyRow
from chalicelib.accounts.workspace_repository import WorkspaceRepository, WorkspaceRow
from chalicelib.core.clock import Clock, local_day, to_rfc3339
from chalicelib.core.crypto import SecretBox
from chalicelib.core.errors import NotFound, Unauthorized, ValidationFailed
from chalicelib.core.ids import new_id
from chalicelib.core.principal import KEY_ROLES, Principal
from chalicelib.links.settings import LinkSettingsPatch, merged

KEY_PATTERN = re.compile(r"^hrld_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$")
FEED_PATTERN = re.compile(r"^([0-9a-f]{16})-([A-Za-z0-9_-]{43})(?:\.ics)?$")


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class IssuedKey:
    key_id: str
    api_key: str
    role: str


class AccessService:
    def __init__(self, workspaces: WorkspaceRepository, keys: ApiKeyRepository, clock: Clock,
                 secret_box: SecretBox, registry: Any = None) -> None:
        self.workspaces = workspaces
        self.keys = keys
        self.clock = clock
        self.secret_box = secret_box
        # The metrics registry (repositories/metrics.py): the nightly roll-up finds workspaces there.
        self.registry = registry

    # -- workspaces ------------------------------------------------------------

    def create_workspace(self, name: str, timezone: str = "UTC") -> tuple[WorkspaceRow, IssuedKey]:
        row = self.create_client_workspace(name, timezone, None)
        return row, self.issue_key(row.workspace_id, "owner", name="first owner key")

    def create_client_workspace(self, name: str, timezone: str, agency_id: str | None) -> WorkspaceRow:
        """A workspace without a first key: an agency's members reach it through the agency."""
        from chalicelib.core.fields import check_timezone as _check_timezone

        try:
            _check_timezone(timezone)
        except ValueError as exc:
            raise ValidationFailed.field("timezone", str(exc)) from None
        now = self.clock.now()
        row = WorkspaceRow(new_id("ws"), name, timezone, to_rfc3339(now) or "", agency_id=agency_id)
        self.workspaces.create(row)
        if self.registry is not None:
            self.registry.enroll(row.workspace_id, timezone, local_day(now, timezone) - timedelta(days=1))
        return row

    def get_workspace(self, workspace_id: str) -> WorkspaceRow:
        row = self.workspaces.get(workspace_id)
        if row is None:
            raise NotFound("This workspace does not exist.")
        return row

    def update_workspace(self, workspace_id: str, *, name: str | None, timezone: str | None,
                         audit_retention_days: int | None = None,
                         links: LinkSettingsPatch | None = None, language: str | None = None) -> WorkspaceRow:
        stored = merged(self.get_workspace(workspace_id).links, links) if links is not None else None
        self.workspaces.update(workspace_id, name=name, timezone=timezone,
                               audit_retention_days=audit_retention_days, links=stored, language=language)
        if timezone is not None and self.registry is not None:
            self.registry.set_timezone(workspace_id, timezone)
        return self.get_workspace(workspace_id)

    # -- API keys --------------------------------------------------------------

    def issue_key(self, workspace_id: str, role: str, name: str | None = None) -> IssuedKey:
        if role not in KEY_ROLES:
            raise ValidationFailed.field("role", f"must be one of {', '.join(KEY_ROLES)}")
        self.get_workspace(workspace_id)
        key_id = secrets.token_hex(8)
        secret = secrets.token_urlsafe(32)
        self.keys.create(ApiKeyRow(key_id, workspace_id, _hash(secret), role,
                                   to_rfc3339(self.clock.now()) or "", name))
        return IssuedKey(key_id, f"hrld_{key_id}_{secret}", role)

    def revoke_key(self, workspace_id: str, key_id: str) -> None:
        if not self.keys.revoke(workspace_id, key_id, to_rfc3339(self.clock.now()) or ""):
            raise NotFound("No such key in this workspace.")

    def list_keys(self, workspace_id: str) -> list[ApiKeyRow]:
        return self.keys.list_for_workspace(workspace_id)

    def authenticate(self, headers: dict[str, str]) -> Principal:
        header = headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized("Send your API key as 'Authorization: Bearer <api_key>'.")
        match = KEY_PATTERN.match(token.strip())
        row = self.keys.get(match.group(1)) if match else None
        # Compare even when the key id is unknown, so timing says nothing.
        expected = row.secret_hash if row else _hash("")
        given = _hash(match.group(2)) if match else _hash("-")
        if not hmac.compare_digest(expected, given) or row is None or row.revoked_at:
            raise Unauthorized("This API key is not valid or was revoked.")
        return Principal(row.workspace_id, row.role, row.key_id)

    # -- calendar feed -----------------------------------------------------------

    # The feed URL is a read-only secret: kept sealed (not hashed) so that
    # asking for it again gives the same address a calendar app subscribed to.

    def _feed_context(self, workspace_id: str) -> dict[str, str]:
        return {"workspace_id": workspace_id, "purpose": "calendar-feed"}

    def existing_feed_token(self, workspace_id: str) -> str | None:
        """The feed's token, or None when it was never made or was revoked: reading never makes one."""
        row = self.get_workspace(workspace_id)
        if not row.feed_token_sealed:
            return None
        return str(self.secret_box.open(row.feed_token_sealed, self._feed_context(workspace_id))["token"])

    def feed_token(self, workspace_id: str, rotate: bool = False) -> str:
        row = self.get_workspace(workspace_id)
        if row.feed_token_sealed and not rotate:
            return str(self.secret_box.open(row.feed_token_sealed, self._feed_context(workspace_id))["token"])
        token = f"{secrets.token_hex(8)}-{secrets.token_urlsafe(32)}"
        sealed = self.secret_box.seal({"token": token}, self._feed_context(workspace_id))
        self.workspaces.set_feed_token(workspace_id, token[:16], sealed)
        return token

    def revoke_feed(self, workspace_id: str) -> None:
        self.workspaces.clear_feed_token(workspace_id)

    def workspace_for_feed(self, token: str) -> WorkspaceRow:
        match = FEED_PATTERN.match(token)
        row = self.workspaces.find_by_feed_token(match.group(1)) if match else None
        expected = ""
        if row and row.feed_token_sealed:
            expected = str(self.secret_box.open(row.feed_token_sealed,
                                                 self._feed_context(row.workspace_id))["token"])
        given = token.removesuffix(".ics")
        if row is None or not hmac.compare_digest(expected.encode(), given.encode()):
            raise NotFound("No calendar feed at this address (it may have been revoked).")
        return row
