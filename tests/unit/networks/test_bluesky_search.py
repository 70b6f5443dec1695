"""Bluesky's post search (app.bsky.feed.searchPosts) for listening rules, against the in-memory PDS+AppView.

The reference PDS in tests/integration does not answer searchPosts itself (it is an AppView method, and
the local stack runs no AppView), so the search is tested against tests/fakes/bluesky.py, which answers
with the lexicon's shapes and, like a PDS alone, 501 MethodNotImplemented when it has no search index.
"""
from __future__ import annotations

from typing import Any

import pytest

from chalicelib.core.clock import FixedClock
from chalicelib.networks.base import ChannelContext, SearchRefused
from chalicelib.networks.bluesky import make_adapter
from tests.fakes.bluesky import FakeBluesky

ME = "did:plc:alice0000000000000000000"


def view(rkey: str, text: str, at: str, handle: str = "bob.test") -> dict[str, Any]:
    return {"uri": f"at://did:plc:bob/app.bsky.feed.post/{rkey}", "cid": f"bafy{rkey}",
            "author": {"did": "did:plc:bob", "handle": handle, "displayName": "Bob"},
            "record": {"$type": "app.bsky.feed.post", "text": text, "createdAt": at}, "indexedAt": at}


@pytest.fixture
def bluesky() -> FakeBluesky:
    return FakeBluesky(did=ME)


def context() -> ChannelContext:
    return ChannelContext("ws_1", "ch_1", "bluesky", {}, {"service_url": "https://pds.example.com",
                                                          "handle": "alice.test", "app_password": "app-pass-1234"},
                          lambda _c: None)


def test_found_posts_come_with_their_author_and_link_and_the_next_search_starts_at_the_newest(
        bluesky: FakeBluesky, clock: FixedClock) -> None:
    bluesky.search_index = [view("3k1", "Herald coffee is great", "2026-03-01T10:00:00.000Z"),
                            view("3k2", "herald again", "2026-03-01T11:00:00.000Z"),
                            view("3k3", "nothing to see", "2026-03-01T12:00:00.000Z")]
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
