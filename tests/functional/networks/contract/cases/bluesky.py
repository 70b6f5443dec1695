"""Bluesky in the network contract: the adapter against tests/fakes/bluesky.py (an in-memory PDS behind a
session-like object; no socket).

Bluesky's record key is derived from the delivery id, so a retry after a lost answer finds (or makes) the same
record: looks_before_retry is False and the runner checks the retry adds no second post. Herald does not post
video to Bluesky yet, so the row names images only.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import requests

from chalicelib.core.clock import Clock
from chalicelib.networks import bluesky
from chalicelib.networks.base import ChannelContext, MediaItem, NetworkAdapter, PublishRequest
from tests.fakes.bluesky import Failure, FakeBluesky
from tests.functional.networks.contract.case import ErrorKind, MediaKind

DID = "did:plc:k3a6mqxwv2nfj7hbcy4zt5de"
PASSWORD = "app-pass-contract"
PNG = bytes.fromhex("89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489")
CREATE = "com.atproto.repo.createRecord"


class BlueskyContract:
    network = "bluesky"
    media_kinds: tuple[MediaKind, ...] = ("image", "images")
    error_kinds: tuple[ErrorKind, ...] = ("throttled", "revoked", "rejected")
    looks_before_retry = False

    def __init__(self, fake: FakeBluesky, clock: Clock) -> None:
        self.fake = fake
        self.clock = clock
        self._adapter = bluesky.make_adapter(http=fake, clock=clock)

    def adapter(self) -> NetworkAdapter:
        return self._adapter

    def channel(self) -> ChannelContext:
        return ChannelContext("ws_c", "ch_bs", "bluesky", {}, {"service_url": "https://pds.example.com",
                                                                "handle": self.fake.handle,
                                                                "app_password": PASSWORD})

    def request(self, delivery_id: str, text: str, media_kind: MediaKind | None = None,
                progress: dict[str, Any] | None = None,
                record_progress: Callable[[Any], None] | None = None) -> PublishRequest:
        media: tuple[MediaItem, ...] = ()
        if media_kind == "image":
            media = (MediaItem(mime="image/png", alt="A dot", load=lambda: PNG),)
        elif media_kind == "images":
            media = (MediaItem(mime="image/png", alt="One", load=lambda: PNG),
                     MediaItem(mime="image/png", alt="Two", load=lambda: PNG + b"\x00"))
        return PublishRequest(delivery_id=delivery_id, text=text, media=media, progress=progress or {},
                              record_progress=record_progress or (lambda _p: None),
                              first_attempt_at=self.clock.now())

    def too_long_text(self) -> str:
        return "a" * (bluesky.LIMITS.max_text + 1)

    def script_error(self, kind: ErrorKind) -> None:
        if kind == "throttled":
            self.fake.fail_next(CREATE, Failure(429, {"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"},
                                                {"Retry-After": "30"}))
        elif kind == "revoked":
            self.fake.password = "a-new-app-password"  # the user revoked the app password
            self.fake.expire_everything()
        else:
            self.fake.fail_next(CREATE, Failure(400, {"error": "InvalidRequest",
                                                      "message": "Invalid app.bsky.feed.post record: Record/text "
                                                                 "must not be longer than 300 graphemes"}))

    def drop_next_publish(self) -> None:
        self.fake.fail_next(CREATE, Failure(exception=requests.ReadTimeout("read timed out"), after_handling=True))

    def published(self) -> list[str]:
        return [str(record["uri"]) for record in self.fake.posts()]

    def settle(self) -> None:
        pass  # images are ready once uploaded


@contextmanager
def start(clock: Clock) -> Iterator[BlueskyContract]:
    yield BlueskyContract(FakeBluesky(handle="contract.test", password=PASSWORD, did=DID), clock)
