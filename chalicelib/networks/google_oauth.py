"""Google's OAuth 2.0 (web server flow), shared by YouTube and Google Business Profile, and the authenticated
call both adapters make.

- Authorize: `https://accounts.google.com/o/oauth2/v2/auth` (HERALD_GOOGLE_AUTHORIZE_URL) with `client_id`,
  `redirect_uri`, `response_type=code`, `scope` (space separated), `state`, `access_type=offline` (so that a
  refresh token comes back), `prompt=consent` (Google returns a refresh token only on a consent: without it a
  person reconnecting an account would give Herald no refresh token), `include_granted_scopes=true`, and PKCE
  (`code_challenge`, `code_challenge_method=S256`), which Google accepts for web clients.
- Token: `POST https://oauth2.googleapis.com/token` (HERALD_GOOGLE_TOKEN_URL), form encoded, with `client_id`,
  `client_secret`: `grant_type=authorization_code` with `code`, `redirect_uri`, `code_verifier`, or
  `grant_type=refresh_token` with `refresh_token`. It answers `{"access_token", "expires_in": 3599, "scope",
  "token_type": "Bearer", "refresh_token"?}`; a refresh answers no new refresh token (the old one stays valid).
- `{"error": "invalid_grant"}` (400) is what Google documents for a refresh token that was revoked, expired
  (unused for six months, a Testing app's seven days, a password change with Gmail scopes) or over the
  per-client limit: the person must connect again. Any other failure is retried: it never marks a channel
  needs_reauth.

Access tokens live an hour: `GoogleCall` refreshes one that is about to lapse, or that an API refuses with 401,
through the engine's `ChannelContext.refresh_credentials` (a conditional write, so two workers never race).
Sources: tests/events/youtube/README.md (OAuth section).
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from chalicelib.networks.base import (
    AmbiguousError,
    AuthError,
    ChannelContext,
    NetworkError,
    OAuthApp,
    PermanentError,
    RetryableError,
    TokenGrant,
)
from chalicelib.networks.http_failures import ErrorDetail, read_json, send

AUTHORIZE_URL = "https://accounts.google.com/o/oauth2/v2/auth"
TOKEN_URL = "https://oauth2.googleapis.com/token"
# A token that lapses within this margin is refreshed before the call, not after a refusal.
TOKEN_EXPIRY_MARGIN = timedelta(minutes=2)
REVOKED_ERROR = "invalid_grant"


def explain_token_error(response: Any) -> ErrorDetail:
    body = read_json(response)
    if not isinstance(body, Mapping):
        return ErrorDetail(text=(getattr(response, "text", "") or "")[:300])
    error = str(body.get("error") or "")
    description = str(body.get("error_description") or "")
    return ErrorDetail(text=f"{error}: {description}" if error and description else error or description,
                       not_auth=True)


def moment_of(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def credentials_of(grant: TokenGrant) -> dict[str, Any]:
    """What a Google channel keeps of a grant: both tokens, and when the access token lapses (RFC 3339)."""
    from chalicelib.core.clock import to_rfc3339

    credentials: dict[str, Any] = {"access_token": grant.access_token}
    if grant.refresh_token:
        credentials["refresh_token"] = grant.refresh_token
    if grant.expires_at is not None:
        credentials["expires_at"] = to_rfc3339(grant.expires_at)
    return credentials


class GoogleOAuth:
    """The token side both Google networks share; each network's `make_oauth` adds its scopes and accounts."""

    supports_pkce = True

    def __init__(self, http: Any = None, *, now: Callable[[], datetime], network: str, scopes: tuple[str, ...],
                 authorize_url: str | None = None, token_url: str | None = None) -> None:
        self._http = http
        self._now = now
        self.network = network
        self.scopes = scopes
        self.authorize_endpoint = (authorize_url or AUTHORIZE_URL).rstrip("/")
        self.token_endpoint = (token_url or TOKEN_URL).rstrip("/")

    @property
    def http(self) -> Any:
        if self._http is None:
            import requests

            self._http = requests.Session()
        return self._http

    def authorize_url(self, app: OAuthApp, redirect_uri: str, state: str, code_challenge: str | None) -> str:
        query = {"client_id": app.client_id, "redirect_uri": redirect_uri, "response_type": "code",
                 "scope": " ".join(self.scopes), "state": state, "access_type": "offline", "prompt": "consent",
                 "include_granted_scopes": "true"}
        if code_challenge:
            query |= {"code_challenge": code_challenge, "code_challenge_method": "S256"}
        return f"{self.authorize_endpoint}?{urlencode(query)}"

    def exchange_code(self, app: OAuthApp, code: str, redirect_uri: str, code_verifier: str | None) -> TokenGrant:
        form = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri,
                "client_id": app.client_id, "client_secret": app.client_secret}
        if code_verifier:
            form["code_verifier"] = code_verifier
        grant = self._token(form)
        if not grant.refresh_token:
            raise PermanentError("Google granted no refresh token (access_type=offline was not honoured); "
                                 "remove Herald's access in the Google account and connect again")
        return grant

    def refresh(self, app: OAuthApp, credentials: Mapping[str, Any]) -> TokenGrant:
        refresh_token = str(credentials.get("refresh_token") or "")
        if not refresh_token:
            raise AuthError(f"this {self.network} channel has no refresh token; connect it again")
        grant = self._token({"grant_type": "refresh_token", "refresh_token": refresh_token,
                             "client_id": app.client_id, "client_secret": app.client_secret})
        if grant.refresh_token:
            return grant
        # Google keeps the refresh token valid and does not repeat it: the channel keeps the one it has.
        return TokenGrant(access_token=grant.access_token, refresh_token=refresh_token,
                          expires_at=grant.expires_at, scopes=grant.scopes, extra=grant.extra)

    def _token(self, form: dict[str, str]) -> TokenGrant:
        try:
            response = send(self.http, "POST", self.token_endpoint, network="Google", explain=explain_token_error,
                            data=form, now=self._now,
                            headers={"Content-Type": "application/x-www-form-urlencoded"})
        except (AuthError, PermanentError) as exc:
            raise _token_refusal(exc) from None
        except AmbiguousError:
            raise RetryableError("Google's token endpoint did not answer in time") from None
        return self._grant(read_json(response))

    def _grant(self, body: Any) -> TokenGrant:
        if not isinstance(body, Mapping) or not body.get("access_token"):
            raise RetryableError("Google's token endpoint answered without an access token")
        expires_in = body.get("expires_in")
        expires_at = (self._now() + timedelta(seconds=float(expires_in))
                      if isinstance(expires_in, (int, float)) and not isinstance(expires_in, bool) else None)
        return TokenGrant(access_token=str(body["access_token"]),
                          refresh_token=str(body["refresh_token"]) if body.get("refresh_token") else None,
                          expires_at=expires_at, scopes=tuple(str(body.get("scope") or "").split()),
                          extra={"token_type": str(body.get("token_type") or "Bearer")})


def _token_refusal(exc: NetworkError) -> NetworkError:
    """invalid_grant is the person's grant gone (AuthError); a refused client is the operator's configuration
    and anything else may pass: retried, never needs_reauth."""
    if exc.status == 400 and REVOKED_ERROR in exc.message:
        return AuthError("Google no longer accepts this channel's authorization (it was revoked or expired); "
                         "connect the account again", status=exc.status)
    if exc.status in (400, 401) and "invalid_client" in exc.message:
        return RetryableError("Google refused Herald's app credentials on its token endpoint; check "
                              "HERALD_GOOGLE_CLIENT_ID and HERALD_GOOGLE_CLIENT_SECRET", status=exc.status)
    return RetryableError(exc.message, status=exc.status)


class GoogleCall:
    """One authenticated call to a Google API for a channel: the token refreshed before it lapses, and once
    more when the API answers 401 (Google's `authError`: the token expired or was revoked)."""

    def __init__(self, http: Callable[[], Any], now: Callable[[], datetime], network: str,
                 explain: Callable[[Any], ErrorDetail]) -> None:
        self._http = http
        self._now = now
        self.network = network
        self.explain = explain

    def __call__(self, channel: ChannelContext, method: str, url: str, **kwargs: Any) -> Any:
        """The response (2xx or, with `accept`, one of those statuses); the NetworkError of `send` otherwise."""
        if self._expiring(channel):
            self._refresh(channel)
        try:
            return self.send(channel, method, url, **kwargs)
        except AuthError as exc:
            if exc.status != 401 or channel.refresh_credentials is None:
                raise
        self._refresh(channel)
        return self.send(channel, method, url, **kwargs)

    def send(self, channel: ChannelContext, method: str, url: str, *, headers: Mapping[str, str] | None = None,
             accept: tuple[int, ...] = (), **kwargs: Any) -> Any:
        token = channel.credentials.get("access_token")
        if not token:
            raise AuthError(f"the {self.network} channel has no access token")
        http = _Accepting(self._http(), accept) if accept else self._http()
        try:
            return send(http, method, url, network=self.network, explain=self.explain, now=self._now,
                        headers={**(headers or {}), "Authorization": f"Bearer {token}"}, **kwargs)
        except _Accepted as accepted:
            return accepted.response

    def _expiring(self, channel: ChannelContext) -> bool:
        if channel.refresh_credentials is None:
            return False
        expires_at = moment_of(channel.credentials.get("expires_at"))
        return expires_at is not None and expires_at - TOKEN_EXPIRY_MARGIN <= self._now()

    def _refresh(self, channel: ChannelContext) -> None:
        if channel.refresh_credentials is None:
            raise AuthError(f"{self.network} refused this channel's token and it cannot be refreshed", status=401)
        channel.credentials = dict(channel.refresh_credentials())


class _Accepted(Exception):  # noqa: N818 - a non-2xx answer the caller expects (a resumable upload's 308)
    def __init__(self, response: Any) -> None:
        super().__init__(response.status_code)
        self.response = response


class _Accepting:
    """An HTTP session whose answers with an `accept`ed status bypass `send`'s error mapping, never followed
    as redirects (a resumable upload's `308 Resume Incomplete` is not one)."""

    def __init__(self, http: Any, accept: tuple[int, ...]) -> None:
        self.http = http
        self.accept = accept

    def request(self, method: str, url: str, **kwargs: Any) -> Any:
        response = self.http.request(method, url, allow_redirects=False, **kwargs)
        if response.status_code in self.accept:
            raise _Accepted(response)
        return response


def google_error(response: Any) -> tuple[int, str, str, str]:
    """Google's JSON error: `{"error": {"code", "message", "status", "errors": [{"domain", "reason",
    "message"}], "details": [...]}}` → (code, reason, status, message)."""
    body = read_json(response)
    error = body.get("error") if isinstance(body, Mapping) else None
    if not isinstance(error, Mapping):
        return (getattr(response, "status_code", 0), "", "", (getattr(response, "text", "") or "")[:300])
    errors = error.get("errors")
    first = errors[0] if isinstance(errors, list) and errors and isinstance(errors[0], Mapping) else {}
    reason = str(first.get("reason") or "")
    if not reason:
        for detail in error.get("details") or []:
            if isinstance(detail, Mapping) and detail.get("reason"):
                reason = str(detail["reason"])
                break
    code = error.get("code")
    return (code if isinstance(code, int) else getattr(response, "status_code", 0), reason,
            str(error.get("status") or ""), str(error.get("message") or first.get("message") or ""))
