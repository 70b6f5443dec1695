"""Feed documents into items (chalicelib/feeds/parsing.py) and an item into a post's text (feeds.render)."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest

from chalicelib.feeds.feeds import render, template_problem
from chalicelib.feeds.parsing import FeedError, FeedItem, parse_feed
from tests.support.events import event_bytes


def test_rss_items_keep_their_guid_link_plain_title_summary_and_utc_date() -> None:
    first, second = parse_feed(event_bytes("feeds", "rss2_blog.xml"))

    assert (first.guid, first.link, first.title) == ("https://blog.kahvedunyasi.example/?p=1042",
                                                     "https://blog.kahvedunyasi.example/2026/03/bahar-menusu",
                                                     "Bahar menüsü geldi: lavantalı latte")
    assert first.summary == "Lavanta ve vanilya ile yeni latte bugün tüm mağazalarda."
    assert first.published == datetime(2026, 3, 2, 5, 0, tzinfo=UTC)
    assert second.title == "Şubat'ın en çok okunan tarifleri"


def test_atom_entries_take_their_id_the_alternate_link_resolved_and_content_when_there_is_no_summary() -> None:
    first, second = parse_feed(event_bytes("feeds", "atom_news.xml"), "https://acme.example/blog/atom.xml")

    assert (first.guid, first.link, first.title) == ("tag:acme.example,2026-03-02:/blog/faster-builds",
                                                     "https://acme.example/blog/2026/03/faster-builds",
                                                     "Shipping faster builds")
    assert first.published == datetime(2026, 3, 2, 7, 30, tzinfo=UTC)
    assert (second.summary, second.published) == ("Twelve releases, one outage, lots of coffee.",
                                                  datetime(2026, 1, 5, 9, 0, tzinfo=UTC))


@pytest.mark.parametrize(("document", "reason"), [
    (event_bytes("feeds", "billion_laughs.xml"), "declares entities"),
    (b"<html><body>hi</body></html>", "root element is <html>"),
    (b"<rss version='2.0'><channel><item>", "not well-formed XML"),
    (b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><rss>&x;</rss>',
     "declares entities"),
])
def test_what_is_not_a_safe_feed_is_refused_with_why(document: bytes, reason: str) -> None:
    with pytest.raises(FeedError, match=reason):
        parse_feed(document)


def test_a_template_is_filled_in_and_shortened_on_its_title_never_its_link() -> None:
    item = FeedItem("g", "https://b.example/p", "A long title", "", None)

    assert render("{title} {link}", item, ["news", "#tr"]) == "A long title https://b.example/p #news #tr"
    assert render("{title} {link}", item, [], shorten_by=5) == "A long… https://b.example/p"
    assert template_problem("{title} {lnk}") is not None and template_problem("{title}\n{summary}") is None
