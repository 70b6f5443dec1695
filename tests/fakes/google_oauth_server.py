"""What Google's local fakes share: the OAuth 2.0 token endpoint (`POST /token`), bearer tokens that expire and
are revoked, and Google's JSON error shape. YouTubeApi and GoogleBusinessApi build on it.

- `POST /token` (form): `grant_type=authorization_code` (`code`, `redirect_uri`, `code_verifier` checked against
  the S256 challenge the authorization carried, `client_id`/`client_secret`) answers `{"access_token",
  "expires_in": 3599, "refresh_token", "scope", "token_type": "Bearer"}`; `grant_type=refresh_token` answers a
  new access token and no refresh token. A revoked refresh token, a spent or unknown code: 400 `invalid_grant`;
  a wrong client: 401 `invalid_client`. Sources: tests/events/youtube/README.md (OAuth).
"""
from __future__ import annotations

import base64
import hashlib
import itertools
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from chalicelib.core.clock import Clock
from tests.fakes.local_http import Answer, LocalHttpFake, Request, Route

ACCESS_LIFETIME_S = 3599


def google_error(code: int, reason: str, message: str, status: str, domain: str = "global") -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "errors": [{"message": message, "domain": domain,
                                                                   "reason": reason}], "status": status}}


UNAUTHENTICATED = google_error(401, "authError", "Request had invalid authentication credentials. Expected OAuth "
                               "2 access token, login cookie or other valid authentication credential.",
                               "UNAUTHENTICATED")


@dataclass
class Code:
    redirect_uri: str
    user: str
    code_challenge: str | None
    scope: str


class GoogleFake(LocalHttpFake):
    """Subclass: add the API's routes to `routes()` and call `self.user_of(request)` in each handler."""

    def __init__(self, clock: Clock, *, client_id: str = "herald-google.apps.googleusercontent.com",
                 client_secret: str = "google-client-secret") -> None:
        super().__init__()
        self.clock = clock
        self.client_id = client_id
        self.client_secret = client_secret
        self._tokens = itertools.count(1)
        self.access_tokens: dict[str, tuple[str, Any]] = {}  # token → (user, expires at)
        self.refresh_tokens: dict[str, str] = {}  # refresh token → user
        self.codes: dict[str, Code] = {}
        self.revoked: set[str] = set()

    # -- the world ---------------------------------------------------------------------------------------------

    def token_for(self, user: str, token: str | None = None, *, lifetime_s: int = ACCESS_LIFETIME_S) -> str:
        token = token or f"ya29.fake-{next(self._tokens)}"
        with self.lock:
            self.access_tokens[token] = (user, self.clock.now() + timedelta(seconds=lifetime_s))
        return token

    def refresh_token_for(self, user: str, token: str | None = None) -> str:
        token = token or f"1//fake-refresh-{next(self._tokens)}"
        with self.lock:
            self.refresh_tokens[token] = user
        return token

    def authorization_code(self, code: str, redirect_uri: str, user: str, code_challenge: str | None,
                           scope: str = "") -> None:
        with self.lock:
            self.codes[code] = Code(redirect_uri, user, code_challenge, scope)

    def revoke(self, token: str) -> None:
        """Revokes an access or refresh token (the person removed Herald's access)."""
        with self.lock:
            self.revoked.add(token)

    def user_of(self, request: Request) -> str:
        """The user whose bearer token authorizes the request; a 401 Answer otherwise."""
        if "access_token" in request.query or "key" in request.query:
            self.violation(f"{request.path}: a credential in the URL")
        header = request.headers.get("authorization", "")
        if not header.startswith("Bearer "):
            raise Answer(401, UNAUTHENTICATED)
        token = header.removeprefix("Bearer ")
        entry = self.access_tokens.get(token)
        if entry is None or token in self.revoked or entry[1] <= self.clock.now():
            raise Answer(401, UNAUTHENTICATED)
        return str(entry[0])

    # -- the token endpoint ------------------------------------------------------------------------------------

    def oauth_routes(self) -> list[Route]:
        return [("POST", r"/token", self._token)]

    def _token(self, request: Request) -> Answer:
        if not request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
            return self.violation("the token request is not form encoded")
        form = request.form()
        if form.get("client_id") != self.client_id or form.get("client_secret") != self.client_secret:
            return Answer(401, {"error": "invalid_client", "error_description": "Unauthorized"})
        if form.get("grant_type") == "authorization_code":
            return self._exchange(form)
        if form.get("grant_type") == "refresh_token":
            user = self.refresh_tokens.get(form.get("refresh_token", ""))
            if user is None or form.get("refresh_token") in self.revoked:
                return Answer(400, {"error": "invalid_grant", "error_description": "Token has been expired or "
                                                                                   "revoked."})
            return Answer(200, {"access_token": self.token_for(user), "expires_in": ACCESS_LIFETIME_S,
                                "scope": "", "token_type": "Bearer"})
        return Answer(400, {"error": "unsupported_grant_type", "error_description": "Invalid grant_type"})

    def _exchange(self, form: dict[str, str]) -> Answer:
        code = self.codes.pop(form.get("code", ""), None)
        if code is None:
            return Answer(400, {"error": "invalid_grant", "error_description": "Malformed auth code."})
        if form.get("redirect_uri") != code.redirect_uri:
            return Answer(400, {"error": "redirect_uri_mismatch", "error_description": "Bad Request"})
        if code.code_challenge is not None:
            verifier = form.get("code_verifier", "")
            digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
            if digest != code.code_challenge:
                return Answer(400, {"error": "invalid_grant", "error_description": "Missing code verifier."})
        return Answer(200, {"access_token": self.token_for(code.user), "expires_in": ACCESS_LIFETIME_S,
                            "refresh_token": self.refresh_token_for(code.user), "scope": code.scope,
                            "token_type": "Bearer"})
