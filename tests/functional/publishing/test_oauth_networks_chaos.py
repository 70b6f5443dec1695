"""Chaos: the network does the work and the answer never comes back (the fake's `drop_after`). None of these
networks deduplicates a repeated publish, so the engine looks before retrying: each case settles `published`
once, with the id the look found, or `unknown` where the network cannot tell (a LinkedIn member's own posts,
which Herald may not read). What each case came to is measured in OUTCOMES, the table the README cites."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest

from chalicelib.core.clock import to_rfc3339
from chalicelib.wiring import Container, use_container
from tests.support.network_publishing import (
    IG,
    JPEG,
    LI_MEMBER,
    PAGE,
    THREADS_USER,
    X_USER,
    Fakes,
    connect,
    container_for,
    network_fakes,
    run_engine,
)


@pytest.fixture
def fakes(clock: Any) -> Any:
    with network_fakes(clock) as started:
        yield started


@pytest.fixture
def deps(aws: dict[str, Any], clock: Any, fakes: Fakes) -> Container:
    return use_container(container_for(aws, clock, fakes))


@dataclass(frozen=True)
class Case:
    network: str
    account_id: str | None
    body: Callable[[Fakes], dict[str, Any]]
    drop: Callable[[Fakes], None]
    # The posts the network has, read from the fake: (remote id, text) in the order they were made.
    posts: Callable[[Fakes], list[tuple[str, str]]]
    settles: str  # published (found by the look) or unknown (the network cannot tell)


def _hosted_image(fakes: Fakes) -> dict[str, Any]:
    fakes.graph.host("https://cdn.herald.test/chaos.jpg", JPEG)
    return {"media": [{"url": "https://cdn.herald.test/chaos.jpg"}]}


CASES = {
    "x": Case("x", None, lambda f: {},
              lambda f: f.x.drop_after("POST", "/2/tweets"),
              lambda f: [(t.id, t.text) for t in f.x.tweets if t.author_id == X_USER], "published"),
    "x thread": Case("x", None, lambda f: {"thread": [{"text": "2/ lost answer"}, {"text": "3/ end"}]},
                     lambda f: _drop_second_tweet(f),
                     lambda f: [(t.id, t.text) for t in f.x.tweets if t.author_id == X_USER], "published"),
    "facebook": Case("facebook", None, lambda f: {},
                     lambda f: f.graph.drop_after("POST", rf"{PAGE}/feed"),
                     lambda f: [(p["id"], p["message"]) for p in reversed(f.graph.posts(PAGE))], "published"),
    "instagram": Case("instagram", None, _hosted_image,
                      lambda f: f.graph.drop_after("POST", rf"{IG}/media_publish"),
                      lambda f: [(m["id"], m["caption"]) for m in reversed(f.graph.instagram_media(IG))],
                      "published"),
    "threads": Case("threads", None, lambda f: {},
                    lambda f: f.threads.drop_after("POST", f"/v1.0/{THREADS_USER}/threads_publish"),
                    lambda f: [(m.media_id, m.text) for m in f.threads.published(THREADS_USER)], "published"),
    "linkedin organization": Case("linkedin", None, lambda f: {},
                                  lambda f: f.linkedin.drop_after("POST", "/rest/posts"),
                                  lambda f: [(p["id"], p["commentary"]) for p in f.linkedin.posts], "published"),
    "linkedin member": Case("linkedin", f"urn:li:person:{LI_MEMBER}", lambda f: {},
                            lambda f: f.linkedin.drop_after("POST", "/rest/posts"),
                            lambda f: [(p["id"], p["commentary"]) for p in f.linkedin.posts], "unknown"),
}


def _drop_second_tweet(fakes: Fakes) -> None:
    """The first part's answer arrives, the second part's does not."""
    original = fakes.x.handle

    def handle(request: Any) -> Any:
        if request.method == "POST" and request.path == "/2/tweets" and len(fakes.x.tweets) == 1:
            fakes.x.handle = original  # type: ignore[method-assign]
            fakes.x.drop_after("POST", "/2/tweets")
        return original(request)

    fakes.x.handle = handle  # type: ignore[method-assign]


OUTCOMES: dict[str, str] = {}


@pytest.mark.parametrize("name", list(CASES))
def test_a_dropped_answer_settles_once_by_looking_or_unknown_where_the_network_cannot_tell(
        api, fakes, deps, clock, name):
    case = CASES[name]
    channel = connect(api, fakes, case.network, case.account_id)
    text = f"Chaos on {name}: the answer is lost"
    publish_at = clock.now() + timedelta(seconds=40)
    post = api.post("/posts", {"text": text, "channel_ids": [channel], "publish_at": to_rfc3339(publish_at),
                               **case.body(fakes)})
    assert post.status_code == 201, post.body
    case.drop(fakes)

    said = run_engine(deps, clock)

    made = case.posts(fakes)
    assert len([remote_id for remote_id, made_text in made if made_text == text]) == 1  # never twice
    [delivery] = api.get(f"/posts/{post.json['id']}").json["deliveries"]
    OUTCOMES[name] = delivery["status"]
    assert delivery["status"] == case.settles, (said, delivery)
    assert said[-1] == case.settles
    if case.settles == "published":
        assert delivery["remote_id"] == next(remote_id for remote_id, t in made if t == text)
        assert delivery["attempts"] <= 2
    else:
        assert delivery["remote_id"] is None and "check" in delivery["last_error"]
