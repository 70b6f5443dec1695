"""A local HTTP fake of the Threads API, the parts Herald calls, with the documented shapes.

One real ThreadingHTTPServer on 127.0.0.1 (free port) answers, on the real paths:
- `GET /v1.0/me?fields=...` (the identity call).
- `POST /v1.0/{user}/threads` (form fields): TEXT, IMAGE, VIDEO, carousel items (`is_carousel_item=true`) and
  CAROUSEL (`children`, 2..20 finished items) containers, `reply_to_id`, `link_attachment` (text only), the
  500-character and 5-link rules. IMAGE/VIDEO containers FETCH their `image_url`/`video_url` over HTTP, as
  Threads does, and check the bytes' type (JPEG/PNG, MP4/MOV); a failed fetch ends the container in ERROR.
- `GET /v1.0/{container}?fields=status,error_message`: IN_PROGRESS for a video's first `processing` reads, then
  FINISHED; ERROR with a documented `error_message`; PUBLISHED once published. `GET /v1.0/{media}?fields=...`.
- `POST /v1.0/{user}/threads_publish` (`creation_id`): only a FINISHED container, once; the 24-hour quota of
  250 posts and 1,000 replies is enforced; `GET /v1.0/{user}/threads_publishing_limit`.
- `GET /v1.0/{user}/threads` and `/replies` (`fields`, `since`, `limit`), `GET /v1.0/{media}/insights`,
  `GET /v1.0/{user}/threads_insights?metric=followers_count`.
- OAuth: `POST /oauth/access_token` (authorization code → short-lived token and `user_id`),
  `GET /access_token?grant_type=th_exchange_token` (→ 60-day token), `GET /refresh_access_token?grant_type=
  th_refresh_token` (→ a new 60-day token); a revoked token answers code 190.
- `GET /media/<name>`: the bytes a test hosts, standing in for Herald's presigned media URLs.

It checks what Herald sends: `Authorization: Bearer` on every API call (never `access_token` in the URL), form
bodies for writes, the user in the path being the token's, the order of the flow (a part replies to a published
post, a container is published only when FINISHED and only once). What it refused is in `problems`.
Errors are Graph-shaped: `{"error": {"message", "type", "code", "error_subcode", "fbtrace_id"}}`.
Sources: tests/events/threads/README.md.
"""
from __future__ import annotations

import itertools
import json
import threading
import urllib.request
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import parse_qs, urlsplit

from chalicelib.core.clock import Clock

VERSION = "v1.0"
LONG_LIVED_S = 5_184_000
SHORT_LIVED_S = 3600
MEDIA_TYPES = ("TEXT", "IMAGE", "VIDEO", "CAROUSEL")
LISTED_TYPES = {"TEXT": "TEXT_POST", "IMAGE": "IMAGE", "VIDEO": "VIDEO", "CAROUSEL": "CAROUSEL_ALBUM"}
MAGIC = {"IMAGE": (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n"), "VIDEO": (b"ftyp",)}


@dataclass(frozen=True)
class Recorded:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    form: dict[str, str]


@dataclass
class Scripted:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)
    apply_first: bool = False  # do the work, then answer this (an answer lost or wrong after the fact)


@dataclass
class User:
    user_id: str
    username: str
    name: str
    followers: int = 0
    quota_usage: int = 0
    quota_total: int = 250
    reply_quota_usage: int = 0
    reply_quota_total: int = 1000


@dataclass
class Container:
    container_id: str
    user_id: str
    media_type: str
    fields: dict[str, str]
    is_item: bool
    status: str = "FINISHED"
    error_message: str | None = None
    reads_in_progress: int = 0
    used_in_carousel: bool = False
    media_id: str | None = None


@dataclass
class Media:
    media_id: str
    user_id: str
    username: str
    media_type: str
    text: str
    timestamp: str
    permalink: str
    reply_to: str | None
    container_id: str
    stats: dict[str, int] = field(default_factory=dict)


def _error(message: str, code: int = 100, subcode: int | None = None, kind: str = "OAuthException") -> dict:
    error: dict[str, Any] = {"message": message, "type": kind, "code": code, "fbtrace_id": "AxYzThreadsFake"}
    if subcode is not None:
        error["error_subcode"] = subcode
    return {"error": error}


class ThreadsApi:
    """`with ThreadsApi(clock) as threads:`; `threads.user("tok", "1789", "herald.coffee")` makes an account."""

    def __init__(self, clock: Clock, *, app_id: str = "990602627938098", app_secret: str = "threads-app-secret",
                 processing: int = 1) -> None:
        self.clock = clock
        self.app_id = app_id
        self.app_secret = app_secret
        self.processing = processing  # status reads a video container stays IN_PROGRESS
        self._lock = threading.RLock()
        self._ids = itertools.count(17_841_000_000_000_001)
        self.tokens: dict[str, str] = {}  # token → user id
        self.users: dict[str, User] = {}
        self.revoked: set[str] = set()
        self.codes: dict[str, tuple[str, str]] = {}  # code → (redirect_uri, user id)
        self.short_tokens: set[str] = set()
        self.containers: dict[str, Container] = {}
        self.media: dict[str, Media] = {}
        # Media has its own lock: the fake fetches it from itself while answering a container request.
        self._media_lock = threading.Lock()
        self.hosted: dict[str, tuple[bytes, str]] = {}
        self.fetched: list[str] = []
        self.container_errors: list[str] = []
        self.scripted: dict[tuple[str, str], list[Scripted]] = {}
        self.requests: list[Recorded] = []
        self.problems: list[str] = []
        self.drops: list[tuple[str, str]] = []
        self._server: ThreadingHTTPServer | None = None

    # -- lifecycle ------------------------------------------------------------------------------------------

    def start(self) -> Self:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, name="threads-api-fake", daemon=True).start()
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

    @property
    def url(self) -> str:
        assert self._server is not None, "the fake is not started"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def api_url(self) -> str:
        return f"{self.url}/{VERSION}"

    # -- the world ------------------------------------------------------------------------------------------

    def user(self, token: str, user_id: str, username: str, *, name: str | None = None,
             followers: int = 0) -> User:
        with self._lock:
            account = self.users.setdefault(user_id, User(user_id, username, name or username.title(), followers))
            self.tokens[token] = user_id
            return account

    def authorization_code(self, code: str, redirect_uri: str, user_id: str) -> None:
        """A code the Authorization Window gave the user, for this redirect URI."""
        with self._lock:
            self.codes[code] = (redirect_uri, user_id)

    def revoke(self, token: str) -> None:
        with self._lock:
            self.revoked.add(token)

    def host(self, name: str, body: bytes, mime: str) -> str:
        with self._media_lock:
            self.hosted[name] = (body, mime)
        return f"{self.url}/media/{name}"

    def fail_next_container(self, error_message: str) -> None:
        """The next media container Threads processes ends in ERROR with this documented error_message."""
        with self._lock:
            self.container_errors.append(error_message)

    def answer(self, method: str, path: str, status: int, body: Any, *, headers: dict[str, str] | None = None,
               apply_first: bool = False) -> None:
        """Scripts the next answer to `method path` (as sent: `/v1.0/1789/threads_publish`)."""
        with self._lock:
            self.scripted.setdefault((method, path), []).append(
                Scripted(status, body, headers or {}, apply_first))

    def drop_after(self, method: str, path: str) -> None:
        """The next `method path` call (as sent: `/v1.0/1789/threads_publish`) is done, then its connection is
        closed without an answer: an ambiguous attempt (the work is done; Herald cannot know it)."""
        with self._lock:
            self.drops.append((method, path))

    def dropped(self, method: str, path: str) -> bool:
        with self._lock:
            if (method, path) in self.drops:
                self.drops.remove((method, path))
                return True
        return False

    def published(self, user_id: str | None = None) -> list[Media]:
        with self._lock:
            return [m for m in self.media.values() if user_id is None or m.user_id == user_id]

    def calls(self, method: str, path_end: str) -> list[Recorded]:
        with self._lock:
            return [r for r in self.requests if r.method == method and r.path.endswith(path_end)]

    # -- answering ------------------------------------------------------------------------------------------

    def handle(self, recorded: Recorded) -> tuple[int, Any, dict[str, str]]:
        with self._lock:
            self.requests.append(recorded)
            queue = self.scripted.get((recorded.method, recorded.path))
            scripted = queue.pop(0) if queue else None
            if scripted is not None and not scripted.apply_first:
                return scripted.status, scripted.body, scripted.headers
            status, body = self._route(recorded)
            if scripted is not None:
                return scripted.status, scripted.body, scripted.headers
            return status, body, {}

    def _route(self, r: Recorded) -> tuple[int, Any]:
        path = r.path
        if path.startswith("/media/") and r.method == "GET":
            return 200, None  # served raw by the handler
        if path == "/oauth/access_token":
            return self._code_exchange(r)
        if path == "/access_token":
            return self._long_lived(r)
        if path == "/refresh_access_token":
            return self._refresh(r)
        prefix = f"/{VERSION}/"
        if not path.startswith(prefix):
            return 404, _error(f"Unknown path {path}", 803)
        parts = path[len(prefix):].split("/")
        user_id, failure = self._caller(r)
        if failure:
            return failure
        assert user_id is not None
        return self._api(r, user_id, parts)

    def _caller(self, r: Recorded) -> tuple[str | None, tuple[int, Any] | None]:
        if "access_token" in r.query:
            self.problems.append(f"{r.path}: access_token in the URL")
        if r.method == "POST" and any(key in r.query for key in ("text", "creation_id", "image_url")):
            self.problems.append(f"{r.path}: fields in the URL instead of the form body")
        scheme, _, token = r.headers.get("authorization", "").partition(" ")
        if scheme != "Bearer" or not token:
            self.problems.append(f"{r.path}: no bearer token")
            return None, (400, _error("An active access token must be used to query information.", 2500))
        if token in self.revoked or token not in self.tokens:
            return None, (400, _error("Error validating access token: The user has not authorized application.",
                                      190, 458))
        return self.tokens[token], None

    def _api(self, r: Recorded, caller: str, parts: list[str]) -> tuple[int, Any]:
        head = caller if parts[0] == "me" else parts[0]
        if len(parts) == 1:
            if head == caller and r.method == "GET":
                return self._me(caller, r)
            return self._node(head, r)
        if head != caller and parts[1] != "insights":
            self.problems.append(f"{r.path}: user {head} is not the token's ({caller})")
            return 400, _error("Unsupported request: the user is not the token's", 100, 33)
        edge = (r.method, parts[1])
        routes = {("POST", "threads"): self._create, ("POST", "threads_publish"): self._publish,
                  ("GET", "threads_publishing_limit"): self._limit, ("GET", "threads"): self._list_posts,
                  ("GET", "replies"): self._list_replies, ("GET", "threads_insights"): self._user_insights,
                  ("GET", "insights"): self._media_insights}
        route = routes.get(edge)
        if route is None:
            return 404, _error(f"Unknown path {r.path}", 803)
        return route(caller if parts[1] != "insights" else head, r)

    def _me(self, user_id: str, r: Recorded) -> tuple[int, Any]:
        user = self.users[user_id]
        known = {"id": user.user_id, "username": user.username, "name": user.name,
                 "threads_profile_picture_url": f"https://scontent.cdninstagram.com/{user.username}.jpg"}
        return 200, _pick(known, _one(r.query, "fields") or "id")

    def _node(self, node_id: str, r: Recorded) -> tuple[int, Any]:
        fields = _one(r.query, "fields") or "id"
        container = self.containers.get(node_id)
        if container is not None:
            if container.status == "IN_PROGRESS" and container.reads_in_progress <= 0:
                container.status = "FINISHED"
            answer: dict[str, Any] = {"id": node_id, "status": container.status}
            if container.status == "IN_PROGRESS":
                container.reads_in_progress -= 1
            if container.error_message:
                answer["error_message"] = container.error_message
            return 200, _pick(answer, fields)
        media = self.media.get(node_id)
        if media is not None:
            return 200, _pick(_media_fields(media, self.media), fields)
        return 400, _error(f"Unsupported get request. Object with ID '{node_id}' does not exist", 100, 33)

    # -- containers and publishing ----------------------------------------------------------------------------

    def _create(self, user_id: str, r: Recorded) -> tuple[int, Any]:
        form = r.form
        media_type = form.get("media_type", "")
        is_item = form.get("is_carousel_item") == "true"
        refusal = self._refusal(user_id, form, media_type, is_item)
        if refusal:
            return 400, _error(refusal, 100)
        container = Container(str(next(self._ids)), user_id, media_type, dict(form), is_item)
        if media_type in ("IMAGE", "VIDEO"):
            self._fetch_media(container, form.get("image_url") or form.get("video_url") or "")
        if media_type == "CAROUSEL":
            for child in form["children"].split(","):
                self.containers[child].used_in_carousel = True
        self.containers[container.container_id] = container
        return 200, {"id": container.container_id}

    def _refusal(self, user_id: str, form: dict[str, str], media_type: str, is_item: bool) -> str | None:
        text = form.get("text", "")
        needs = {"TEXT": "text", "IMAGE": "image_url", "VIDEO": "video_url", "CAROUSEL": "children"}
        if media_type not in MEDIA_TYPES:
            return f"Param media_type must be one of {{{', '.join(MEDIA_TYPES)}}}"
        if not form.get(needs[media_type]):
            return f"Param {needs[media_type]} is required for media_type={media_type}"
        if is_item and media_type not in ("IMAGE", "VIDEO"):
            return "Only images and videos can be carousel items"
        if len(text) > 500:
            return "Param text must be at most 500 characters long."
        links = {word for word in text.split() if word.startswith(("http://", "https://", "www."))}
        links |= {form["link_attachment"]} if form.get("link_attachment") else set()
        if len(links) > 5:
            return "THREADS_API__LINK_LIMIT_EXCEEDED: a post may contain at most 5 links"
        if form.get("link_attachment") and media_type != "TEXT":
            return "Param link_attachment is only available for TEXT posts"
        if form.get("reply_to_id") and form["reply_to_id"] not in self.media:
            self.problems.append(f"reply to {form['reply_to_id']}, which is not a published post")
            return "Param reply_to_id is not a valid Threads media id"
        if media_type == "CAROUSEL":
            return self._children_refusal(user_id, form["children"].split(","))
        return None

    def _children_refusal(self, user_id: str, children: list[str]) -> str | None:
        if not 2 <= len(children) <= 20:
            return "A carousel takes 2 to 20 children"
        for child in children:
            item = self.containers.get(child)
            if item is None or item.user_id != user_id or not item.is_item or item.used_in_carousel:
                self.problems.append(f"carousel child {child} is not an unused carousel item of {user_id}")
                return f"Invalid carousel child {child}"
            if item.status != "FINISHED":
                self.problems.append(f"carousel child {child} is {item.status}")
                return f"Carousel child {child} is not ready"
        return None

    def _fetch_media(self, container: Container, url: str) -> None:
        """Threads downloads the media itself, from the URL it was given."""
        kind = container.media_type
        try:
            with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 (a local test URL)
                body = response.read()
        except OSError:
            body = b""
        offset = 4 if kind == "VIDEO" else 0
        fetched = any(body[offset:offset + len(magic)] == magic for magic in MAGIC[kind])
        if self.container_errors:
            container.status, container.error_message = "ERROR", self.container_errors.pop(0)
        elif not fetched:
            container.status = "ERROR"
            container.error_message = "FAILED_DOWNLOADING_VIDEO" if kind == "VIDEO" else "UNKNOWN"
        elif kind == "VIDEO" and self.processing > 0:
            container.status, container.reads_in_progress = "IN_PROGRESS", self.processing

    def _publish(self, user_id: str, r: Recorded) -> tuple[int, Any]:
        container = self.containers.get(r.form.get("creation_id", ""))
        if container is None or container.user_id != user_id or container.is_item:
            self.problems.append(f"publish of unknown container {r.form.get('creation_id')}")
            return 400, _error("Param creation_id is not a valid container id", 100)
        if container.status == "PUBLISHED":
            self.problems.append(f"container {container.container_id} published twice")
            return 400, _error("This media has already been published", 100, 4279009)
        if container.status != "FINISHED":
            self.problems.append(f"publish of container {container.container_id} while {container.status}")
            return 400, _error("The media is not ready to be published. Please wait a moment.", 9007, 2207027)
        user = self.users[user_id]
        reply_to = container.fields.get("reply_to_id")
        if (reply_to and user.reply_quota_usage >= user.reply_quota_total) or \
                (not reply_to and user.quota_usage >= user.quota_total):
            self.problems.append("publish over the 24-hour quota")
            return 400, _error("The user has reached the publishing limit", 4, 2207042)
        if reply_to:
            user.reply_quota_usage += 1
        else:
            user.quota_usage += 1
        media_id = str(next(self._ids))
        now = self.clock.now()
        self.media[media_id] = Media(
            media_id, user_id, user.username, LISTED_TYPES[container.media_type], container.fields.get("text", ""),
            now.strftime("%Y-%m-%dT%H:%M:%S+0000"), f"https://www.threads.net/@{user.username}/post/C{media_id[-8:]}",
            reply_to, container.container_id)
        container.status, container.media_id = "PUBLISHED", media_id
        return 200, {"id": media_id}

    def _limit(self, user_id: str, r: Recorded) -> tuple[int, Any]:
        user = self.users[user_id]
        known = {"quota_usage": user.quota_usage, "config": {"quota_total": user.quota_total, "quota_duration": 86400},
                 "reply_quota_usage": user.reply_quota_usage,
                 "reply_config": {"quota_total": user.reply_quota_total, "quota_duration": 86400}}
        return 200, {"data": [_pick(known, _one(r.query, "fields") or "quota_usage")]}

    def _list_posts(self, user_id: str, r: Recorded) -> tuple[int, Any]:
        return self._listing(user_id, r, replies=False)

    def _list_replies(self, user_id: str, r: Recorded) -> tuple[int, Any]:
        return self._listing(user_id, r, replies=True)

    def _listing(self, user_id: str, r: Recorded, *, replies: bool) -> tuple[int, Any]:
        since = int(_one(r.query, "since") or 0)
        limit = int(_one(r.query, "limit") or 25)
        fields = _one(r.query, "fields") or "id"
        chosen = [m for m in reversed(list(self.media.values()))
                  if m.user_id == user_id and bool(m.reply_to) == replies
                  and datetime.strptime(m.timestamp, "%Y-%m-%dT%H:%M:%S%z").timestamp() >= since]
        page = [_pick(_media_fields(m, self.media), fields) for m in chosen[:limit]]
        body: dict[str, Any] = {"data": page, "paging": {"cursors": {"before": "QVFIUmJ", "after": "QVFIUmZ"}}}
        if len(chosen) > limit:
            body["paging"]["next"] = f"{self.api_url}/{user_id}/threads?after=QVFIUmZ"
        return 200, body

    def _media_insights(self, media_id: str, r: Recorded) -> tuple[int, Any]:
        media = self.media.get(media_id)
        if media is None:
            return 400, _error(f"Object with ID '{media_id}' does not exist", 100, 33)
        data = [{"name": name, "period": "lifetime", "values": [{"value": media.stats.get(name, 0)}],
                 "title": name.title(), "id": f"{media_id}/insights/{name}/lifetime"}
                for name in _one(r.query, "metric").split(",")]
        return 200, {"data": data}

    def _user_insights(self, user_id: str, r: Recorded) -> tuple[int, Any]:
        if _one(r.query, "metric") != "followers_count":
            return 400, _error("Param metric is not valid", 100)
        return 200, {"data": [{"name": "followers_count", "period": "day", "title": "followers_count",
                               "total_value": {"value": self.users[user_id].followers},
                               "id": f"{user_id}/insights/followers_count/day"}]}

    # -- OAuth ------------------------------------------------------------------------------------------------

    def _code_exchange(self, r: Recorded) -> tuple[int, Any]:
        form = r.form
        if r.method != "POST" or form.get("grant_type") != "authorization_code":
            return 400, _error("Unsupported grant_type", 100)
        if form.get("client_id") != self.app_id or form.get("client_secret") != self.app_secret:
            return 400, _error("Error validating client secret.", 101)
        issued = self.codes.pop(form.get("code", ""), None)
        if issued is None:
            return 400, _error("Invalid verification code format.", 100, 36007)
        if form.get("redirect_uri") != issued[0]:
            return 400, _error("Error validating verification code. Please make sure your redirect_uri is "
                               "identical to the one you used in the OAuth dialog request", 100, 36008)
        token = f"THQshort{next(self._ids)}"
        self.tokens[token] = issued[1]
        self.short_tokens.add(token)
        return 200, {"access_token": token, "user_id": int(issued[1])}

    def _long_lived(self, r: Recorded) -> tuple[int, Any]:
        q = {key: _one(r.query, key) for key in ("grant_type", "client_secret", "access_token")}
        if r.method != "GET" or q["grant_type"] != "th_exchange_token":
            return 400, _error("Unsupported grant_type", 100)
        if q["client_secret"] != self.app_secret:
            return 400, _error("Error validating client secret.", 101)
        if q["access_token"] not in self.short_tokens:
            return 400, _error("Error validating access token: Session has expired", 190, 463)
        self.short_tokens.discard(q["access_token"])
        return 200, self._new_long_token(self.tokens[q["access_token"]])

    def _refresh(self, r: Recorded) -> tuple[int, Any]:
        grant, token = _one(r.query, "grant_type"), _one(r.query, "access_token")
        if r.method != "GET" or grant != "th_refresh_token":
            return 400, _error("Unsupported grant_type", 100)
        if token in self.revoked or token not in self.tokens or token in self.short_tokens:
            return 400, _error("Error validating access token: The session has been invalidated.", 190, 460)
        return 200, self._new_long_token(self.tokens[token])

    def _new_long_token(self, user_id: str) -> dict[str, Any]:
        token = f"THQlong{next(self._ids)}"
        self.tokens[token] = user_id
        return {"access_token": token, "token_type": "bearer", "expires_in": LONG_LIVED_S}


def _media_fields(media: Media, everything: dict[str, Media]) -> dict[str, Any]:
    known: dict[str, Any] = {"id": media.media_id, "media_product_type": "THREADS", "media_type": media.media_type,
                             "permalink": media.permalink, "owner": {"id": media.user_id},
                             "username": media.username, "timestamp": media.timestamp,
                             "shortcode": media.permalink[-9:], "is_quote_post": False}
    if media.text:
        known["text"] = media.text
    if media.reply_to:
        known["replied_to"] = {"id": media.reply_to}
        root = media
        while root.reply_to and root.reply_to in everything:
            root = everything[root.reply_to]
        known["root_post"] = {"id": root.media_id}
        known["is_reply"] = True
    return known


def _pick(known: dict[str, Any], fields: str) -> dict[str, Any]:
    wanted = [name.strip() for name in fields.split(",") if name.strip()]
    answer = {name: known[name] for name in wanted if name in known}
    if "id" in known:
        answer.setdefault("id", known["id"])
    return answer


def _one(query: dict[str, list[str]], name: str) -> str:
    values = query.get(name) or [""]
    return values[0]


def _handler_for(fake: ThreadsApi) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *_args: object) -> None:
            pass

        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            self._serve("GET")

        def do_POST(self) -> None:  # noqa: N802
            self._serve("POST")

        def _serve(self, method: str) -> None:
            split = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            form = {key: values[0] for key, values in parse_qs(raw.decode("utf-8"), keep_blank_values=True).items()}
            if raw and "application/x-www-form-urlencoded" not in (self.headers.get("Content-Type") or ""):
                fake.problems.append(f"{split.path}: body is not form-encoded")
            recorded = Recorded(method, split.path, parse_qs(split.query, keep_blank_values=True),
                                {key.lower(): value for key, value in self.headers.items()}, form)
            if split.path.startswith("/media/") and method == "GET":
                self._serve_media(split.path.removeprefix("/media/"))
                return
            status, body, headers = fake.handle(recorded)
            if fake.dropped(method, split.path):
                self.close_connection = True
                self.connection.close()
                return
            payload = json.dumps(body).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            for key, value in headers.items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(payload)

        def _serve_media(self, name: str) -> None:
            with fake._media_lock:
                hosted = fake.hosted.get(name)
                fake.fetched.append(name)
            if hosted is None:
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            body, mime = hosted
            self.send_response(200)
            self.send_header("Content-Type", mime)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return Handler
