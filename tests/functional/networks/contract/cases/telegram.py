"""The Telegram row of the network contract test: the Bot API adapter against tests/fakes/telegram_api.py."""
from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from chalicelib.core.clock import Clock
from chalicelib.networks.base import ChannelContext, MediaItem, PublishRequest
from chalicelib.networks.telegram import MAX_TEXT, TelegramAdapter, make_adapter
from tests.fakes.telegram_api import BOT_TOKEN, CHANNEL_ID, CHANNEL_USERNAME, TelegramApi
from tests.functional.networks.contract.case import ErrorKind, MediaKind

JPEG = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 4
MP4 = b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 40
PDF = b"%PDF-1.4\n" + b"0123456789" * 50
SEND = r"/bot[^/]+/send[A-Za-z]+"


def streamed(mime: str, data: bytes, **extra: Any) -> MediaItem:
    chunks = lambda size: iter([data[i:i + size] for i in range(0, len(data), size)])  # noqa: E731
    return MediaItem(mime=mime, size=len(data), stream=chunks, load=lambda: data, **extra)


MEDIA: dict[str, Callable[[], tuple[MediaItem, ...]]] = {
    "image": lambda: (streamed("image/jpeg", JPEG, alt="a cup"),),
    "images": lambda: tuple(streamed("image/jpeg", JPEG + bytes([i])) for i in range(3)),
    "video": lambda: (streamed("video/mp4", MP4, duration_s=12.0, width=1080, height=1920),),
    "document": lambda: (streamed("application/pdf", PDF),),
}


class TelegramCase:
    network = "telegram"
    media_kinds: tuple[MediaKind, ...] = ("image", "images", "video", "document")
    error_kinds: tuple[ErrorKind, ...] = ("throttled", "revoked", "rejected")
    looks_before_retry = False  # a bot cannot read a channel's history: a lost answer is settled `unknown`

    def __init__(self, fake: TelegramApi, clock: Clock) -> None:
        self.fake = fake
        self.clock = clock
        self._adapter = make_adapter(clock=clock, base_url=fake.url)

    def adapter(self) -> TelegramAdapter:
        return self._adapter

    def channel(self) -> ChannelContext:
        return ChannelContext("ws_contract", "ch_telegram", "telegram",
                              {"chat_id": str(CHANNEL_ID), "chat_username": CHANNEL_USERNAME},
                              {"bot_token": BOT_TOKEN})

    def request(self, delivery_id: str, text: str, media_kind: MediaKind | None = None,
                progress: dict[str, Any] | None = None,
                record_progress: Callable[[Any], None] | None = None) -> PublishRequest:
        return PublishRequest(delivery_id=delivery_id, text=text,
                              media=MEDIA[media_kind]() if media_kind else (),
                              progress=progress or {}, record_progress=record_progress or (lambda _p: None))

    def too_long_text(self) -> str:
        return "a" * (MAX_TEXT + 1)

    def script_error(self, kind: ErrorKind) -> None:
        body = {"throttled": (429, {"ok": False, "error_code": 429, "description": "Too Many Requests: retry after 7",
                                    "parameters": {"retry_after": 7}}),
                "revoked": (401, {"ok": False, "error_code": 401, "description": "Unauthorized"}),
                "rejected": (400, {"ok": False, "error_code": 400, "description": "Bad Request: chat not found"})}
        status, answer = body[kind]
        self.fake.fail("POST", SEND, status, answer)

    def drop_next_publish(self) -> None:
        self.fake.drop_after("POST", SEND)

    def published(self) -> list[str]:
        """One id per post: an album's messages share a media_group_id, and the post is its first message."""
        ids: list[str] = []
        groups: set[str] = set()
        for message in self.fake.messages:
            group = message.get("media_group_id")
            if group in groups:
                continue
            if group:
                groups.add(group)
            ids.append(str(message["message_id"]))
        return ids

    def settle(self) -> None:
        """Telegram processes nothing after answering."""


@contextmanager
def start(clock: Clock) -> Iterator[TelegramCase]:
    with TelegramApi() as fake:
        yield TelegramCase(fake, clock)
