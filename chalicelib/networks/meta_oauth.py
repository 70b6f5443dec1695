"""Connecting Facebook Pages and their Instagram accounts with Facebook Login (authorization code flow).

1. The person authorizes at `HERALD_META_AUTHORIZE_URL` (`https://www.facebook.com/<version>/dialog/oauth`).
2. The code is exchanged at `{graph}/oauth/access_token` for a short-lived user token, which is exchanged at
   once for a long-lived one (`grant_type=fb_exchange_token`, about 60 days).
3. `/me/accounts` with that token lists the Pages, each with its own Page token and its linked Instagram
   professional account. A Page token obtained from a long-lived user token has no expiry ("Long-Lived Access
   Tokens"), so there is nothing to refresh: the channel keeps the Page token, and the user token's expiry is
   recorded (`user_token_expires_at`) only so that health can warn before the grant itself lapses. The user
   token is not kept.

Meta has no refresh token. Parameters travel in a form body, not the URL, so the app secret never sits in a
URL (Graph takes parameters either way). Sources: tests/events/meta/README.md ("Connecting by OAuth").
"""
from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from functools import partial
from typing import Any
from urllib.parse import urlencode

from chalicelib.core.clock import Clock, SystemClock
from chalicelib.networks.base import (
    AuthError,
    GrantedAccount,
    NetworkError,
    OAuthApp,
    PermanentError,
    RetryableError,
    TokenGrant,
)
from chalicelib.networks.http_failures import object_at, read_json, send
from chalicelib.networks.meta_errors import GRAPH_API_VERSION, GRAPH_URL, explain_error

AUTHORIZE_URL = f"https://www.facebook.com/{GRAPH_API_VERSION}/dialog/oauth"
# Publishing to Pages and Instagram, and the inbox (Page comments, Messenger, Instagram comments and DMs).
SCOPES = (
    "pages_show_list",
    "pages_read_engagement",
    "pages_manage_posts",
    "pages_read_user_content",
    "pages_manage_engagement",
    "pages_messaging",
    "business_management",
    "instagram_basic",
    "instagram_content_publish",
    "instagram_manage_comments",
    "instagram_manage_messages",
)
ACCOUNTS_FIELDS = "id,name,access_token,instagram_business_account{id,username}"
ACCOUNTS_PAGE_SIZE = 100
MAX_ACCOUNT_PAGES = 20


class MetaOAuth:
    """Herald's `ConnectsByOAuth` for Meta. `config_id` (HERALD_META_LOGIN_CONFIG_ID) is a Facebook Login for
    Business configuration; when set it replaces `scope`, as that product documents."""

    def __init__(self, http: Any = None, clock: Clock | None = None, *, graph_url: str | None = None,
                 authorize_endpoint: str | None = None, config_id: str | None = None) -> None:
        self._http = http
        self._clock = clock or SystemClock()
        self.graph_url = (graph_url or GRAPH_URL).rstrip("/")
        self.authorize_endpoint = (authorize_endpoint or AUTHORIZE_URL).rstrip("/")
        self.config_id = config_id

    @property
    def http(self) -> Any:
        if self._http is None:
            import requests

            self._http = requests.Session()
        return self._http

    def authorize_url(self, app: OAuthApp, redirect_uri: str, state: str, code_challenge: str | None) -> str:
        params = {"client_id": app.client_id, "redirect_uri": redirect_uri, "state": state, "response_type": "code"}
        if self.config_id:
            params["config_id"] = self.config_id
        else:
            params["scope"] = ",".join(SCOPES)
        if code_challenge:  # Facebook Login takes PKCE S256 (its OIDC code flow guide)
            params["code_challenge"] = code_challenge
            params["code_challenge_method"] = "S256"
        return f"{self.authorize_endpoint}?{urlencode(params)}"

    def exchange_code(self, app: OAuthApp, code: str, redirect_uri: str, code_verifier: str | None) -> TokenGrant:
        form = {"client_id": app.client_id, "client_secret": app.client_secret, "redirect_uri": redirect_uri,
                "code": code}
        if code_verifier:
            form["code_verifier"] = code_verifier
        short_lived = self._token(form)
        return self._long_lived(app, short_lived)

    def refresh(self, app: OAuthApp, credentials: Mapping[str, Any]) -> TokenGrant:
        """A Page token from a long-lived user token does not expire: it stays as it is. A user token, where a
        channel keeps one, is exchanged again; Graph's code 190 (expired, revoked) is an AuthError."""
        user_token = credentials.get("user_access_token")
        if user_token:
            try:
                return self._long_lived(app, str(user_token))
            except (AuthError, RetryableError):
                raise
            except NetworkError as exc:  # not a documented revocation: never a reason to reconnect
                raise RetryableError(exc.message, status=exc.status) from None
        page_token = credentials.get("page_access_token") or credentials.get("access_token")
        if not page_token:
            raise AuthError("the channel has no Meta token to keep; connect it again")
        return TokenGrant(access_token=str(page_token), expires_at=None)

    def granted_accounts(self, app: OAuthApp, grant: TokenGrant) -> list[GrantedAccount]:
        expiry = {"user_token_expires_at": grant.expires_at.isoformat()} if grant.expires_at else {}
        accounts: list[GrantedAccount] = []
        for page in self._pages(grant.access_token):
            page_id, token = _digits(page.get("id")), page.get("access_token")
            if not page_id or not isinstance(token, str) or not token:
                continue  # a Page the person cannot act on (no token): nothing to publish with
            name = str(page.get("name") or page_id)
            accounts.append(GrantedAccount(
                network="facebook", account_id=page_id, handle=name, name=name,
                credentials={"page_access_token": token, **expiry}, settings={"page_id": page_id},
            ))
            instagram = object_at(page, "instagram_business_account")
            ig_user_id = _digits(instagram.get("id"))
            if ig_user_id:
                username = str(instagram.get("username") or ig_user_id)
                accounts.append(GrantedAccount(
                    network="instagram", account_id=ig_user_id, handle=username, name=username,
                    credentials={"access_token": token, **expiry},
                    settings={"ig_user_id": ig_user_id, "page_id": page_id},
                ))
        return accounts

    def _pages(self, user_token: str) -> list[Mapping[str, Any]]:
        pages: list[Mapping[str, Any]] = []
        params = {"fields": ACCOUNTS_FIELDS, "limit": str(ACCOUNTS_PAGE_SIZE)}
        for _ in range(MAX_ACCOUNT_PAGES):
            body = self._get("me/accounts", user_token, params)
            data = body.get("data")
            pages += [p for p in data if isinstance(p, Mapping)] if isinstance(data, list) else []
            paging = object_at(body, "paging")
            cursors = object_at(paging, "cursors")
            after = cursors.get("after")
            if not paging.get("next") or not isinstance(after, str) or not after:
                break
            params = {**params, "after": after}
        return pages

    def _long_lived(self, app: OAuthApp, user_token: str) -> TokenGrant:
        form = {"grant_type": "fb_exchange_token", "client_id": app.client_id, "client_secret": app.client_secret,
                "fb_exchange_token": user_token}
        body = self._post_token(form)
        token = body.get("access_token")
        if not isinstance(token, str) or not token:
            raise PermanentError("Facebook answered the token exchange without an access token")
        expires_in = body.get("expires_in")
        expires_at = (self._clock.now() + timedelta(seconds=float(expires_in))
                      if isinstance(expires_in, (int, float)) and not isinstance(expires_in, bool) and expires_in > 0
                      else None)
        return TokenGrant(access_token=token, expires_at=expires_at,
                          extra={"token_type": str(body.get("token_type") or "bearer"), "long_lived": True})

    def _token(self, form: Mapping[str, str]) -> str:
        token = self._post_token(form).get("access_token")
        if not isinstance(token, str) or not token:
            raise PermanentError("Facebook answered the code exchange without an access token")
        return token

    def _post_token(self, form: Mapping[str, str]) -> dict[str, Any]:
        response = send(self.http, "POST", f"{self.graph_url}/oauth/access_token", network="Facebook",
                        explain=partial(explain_error, network="Facebook"), data=dict(form), now=self._clock.now)
        body = read_json(response)
        return body if isinstance(body, dict) else {}

    def _get(self, path: str, token: str, params: Mapping[str, str]) -> dict[str, Any]:
        response = send(self.http, "GET", f"{self.graph_url}/{path}", network="Facebook",
                        explain=partial(explain_error, network="Facebook"),
                        headers={"Authorization": f"Bearer {token}"}, params=params, now=self._clock.now)
        body = read_json(response)
        return body if isinstance(body, dict) else {}


def _digits(value: Any) -> str:
    text = str(value) if isinstance(value, (str, int)) and not isinstance(value, bool) else ""
    return text if text.isascii() and text.isdigit() else ""
