"""Feeds through the routes and the fetch_feeds job, against a feed publisher on 127.0.0.1: conditional GETs,
each item taken once (edited, reordered, a feed failing and coming back), RSS 2.0 and Atom, and the outbound
policy's refusals."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from xml.sax.saxutils import escape

import pytest

from chalicelib.core.outbound import OutboundPolicy
from chalicelib.feeds.feeds import FeedService
from tests.fakes.feed_server import FeedServer
from tests.support.events import event_bytes, load_event
from tests.support.factories import connect_sandbox
from tests.support.http import Api


@pytest.fixture
def feeds() -> Iterator[FeedServer]:
    with FeedServer() as server:
        yield server


@pytest.fixture
def channel(api: Api, local_peers: Any) -> dict[str, Any]:
    return connect_sandbox(api, "Blog channel")


def rss(*items: tuple[str, str]) -> bytes:
    """An RSS 2.0 document of (guid, title) items, each linking to /posts/<guid>."""
    body = "".join(f"<item><title>{escape(title)}</title><link>https://blog.example/posts/{guid}</link>"
                   f"<guid isPermaLink=\"false\">{guid}</guid></item>" for guid, title in items)
    return (f'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Blog</title>'
            f"<link>https://blog.example/</link><description>News</description>{body}</channel></rss>").encode()


def run_fetch() -> dict[str, Any]:
    from chalicelib.feeds.feed_jobs import fetch_feeds

    return dict(fetch_feeds(load_event("aws", "eventbridge_scheduled_event.json"), None))


def subscribe(api: Api, url: str, channel_ids: list[str], **fields: Any) -> dict[str, Any]:
    answer = api.post("/feeds", {"url": url, "channel_ids": channel_ids, **fields})
    assert answer.status_code == 201, answer.body
    return dict(answer.json)


def texts(api: Api) -> list[str]:
    return sorted(post["text"] for post in api.get("/posts?limit=100").json["items"])


def items(api: Api, feed_id: str) -> list[dict[str, Any]]:
    return list(api.get(f"/feeds/{feed_id}/items?limit=100").json["items"])


def test_a_feed_makes_a_draft_of_each_new_item_once_and_reads_again_conditionally(
        api: Api, deps: Any, clock: Any, channel: dict[str, Any], feeds: FeedServer) -> None:
    feeds.publish("blog", rss(("p2", "Second"), ("p1", "First")))
    feed = subscribe(api, feeds.url_of("blog"), [channel["id"]], template="{title} {link}", hashtags=["news"])

    assert run_fetch()["feeds"] == 1
    assert {i["status"] for i in items(api, feed["id"])} == {"skipped"}  # there before the feed was added
    assert texts(api) == []

    feeds.publish("blog", rss(("p3", "Third"), ("p2", "Second"), ("p1", "First")))
    clock.advance(minutes=15)
    assert run_fetch()["items_taken"] == 1
    [post] = api.get("/posts").json["items"]
    assert (post["status"], post["text"], post["channel_ids"]) == \
        ("draft", "Third https://blog.example/posts/p3 #news", [channel["id"]])
    [taken] = [i for i in items(api, feed["id"]) if i["status"] == "posted"]
    assert (taken["guid"], taken["post_id"]) == ("p3", post["id"])

    clock.advance(minutes=15)
    assert run_fetch() == {"feeds": 1, "not_modified": 1, "failed": 0, "items_taken": 0}
    last = feeds.calls("GET", "/feeds/blog")[-1]
    _body, etag, modified = feeds.documents["blog"]
    assert (last.headers["if-none-match"], last.headers["if-modified-since"]) == (etag, modified)
    assert len(texts(api)) == 1
    assert api.get(f"/feeds/{feed['id']}").json["items_taken"] == 3


def test_an_item_the_feed_edits_or_moves_is_not_taken_again(
        api: Api, clock: Any, channel: dict[str, Any], feeds: FeedServer) -> None:
    feeds.publish("blog", rss(("p2", "Second"), ("p1", "First")))
    subscribe(api, feeds.url_of("blog"), [channel["id"]], take_existing=True)
    run_fetch()
    assert texts(api) == ["First https://blog.example/posts/p1", "Second https://blog.example/posts/p2"]

    feeds.publish("blog", rss(("p1", "First, corrected"), ("p2", "Second")))  # edited and reordered
    clock.advance(minutes=15)

    assert run_fetch()["items_taken"] == 0
    assert texts(api) == ["First https://blog.example/posts/p1", "Second https://blog.example/posts/p2"]


def test_a_failing_feed_says_why_and_makes_no_duplicates_when_it_comes_back(
        api: Api, clock: Any, channel: dict[str, Any], feeds: FeedServer) -> None:
    feeds.publish("blog", rss(("p1", "First")))
    feed = subscribe(api, feeds.url_of("blog"), [channel["id"]], take_existing=True)
    run_fetch()
    failed_at = clock.advance(minutes=15)
    feeds.fail("GET", "/feeds/blog", 503)

    assert run_fetch()["failed"] == 1
    shown = api.get(f"/feeds/{feed['id']}").json
    assert (shown["last_error"], shown["failing_since"]) == ("the feed answered HTTP 503",
                                                             failed_at.strftime("%Y-%m-%dT%H:%M:%SZ"))

    feeds.publish("blog", b"<html><body>Maintenance</body></html>")
    clock.advance(hours=1)
    run_fetch()
    shown = api.get(f"/feeds/{feed['id']}").json
    assert "not RSS 2.0 or Atom" in shown["last_error"]
    assert shown["failing_since"] == failed_at.strftime("%Y-%m-%dT%H:%M:%SZ")  # since the first failure

    feeds.publish("blog", rss(("p2", "Second"), ("p1", "First")))
    clock.advance(hours=1)
    assert run_fetch()["items_taken"] == 1
    shown = api.get(f"/feeds/{feed['id']}").json
    assert (shown["last_error"], shown["failing_since"]) == (None, None)
    assert texts(api) == ["First https://blog.example/posts/p1", "Second https://blog.example/posts/p2"]


def test_rss_and_atom_documents_become_posts_with_their_titles_links_and_summaries(
        api: Api, channel: dict[str, Any], feeds: FeedServer) -> None:
    feeds.publish("rss", event_bytes("feeds", "rss2_blog.xml"))
    feeds.publish("atom", event_bytes("feeds", "atom_news.xml"))
    subscribe(api, feeds.url_of("rss"), [channel["id"]], take_existing=True, template="{title}\n{summary}\n{link}")
    subscribe(api, feeds.url_of("atom"), [channel["id"]], take_existing=True)

    assert run_fetch()["items_taken"] == 4
    assert texts(api) == [
        "Bahar menüsü geldi: lavantalı latte\nLavanta ve vanilya ile yeni latte bugün tüm mağazalarda.\n"
        "https://blog.kahvedunyasi.example/2026/03/bahar-menusu",
        "Our 2025 in numbers https://acme.example/blog/2026/01/year-in-numbers",
        f"Shipping faster builds {feeds.url}/blog/2026/03/faster-builds",  # relative: against the feed's URL
        "Şubat'ın en çok okunan tarifleri\nSoğuk demleme, Türk kahvesi ve daha fazlası.\n"
        "https://blog.kahvedunyasi.example/2026/02/en-cok-okunanlar",
    ]


def test_an_item_too_long_for_the_network_is_shortened_to_fit_never_its_link(
        api: Api, channel: dict[str, Any], feeds: FeedServer) -> None:
    feeds.publish("blog", rss(("long", "A" * 6000)))
    feed = subscribe(api, feeds.url_of("blog"), [channel["id"]], take_existing=True)

    run_fetch()

    [post] = api.get("/posts").json["items"]
    assert len(post["text"]) <= 5000 and post["text"].endswith("A… https://blog.example/posts/long")
    [item] = items(api, feed["id"])
    assert (item["status"], item["post_id"]) == ("posted", post["id"])


def test_an_item_whose_post_is_refused_is_recorded_with_the_reason(
        api: Api, channel: dict[str, Any], feeds: FeedServer) -> None:
    feeds.publish("blog", rss(("p1", "")))
    feed = subscribe(api, feeds.url_of("blog"), [channel["id"]], take_existing=True, template="{title}")

    run_fetch()

    [item] = items(api, feed["id"])
    assert (item["status"], item["post_id"]) == ("invalid", None)
    assert item["reason"] == "text: is empty and the post has no media"
    assert texts(api) == []


def test_a_document_declaring_entities_is_refused_not_expanded(
        api: Api, channel: dict[str, Any], feeds: FeedServer) -> None:
    feeds.publish("bomb", event_bytes("feeds", "billion_laughs.xml"))
    feed = subscribe(api, feeds.url_of("bomb"), [channel["id"]], take_existing=True)

    run_fetch()

    assert "declares entities" in api.get(f"/feeds/{feed['id']}").json["last_error"]
    assert items(api, feed["id"]) == []


def test_a_private_address_is_refused_when_subscribed_and_when_a_name_resolves_to_one(
        api: Api, deps: Any, clock: Any) -> None:
    sandbox = connect_sandbox(api)
    refused = api.post("/feeds", {"url": "https://127.0.0.1/feed", "channel_ids": [sandbox["id"]]})
    assert (refused.status_code, refused.json["error"]["details"][0]["field"]) == (422, "url")
    assert api.get("/feeds").json["items"] == []

    feed = subscribe(api, "https://feeds.example.com/rss", [sandbox["id"]])
    inside = OutboundPolicy(resolver=lambda _host, _port: ["10.1.2.3"])
    report = FeedService(deps.feed_repository, deps.posts, inside, clock).fetch_due()

    assert report.failed == 1
    assert api.get(f"/feeds/{feed['id']}").json["last_error"] == "refused: the address is a private address"


def test_feeds_are_the_workspaces_own_and_bad_fields_are_refused(
        api: Api, client: Any, other_workspace: Any, channel: dict[str, Any], feeds: FeedServer) -> None:
    feed = subscribe(api, feeds.url_of("blog"), [channel["id"]])
    other = Api(client, other_workspace.headers())
    assert other.get(f"/feeds/{feed['id']}").status_code == 404
    assert other.patch(f"/feeds/{feed['id']}", {"status": "paused"}).status_code == 404
    assert other.delete(f"/feeds/{feed['id']}").status_code == 404
    assert other.get(f"/feeds/{feed['id']}/items").status_code == 404
    assert other.post("/feeds", {"url": feeds.url_of("x"), "channel_ids": [channel["id"]]}).status_code == 422

    bad = api.post("/feeds", {"url": feeds.url_of("x"), "channel_ids": [channel["id"]], "template": "{titel}"})
    assert (bad.status_code, bad.json["error"]["details"][0]["field"]) == (422, "template")

    paused = api.patch(f"/feeds/{feed['id']}", {"status": "paused"}).json
    assert (paused["status"], paused["next_fetch_at"]) == ("paused", None)
    feeds.publish("blog", rss(("p1", "First")))
    assert run_fetch()["feeds"] == 0  # a paused feed is not read
    assert api.delete(f"/feeds/{feed['id']}").status_code == 204
    assert api.get(f"/feeds/{feed['id']}").status_code == 404


def test_a_run_out_of_time_leaves_the_other_due_feeds_to_the_next_run(
        api: Api, deps: Any, clock: Any, channel: dict[str, Any], feeds: FeedServer) -> None:
    feeds.publish("blog", rss(("p1", "First")))
    first = subscribe(api, feeds.url_of("blog"), [channel["id"]])
    second = subscribe(api, feeds.url_of("blog"), [channel["id"]])
    ticks = iter([0.0, 0.0, 31.0])  # the run's start, before the first feed, before the second

    report = FeedService(deps.feed_repository, deps.posts, deps.outbound, clock, monotonic=lambda: next(ticks),
                         budget_s=30.0).fetch_due()

    assert report.feeds == 1
    read = [api.get(f"/feeds/{f['id']}").json["last_fetched_at"] for f in (first, second)]
    assert sum(1 for fetched_at in read if fetched_at is not None) == 1
    assert run_fetch()["feeds"] == 1  # the one left, still due


def test_a_queue_feed_puts_its_new_items_in_the_channels_next_free_slots(
        api: Api, clock: Any, channel: dict[str, Any], feeds: FeedServer) -> None:
    slots = {"slots": [{"weekday": "monday", "time": "09:00"}, {"weekday": "thursday", "time": "15:30"}]}
    assert api.call("PUT", f"/channels/{channel['id']}/queue", slots).status_code == 200
    feeds.publish("blog", rss(("p1", "First")))
    subscribe(api, feeds.url_of("blog"), [channel["id"]], take_existing=True, mode="queue")

    run_fetch()

    [post] = api.get("/posts").json["items"]
    assert post["status"] == "scheduled" and post["publish_at"] is not None
    queued = api.get(f"/channels/{channel['id']}/queue").json["posts"]
    assert [p["post_id"] for p in queued] == [post["id"]]
