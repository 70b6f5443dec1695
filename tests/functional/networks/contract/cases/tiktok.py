"""TikTok's row of the network contract: the adapter against tests/fakes/tiktok_api.py.

TikTok has no text posts: a request without a media kind is a small video (with its caption). Posts are
public on an audited app (the fake accepts it), so each gets a public post id.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from chalicelib.core.clock import Clock
from chalicelib.networks import tiktok
from chalicelib.networks.base import ChannelContext, MediaItem, PublishRequest
from tests.fakes.tiktok_api import TikTokApi, envelope
from tests.functional.networks.contract.case import ErrorKind, MediaKind

TOKEN = "act.contract"
OPEN_ID = "-000contractOpenId"
MP4 = b"\x00\x00\x00\x18ftypmp42" + bytes(4096)
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF" + bytes(64)
ERRORS: dict[str, tuple[int, str]] = {"throttled": (429, "rate_limit_exceeded"),
                                      "revoked": (401, "access_token_invalid"),
                                      "rejected": (400, "privacy_level_option_mismatch")}


class TikTokCase:
    network = "tiktok"
    media_kinds: tuple[MediaKind, ...] = ("video", "image", "images")
    error_kinds: tuple[ErrorKind, ...] = ("throttled", "revoked", "rejected")
    looks_before_retry = True  # by the publish_id's status; a lost pull init cannot be told (unknown)

    def __init__(self, fake: TikTokApi, clock: Clock) -> None:
        self.fake = fake
        self.clock = clock
        self._adapter = tiktok.make_adapter(clock=clock, base_url=fake.url, app_audited=True)

    def adapter(self) -> tiktok.TikTokAdapter:
        return self._adapter

    def channel(self) -> ChannelContext:
        return ChannelContext("ws_contract", "ch_tiktok", "tiktok", {"open_id": OPEN_ID}, {"access_token": TOKEN})

    def request(self, delivery_id: str, text: str, media_kind: MediaKind | None = None,
                progress: dict[str, Any] | None = None,
                record_progress: Callable[[Any], None] | None = None) -> PublishRequest:
        if media_kind in ("image", "images"):
            count = 1 if media_kind == "image" else 3
            media = tuple(self._photo(f"{delivery_id}-{i}.jpg") for i in range(count))
        else:
            media = (_video(),)
        return PublishRequest(delivery_id, text, media=media, options={"privacy_level": "PUBLIC_TO_EVERYONE"},
                              progress=progress or {}, record_progress=record_progress or (lambda _p: None))

    def _photo(self, name: str) -> MediaItem:
        return MediaItem(mime="image/jpeg", size=len(JPEG),
                         public_url=lambda _ttl: self.fake.host(name, JPEG, "image/jpeg"))

    def too_long_text(self) -> str:
        return "a" * 2201  # a video's caption: 2,200 UTF-16 units

    def script_error(self, kind: ErrorKind) -> None:
        status, code = ERRORS[kind]
        self.fake.fail("POST", r"/v2/post/publish/(video|content)/init/", status, envelope(code=code, message=kind))

    def drop_next_publish(self) -> None:
        """The video's last chunk reaches TikTok (the post is made), its answer is lost."""
        self.fake.drop_after("PUT", r"/upload/.+")

    def published(self) -> list[str]:
        """What TikTok has made: a post whose upload finished is settled (TikTok settles it whether or not
        anyone asks), then named by its public id."""
        self.settle()
        return [post.post_id or post.publish_id for post in self.fake.published(OPEN_ID)]

    def settle(self) -> None:
        with self.fake.lock:
            for post in self.fake.posts.values():
                post.reads_left = 0
        advance = getattr(self.clock, "advance", None)
        if advance is not None:
            advance(60)
        for publish_id in [p.publish_id for p in self.fake.posts.values() if not p.settled]:
            self._read_status(publish_id)

    def _read_status(self, publish_id: str) -> None:
        """TikTok settles a post whether or not anyone asks; the fake settles it when its status is read."""
        self._adapter._status(self.channel(), publish_id)


def _video() -> MediaItem:
    def stream(size: int) -> Iterator[bytes]:
        for start in range(0, len(MP4), size):
            yield MP4[start:start + size]

    return MediaItem(mime="video/mp4", size=len(MP4), stream=stream)


@contextmanager
def start(clock: Clock) -> Iterator[TikTokCase]:
    with TikTokApi() as fake:
        fake.creator(TOKEN, OPEN_ID, "herald.contract")
        yield TikTokCase(fake, clock)
        if fake.violations:
            raise AssertionError(f"TikTok fake refused: {fake.violations}")


__all__: Mapping[str, Any] | list[str] = ["start"]
