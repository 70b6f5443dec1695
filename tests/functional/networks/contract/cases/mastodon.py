"""Mastodon in the network contract: the adapter against tests/fakes/mastodon_server.py.

Mastodon cannot list "the post this attempt made" reliably, and needs not: POST /api/v1/statuses carries
Idempotency-Key = delivery id, so after a lost answer the retry returns the same status (looks_before_retry is
False; the runner checks the retry adds no second post). tests/integration/test_mastodon_mock.py runs the same
adapter against the `mastodon-mock` package's server.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from chalicelib.core.clock import Clock, FixedClock
from chalicelib.core.outbound import ALLOW_LOCAL_PEERS
from chalicelib.networks import mastodon
from chalicelib.networks.base import ChannelContext, MediaItem, NetworkAdapter, PublishRequest
from tests.fakes.mastodon_server import MastodonFake
from tests.functional.networks.contract.case import ErrorKind, MediaKind

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 2
MP4 = b"\x00\x00\x00\x18ftypmp42" + bytes(64)
STATUSES = "/api/v1/statuses"


class MastodonContract:
    network = "mastodon"
    media_kinds: tuple[MediaKind, ...] = ("image", "images", "video")
    error_kinds: tuple[ErrorKind, ...] = ("throttled", "revoked", "rejected")
    looks_before_retry = False

    def __init__(self, fake: MastodonFake, clock: Clock) -> None:
        self.fake = fake
        self.clock = clock
        self.token = fake.access_token

    def adapter(self) -> NetworkAdapter:
        # The fake is on 127.0.0.1, a local peer only the allowing policy reaches; a read timeout shorter than
        # the fake's stall makes a dropped answer real. Waiting for media advances the clock, never sleeps.
        return mastodon.make_adapter(clock=self.clock, sleep=self._sleep, timeout=(2.0, 0.5),
                                     policy=ALLOW_LOCAL_PEERS)

    def _sleep(self, seconds: float) -> None:
        if isinstance(self.clock, FixedClock):
            self.clock.advance(seconds)

    def channel(self) -> ChannelContext:
        return ChannelContext("ws_c", "ch_md", "mastodon", {},
                              {"instance_url": self.fake.url, "access_token": self.token})

    def request(self, delivery_id: str, text: str, media_kind: MediaKind | None = None,
                progress: dict[str, Any] | None = None,
                record_progress: Callable[[Any], None] | None = None) -> PublishRequest:
        return PublishRequest(delivery_id=delivery_id, text=text, media=_media(media_kind), progress=progress or {},
                              record_progress=record_progress or (lambda _p: None),
                              first_attempt_at=self.clock.now())

    def too_long_text(self) -> str:
        return "a" * (mastodon.LIMITS.max_text + 1)

    def script_error(self, kind: ErrorKind) -> None:
        if kind == "throttled":
            self.fake.fail_next("rate_limit", method="POST", path=STATUSES, retry_after=30)
        elif kind == "revoked":
            self.token = "revoked-by-the-user"  # the fake answers 401 "The access token is invalid"
        else:
            self.fake.fail_next("error", method="POST", path=STATUSES, status=422,
                                error="Validation failed: Text contains a link to a blocked domain")

    def drop_next_publish(self) -> None:
        self.fake.fail_next("timeout_after_processing", method="POST", path=STATUSES)

    def published(self) -> list[str]:
        return [status.id for status in self.fake.created]

    def settle(self) -> None:
        pass  # the adapter waits for media itself (with the injected sleep)


def _media(kind: MediaKind | None) -> tuple[MediaItem, ...]:
    if kind == "image":
        return (MediaItem(mime="image/png", alt="A plate", load=lambda: PNG),)
    if kind == "images":
        return (MediaItem(mime="image/png", alt="One", load=lambda: PNG),
                MediaItem(mime="image/png", alt="Two", load=lambda: PNG))
    if kind == "video":
        return (MediaItem(mime="video/mp4", alt="A pour", load=lambda: MP4),)
    return ()


@contextmanager
def start(clock: Clock) -> Iterator[MastodonContract]:
    with MastodonFake(clock=clock, media_processing_polls=1) as fake:
        yield MastodonContract(fake, clock)
