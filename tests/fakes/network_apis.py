"""A local HTTP fake of the four identity calls Herald makes when a channel connects.

One real HTTP server on 127.0.0.1 answers, on the same paths as the real hosts:
- Graph API (Facebook Pages, Instagram), `GET /<version>/me?fields=...` with a Page token:
  `{"id", "name"}` for `fields=id,name`; `{"instagram_business_account": {"id", "username"}, "id"}`
  for `fields=instagram_business_account{id,username}`. Unknown token: 400
  `{"error": {"message", "type": "OAuthException", "code": 190, "fbtrace_id"}}` (Graph's error-handling guide).
- X API v2, `GET /2/users/me` with a user bearer token: `{"data": {"id", "name", "username"}}`;
  unknown token: 401 `{"title": "Unauthorized", "type": "about:blank", "status": 401, "detail": "Unauthorized"}`.
- LinkedIn, `GET /rest/organizationAcls?q=roleAssignee&role=ADMINISTRATOR&state=APPROVED` with
  `LinkedIn-Version: YYYYMM` and `X-Restli-Protocol-Version: 2.0.0`:
  `{"paging", "elements": [{"organization", "role", "roleAssignee", "state"}]}`; unknown token: 401
  `{"status": 401, "serviceErrorCode": 65600, "code": "INVALID_ACCESS_TOKEN", "message"}`; no version: 400.
- TikTok, `GET /v2/user/info/?fields=open_id,display_name`: `{"data": {"user": {...}}, "error": {"code": "ok"}}`;
  unknown token: 401 with `error.code` `access_token_invalid`.

Every request is recorded (`requests`); other paths answer what a test scripted with `answer(...)`, else 404.
The sources are cited in tests/events/<network>/README.md.

    apis.facebook_page("page-token", "448242228374517", "Herald Coffee")
    container settings: apis.settings(get_settings())
"""
from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import parse_qs, urlsplit

from chalicelib.core.settings import Settings

GRAPH_VERSION_PATH = re.compile(r"^/v\d+\.\d+(?P<rest>/.*)$")
INSTAGRAM_FIELDS = "instagram_business_account{id,username}"
LINKEDIN_VERSION = re.compile(r"^\d{6}$")


@dataclass(frozen=True)
class Recorded:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any


@dataclass
class Scripted:
    status: int
    body: Any


@dataclass
class _State:
    pages: dict[str, dict[str, Any]] = field(default_factory=dict)  # Page token → Page (and its IG account)
    x_users: dict[str, dict[str, str]] = field(default_factory=dict)
    linkedin_acls: dict[str, list[dict[str, str]]] = field(default_factory=dict)
    tiktok_users: dict[str, dict[str, str]] = field(default_factory=dict)
    scripted: dict[tuple[str, str], list[Scripted]] = field(default_factory=dict)
    requests: list[Recorded] = field(default_factory=list)


class NetworkApis:
    """Start with `with NetworkApis() as apis:` (or `start()`/`stop()`); `reset()` forgets everything."""

    def __init__(self) -> None:
        self._state = _State()
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -----------------------------------------------------------------------

    def start(self) -> Self:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="network-apis-fake", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def reset(self) -> None:
        with self._lock:
            self._state = _State()

    @property
    def url(self) -> str:
        assert self._server is not None, "the fake is not started"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def settings(self, base: Settings, graph_version: str = "v25.0") -> Settings:
        """`base` with every network API pointed here (HERALD_*_API_URL, HERALD_META_GRAPH_URL)."""
        return replace(base, meta_graph_url=f"{self.url}/{graph_version}", x_api_url=self.url,
                       linkedin_api_url=self.url, tiktok_api_url=self.url)

    # -- what the networks know ----------------------------------------------------------------

    def facebook_page(self, token: str, page_id: str, name: str = "A Page", *,
                      instagram: tuple[str, str] | None = None) -> None:
        """A Page token; `instagram=(ig_user_id, username)` links an Instagram professional account."""
        with self._lock:
            self._state.pages[token] = {"id": page_id, "name": name, "instagram": instagram}

    def x_user(self, token: str, user_id: str, username: str = "someone") -> None:
        with self._lock:
            self._state.x_users[token] = {"id": user_id, "name": username.title(), "username": username}

    def linkedin_member(self, token: str, *organizations: str, role: str = "ADMINISTRATOR",
                        state: str = "APPROVED", member: str = "urn:li:person:fake1") -> None:
        with self._lock:
            acls = self._state.linkedin_acls.setdefault(token, [])
            acls.extend({"organization": urn, "role": role, "state": state, "roleAssignee": member}
                        for urn in organizations)

    def tiktok_user(self, token: str, open_id: str, display_name: str = "someone") -> None:
        with self._lock:
            self._state.tiktok_users[token] = {"open_id": open_id, "display_name": display_name}

    def answer(self, method: str, path: str, status: int, body: Any) -> None:
        """Scripts the next answer to `method path` (path as sent, e.g. /v25.0/123/comments)."""
        with self._lock:
            self._state.scripted.setdefault((method, path), []).append(Scripted(status, body))

    @property
    def requests(self) -> list[Recorded]:
        with self._lock:
            return list(self._state.requests)

    def requests_to(self, path_part: str) -> list[Recorded]:
        return [r for r in self.requests if path_part in r.path]

    # -- answering -----------------------------------------------------------------------

    def _answer(self, recorded: Recorded) -> tuple[int, Any]:
        with self._lock:
            self._state.requests.append(recorded)
            state = self._state
            scripted = state.scripted.get((recorded.method, recorded.path))
            if scripted:
                answer = scripted.pop(0)
                return answer.status, answer.body
        token = _bearer(recorded.headers)
        path, query = recorded.path, recorded.query
        if recorded.method == "GET" and path == "/2/users/me":
            return _x_me(state, token)
        if recorded.method == "GET" and path == "/rest/organizationAcls":
            return _linkedin_acls(state, token, recorded.headers, query)
        if recorded.method == "GET" and path == "/v2/user/info/":
            return _tiktok_user_info(state, token, query)
        graph = GRAPH_VERSION_PATH.match(path)
        if recorded.method == "GET" and graph and graph.group("rest") == "/me":
            return _graph_me(state, token, query)
        return 404, {"error": {"message": f"Unknown path {path}", "type": "GraphMethodException", "code": 100}}


def _bearer(headers: dict[str, str]) -> str | None:
    value = headers.get("authorization", "")
    scheme, _, token = value.partition(" ")
    return token if scheme == "Bearer" and token else None


def _one(query: dict[str, list[str]], name: str) -> str:
    values = query.get(name) or [""]
    return values[0]


def _graph_me(state: _State, token: str | None, query: dict[str, list[str]]) -> tuple[int, Any]:
    page = state.pages.get(token or "")
    if page is None:
        return 400, {"error": {"message": "Invalid OAuth access token - Cannot parse access token",
                               "type": "OAuthException", "code": 190, "fbtrace_id": "AbCdEfGhIjK"}}
    fields = _one(query, "fields")
    if fields == INSTAGRAM_FIELDS:
        body: dict[str, Any] = {"id": page["id"]}
        if page["instagram"]:
            ig_id, username = page["instagram"]
            body["instagram_business_account"] = {"id": ig_id, "username": username}
        return 200, body
    answer = {"id": page["id"]}
    if "name" in fields.split(","):
        answer["name"] = page["name"]
    return 200, answer


def _x_me(state: _State, token: str | None) -> tuple[int, Any]:
    user = state.x_users.get(token or "")
    if user is None:
        return 401, {"title": "Unauthorized", "type": "about:blank", "status": 401, "detail": "Unauthorized"}
    return 200, {"data": dict(user)}


def _linkedin_acls(state: _State, token: str | None, headers: dict[str, str],
                   query: dict[str, list[str]]) -> tuple[int, Any]:
    if not LINKEDIN_VERSION.match(headers.get("linkedin-version", "")):
        return 400, {"status": 400, "code": "VERSION_MISSING",
                     "message": "A version must be present. Please specify a version by adding the "
                                "LinkedIn-Version header."}
    if headers.get("x-restli-protocol-version") != "2.0.0":
        return 400, {"status": 400, "message": "Restli protocol 2.0.0 is required for finders"}
    acls = state.linkedin_acls.get(token or "")
    if acls is None:
        return 401, {"status": 401, "serviceErrorCode": 65600, "code": "INVALID_ACCESS_TOKEN",
                     "message": "Invalid access token"}
    if _one(query, "q") != "roleAssignee":
        return 400, {"status": 400, "message": "Unknown finder"}
    role, wanted_state = _one(query, "role"), _one(query, "state")
    elements = [dict(acl) for acl in acls
                if (not role or acl["role"] == role) and (not wanted_state or acl["state"] == wanted_state)]
    return 200, {"paging": {"count": len(elements), "start": 0, "links": []}, "elements": elements}


def _tiktok_user_info(state: _State, token: str | None, query: dict[str, list[str]]) -> tuple[int, Any]:
    user = state.tiktok_users.get(token or "")
    if user is None:
        return 401, {"data": {}, "error": {"code": "access_token_invalid",
                                           "message": "The access token is invalid or not found in the request.",
                                           "log_id": "202603020930000000000000000000"}}
    fields = [f for f in _one(query, "fields").split(",") if f]
    if not fields:
        return 400, {"data": {}, "error": {"code": "invalid_params", "message": "fields is required",
                                           "log_id": "202603020930000000000000000001"}}
    return 200, {"data": {"user": {f: user[f] for f in fields if f in user}},
                 "error": {"code": "ok", "message": "", "log_id": "202603020930000000000000000002"}}


def _handler_for(apis: NetworkApis) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                body = raw.decode("utf-8", "replace")
            recorded = Recorded(self.command, parts.path, parse_qs(parts.query),
                                {k.lower(): v for k, v in self.headers.items()}, body)
            status, answer = apis._answer(recorded)
            payload = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_DELETE = _serve

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's name
            pass

    return Handler
