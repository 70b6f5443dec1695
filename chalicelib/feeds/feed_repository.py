"""Feeds and their items (tables.py has the keys)."""
from __future__ import annotations

import builtins
import zlib
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field

from pynamodb.exceptions import DoesNotExist, PutError

from chalicelib.core.pages import decode_cursor, encode_cursor
from chalicelib.feeds.tables import FeedItemRecord, FeedRecord

FETCH_SHARDS = 4


@dataclass
class Feed:
    workspace_id: str
    feed_id: str
    url: str
    template: str
    channel_ids: list[str]
    mode: str
    created_at: str
    updated_at: str
    hashtags: list[str] = field(default_factory=list)
    status: str = "active"
    take_existing: bool = False
    etag: str | None = None
    last_modified: str | None = None
    fetched_once: bool = False
    last_fetched_at: str | None = None
    last_error: str | None = None
    failing_since: str | None = None
    failures: int = 0
    items_taken: int = 0
    next_fetch_at: str | None = None

    @property
    def key(self) -> str:
        return feed_key(self.workspace_id, self.feed_id)


@dataclass
class FeedItemRow:
    feed_key: str
    item_key: str
    seen_at: str
    guid: str | None = None
    link: str | None = None
    title: str = ""
    published_at: str | None = None
    status: str = "new"
    post_id: str | None = None
    reason: str | None = None


def feed_key(workspace_id: str, feed_id: str) -> str:
    return f"{workspace_id}#{feed_id}"


def fetch_shard(feed_id: str) -> str:
    return f"fetch#{zlib.crc32(feed_id.encode()) % FETCH_SHARDS}"


def _feed(r: FeedRecord) -> Feed:
    return Feed(r.workspace_id, r.feed_id, r.url, r.template, list(r.channel_ids or []), r.mode, r.created_at,
                r.updated_at, list(r.hashtags or []), r.status, r.take_existing == "yes", r.etag, r.last_modified,
                r.fetched_once == "yes", r.last_fetched_at, r.last_error, r.failing_since, int(r.failures or 0),
                int(r.items_taken or 0), r.next_fetch_at)


def _feed_record(feed: Feed) -> FeedRecord:
    values = asdict(feed)
    values["take_existing"] = "yes" if feed.take_existing else "no"
    values["fetched_once"] = "yes" if feed.fetched_once else "no"
    active = feed.status == "active"
    values["next_fetch_at"] = feed.next_fetch_at if active else None  # a paused feed leaves the index
    return FeedRecord(**values, fetch_shard=fetch_shard(feed.feed_id) if active and feed.next_fetch_at else None)


def _item(r: FeedItemRecord) -> FeedItemRow:
    return FeedItemRow(r.feed_key, r.item_key, r.seen_at, r.guid, r.link, r.title, r.published_at, r.status,
                       r.post_id, r.reason)


def _lost_the_condition(exc: Exception) -> bool:
    return getattr(exc, "cause_response_code", "") == "ConditionalCheckFailedException"


class FeedRepository:
    def save(self, feed: Feed) -> None:
        _feed_record(feed).save()

    def create(self, feed: Feed) -> None:
        _feed_record(feed).save(condition=FeedRecord.feed_id.does_not_exist())

    def get(self, workspace_id: str, feed_id: str) -> Feed | None:
        try:
            return _feed(FeedRecord.get(workspace_id, feed_id, consistent_read=True))
        except DoesNotExist:
            return None

    def list(self, workspace_id: str, limit: int, cursor: str | None) -> tuple[builtins.list[Feed], str | None]:
        start = decode_cursor(cursor, {"workspace_id": workspace_id}, ("workspace_id", "feed_id"))
        result = FeedRecord.query(workspace_id, limit=limit, last_evaluated_key=start)
        return [_feed(r) for r in result], encode_cursor(result.last_evaluated_key)

    def delete(self, feed: Feed) -> None:
        FeedRecord(feed.workspace_id, feed.feed_id).delete()
        with FeedItemRecord.batch_write() as batch:
            for record in FeedItemRecord.query(feed.key, attributes_to_get=["feed_key", "item_key"]):
                batch.delete(record)

    def due(self, shard: int, now: str) -> Iterator[Feed]:
        """Active feeds of one shard whose next read is due, read whole (the index projects every field)."""
        for record in FeedRecord.due_fetch.query(f"fetch#{shard}", FeedRecord.next_fetch_at <= now):
            yield _feed(record)

    # -- items ---------------------------------------------------------------

    def take_item(self, item: FeedItemRow) -> FeedItemRow | None:
        """Puts the item if it was never seen (None), else answers the one stored: an item is taken once."""
        try:
            FeedItemRecord(**asdict(item)).save(condition=FeedItemRecord.item_key.does_not_exist())
            return None
        except PutError as exc:
            if not _lost_the_condition(exc):
                raise
        return _item(FeedItemRecord.get(item.feed_key, item.item_key, consistent_read=True))

    def set_item_outcome(self, item: FeedItemRow) -> None:
        FeedItemRecord(**asdict(item)).save()

    def items(self, key: str, limit: int, cursor: str | None) -> tuple[builtins.list[FeedItemRow], str | None]:
        start = decode_cursor(cursor, {"feed_key": key}, ("feed_key", "item_key"))
        result = FeedItemRecord.query(key, limit=limit, last_evaluated_key=start)
        return [_item(r) for r in result], encode_cursor(result.last_evaluated_key)
