"""The Google Business Profile row of the network contract: the adapter against tests/fakes/google_business_api.py."""
from __future__ import annotations

from collections.abc import Callable
from contextlib import contextmanager
from typing import Any

from chalicelib.core.clock import Clock
from chalicelib.networks import google_business
from chalicelib.networks.base import ChannelContext, MediaItem, NetworkAdapter, PublishRequest
from tests.fakes.google_business_api import GoogleBusinessApi, invalid_argument
from tests.fakes.google_oauth_server import UNAUTHENTICATED, google_error
from tests.functional.networks.contract.case import CaseIterator, ErrorKind, MediaKind

USER = "user-contract"
ACCOUNT_ID, LOCATION_ID = "1090000000000000001", "2090000000000000001"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF" + bytes(12 * 1024)
POSTS = rf"/v4/accounts/{ACCOUNT_ID}/locations/{LOCATION_ID}/localPosts"

ERRORS: dict[str, tuple[int, dict[str, Any], dict[str, str]]] = {
    "throttled": (429, google_error(429, "rateLimitExceeded", "Quota exceeded for quota metric 'Requests' of "
                                    "service 'mybusiness.googleapis.com'.", "RESOURCE_EXHAUSTED"),
                  {"Retry-After": "30"}),
    "revoked": (401, UNAUTHENTICATED, {}),
    "rejected": (400, invalid_argument("summary", "The post contains a phone number"), {}),
}


class GoogleBusinessCase:
    network = "google_business"
    media_kinds: tuple[MediaKind, ...] = ("image",)
    error_kinds: tuple[ErrorKind, ...] = ("throttled", "revoked", "rejected")
    looks_before_retry = True

    def __init__(self, fake: GoogleBusinessApi, clock: Clock) -> None:
        self.fake = fake
        self.clock = clock
        self._adapter = google_business.make_adapter(clock=clock, base_url=fake.api_url,
                                                     business_information_url=fake.business_information_url)
        self._token = fake.token_for(USER, lifetime_s=10 * 365 * 86400)
        self._hosted = 0

    def adapter(self) -> NetworkAdapter:
        return self._adapter

    def channel(self) -> ChannelContext:
        return ChannelContext("ws-contract", "ch-gbp", "google_business",
                              {"google_account_id": ACCOUNT_ID, "location_id": LOCATION_ID},
                              {"access_token": self._token, "refresh_token": "1//contract"})

    def request(self, delivery_id: str, text: str, media_kind: MediaKind | None = None,
                progress: dict[str, Any] | None = None,
                record_progress: Callable[[Any], None] | None = None) -> PublishRequest:
        media: tuple[MediaItem, ...] = ()
        if media_kind == "image":
            self._hosted += 1
            name = f"contract-{self._hosted}.jpg"
            media = (MediaItem(mime="image/jpeg", size=len(JPEG), public_url=lambda _ttl: self.fake.host(name, JPEG)),)
        return PublishRequest(delivery_id, text, media, progress=progress or {},
                              record_progress=record_progress or (lambda _p: None), first_attempt_at=self.clock.now())

    def too_long_text(self) -> str:
        return "x" * (google_business.MAX_SUMMARY + 1)

    def script_error(self, kind: ErrorKind) -> None:
        status, body, headers = ERRORS[kind]
        self.fake.fail("POST", POSTS, status, body, headers)

    def drop_next_publish(self) -> None:
        self.fake.drop_after("POST", POSTS)

    def published(self) -> list[str]:
        return [post["name"] for post in self.fake.posts(LOCATION_ID)]

    def settle(self) -> None:
        self.fake.settle()


@contextmanager
def start(clock: Clock) -> CaseIterator:
    with GoogleBusinessApi(clock) as fake:
        fake.account(ACCOUNT_ID, "Herald Coffee", {USER})
        fake.location(ACCOUNT_ID, LOCATION_ID, "Herald Coffee Roasters", "Portland")
        yield GoogleBusinessCase(fake, clock)
