"""Herald's Mastodon adapter against a real Mastodon API server: the `mastodon-mock` package (a FastAPI app on
SQLite, tested by its authors against Mastodon.py), started on 127.0.0.1 by this module and stopped after it.

What the package does not model stays with the local fake (tests/fakes/mastodon_server.py and the contract row):
media that answers 202 and is processed later, the one-hour window of an Idempotency-Key, an answer lost after
the status was created (its `timeout` fault holds the request *before* handling it, for at least 30 s), and
rate-limit headers as ISO 8601 times. tests/events/mastodon/README.md says why in full.
"""
from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import requests

from chalicelib.core.clock import FixedClock
from chalicelib.core.outbound import ALLOW_LOCAL_PEERS
from chalicelib.networks import mastodon
from chalicelib.networks.base import (
    AmbiguousError,
    AuthError,
    ChannelContext,
    MediaItem,
    PermanentError,
    PublishRequest,
    ReplyRequest,
    RetryableError,
)

mock_server = pytest.importorskip("mastodon_mock.testing.server", reason="mastodon-mock is in requirements-dev.txt")

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 2
TOKEN = "alice_token"  # the package's default seed: alice, bob and carol with these tokens


@pytest.fixture(scope="module")
def server() -> Iterator[Any]:
    with mock_server.MockServer(host="127.0.0.1") as running:
        yield running


@pytest.fixture(autouse=True)
def fresh(server: Any) -> None:
    """Every test starts from the seed, with no fault rules left."""
    requests.post(f"{server.base_url}/api/v1/_mock/reset", timeout=5).raise_for_status()
    requests.delete(f"{server.base_url}/api/v1/_mock/faults", timeout=5).raise_for_status()


@pytest.fixture
def adapter() -> mastodon.MastodonAdapter:
    clock = FixedClock(datetime.now(UTC))
    return mastodon.make_adapter(clock=clock, sleep=lambda _s: None, timeout=(2.0, 10.0), policy=ALLOW_LOCAL_PEERS)


def channel(server: Any, token: str = TOKEN) -> ChannelContext:
    return ChannelContext("ws_i", "ch_md", "mastodon", {}, {"instance_url": server.base_url, "access_token": token})


def statuses_of(server: Any, account_id: str) -> list[dict[str, Any]]:
    answer = requests.get(f"{server.base_url}/api/v1/accounts/{account_id}/statuses", timeout=5,
                          headers={"Authorization": f"Bearer {TOKEN}"})
    answer.raise_for_status()
    return list(answer.json())


def fault(server: Any, effect: dict[str, Any], path: str = "/api/v1/statuses") -> None:
    rule = {"match": {"methods": ["POST"], "path": path}, "effect": effect, "count": 1}
    requests.post(f"{server.base_url}/api/v1/_mock/faults", json=rule, timeout=5).raise_for_status()


def test_connecting_reads_the_account_and_the_instance_limits(server: Any, adapter: Any) -> None:
    described = adapter.describe_account(channel(server))
    assert described["handle"] == "alice@127.0.0.1"
    assert described["account_id"]
    assert described["max_characters"] == adapter.instance_config(server.base_url).max_characters > 0


def test_a_status_goes_out_once_and_a_retry_with_its_key_returns_it(server: Any, adapter: Any) -> None:
    request = PublishRequest(delivery_id="dlv-int-1", text="Doors open at 9")

    first = adapter.publish(channel(server), request)
    again = adapter.publish(channel(server), request)  # the engine's retry: same Idempotency-Key

    assert again.remote_id == first.remote_id
    account_id = adapter.describe_account(channel(server))["account_id"]
    (status,) = statuses_of(server, account_id)
    assert (status["id"], status["content"]) == (first.remote_id, "<p>Doors open at 9</p>")
    assert first.remote_url == status["url"]  # the status's public page, on the instance's own domain


def test_an_image_is_uploaded_with_its_description_and_attached(server: Any, adapter: Any) -> None:
    request = PublishRequest(delivery_id="dlv-int-2", text="Spring menu",
                             media=(MediaItem(mime="image/png", alt="A plate of asparagus", load=lambda: PNG),))

    result = adapter.publish(channel(server), request)

    status = requests.get(f"{server.base_url}/api/v1/statuses/{result.remote_id}", timeout=5).json()
    (attachment,) = status["media_attachments"]
    assert (attachment["type"], attachment["description"]) == ("image", "A plate of asparagus")
    assert requests.get(attachment["url"], timeout=5).content == PNG


def test_a_reply_threads_under_the_status_it_answers(server: Any, adapter: Any) -> None:
    bob = requests.post(f"{server.base_url}/api/v1/statuses", timeout=5, headers={"Authorization": "Bearer bob_token"},
                        json={"status": "@alice are you open today?"}).json()

    reply = adapter.reply(channel(server), ReplyRequest(reply_id="r1", text="Yes, from 9!", in_reply_to=bob["id"],
                                                        thread={"author_acct": "bob"}))

    status = requests.get(f"{server.base_url}/api/v1/statuses/{reply.remote_id}", timeout=5).json()
    assert status["in_reply_to_id"] == bob["id"]


def test_an_unknown_token_needs_reconnecting(server: Any, adapter: Any) -> None:
    with pytest.raises(AuthError, match="Reconnect"):
        adapter.publish(channel(server, token="revoked-token"), PublishRequest(delivery_id="d", text="hi"))


def test_too_long_a_status_is_refused_in_words(server: Any, adapter: Any) -> None:
    limit = adapter.instance_config(server.base_url).max_characters
    with pytest.raises(PermanentError) as refused:
        adapter.publish(channel(server), PublishRequest(delivery_id="d", text="a" * (limit + 1)))
    assert refused.value.status == 422 and "Mastodon" in refused.value.message


def test_rate_limiting_is_retried_after_what_the_server_says(server: Any, adapter: Any) -> None:
    fault(server, {"type": "ratelimit", "headers": {"Retry-After": "42"}})
    with pytest.raises(RetryableError) as throttled:
        adapter.publish(channel(server), PublishRequest(delivery_id="d", text="hi"))
    assert (throttled.value.status, throttled.value.retry_after_s) == (429, 42)


def test_a_server_error_is_retried_and_nothing_was_posted(server: Any, adapter: Any) -> None:
    fault(server, {"type": "status", "status": 503})
    with pytest.raises(RetryableError):
        adapter.publish(channel(server), PublishRequest(delivery_id="d", text="hi"))
    account_id = adapter.describe_account(channel(server))["account_id"]
    assert statuses_of(server, account_id) == []


def test_a_body_that_is_not_json_after_posting_is_ambiguous(server: Any, adapter: Any) -> None:
    fault(server, {"type": "malformed"})
    with pytest.raises(AmbiguousError):
        adapter.publish(channel(server), PublishRequest(delivery_id="d", text="hi"))
