"""The YouTube row of the network contract: the adapter against tests/fakes/youtube_api.py.

YouTube publishes videos only: the contract's "text" post is a video whose description is that text (its first
line the title). The fake processes a video at once here (`processing=0`); the waits are in the unit tests.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from chalicelib.core.clock import Clock
from chalicelib.networks import youtube
from chalicelib.networks.base import ChannelContext, MediaItem, NetworkAdapter, PublishRequest
from tests.fakes.google_oauth_server import UNAUTHENTICATED, google_error
from tests.fakes.youtube_api import YouTubeApi
from tests.functional.networks.contract.case import CaseIterator, ErrorKind, MediaKind

CHANNEL_ID = "UCcontract000000000000ab"
MP4 = b"\x00\x00\x00\x18ftypmp42" + bytes(4096)
OPEN = r"/upload/youtube/v3/videos"

ERRORS: dict[str, tuple[int, dict[str, Any], dict[str, str]]] = {
    "throttled": (403, google_error(403, "quotaExceeded", "The request cannot be completed because you have "
                                    "exceeded your quota.", "PERMISSION_DENIED", domain="youtube.quota"), {}),
    "revoked": (401, UNAUTHENTICATED, {}),
    "rejected": (400, google_error(400, "invalidTitle", "The request metadata specifies an invalid or empty video "
                                   "title.", "INVALID_ARGUMENT", domain="youtube.video"), {}),
}


class YouTubeCase:
    network = "youtube"
    media_kinds: tuple[MediaKind, ...] = ("video",)
    error_kinds: tuple[ErrorKind, ...] = ("throttled", "revoked", "rejected")
    looks_before_retry = True

    def __init__(self, fake: YouTubeApi, clock: Clock) -> None:
        self.fake = fake
        self.clock = clock
        self._adapter = youtube.make_adapter(clock=clock, base_url=fake.api_url, upload_url=fake.upload_url)
        self._token = fake.token_for(CHANNEL_ID, lifetime_s=10 * 365 * 86400)

    def adapter(self) -> NetworkAdapter:
        return self._adapter

    def channel(self) -> ChannelContext:
        return ChannelContext("ws-contract", "ch-youtube", "youtube", {"youtube_channel_id": CHANNEL_ID},
                              {"access_token": self._token, "refresh_token": "1//contract"})

    def request(self, delivery_id: str, text: str, media_kind: MediaKind | None = None,
                progress: dict[str, Any] | None = None,
                record_progress: Callable[[Any], None] | None = None) -> PublishRequest:
        def stream(chunk: int) -> Iterator[bytes]:
            for start in range(0, len(MP4), chunk):
                yield MP4[start:start + chunk]

        media = (MediaItem(mime="video/mp4", size=len(MP4), stream=stream, duration_s=12.0),)
        return PublishRequest(delivery_id, text, media, options={"privacy_status": "private"},
                              progress=progress or {}, record_progress=record_progress or (lambda _p: None),
                              first_attempt_at=self.clock.now())

    def too_long_text(self) -> str:
        return "x" * (youtube.MAX_DESCRIPTION_BYTES + 1)

    def script_error(self, kind: ErrorKind) -> None:
        status, body, headers = ERRORS[kind]
        self.fake.fail("POST", OPEN, status, body, headers)

    def drop_next_publish(self) -> None:
        self.fake.drop_after("PUT", OPEN)  # the last (here the only) chunk makes the video; its answer is lost

    def published(self) -> list[str]:
        return [video.video_id for video in self.fake.published(CHANNEL_ID)]

    def settle(self) -> None:
        self.fake.settle()


@contextmanager
def start(clock: Clock) -> CaseIterator:
    with YouTubeApi(clock, processing=0) as fake:
        fake.channel(CHANNEL_ID, "Herald Contract", "@heraldcontract")
        yield YouTubeCase(fake, clock)
