"""A local HTTP fake of TikTok's Content Posting API and OAuth v2, the parts Herald calls, with the documented shapes.

On the real paths (built on tests/fakes/local_http.py):
- `GET /v2/user/info/?fields=...`: the identity call and the profile (the fields asked for, in the shape of
  tests/events/tiktok/user_info_profile.json; a creator's `profile` overrides its values).
- `POST /v2/post/publish/creator_info/query/`: the creator's privacy options, interaction switches, longest video.
- `POST /v2/post/publish/video/init/`: FILE_UPLOAD (`video_size`, `chunk_size`, `total_chunk_count` checked
  against the Media Transfer Guide's rules) answers a `publish_id` and an `upload_url` on this server;
  PULL_FROM_URL fetches `video_url` (hosted media are read directly, others over HTTP) and checks the bytes.
- `POST /v2/post/publish/content/init/`: photo posts (`media_type` PHOTO, `post_mode` DIRECT_POST, pulled
  `photo_images`).
- `PUT /upload/<publish_id>`: the chunks, in order, with `Content-Range: bytes first-last/total`, `Content-Type`
  the video's, the exact bytes; 206 until the last, 201 then.
- `POST /v2/post/publish/status/fetch/`: PROCESSING_UPLOAD while bytes are missing, PROCESSING_DOWNLOAD for
  `processing` reads once they are in, then PUBLISH_COMPLETE (with `publicaly_available_post_id` for a public
  post, empty for SELF_ONLY) or FAILED with a scripted `fail_reason`.
- `POST /v2/oauth/token/`: authorization_code (with PKCE S256 checked when a challenge was given) and refresh_token.

It checks what Herald sends: `Authorization: Bearer` and JSON bodies on the API, creator info asked before each
init, a privacy level the creator offers, the unaudited app's SELF_ONLY rule, chunk order and bytes, no bearer
token sent to the upload URL. What it refused is in `violations`. Errors are TikTok's envelope:
`{"data": {}, "error": {"code", "message", "log_id"}}`. Sources: tests/events/tiktok/README.md.
"""
from __future__ import annotations

import base64
import hashlib
import itertools
import urllib.request
from dataclasses import dataclass, field
from typing import Any

from tests.fakes.local_http import Answer, LocalHttpFake, Request, Route
from tests.support.events import load_event

MB = 1024 * 1024
PRIVACY_PUBLIC = ("PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "FOLLOWER_OF_CREATOR", "SELF_ONLY")
MAGIC = {"video": (b"ftyp",), "photo": (b"\xff\xd8\xff", b"RIFF")}


def envelope(data: Any = None, code: str = "ok", message: str = "") -> dict[str, Any]:
    return {"data": data if data is not None else {},
            "error": {"code": code, "message": message, "log_id": "20260302090000TIKTOKFAKE"}}


def error(status: int, code: str, message: str) -> Answer:
    return Answer(status, envelope(code=code, message=message))


@dataclass
class Creator:
    open_id: str
    username: str
    nickname: str
    privacy_level_options: list[str] = field(default_factory=lambda: list(PRIVACY_PUBLIC))
    comment_disabled: bool = False
    duet_disabled: bool = False
    stitch_disabled: bool = False
    max_video_post_duration_sec: int = 600
    asked_creator_info: bool = False
    # What GET /v2/user/info/ answers beyond the defaults (bio_description, profile_deep_link...).
    profile: dict[str, Any] = field(default_factory=dict)


@dataclass
class Post:
    publish_id: str
    open_id: str
    kind: str
    body: dict[str, Any]
    source: str
    video_size: int = 0
    chunk_size: int = 0
    total_chunks: int = 0
    received: bytearray = field(default_factory=bytearray)
    chunks_received: int = 0
    reads_left: int = 0
    fail_reason: str | None = None
    post_id: str | None = None
    settled: bool = False

    @property
    def privacy(self) -> str:
        return str(self.body.get("post_info", {}).get("privacy_level"))


class TikTokApi(LocalHttpFake):
    """`with TikTokApi() as tiktok:`; `tiktok.creator("act.1", "open-1", "herald.coffee")` makes an account."""

    name = "tiktok-api-fake"

    def __init__(self, *, client_key: str = "awtiktokfake", client_secret: str = "tiktok-client-secret",
                 audited: bool = True, processing: int = 1) -> None:
        super().__init__()
        self.client_key = client_key
        self.client_secret = client_secret
        self.audited = audited
        self.processing = processing  # status reads a post stays PROCESSING_DOWNLOAD once its bytes are in
        self._ids = itertools.count(7_340_000_000_000_000_001)
        self.tokens: dict[str, str] = {}  # access token → open_id
        self.expired: set[str] = set()
        self.refresh_tokens: dict[str, str] = {}  # refresh token → open_id
        self.creators: dict[str, Creator] = {}
        self.codes: dict[str, tuple[str, str, str | None]] = {}  # code → (redirect_uri, open_id, challenge)
        self.posts: dict[str, Post] = {}
        self.hosted: dict[str, tuple[bytes, str]] = {}
        self.next_fail_reason: list[str] = []

    # -- the world ----------------------------------------------------------------------------------------------

    def creator(self, token: str, open_id: str, username: str, **fields: Any) -> Creator:
        with self.lock:
            account = self.creators.setdefault(open_id, Creator(open_id, username, username.title(), **fields))
            self.tokens[token] = open_id
            return account

    def expire(self, token: str) -> None:
        with self.lock:
            self.expired.add(token)

    def refresh_token_for(self, refresh_token: str, open_id: str) -> None:
        with self.lock:
            self.refresh_tokens[refresh_token] = open_id

    def authorization_code(self, code: str, redirect_uri: str, open_id: str, challenge: str | None = None) -> None:
        with self.lock:
            self.codes[code] = (redirect_uri, open_id, challenge)

    def host(self, name: str, body: bytes, mime: str) -> str:
        with self.lock:
            self.hosted[name] = (body, mime)
        return f"{self.url}/media/{name}"

    def fail_next_post(self, fail_reason: str) -> None:
        """The next post TikTok processes ends FAILED with this documented fail_reason."""
        with self.lock:
            self.next_fail_reason.append(fail_reason)

    def published(self, open_id: str | None = None) -> list[Post]:
        with self.lock:
            return [p for p in self.posts.values() if p.settled and p.fail_reason is None
                    and (open_id is None or p.open_id == open_id)]

    # -- routes ---------------------------------------------------------------------------------------------

    def routes(self) -> list[Route]:
        return [
            ("GET", r"/v2/user/info/", self._user_info),
            ("POST", r"/v2/post/publish/creator_info/query/", self._creator_info),
            ("POST", r"/v2/post/publish/video/init/", self._video_init),
            ("POST", r"/v2/post/publish/content/init/", self._content_init),
            ("PUT", r"/upload/([^/]+)", self._chunk),
            ("POST", r"/v2/post/publish/status/fetch/", self._status),
            ("POST", r"/v2/oauth/token/", self._token),
            ("GET", r"/media/([^/]+)", self._media),
        ]

    def _caller(self, r: Request) -> str:
        scheme, _, token = r.headers.get("authorization", "").partition(" ")
        if scheme != "Bearer" or not token:
            raise self.violation(f"{r.path}: no bearer token",
                                 error(401, "access_token_invalid", "The access token is invalid or not found"))
        if token in self.expired or token not in self.tokens:
            raise error(401, "access_token_invalid",
                        "The access token is invalid or not found in the request.")
        if r.method == "POST" and not r.headers.get("content-type", "").startswith("application/json"):
            raise self.violation(f"{r.path}: body is not JSON", error(400, "invalid_params", "Content-Type"))
        return self.tokens[token]

    def _user_info(self, r: Request) -> Answer:
        creator = self.creators[self._caller(r)]
        known = {**load_event("tiktok", "user_info_profile.json")["data"]["user"],
                 "open_id": creator.open_id, "display_name": creator.nickname, "username": creator.username,
                 "avatar_url": f"https://p16.tiktokcdn.com/{creator.username}.jpeg", **creator.profile}
        wanted = (r.arg("fields") or "open_id").split(",")
        return Answer(200, envelope({"user": {k: v for k, v in known.items() if k in wanted}}))

    def _creator_info(self, r: Request) -> Answer:
        creator = self.creators[self._caller(r)]
        creator.asked_creator_info = True
        return Answer(200, envelope({
            "creator_avatar_url": f"https://p16.tiktokcdn.com/{creator.username}.jpeg",
            "creator_username": creator.username, "creator_nickname": creator.nickname,
            "privacy_level_options": list(creator.privacy_level_options),
            "comment_disabled": creator.comment_disabled, "duet_disabled": creator.duet_disabled,
            "stitch_disabled": creator.stitch_disabled,
            "max_video_post_duration_sec": creator.max_video_post_duration_sec}))

    def _before_init(self, r: Request, post_info: dict[str, Any]) -> Creator:
        creator = self.creators[self._caller(r)]
        if not creator.asked_creator_info:
            raise self.violation("init without a creator_info query first",
                                 error(400, "invalid_params", "query creator info first"))
        creator.asked_creator_info = False
        privacy = post_info.get("privacy_level")
        if privacy not in creator.privacy_level_options:
            raise error(400, "privacy_level_option_mismatch",
                        "privacy_level is not one of the creator's privacy_level_options")
        if not self.audited and privacy != "SELF_ONLY":
            raise error(403, "unaudited_client_can_only_post_to_private_accounts",
                        "Unaudited clients can only post to a private account")
        if post_info.get("brand_content_toggle") and privacy == "SELF_ONLY":
            raise error(400, "invalid_params", "Branded content cannot be private")
        return creator

    def _video_init(self, r: Request) -> Answer:
        body = r.json() or {}
        info, source = body.get("post_info") or {}, body.get("source_info") or {}
        creator = self._before_init(r, info)
        if len(str(info.get("title") or "").encode("utf-16-le")) // 2 > 2200:
            raise error(400, "invalid_params", "title is longer than 2200 runes")
        post = Post(f"v_pub_file~v2-1.{next(self._ids)}", creator.open_id, "video", body, str(source.get("source")))
        data: dict[str, Any] = {"publish_id": post.publish_id}
        if post.source == "FILE_UPLOAD":
            self._check_chunks(source)
            post.video_size, post.chunk_size = int(source["video_size"]), int(source["chunk_size"])
            post.total_chunks = int(source["total_chunk_count"])
            data["upload_url"] = f"{self.url}/upload/{post.publish_id}?upload_token=fake"
        elif post.source == "PULL_FROM_URL":
            self._pull(post, [str(source.get("video_url") or "")])
        else:
            raise error(400, "invalid_params", "source must be FILE_UPLOAD or PULL_FROM_URL")
        self.posts[post.publish_id] = post
        return Answer(200, envelope(data))

    def _content_init(self, r: Request) -> Answer:
        body = r.json() or {}
        info, source = body.get("post_info") or {}, body.get("source_info") or {}
        if body.get("media_type") != "PHOTO" or body.get("post_mode") != "DIRECT_POST":
            raise self.violation("photo init without media_type PHOTO and post_mode DIRECT_POST")
        if source.get("source") != "PULL_FROM_URL":
            raise error(400, "invalid_params", "photos are only pulled from URLs")
        images = list(source.get("photo_images") or [])
        if not 1 <= len(images) <= 35 or not 0 <= int(source.get("photo_cover_index", 0)) < len(images):
            raise error(400, "invalid_params", "photo_images takes 1 to 35 URLs and a cover index among them")
        if len(str(info.get("title") or "")) > 90 or len(str(info.get("description") or "")) > 4000:
            raise error(400, "invalid_params", "title or description too long")
        creator = self._before_init(r, info)
        post = Post(f"p_pub_url~v2.{next(self._ids)}", creator.open_id, "photo", body, "PULL_FROM_URL")
        self._pull(post, images)
        self.posts[post.publish_id] = post
        return Answer(200, envelope({"publish_id": post.publish_id}))

    def _check_chunks(self, source: dict[str, Any]) -> None:
        """The Media Transfer Guide's chunk restrictions."""
        size, chunk, total = (source.get(k) for k in ("video_size", "chunk_size", "total_chunk_count"))
        if not all(isinstance(v, int) and v > 0 for v in (size, chunk, total)):
            raise self.violation("FILE_UPLOAD without video_size, chunk_size and total_chunk_count")
        assert isinstance(size, int) and isinstance(chunk, int) and isinstance(total, int)
        problems = []
        if size < 5 * MB and (chunk != size or total != 1):
            problems.append("a video under 5 MB is uploaded whole")
        if size >= 5 * MB and not (5 * MB <= chunk <= 64 * MB or (chunk == size and size <= 64 * MB)):
            problems.append("chunks are 5 to 64 MB")
        if total != size // chunk or not 1 <= total <= 1000:
            problems.append("total_chunk_count is video_size // chunk_size, 1 to 1000")
        if size - (total - 1) * chunk > 128 * MB:
            problems.append("the last chunk is at most 128 MB")
        if problems:
            raise self.violation("; ".join(problems), error(400, "invalid_params", "; ".join(problems)))

    def _chunk(self, r: Request, publish_id: str) -> Answer:
        post = self.posts.get(publish_id)
        if post is None or r.arg("upload_token") != "fake":
            raise self.violation(f"PUT to an unknown upload URL {r.path}", Answer(404, None))
        if "authorization" in r.headers:
            self.violations.append("the user's bearer token was sent to the upload URL")
        index = post.chunks_received
        if index >= post.total_chunks:
            raise self.violation(f"chunk sent after the upload of {publish_id} was complete",
                                 error(400, "invalid_params", "upload already complete"))
        first = index * post.chunk_size
        last = post.video_size - 1 if index == post.total_chunks - 1 else first + post.chunk_size - 1
        expected = f"bytes {first}-{last}/{post.video_size}"
        if r.headers.get("content-range") != expected or len(r.body) != last - first + 1:
            raise self.violation(f"chunk {index}: Content-Range {r.headers.get('content-range')!r}, "
                                 f"{len(r.body)} bytes; expected {expected!r}", Answer(416, None))
        if not r.headers.get("content-type", "").startswith("video/"):
            self.violations.append(f"chunk {index}: Content-Type {r.headers.get('content-type')!r}")
        post.received += r.body
        post.chunks_received += 1
        if post.chunks_received < post.total_chunks:
            return Answer(206, None, raw=b"")
        self._received(post, bytes(post.received[:16]))
        return Answer(201, None, raw=b"")

    def _pull(self, post: Post, urls: list[str]) -> None:
        for url in urls:
            body = self._fetch(url)
            if not any(body[off:off + len(m)] == m for m in MAGIC[post.kind] for off in (0, 4)):
                post.fail_reason = "video_pull_failed" if post.kind == "video" else "photo_pull_failed"
        self._received(post, b"")

    def _fetch(self, url: str) -> bytes:
        prefix = f"{self.url}/media/"
        if url.startswith(prefix):  # read directly: this server's lock is held while it answers
            return self.hosted.get(url.removeprefix(prefix), (b"", ""))[0]
        try:
            with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 (a local test URL)
                return bytes(response.read())
        except OSError:
            return b""

    def _received(self, post: Post, head: bytes) -> None:
        post.reads_left = self.processing
        if self.next_fail_reason and post.fail_reason is None:
            post.fail_reason = self.next_fail_reason.pop(0)
        if post.kind == "video" and head and b"ftyp" not in head and post.fail_reason is None:
            post.fail_reason = "file_format_check_failed"

    def _status(self, r: Request) -> Answer:
        open_id = self._caller(r)
        post = self.posts.get(str((r.json() or {}).get("publish_id")))
        if post is None or post.open_id != open_id:
            raise error(400, "invalid_publish_id", "publish_id does not exist")
        data: dict[str, Any] = {"publicaly_available_post_id": [], "uploaded_bytes": len(post.received)}
        if post.source == "FILE_UPLOAD" and post.chunks_received < post.total_chunks:
            data["status"] = "PROCESSING_UPLOAD"
        elif post.reads_left > 0:
            post.reads_left -= 1
            data["status"] = "PROCESSING_DOWNLOAD"
        elif post.fail_reason:
            data |= {"status": "FAILED", "fail_reason": post.fail_reason}
            post.settled = True
        else:
            if not post.settled:
                post.settled = True
                post.post_id = str(next(self._ids)) if post.privacy != "SELF_ONLY" else None
            data["status"] = "PUBLISH_COMPLETE"
            if post.post_id:
                data["publicaly_available_post_id"] = [int(post.post_id)]
        return Answer(200, envelope(data))

    def _media(self, r: Request, name: str) -> Answer:
        hosted = self.hosted.get(name)
        if hosted is None:
            return Answer(404, None, raw=b"")
        return Answer(200, None, headers={"Content-Type": hosted[1]}, raw=hosted[0])

    # -- OAuth ----------------------------------------------------------------------------------------------

    def _token(self, r: Request) -> Answer:
        form = r.form()
        if not r.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
            self.violations.append("token request is not form-encoded")
        if form.get("client_key") != self.client_key or form.get("client_secret") != self.client_secret:
            return Answer(401, {"error": "invalid_client", "error_description": "Client key or secret is invalid.",
                                "log_id": "fake"})
        grant = form.get("grant_type")
        if grant == "authorization_code":
            return self._exchange(form)
        if grant == "refresh_token":
            open_id = self.refresh_tokens.pop(form.get("refresh_token", ""), None)
            if open_id is None:
                return Answer(400, {"error": "invalid_grant", "error_description": "Refresh token is invalid or "
                                    "expired.", "log_id": "fake"})
            return Answer(200, self._new_tokens(open_id))
        return Answer(400, {"error": "unsupported_grant_type", "error_description": str(grant), "log_id": "fake"})

    def _exchange(self, form: dict[str, str]) -> Answer:
        issued = self.codes.pop(form.get("code", ""), None)
        if issued is None or form.get("redirect_uri") != issued[0]:
            return Answer(400, {"error": "invalid_grant", "error_description": "Authorization code is expired.",
                                "log_id": "fake"})
        challenge = issued[2]
        if challenge is not None:
            digest = hashlib.sha256(form.get("code_verifier", "").encode()).digest()
            if base64.urlsafe_b64encode(digest).rstrip(b"=").decode() != challenge:
                self.violations.append("code_verifier does not match the code_challenge")
                return Answer(400, {"error": "invalid_request", "error_description": "Code verifier is invalid.",
                                    "log_id": "fake"})
        return Answer(200, self._new_tokens(issued[1]))

    def _new_tokens(self, open_id: str) -> dict[str, Any]:
        access, refresh = f"act.{next(self._ids)}", f"rft.{next(self._ids)}"
        self.tokens[access] = open_id
        self.refresh_tokens[refresh] = open_id
        return {"access_token": access, "expires_in": 86400, "open_id": open_id, "refresh_expires_in": 31536000,
                "refresh_token": refresh, "scope": "user.info.basic,video.publish,video.upload",
                "token_type": "Bearer"}
