"""The engine's states against the networks' fakes: a container still processing waits for a delayed message
(never a sleeping worker), one that errors fails clearly, a look that finds nothing retries and a look the
network could not answer is made again, and a full rate budget defers a delivery instead of meeting a 429."""
from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from chalicelib.core.clock import to_rfc3339
from chalicelib.wiring import Container, use_container
from tests.support.network_publishing import IG, X_USER, Fakes, connect, container_for, network_fakes, run_engine

MP4 = b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 64


@pytest.fixture
def fakes(clock: Any) -> Any:
    with network_fakes(clock) as started:
        yield started


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def deps(aws: dict[str, Any], clock: Any, fakes: Fakes, sleeps: list[float]) -> Container:
    container = container_for(aws, clock, fakes)
    container._sleep = sleeps.append
    return use_container(container)


def schedule(api: Any, clock: Any, body: dict[str, Any]) -> dict[str, Any]:
    answer = api.post("/posts", {**body, "publish_at": to_rfc3339(clock.now() + timedelta(seconds=40))})
    assert answer.status_code == 201, answer.body
    return answer.json


def delivery_of(api: Any, post: dict[str, Any]) -> dict[str, Any]:
    [delivery] = api.get(f"/posts/{post['id']}").json["deliveries"]
    return delivery


def first_message(deps: Container, clock: Any) -> str:
    """The tick, then the worker on the one message it queued."""
    deps.engine.publish_due_deliveries()
    [(message, delay)] = deps.publish_queue.take()
    clock.advance(delay + 1)
    return deps.engine.publish_delivery(message)


def test_a_reel_still_processing_waits_for_a_delayed_message_then_publishes_once(api, fakes, deps, clock, sleeps):
    channel = connect(api, fakes, "instagram")
    fakes.graph.host("https://cdn.herald.test/reel.mp4", MP4)
    post = schedule(api, clock, {"text": "Latte art in slow motion", "channel_ids": [channel],
                                 "media": [{"url": "https://cdn.herald.test/reel.mp4"}]})

    assert first_message(deps, clock) == "processing"

    waiting = delivery_of(api, post)
    assert (waiting["status"], waiting["attempts"]) == ("queued", 0)
    assert "Waiting for instagram" in waiting["last_error"]
    [(_message, delay)] = deps.publish_queue.sent
    assert delay >= 1 and sleeps == []  # a delayed message comes back; no worker sleeps through the wait
    assert run_engine(deps, clock) == ["published"]
    [reel] = fakes.graph.instagram_media(IG)
    assert fakes.graph.calls("POST").count(f"POST /{IG}/media") == 1  # the container was made once
    assert delivery_of(api, post)["remote_id"] == reel["id"] and fakes.graph.state.violations == []


def test_a_container_that_errors_fails_with_a_reason_a_person_can_read(api, fakes, deps, clock):
    channel = connect(api, fakes, "instagram")
    fakes.graph.host("https://cdn.herald.test/broken.mp4", b"not a video at all")
    post = schedule(api, clock, {"text": "A reel Meta cannot fetch", "channel_ids": [channel],
                                 "media": [{"url": "https://cdn.herald.test/broken.mp4"}]})

    said = run_engine(deps, clock)

    assert said[-1] == "failed"
    delivery = delivery_of(api, post)
    assert delivery["status"] == "failed" and delivery["remote_id"] is None
    assert "instagram" in delivery["last_error"].lower() or "video" in delivery["last_error"].lower()
    assert fakes.graph.instagram_media(IG) == []
    assert f"POST /{IG}/media_publish" not in fakes.graph.calls("POST")


def test_a_look_that_finds_nothing_publishes_again_once(api, fakes, deps, clock):
    channel = connect(api, fakes, "x")
    post = schedule(api, clock, {"text": "Lost on the way", "channel_ids": [channel]})
    fakes.x.drop_after("POST", "/2/tweets")

    assert first_message(deps, clock) == "retrying"
    fakes.x.tweets.clear()  # X lost it: the look will certainly not find it

    assert run_engine(deps, clock) == ["published"]
    [tweet] = [t for t in fakes.x.tweets if t.author_id == X_USER]
    assert len(fakes.x.calls("POST", "/2/tweets")) == 2
    delivery = delivery_of(api, post)
    assert (delivery["status"], delivery["remote_id"]) == ("published", tweet.id)


def test_a_look_the_network_could_not_answer_is_made_again_later(api, fakes, deps, clock):
    channel = connect(api, fakes, "x")
    post = schedule(api, clock, {"text": "Is it out?", "channel_ids": [channel]})
    fakes.x.drop_after("POST", "/2/tweets")
    fakes.x.fail("GET", r"/2/users/\d+/tweets", 503, {"title": "Service Unavailable", "status": 503})

    assert first_message(deps, clock) == "retrying"  # ambiguous: look first
    assert run_engine(deps, clock) == ["retrying", "published"]  # the look met a 503; the next one found it

    assert len(fakes.x.calls("POST", "/2/tweets")) == 1
    assert len(fakes.x.calls("GET", r"/2/users/\d+/tweets")) == 2
    [tweet] = fakes.x.tweets
    assert delivery_of(api, post)["remote_id"] == tweet.id


def test_a_full_rate_budget_defers_the_delivery_without_an_attempt(api, fakes, deps, clock, workspace):
    channel = connect(api, fakes, "linkedin")
    post = schedule(api, clock, {"text": "Third in a burst", "channel_ids": [channel]})
    row = deps.channels.get(workspace.id, channel)
    held = [deps.engine.budgets.take(row, f"worker-{n}") for n in range(2)]  # LinkedIn: 2 at once per account
    assert all(held)

    assert first_message(deps, clock) == "deferred"

    waiting = delivery_of(api, post)
    assert (waiting["status"], waiting["attempts"]) == ("queued", 0)
    assert fakes.linkedin.calls("POST", "/rest/posts") == []
    [(_message, delay)] = deps.publish_queue.sent
    assert 2 <= delay <= 6
    for n, keys in enumerate(held):
        deps.engine.budgets.give_back(keys, f"worker-{n}")
    assert run_engine(deps, clock) == ["published"]
    assert len(fakes.linkedin.posts) == 1 and delivery_of(api, post)["attempts"] == 1
