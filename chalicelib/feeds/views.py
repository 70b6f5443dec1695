"""Feeds and their items as the API shows them."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the table models load when a handler runs, not with the app
    from chalicelib.feeds.feed_repository import Feed, FeedItemRow


def feed_view(feed: Feed) -> dict[str, Any]:
    return {"id": feed.feed_id, "url": feed.url, "template": feed.template, "hashtags": feed.hashtags,
            "channel_ids": feed.channel_ids, "mode": feed.mode, "status": feed.status,
            "take_existing": feed.take_existing, "last_fetched_at": feed.last_fetched_at,
            "next_fetch_at": feed.next_fetch_at if feed.status == "active" else None,
            "last_error": feed.last_error, "failing_since": feed.failing_since, "items_taken": feed.items_taken,
            "created_at": feed.created_at, "updated_at": feed.updated_at}


def item_view(item: FeedItemRow) -> dict[str, Any]:
    return {"key": item.item_key, "guid": item.guid, "link": item.link, "title": item.title,
            "published_at": item.published_at, "seen_at": item.seen_at, "status": item.status,
            "post_id": item.post_id, "reason": item.reason}
