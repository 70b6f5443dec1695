"""The Discord row of the network contract test: the webhook adapter against tests/fakes/discord_api.py."""
from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from chalicelib.core.clock import Clock
from chalicelib.core.outbound import ALLOW_LOCAL_PEERS
from chalicelib.networks.base import ChannelContext, PublishRequest
from chalicelib.networks.discord import MAX_CONTENT, DiscordAdapter, make_adapter
from tests.fakes.discord_api import CHANNEL_ID, GUILD_ID, WEBHOOK_ID, DiscordApi
from tests.functional.networks.contract.case import ErrorKind, MediaKind
from tests.functional.networks.contract.cases.telegram import MEDIA

EXECUTE = r"/api/v10/webhooks/[0-9]+/[^/]+"


class DiscordCase:
    network = "discord"
    media_kinds: tuple[MediaKind, ...] = ("image", "images", "video", "document")
    error_kinds: tuple[ErrorKind, ...] = ("throttled", "revoked", "rejected")
    looks_before_retry = False  # a webhook cannot list its channel: a lost answer is settled `unknown`

    def __init__(self, fake: DiscordApi, clock: Clock) -> None:
        self.fake = fake
        self.clock = clock
        # The fake is on 127.0.0.1: the outbound policy's local-peer exception (HERALD_ALLOW_PRIVATE_URLS=1).
        self._adapter = make_adapter(clock=clock, base_url=f"{fake.url}/api", policy=ALLOW_LOCAL_PEERS)

    def adapter(self) -> DiscordAdapter:
        return self._adapter

    def channel(self) -> ChannelContext:
        return ChannelContext("ws_contract", "ch_discord", "discord",
                              {"webhook_id": WEBHOOK_ID, "channel_id": CHANNEL_ID, "guild_id": GUILD_ID},
                              {"webhook_url": self.fake.webhook_url()})

    def request(self, delivery_id: str, text: str, media_kind: MediaKind | None = None,
                progress: dict[str, Any] | None = None,
                record_progress: Callable[[Any], None] | None = None) -> PublishRequest:
        return PublishRequest(delivery_id=delivery_id, text=text,
                              media=MEDIA[media_kind]() if media_kind else (),
                              progress=progress or {}, record_progress=record_progress or (lambda _p: None))

    def too_long_text(self) -> str:
        return "a" * (MAX_CONTENT + 1)

    def script_error(self, kind: ErrorKind) -> None:
        answers = {"throttled": (429, {"message": "You are being rate limited.", "retry_after": 1.5,
                                       "global": False},
                                 {"X-RateLimit-Limit": "5", "X-RateLimit-Remaining": "0",
                                  "X-RateLimit-Reset-After": "1.5", "X-RateLimit-Bucket": "abcd1234"}),
                   "revoked": (404, {"message": "Unknown Webhook", "code": 10015}, {}),
                   "rejected": (400, {"message": "Invalid Form Body", "code": 50035,
                                      "errors": {"content": {"_errors": [
                                          {"code": "BASE_TYPE_MAX_LENGTH",
                                           "message": "Must be 2000 or fewer in length."}]}}}, {})}
        status, body, headers = answers[kind]
        self.fake.fail("POST", EXECUTE, status, body, headers)

    def drop_next_publish(self) -> None:
        self.fake.drop_after("POST", EXECUTE)

    def published(self) -> list[str]:
        return [message["id"] for message in self.fake.messages]

    def settle(self) -> None:
        """Discord processes nothing after answering."""


@contextmanager
def start(clock: Clock) -> Iterator[DiscordCase]:
    with DiscordApi() as fake:
        yield DiscordCase(fake, clock)
