"""LinkedIn in the network contract: the adapter against tests/fakes/linkedin_api.py (an organization page)."""
from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import requests

from chalicelib.core.clock import Clock, FixedClock
from chalicelib.networks import linkedin
from chalicelib.networks.base import ChannelContext, MediaItem, NetworkAdapter, PublishRequest
from tests.fakes.linkedin_api import LinkedInApi
from tests.functional.networks.contract.case import ErrorKind, MediaKind

ORG_ID = "2414183"
ORG = f"urn:li:organization:{ORG_ID}"
TOKEN = "tok-contract"
JPEG = b"\xff\xd8\xff\xe0\x00JFIF" + bytes(range(256)) * 4
PDF = b"%PDF-1.7\n" + b"1 0 obj\n<<>>\nendobj\n" * 50
MP4 = b"\x00\x00\x00\x20ftypisom" + bytes(range(256)) * 400  # LinkedIn takes videos of 75 KB and more
ERRORS: dict[ErrorKind, tuple[int, dict[str, Any]]] = {
    "throttled": (429, {"status": 429, "message": "Resource level throttle limit for calls to this resource is "
                                                  "reached"}),
    "revoked": (401, {"status": 401, "serviceErrorCode": 65601, "code": "REVOKED_ACCESS_TOKEN",
                      "message": "The token used in the request has been revoked by the user"}),
    "rejected": (422, {"status": 422, "message": "Content is a duplicate of urn:li:share:7100000000000000001"}),
}


class LinkedInContract:
    network = "linkedin"
    media_kinds: tuple[MediaKind, ...] = ("image", "images", "video", "document")
    error_kinds: tuple[ErrorKind, ...] = ("throttled", "revoked", "rejected")
    looks_before_retry = True

    def __init__(self, api: LinkedInApi, clock: Clock) -> None:
        self.api = api
        self.clock = clock

    def adapter(self) -> NetworkAdapter:
        return linkedin.make_adapter(requests.Session(), self.clock, base_url=self.api.url)

    def channel(self) -> ChannelContext:
        return ChannelContext("ws_c", "ch_li", "linkedin", {"organization_urn": ORG}, {"access_token": TOKEN})

    def request(self, delivery_id: str, text: str, media_kind: MediaKind | None = None,
                progress: dict[str, Any] | None = None,
                record_progress: Callable[[Any], None] | None = None) -> PublishRequest:
        return PublishRequest(delivery_id=delivery_id, text=text, media=_media(media_kind), progress=progress or {},
                              record_progress=record_progress or (lambda _p: None),
                              first_attempt_at=self.clock.now())

    def too_long_text(self) -> str:
        return "a" * (linkedin.LIMITS.max_text + 1)

    def script_error(self, kind: ErrorKind) -> None:
        status, body = ERRORS[kind]
        self.api.fail("POST", "/rest/posts", status, body)

    def drop_next_publish(self) -> None:
        self.api.drop_after("POST", "/rest/posts")

    def published(self) -> list[str]:
        return [str(post["id"]) for post in self.api.posts]

    def settle(self) -> None:
        if isinstance(self.clock, FixedClock):
            self.clock.advance(seconds=30)


def _media(kind: MediaKind | None) -> tuple[MediaItem, ...]:
    image = MediaItem(mime="image/jpeg", alt="A cup", size=len(JPEG), load=lambda: JPEG)
    if kind == "image":
        return (image,)
    if kind == "images":
        return (image, MediaItem(mime="image/jpeg", alt="Beans", size=len(JPEG), load=lambda: JPEG))
    if kind == "video":
        return (MediaItem(mime="video/mp4", alt="How we roast", size=len(MP4), duration_s=42.0,
                          stream=lambda chunk: (MP4[i:i + chunk] for i in range(0, len(MP4), chunk))),)
    if kind == "document":
        return (MediaItem(mime="application/pdf", size=len(PDF), load=lambda: PDF),)
    return ()


@contextmanager
def start(clock: Clock) -> Iterator[LinkedInContract]:
    with LinkedInApi(now=lambda: clock.now().timestamp()) as api:
        api.organization(ORG_ID, "Herald Contract Roasters", "herald-contract")
        api.member("contract-sub", "Ada Contract", token=TOKEN, organizations=(ORG_ID,))
        yield LinkedInContract(api, clock)
