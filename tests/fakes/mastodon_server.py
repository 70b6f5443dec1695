"""A local HTTP fake of the Mastodon REST API, for the parts Herald uses.

Shapes follow docs.joinmastodon.org: methods/statuses, methods/media,
methods/notifications, methods/accounts, methods/instance, api/guidelines
(pagination, Link headers) and api/rate-limits. It is a real HTTP server on
127.0.0.1, so the adapter's own HTTP stack (timeouts, refused connections,
multipart bodies) is what gets exercised.

    with MastodonFake() as fake:
        adapter.publish(channel_for(fake), request)
        assert [status.text for status in fake.created] == ["hello"]

Faults are set from the test: `fail_next("rate_limit", retry_after=30)`,
`fail_next("server_error")`, `fail_next("timeout_after_processing")` (the
request is carried out, then the answer stalls past the client's read
timeout) and `refuse_connections()`.
"""
from __future__ import annotations

import hmac
import json
import re
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal, Self
from urllib.parse import parse_qs, urlencode, urlsplit

import regex

from chalicelib.core.clock import Clock, SystemClock

IDEMPOTENCY_WINDOW = timedelta(hours=1)  # methods/statuses: "stored for up to 1 hour"
DEFAULT_NOTIFICATIONS_LIMIT = 40
MAX_NOTIFICATIONS_LIMIT = 80
MAX_MEDIA_ATTACHMENTS = 4
VISIBILITIES = ("public", "unlisted", "private", "direct")
SUPPORTED_MIME_TYPES = (
    "image/jpeg", "image/png", "image/gif", "image/heic", "image/heif", "image/webp",
    "video/webm", "video/mp4", "video/quicktime", "video/ogg",
    "audio/wave", "audio/wav", "audio/x-wav", "audio/ogg", "audio/mpeg", "audio/mp3", "audio/flac",
)
TOKEN_INVALID = "The access token is invalid"
NOT_FOUND = "Record not found"
REPLY_NOT_FOUND = "The post you are trying to reply to does not appear to exist."
MEDIA_NOT_READY = "Cannot attach files that have not finished processing. Try again in a moment!"

# `error`: answer `status` with Mastodon's `{"error": <text>}` (a 422 validation failure, a 403...).
FaultKind = Literal["rate_limit", "server_error", "timeout_after_processing", "error"]

# The fake's own, independent reading of Mastodon's counting rules.
_URL_RE = re.compile(r"https?://[^\s<>\"]*[^\s<>\"().,;:!?'\]]", re.IGNORECASE)
_MENTION_RE = re.compile(r"(?<![=/\w])@([a-z0-9_]+(?:[a-z0-9_.-]+[a-z0-9_]+)?)(?:@([\w.-]+\w))?", re.IGNORECASE)


@dataclass
class Fault:
    kind: FaultKind
    remaining: int
    method: str | None = None
    path: str | None = None
    retry_after: int | None = None
    reset_in_s: int = 300
    status: int = 500
    error: str | None = None

    def matches(self, method: str, path: str) -> bool:
        return (self.method is None or self.method == method) and (self.path is None or self.path == path)


@dataclass
class RecordedRequest:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-cased names
    body: bytes


@dataclass
class CreatedStatus:
    """A status created through POST /api/v1/statuses: exactly what reached the fake."""

    id: str
    text: str
    visibility: str
    in_reply_to_id: str | None
    idempotency_key: str | None
    media: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class _Response:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


class MastodonFake:
    def __init__(self, *, access_token: str = "fake-token", username: str = "herald",
                 max_characters: int = 500, characters_reserved_per_url: int = 23,
                 v2_instance: bool = True, media_processing_polls: int = 0, stall_s: float = 5.0,
                 clock: Clock | None = None) -> None:
        self.access_token = access_token
        self.max_characters = max_characters
        self.characters_reserved_per_url = characters_reserved_per_url
        self.v2_instance = v2_instance
        # How many GET /api/v1/media/:id answer 206 before the file is processed;
        # 0 means POST /api/v2/media answers 200 with the file ready.
        self.media_processing_polls = media_processing_polls
        self.stall_s = stall_s
        self.clock = clock or SystemClock()
        self.requests: list[RecordedRequest] = []
        self.created: list[CreatedStatus] = []
        self.accounts: dict[str, dict[str, Any]] = {}
        self.statuses: dict[str, dict[str, Any]] = {}
        self.media: dict[str, dict[str, Any]] = {}
        self.notifications: list[dict[str, Any]] = []
        self._idempotency: dict[tuple[str, str], tuple[str, datetime]] = {}
        self._faults: list[Fault] = []
        self._lock = threading.RLock()
        self._release = threading.Event()
        self._ids = {"status": 110_000_000_000_000_000, "notification": 34_000_000, "account": 0, "media": 22_000_000}
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._port = 0
        self.me = self.add_account(username)
        # Full-text search of statuses needs Elasticsearch on a real instance; without it v2/search finds
        # no statuses at all (a 200 with empty lists): docs.joinmastodon.org/admin/elasticsearch/.
        self.full_text_search = True

    # -- lifecycle -----------------------------------------------------------

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._port}"

    @property
    def domain(self) -> str:
        return "127.0.0.1"

    def start(self) -> None:
        self._server = ThreadingHTTPServer(("127.0.0.1", self._port), self._handler_class())
        self._port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._release.set()
        self._stop()

    def refuse_connections(self) -> None:
        """Close the listening socket: connections are refused until `accept_connections`."""
        self._stop()

    def accept_connections(self) -> None:
        if self._server is None:
            self.start()

    def _stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    # -- what tests set up ---------------------------------------------------

    def fail_next(self, kind: FaultKind, times: int = 1, *, method: str | None = None, path: str | None = None,
                  retry_after: int | None = None, reset_in_s: int = 300, status: int = 500,
                  error: str | None = None) -> None:
        """The next `times` matching requests fail as `kind`.

        `rate_limit` answers like Mastodon's rack-attack (429, X-RateLimit-Reset
        as an ISO 8601 time); `retry_after` adds a Retry-After header, as a
        proxy in front of an instance may.
        """
        with self._lock:
            self._faults.append(Fault(kind, times, method, path, retry_after, reset_in_s, status, error))

    def add_account(self, username: str, domain: str | None = None, *, display_name: str | None = None,
                     followers_count: int = 0) -> dict[str, Any]:
        with self._lock:
            account = {
                "id": self._next_id("account"), "username": username, "domain": domain,
                "display_name": display_name if display_name is not None else username.title(),
                "followers_count": followers_count, "following_count": 0, "statuses_count": 0,
                "created_at": self._now_text(),
            }
            self.accounts[account["id"]] = account
            return account

    def account_by_acct(self, acct: str) -> dict[str, Any]:
        username, _, domain = acct.partition("@")
        domain = "" if domain == self.domain else domain
        with self._lock:
            for account in self.accounts.values():
                if account["username"] == username and (account["domain"] or "") == domain:
                    return account
            return self.add_account(username, domain or None)

    def set_profile(self, *, display_name: str | None = None, note_html: str | None = None,
                    fields: list[dict[str, Any]] | None = None, avatar: str | None = None) -> None:
        """Our account's public profile (Account: note and fields[].value are HTML, avatar a URL)."""
        with self._lock:
            for key, value in (("display_name", display_name), ("note", note_html), ("fields", fields),
                               ("avatar", avatar)):
                if value is not None:
                    self.me[key] = value

    def add_status(self, text: str, *, author: dict[str, Any] | None = None, in_reply_to_id: str | None = None,
                   visibility: str = "public") -> dict[str, Any]:
        with self._lock:
            return self._store_status(author or self.me, text, visibility, in_reply_to_id, [])

    def receive_mention(self, from_acct: str, text: str, *, in_reply_to_id: str | None = None,
                        visibility: str = "public") -> dict[str, Any]:
        """Someone else posts `text` that mentions us; a `mention` notification appears."""
        with self._lock:
            author = self.account_by_acct(from_acct)
            status = self._store_status(author, text, visibility, in_reply_to_id, [])
            return self._notify("mention", author, status)

    def receive_favourite(self, status_id: str, from_acct: str) -> dict[str, Any]:
        with self._lock:
            author = self.account_by_acct(from_acct)
            self.statuses[status_id]["favourites_count"] += 1
            return self._notify("favourite", author, self.statuses[status_id])

    def set_counts(self, status_id: str, *, favourites: int | None = None, reblogs: int | None = None,
                   replies: int | None = None) -> None:
        with self._lock:
            status = self.statuses[status_id]
            for key, value in (("favourites_count", favourites), ("reblogs_count", reblogs),
                               ("replies_count", replies)):
                if value is not None:
                    status[key] = value

    def delete_status(self, status_id: str) -> None:
        with self._lock:
            del self.statuses[status_id]

    def requests_to(self, method: str, path: str) -> list[RecordedRequest]:
        with self._lock:
            return [r for r in self.requests if r.method == method and r.path == path]

    # -- HTTP ------------------------------------------------------------------

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            server_version = "Mastodon"

            def do_GET(self) -> None:
                fake._handle(self)

            do_POST = do_PUT = do_DELETE = do_GET

            def log_message(self, *_args: Any) -> None:
                pass

        return Handler

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        split = urlsplit(handler.path)
        query = parse_qs(split.query, keep_blank_values=True)
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        headers = {name.lower(): value for name, value in handler.headers.items()}
        method = handler.command
        with self._lock:
            self.requests.append(RecordedRequest(method, split.path, query, headers, body))
            fault = self._take_fault(method, split.path)
            if fault is not None and fault.kind != "timeout_after_processing":
                response = self._fault_response(fault)
            else:
                response = self._dispatch(method, split.path, query, headers, body)
        if fault is not None and fault.kind == "timeout_after_processing":
            self._release.wait(self.stall_s)
        self._send(handler, response)

    def _send(self, handler: BaseHTTPRequestHandler, response: _Response) -> None:
        payload = b"" if response.body is None else json.dumps(response.body).encode()
        try:
            handler.send_response(response.status)
            if response.body is not None:
                handler.send_header("Content-Type", "application/json; charset=utf-8")
            for name, value in response.headers.items():
                handler.send_header(name, value)
            handler.send_header("Content-Length", str(len(payload)))
            handler.end_headers()
            handler.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up waiting (a read timeout); nothing to answer

    def _take_fault(self, method: str, path: str) -> Fault | None:
        for fault in self._faults:
            if fault.remaining > 0 and fault.matches(method, path):
                fault.remaining -= 1
                return fault
        return None

    def _fault_response(self, fault: Fault) -> _Response:
        if fault.kind == "rate_limit":
            reset = self.clock.now() + timedelta(seconds=fault.reset_in_s)
            headers = {"X-RateLimit-Limit": "300", "X-RateLimit-Remaining": "0",
                       "X-RateLimit-Reset": reset.strftime("%Y-%m-%dT%H:%M:%S.%fZ")}
            if fault.retry_after is not None:
                headers["Retry-After"] = str(fault.retry_after)
            return _Response(429, {"error": "Too many requests"}, headers)
        return _Response(fault.status, {"error": fault.error or "We're sorry, but something went wrong on our end."})

    def _dispatch(self, method: str, path: str, query: dict[str, list[str]], headers: dict[str, str],
                  body: bytes) -> _Response:
        public = {("GET", "/api/v2/instance"), ("GET", "/api/v1/instance")}
        if (method, path) not in public and not self._authorized(headers):
            return _Response(401, {"error": TOKEN_INVALID}, {
                "WWW-Authenticate": f'Bearer realm="Doorkeeper", error="invalid_token", '
                                    f'error_description="{TOKEN_INVALID}"'})
        if (method, path) == ("GET", "/api/v2/instance"):
            return _Response(200, self._instance_v2()) if self.v2_instance else _Response(404, {"error": NOT_FOUND})
        if (method, path) == ("GET", "/api/v1/instance"):
            return _Response(200, self._instance_v1())
        if (method, path) == ("GET", "/api/v1/accounts/verify_credentials"):
            return _Response(200, self._credential_account())
        if (method, path) == ("POST", "/api/v1/statuses"):
            return self._create_status(headers, body)
        if (method, path) == ("POST", "/api/v2/media"):
            return self._create_media(headers, body)
        if (method, path) == ("GET", "/api/v1/notifications"):
            return self._list_notifications(query)
        if (method, path) == ("GET", "/api/v2/search"):
            return self._search(query)
        if method == "GET" and (match := re.fullmatch(r"/api/v1/accounts/(\d+)", path)):
            account = self.accounts.get(match.group(1))
            return _Response(200, self._account(account)) if account else _Response(404, {"error": NOT_FOUND})
        if method == "GET" and (match := re.fullmatch(r"/api/v1/statuses/(\d+)", path)):
            status = self.statuses.get(match.group(1))
            return _Response(200, self._status(status)) if status else _Response(404, {"error": NOT_FOUND})
        if method == "GET" and (match := re.fullmatch(r"/api/v1/media/(\d+)", path)):
            return self._poll_media(match.group(1))
        return _Response(404, {"error": NOT_FOUND})

    def _search(self, query: dict[str, list[str]]) -> _Response:
        """GET /api/v2/search (docs.joinmastodon.org/methods/search/#v2): type=statuses, min_id, limit<=40."""
        limit = int(query.get("limit", ["20"])[0])
        if limit > 40 or query.get("type", ["statuses"])[0] != "statuses":
            return _Response(422, {"error": "Validation failed"})
        found: list[dict[str, Any]] = []
        if self.full_text_search:
            words = query.get("q", [""])[0].casefold()
            min_id = query.get("min_id", [None])[0]
            with self._lock:
                found = [s for s in self.statuses.values()
                         if words in s["text"].casefold() and s["visibility"] in ("public", "unlisted")
                         and (min_id is None or (len(s["id"]), s["id"]) > (len(min_id), min_id))]
            found.sort(key=lambda s: (len(s["id"]), s["id"]), reverse=True)
        return _Response(200, {"accounts": [], "statuses": [self._status(s) for s in found[:limit]],
                               "hashtags": []})

    def _authorized(self, headers: dict[str, str]) -> bool:
        scheme, _, token = headers.get("authorization", "").partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(token.encode(), self.access_token.encode())

    # -- statuses --------------------------------------------------------------

    def _create_status(self, headers: dict[str, str], body: bytes) -> _Response:
        fields, _files = _parse_body(headers.get("content-type", ""), body)
        text = _first(fields, "status") or ""
        visibility = _first(fields, "visibility") or "public"
        in_reply_to_id = _first(fields, "in_reply_to_id") or None
        media_ids = fields.get("media_ids", [])
        key = headers.get("idempotency-key")
        # The order of Mastodon's own checks: the thread (controller), then the
        # idempotency key, then media and text validation (PostStatusService).
        if in_reply_to_id is not None and in_reply_to_id not in self.statuses:
            return _Response(404, {"error": REPLY_NOT_FOUND})
        if key:
            seen = self._idempotency.get((self.me["id"], key))
            if seen is not None and self.clock.now() - seen[1] < IDEMPOTENCY_WINDOW and seen[0] in self.statuses:
                return _Response(200, self._status(self.statuses[seen[0]]))
        if visibility not in VISIBILITIES:
            return _Response(422, {"error": "Validation failed: Visibility is not included in the list"})
        if len(media_ids) > MAX_MEDIA_ATTACHMENTS:
            return _Response(422, {"error": f"Cannot attach more than {MAX_MEDIA_ATTACHMENTS} files"})
        attachments = [self.media[media_id] for media_id in media_ids if media_id in self.media]
        if any(media["polls_left"] > 0 for media in attachments):
            return _Response(422, {"error": MEDIA_NOT_READY})
        if not text.strip() and not attachments:
            return _Response(422, {"error": "Validation failed: Text can't be blank"})
        if self._countable_length(text) > self.max_characters:
            return _Response(422, {"error": f"Validation failed: Text character limit of {self.max_characters} "
                                            "exceeded"})
        status = self._store_status(self.me, text, visibility, in_reply_to_id, [m["id"] for m in attachments])
        self.created.append(CreatedStatus(
            id=status["id"], text=text, visibility=visibility, in_reply_to_id=in_reply_to_id, idempotency_key=key,
            media=[{k: m[k] for k in ("id", "description", "content_type", "filename", "size")}
                   for m in attachments]))
        if key:
            self._idempotency[(self.me["id"], key)] = (status["id"], self.clock.now())
        return _Response(200, self._status(status))

    def _store_status(self, author: dict[str, Any], text: str, visibility: str, in_reply_to_id: str | None,
                      media_ids: list[str]) -> dict[str, Any]:
        parent = self.statuses.get(in_reply_to_id) if in_reply_to_id else None
        mentioned = [self.account_by_acct(m.group(1) + (f"@{m.group(2)}" if m.group(2) else ""))
                     for m in _MENTION_RE.finditer(_URL_RE.sub("", text))]
        status = {
            "id": self._next_id("status"), "account_id": author["id"], "text": text,
            "created_at": self._now_text(), "visibility": visibility,
            "in_reply_to_id": parent["id"] if parent else None,
            "in_reply_to_account_id": parent["account_id"] if parent else None,
            "media_ids": media_ids, "mention_ids": [account["id"] for account in mentioned],
            "favourites_count": 0, "reblogs_count": 0, "replies_count": 0,
        }
        if parent:
            parent["replies_count"] += 1
        author["statuses_count"] += 1
        self.statuses[status["id"]] = status
        return status

    def _status(self, status: dict[str, Any]) -> dict[str, Any]:
        author = self.accounts[status["account_id"]]
        base = self.url if author["domain"] is None else f"https://{author['domain']}"
        return {
            "id": status["id"],
            "created_at": status["created_at"],
            "in_reply_to_id": status["in_reply_to_id"],
            "in_reply_to_account_id": status["in_reply_to_account_id"],
            "sensitive": False,
            "spoiler_text": "",
            "visibility": status["visibility"],
            "language": "en",
            "uri": f"{base}/users/{author['username']}/statuses/{status['id']}",
            "url": f"{base}/@{author['username']}/{status['id']}",
            "replies_count": status["replies_count"],
            "reblogs_count": status["reblogs_count"],
            "favourites_count": status["favourites_count"],
            "favourited": False,
            "reblogged": False,
            "muted": False,
            "bookmarked": False,
            "content": self._html(status["text"]),
            "reblog": None,
            "application": {"name": "Herald", "website": None} if author is self.me else None,
            "account": self._account(author),
            "media_attachments": [self._media(self.media[m]) for m in status["media_ids"]],
            "mentions": [{"id": a["id"], "username": a["username"], "url": self._account(a)["url"],
                          "acct": _acct(a)} for a in (self.accounts[i] for i in status["mention_ids"])],
            "tags": [],
            "emojis": [],
            "card": None,
            "poll": None,
        }

    def _countable_length(self, text: str) -> int:
        text = _URL_RE.sub("x" * self.characters_reserved_per_url, text)
        return len(regex.findall(r"\X", _MENTION_RE.sub(lambda m: "@" + m.group(1), text)))

    def _html(self, text: str) -> str:
        """Plain text rendered the way Mastodon's TextFormatter marks up links and mentions."""
        def line(raw: str) -> str:
            out, last = [], 0
            for match in re.finditer(f"{_URL_RE.pattern}|{_MENTION_RE.pattern}", raw, re.IGNORECASE):
                out.append(escape(raw[last:match.start()], quote=False))
                token = match.group(0)
                if token.startswith("@"):
                    account = self.account_by_acct(token[1:])
                    out.append(f'<span class="h-card" translate="no"><a href="{self._account(account)["url"]}" '
                               f'class="u-url mention">@<span>{escape(account["username"])}</span></a></span>')
                else:
                    scheme, _, rest = token.partition("://")
                    out.append(f'<a href="{escape(token)}" target="_blank" rel="nofollow noopener" translate="no">'
                               f'<span class="invisible">{scheme}://</span><span class="">{escape(rest)}</span>'
                               '<span class="invisible"></span></a>')
                last = match.end()
            out.append(escape(raw[last:], quote=False))
            return "".join(out)

        paragraphs = [p for p in re.split(r"\n{2,}", text) if p]
        return "".join("<p>" + "<br />".join(line(part) for part in p.split("\n")) + "</p>" for p in paragraphs)

    # -- media -----------------------------------------------------------------

    def _create_media(self, headers: dict[str, str], body: bytes) -> _Response:
        fields, files = _parse_body(headers.get("content-type", ""), body)
        upload = files.get("file")
        if upload is None or upload["content_type"] not in SUPPORTED_MIME_TYPES:
            return _Response(422, {"error": "Validation failed: File content type is invalid, File is invalid"})
        media = {
            "id": self._next_id("media"), "content_type": upload["content_type"], "filename": upload["filename"],
            "size": len(upload["data"]), "description": _first(fields, "description"),
            "polls_left": self.media_processing_polls,
        }
        self.media[media["id"]] = media
        return _Response(202 if media["polls_left"] > 0 else 200, self._media(media))

    def _poll_media(self, media_id: str) -> _Response:
        media = self.media.get(media_id)
        if media is None:
            return _Response(404, {"error": NOT_FOUND})
        if media["polls_left"] > 0:
            media["polls_left"] -= 1
            return _Response(206)
        return _Response(200, self._media(media))

    def _media(self, media: dict[str, Any]) -> dict[str, Any]:
        kind = media["content_type"].split("/")[0]
        file_url = f"{self.url}/system/media_attachments/files/{media['id']}"
        return {
            "id": media["id"],
            "type": "gifv" if media["content_type"] == "image/gif" else kind,
            "url": None if media["polls_left"] > 0 else f"{file_url}/original/{media['filename']}",
            "preview_url": f"{file_url}/small/{media['filename']}",
            "remote_url": None,
            "text_url": None,
            "meta": {"focus": {"x": 0.0, "y": 0.0}},
            "description": media["description"],
            "blurhash": None,
        }

    # -- notifications ---------------------------------------------------------

    def _notify(self, kind: str, account: dict[str, Any], status: dict[str, Any]) -> dict[str, Any]:
        notification = {"id": self._next_id("notification"), "type": kind, "created_at": self._now_text(),
                        "account_id": account["id"], "status_id": status["id"]}
        self.notifications.append(notification)
        return notification

    def _list_notifications(self, query: dict[str, list[str]]) -> _Response:
        types = query.get("types[]", []) + query.get("types", [])
        excluded = query.get("exclude_types[]", []) + query.get("exclude_types", [])
        limit = _int(_first(query, "limit"), DEFAULT_NOTIFICATIONS_LIMIT)
        limit = DEFAULT_NOTIFICATIONS_LIMIT if limit <= 0 else min(limit, MAX_NOTIFICATIONS_LIMIT)
        max_id, since_id, min_id = (_int(_first(query, name), None) for name in ("max_id", "since_id", "min_id"))
        items = [n for n in self.notifications
                 if (not types or n["type"] in types) and n["type"] not in excluded
                 and (max_id is None or int(n["id"]) < max_id)]
        if min_id is not None:
            # Paginable#paginate_by_min_id: the oldest `limit` after the cursor, answered newest first.
            page = sorted((n for n in items if int(n["id"]) > min_id), key=lambda n: int(n["id"]))[:limit][::-1]
        else:
            page = sorted((n for n in items if since_id is None or int(n["id"]) > since_id),
                          key=lambda n: int(n["id"]), reverse=True)[:limit]
        kept = [("limit", v) for v in query.get("limit", [])] + [("types[]", t) for t in types] + \
               [("exclude_types[]", t) for t in excluded]
        links = []
        if len(page) == limit:
            links.append(f'<{self.url}/api/v1/notifications?{urlencode(kept + [("max_id", page[-1]["id"])])}>; '
                         'rel="next"')
        if page:
            links.append(f'<{self.url}/api/v1/notifications?{urlencode(kept + [("min_id", page[0]["id"])])}>; '
                         'rel="prev"')
        body = [self._notification(n) for n in page]
        return _Response(200, body, {"Link": ", ".join(links)} if links else {})

    def _notification(self, notification: dict[str, Any]) -> dict[str, Any]:
        status = self.statuses.get(notification["status_id"])
        return {
            "id": notification["id"],
            "type": notification["type"],
            "created_at": notification["created_at"],
            "account": self._account(self.accounts[notification["account_id"]]),
            "status": self._status(status) if status else None,
        }

    # -- accounts and instance -------------------------------------------------

    def _account(self, account: dict[str, Any]) -> dict[str, Any]:
        base = self.url if account["domain"] is None else f"https://{account['domain']}"
        return {
            "id": account["id"],
            "username": account["username"],
            "acct": _acct(account),
            "display_name": account["display_name"],
            "locked": False,
            "bot": False,
            "created_at": account["created_at"],
            "note": account.get("note", ""),
            "url": f"{base}/@{account['username']}",
            "avatar": account.get("avatar") or f"{base}/avatars/original/missing.png",
            "avatar_static": account.get("avatar") or f"{base}/avatars/original/missing.png",
            "header": f"{base}/headers/original/missing.png",
            "header_static": f"{base}/headers/original/missing.png",
            "followers_count": account["followers_count"],
            "following_count": account["following_count"],
            "statuses_count": account["statuses_count"],
            "last_status_at": None,
            "emojis": [],
            "fields": account.get("fields", []),
        }

    def _credential_account(self) -> dict[str, Any]:
        return self._account(self.me) | {
            "source": {"privacy": "public", "sensitive": False, "language": "", "note": "", "fields": [],
                       "follow_requests_count": 0},
        }

    def _configuration(self) -> dict[str, Any]:
        return {
            "statuses": {"max_characters": self.max_characters, "max_media_attachments": MAX_MEDIA_ATTACHMENTS,
                         "characters_reserved_per_url": self.characters_reserved_per_url},
            "media_attachments": {"supported_mime_types": list(SUPPORTED_MIME_TYPES), "description_limit": 1500,
                                  "image_size_limit": 16_777_216, "image_matrix_limit": 33_177_600,
                                  "video_size_limit": 103_809_024, "video_frame_rate_limit": 120,
                                  "video_matrix_limit": 8_294_400},
            "polls": {"max_options": 4, "max_characters_per_option": 50, "min_expiration": 300,
                      "max_expiration": 2_629_746},
        }

    def _instance_v2(self) -> dict[str, Any]:
        configuration = self._configuration() | {"urls": {"streaming": f"ws://{self.domain}"},
                                                 "accounts": {"max_featured_tags": 10, "max_pinned_statuses": 5},
                                                 "translation": {"enabled": False}}
        return {
            "domain": self.domain, "title": "Fake Mastodon", "version": "4.3.0", "source_url": "",
            "description": "A local fake for Herald's tests", "usage": {"users": {"active_month": 1}},
            "thumbnail": {"url": f"{self.url}/thumbnail.png"}, "languages": ["en"], "configuration": configuration,
            "registrations": {"enabled": False, "approval_required": False, "message": None},
            "api_versions": {"mastodon": 2},
            "contact": {"email": "", "account": None}, "rules": [],
        }

    def _instance_v1(self) -> dict[str, Any]:
        return {
            "uri": self.domain, "title": "Fake Mastodon", "short_description": "", "description": "",
            "email": "", "version": "3.5.3", "urls": {"streaming_api": f"ws://{self.domain}"},
            "stats": {"user_count": len(self.accounts), "status_count": len(self.statuses), "domain_count": 1},
            "thumbnail": None, "languages": ["en"], "registrations": False, "approval_required": False,
            "invites_enabled": False, "configuration": self._configuration(), "contact_account": None, "rules": [],
        }

    # -- helpers ---------------------------------------------------------------

    def _next_id(self, kind: str) -> str:
        self._ids[kind] += 1
        return str(self._ids[kind])

    def _now_text(self) -> str:
        now = self.clock.now().astimezone(UTC)
        return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"


def _acct(account: dict[str, Any]) -> str:
    return account["username"] if account["domain"] is None else f"{account['username']}@{account['domain']}"


def _first(values: dict[str, list[str]], name: str) -> str | None:
    found = values.get(name)
    return found[0] if found else None


def _int(text: str | None, default: int | None) -> int | None:
    try:
        return int(text) if text is not None else default
    except ValueError:
        return default


def _parse_body(content_type: str, body: bytes) -> tuple[dict[str, list[str]], dict[str, dict[str, Any]]]:
    """Form fields (`media_ids[]` and `media_ids` alike) and uploaded files of a request body."""
    fields: dict[str, list[str]] = {}
    files: dict[str, dict[str, Any]] = {}
    mime = content_type.split(";")[0].strip().lower()
    if mime == "application/json":
        for name, value in (json.loads(body or b"{}") or {}).items():
            values = value if isinstance(value, list) else [value]
            fields[name] = ["true" if v is True else "false" if v is False else str(v) for v in values
                            if v is not None]
    elif mime == "application/x-www-form-urlencoded":
        fields = parse_qs(body.decode(), keep_blank_values=True)
    elif mime == "multipart/form-data":
        boundary = re.search(r'boundary="?([^";]+)"?', content_type)
        for part in body.split(b"--" + boundary.group(1).encode())[1:-1] if boundary else []:
            head, _, data = part.removeprefix(b"\r\n").partition(b"\r\n\r\n")
            data = data.removesuffix(b"\r\n")
            part_headers = dict(line.split(": ", 1) for line in head.decode().split("\r\n") if ": " in line)
            disposition = dict(re.findall(r'(\w+)="([^"]*)"', part_headers.get("Content-Disposition", "")))
            if "filename" in disposition:
                files[disposition["name"]] = {"filename": disposition["filename"], "data": data,
                                              "content_type": part_headers.get("Content-Type", "")}
            else:
                fields.setdefault(disposition.get("name", ""), []).append(data.decode())
    return {name.removesuffix("[]"): values for name, values in fields.items()}, files
