"""Publishing to X: posts, their media, threads, the rules X documents, and looking before a retry.

A delivery is a thread of one or more parts (the post, then `request.thread`), each a `POST /2/tweets`; a part
after the first answers the one before (`reply.in_reply_to_tweet_id`). Media goes up first, every item of every
part, through the chunked upload X documents today (`POST /2/media/upload/initialize`, `/{id}/append`,
`/{id}/finalize`, `GET /2/media/upload?command=STATUS` while a video is processed, `POST /2/media/metadata` for
alt text); then the parts go out in order. Every step that creates something at X is recorded in the delivery's
progress before the next one is taken, so a later call continues where the last stopped and repeats nothing:

    {"media": {"<part>.<item>": {"id", "stage", "segments", "expires_at"}},
     "tweets": ["<id of part 0>", "<id of part 1>", ...],
     "sending": {"part": 2, "at": "<RFC 3339>"}}      # a part sent whose answer was not heard (yet)

Sources: tests/events/x/README.md.
"""
from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from chalicelib.core.clock import to_rfc3339
from chalicelib.networks.base import (
    AmbiguousError,
    ContentProblem,
    MediaItem,
    PermanentError,
    PublishRequest,
    PublishResult,
    StillProcessing,
)
from chalicelib.networks.http_failures import object_at

Call = Callable[..., dict[str, Any]]

KIND_OF_MIME = {"image/jpeg": "image", "image/png": "image", "image/webp": "image", "image/gif": "gif",
                "video/mp4": "video"}
MEDIA_CATEGORY = {"image": "tweet_image", "gif": "tweet_gif", "video": "tweet_video"}
MIB = 1024 * 1024
MAX_BYTES = {"image": 5 * MIB, "gif": 15 * MIB, "video": 512 * MIB}
MAX_IMAGES = 4
MIN_VIDEO_S, MAX_VIDEO_S = 0.5, 140.0
MIN_VIDEO_RATIO, MAX_VIDEO_RATIO = 1 / 3, 3.0
MAX_ALT_CHARS = 1000
# X documents no cap on a thread's length through the API; its own composer stops at 25 posts, and POST
# /2/tweets allows a user 100 posts per 15 minutes: 25 keeps one thread to a quarter of that window.
MAX_THREAD_PARTS = 25
REPLY_SETTINGS = ("following", "mentionedUsers", "subscribers", "verified")
# APPEND takes a segment of up to 5 MB; 4 MiB keeps one in memory at a time, well inside.
CHUNK_BYTES = 4 * MIB
# A media id X will forget within this long is uploaded again rather than attached.
MEDIA_EXPIRY_MARGIN_S = 300
DEFAULT_MEDIA_LIFETIME_S = 24 * 3600
DEFAULT_CHECK_AFTER_S = 5.0
# How far before the attempt's time a post found in the timeline may be dated (clocks differ).
LOOK_SLACK = timedelta(minutes=5)
LOOK_WINDOW_WITHOUT_TIME = timedelta(hours=24)
LOOK_PAGES = 3
LOOK_PAGE_SIZE = 100

_URL = re.compile(r"https?://\S+")


@dataclass(frozen=True)
class Part:
    index: int
    text: str
    media: tuple[MediaItem, ...]

    def field(self, name: str) -> str:
        return name if self.index == 0 else f"thread.{self.index - 1}.{name}"


def parts_of(request: PublishRequest) -> list[Part]:
    text = request.text
    if request.link and request.link not in text:
        text = f"{text}\n\n{request.link}" if text else request.link
    return [Part(0, text, tuple(request.media))] + [
        Part(i + 1, part.text, tuple(part.media)) for i, part in enumerate(request.thread)
    ]


def permalink(settings: Mapping[str, Any], tweet_id: str) -> str:
    username = str(settings.get("username") or settings.get("handle") or "").lstrip("@")
    if re.fullmatch(r"[A-Za-z0-9_]{1,15}", username):
        return f"https://x.com/{username}/status/{tweet_id}"
    return f"https://x.com/i/web/status/{tweet_id}"


# -- the rules --------------------------------------------------------------------------------------------------

def content_problems(request: PublishRequest) -> list[ContentProblem]:
    parts = parts_of(request)
    problems: list[ContentProblem] = []
    if len(parts) > MAX_THREAD_PARTS:
        problems.append(ContentProblem("thread", f"has {len(parts)} posts; Herald publishes X threads of up to "
                                                 f"{MAX_THREAD_PARTS} posts"))
    for part in parts:
        problems.extend(_part_problems(part))
    if request.first_comment:
        problems.append(ContentProblem("first_comment", "X has no first comments; add the comment as the next "
                                                        "part of a thread instead"))
    for key, value in request.options.items():
        if key != "reply_settings":
            problems.append(ContentProblem(f"options.{key}", "is not an option X posts take (X takes "
                                                             "reply_settings)"))
        elif value not in REPLY_SETTINGS:
            problems.append(ContentProblem("options.reply_settings",
                                           f"must be one of {', '.join(REPLY_SETTINGS)} on X"))
    return problems


def _part_problems(part: Part) -> list[ContentProblem]:
    from chalicelib.networks.tweet_length import MAX_WEIGHTED_LENGTH, weighted_length  # `regex`: only to check

    problems = []
    length = weighted_length(part.text)
    if length > MAX_WEIGHTED_LENGTH:
        problems.append(ContentProblem(part.field("text"), f"is {length} characters as X counts them; X allows "
                                                           f"{MAX_WEIGHTED_LENGTH} (a link counts 23, most emoji "
                                                           "and CJK characters 2)"))
    if not part.text.strip() and not part.media:
        problems.append(ContentProblem(part.field("text"), "is empty; a post on X needs text or media"))
    problems.extend(_mix_problems(part))
    for index, item in enumerate(part.media):
        problems.extend(_item_problems(part.field(f"media.{index}"), item))
    return problems


def _mix_problems(part: Part) -> list[ContentProblem]:
    kinds = [KIND_OF_MIME.get(item.mime) for item in part.media]
    if len(kinds) > 1 and any(kind in ("video", "gif") for kind in kinds):
        return [ContentProblem(part.field("media"), "mixes a video or GIF with other media; a post on X takes "
                                                    "up to 4 images, or 1 video, or 1 GIF")]
    if len(kinds) > MAX_IMAGES:
        return [ContentProblem(part.field("media"), f"has {len(kinds)} images; a post on X takes up to "
                                                    f"{MAX_IMAGES}")]
    return []


def _item_problems(field: str, item: MediaItem) -> list[ContentProblem]:
    kind = KIND_OF_MIME.get(item.mime)
    if kind is None:
        return [ContentProblem(field, f"is {item.mime or 'of an unknown type'}; X takes JPEG, PNG, WebP and GIF "
                                      "images and MP4 video")]
    problems = []
    if item.size is not None and item.size > MAX_BYTES[kind]:
        problems.append(ContentProblem(field, f"is {item.size / MIB:.1f} MB; X takes {_kind_name(kind)} of up to "
                                              f"{MAX_BYTES[kind] // MIB} MB"))
    if kind == "video" and item.duration_s is not None and not MIN_VIDEO_S <= item.duration_s <= MAX_VIDEO_S:
        problems.append(ContentProblem(field, f"lasts {item.duration_s:g} seconds; X takes videos of "
                                              f"{MIN_VIDEO_S:g} to {MAX_VIDEO_S:g} seconds"))
    if kind == "video" and item.width and item.height and \
            not MIN_VIDEO_RATIO <= item.width / item.height <= MAX_VIDEO_RATIO:
        problems.append(ContentProblem(field, f"is {item.width}x{item.height}; X takes videos between 1:3 and 3:1"))
    if len(item.alt) > MAX_ALT_CHARS:
        problems.append(ContentProblem(f"{field}.alt", f"is {len(item.alt)} characters; X takes alt text of up to "
                                                       f"{MAX_ALT_CHARS}"))
    return problems


def _kind_name(kind: str) -> str:
    return {"image": "images", "gif": "GIFs", "video": "videos"}[kind]


# -- publishing -------------------------------------------------------------------------------------------------

class ThreadPublish:
    """One call of `publish`: continues from the request's progress; `call(method, path, **kwargs)` is the
    adapter's authenticated call to the API (its paths start at /2)."""

    def __init__(self, call: Call, request: PublishRequest, settings: Mapping[str, Any],
                 now: Callable[[], datetime], look: Callable[[Part, str | None, datetime], str | None]) -> None:
        self._call = call
        self._request = request
        self._settings = settings
        self._now = now
        self._look = look
        self.progress: dict[str, Any] = _copy(request.progress)
        self.progress.setdefault("media", {})
        self.progress.setdefault("tweets", [])

    def run(self) -> PublishResult:
        parts = parts_of(self._request)
        self._forget_expiring_media(parts)
        waits = [wait for part in parts[len(self._tweets):] for wait in self._upload_part(part) if wait is not None]
        if waits:
            raise StillProcessing("X is still processing a video of this post", progress=self.progress,
                                  check_after_s=min(waits))
        for part in parts[len(self._tweets):]:
            self._post(part)
        root = self._tweets[0]
        return PublishResult(remote_id=root, remote_url=permalink(self._settings, root), published_at=self._now())

    @property
    def _tweets(self) -> list[str]:
        tweets: list[str] = self.progress["tweets"]
        return tweets

    def _record(self) -> None:
        self._request.record_progress(_copy(self.progress))

    # media ---------------------------------------------------------------------------------------------------

    def _forget_expiring_media(self, parts: list[Part]) -> None:
        horizon = self._now().timestamp() + MEDIA_EXPIRY_MARGIN_S
        for part in parts[len(self._tweets):]:
            for index in range(len(part.media)):
                entry = self.progress["media"].get(f"{part.index}.{index}")
                if entry and float(entry.get("expires_at") or 0) < horizon:
                    del self.progress["media"][f"{part.index}.{index}"]

    def _upload_part(self, part: Part) -> list[float | None]:
        return [self._upload(f"{part.index}.{index}", item) for index, item in enumerate(part.media)]

    def _upload(self, key: str, item: MediaItem) -> float | None:
        """Takes the item as far as it goes now; seconds to wait when X is still processing it, else None."""
        kind = KIND_OF_MIME.get(item.mime)
        if kind is None:
            raise PermanentError(f"X does not take {item.mime or 'media of an unknown type'}")
        entry = self.progress["media"].get(key)
        if entry is None:
            entry = self._initialize(key, item, kind)
        if entry["stage"] == "initialized":
            self._append(entry, item)
            wait = self._processed(entry, self._call("POST", f"/media/upload/{entry['id']}/finalize"))
            if wait is not None:
                return wait
        if entry["stage"] == "processing":
            status = self._call("GET", "/media/upload", params={"command": "STATUS", "media_id": entry["id"]})
            wait = self._processed(entry, status)
            if wait is not None:
                return wait
        if entry["stage"] == "ready":
            # Alt text is documented for images and GIFs.
            if item.alt and kind in ("image", "gif"):
                self._call("POST", "/media/metadata",
                           json={"id": entry["id"], "metadata": {"alt_text": {"text": item.alt}}})
            entry["stage"] = "described"
            self._record()
        return None

    def _initialize(self, key: str, item: MediaItem, kind: str) -> dict[str, Any]:
        body = self._call("POST", "/media/upload/initialize", json={
            "media_type": item.mime, "total_bytes": _total_bytes(item), "media_category": MEDIA_CATEGORY[kind]})
        data = _data(body)
        media_id = str(data.get("id") or "")
        if not media_id:
            raise PermanentError("X accepted the upload but returned no media id")
        lifetime = data.get("expires_after_secs")
        lifetime = float(lifetime) if isinstance(lifetime, (int, float)) else DEFAULT_MEDIA_LIFETIME_S
        entry = {"id": media_id, "stage": "initialized", "segments": 0,
                 "expires_at": self._now().timestamp() + lifetime}
        self.progress["media"][key] = entry
        self._record()
        return entry

    def _append(self, entry: dict[str, Any], item: MediaItem) -> None:
        """Sends the segments not yet recorded as sent, one at a time, recording each."""
        for index, segment in enumerate(_segments(item)):
            if index < int(entry["segments"]):
                continue  # sent before a crash: X kept it under this media id
            content_type, body = _multipart({"segment_index": str(index)}, ("media", item.mime, segment))
            self._call("POST", f"/media/upload/{entry['id']}/append", data=body,
                       headers={"Content-Type": content_type})
            entry["segments"] = index + 1
            self._record()

    def _processed(self, entry: dict[str, Any], body: dict[str, Any]) -> float | None:
        info = _data(body).get("processing_info")
        state = info.get("state") if isinstance(info, Mapping) else None
        if state in ("pending", "in_progress"):
            entry["stage"] = "processing"
            self._record()
            after = info.get("check_after_secs") if isinstance(info, Mapping) else None
            return float(after) if isinstance(after, (int, float)) and after > 0 else DEFAULT_CHECK_AFTER_S
        if state == "failed":
            error = info.get("error") if isinstance(info, Mapping) else None
            detail = error.get("message") if isinstance(error, Mapping) else None
            raise PermanentError("X could not process this video" + (f": {detail}" if detail else "") +
                                 "; check its format (MP4, H.264 video and AAC audio)")
        entry["stage"] = "ready"
        self._record()
        return None

    # posts -----------------------------------------------------------------------------------------------------

    def _post(self, part: Part) -> None:
        previous = self._tweets[-1] if self._tweets else None
        sending = self.progress.get("sending")
        if isinstance(sending, Mapping) and sending.get("part") == part.index:
            # An earlier attempt sent this part and heard nothing: it may be out already.
            found = self._look(part, previous, moment_of(sending.get("at")) or self._now())
            if found is not None:
                self._posted(found)
                return
        body: dict[str, Any] = {"text": part.text}
        media_ids = [self.progress["media"][f"{part.index}.{i}"]["id"] for i in range(len(part.media))]
        if media_ids:
            body["media"] = {"media_ids": media_ids}
        if previous is not None:
            body["reply"] = {"in_reply_to_tweet_id": previous}
        if part.index == 0 and self._request.options.get("reply_settings"):
            body["reply_settings"] = self._request.options["reply_settings"]
        self.progress["sending"] = {"part": part.index, "at": to_rfc3339(self._now())}
        self._record()
        tweet_id = str(_data(self._call("POST", "/tweets", json=body)).get("id") or "")
        if not tweet_id:
            raise AmbiguousError("X accepted the post but returned no id")
        self._posted(tweet_id)

    def _posted(self, tweet_id: str) -> None:
        self._tweets.append(tweet_id)
        self.progress.pop("sending", None)
        self._record()


# -- looking before a retry ------------------------------------------------------------------------------------

def look_since(request: PublishRequest, now: datetime) -> datetime:
    sending = request.progress.get("sending")
    moments = [m for m in (request.first_attempt_at,
                           moment_of(sending.get("at")) if isinstance(sending, Mapping) else None) if m]
    return (min(moments) if moments else now - LOOK_WINDOW_WITHOUT_TIME) - LOOK_SLACK


def recent_posts(call: Call, user_id: str, since: datetime) -> list[Mapping[str, Any]]:
    """Every post of the user since `since` (`GET /2/users/{id}/tweets` with start_time), or AmbiguousError when
    there are more than Herald reads: only a complete list can say a post is certainly absent."""
    params = {"max_results": str(LOOK_PAGE_SIZE), "start_time": _rfc3339_seconds(since),
              "tweet.fields": "created_at,text,referenced_tweets"}
    posts: list[Mapping[str, Any]] = []
    for _page in range(LOOK_PAGES):
        body = call("GET", f"/users/{user_id}/tweets", params=params)
        posts.extend(item for item in body.get("data") or [] if isinstance(item, Mapping))
        meta = object_at(body, "meta")
        if not meta.get("next_token"):
            return posts
        params = {**params, "pagination_token": str(meta["next_token"])}
    raise AmbiguousError("the account posted too much since this delivery's attempt for Herald to tell whether "
                         "it is on X")


def matching_post(posts: list[Mapping[str, Any]], part: Part, previous: str | None, since: datetime,
                  taken: set[str]) -> str | None:
    """The id of the post that is this part: its words (X shortens links and adds media links), after `since`,
    answering `previous` when the part is not the first."""
    wanted = _comparable(part.text)
    for post in posts:
        post_id = str(post.get("id") or "")
        created = moment_of(post.get("created_at"))
        if not post_id or post_id in taken or created is None or created < since:
            continue
        if _comparable(str(post.get("text") or "")) != wanted:
            continue
        replied_to = {str(ref.get("id")) for ref in post.get("referenced_tweets") or []
                      if isinstance(ref, Mapping) and ref.get("type") == "replied_to"}
        if (previous is None and not replied_to) or (previous is not None and previous in replied_to):
            return post_id
    return None


# -- helpers ----------------------------------------------------------------------------------------------------

def _comparable(text: str) -> str:
    text = unicodedata.normalize("NFC", html.unescape(text))
    return " ".join(_URL.sub(" ", text).split())


def _copy(progress: Mapping[str, Any]) -> dict[str, Any]:
    import copy

    return copy.deepcopy(dict(progress))


def _data(body: Mapping[str, Any]) -> dict[str, Any]:
    data = body.get("data")
    return dict(data) if isinstance(data, Mapping) else {}


def moment_of(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _rfc3339_seconds(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _total_bytes(item: MediaItem) -> int:
    if item.size is not None:
        return item.size
    if item.load is not None and KIND_OF_MIME.get(item.mime) != "video":
        return len(item.load())
    raise PermanentError("the size of this video is not known, and X needs it before the upload")


def _segments(item: MediaItem) -> Iterator[bytes]:
    """The bytes in segments of CHUNK_BYTES (the last shorter), whatever sizes the source yields: the same
    segments on every attempt, so a recorded count of sent segments means the same bytes."""
    if item.stream is not None:
        source: Iterator[bytes] = item.stream(CHUNK_BYTES)
    elif item.load is not None and KIND_OF_MIME.get(item.mime) != "video":
        source = iter([item.load()])
    else:
        raise PermanentError("this video cannot be streamed to X (Herald never reads a video whole)")
    buffer = bytearray()
    for chunk in source:
        buffer += chunk
        while len(buffer) >= CHUNK_BYTES:
            yield bytes(buffer[:CHUNK_BYTES])
            del buffer[:CHUNK_BYTES]
    if buffer:
        yield bytes(buffer)


def _multipart(fields: Mapping[str, str], file: tuple[str, str, bytes]) -> tuple[str, bytes]:
    """A multipart/form-data body (CRLF-terminated boundaries, as X's media guide asks)."""
    import secrets

    boundary = f"herald-{secrets.token_hex(16)}"
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
             for name, value in fields.items()]
    name, mime, content = file
    parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{name}"\r\n'
                 f"Content-Type: {mime}\r\n\r\n".encode() + content + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return f"multipart/form-data; boundary={boundary}", b"".join(parts)
