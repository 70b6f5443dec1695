"""A local HTTP fake of Pinterest API v5, the parts Herald calls, with the documented shapes.

On the real paths under `/v5`:
- `GET /v5/user_account` (the identity call and the public profile: tests/events/pinterest/user_account.json
  with the account's own values), `GET /v5/boards` (`page_size`, `bookmark`).
- `POST /v5/pins` (JSON): `board_id` must be one of the token's boards (404 otherwise), `board_section_id` one of
  its sections; `media_source` `image_url` (the fake FETCHES the url and checks the bytes are an image),
  `image_base64` (`content_type`, `data`), or `video_id` (`media_id` of a succeeded upload, used once, with a
  `cover_image_url` or `cover_image_key_frame_time`); title 100, description 800, alt_text 500, link 2048.
- `POST /v5/media {"media_type": "video"}` → `media_id`, `upload_url` (this fake's `/upload/<key>`) and
  `upload_parameters`; `POST /upload/<key>` takes the multipart form (every upload parameter, then `file`) with
  NO Authorization header and a Content-Length; `GET /v5/media/{id}`: `registered` before the upload, then
  `processing` for `processing` reads, then `succeeded` (or `failed` when scripted).
- `GET /v5/boards/{id}/pins` and `/v5/boards/{id}/sections/{section}/pins` (newest first, `page_size`).
- `POST /v5/oauth/token` (HTTP Basic client auth, form): `authorization_code` and `refresh_token` grants.

It checks `Authorization: Bearer` on every API call and records what it refused in `violations`.
Errors are `{"code": <int>, "message": "..."}`. Sources: tests/events/pinterest/README.md.
"""
from __future__ import annotations

import base64
import itertools
import urllib.request
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any

from chalicelib.core.clock import Clock
from tests.fakes.local_http import Answer, LocalHttpFake, Request, Route
from tests.support.events import load_event

IMAGE_MAGIC = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"GIF8", b"RIFF")


@dataclass
class Account:
    user_id: str
    username: str
    boards: dict[str, list[str]] = field(default_factory=dict)  # board id → section ids
    # What `GET /v5/user_account` says beyond the id and username (business_name, about, website_url,
    # profile_image...): the fixture's values unless a test sets its own; None drops the field.
    profile: dict[str, Any] = field(default_factory=dict)

    def user_account(self) -> dict[str, Any]:
        answer = {**load_event("pinterest", "user_account.json"), **self.profile, "id": self.user_id,
                  "username": self.username}
        return {key: value for key, value in answer.items() if value is not None}


@dataclass
class Media:
    media_id: str
    owner: str
    key: str
    status: str = "registered"
    reads: int = 0
    used: bool = False
    bytes: bytes = b""


@dataclass
class Pin:
    pin_id: str
    owner: str
    board_id: str
    created_at: str
    fields: dict[str, Any]


def _error(status: int, code: int, message: str) -> Answer:
    return Answer(status, {"code": code, "message": message})


class PinterestApi(LocalHttpFake):
    name = "pinterest-api-fake"

    def __init__(self, clock: Clock, *, client_id: str = "1508420", client_secret: str = "pinterest-secret",
                 processing: int = 1) -> None:
        super().__init__()
        self.clock = clock
        self.client_id = client_id
        self.client_secret = client_secret
        self.processing = processing  # status reads an uploaded video stays `processing`
        self._ids = itertools.count(1_108_000_000_000_001)
        self.accounts: dict[str, Account] = {}
        self.tokens: dict[str, str] = {}  # access token → user id
        self.refresh_tokens: dict[str, str] = {}
        self.codes: dict[str, tuple[str, str]] = {}  # code → (redirect_uri, user id)
        self.media: dict[str, Media] = {}
        self.pins: dict[str, Pin] = {}
        self.hosted: dict[str, tuple[bytes, str]] = {}
        self.fail_processing: set[str] = set()

    # -- the world ------------------------------------------------------------------------------------------

    @property
    def api_url(self) -> str:
        return f"{self.url}/v5"

    def account(self, token: str, user_id: str, username: str, boards: dict[str, list[str]]) -> Account:
        with self.lock:
            account = self.accounts.setdefault(user_id, Account(user_id, username, dict(boards)))
            self.tokens[token] = user_id
            return account

    def authorization_code(self, code: str, redirect_uri: str, user_id: str) -> None:
        with self.lock:
            self.codes[code] = (redirect_uri, user_id)

    def refresh_token(self, token: str, user_id: str) -> None:
        with self.lock:
            self.refresh_tokens[token] = user_id

    def revoke(self, token: str) -> None:
        with self.lock:
            self.tokens.pop(token, None)
            self.refresh_tokens.pop(token, None)

    def host(self, name: str, body: bytes) -> str:
        self.hosted[name] = (body, "application/octet-stream")
        return f"{self.url}/hosted/{name}"

    def published(self, user_id: str | None = None) -> list[Pin]:
        with self.lock:
            return [p for p in self.pins.values() if user_id is None or p.owner == user_id]

    def settle(self) -> None:
        """Every uploaded video finishes processing."""
        with self.lock:
            for media in self.media.values():
                if media.status == "processing":
                    media.reads = self.processing

    def handle(self, request: Request) -> Answer | None:
        # Hosted media is served without the fake's lock: a pin request holds it while the fake fetches its media.
        if request.method == "GET" and request.path.startswith("/hosted/"):
            return self._hosted(request, request.path.rsplit("/", 1)[-1])
        return super().handle(request)

    def routes(self) -> list[Route]:
        return [
            ("POST", r"/v5/oauth/token", self._token),
            ("POST", r"/upload/([^/]+)", self._upload),
            ("GET", r"/v5/user_account", self._user_account),
            ("GET", r"/v5/boards", self._boards),
            ("GET", r"/v5/boards/([0-9]+)/pins", self._board_pins),
            ("GET", r"/v5/boards/([0-9]+)/sections/([0-9]+)/pins", self._board_pins),
            ("POST", r"/v5/media", self._register),
            ("GET", r"/v5/media/([0-9]+)", self._media_status),
            ("POST", r"/v5/pins", self._create_pin),
        ]

    # -- helpers --------------------------------------------------------------------------------------------

    def _caller(self, request: Request) -> Account:
        header = request.headers.get("authorization", "")
        if not header.startswith("Bearer "):
            raise self.violation(f"{request.path}: no Bearer token", _error(401, 2, "Authentication failed."))
        user_id = self.tokens.get(header[len("Bearer "):])
        if user_id is None:
            raise _error(401, 2, "Authentication failed.")
        return self.accounts[user_id]

    def _now(self) -> str:
        return self.clock.now().strftime("%Y-%m-%dT%H:%M:%S")

    # -- handlers -------------------------------------------------------------------------------------------

    def _hosted(self, request: Request, name: str) -> Answer:
        if name not in self.hosted:
            return Answer(404, {"error": "no such media"})
        body, mime = self.hosted[name]
        return Answer(200, raw=body, headers={"Content-Type": mime})

    def _user_account(self, request: Request) -> Answer:
        return Answer(200, self._caller(request).user_account())

    def _boards(self, request: Request) -> Answer:
        account = self._caller(request)
        size = int(request.arg("page_size", "25") or 25)
        if not 1 <= size <= 250:
            raise self.violation(f"page_size {size} outside 1..250")
        ids = sorted(account.boards)
        start = int(request.arg("bookmark", "0") or 0)
        page = ids[start:start + size]
        bookmark = str(start + size) if start + size < len(ids) else None
        items = [{"id": board_id, "name": f"Board {board_id}", "privacy": "PUBLIC",
                  "owner": {"username": account.username}} for board_id in page]
        return Answer(200, {"items": items, "bookmark": bookmark})

    def _board_pins(self, request: Request, board_id: str, section_id: str | None = None) -> Answer:
        account = self._caller(request)
        if board_id not in account.boards:
            raise _error(404, 40, "Board not found.")
        size = int(request.arg("page_size", "25") or 25)
        pins = [p for p in self.pins.values() if p.board_id == board_id
                and (section_id is None or p.fields.get("board_section_id") == section_id)]
        pins.sort(key=lambda p: p.created_at, reverse=True)
        items = [{"id": p.pin_id, "created_at": p.created_at, "board_id": p.board_id, **p.fields}
                 for p in pins[:size]]
        return Answer(200, {"items": items, "bookmark": "more" if len(pins) > size else None})

    def _register(self, request: Request) -> Answer:
        account = self._caller(request)
        body = request.json()
        if body != {"media_type": "video"}:
            raise self.violation(f"POST /v5/media body {body!r}")
        media_id = str(next(self._ids))
        key = f"uploads/{media_id}"
        self.media[media_id] = Media(media_id, account.user_id, key.replace("/", "-"))
        parameters = {"x-amz-date": "20261202T113000Z", "x-amz-signature": f"sig-{media_id}",
                      "x-amz-security-token": "fake-token", "x-amz-algorithm": "AWS4-HMAC-SHA256",
                      "key": key, "policy": "eyJwb2xpY3kiOiB0cnVlfQ==", "x-amz-credential": "fake/cred",
                      "Content-Type": "multipart/form-data"}
        return Answer(201, {"media_id": media_id, "media_type": "video",
                            "upload_url": f"{self.url}/upload/{key.replace('/', '-')}",
                            "upload_parameters": parameters})

    def _upload(self, request: Request, key: str) -> Answer:
        media = next((m for m in self.media.values() if m.key == key), None)
        if media is None:
            return Answer(403, raw=b"<Error><Code>AccessDenied</Code></Error>", headers={"Content-Type": "text/xml"})
        if "authorization" in request.headers:
            raise self.violation("the upload carried an Authorization header (its credentials are the form's)")
        if "content-length" not in request.headers:
            raise self.violation("the upload has no Content-Length")
        fields = _multipart(request)
        expected = {"x-amz-date", "x-amz-signature", "x-amz-security-token", "x-amz-algorithm", "key", "policy",
                    "x-amz-credential", "Content-Type"}
        missing = expected - set(fields)
        if missing or "file" not in fields:
            raise self.violation(f"the upload form lacks {sorted(missing) or ['file']}")
        if list(fields)[-1] != "file":
            raise self.violation("the upload form's file is not its last field")
        if media.status != "registered":
            raise self.violation(f"media {media.media_id} uploaded twice")
        media.bytes = fields["file"]
        if b"ftyp" not in media.bytes[:12]:
            media.status = "failed"
        else:
            media.status = "failed" if media.media_id in self.fail_processing else "processing"
        return Answer(204)

    def _media_status(self, request: Request, media_id: str) -> Answer:
        account = self._caller(request)
        media = self.media.get(media_id)
        if media is None or media.owner != account.user_id:
            raise _error(404, 4, "Media not found.")
        if media.status == "processing":
            if media.reads >= self.processing:
                media.status = "succeeded"
            media.reads += 1
        return Answer(200, {"media_id": media_id, "media_type": "video", "status": media.status})

    def _create_pin(self, request: Request) -> Answer:
        account = self._caller(request)
        body = request.json()
        if not isinstance(body, dict):
            raise self.violation("POST /v5/pins without a JSON object")
        board_id = str(body.get("board_id") or "")
        if board_id not in account.boards:
            raise _error(404, 40, "Board not found.")
        section = body.get("board_section_id")
        if section is not None and section not in account.boards[board_id]:
            raise _error(404, 41, "Board section not found.")
        for key, limit in (("title", 100), ("description", 800), ("alt_text", 500), ("link", 2048)):
            if len(str(body.get(key) or "")) > limit:
                raise _error(400, 1, f"Invalid parameters: {key} is longer than {limit}.")
        self._check_media_source(account, body.get("media_source"))
        pin_id = str(next(self._ids))
        fields = {key: body[key] for key in ("title", "description", "link", "alt_text", "board_section_id")
                  if key in body}
        self.pins[pin_id] = Pin(pin_id, account.user_id, board_id, self._now(), fields)
        return Answer(201, {"id": pin_id, "created_at": self._now(), "board_id": board_id, **fields,
                            "media": {"media_type": "video" if body["media_source"]["source_type"] == "video_id"
                                      else "image"}})

    def _check_media_source(self, account: Account, source: Any) -> None:
        if not isinstance(source, dict):
            raise self.violation("a pin without media_source")
        kind = source.get("source_type")
        if kind == "image_url":
            data = _fetch(str(source.get("url") or ""))
            if not data.startswith(IMAGE_MAGIC):
                raise _error(400, 1, "Invalid parameters: the image could not be read.")
        elif kind == "image_base64":
            data = base64.b64decode(str(source.get("data") or ""))
            if source.get("content_type") not in ("image/jpeg", "image/png") or not data.startswith(IMAGE_MAGIC):
                raise self.violation("image_base64 without a JPEG/PNG content_type and image bytes")
        elif kind == "video_id":
            media = self.media.get(str(source.get("media_id") or ""))
            if media is None or media.owner != account.user_id:
                raise _error(404, 4, "Media not found.")
            if media.status != "succeeded":
                raise self.violation(f"a pin of video {media.media_id} whose status is {media.status}")
            if media.used:
                raise self.violation(f"video {media.media_id} pinned twice")
            if "cover_image_url" not in source and "cover_image_key_frame_time" not in source:
                raise self.violation("a video pin without a cover")
            if "cover_image_url" in source:
                _fetch(str(source["cover_image_url"]))
            media.used = True
        else:
            raise self.violation(f"media_source type {kind!r}")

    def _token(self, request: Request) -> Answer:
        expected = base64.b64encode(f"{self.client_id}:{self.client_secret}".encode()).decode()
        if request.headers.get("authorization") != f"Basic {expected}":
            raise self.violation("the token call without HTTP Basic client auth",
                                 Answer(401, {"code": 2, "message": "Authentication failed."}))
        form = request.form()
        grant = form.get("grant_type")
        if grant == "authorization_code":
            entry = self.codes.pop(form.get("code", ""), None)
            if entry is None or entry[0] != form.get("redirect_uri"):
                raise Answer(400, {"code": 1, "message": "Invalid authorization code."})
            user_id = entry[1]
        elif grant == "refresh_token":
            user_id = self.refresh_tokens.get(form.get("refresh_token", ""))
            if user_id is None:
                raise Answer(400, {"error": "invalid_grant", "error_description": "Refresh token revoked."})
        else:
            raise self.violation(f"grant_type {grant!r}")
        token = f"pina_{next(self._ids)}"
        self.tokens[token] = user_id
        answer: dict[str, Any] = {"access_token": token, "token_type": "bearer", "expires_in": 2_592_000,
                                  "scope": "boards:read,pins:read,pins:write,user_accounts:read",
                                  "response_type": grant}
        if grant == "authorization_code":
            refresh = f"pinr_{next(self._ids)}"
            self.refresh_tokens[refresh] = user_id
            answer |= {"refresh_token": refresh, "refresh_token_expires_in": 31_536_000}
        return Answer(200, answer)


def _fetch(url: str) -> bytes:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - the fake's own media host
            return bytes(response.read())
    except OSError:
        raise _error(400, 1, f"Invalid parameters: could not fetch {url}.") from None


def _multipart(request: Request) -> dict[str, Any]:
    """The form's fields in order; `file` as bytes."""
    content_type = request.headers.get("content-type", "")
    message = BytesParser(policy=HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + request.body)
    fields: dict[str, Any] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True) or b""
        fields[str(name)] = payload if name == "file" else payload.decode()
    return fields

