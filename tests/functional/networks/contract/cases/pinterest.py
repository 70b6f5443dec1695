"""The Pinterest row of the network contract: the adapter against tests/fakes/pinterest_api.py.

Pinterest has no text-only pins: the "text" post of the contract is an image pin with that description.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from chalicelib.core.clock import Clock
from chalicelib.networks import pinterest
from chalicelib.networks.base import ChannelContext, MediaItem, NetworkAdapter, PublishRequest
from tests.fakes.pinterest_api import PinterestApi
from tests.functional.networks.contract.case import CaseIterator, ErrorKind, MediaKind

TOKEN = "pina_contract"
USER_ID = "1108000000000900"
BOARD = "5550900"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF" + bytes(256)
MP4 = b"\x00\x00\x00\x18ftypmp42" + bytes(4096)

ERRORS: dict[str, tuple[int, dict[str, Any], dict[str, str]]] = {
    "throttled": (429, {"code": 8, "message": "You have exceeded your rate limit. Try again later."},
                  {"x-ratelimit-remaining": "0", "x-ratelimit-reset": "30"}),
    "revoked": (401, {"code": 2, "message": "Authentication failed."}, {}),
    "rejected": (400, {"code": 1, "message": "Invalid parameters: the link is not allowed."}, {}),
}


class PinterestCase:
    network = "pinterest"
    media_kinds: tuple[MediaKind, ...] = ("image", "video")
    error_kinds: tuple[ErrorKind, ...] = ("throttled", "revoked", "rejected")
    looks_before_retry = True

    def __init__(self, fake: PinterestApi, clock: Clock) -> None:
        self.fake = fake
        self.clock = clock
        self._adapter = pinterest.make_adapter(clock=clock, base_url=fake.api_url)
        self._hosted = 0

    def adapter(self) -> NetworkAdapter:
        return self._adapter

    def channel(self) -> ChannelContext:
        return ChannelContext("ws-contract", "ch-pinterest", "pinterest", {"user_id": USER_ID, "board_id": BOARD},
                              {"access_token": TOKEN})

    def request(self, delivery_id: str, text: str, media_kind: MediaKind | None = None,
                progress: dict[str, Any] | None = None,
                record_progress: Callable[[Any], None] | None = None) -> PublishRequest:
        media = self._video() if media_kind == "video" else (self._image(),)
        return PublishRequest(delivery_id, text, media, options={"title": f"Contract {delivery_id}"[:100]},
                              progress=progress or {}, record_progress=record_progress or (lambda _p: None),
                              first_attempt_at=self.clock.now())

    def _image(self) -> MediaItem:
        self._hosted += 1
        name = f"contract-{self._hosted}.jpg"
        return MediaItem(mime="image/jpeg", size=len(JPEG), public_url=lambda _ttl: self.fake.host(name, JPEG))

    def _video(self) -> tuple[MediaItem, ...]:
        def stream(chunk: int) -> Iterator[bytes]:
            for start in range(0, len(MP4), chunk):
                yield MP4[start:start + chunk]

        return (MediaItem(mime="video/mp4", size=len(MP4), stream=stream, duration_s=10.0), self._image())

    def too_long_text(self) -> str:
        return "x" * (pinterest.MAX_DESCRIPTION + 1)

    def script_error(self, kind: ErrorKind) -> None:
        status, body, headers = ERRORS[kind]
        self.fake.fail("POST", "/v5/pins", status, body, headers)

    def drop_next_publish(self) -> None:
        self.fake.drop_after("POST", "/v5/pins")

    def published(self) -> list[str]:
        return [pin.pin_id for pin in self.fake.published(USER_ID)]

    def settle(self) -> None:
        self.fake.settle()


@contextmanager
def start(clock: Clock) -> CaseIterator:
    with PinterestApi(clock) as fake:
        fake.account(TOKEN, USER_ID, "herald.contract", {BOARD: []})
        yield PinterestCase(fake, clock)
