"""Verifies a Cognito user pool token the way API Gateway's Cognito authorizer does: an RS256 signature by
one of the pool's keys (its JWKS, fetched once and cached), the pool's issuer, `token_use`, the app client
(`client_id` in an access token, `aud` in an ID token) and `exp`, against Herald's own clock.

PyJWT checks the signature and the issuer; the times are checked here, with the injected clock, so that
tests (and a moto server whose tokens carry the wall clock) decide what "now" is.

The JWKS URL is the operator's, and still fetched tightly (fetch_jwks): https, or http to a loopback address
(the local stack's emulator); no redirect followed; at most JWKS_MAX_BYTES read, in chunks.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from chalicelib.core.clock import Clock
from chalicelib.core.outbound import is_loopback_host

log = logging.getLogger("herald.people.jwt")

# Looking a key up again when a token names one we do not have (the pool rotated): at most this often.
JWKS_REFRESH_S = 300.0
ALLOWED_ALGORITHMS = ("RS256",)
# Clock skew allowed on `exp`, as API Gateway allows none beyond its own: none here either.
LEEWAY_S = 0


class InvalidToken(Exception):
    """The token is not one Herald accepts; the message says why (for the log, never with the token)."""


@dataclass(frozen=True)
class VerifiedToken:
    username: str  # the Cognito username: Herald's user id
    subject: str
    token_use: str
    issued_at: int
    expires_at: int
    claims: dict[str, Any]


def looks_like_jwt(token: str) -> bool:
    return token.count(".") == 2 and token.startswith("eyJ")


JwksFetcher = Callable[[str], dict[str, Any]]
# Cognito's JWKS is two keys, under 2 KB; an answer beyond this is not a JWKS.
JWKS_MAX_BYTES = 64 * 1024
JWKS_CHUNK_BYTES = 8192
JWKS_TIMEOUT_S = (3.05, 5.0)  # connect, each read


class JwksFetchError(Exception):
    """Why the pool's JWKS was not taken (logged by JwksCache; no token verifies meanwhile)."""


def check_jwks_url(url: str) -> None:
    """https, or http to a loopback address only (the local stack's AWS emulator, tests' servers)."""
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return
    if parts.scheme == "http" and is_loopback_host(parts.hostname or ""):
        return
    raise JwksFetchError(f"the JWKS URL must be https (http only to a loopback address), not {url!r}")


def fetch_jwks(url: str, session: Any = None, max_bytes: int = JWKS_MAX_BYTES) -> dict[str, Any]:
    """GET the JWKS: no redirect followed (one is an error), at most `max_bytes` read. `session`: anything
    with requests' `get` (default the requests module)."""
    check_jwks_url(url)
    if session is None:
        import requests as session
    with session.get(
        url, timeout=JWKS_TIMEOUT_S, allow_redirects=False, stream=True, headers={"Accept": "application/json"}
    ) as answer:
        if answer.is_redirect or 300 <= answer.status_code < 400:
            raise JwksFetchError(f"the JWKS URL answered {answer.status_code}, a redirect (not followed)")
        if answer.status_code != 200:
            raise JwksFetchError(f"the JWKS URL answered {answer.status_code}")
        body = _read_at_most(answer, max_bytes)
    try:
        data = json.loads(body)
    except ValueError:
        raise JwksFetchError("the JWKS is not JSON") from None
    if not isinstance(data, dict):
        raise JwksFetchError("the JWKS is not a JSON object")
    return data


def _read_at_most(answer: Any, max_bytes: int) -> bytes:
    too_large = JwksFetchError(f"the JWKS answer is larger than {max_bytes} bytes")
    declared = str(answer.headers.get("Content-Length") or "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise too_large
    body = bytearray()
    for chunk in answer.iter_content(chunk_size=JWKS_CHUNK_BYTES):
        body += chunk
        if len(body) > max_bytes:
            raise too_large
    return bytes(body)


class JwksCache:
    """The pool's signing keys by `kid`: fetched on first use, again only for an unknown `kid`, and not more
    than once in JWKS_REFRESH_S (a flood of made-up kids does not become a flood of fetches)."""

    def __init__(
        self, url: str, fetch: JwksFetcher = fetch_jwks, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self.url = url
        self._fetch = fetch
        self._monotonic = monotonic
        self._keys: dict[str, Any] = {}
        self._fetched_at: float | None = None
        self._lock = threading.Lock()

    def key(self, kid: str) -> Any:
        with self._lock:
            if kid not in self._keys and self._may_fetch():
                self._load()
            if kid not in self._keys:
                raise InvalidToken(f"no key {kid!r} in the user pool's JWKS")
            return self._keys[kid]

    def _may_fetch(self) -> bool:
        return self._fetched_at is None or self._monotonic() - self._fetched_at >= JWKS_REFRESH_S

    def _load(self) -> None:
        from jwt import PyJWK

        self._fetched_at = self._monotonic()
        try:
            document = self._fetch(self.url)
        except Exception as exc:  # a pool that cannot be reached: no token verifies until it can
            log.warning("The user pool's JWKS could not be fetched from %s: %s", self.url, exc)
            raise InvalidToken("the user pool's keys could not be fetched") from None
        keys: dict[str, Any] = {}
        for entry in document.get("keys", []):
            if isinstance(entry, dict) and entry.get("kty") == "RSA" and entry.get("kid"):
                keys[str(entry["kid"])] = PyJWK.from_json(json.dumps(entry), algorithm="RS256").key
        self._keys = keys


class CognitoTokenVerifier:
    def __init__(self, issuer: str, client_id: str, keys: JwksCache, clock: Clock) -> None:
        self.issuer = issuer
        self.client_id = client_id
        self.keys = keys
        self.clock = clock

    def verify(self, token: str) -> VerifiedToken:
        import jwt

        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise InvalidToken(f"not a JWT: {exc}") from None
        if header.get("alg") not in ALLOWED_ALGORITHMS:
            raise InvalidToken(f"algorithm {header.get('alg')!r} is not RS256")
        key = self.keys.key(str(header.get("kid", "")))
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=list(ALLOWED_ALGORITHMS),
                issuer=self.issuer,
                options={
                    "verify_exp": False,
                    "verify_iat": False,
                    "verify_nbf": False,
                    "verify_aud": False,
                    "require": ["exp", "iss", "token_use"],
                },
            )
        except jwt.PyJWTError as exc:
            raise InvalidToken(f"rejected: {exc}") from None
        return self._checked(claims)

    def _checked(self, claims: dict[str, Any]) -> VerifiedToken:
        token_use = claims.get("token_use")
        if token_use == "access":
            audience = claims.get("client_id")
        elif token_use == "id":
            audience = claims.get("aud")
        else:
            raise InvalidToken(f"token_use {token_use!r} is neither access nor id")
        if audience != self.client_id:
            raise InvalidToken("issued to another app client")
        expires_at = int(claims["exp"])
        if self.clock.now().timestamp() >= expires_at + LEEWAY_S:
            raise InvalidToken("expired")
        username = claims.get("username") if token_use == "access" else claims.get("cognito:username")
        if not isinstance(username, str) or not username:
            raise InvalidToken("names no user")
        return VerifiedToken(
            username,
            str(claims.get("sub", "")),
            str(token_use),
            int(claims.get("iat") or claims.get("auth_time") or 0),
            expires_at,
            claims,
        )
