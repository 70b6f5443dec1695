"""TikTok's OAuth v2 (Login Kit for Web): authorization code with PKCE (S256), refresh tokens.

- Authorize: `https://www.tiktok.com/v2/auth/authorize/` (HERALD_TIKTOK_AUTHORIZE_URL) with `client_key` (TikTok's
  name for the client id), `scope` (comma separated), `response_type=code`, `redirect_uri`, `state`,
  `code_challenge`, `code_challenge_method=S256`.
- Token: `POST {HERALD_TIKTOK_API_URL}/v2/oauth/token/`, form encoded: `client_key`, `client_secret`,
  `grant_type=authorization_code` with `code`, `redirect_uri`, `code_verifier`; `grant_type=refresh_token` with
  `refresh_token`. The answer: `{"access_token", "expires_in": 86400, "open_id", "refresh_token",
  "refresh_expires_in": 31536000, "scope", "token_type": "Bearer"}`. A refresh may answer a different refresh
  token: the caller stores the grant whole.
- Refusals: `{"error": "invalid_grant" | "invalid_request" | "invalid_client" ..., "error_description",
  "log_id"}`. Only `invalid_grant` (a code or refresh token that is expired, revoked or spent) means the user
  must connect again; `invalid_client` is the operator's configuration; the rest is retried.

Sources: tests/events/tiktok/README.md.
"""
from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from chalicelib.core.clock import Clock, SystemClock, to_rfc3339
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
from chalicelib.networks.http_failures import ErrorDetail, read_json, send

AUTHORIZE_URL = "https://www.tiktok.com/v2/auth/authorize/"
API_HOST = "https://open.tiktokapis.com"
# Who the user is (open_id, display name), posting directly, and uploading media.
SCOPES = ("user.info.basic", "video.publish", "video.upload")
NETWORK = "TikTok"


def explain_token_error(response: Any) -> ErrorDetail:
    body = read_json(response)
    if not isinstance(body, Mapping):
        return ErrorDetail(text=(getattr(response, "text", "") or "")[:300])
    error = body.get("error")
    if isinstance(error, Mapping):  # the API's envelope, should the token endpoint answer with it
        error = error.get("code")
    description = str(body.get("error_description") or "")
    code = str(error or "")
    return ErrorDetail(text=f"{code}: {description}" if code and description else code or description,
                       not_auth=True)


class TikTokOAuth:
    """`ConnectsByOAuth` for TikTok. Base URLs come from settings (HERALD_TIKTOK_AUTHORIZE_URL,
    HERALD_TIKTOK_API_URL); the app is HERALD_TIKTOK_CLIENT_KEY and HERALD_TIKTOK_CLIENT_SECRET."""

    network = "tiktok"
    supports_pkce = True

    def __init__(self, http: Any = None, clock: Clock | None = None, *, api_url: str | None = None,
                 authorize_url: str | None = None) -> None:
        self._http = http
        self._clock = clock or SystemClock()
        self.api_host = (api_url or API_HOST).rstrip("/")
        self.authorize_endpoint = authorize_url or AUTHORIZE_URL

    @property
    def http(self) -> Any:
        if self._http is None:
            import requests

            self._http = requests.Session()
        return self._http

    def authorize_url(self, app: OAuthApp, redirect_uri: str, state: str, code_challenge: str | None) -> str:
        query = {"client_key": app.client_id, "scope": ",".join(SCOPES), "response_type": "code",
                 "redirect_uri": redirect_uri, "state": state}
        if code_challenge:
            query |= {"code_challenge": code_challenge, "code_challenge_method": "S256"}
        return f"{self.authorize_endpoint}?{urlencode(query)}"

    def exchange_code(self, app: OAuthApp, code: str, redirect_uri: str, code_verifier: str | None) -> TokenGrant:
        form = {"client_key": app.client_id, "client_secret": app.client_secret, "code": code,
                "grant_type": "authorization_code", "redirect_uri": redirect_uri}
        if code_verifier:
            form["code_verifier"] = code_verifier
        return self._token(form)

    def refresh(self, app: OAuthApp, credentials: Mapping[str, Any]) -> TokenGrant:
        refresh_token = credentials.get("refresh_token")
        if not refresh_token:
            raise AuthError("this TikTok channel has no refresh token; connect it again")
        grant = self._token({"client_key": app.client_id, "client_secret": app.client_secret,
                             "grant_type": "refresh_token", "refresh_token": str(refresh_token)})
        if grant.refresh_token is None:  # TikTok keeps the old one when it answers none
            grant = TokenGrant(access_token=grant.access_token, refresh_token=str(refresh_token),
                               expires_at=grant.expires_at, refresh_expires_at=grant.refresh_expires_at,
                               scopes=grant.scopes, extra=grant.extra)
        return grant

    def granted_accounts(self, app: OAuthApp, grant: TokenGrant) -> list[GrantedAccount]:
        """The one TikTok user the grant acts for (`GET /v2/user/info/`)."""
        from chalicelib.networks.tiktok_publish import explain_error

        response = send(self.http, "GET", f"{self.api_host}/v2/user/info/", network=NETWORK, explain=explain_error,
                        headers={"Authorization": f"Bearer {grant.access_token}"},
                        params={"fields": "open_id,display_name,avatar_url"}, now=self._clock.now)
        body = read_json(response)
        data = body.get("data") if isinstance(body, Mapping) else None
        user = data.get("user") if isinstance(data, Mapping) else None
        user = user if isinstance(user, Mapping) else {}
        open_id = str(user.get("open_id") or grant.extra.get("open_id") or "")
        if not open_id or len(open_id) > 128 or not open_id.isprintable():
            raise PermanentError("TikTok returned no open_id for this grant")
        name = str(user.get("display_name") or open_id)
        return [GrantedAccount(network="tiktok", account_id=open_id, handle=name, name=name,
                               credentials=credentials_of(grant), settings={"open_id": open_id},
                               avatar_url=str(user["avatar_url"]) if user.get("avatar_url") else None)]

    def _token(self, form: dict[str, str]) -> TokenGrant:
        try:
            response = send(self.http, "POST", f"{self.api_host}/v2/oauth/token/", network=NETWORK,
                            explain=explain_token_error, data=form, now=self._clock.now,
                            headers={"Content-Type": "application/x-www-form-urlencoded",
                                     "Cache-Control": "no-cache"})
        except (AuthError, PermanentError) as exc:
            raise _token_refusal(exc) from None
        except AmbiguousError:
            raise RetryableError("TikTok's token endpoint did not answer in time") from None
        body = read_json(response)
        # TikTok may answer 200 with an error body.
        if isinstance(body, Mapping) and body.get("error") and not body.get("access_token"):
            raise _token_refusal(PermanentError(explain_token_error(response).text, status=400))
        return self._grant(body)

    def _grant(self, body: Any) -> TokenGrant:
        if not isinstance(body, Mapping) or not body.get("access_token"):
            raise RetryableError("TikTok's token endpoint answered without an access token")
        now = self._clock.now()
        return TokenGrant(
            access_token=str(body["access_token"]),
            refresh_token=str(body["refresh_token"]) if body.get("refresh_token") else None,
            expires_at=_after(now, body.get("expires_in")),
            refresh_expires_at=_after(now, body.get("refresh_expires_in")),
            scopes=tuple(scope for scope in str(body.get("scope") or "").split(",") if scope),
            extra={"token_type": str(body.get("token_type") or "Bearer"), "open_id": str(body.get("open_id") or "")},
        )


def _after(now: Any, seconds: Any) -> Any:
    if isinstance(seconds, (int, float)) and not isinstance(seconds, bool) and seconds > 0:
        return now + timedelta(seconds=float(seconds))
    return None


def _token_refusal(exc: NetworkError) -> NetworkError:
    """Only `invalid_grant` is a revoked or expired grant (AuthError); a refused client is the operator's
    configuration and anything else may pass: neither must mark a channel needs_reauth."""
    text = exc.message.lower()
    if "invalid_grant" in text:
        return AuthError("TikTok no longer accepts this channel's authorization (it was revoked, expired or already "
                         "used); connect the account again", status=exc.status)
    if "invalid_client" in text or "unauthorized_client" in text:
        return RetryableError("TikTok refused Herald's app credentials on its token endpoint; check "
                              "HERALD_TIKTOK_CLIENT_KEY and HERALD_TIKTOK_CLIENT_SECRET", status=exc.status)
    return RetryableError(exc.message, status=exc.status)


def credentials_of(grant: TokenGrant) -> dict[str, Any]:
    """What a TikTok channel keeps of a grant: both tokens and when each expires (access: 24 hours,
    refresh: a year)."""
    credentials: dict[str, Any] = {"access_token": grant.access_token}
    if grant.refresh_token:
        credentials["refresh_token"] = grant.refresh_token
    if grant.expires_at is not None:
        credentials["expires_at"] = to_rfc3339(grant.expires_at)
    if grant.refresh_expires_at is not None:
        credentials["refresh_expires_at"] = to_rfc3339(grant.refresh_expires_at)
    return credentials


def make_oauth(http: Any = None, clock: Clock | None = None, *, api_url: str | None = None,
               authorize_url: str | None = None) -> TikTokOAuth:
    return TikTokOAuth(http=http, clock=clock, api_url=api_url, authorize_url=authorize_url)
