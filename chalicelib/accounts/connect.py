"""Connecting accounts by OAuth 2.0 (authorization code flow, PKCE S256 where the network takes it).

1. `start`: a random `state` (256 bits) bound to the workspace, the API key that began it, the network and the
   redirect URI, with the PKCE verifier sealed beside it; the network's authorization URL to send the person to.
2. `callback`: the network sent the person back with `code` and `state` (no API key: the state proves who began
   it). The state is claimed once (a conditional write), the code exchanged, the grant's accounts read with its
   own token, and their tokens sealed on the state; the answer names the accounts, never a token.
3. `choose`: the chosen accounts become channels (or renew the channels they already are).

Only the SHA-256 of a state is stored. App credentials come from settings alone (`Container.oauth`).
"""
from __future__ import annotations

import base64
import hashlib
import logging
import secrets
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from chalicelib.accounts.channel_repository import ChannelRow
from chalicelib.accounts.channels import ChannelService
from chalicelib.accounts.connect_repository import ConnectState, ConnectStateRepository, StateTaken
from chalicelib.core.clock import Clock, parse_rfc3339, to_rfc3339
from chalicelib.core.crypto import SecretBox
from chalicelib.core.errors import BadRequest, Conflict, NotFound, ValidationFailed
from chalicelib.core.outbound import is_loopback_host
from chalicelib.core.principal import Principal
from chalicelib.networks.base import ConnectsByOAuth, GrantedAccount, NetworkError, OAuthApp

log = logging.getLogger("herald.connect")

STATE_TTL = timedelta(minutes=10)
STATE_BYTES = 32  # 256 bits
VERIFIER_BYTES = 64  # 86 characters of [A-Za-z0-9_-]: RFC 7636 asks 43..128
MAX_REDIRECT_URI = 2048
MAX_NETWORK_SAID = 300
# The settings each network's OAuth app reads (HERALD_* environment variables), for a 422 that says what to set.
APP_SETTINGS: dict[str, tuple[tuple[str, str], tuple[str, str]]] = {
    "facebook": (("meta_app_id", "HERALD_META_APP_ID"), ("meta_app_secret", "HERALD_META_APP_SECRET")),
    "instagram": (("meta_app_id", "HERALD_META_APP_ID"), ("meta_app_secret", "HERALD_META_APP_SECRET")),
    "threads": (("threads_app_id", "HERALD_THREADS_APP_ID"), ("threads_app_secret", "HERALD_THREADS_APP_SECRET")),
    "linkedin": (("linkedin_client_id", "HERALD_LINKEDIN_CLIENT_ID"),
                 ("linkedin_client_secret", "HERALD_LINKEDIN_CLIENT_SECRET")),
    "x": (("x_client_id", "HERALD_X_CLIENT_ID"), ("x_client_secret", "HERALD_X_CLIENT_SECRET")),
    "pinterest": (("pinterest_client_id", "HERALD_PINTEREST_CLIENT_ID"),
                  ("pinterest_client_secret", "HERALD_PINTEREST_CLIENT_SECRET")),
    "tiktok": (("tiktok_client_key", "HERALD_TIKTOK_CLIENT_KEY"),
               ("tiktok_client_secret", "HERALD_TIKTOK_CLIENT_SECRET")),
    "reddit": (("reddit_client_id", "HERALD_REDDIT_CLIENT_ID"),
               ("reddit_client_secret", "HERALD_REDDIT_CLIENT_SECRET")),
    "youtube": (("google_client_id", "HERALD_GOOGLE_CLIENT_ID"),
                ("google_client_secret", "HERALD_GOOGLE_CLIENT_SECRET")),
    "google_business": (("google_client_id", "HERALD_GOOGLE_CLIENT_ID"),
                        ("google_client_secret", "HERALD_GOOGLE_CLIENT_SECRET")),
}
OAUTH_NETWORKS = tuple(APP_SETTINGS)
# What networks send back when the person said no (RFC 6749 `access_denied`; LinkedIn's own words for it).
DENIALS = ("access_denied", "user_cancelled_login", "user_cancelled_authorize")

OAuthFactory = Callable[[str], tuple[ConnectsByOAuth, OAuthApp]]


@dataclass(frozen=True)
class Started:
    authorize_url: str
    state: str
    expires_at: str


@dataclass(frozen=True)
class Granted:
    state: str
    network: str
    expires_at: str
    accounts: list[dict[str, Any]]


def state_hash(state: str) -> str:
    return hashlib.sha256(state.encode()).hexdigest()


def code_challenge(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode("ascii")


class ConnectService:
    def __init__(self, repository: ConnectStateRepository, channels: ChannelService, secret_box: SecretBox,
                 oauth: OAuthFactory, clock: Clock, *, allow_loopback_redirects: bool = False) -> None:
        self.repository = repository
        self.channels = channels
        self.secret_box = secret_box
        self.oauth = oauth
        self.clock = clock
        self.allow_loopback_redirects = allow_loopback_redirects

    # -- 1. start ------------------------------------------------------------------------------------------

    def start(self, principal: Principal, network: str, redirect_uri: str) -> Started:
        oauth, app = self._configured(network)
        check_redirect_uri(redirect_uri, allow_loopback=self.allow_loopback_redirects)
        state = secrets.token_urlsafe(STATE_BYTES)
        hashed = state_hash(state)
        verifier = secrets.token_urlsafe(VERIFIER_BYTES) if getattr(oauth, "supports_pkce", True) else None
        now = self.clock.now()
        expires = now + STATE_TTL
        sealed = self.secret_box.seal({"code_verifier": verifier}, _context(principal.workspace_id, hashed)) \
            if verifier else None
        try:
            url = oauth.authorize_url(app, redirect_uri, state, code_challenge(verifier) if verifier else None)
        except NetworkError as exc:
            raise ValidationFailed.field("network", exc.message) from None
        self.repository.create(ConnectState(
            hashed, principal.workspace_id, principal.caller_id, network, redirect_uri, "started", _stamp(now),
            _stamp(expires), int(expires.timestamp()), verifier_sealed=sealed))
        log.info("OAuth connection to %s begun in workspace %s", network, principal.workspace_id)
        return Started(url, state, _stamp(expires))

    def _configured(self, network: str) -> tuple[ConnectsByOAuth, OAuthApp]:
        if network not in APP_SETTINGS:
            raise ValidationFailed.field(
                "network", f"'{network[:40]}' does not connect by OAuth; use one of {', '.join(OAUTH_NETWORKS)}, "
                           "or POST /channels with credentials for the others", choices=list(OAUTH_NETWORKS))
        oauth, app = self.oauth(network)
        missing = [variable for (_name, variable), value in zip(APP_SETTINGS[network],
                                                                (app.client_id, app.client_secret), strict=True)
                   if not value]
        if missing:
            raise ValidationFailed.field(
                "network", f"Herald's {network} app is not configured on this server: set {' and '.join(missing)}",
                settings=missing)
        return oauth, app

    # -- 2. the network sends the person back ----------------------------------------------------------------

    def callback(self, network: str, state: str, code: str | None, error: str | None,
                 error_description: str | None) -> Granted:
        row = self._usable(state)
        if row.network != network:
            raise BadRequest(f"This state was issued for {row.network}, not {network[:40]}.", code="state_mismatch")
        if error is None and not code:
            raise BadRequest("The callback needs `code` (or the network's `error`).", code="missing_code")
        if error is not None:
            self._advance(row, "started", "denied")
            raise _denied(network, error, error_description)
        self._advance(row, "started", "exchanging")
        try:
            accounts = self._exchange(row, str(code))
        except NetworkError as exc:
            self._advance(row, "exchanging", "failed")
            oauth_app = self.oauth(network)[1]
            said = _redacted(exc.message, (str(code), oauth_app.client_secret, state))
            log.warning("OAuth code exchange with %s failed in workspace %s: %s", network, row.workspace_id, said)
            raise BadRequest(f"{network} did not grant access: {said}. Connect again.",
                             code="grant_failed") from None
        expires = self.clock.now() + STATE_TTL  # the person has ten minutes to choose
        sealed = self.secret_box.seal({"accounts": [asdict(a) for a in accounts]},
                                      _context(row.workspace_id, row.state_hash))
        self._advance(row, "exchanging", "granted", accounts_sealed=sealed, expires_at=expires)
        log.info("OAuth grant from %s reached %d account(s) in workspace %s", network, len(accounts),
                 row.workspace_id)
        return Granted(state, network, _stamp(expires), [self._summary(row.workspace_id, a) for a in accounts])

    def _exchange(self, row: ConnectState, code: str) -> list[GrantedAccount]:
        oauth, app = self._configured(row.network)
        verifier = None
        if row.verifier_sealed:
            verifier = self.secret_box.open(row.verifier_sealed, _context(row.workspace_id, row.state_hash)
                                            )["code_verifier"]
        grant = oauth.exchange_code(app, code, row.redirect_uri, verifier)
        return oauth.granted_accounts(app, grant)

    def _summary(self, workspace_id: str, account: GrantedAccount) -> dict[str, Any]:
        channel = self._channel_of(workspace_id, account)
        return {"account_id": account.account_id, "network": account.network, "handle": account.handle,
                "name": account.name, "avatar_url": account.avatar_url,
                "already_connected": channel.channel_id if channel else None}

    def _channel_of(self, workspace_id: str, account: GrantedAccount) -> ChannelRow | None:
        rows = self.channels.repository.find_by_account(account.network, account.account_id)
        return next((row for row in rows if row.workspace_id == workspace_id), None)

    # -- 3. the chosen accounts become channels ------------------------------------------------------------

    def choose(self, principal: Principal, state: str, account_ids: list[str]) -> list[ChannelRow]:
        row = self.repository.get(state_hash(state))
        if row is None or row.workspace_id != principal.workspace_id or row.started_by != principal.caller_id:
            raise NotFound("No OAuth connection in progress with this state.")
        self._check_fresh(row)
        if row.status == "used":
            raise BadRequest("These accounts were chosen already; connect again to choose others.",
                             code="state_used")
        if row.status != "granted" or not row.accounts_sealed:
            raise Conflict(f"This connection has no grant to choose from (it is {row.status}).")
        granted = self._granted(row)
        chosen = _chosen(granted, account_ids)
        self._advance(row, "granted", "used")
        return [self.channels.connect_granted(row.workspace_id, account) for account in chosen]

    def _granted(self, row: ConnectState) -> list[GrantedAccount]:
        assert row.accounts_sealed is not None
        opened = self.secret_box.open(row.accounts_sealed, _context(row.workspace_id, row.state_hash))
        return [GrantedAccount(**account) for account in opened["accounts"]]

    # -- the state's steps -----------------------------------------------------------------------------------

    def _usable(self, state: str) -> ConnectState:
        row = self.repository.get(state_hash(state))
        if row is None:
            raise NotFound("No OAuth connection in progress with this state.")
        self._check_fresh(row)
        if row.status != "started":
            raise BadRequest("This state was used already; connect again.", code="state_used")
        return row

    def _check_fresh(self, row: ConnectState) -> None:
        if self.clock.now() >= parse_rfc3339(row.expires_at):
            raise BadRequest("This connection expired (a state lasts ten minutes); connect again.",
                             code="state_expired")

    def _advance(self, row: ConnectState, expected: str, status: str, *, accounts_sealed: bytes | None = None,
                 expires_at: datetime | None = None) -> None:
        try:
            self.repository.advance(row.state_hash, expected, status, accounts_sealed=accounts_sealed,
                                    expires_at=_stamp(expires_at) if expires_at else None,
                                    expires_at_epoch=int(expires_at.timestamp()) if expires_at else None)
        except StateTaken:
            raise BadRequest("This state was used already; connect again.", code="state_used") from None


def check_redirect_uri(uri: str, *, allow_loopback: bool) -> None:
    """https, with a host and no fragment (RFC 6749 3.1.2); plain http only to loopback, and only where
    HERALD_ALLOW_PRIVATE_URLS=1 (tests, the local stack)."""
    def refuse(why: str) -> ValidationFailed:
        return ValidationFailed.field("redirect_uri", why)

    if len(uri) > MAX_REDIRECT_URI:
        raise refuse(f"must be at most {MAX_REDIRECT_URI} characters")
    if any(not ch.isprintable() or ch.isspace() for ch in uri):
        raise refuse("must not contain spaces or control characters")
    try:
        parts = urlsplit(uri)
        host = parts.hostname
        _port = parts.port
    except ValueError:
        raise refuse("is not a URL") from None
    if not host or parts.username is not None or parts.password is not None:
        raise refuse("needs a host (and no user or password in it)")
    if parts.fragment or uri.endswith("#"):
        raise refuse("must not have a fragment")
    if parts.scheme == "https":
        return
    if parts.scheme == "http" and allow_loopback and is_loopback_host(host):
        return
    raise refuse("must be https" + (" (or http to loopback)" if allow_loopback else ""))


def _chosen(granted: list[GrantedAccount], account_ids: list[str]) -> list[GrantedAccount]:
    by_id = {account.account_id: account for account in granted}
    unknown = [account_id for account_id in account_ids if account_id not in by_id]
    if unknown:
        raise ValidationFailed.field(
            "account_ids", f"this grant does not reach {', '.join(a[:100] for a in unknown[:10])}; "
                           f"it reaches {', '.join(by_id)}", choices=list(by_id))
    return [by_id[account_id] for account_id in dict.fromkeys(account_ids)]


def _denied(network: str, error: str, description: str | None) -> BadRequest:
    said = _clean(description or error)
    if error in DENIALS:
        return BadRequest(f"The person declined to connect Herald to {network} ({said}); nothing was connected.",
                          code="access_denied")
    return BadRequest(f"{network} did not authorize Herald: {said}. Connect again.", code="authorization_failed")


def _clean(text: str) -> str:
    return " ".join("".join(ch if ch.isprintable() else " " for ch in text).split())[:MAX_NETWORK_SAID]


def _redacted(message: str, secrets_: tuple[str, ...]) -> str:
    for value in secrets_:
        if value and len(value) >= 4:
            message = message.replace(value, "[redacted]")
    return _clean(message)


def _context(workspace_id: str, hashed_state: str) -> dict[str, str]:
    return {"workspace_id": workspace_id, "connect_state": hashed_state}


def _stamp(moment: datetime) -> str:
    return to_rfc3339(moment) or ""
