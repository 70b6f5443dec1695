"""Threads in the network contract: the adapter against tests/fakes/threads_api.py."""
from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from chalicelib.core.clock import Clock, FixedClock
from chalicelib.networks import threads
from chalicelib.networks.base import ChannelContext, MediaItem, NetworkAdapter, PublishRequest
from tests.fakes.threads_api import ThreadsApi
from tests.functional.networks.contract.case import ErrorKind, MediaKind

TOKEN = "THQcontract-token"
USER_ID = "17841400000000077"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF" + bytes(64)
MP4 = b"\x00\x00\x00\x18ftypmp42" + bytes(64)
ERRORS: dict[ErrorKind, tuple[int, dict[str, Any]]] = {
    "throttled": (400, {"message": "Application request limit reached", "code": 4, "is_transient": True}),
    "revoked": (400, {"message": "Error validating access token: Session has expired", "code": 190,
                      "error_subcode": 463}),
    "rejected": (400, {"message": "Duplicate post", "code": 506}),
}


class ThreadsContract:
    network = "threads"
    media_kinds: tuple[MediaKind, ...] = ("image", "images", "video")
    error_kinds: tuple[ErrorKind, ...] = ("throttled", "revoked", "rejected")
    looks_before_retry = True

    def __init__(self, api: ThreadsApi, clock: Clock) -> None:
        self.api = api
        self.clock = clock

    def adapter(self) -> NetworkAdapter:
        return threads.make_adapter(clock=self.clock, base_url=self.api.api_url)

    def channel(self) -> ChannelContext:
        return ChannelContext("ws_c", "ch_threads", "threads", {"threads_user_id": USER_ID},
                              {"access_token": TOKEN})

    def request(self, delivery_id: str, text: str, media_kind: MediaKind | None = None,
                progress: dict[str, Any] | None = None,
                record_progress: Callable[[Any], None] | None = None) -> PublishRequest:
        return PublishRequest(delivery_id=delivery_id, text=text, media=self._media(delivery_id, media_kind),
                              progress=progress or {}, record_progress=record_progress or (lambda _p: None),
                              first_attempt_at=self.clock.now())

    def _media(self, name: str, kind: MediaKind | None) -> tuple[MediaItem, ...]:
        def item(suffix: str, body: bytes, mime: str) -> MediaItem:
            hosted = f"{name}-{suffix}"
            return MediaItem(mime=mime, size=len(body), public_url=lambda _ttl: self.api.host(hosted, body, mime))

        if kind == "image":
            return (item("a.jpg", JPEG, "image/jpeg"),)
        if kind == "images":
            return (item("a.jpg", JPEG, "image/jpeg"), item("b.jpg", JPEG, "image/jpeg"))
        if kind == "video":
            return (MediaItem(mime="video/mp4", size=len(MP4), duration_s=12, width=1080, height=1920,
                              public_url=lambda _ttl: self.api.host(f"{name}.mp4", MP4, "video/mp4")),)
        return ()

    def too_long_text(self) -> str:
        return "a" * (threads.LIMITS.max_text + 1)

    def script_error(self, kind: ErrorKind) -> None:
        status, error = ERRORS[kind]
        self.api.answer("POST", f"/v1.0/{USER_ID}/threads", status, {"error": {"type": "OAuthException", **error}})

    def drop_next_publish(self) -> None:
        self.api.drop_after("POST", f"/v1.0/{USER_ID}/threads_publish")

    def published(self) -> list[str]:
        return [media.media_id for media in self.api.published(USER_ID)]

    def settle(self) -> None:
        if isinstance(self.clock, FixedClock):
            self.clock.advance(seconds=30)

    def violations(self) -> list[str]:
        return list(self.api.problems)


@contextmanager
def start(clock: Clock) -> Iterator[ThreadsContract]:
    with ThreadsApi(clock) as api:
        api.user(TOKEN, USER_ID, "herald.contract", followers=10)
        yield ThreadsContract(api, clock)
