"""The feeds tables.

- `feeds`: `workspace_id` / `feed_id`. Sparse index `due_fetch` (`fetch_shard`, `next_fetch_at`): only active
  feeds carry `fetch_shard`; the fetch job queries each shard for the feeds due (no Scan).
- `feed_items`: `feed_key` (`<workspace_id>#<feed_id>`) / `item_key` (a hash of the item's guid, id or link):
  each item is put once, conditionally, whatever the feed does to it later (edits, reordering).
"""
from __future__ import annotations

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.indexes import GlobalSecondaryIndex
from pynamodb.models import Model

from chalicelib.core.tables import index_meta, string_list, table_meta


class DueFetch(GlobalSecondaryIndex["FeedRecord"]):
    Meta = index_meta("due_fetch")
    fetch_shard = UnicodeAttribute(hash_key=True)
    next_fetch_at = UnicodeAttribute(range_key=True)


class FeedRecord(Model):
    Meta = table_meta("feeds")
    workspace_id = UnicodeAttribute(hash_key=True)
    feed_id = UnicodeAttribute(range_key=True)
    url = UnicodeAttribute()
    template = UnicodeAttribute()
    hashtags = string_list(default=list)
    channel_ids = string_list(default=list)
    mode = UnicodeAttribute(default="draft")  # draft | queue
    status = UnicodeAttribute(default="active")  # active | paused
    take_existing = UnicodeAttribute(default="no")  # yes: the items there at the first read become posts too
    etag = UnicodeAttribute(null=True)
    last_modified = UnicodeAttribute(null=True)
    fetched_once = UnicodeAttribute(default="no")
    last_fetched_at = UnicodeAttribute(null=True)
    last_error = UnicodeAttribute(null=True)
    failing_since = UnicodeAttribute(null=True)
    failures = NumberAttribute(default=0)
    items_taken = NumberAttribute(default=0)
    fetch_shard = UnicodeAttribute(null=True)
    next_fetch_at = UnicodeAttribute(null=True)
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()
    due_fetch = DueFetch()


class FeedItemRecord(Model):
    Meta = table_meta("feed_items")
    feed_key = UnicodeAttribute(hash_key=True)
    item_key = UnicodeAttribute(range_key=True)
    guid = UnicodeAttribute(null=True)
    link = UnicodeAttribute(null=True)
    title = UnicodeAttribute(default="")
    published_at = UnicodeAttribute(null=True)
    seen_at = UnicodeAttribute()
    # new (taken, no post yet) | posted | invalid (the post was refused: reason) | skipped (there before)
    status = UnicodeAttribute(default="new")
    post_id = UnicodeAttribute(null=True)
    reason = UnicodeAttribute(null=True)
