"""OAuth tokens kept alive: refreshed before they lapse, atomically, so that no refresh token is ever lost.

A channel row keeps, in the clear, when its access token lapses (`token_expires_at`), when its grant lapses
beyond any refresh (`grant_expires_at`: a Meta long-lived user token, a LinkedIn token without a refresh
token, LinkedIn's refresh token itself) and a `token_version`. A refresh is:

1. a conditional write that claims the token at the version the caller read (and only if no other worker
   holds an unexpired claim), so that two workers never both spend a refresh token X rotates;
2. the network's refresh (`make_oauth(...).refresh`), then
3. a conditional write of the new credentials as `version + 1`, conditioned on the claim.

A worker that loses the claim waits for the winner and uses what it stored. Only an `AuthError` (what the
network documents as revoked or expired) marks the channel needs_reauth; a `RetryableError` leaves it
active and is tried again on the next use or the next job.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from chalicelib.core.clock import Clock, to_rfc3339
from chalicelib.core.ids import new_id
from chalicelib.networks.base import AuthError, ConnectsByOAuth, OAuthApp, RetryableError, TokenGrant

if TYPE_CHECKING:
    from chalicelib.accounts.channel_repository import ChannelRepository, ChannelRow
    from chalicelib.core.crypto import SecretBox

log = logging.getLogger("herald.tokens")

# The networks whose tokens Herald refreshes, and the credential a refresh needs.
REFRESHED_BY = {"x": "refresh_token", "linkedin": "refresh_token", "threads": "access_token",
                "tiktok": "refresh_token", "pinterest": "refresh_token", "reddit": "refresh_token",
                "youtube": "refresh_token", "google_business": "refresh_token"}
# Meta keeps the expiry of the user token the Page token came from: the grant's own horizon.
GRANT_EXPIRY_FIELDS = ("user_token_expires_at",)
REFRESH_MARGIN = timedelta(minutes=10)  # on use: a token lapsing within this is refreshed first
LEASE = timedelta(seconds=30)  # how long a worker's claim on a refresh holds
WAIT_POLLS = 40
POLL_S = 0.25

OAuthFactory = Callable[[str], "tuple[ConnectsByOAuth, OAuthApp] | None"]


def moment(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


@dataclass(frozen=True)
class TokenFacts:
    """What the channel row keeps in the clear about its sealed credentials."""

    token_expires_at: str | None
    grant_expires_at: str | None
    grant_key: str | None


def can_refresh(network: str, credentials: Mapping[str, Any]) -> bool:
    needed = REFRESHED_BY.get(network)
    return bool(needed and credentials.get(needed))


def token_facts(network: str, credentials: Mapping[str, Any]) -> TokenFacts:
    token_expiry = to_rfc3339(moment(credentials.get("expires_at")))
    if can_refresh(network, credentials):
        # Refreshable: the grant lapses only where the network says so (LinkedIn's refresh token: a year).
        grant_expiry = to_rfc3339(moment(credentials.get("refresh_expires_at")))
    else:
        found = [moment(credentials.get(name)) for name in GRANT_EXPIRY_FIELDS]
        grant_expiry = to_rfc3339(next((m for m in found if m is not None), None)) or token_expiry
    grantor = credentials.get("user_id") if network in ("facebook", "instagram") else None
    return TokenFacts(token_expiry, grant_expiry, f"meta#{grantor}" if isinstance(grantor, str) and grantor
                      else None)


def apply_token_facts(row: ChannelRow, credentials: Mapping[str, Any]) -> None:
    facts = token_facts(row.network, credentials)
    row.token_expires_at, row.grant_expires_at = facts.token_expires_at, facts.grant_expires_at
    row.grant_key = facts.grant_key


def refreshed_credentials(old: Mapping[str, Any], grant: TokenGrant) -> dict[str, Any]:
    """The credentials after a refresh: the new access token and expiry; a refresh token only replaced by a
    new one (LinkedIn answers none, X a new one each time)."""
    new = dict(old)
    new["access_token"] = grant.access_token
    new.pop("expires_at", None)
    if grant.expires_at is not None:
        new["expires_at"] = to_rfc3339(grant.expires_at)
    if grant.refresh_token:
        new["refresh_token"] = grant.refresh_token
    if grant.refresh_expires_at is not None:
        new["refresh_expires_at"] = to_rfc3339(grant.refresh_expires_at)
    return new


def refreshing_oauth(oauth: Callable[[str], tuple[ConnectsByOAuth, OAuthApp]]) -> OAuthFactory:
    """The connect routes' OAuth side of each network (wiring.Container.oauth: from settings, never from a
    request), for the networks whose tokens Herald refreshes; None for the others."""
    def make(network: str) -> tuple[ConnectsByOAuth, OAuthApp] | None:
        return oauth(network) if network in REFRESHED_BY else None

    return make


class TokenService:
    def __init__(self, repository: ChannelRepository, secret_box: SecretBox, oauth: OAuthFactory, clock: Clock,
                 *, sleep: Callable[[float], None] | None = None,
                 on_revoked: Callable[[ChannelRow, str], None] | None = None,
                 margin: timedelta = REFRESH_MARGIN, wait_polls: int = WAIT_POLLS) -> None:
        self.repository = repository
        self.secret_box = secret_box
        self.oauth = oauth
        self.clock = clock
        self.sleep = sleep or time.sleep
        self.on_revoked = on_revoked
        self.margin = margin
        self.wait_polls = wait_polls

    def open(self, row: ChannelRow) -> dict[str, Any]:
        if not row.credentials_sealed:
            return {}
        opened: dict[str, Any] = self.secret_box.open(row.credentials_sealed, _binding(row))
        return opened

    def refreshable(self, row: ChannelRow, credentials: Mapping[str, Any] | None = None) -> bool:
        return row.network in REFRESHED_BY and can_refresh(row.network, credentials or self.open(row))

    def due(self, row: ChannelRow, within: timedelta | None = None) -> bool:
        """The access token lapses within `within` (the on-use margin by default)."""
        expires = moment(row.token_expires_at)
        return expires is not None and expires - (within or self.margin) <= self.clock.now()

    def refresh(self, row: ChannelRow) -> dict[str, Any]:
        """The channel's credentials after one refresh of the token the caller read (`row.token_version`):
        refreshed here, or by the worker that claimed it first. Raises AuthError (revoked: the channel is
        marked needs_reauth) or RetryableError (nothing changed; try again later)."""
        claim, now = new_id("rf"), self.clock.now()
        until = to_rfc3339(now + LEASE) or ""
        if not self.repository.claim_refresh(row.workspace_id, row.channel_id, row.token_version, claim, until,
                                             to_rfc3339(now) or ""):
            return self._await_other(row)
        try:
            return self._refresh_claimed(row, claim)
        finally:
            self.repository.release_refresh(row.workspace_id, row.channel_id, claim)  # a no-op once stored

    def _refresh_claimed(self, row: ChannelRow, claim: str) -> dict[str, Any]:
        credentials = self.open(row)
        found = self.oauth(row.network)
        if found is None or not can_refresh(row.network, credentials):
            raise RetryableError(f"{row.network} tokens are not refreshed by Herald")
        oauth, app = found
        if not (app.client_id and app.client_secret):  # an operator's slip, not the person's revocation
            raise RetryableError(f"Herald's {row.network} app is not configured on this server")
        try:
            grant = oauth.refresh(app, credentials)
        except AuthError as exc:
            log.warning("The %s channel %s was refused a refresh: %s", row.network, row.channel_id, exc.message)
            if self.on_revoked is not None:
                self.on_revoked(row, exc.message)
            raise
        new = refreshed_credentials(credentials, grant)
        facts = token_facts(row.network, new)
        sealed = self.secret_box.seal(new, _binding(row))
        if not self.repository.store_refreshed(row.workspace_id, row.channel_id, row.token_version, claim, sealed,
                                               facts.token_expires_at, facts.grant_expires_at,
                                               to_rfc3339(self.clock.now()) or ""):
            # Our lease ran out and the channel moved on (reconnected, or refreshed by another worker).
            log.error("The refreshed %s token of %s could not be stored: the channel changed meanwhile",
                      row.network, row.channel_id)
            raise RetryableError("the channel changed while its token was refreshed")
        row.credentials_sealed, row.token_version = sealed, row.token_version + 1
        row.token_expires_at, row.grant_expires_at = facts.token_expires_at, facts.grant_expires_at
        log.info("Refreshed the %s token of channel %s", row.network, row.channel_id)
        return new

    def _await_other(self, row: ChannelRow) -> dict[str, Any]:
        """Another worker refreshed, or is refreshing: its result, read back once it is stored."""
        for _ in range(self.wait_polls):
            current = self.repository.get(row.workspace_id, row.channel_id, consistent=True)
            if current is None:
                raise AuthError("the channel was disconnected")
            if current.token_version != row.token_version:
                _adopt(row, current)
                return self.open(current)
            if current.status == "needs_reauth":
                raise AuthError(f"{row.network} no longer accepts this channel's authorization; connect it again")
            lease = moment(current.refresh_lease_until)
            if lease is None or lease <= self.clock.now():
                break  # nobody holds it any more (released after a failure): tried again on a later use
            self.sleep(POLL_S)
        raise RetryableError(f"another worker is refreshing this {row.network} token; try again shortly")

    def refresh_if_due(self, row: ChannelRow, credentials: dict[str, Any]) -> dict[str, Any]:
        """On use: credentials whose token lapses within the margin are refreshed first. A transient failure
        while the token still works is logged and the token used; once it has lapsed it is raised."""
        if not self.due(row) or not self.refreshable(row, credentials):
            return credentials
        try:
            return self.refresh(row)
        except RetryableError as exc:
            expires = moment(row.token_expires_at)
            if expires is not None and expires > self.clock.now():
                log.warning("Could not refresh the %s token of %s yet (%s); it still works", row.network,
                            row.channel_id, exc.message)
                return credentials
            raise


def _adopt(row: ChannelRow, current: ChannelRow) -> None:
    row.credentials_sealed, row.token_version = current.credentials_sealed, current.token_version
    row.token_expires_at, row.grant_expires_at = current.token_expires_at, current.grant_expires_at


def _binding(row: ChannelRow) -> dict[str, str]:
    return {"workspace_id": row.workspace_id, "channel_id": row.channel_id}
