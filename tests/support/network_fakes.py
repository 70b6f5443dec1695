"""A stand-in for requests.Session that records what an adapter sent."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from requests.structures import CaseInsensitiveDict

from chalicelib.core.clock import FixedClock
from chalicelib.networks.base import ChannelContext
from tests.support.events import event_bytes, load_event

__all__ = ["event_bytes", "load_event"]  # the network tests' helpers, from one place

def fixed_clock() -> FixedClock:
    return FixedClock(datetime(2026, 3, 2, 9, 30, tzinfo=UTC))


def channel(network: str, settings: dict[str, Any] | None = None, token: str = "tok-123") -> ChannelContext:
    return ChannelContext(
        workspace_id="ws_1",
        channel_id="ch_1",
        network=network,
        settings=settings or {},
        credentials={"access_token": token},
    )


class FakeResponse:
    def __init__(
        self,
        status_code: int = 200,
        body: Any = None,
        headers: dict[str, str] | None = None,
        text: str | None = None,
    ) -> None:
        self.status_code = status_code
        self._body = body
        self.headers = CaseInsensitiveDict(headers or {})
        self.text = text if text is not None else (json.dumps(body) if body is not None else "")

    def json(self) -> Any:
        if self._body is None:
            raise ValueError("no JSON body")
        return self._body


@dataclass
class SentRequest:
    method: str
    url: str
    headers: dict[str, str]
    json: Any
    data: Any
    params: Any


@dataclass
class FakeSession:
    """Answers with the queued responses (or raises queued exceptions), in order."""

    answers: list[Any] = field(default_factory=list)
    sent: list[SentRequest] = field(default_factory=list)

    def request(
        self,
        method: str,
        url: str,
        *,
        headers: dict[str, str] | None = None,
        json: Any = None,
        data: Any = None,
        params: Any = None,
        timeout: Any = None,
    ) -> FakeResponse:
        self.sent.append(SentRequest(method, url, dict(headers or {}), json, data, params))
        answer = self.answers.pop(0)
        if isinstance(answer, BaseException):
            raise answer
        return answer
