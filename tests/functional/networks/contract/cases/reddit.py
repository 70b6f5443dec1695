"""The Reddit row of the network contract: the adapter against tests/fakes/reddit_api.py.

Herald publishes text and link submissions to Reddit: no media kinds.
"""
from __future__ import annotations

from collections.abc import Callable
from contextlib import contextmanager
from typing import Any

from chalicelib.core.clock import Clock
from chalicelib.networks import reddit
from chalicelib.networks.base import ChannelContext, NetworkAdapter, PublishRequest
from tests.fakes.local_http import Answer
from tests.fakes.reddit_api import RedditApi
from tests.functional.networks.contract.case import CaseIterator, ErrorKind, MediaKind

TOKEN = "reddit-contract"
USER_ID = "2x9c"
NAME = "herald_contract"
SUBREDDIT = "heraldtest"
USER_AGENT = "web:com.herald.contract:v1.0.0 (by /u/herald_ops)"


def _submit_error(code: str, message: str, field: str) -> Answer:
    return Answer(200, {"json": {"errors": [[code, message, field]]}})


ERRORS: dict[str, Answer] = {
    "throttled": _submit_error("RATELIMIT", "you are doing that too much. try again in 4 minutes.", "ratelimit"),
    "revoked": Answer(401, {"message": "Unauthorized", "error": 401},
                      {"www-authenticate": 'Bearer realm="reddit", error="invalid_token"'}),
    "rejected": _submit_error("SUBREDDIT_NOTALLOWED", "you aren't allowed to post there.", "sr"),
}


class RedditCase:
    network = "reddit"
    media_kinds: tuple[MediaKind, ...] = ()
    error_kinds: tuple[ErrorKind, ...] = ("throttled", "revoked", "rejected")
    looks_before_retry = True

    def __init__(self, fake: RedditApi, clock: Clock) -> None:
        self.fake = fake
        self.clock = clock
        self._adapter = reddit.make_adapter(clock=clock, base_url=fake.url, user_agent=USER_AGENT)

    def adapter(self) -> NetworkAdapter:
        return self._adapter

    def channel(self) -> ChannelContext:
        return ChannelContext("ws-contract", "ch-reddit", "reddit",
                              {"user_id": USER_ID, "username": NAME, "subreddit": SUBREDDIT},
                              {"access_token": TOKEN})

    def request(self, delivery_id: str, text: str, media_kind: MediaKind | None = None,
                progress: dict[str, Any] | None = None,
                record_progress: Callable[[Any], None] | None = None) -> PublishRequest:
        if media_kind is not None:
            raise ValueError("Herald publishes no media to Reddit")
        return PublishRequest(delivery_id, text, options={"title": f"Contract {delivery_id}"[:300]},
                              progress=progress or {}, record_progress=record_progress or (lambda _p: None),
                              first_attempt_at=self.clock.now())

    def too_long_text(self) -> str:
        return "x" * (reddit.MAX_TEXT + 1)

    def script_error(self, kind: ErrorKind) -> None:
        answer = ERRORS[kind]
        self.fake.fail("POST", "/api/submit", answer.status, answer.body, dict(answer.headers))

    def drop_next_publish(self) -> None:
        self.fake.drop_after("POST", "/api/submit")

    def published(self) -> list[str]:
        return [f"t3_{item.id}" for item in self.fake.published(NAME)]

    def settle(self) -> None:
        """Text and links need no processing."""


@contextmanager
def start(clock: Clock) -> CaseIterator:
    with RedditApi(clock) as fake:
        fake.user(TOKEN, USER_ID, NAME)
        fake.subreddit(SUBREDDIT)
        yield RedditCase(fake, clock)
