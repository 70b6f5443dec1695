"""X's OAuth 2.0 side: Authorization Code with PKCE (S256, which X requires), confidential client.

- Authorize: `https://x.com/i/oauth2/authorize` (HERALD_X_AUTHORIZE_URL) with `response_type=code`,
  `client_id`, `redirect_uri`, `scope` (space separated), `state`, `code_challenge`, `code_challenge_method=S256`.
- Token: `POST {HERALD_X_API_URL}/2/oauth2/token`, form encoded, `Authorization: Basic base64(id:secret)`:
  `grant_type=authorization_code` with `code`, `redirect_uri`, `code_verifier`; `grant_type=refresh_token` with
  `refresh_token`. The answer: `{"token_type": "bearer", "expires_in": 7200, "access_token", "scope",
  "refresh_token"}`. Access tokens last two hours; `offline.access` is what brings a refresh token, and each
  refresh answers a NEW refresh token: the old one is spent, so the caller must store the grant atomically.
- A refresh token that is spent, revoked or expired is answered 400 `{"error": "invalid_request",
  "error_description": "Value passed for the token was invalid."}` (X uses `invalid_request` where RFC 6749 says
  `invalid_grant`; both mean the user must connect again).

Sources: tests/events/x/README.md.
"""
from __future__ import annotations

import base64
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from chalicelib.networks.base import (
    AmbiguousError,
    AuthError,
    GrantedAccount,
    NetworkError,
    OAuthApp,
    PermanentError,
    RetryableError,
    TokenGrant,
)
from chalicelib.networks.http_failures import ErrorDetail, object_at, read_json, send

AUTHORIZE_URL = "https://x.com/i/oauth2/authorize"
API_HOST = "https://api.x.com"
# Publishing (posts, media), who the user is, staying connected past two hours, and the inbox's direct messages.
SCOPES = ("tweet.read", "tweet.write", "users.read", "media.write", "offline.access", "dm.read", "dm.write")
# The token errors X and RFC 6749 use for a refresh token (or code) that is spent, revoked or expired.
REVOKED_ERRORS = ("invalid_grant", "invalid_request")


def explain_token_error(response: Any) -> ErrorDetail:
    body = read_json(response)
    if not isinstance(body, Mapping):
        return ErrorDetail(text=(getattr(response, "text", "") or "")[:300])
    error = str(body.get("error") or "")
    description = str(body.get("error_description") or body.get("detail") or "")
    return ErrorDetail(text=f"{error}: {description}" if error and description else error or description)


class XOAuth:
    """`ConnectsByOAuth` for X. Base URLs come from settings (HERALD_X_AUTHORIZE_URL, HERALD_X_API_URL)."""

    network = "x"

    def __init__(self, http: Any = None, *, now: Callable[[], datetime], authorize_url: str | None = None,
                 api_url: str | None = None) -> None:
        self._http = http
        self._now = now
        self.authorize_endpoint = (authorize_url or AUTHORIZE_URL).rstrip("/")
        self.api_host = (api_url or API_HOST).rstrip("/")

    @property
    def http(self) -> Any:
        if self._http is None:
            import requests

            self._http = requests.Session()
        return self._http

    def authorize_url(self, app: OAuthApp, redirect_uri: str, state: str, code_challenge: str | None) -> str:
        if not code_challenge:
            raise PermanentError("X requires PKCE: the authorization needs an S256 code challenge")
        query = {
            "response_type": "code",
            "client_id": app.client_id,
            "redirect_uri": redirect_uri,
            "scope": " ".join(SCOPES),
            "state": state,
            "code_challenge": code_challenge,
            "code_challenge_method": "S256",
        }
        return f"{self.authorize_endpoint}?{urlencode(query)}"

    def exchange_code(self, app: OAuthApp, code: str, redirect_uri: str, code_verifier: str | None) -> TokenGrant:
        if not code_verifier:
            raise PermanentError("X requires PKCE: the code exchange needs the code verifier")
        return self._token(app, {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri,
                                 "code_verifier": code_verifier, "client_id": app.client_id})

    def refresh(self, app: OAuthApp, credentials: Mapping[str, Any]) -> TokenGrant:
        refresh_token = credentials.get("refresh_token")
        if not refresh_token:
            raise AuthError("this X channel has no refresh token; connect it again")
        return self._token(app, {"grant_type": "refresh_token", "refresh_token": str(refresh_token),
                                 "client_id": app.client_id})

    def granted_accounts(self, app: OAuthApp, grant: TokenGrant) -> list[GrantedAccount]:
        """The one X user the grant acts for (`GET /2/users/me`)."""
        response = send(self.http, "GET", f"{self.api_host}/2/users/me", network="X", explain=_explain_api,
                        headers={"Authorization": f"Bearer {grant.access_token}"},
                        params={"user.fields": "profile_image_url"}, now=self._now)
        body = read_json(response)
        data = object_at(body, "data")
        user_id = str(data.get("id") or "")
        if not (user_id.isascii() and user_id.isdigit()):
            raise PermanentError("X returned no user id for this token")
        username = str(data.get("username") or user_id)
        return [GrantedAccount(
            network="x", account_id=user_id, handle=username, name=str(data.get("name") or username),
            credentials=credentials_of(grant), settings={"user_id": user_id, "username": username},
            avatar_url=str(data["profile_image_url"]) if data.get("profile_image_url") else None,
        )]

    def _token(self, app: OAuthApp, form: dict[str, str]) -> TokenGrant:
        basic = base64.b64encode(f"{app.client_id}:{app.client_secret}".encode()).decode("ascii")
        try:
            response = send(self.http, "POST", f"{self.api_host}/2/oauth2/token", network="X",
                            explain=explain_token_error, data=form, now=self._now,
                            headers={"Authorization": f"Basic {basic}",
                                     "Content-Type": "application/x-www-form-urlencoded"})
        except (AuthError, PermanentError) as exc:
            raise _token_refusal(exc) from None
        except AmbiguousError:
            # X may have rotated the refresh token without Herald hearing the new one; all a worker can do is try
            # again (a spent token then answers invalid_request, which is the truth: the user must reconnect).
            raise RetryableError("X's token endpoint did not answer in time") from None
        return self._grant(read_json(response))

    def _grant(self, body: Any) -> TokenGrant:
        if not isinstance(body, Mapping) or not body.get("access_token"):
            raise RetryableError("X's token endpoint answered without an access token")
        expires_in = body.get("expires_in")
        expires_at = (self._now() + timedelta(seconds=float(expires_in))
                      if isinstance(expires_in, (int, float)) and not isinstance(expires_in, bool) else None)
        return TokenGrant(
            access_token=str(body["access_token"]),
            refresh_token=str(body["refresh_token"]) if body.get("refresh_token") else None,
            expires_at=expires_at,
            scopes=tuple(str(body.get("scope") or "").split()),
            extra={"token_type": str(body.get("token_type") or "bearer")},
        )


def _token_refusal(exc: NetworkError) -> NetworkError:
    """Only what X documents as a spent/revoked grant is an AuthError; a refused client is the operator's
    configuration (reconnecting would not help) and must never mark a channel needs_reauth."""
    text = exc.message.lower()
    if exc.status == 400 and any(code in text for code in REVOKED_ERRORS):
        return AuthError("X no longer accepts this channel's authorization (it was revoked, expired or already "
                         "used); connect the account again", status=exc.status)
    if exc.status == 401:
        return RetryableError("X refused Herald's app credentials on its token endpoint; check "
                              "HERALD_X_CLIENT_ID and HERALD_X_CLIENT_SECRET", status=exc.status)
    return PermanentError(exc.message, status=exc.status)


def _explain_api(response: Any) -> ErrorDetail:
    from chalicelib.networks.x_errors import explain_error

    return explain_error(response)


def credentials_of(grant: TokenGrant) -> dict[str, Any]:
    """What an X channel keeps of a grant: both tokens (the refresh token rotates) and when the access expires."""
    from chalicelib.core.clock import to_rfc3339

    credentials: dict[str, Any] = {"access_token": grant.access_token}
    if grant.refresh_token:
        credentials["refresh_token"] = grant.refresh_token
    if grant.expires_at is not None:
        credentials["expires_at"] = to_rfc3339(grant.expires_at)
    return credentials
