"""A local HTTP fake of the X API v2 endpoints Herald calls, with the documented shapes (tests/events/x/README.md).

One real ThreadingHTTPServer on 127.0.0.1 (a free port) answers:
- `POST /2/oauth2/token` (confidential client: `Authorization: Basic`, form body): `authorization_code` with the
  PKCE S256 verifier of the challenge the test authorized with, and `refresh_token`, which ROTATES: each refresh
  answers a new refresh token and spends the old one (400 `invalid_request` after).
- `GET /2/users/me`, `GET /2/users/{id}/tweets` (start_time, max_results, pagination_token; text as X returns it:
  `&<>` escaped, links as t.co, a media link added).
- The chunked media upload: `POST /2/media/upload/initialize` (JSON), `/{id}/append` (multipart, segments in
  order), `/{id}/finalize` (every byte there), `GET /2/media/upload?command=STATUS&media_id=` (the scripted
  processing states of a video), `POST /2/media/metadata` (alt text).
- `POST /2/tweets` (text, media.media_ids of finished uploads of this user, reply.in_reply_to_tweet_id of a post
  that exists; the same text twice: 403 duplicate content).

It CHECKS what Herald sends: a request that breaks a documented rule is answered 400 and written to
`violations` (tests assert it stays empty). Every request is in `requests`; `fail(...)` scripts an error for the
next matching request, `drop_after(...)` applies one and closes the connection without answering.

    with XApi(clock) as api:
        token = api.user_token("2975699229", "Scruffy")
"""
from __future__ import annotations

import base64
import hashlib
import html
import itertools
import json
import re
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import policy
from email.parser import BytesParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import parse_qs, urlsplit

CLIENT_ID = "herald-x-client"
CLIENT_SECRET = "herald-x-secret"
MAX_SEGMENT_BYTES = 5 * 1024 * 1024
CATEGORIES = {"tweet_image", "tweet_gif", "tweet_video", "amplify_video"}
INVALID_TOKEN = {"error": "invalid_request", "error_description": "Value passed for the token was invalid."}
UNAUTHORIZED = {"title": "Unauthorized", "type": "about:blank", "status": 401, "detail": "Unauthorized"}
DUPLICATE = {"detail": "You are not allowed to create a Tweet with duplicate content.", "type": "about:blank",
             "title": "Forbidden", "status": 403}


# X's answer to an app outside a Project / on a plan without the endpoint
# (docs.x.com/x-api/fundamentals/response-codes-and-errors#client-forbidden).
CLIENT_NOT_ENROLLED = {
    "client_id": "29382738", "title": "Client Forbidden", "required_enrollment": "Appropriate Level of API Access",
    "registration_url": "https://developer.x.com/en/portal/product",
    "detail": "When authenticating requests to the Twitter API v2 endpoints, you must use keys and tokens from "
              "a Twitter developer App that is attached to a Project. You can create a project via the "
              "developer portal.",
    "reason": "client-not-enrolled", "type": "https://api.twitter.com/2/problems/client-forbidden",
}


@dataclass(frozen=True)
class Recorded:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Scripted:
    method: str
    path: re.Pattern[str]
    status: int
    body: Any
    headers: dict[str, str]
    drop: bool = False  # apply the request, then close without answering


@dataclass
class Media:
    id: str
    user_id: str
    media_type: str
    total_bytes: int
    category: str
    segments: dict[int, bytes] = field(default_factory=dict)
    finalized: bool = False
    states: list[str] = field(default_factory=list)  # processing states still to answer, video only
    state: str | None = None
    alt: str | None = None

    @property
    def content(self) -> bytes:
        return b"".join(self.segments[i] for i in sorted(self.segments))

    @property
    def usable(self) -> bool:
        return self.finalized and self.state in (None, "succeeded")


@dataclass
class Tweet:
    id: str
    author_id: str
    text: str
    created_at: datetime
    media_ids: list[str]
    in_reply_to: str | None


class Answer(Exception):
    def __init__(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        super().__init__(status)
        self.status, self.body, self.headers = status, body, headers or {}


class XApi:
    def __init__(self, clock: Any) -> None:
        self.clock = clock
        self.lock = threading.Lock()
        self.users: dict[str, dict[str, str]] = {}
        self.tokens: dict[str, str] = {}  # access token → user id
        self.refresh_tokens: dict[str, tuple[str, bool]] = {}  # refresh token → (user id, spent)
        self.codes: dict[str, dict[str, str]] = {}
        self.media: dict[str, Media] = {}
        self.tweets: list[Tweet] = []
        self.scripted: list[Scripted] = []
        self.requests: list[Recorded] = []
        self.violations: list[str] = []
        self.video_states: list[str] = ["pending", "in_progress", "succeeded"]
        self._ids = itertools.count(1880028106020515840)
        self._server: ThreadingHTTPServer | None = None
        self.search_allowed = True  # False: the app's plan cannot use search/recent

    # -- lifecycle ------------------------------------------------------------------------------------------

    def start(self) -> Self:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, name="x-api-fake", daemon=True).start()
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
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    # -- what X knows ----------------------------------------------------------------------------------------

    def user(self, user_id: str, username: str) -> None:
        self.users[user_id] = {"id": user_id, "name": username.title(), "username": username,
                               "profile_image_url": f"https://pbs.twimg.com/profile_images/{user_id}.jpg"}

    def set_profile(self, user_id: str, **fields: Any) -> None:
        """More of a user's public fields (name, description, url, entities, profile_image_url)."""
        self.users.setdefault(user_id, {"id": user_id, "username": user_id}).update(fields)

    def user_token(self, user_id: str, username: str = "someone") -> dict[str, str]:
        """A user who connected Herald: their access and refresh tokens."""
        self.user(user_id, username)
        return self._issue(user_id)

    def authorize(self, user_id: str, username: str, *, code_challenge: str, redirect_uri: str) -> str:
        """The user approved on the authorization page: the code X redirects back with."""
        self.user(user_id, username)
        code = "code-" + secrets.token_urlsafe(12)
        self.codes[code] = {"user_id": user_id, "challenge": code_challenge, "redirect_uri": redirect_uri}
        return code

    def expire(self, access_token: str) -> None:
        self.tokens.pop(access_token, None)

    def revoke(self, refresh_token: str) -> None:
        user_id, _spent = self.refresh_tokens[refresh_token]
        self.refresh_tokens[refresh_token] = (user_id, True)

    def fail(self, method: str, path: str, status: int, body: Any = None, headers: dict[str, str] | None = None,
             *, times: int = 1) -> None:
        for _ in range(times):
            self.scripted.append(Scripted(method, re.compile(path), status, body, headers or {}))

    def drop_after(self, method: str, path: str) -> None:
        self.scripted.append(Scripted(method, re.compile(path), 0, None, {}, drop=True))

    def post_as(self, user_id: str, text: str, *, in_reply_to: str | None = None,
                at: datetime | None = None) -> str:
        """A post the user made themselves (not through Herald)."""
        tweet = Tweet(str(next(self._ids)), user_id, text, at or self.clock.now(), [], in_reply_to)
        self.tweets.append(tweet)
        return tweet.id

    def calls(self, method: str, pattern: str) -> list[Recorded]:
        return [r for r in self.requests if r.method == method and re.fullmatch(pattern, r.path)]

    def tweet(self, tweet_id: str) -> Tweet:
        return next(t for t in self.tweets if t.id == tweet_id)

    # -- the endpoints ---------------------------------------------------------------------------------------

    def handle(self, request: Recorded) -> tuple[int, Any, dict[str, str], bool]:
        with self.lock:
            self.requests.append(request)
            for scripted in self.scripted:
                if scripted.method == request.method and scripted.path.fullmatch(request.path):
                    self.scripted.remove(scripted)
                    if scripted.drop:
                        self._route(request)
                        return 0, None, {}, True
                    return scripted.status, scripted.body, scripted.headers, False
            try:
                status, body = self._route(request)
            except Answer as answer:
                return answer.status, answer.body, answer.headers, False
            return status, body, {}, False

    def _route(self, r: Recorded) -> tuple[int, Any]:
        if (r.method, r.path) == ("POST", "/2/oauth2/token"):
            return self._token(r)
        user_id = self._bearer(r)
        routes: list[tuple[str, str, Callable[..., tuple[int, Any]]]] = [
            ("GET", r"/2/users/me", self._me),
            ("GET", r"/2/users/(\d+)/tweets", self._timeline),
            ("GET", r"/2/tweets/search/recent", self._search_recent),
            ("POST", r"/2/media/upload/initialize", self._initialize),
            ("POST", r"/2/media/upload/(\d+)/append", self._append),
            ("POST", r"/2/media/upload/(\d+)/finalize", self._finalize),
            ("GET", r"/2/media/upload", self._status),
            ("POST", r"/2/media/metadata", self._metadata),
            ("POST", r"/2/tweets", self._create),
        ]
        for method, pattern, route in routes:
            match = re.fullmatch(pattern, r.path)
            if method == r.method and match:
                return route(r, user_id, *match.groups())
        return 404, {"title": "Not Found", "status": 404, "detail": f"no route {r.method} {r.path}"}

    def _violation(self, message: str) -> Answer:
        self.violations.append(message)
        return Answer(400, {"title": "Invalid Request", "type": "https://api.x.com/2/problems/invalid-request",
                            "status": 400, "detail": message})

    # OAuth --------------------------------------------------------------------------------------------------

    def _issue(self, user_id: str) -> dict[str, str]:
        access, refresh = "at-" + secrets.token_urlsafe(16), "rt-" + secrets.token_urlsafe(16)
        self.tokens[access] = user_id
        self.refresh_tokens[refresh] = (user_id, False)
        return {"access_token": access, "refresh_token": refresh}

    def _token(self, r: Recorded) -> tuple[int, Any]:
        expected = "Basic " + base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
        if r.headers.get("authorization") != expected:
            return 401, {"error": "unauthorized_client", "error_description": "Missing valid authorization header"}
        if not r.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
            raise self._violation("the token endpoint takes a form body")
        form = {k: v[0] for k, v in parse_qs(r.body.decode()).items()}
        grant = form.get("grant_type")
        if grant == "authorization_code":
            user_id = self._redeem(form)
        elif grant == "refresh_token":
            user_id = self._rotate(form)
        else:
            raise self._violation(f"unknown grant_type {grant!r}")
        tokens = self._issue(user_id)
        return 200, {"token_type": "bearer", "expires_in": 7200, "access_token": tokens["access_token"],
                     "scope": "tweet.read tweet.write users.read media.write offline.access dm.read dm.write",
                     "refresh_token": tokens["refresh_token"]}

    def _redeem(self, form: dict[str, str]) -> str:
        code = self.codes.pop(form.get("code", ""), None)
        if code is None:
            raise Answer(400, {"error": "invalid_request",
                               "error_description": "Value passed for the authorization code was invalid."})
        verifier = form.get("code_verifier", "")
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        if challenge != code["challenge"] or form.get("redirect_uri") != code["redirect_uri"]:
            raise Answer(400, {"error": "invalid_request",
                               "error_description": "Value passed for the authorization code was invalid."})
        return code["user_id"]

    def _rotate(self, form: dict[str, str]) -> str:
        known = self.refresh_tokens.get(form.get("refresh_token", ""))
        if known is None or known[1]:
            raise Answer(400, INVALID_TOKEN)
        self.refresh_tokens[form["refresh_token"]] = (known[0], True)
        return known[0]

    def _bearer(self, r: Recorded) -> str:
        header = r.headers.get("authorization", "")
        user_id = self.tokens.get(header.removeprefix("Bearer ")) if header.startswith("Bearer ") else None
        if user_id is None:
            raise Answer(401, UNAUTHORIZED)
        return user_id

    # users and posts ------------------------------------------------------------------------------------------

    def _me(self, r: Recorded, user_id: str) -> tuple[int, Any]:
        fields = set(",".join(r.query.get("user.fields", [])).split(","))
        user = {k: v for k, v in self.users[user_id].items() if k != "profile_image_url" or k in fields}
        return 200, {"data": user}

    def _timeline(self, r: Recorded, user_id: str, of: str) -> tuple[int, Any]:
        size = int(r.query.get("max_results", ["10"])[0])
        if not 5 <= size <= 100:
            raise self._violation("max_results must be 5 to 100")
        since = _time(r.query["start_time"][0]) if "start_time" in r.query else None
        posts = sorted((t for t in self.tweets if t.author_id == of and (since is None or t.created_at >= since)),
                       key=lambda t: t.created_at, reverse=True)
        start = int(r.query.get("pagination_token", ["0"])[0])
        page = posts[start:start + size]
        meta: dict[str, Any] = {"result_count": len(page)}
        if start + size < len(posts):
            meta["next_token"] = str(start + size)
        return 200, {"data": [self._as_returned(t) for t in page], "meta": meta} if page else {"meta": meta}

    def _search_recent(self, r: Recorded, user_id: str) -> tuple[int, Any]:
        """GET /2/tweets/search/recent (docs.x.com/x-api/posts/search/api-reference/get-tweets-search-recent):
        `query` with quoted phrases joined by OR and `-is:retweet`, `since_id`, max_results 10..100, the
        authors under includes.users; meta.newest_id. A plan without search gets X's 403 client-not-enrolled."""
        if not self.search_allowed:
            return 403, CLIENT_NOT_ENROLLED
        size = int(r.query.get("max_results", ["10"])[0])
        if not 10 <= size <= 100:
            raise self._violation("max_results must be 10 to 100")
        phrases = [p.casefold() for p in re.findall(r'"([^"]+)"', r.query.get("query", [""])[0])]
        since = int(r.query["since_id"][0]) if "since_id" in r.query else 0
        found = sorted((t for t in self.tweets if int(t.id) > since
                        and any(p in t.text.casefold() for p in phrases)), key=lambda t: int(t.id), reverse=True)
        page = found[:size]
        meta: dict[str, Any] = {"result_count": len(page)}
        if not page:
            return 200, {"meta": meta}
        meta.update(newest_id=page[0].id, oldest_id=page[-1].id)
        users = [{"id": uid, "name": self.users.get(uid, {}).get("name", uid),
                  "username": self.users.get(uid, {}).get("username", uid)} for uid in {t.author_id for t in page}]
        data = [{**self._as_returned(t), "author_id": t.author_id} for t in page]
        return 200, {"data": data, "includes": {"users": users}, "meta": meta}

    def _as_returned(self, tweet: Tweet) -> dict[str, Any]:
        text = re.sub(r"https?://\S+", lambda _m: "https://t.co/" + secrets.token_urlsafe(7), tweet.text)
        text = html.escape(text, quote=False)
        if tweet.media_ids:
            text += " https://t.co/" + secrets.token_urlsafe(7)
        post: dict[str, Any] = {"id": tweet.id, "text": text, "edit_history_tweet_ids": [tweet.id],
                                "created_at": tweet.created_at.strftime("%Y-%m-%dT%H:%M:%S.000Z")}
        if tweet.in_reply_to:
            post["referenced_tweets"] = [{"type": "replied_to", "id": tweet.in_reply_to}]
        return post

    def _create(self, r: Recorded, user_id: str) -> tuple[int, Any]:
        body = _json_body(self, r)
        text = body.get("text")
        media_ids = (body.get("media") or {}).get("media_ids") or []
        if not text and not media_ids:
            raise self._violation("a post needs text or media")
        for media_id in media_ids:
            media = self.media.get(media_id)
            if media is None or media.user_id != user_id or not media.usable:
                raise self._violation(f"media {media_id} is not a finished upload of this user")
        reply_to = (body.get("reply") or {}).get("in_reply_to_tweet_id")
        if reply_to is not None and not any(t.id == reply_to for t in self.tweets):
            raise self._violation(f"in_reply_to_tweet_id {reply_to} does not exist")
        if text and any(t.author_id == user_id and t.text == text for t in self.tweets):
            raise Answer(403, DUPLICATE)
        tweet = Tweet(str(next(self._ids)), user_id, text or "", self.clock.now(), list(media_ids), reply_to)
        self.tweets.append(tweet)
        return 201, {"data": {"id": tweet.id, "text": tweet.text, "edit_history_tweet_ids": [tweet.id]}}

    # media -------------------------------------------------------------------------------------------------

    def _initialize(self, r: Recorded, user_id: str) -> tuple[int, Any]:
        body = _json_body(self, r)
        total = body.get("total_bytes")
        if not isinstance(total, int) or not 0 < total <= 536870912:
            raise self._violation("total_bytes must be 1 to 536870912")
        if body.get("media_category") not in CATEGORIES:
            raise self._violation(f"unknown media_category {body.get('media_category')!r}")
        video = str(body.get("media_type", "")).startswith("video/")
        media = Media(str(next(self._ids)), user_id, str(body.get("media_type")), total, body["media_category"],
                      states=list(self.video_states) if video else [])
        self.media[media.id] = media
        return 200, {"data": {"id": media.id, "media_key": f"7_{media.id}", "expires_after_secs": 86400}}

    def _owned(self, media_id: str, user_id: str) -> Media:
        media = self.media.get(media_id)
        if media is None or media.user_id != user_id:
            raise self._violation(f"no upload {media_id} of this user")
        return media

    def _append(self, r: Recorded, user_id: str, media_id: str) -> tuple[int, Any]:
        media = self._owned(media_id, user_id)
        if media.finalized:
            raise self._violation("append after finalize")
        fields = _multipart(self, r)
        index = int(fields.get("segment_index", b"-1"))
        if not 0 <= index <= 999 or index > len(media.segments):
            raise self._violation(f"segment_index {index} out of order (have {len(media.segments)})")
        segment = fields.get("media")
        if not segment or len(segment) > MAX_SEGMENT_BYTES:
            raise self._violation("a segment is 1 byte to 5 MB of media")
        media.segments[index] = segment
        expires = int((self.clock.now() + timedelta(days=1)).timestamp())
        return 200, {"data": {"expires_at": expires}}

    def _finalize(self, r: Recorded, user_id: str, media_id: str) -> tuple[int, Any]:
        media = self._owned(media_id, user_id)
        if len(media.content) != media.total_bytes:
            raise self._violation(f"finalize with {len(media.content)} of {media.total_bytes} bytes")
        media.finalized = True
        return 200, {"data": self._media_status(media)}

    def _status(self, r: Recorded, user_id: str) -> tuple[int, Any]:
        if r.query.get("command") != ["STATUS"]:
            raise self._violation("GET /2/media/upload needs command=STATUS")
        media = self._owned(r.query.get("media_id", [""])[0], user_id)
        if not media.finalized or media.state is None:
            raise self._violation("STATUS of an upload that is not processing")
        return 200, {"data": self._media_status(media)}

    def _media_status(self, media: Media) -> dict[str, Any]:
        data: dict[str, Any] = {"id": media.id, "media_key": f"7_{media.id}", "size": media.total_bytes,
                                "expires_after_secs": 86400}
        if media.states:
            media.state = media.states.pop(0)
            info: dict[str, Any] = {"state": media.state}
            if media.state in ("pending", "in_progress"):
                info["check_after_secs"] = 3
            if media.state == "failed":
                info["error"] = {"code": 1, "name": "InvalidMedia", "message": "Unsupported video codec"}
            data["processing_info"] = info
        return data

    def _metadata(self, r: Recorded, user_id: str) -> tuple[int, Any]:
        body = _json_body(self, r)
        media = self._owned(str(body.get("id", "")), user_id)
        alt = ((body.get("metadata") or {}).get("alt_text") or {}).get("text")
        if not media.usable or not isinstance(alt, str) or not 0 < len(alt) <= 1000:
            raise self._violation("metadata: a finished upload and alt text of 1 to 1000 characters")
        media.alt = alt
        return 200, {"data": {"id": media.id, "associated_metadata": {"alt_text": {"text": alt}}}}


def _json_body(api: XApi, r: Recorded) -> dict[str, Any]:
    if not r.headers.get("content-type", "").startswith("application/json"):
        raise api._violation(f"{r.path} takes a JSON body")
    body = json.loads(r.body or b"{}")
    if not isinstance(body, dict):
        raise api._violation("the body is not an object")
    return body


def _multipart(api: XApi, r: Recorded) -> dict[str, bytes]:
    content_type = r.headers.get("content-type", "")
    if not content_type.startswith("multipart/form-data; boundary="):
        raise api._violation("append takes multipart/form-data")
    message = BytesParser(policy=policy.HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + r.body)
    return {part.get_param("name", header="content-disposition"): part.get_payload(decode=True)
            for part in message.iter_parts()}


def _time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)


def _handler_for(api: XApi) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *_args: Any) -> None:
            pass

        def _serve(self) -> None:
            split = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            request = Recorded(self.command, split.path, parse_qs(split.query),
                               {k.lower(): v for k, v in self.headers.items()}, body)
            status, answer, headers, drop = api.handle(request)
            if drop:
                self.close_connection = True
                self.connection.close()
                return
            payload = json.dumps(answer).encode() if answer is not None else b""
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(payload)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = _serve  # noqa: N815

    return Handler
