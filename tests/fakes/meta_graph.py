"""A local HTTP fake of the Graph API calls Herald makes for Facebook Pages and Instagram.

A real ThreadingHTTPServer on 127.0.0.1 (free port), on Graph's own paths under `/v<major>.<minor>`, with
the request and answer shapes of Meta's documents (cited in tests/events/meta/README.md):
- Facebook Login: `POST /oauth/access_token` (authorization code, with PKCE S256 when the code was issued with a
  challenge; `grant_type=fb_exchange_token` for a long-lived token), `GET /me/accounts` (Pages with their tokens
  and Instagram accounts, paged by `after` cursors), `GET /me` (the identity calls).
- Pages: `POST /{page}/feed` (`message`, `link`, `attached_media`), `POST /{page}/photos` (`url`, `published`),
  `POST /{page}/videos` (`file_url`), `GET /{video}?fields=status`, `GET /{page}/feed`, `POST /{id}/comments`.
- Instagram: `POST /{ig}/media` (image, REELS, carousel items, CAROUSEL), `GET /{container}?fields=status_code`,
  `GET /{ig}/content_publishing_limit`, `POST /{ig}/media_publish`, `GET /{ig}/media`, `GET /{media}?fields=
  permalink`, `POST /{media}/comments`.
- WhatsApp: `GET /{phone_number_id}?fields=display_phone_number,verified_name`, `GET /{phone_number_id}/
  whatsapp_business_profile?fields=` (tests/events/whatsapp/whatsapp_business_profile.json's shape),
  `POST /{phone_number_id}/messages`.

It checks what Herald sends: the version prefix, `Authorization: Bearer` with a token of the right kind for the
object, the body fields and their types, the order of a flow (attached photos must be unpublished photos of the
Page, a carousel's children finished items of the account, only a FINISHED container published, once), and it
"fetches" media as Meta does, from the URLs it is given, among those a test `host`s (JPEG/PNG/MP4 by their
magic bytes; with `fetch_urls=True`, any other URL by an HTTP GET). What it refuses is answered as Graph does
(`{"error": {"message", "type", "code", "error_subcode", "fbtrace_id"}}`) and noted in `violations`; `fail(...)`
scripts any documented error.
"""
from __future__ import annotations

import base64
import hashlib
import itertools
import json
import re
import threading
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import parse_qs, urlsplit

from tests.support.events import load_event

VERSION_PATH = re.compile(r"^/(?P<version>v\d+\.\d+)(?P<rest>/.*)$")
LONG_LIVED_S = 5183944  # the sample answer of "Long-Lived Access Tokens"


@dataclass(frozen=True)
class Seen:
    method: str
    path: str  # without the version prefix
    query: dict[str, str]
    headers: dict[str, str]
    body: dict[str, Any]


@dataclass
class Failure:
    method: str
    path: re.Pattern[str]
    status: int
    error: dict[str, Any]
    headers: dict[str, str]
    times: int


class GraphError(Exception):
    def __init__(self, status: int, code: int, message: str, subcode: int | None = None,
                 user_msg: str | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.subcode, self.user_msg = status, code, message, subcode, user_msg

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"message": self.message, "type": "OAuthException", "code": self.code,
                                 "fbtrace_id": "AfakeTrace"}
        if self.subcode is not None:
            error["error_subcode"] = self.subcode
        if self.user_msg:
            error["error_user_msg"] = self.user_msg
        return {"error": error}


@dataclass
class _State:
    pages: dict[str, dict[str, Any]] = field(default_factory=dict)
    page_tokens: dict[str, str] = field(default_factory=dict)
    user_tokens: dict[str, dict[str, Any]] = field(default_factory=dict)
    codes: dict[str, dict[str, Any]] = field(default_factory=dict)
    hosted: dict[str, bytes] = field(default_factory=dict)
    feed: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    photos: dict[str, dict[str, Any]] = field(default_factory=dict)
    videos: dict[str, dict[str, Any]] = field(default_factory=dict)
    containers: dict[str, dict[str, Any]] = field(default_factory=dict)
    ig_media: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    comments: list[dict[str, str]] = field(default_factory=list)
    quota: dict[str, dict[str, int]] = field(default_factory=dict)
    failures: list[Failure] = field(default_factory=list)
    drops: list[tuple[str, re.Pattern[str]]] = field(default_factory=list)
    # WhatsApp Cloud API: business phone numbers (id -> number, name, token) and the messages sent from them.
    phone_numbers: dict[str, dict[str, str]] = field(default_factory=dict)
    whatsapp_sent: list[dict[str, Any]] = field(default_factory=list)
    # Each number's business profile (whatsapp_business_profile.json's entry, a test's values over it).
    whatsapp_profiles: dict[str, dict[str, Any]] = field(default_factory=dict)
    requests: list[Seen] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)


class MetaGraphFake:
    """`with MetaGraphFake(clock) as graph:`; `graph.url` is the HERALD_META_GRAPH_URL to use."""

    app_id = "1234567890"
    app_secret = "fake-app-secret"

    def __init__(self, now: Callable[[], datetime] | None = None, *, video_polls: int = 1,
                 fetch_urls: bool = False) -> None:
        self.now = now or (lambda: datetime.now(UTC))
        self.video_polls = video_polls  # status checks a video answers "processing" before it is ready
        # Fetch over HTTP the media URLs no test `host`ed, as Meta does (the local stack's presigned S3 URLs).
        self.fetch_urls = fetch_urls
        self.state = _State()
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    # -- lifecycle ---------------------------------------------------------------------------------------------

    def __enter__(self) -> Self:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, name="meta-graph-fake", daemon=True).start()
        return self

    def __exit__(self, *_exc: Any) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}/v25.0"

    # -- what a test sets up -----------------------------------------------------------------------------------

    def page(self, page_id: str, name: str, token: str, ig: tuple[str, str] | None = None) -> None:
        self.state.pages[page_id] = {"id": page_id, "name": name, "token": token,
                                     "ig": {"id": ig[0], "username": ig[1]} if ig else None}
        self.state.page_tokens[token] = page_id
        self.state.feed.setdefault(page_id, [])
        if ig:
            self.state.ig_media.setdefault(ig[0], [])
            self.state.quota.setdefault(ig[0], {"usage": 0, "total": 100, "duration": 86400})

    def user(self, token: str, page_ids: list[str]) -> None:
        self.state.user_tokens[token] = {"pages": page_ids, "long": True}

    def issue_code(self, code: str, redirect_uri: str, page_ids: list[str], code_challenge: str | None = None) -> None:
        """What the login dialog would hand back: a single-use code for a person who manages `page_ids`."""
        self.state.codes[code] = {"redirect_uri": redirect_uri, "pages": page_ids, "challenge": code_challenge}

    def host(self, url: str, data: bytes) -> None:
        """Media at `url` that "Meta" can fetch."""
        self.state.hosted[url] = data

    def _media_at(self, url: str) -> bytes | None:
        """The bytes "Meta" finds at `url`: a hosted file, or (with `fetch_urls`) what an HTTP GET answers."""
        if url in self.state.hosted or not self.fetch_urls or not url.startswith(("http://", "https://")):
            return self.state.hosted.get(url)
        try:
            with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 (a local test URL)
                return bytes(response.read())
        except OSError:
            return None

    def fail(self, method: str, path: str, status: int, code: int, message: str, *, subcode: int | None = None,
             user_msg: str | None = None, headers: dict[str, str] | None = None, times: int = 1) -> None:
        """The next `times` calls matching `method` and the regex `path` (fullmatch, no version) answer this."""
        error = GraphError(status, code, message, subcode, user_msg).body()
        self.state.failures.append(Failure(method, re.compile(path), status, error, headers or {}, times))

    def drop_after(self, method: str, path: str) -> None:
        """The next call matching `method` and the regex `path` (fullmatch, no version) is done, then its connection
        is closed without an answer: an ambiguous attempt (the work is done; Herald cannot know it)."""
        self.state.drops.append((method, re.compile(path)))

    def dropped(self, method: str, raw_path: str) -> bool:
        matched = VERSION_PATH.match(urlsplit(raw_path).path)
        path = (matched.group("rest") if matched else raw_path).lstrip("/")
        with self._lock:
            for drop in self.state.drops:
                if drop[0] == method and drop[1].fullmatch(path):
                    self.state.drops.remove(drop)
                    return True
        return False

    def phone_number(self, phone_number_id: str, display: str, name: str, token: str) -> None:
        """A WhatsApp business phone number that `token` (a system user token) may send from."""
        self.state.phone_numbers[phone_number_id] = {"display": display, "name": name, "token": token}

    def whatsapp_messages(self, phone_number_id: str) -> list[dict[str, Any]]:
        return [m for m in self.state.whatsapp_sent if m["from"] == phone_number_id]

    def revoke(self, token: str) -> None:
        self.state.page_tokens.pop(token, None)
        self.state.user_tokens.pop(token, None)

    # -- what a test reads -------------------------------------------------------------------------------------

    @property
    def requests(self) -> list[Seen]:
        return list(self.state.requests)

    def calls(self, method: str | None = None) -> list[str]:
        return [f"{r.method} {r.path}" for r in self.state.requests if method is None or r.method == method]

    def posts(self, page_id: str) -> list[dict[str, Any]]:
        return list(self.state.feed.get(page_id, []))

    def instagram_media(self, ig_user_id: str) -> list[dict[str, Any]]:
        return list(self.state.ig_media.get(ig_user_id, []))

    # -- the server side ---------------------------------------------------------------------------------------

    def answer(self, method: str, raw_path: str, headers: dict[str, str], raw_body: bytes) -> tuple[int, Any, dict]:
        parts = urlsplit(raw_path)
        query = {k: v[0] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        body = _body(headers, raw_body)
        matched = VERSION_PATH.match(parts.path)
        with self._lock:
            path = matched.group("rest") if matched else parts.path
            self.state.requests.append(Seen(method, path, query, headers, body))
            if not matched:
                return self._refuse(400, 100, "Unsupported request: no API version in the path")
            for failure in self.state.failures:
                if failure.times > 0 and failure.method == method and failure.path.fullmatch(path.lstrip("/")):
                    failure.times -= 1
                    return failure.status, failure.error, failure.headers
            try:
                answer = self._route(method, path.strip("/").split("/"), query, headers, body)
                return 200, answer, {}
            except GraphError as error:
                self.state.violations.append(f"{method} {path}: {error.message}")
                return error.status, error.body(), {}


    def _refuse(self, status: int, code: int, message: str) -> tuple[int, Any, dict]:
        self.state.violations.append(message)
        return status, GraphError(status, code, message).body(), {}

    def _route(self, method: str, parts: list[str], query: dict[str, str], headers: dict[str, str],
               body: dict[str, Any]) -> Any:
        if parts == ["oauth", "access_token"] and method == "POST":
            return self._token(body)
        token = _bearer(headers)
        if "access_token" in query or "access_token" in body:
            raise GraphError(400, 100, "Herald puts tokens in the Authorization header, never in the request")
        if parts == ["me", "accounts"] and method == "GET":
            return self._accounts(token, query)
        if len(parts) == 1 and parts[0] == "me" and method == "GET":
            return self._me(token, query)
        handler = self._routes().get((method, parts[1] if len(parts) == 2 else ""))
        if handler is None:
            raise GraphError(400, 100, f"Unsupported {method} request to /{'/'.join(parts)}")
        return handler(token, parts[0], query, body)

    def _routes(self) -> dict[tuple[str, str], Callable[..., Any]]:
        return {
            ("POST", "feed"): self._post_feed, ("GET", "feed"): self._read_feed,
            ("POST", "photos"): self._post_photo, ("POST", "videos"): self._post_video,
            ("POST", "comments"): self._post_comment, ("GET", ""): self._read_node,
            ("POST", "media"): self._create_container, ("GET", "media"): self._read_ig_media,
            ("POST", "media_publish"): self._media_publish,
            ("POST", "messages"): self._send_whatsapp,
            ("GET", "whatsapp_business_profile"): self._read_business_profile,
            ("GET", "content_publishing_limit"): self._publishing_limit,
        }

    # OAuth ------------------------------------------------------------------------------------------------------

    def _token(self, form: dict[str, Any]) -> dict[str, Any]:
        if form.get("client_id") != self.app_id or form.get("client_secret") != self.app_secret:
            raise GraphError(400, 101, "Error validating client secret.")
        if form.get("grant_type") == "fb_exchange_token":
            user = self.state.user_tokens.get(str(form.get("fb_exchange_token")))
            if user is None:
                raise GraphError(400, 190, "Error validating access token: Session has expired", 463)
            return self._new_user_token(user["pages"], long=True)
        code = self.state.codes.pop(str(form.get("code")), None)
        if code is None:
            raise GraphError(400, 100, "This authorization code has been used.", 36009)
        if form.get("redirect_uri") != code["redirect_uri"]:
            raise GraphError(400, 100, "Error validating verification code. Please make sure your redirect_uri "
                                       "is identical to the one you used in the OAuth dialog request", 36008)
        if code["challenge"] is not None:
            verifier = str(form.get("code_verifier") or "")
            digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
            if digest != code["challenge"]:
                raise GraphError(400, 100, "Invalid code verifier")
        return self._new_user_token(code["pages"], long=False)

    def _new_user_token(self, pages: list[str], *, long: bool) -> dict[str, Any]:
        token = f"{'long' if long else 'short'}-user-{next(self._ids)}"
        self.state.user_tokens[token] = {"pages": pages, "long": long}
        answer: dict[str, Any] = {"access_token": token, "token_type": "bearer"}
        answer["expires_in"] = LONG_LIVED_S if long else 5400
        return answer

    def _accounts(self, token: str, query: dict[str, str]) -> dict[str, Any]:
        user = self.state.user_tokens.get(token)
        if user is None:
            raise GraphError(400, 190, "Invalid OAuth access token - Cannot parse access token")
        if query.get("fields") != "id,name,access_token,instagram_business_account{id,username}":
            raise GraphError(400, 100, f"unexpected fields {query.get('fields')!r}")
        size = int(query.get("limit") or 25)
        start = int(query.get("after") or 0)
        rows = []
        for page_id in user["pages"][start:start + size]:
            page = self.state.pages[page_id]
            row = {"id": page_id, "name": page["name"], "access_token": page["token"]}
            if page["ig"]:
                row["instagram_business_account"] = dict(page["ig"])
            rows.append(row)
        answer: dict[str, Any] = {"data": rows, "paging": {"cursors": {"before": str(start),
                                                                      "after": str(start + len(rows))}}}
        if start + size < len(user["pages"]):
            answer["paging"]["next"] = f"https://graph.facebook.com/v25.0/me/accounts?after={start + size}"
        return answer

    def _me(self, token: str, query: dict[str, str]) -> dict[str, Any]:
        page = self._page_of(token)
        if query.get("fields") == "instagram_business_account{id,username}":
            return {"id": page["id"], **({"instagram_business_account": page["ig"]} if page["ig"] else {})}
        return {"id": page["id"], "name": page["name"]}

    def _page_of(self, token: str) -> dict[str, Any]:
        page_id = self.state.page_tokens.get(token)
        if page_id is None:
            raise GraphError(400, 190, "Error validating access token: The session has been invalidated", 460)
        return self.state.pages[page_id]

    def _own_page(self, token: str, node: str) -> dict[str, Any]:
        page = self._page_of(token)
        if node not in (page["id"], "me"):
            raise GraphError(403, 200, "(#200) The Page token does not reach this Page")
        return page

    def _own_ig(self, token: str, node: str) -> str:
        page = self._page_of(token)
        if not page["ig"] or page["ig"]["id"] != node:
            raise GraphError(400, 100, "Unsupported request: the token does not reach this IG User")
        return node

    # Facebook Pages -------------------------------------------------------------------------------------------

    def _post_feed(self, token: str, node: str, _query: dict, body: dict[str, Any]) -> dict[str, Any]:
        page = self._own_page(token, node)
        _only(body, {"message", "link", "attached_media"})
        message = body.get("message")
        if message is not None and not isinstance(message, str):
            raise GraphError(400, 100, "(#100) message must be a string")
        attached = body.get("attached_media")
        if attached is not None:
            if not isinstance(attached, list) or not attached:
                raise GraphError(400, 100, "(#100) attached_media must be a list of {media_fbid}")
            for item in attached:
                photo = self.state.photos.get(str(item.get("media_fbid"))) if isinstance(item, dict) else None
                if photo is None or photo["page"] != page["id"] or photo["published"] or photo["attached"]:
                    raise GraphError(400, 100, "(#100) attached_media must name unpublished photos of this Page")
                photo["attached"] = True
        if body.get("link") is not None and attached:
            raise GraphError(400, 100, "(#100) a post cannot carry both link and attached_media")
        if not message and not attached and not body.get("link"):
            raise GraphError(400, 100, "(#100) Missing message or attachment")
        return {"id": self._add_post(page["id"], message or "", link=body.get("link"), photos=attached)}

    def _add_post(self, page_id: str, message: str, **extra: Any) -> str:
        post_id = f"{page_id}_{next(self._ids)}"
        recent = [p for p in self.state.feed[page_id] if p["message"] and p["message"] == message]
        if recent and message:
            raise GraphError(400, 506, "(#506) Duplicate status message")
        self.state.feed[page_id].insert(0, {"id": post_id, "message": message, "created_time": _stamp(self.now()),
                                            **extra})
        return post_id

    def _post_photo(self, token: str, node: str, _query: dict, body: dict[str, Any]) -> dict[str, Any]:
        page = self._own_page(token, node)
        _only(body, {"url", "published", "message", "alt_text_custom"})
        if not isinstance(body.get("published"), bool):
            raise GraphError(400, 100, "(#100) published must be true or false")
        data = self._media_at(str(body.get("url")))
        if data is None or not (data.startswith(b"\xff\xd8\xff") or data.startswith(b"\x89PNG")):
            raise GraphError(400, 324, "(#324) Missing or invalid image file")
        photo_id = str(next(self._ids) + 50_000_000_000)
        self.state.photos[photo_id] = {"page": page["id"], "published": body["published"], "attached": False,
                                       "message": body.get("message")}
        if not body["published"]:
            return {"id": photo_id}
        return {"id": photo_id, "post_id": self._add_post(page["id"], str(body.get("message") or ""))}

    def _post_video(self, token: str, node: str, _query: dict, body: dict[str, Any]) -> dict[str, Any]:
        page = self._own_page(token, node)
        _only(body, {"file_url", "description", "title"})
        data = self._media_at(str(body.get("file_url")))
        if data is None or data[4:8] != b"ftyp":
            raise GraphError(400, 100, "(#100) file_url does not point at a video Facebook could fetch", 1363024)
        video_id = str(next(self._ids) + 60_000_000_000)
        self.state.videos[video_id] = {"page": page["id"], "polls": self.video_polls,
                                       "description": body.get("description") or ""}
        return {"id": video_id}

    def _read_feed(self, token: str, node: str, query: dict[str, str], _body: dict) -> dict[str, Any]:
        page = self._own_page(token, node)
        since = int(query["since"]) if query.get("since") else None
        rows = [{"id": p["id"], "message": p["message"], "created_time": p["created_time"]}
                for p in self.state.feed[page["id"]]
                if since is None or _parse(p["created_time"]).timestamp() >= since]
        if query.get("fields") != "id,message,created_time":
            raise GraphError(400, 100, f"unexpected fields {query.get('fields')!r}")
        return {"data": rows[: int(query.get("limit") or 25)]}

    def _post_comment(self, token: str, node: str, _query: dict, body: dict[str, Any]) -> dict[str, Any]:
        page = self._page_of(token)
        _only(body, {"message"})
        known = (any(p["id"] == node for p in self.state.feed[page["id"]])
                 or self.state.videos.get(node, {}).get("page") == page["id"]
                 or any(m["id"] == node for m in self.state.ig_media.get((page["ig"] or {}).get("id", ""), [])))
        if not known:
            raise GraphError(400, 100, f"Unsupported post request: object {node} does not exist or is not reachable")
        comment_id = f"{node.split('_')[-1]}_{next(self._ids) + 70_000_000_000}"
        self.state.comments.append({"id": comment_id, "on": node, "message": str(body.get("message"))})
        return {"id": comment_id}

    def _read_node(self, token: str, node: str, query: dict[str, str], _body: dict) -> dict[str, Any]:
        if node in self.state.phone_numbers:
            return self._read_phone_number(token, node, query)
        page = self._page_of(token)
        fields = query.get("fields")
        if node in self.state.videos and fields == "status":
            video = self.state.videos[node]
            if video["polls"] > 0:
                video["polls"] -= 1
                return {"id": node, "status": {"video_status": "processing",
                                               "processing_phase": {"status": "in_progress"}}}
            return {"id": node, "status": {"video_status": "ready", "processing_phase": {"status": "complete"}}}
        if node in self.state.containers and fields == "status_code,status":
            container = self.state.containers[node]
            if container["owner"] != (page["ig"] or {}).get("id"):
                raise GraphError(400, 100, "Unsupported get request: the container is not this account's")
            return {"id": node, **self._container_status(container)}
        ig_id = (page["ig"] or {}).get("id", "")
        media = next((m for m in self.state.ig_media.get(ig_id, []) if m["id"] == node), None)
        if media is not None and fields == "permalink":
            return {"id": node, "permalink": media["permalink"]}
        raise GraphError(400, 100, f"Unsupported get request: {node} with fields {fields!r}")

    # WhatsApp Cloud API ---------------------------------------------------------------------------------------

    def _whatsapp_number(self, token: str, node: str) -> dict[str, str]:
        number = self.state.phone_numbers.get(node)
        if number is None:
            raise GraphError(400, 100, f"Unsupported request: no phone number {node}", 33)
        if number["token"] != token:
            raise GraphError(401, 190, "Error validating access token: the token does not reach this number")
        return number

    def _read_phone_number(self, token: str, node: str, query: dict[str, str]) -> dict[str, Any]:
        number = self._whatsapp_number(token, node)
        if query.get("fields") != "display_phone_number,verified_name":
            raise GraphError(400, 100, f"unexpected fields {query.get('fields')!r}")
        return {"id": node, "display_phone_number": number["display"], "verified_name": number["name"]}

    def _read_business_profile(self, token: str, node: str, query: dict[str, str], _body: dict) -> dict[str, Any]:
        """GET /{phone_number_id}/whatsapp_business_profile?fields=...: the fields asked for, in `data`."""
        self._whatsapp_number(token, node)
        fields = set(str(query.get("fields") or "").split(","))
        known = {"about", "address", "description", "email", "profile_picture_url", "websites", "vertical"}
        if not fields <= known:
            raise GraphError(400, 100, f"unexpected fields {query.get('fields')!r}")
        entry = {**load_event("whatsapp", "whatsapp_business_profile.json")["data"][0],
                 **self.state.whatsapp_profiles.get(node, {})}
        return {"data": [{k: v for k, v in entry.items() if k in fields or k == "messaging_product"}]}

    def _send_whatsapp(self, token: str, node: str, _query: dict, body: dict[str, Any]) -> dict[str, Any]:
        """POST /{phone_number_id}/messages (Cloud API messages reference): text, or an approved template."""
        self._whatsapp_number(token, node)
        _only(body, {"messaging_product", "recipient_type", "to", "type", "text", "template", "context"})
        if body.get("messaging_product") != "whatsapp" or not str(body.get("to") or "").isdigit():
            raise GraphError(400, 100, "(#100) messaging_product must be whatsapp and to a phone number")
        kind = body.get("type")
        if kind == "text" and not (body.get("text") or {}).get("body"):
            raise GraphError(400, 100, "(#100) text.body is required")
        if kind == "template" and not ((body.get("template") or {}).get("name")
                                       and ((body.get("template") or {}).get("language") or {}).get("code")):
            raise GraphError(400, 100, "(#100) template.name and template.language.code are required")
        if kind not in ("text", "template"):
            raise GraphError(400, 100, f"(#100) Herald sends text or template messages, not {kind!r}")
        wamid = f"wamid.HBgL{next(self._ids):012d}"
        self.state.whatsapp_sent.append({"id": wamid, "from": node, **body})
        return {"messaging_product": "whatsapp", "contacts": [{"input": body["to"], "wa_id": body["to"]}],
                "messages": [{"id": wamid}]}

    # Instagram ------------------------------------------------------------------------------------------------

    def _create_container(self, token: str, node: str, _query: dict, body: dict[str, Any]) -> dict[str, Any]:
        owner = self._own_ig(token, node)
        _only(body, {"image_url", "video_url", "media_type", "is_carousel_item", "children", "caption", "alt_text"})
        kind = body.get("media_type") or "IMAGE"
        item = body.get("is_carousel_item")
        if item is not None and item is not True:
            raise GraphError(400, 100, "is_carousel_item must be true when given")
        if kind == "CAROUSEL":
            children = str(body.get("children") or "").split(",")
            if not 2 <= len(children) <= 10:
                raise GraphError(400, 100, "A carousel takes 2 to 10 children", 2207028)
            for child_id in children:
                child = self.state.containers.get(child_id)
                if child is None or child["owner"] != owner or not child["item"] or child["polls"] > 0 \
                        or child["error"]:
                    raise GraphError(400, 100, f"Carousel child {child_id} is not a finished item of this account")
            return {"id": self._container(owner, kind, item=False, caption=body.get("caption"), children=children)}
        if kind == "IMAGE":
            data = self._media_at(str(body.get("image_url")))
            if data is None:
                raise GraphError(400, 9004, "The media could not be fetched from this uri", 2207052,
                                 "The media could not be fetched from this URI: " + str(body.get("image_url")))
            if not data.startswith(b"\xff\xd8\xff"):
                raise GraphError(400, 36001, "The image format is not supported.", 2207005,
                                 "The image format is not supported. Supported formats are: JPEG")
            return {"id": self._container(owner, kind, item=bool(item), caption=body.get("caption"))}
        if kind not in ("REELS", "VIDEO") or (kind == "VIDEO" and not item) or (kind == "REELS" and item):
            raise GraphError(400, 100, f"media_type {kind!r} is not valid here")
        data = self._media_at(str(body.get("video_url")))
        # A video is fetched while the container is processed: a bad URL shows as ERROR on the status.
        error = None if data is not None and data[4:8] == b"ftyp" else "ERROR: 2207026"
        return {"id": self._container(owner, kind, item=bool(item), caption=body.get("caption"),
                                      polls=self.video_polls, error=error)}

    def _container(self, owner: str, kind: str, *, item: bool, caption: Any, children: list[str] | None = None,
                   polls: int = 0, error: str | None = None) -> str:
        container_id = str(next(self._ids) + 17_800_000_000_000_000)
        self.state.containers[container_id] = {
            "owner": owner, "kind": kind, "item": item, "caption": caption or "", "children": children or [],
            "polls": polls, "error": error, "published": False, "created": self.now(),
        }
        return container_id

    def _container_status(self, container: dict[str, Any]) -> dict[str, str]:
        if container["published"]:
            return {"status_code": "PUBLISHED", "status": "Published"}
        if container["polls"] > 0:
            container["polls"] -= 1
            return {"status_code": "IN_PROGRESS", "status": "In Progress: Media is still being processed."}
        if container["error"]:
            return {"status_code": "ERROR", "status": container["error"]}
        return {"status_code": "FINISHED",
                "status": "Finished: Media has been uploaded and it is ready to be published."}

    def _publishing_limit(self, token: str, node: str, query: dict[str, str], _body: dict) -> dict[str, Any]:
        owner = self._own_ig(token, node)
        quota = self.state.quota[owner]
        if query.get("fields") != "quota_usage,config":
            raise GraphError(400, 100, f"unexpected fields {query.get('fields')!r}")
        return {"data": [{"quota_usage": quota["usage"],
                          "config": {"quota_total": quota["total"], "quota_duration": quota["duration"]}}]}

    def _media_publish(self, token: str, node: str, _query: dict, body: dict[str, Any]) -> dict[str, Any]:
        owner = self._own_ig(token, node)
        _only(body, {"creation_id"})
        container = self.state.containers.get(str(body.get("creation_id")))
        if container is None or container["owner"] != owner or container["item"]:
            raise GraphError(400, 24, "The requested resource does not exist", 2207008)
        if container["published"] or container["polls"] > 0 or container["error"]:
            raise GraphError(400, 9007, "Media ID is not available", 2207027,
                             "The media is not ready for publishing, please wait for a moment")
        quota = self.state.quota[owner]
        if quota["usage"] >= quota["total"]:
            raise GraphError(400, 9, "Application request limit reached", 2207042,
                             "You reached maximum number of posts that is allowed to be published by Content "
                             "Publishing API.")
        quota["usage"] += 1
        container["published"] = True
        media_id = str(next(self._ids) + 17_900_000_000_000_000)
        self.state.ig_media[owner].insert(0, {
            "id": media_id, "caption": container["caption"], "timestamp": _stamp(self.now()),
            "permalink": f"https://www.instagram.com/p/FAKE{media_id[-6:]}/", "kind": container["kind"],
            "children": container["children"],
        })
        return {"id": media_id}

    def _read_ig_media(self, token: str, node: str, query: dict[str, str], _body: dict) -> dict[str, Any]:
        owner = self._own_ig(token, node)
        fields = [f for f in str(query.get("fields") or "").split(",") if f]
        if not fields or not set(fields) <= {"id", "caption", "timestamp", "permalink"}:
            raise GraphError(400, 100, f"unexpected fields {query.get('fields')!r}")
        rows = [{k: m[k] for k in fields} for m in self.state.ig_media[owner]]
        return {"data": rows[: int(query.get("limit") or 25)]}


def _only(body: dict[str, Any], allowed: set[str]) -> None:
    unknown = set(body) - allowed
    if unknown:
        raise GraphError(400, 100, f"(#100) unexpected parameters {sorted(unknown)}")


def _bearer(headers: dict[str, str]) -> str:
    value = next((v for k, v in headers.items() if k.lower() == "authorization"), "")
    return value[len("Bearer "):] if value.startswith("Bearer ") else ""


def _body(headers: dict[str, str], raw: bytes) -> dict[str, Any]:
    kind = next((v for k, v in headers.items() if k.lower() == "content-type"), "")
    if not raw:
        return {}
    if kind.startswith("application/json"):
        value = json.loads(raw)
        return value if isinstance(value, dict) else {"_": value}
    return {k: v[0] for k, v in parse_qs(raw.decode(), keep_blank_values=True).items()}


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")


def _parse(value: str) -> datetime:
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S%z")


def _handler(fake: MetaGraphFake) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _serve(self, method: str) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            status, body, headers = fake.answer(method, self.path, dict(self.headers.items()), raw)
            if fake.dropped(method, self.path):
                self.close_connection = True
                self.connection.close()
                return
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            for key, value in headers.items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(payload)

        def do_GET(self) -> None:  # noqa: N802
            self._serve("GET")

        def do_POST(self) -> None:  # noqa: N802
            self._serve("POST")

        def log_message(self, *_args: Any) -> None:
            pass

    return Handler
