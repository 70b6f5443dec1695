"""What the Facebook and Instagram rows share: the Meta Graph fake (tests/fakes/meta_graph.py) and its errors.
Not a row itself (the runner skips modules whose name starts with `_`)."""
from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Literal

import requests

from chalicelib.core.clock import Clock, FixedClock
from chalicelib.networks import meta
from chalicelib.networks.base import ChannelContext, MediaItem, NetworkAdapter, PublishRequest
from tests.fakes.meta_graph import MetaGraphFake
from tests.functional.networks.contract.case import ErrorKind, MediaKind

PAGE_ID = "448242228374599"
PAGE_TOKEN = "page-token-contract"
IG_USER_ID = "17841405822304999"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(32)
MP4 = b"\x00\x00\x00\x18ftypmp42" + bytes(32)
# (status, code, message, subcode) as the Graph API documents them (Handling errors; error codes).
ERRORS: dict[ErrorKind, tuple[int, int, str, int | None]] = {
    "throttled": (400, 4, "(#4) Application request limit reached", None),
    "revoked": (400, 190, "Error validating access token: The session has been invalidated because the user "
                          "changed their password or Facebook has changed the session for security reasons.", 460),
    "rejected": (400, 368, "The action attempted has been deemed abusive or is otherwise disallowed", None),
}


class MetaContract:
    media_kinds: tuple[MediaKind, ...] = ("image", "images", "video")
    error_kinds: tuple[ErrorKind, ...] = ("throttled", "revoked", "rejected")
    looks_before_retry = True

    def __init__(self, network: Literal["facebook", "instagram"], graph: MetaGraphFake, clock: Clock) -> None:
        self.network = network
        self.graph = graph
        self.clock = clock
        self._hosted = 0

    def adapter(self) -> NetworkAdapter:
        return meta.make_adapter(requests.Session(), self.clock, network=self.network, base_url=self.graph.url)

    def channel(self) -> ChannelContext:
        if self.network == "facebook":
            return ChannelContext("ws_c", "ch_fb", "facebook", {"page_id": PAGE_ID},
                                  {"page_access_token": PAGE_TOKEN})
        return ChannelContext("ws_c", "ch_ig", "instagram", {"ig_user_id": IG_USER_ID, "page_id": PAGE_ID},
                              {"access_token": PAGE_TOKEN})

    def request(self, delivery_id: str, text: str, media_kind: MediaKind | None = None,
                progress: dict[str, Any] | None = None,
                record_progress: Callable[[Any], None] | None = None) -> PublishRequest:
        if media_kind is None and self.network == "instagram":
            media_kind = "image"  # Instagram has no text-only posts: a valid post carries media
        return PublishRequest(delivery_id=delivery_id, text=text, media=self._media(media_kind),
                              progress=progress or {}, record_progress=record_progress or (lambda _p: None),
                              first_attempt_at=self.clock.now())

    def _media(self, kind: MediaKind | None) -> tuple[MediaItem, ...]:
        if kind == "image":
            return (self._hosted_item("image/jpeg", JPEG),)
        if kind == "images":
            return (self._hosted_item("image/jpeg", JPEG), self._hosted_item("image/jpeg", JPEG))
        if kind == "video":
            return (self._hosted_item("video/mp4", MP4, duration_s=20.0, width=1080, height=1920),)
        return ()

    def _hosted_item(self, mime: str, data: bytes, **facts: Any) -> MediaItem:
        self._hosted += 1
        url = f"https://media.herald.test/contract-{self._hosted}?X-Amz-Expires=3600"
        self.graph.host(url, data)
        return MediaItem(mime=mime, size=len(data), public_url=lambda _lifetime: url, **facts)

    def too_long_text(self) -> str:
        return "a" * (meta.LIMITS_BY_NETWORK[self.network].max_text + 1)

    def script_error(self, kind: ErrorKind) -> None:
        status, code, message, subcode = ERRORS[kind]
        path = f"{PAGE_ID}/feed" if self.network == "facebook" else f"{IG_USER_ID}/media"
        self.graph.fail("POST", path, status, code, message, subcode=subcode)

    def drop_next_publish(self) -> None:
        path = f"{PAGE_ID}/feed" if self.network == "facebook" else f"{IG_USER_ID}/media_publish"
        self.graph.drop_after("POST", path)

    def published(self) -> list[str]:
        if self.network == "instagram":
            return [str(media["id"]) for media in self.graph.instagram_media(IG_USER_ID)]
        videos = [video_id for video_id, video in self.graph.state.videos.items() if video["page"] == PAGE_ID]
        return [str(post["id"]) for post in self.graph.posts(PAGE_ID)] + videos  # a video is its own Page post

    def settle(self) -> None:
        if isinstance(self.clock, FixedClock):
            self.clock.advance(seconds=30)

    def violations(self) -> list[str]:
        return list(self.graph.state.violations)


@contextmanager
def start_meta(network: Literal["facebook", "instagram"], clock: Clock) -> Iterator[MetaContract]:
    with MetaGraphFake(clock.now) as graph:
        graph.page(PAGE_ID, "Herald Contract", PAGE_TOKEN, ig=(IG_USER_ID, "heraldcontract"))
        yield MetaContract(network, graph, clock)
