"""X in the network contract: the adapter against tests/fakes/x_api.py."""
from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from chalicelib.core.clock import Clock, FixedClock
from chalicelib.networks import x
from chalicelib.networks.base import ChannelContext, MediaItem, NetworkAdapter, PublishRequest
from tests.fakes.x_api import UNAUTHORIZED, XApi
from tests.functional.networks.contract.case import ErrorKind, MediaKind

USER = "2975699229"
USERNAME = "HeraldContract"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF" + bytes(range(256)) * 4
MP4 = b"\x00\x00\x00\x18ftypmp42" + bytes(range(251)) * 40
ERRORS: dict[ErrorKind, tuple[int, dict[str, Any], dict[str, str]]] = {
    "throttled": (429, {"title": "Too Many Requests", "status": 429, "detail": "Too Many Requests"},
                  {"Retry-After": "30"}),
    "revoked": (401, UNAUTHORIZED, {}),
    "rejected": (403, {"title": "Forbidden", "status": 403,
                       "detail": "You are not permitted to perform this action."}, {}),
}


class XContract:
    network = "x"
    media_kinds: tuple[MediaKind, ...] = ("image", "images", "video")
    error_kinds: tuple[ErrorKind, ...] = ("throttled", "revoked", "rejected")
    looks_before_retry = True

    def __init__(self, api: XApi, clock: Clock) -> None:
        self.api = api
        self.clock = clock
        self.tokens = api.user_token(USER, USERNAME)

    def adapter(self) -> NetworkAdapter:
        return x.make_adapter(clock=self.clock, base_url=self.api.url)

    def channel(self) -> ChannelContext:
        return ChannelContext("ws_c", "ch_x", "x", {"user_id": USER, "username": USERNAME}, dict(self.tokens))

    def request(self, delivery_id: str, text: str, media_kind: MediaKind | None = None,
                progress: dict[str, Any] | None = None,
                record_progress: Callable[[Any], None] | None = None) -> PublishRequest:
        return PublishRequest(delivery_id=delivery_id, text=text, media=_media(media_kind), progress=progress or {},
                              record_progress=record_progress or (lambda _p: None),
                              first_attempt_at=self.clock.now())

    def too_long_text(self) -> str:
        return "a" * (x.LIMITS.max_text + 1)

    def script_error(self, kind: ErrorKind) -> None:
        status, body, headers = ERRORS[kind]
        self.api.fail("POST", "/2/tweets", status, body, headers)

    def drop_next_publish(self) -> None:
        self.api.drop_after("POST", "/2/tweets")

    def published(self) -> list[str]:
        return [tweet.id for tweet in self.api.tweets]

    def settle(self) -> None:
        if isinstance(self.clock, FixedClock):
            self.clock.advance(seconds=10)

    def violations(self) -> list[str]:
        return list(self.api.violations)


def _media(kind: MediaKind | None) -> tuple[MediaItem, ...]:
    image = MediaItem(mime="image/jpeg", alt="A cup", size=len(JPEG), load=lambda: JPEG)
    if kind == "image":
        return (image,)
    if kind == "images":
        return (image, MediaItem(mime="image/jpeg", size=len(JPEG), load=lambda: JPEG))
    if kind == "video":
        return (MediaItem(mime="video/mp4", size=len(MP4), duration_s=12.0, width=1280, height=720,
                          stream=lambda chunk: (MP4[i:i + chunk] for i in range(0, len(MP4), chunk))),)
    return ()


@contextmanager
def start(clock: Clock) -> Iterator[XContract]:
    with XApi(clock) as api:
        yield XContract(api, clock)
