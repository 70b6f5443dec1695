"""Bluesky's post search (app.bsky.feed.searchPosts) for listening rules, against the in-memory PDS+AppView.

The reference PDS in tests/integration does not answer searchPosts itself (it is an AppView method), so the
search is tested against tests/fakes/bluesky.py, which answers with the lexicon's shapes and, like a PDS
alone, 501 MethodNotImplemented when it has no search index; over HTTP through tests/fakes/bluesky_server.py
(as the local stack reaches it in tests/integration/test_local_stack_business_e2e.py).
"""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib.core.clock import FixedClock, parse_rfc3339
from chalicelib.core.outbound import ALLOW_LOCAL_PEERS
from chalicelib.networks.base import ChannelContext, SearchRefused
from chalicelib.networks.bluesky import make_adapter
from tests.fakes.bluesky import FakeBluesky
from tests.fakes.bluesky_server import BlueskyServer
from tests.support.events import load_event

ME = "did:plc:alice0000000000000000000"


def view(rkey: str, text: str, at: str, handle: str = "bob.test") -> dict[str, Any]:
    return {
        "uri": f"at://did:plc:bob/app.bsky.feed.post/{rkey}",
        "cid": f"bafy{rkey}",
        "author": {"did": "did:plc:bob", "handle": handle, "displayName": "Bob"},
        "record": {"$type": "app.bsky.feed.post", "text": text, "createdAt": at},
        "indexedAt": at,
    }


@pytest.fixture
def bluesky() -> FakeBluesky:
    return FakeBluesky(did=ME)


def context() -> ChannelContext:
    return ChannelContext(
        "ws_1",
        "ch_1",
        "bluesky",
        {},
        {"service_url": "https://pds.example.com", "handle": "alice.test", "app_password": "app-pass-1234"},
        lambda _c: None,
    )


def test_found_posts_come_with_their_author_and_link_and_the_next_search_starts_at_the_newest(
    bluesky: FakeBluesky, clock: FixedClock
) -> None:
    bluesky.search_index = [
        view("3k1", "Herald coffee is great", "2026-03-01T10:00:00.000Z"),
        view("3k2", "herald again", "2026-03-01T11:00:00.000Z"),
        view("3k3", "nothing to see", "2026-03-01T12:00:00.000Z"),
    ]
    adapter = make_adapter(http=bluesky, clock=clock)

    first = adapter.search_posts(context(), ["herald"], None)
    bluesky.search_index.append(view("3k4", "Herald's new roast", "2026-03-01T13:00:00.000Z"))
    second = adapter.search_posts(context(), ["herald"], first.cursor)

    assert [p.text for p in first.posts] == ["Herald coffee is great", "herald again"]
    assert first.posts[0].author_handle == "bob.test"
    assert first.posts[0].url == "https://bsky.app/profile/bob.test/post/3k1"
    assert first.cursor == "2026-03-01T11:00:00Z"
    [asked] = bluesky.calls("app.bsky.feed.searchPosts")[1:]
    assert asked.params["since"] == ["2026-03-01T11:00:00Z"] and asked.params["sort"] == ["latest"]
    # `since` is inclusive: the newest post comes again; the searcher stores it once (by its uri).
    assert [p.remote_id.rsplit("/", 1)[1] for p in second.posts] == ["3k2", "3k4"]


def test_a_server_without_search_is_a_refusal(bluesky: FakeBluesky, clock: FixedClock) -> None:
    with pytest.raises(SearchRefused, match="does not search posts"):
        make_adapter(http=bluesky, clock=clock).search_posts(context(), ["herald"], None)


def test_the_documented_answer_read_over_http_gives_each_post_with_its_author_and_link(clock: FixedClock) -> None:
    with BlueskyServer(FakeBluesky(did=ME)) as server:
        server.bluesky.search_index = load_event("bluesky", "search_posts.json")["posts"]
        channel = ChannelContext(
            "ws_1",
            "ch_1",
            "bluesky",
            {},
            {"service_url": server.url, "handle": "alice.test", "app_password": "app-pass-1234"},
            lambda _c: None,
        )

        found = make_adapter(clock=clock, policy=ALLOW_LOCAL_PEERS).search_posts(channel, ["herald"], None)

        [asked] = server.calls("GET", "/xrpc/app.bsky.feed.searchPosts")
    assert [(p.author_handle, p.author_name, p.text) for p in found.posts] == [
        ("carol.example.com", "carol.example.com", "anyone tried the herald cold brew yet?"),
        ("bob.bsky.social", "Bob", "Herald's new single origin is lovely. Thanks @heraldcoffee.bsky.social!"),
    ]
    assert found.posts[1].url == "https://bsky.app/profile/bob.bsky.social/post/3lkd2f7bqzs2c"
    assert found.cursor == "2026-03-02T09:15:03.441Z"
    assert (asked.query, asked.headers["authorization"]) == (
        {"q": ["herald"], "sort": ["latest"], "limit": ["100"]},
        "Bearer access-1",
    )
    assert server.violations == []


def search(bluesky: FakeBluesky, **params: str) -> tuple[int, dict[str, Any]]:
    xrpc = "https://pds.example.com/xrpc"
    session = bluesky.request(
        "POST",
        f"{xrpc}/com.atproto.server.createSession",
        json={"identifier": bluesky.handle, "password": bluesky.password},
    ).json()
    answer = bluesky.request(
        "GET",
        f"{xrpc}/app.bsky.feed.searchPosts",
        params=params,
        headers={"Authorization": f"Bearer {session['accessJwt']}"},
    )
    return answer.status_code, answer.json()


def texts(body: dict[str, Any]) -> list[str]:
    return [view["record"]["text"] for view in body["posts"]]


def test_the_fake_search_takes_the_documented_parameters(bluesky: FakeBluesky) -> None:
    bluesky.handles["herald.bsky.social"] = "did:plc:herald"
    bluesky.add_search_post("herald at dawn", indexed_at=parse_rfc3339("2026-03-01T08:00:00Z"), likes=9)
    bluesky.add_search_post(
        "Herald at noon, @herald.bsky.social",
        handle="ada.test",
        indexed_at=parse_rfc3339("2026-03-01T12:00:00Z"),
        langs=["tr"],
    )
    bluesky.add_search_post("herald coffee at night", indexed_at=parse_rfc3339("2026-03-01T22:00:00Z"))

    assert texts(search(bluesky, q="herald")[1]) == [
        "herald coffee at night",
        "Herald at noon, @herald.bsky.social",
        "herald at dawn",
    ]
    assert texts(search(bluesky, q="herald", sort="top")[1])[0] == "herald at dawn"
    assert texts(search(bluesky, q="herald", since="2026-03-01T12:00:00Z", until="2026-03-01T22:00:00Z")[1]) == [
        "Herald at noon, @herald.bsky.social"
    ]  # since inclusive, until not
    assert texts(search(bluesky, q="herald", until="2026-03-01")[1]) == []
    assert (
        texts(search(bluesky, q="herald", author="ada.test")[1])
        == texts(search(bluesky, q="herald", mentions="did:plc:herald")[1])
        == texts(search(bluesky, q="herald", lang="tr")[1])
        == ["Herald at noon, @herald.bsky.social"]
    )
    assert texts(search(bluesky, q='"coffee at"')[1]) == ["herald coffee at night"]
    first = search(bluesky, q="herald", limit="2")[1]
    rest = search(bluesky, q="herald", limit="2", cursor=first["cursor"])[1]
    assert (len(first["posts"]), first["hitsTotal"], texts(rest), "cursor" in rest) == (2, 3, ["herald at dawn"], False)
    assert [
        search(bluesky, **params)[0]
        for params in ({}, {"q": "x", "limit": "101"}, {"q": "x", "sort": "new"}, {"q": "x", "since": "yesterday"})
    ] == [400] * 4
