"""Posts and their deliveries.

One item collection per post: `pk = <workspace_id>#<post_id>`, `sk = post` for the
post and `sk = delivery#<channel_id>` for each delivery. Indexes (all sparse):
`by_workspace` and `by_status` hold post items, `by_channel` delivery items,
`due` the deliveries the engine still has to act on.
"""
from __future__ import annotations

import json
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pynamodb.connection import Connection
from pynamodb.exceptions import TransactWriteError, UpdateError
from pynamodb.expressions.condition import Condition
from pynamodb.indexes import GlobalSecondaryIndex
from pynamodb.transactions import TransactWrite

from chalicelib.core.errors import Conflict
from chalicelib.core.pages import decode_cursor, encode_cursor
from chalicelib.publishing.tables import DeliveryRecord, PostRecord, PostTableRecord

POST_SK = "post"
DELIVERY_SK = "delivery#"
DUE_STATUSES = ("scheduled", "queued", "publishing")
UNSENT_STATUSES = ("scheduled", "queued")
FINAL_STATUSES = ("published", "failed", "unknown", "canceled")


def open_count(deliveries: list[DeliveryRow]) -> int:
    """Deliveries that will still end through the engine (those publishing included)."""
    return sum(1 for delivery in deliveries if delivery.status not in FINAL_STATUSES)
UNDATED = "~"  # sorts after every time


def key_time(moment: datetime) -> str:
    """Fixed-width UTC time with milliseconds: sorts as text in time order."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _parse(text: str | None) -> datetime | None:
    if not text:
        return None
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@dataclass
class PostRow:
    workspace_id: str
    post_id: str
    text: str
    status: str
    channel_ids: list[str]
    created_at: datetime
    updated_at: datetime
    publish_at: datetime | None = None
    variants: dict[str, dict[str, Any]] = field(default_factory=dict)
    media: list[dict[str, Any]] = field(default_factory=list)
    version: int = 1
    # The parts after the first (`[{text, media}]`) and the comment added under the post once it is out.
    thread: list[dict[str, Any]] = field(default_factory=list)
    first_comment: str | None = None
    timezone: str | None = None
    # Read from the table only (not from the list indexes); written by create and replace.
    open_deliveries: int | None = None
    # What planning made of it (chalicelib/planning/): `queue` {channel_id: slot UTC time} while queued,
    # `held` [channel_id] whose queue is paused, `series_id`, `occurrence_key`, `recurrence`, `detached`
    # (an occurrence edited alone), `recycle_after_days`, `recycled_from`.
    plan: dict[str, Any] = field(default_factory=dict)

    def due_for(self, channel_id: str) -> datetime | None:
        """When the channel's delivery goes out: its own queue slot when queued (None while its queue is
        paused), else publish_at."""
        if channel_id in (self.plan.get("held") or []):
            return None
        slot = (self.plan.get("queue") or {}).get(channel_id)
        return _parse(slot) if slot else self.publish_at
    # The approval round (chalicelib/approval), read from the table only (the list indexes leave it out).
    approval: dict[str, Any] | None = None

    def text_for(self, channel_id: str) -> str:
        """What the channel publishes: its variant's text when it has one, else the post's."""
        text: str | None = (self.variants.get(channel_id) or {}).get("text")
        return self.text if text is None else text

    def media_for(self, channel_id: str) -> list[dict[str, Any]]:
        """The channel's media: its variant's when it gives some (an empty list too), else the post's."""
        media: list[dict[str, Any]] | None = (self.variants.get(channel_id) or {}).get("media")
        return self.media if media is None else media

    def thread_for(self, channel_id: str) -> list[dict[str, Any]]:
        """The channel's thread parts: its variant's when it gives them (an empty list too), else the post's."""
        thread: list[dict[str, Any]] | None = (self.variants.get(channel_id) or {}).get("thread")
        return self.thread if thread is None else thread

    @property
    def publish_key(self) -> str:
        if self.publish_at is None:
            return f"{UNDATED}{key_time(self.created_at)}#{self.post_id}"
        return f"{key_time(self.publish_at)}#{self.post_id}"


@dataclass
class DeliveryRow:
    workspace_id: str
    post_id: str
    channel_id: str
    network: str
    status: str
    post_version: int = 1
    remote_id: str | None = None
    remote_url: str | None = None
    attempts: int = 0
    last_error: str | None = None
    published_at: datetime | None = None
    due_at: datetime | None = None
    lease_until: datetime | None = None
    claim_token: str | None = None
    # What the adapter recorded of a multi-step publish; a later attempt continues from it.
    progress: dict[str, Any] = field(default_factory=dict)
    first_attempt_at: datetime | None = None
    # The last attempt was ambiguous: the next claim asks the network before publishing again.
    look_first: bool = False
    warnings: list[str] = field(default_factory=list)
    # Why it may not go out (the channel is not healthy), while it is unsent; None when all is well.
    at_risk: str | None = None
    # While queued: the token its live message carries, and when that message is due (not in the `due` index).
    send_token: str | None = None
    next_due: datetime | None = None
    # The channel's short link of each link in its text ({url: short url}; chalicelib/links/).
    short_links: dict[str, str] = field(default_factory=dict)

    @property
    def delivery_id(self) -> str:
        """Stable across retries: the networks' idempotency keys come from it."""
        return f"{self.post_id}.{self.channel_id}"

    @property
    def due_moment(self) -> datetime | None:
        """When the engine must next look at this delivery, if ever."""
        if self.status == "scheduled":
            return self.due_at
        if self.status in ("queued", "publishing"):
            return self.lease_until
        return None


def post_pk(workspace_id: str, post_id: str) -> str:
    return f"{workspace_id}#{post_id}"


def due_shard(post_id: str, shards: int) -> str:
    """A post's deliveries share a shard: the tick reads them side by side and sends them in one message
    batch, so one worker batch publishes them and writes their outcomes together (sibling_outcomes.py)."""
    return str(zlib.crc32(post_id.encode()) % shards)


def post_record(row: PostRow) -> PostRecord:
    return PostRecord(
        post_pk(row.workspace_id, row.post_id), POST_SK,
        workspace_id=row.workspace_id, post_id=row.post_id, publish_key=row.publish_key,
        text=row.text, status=row.status, channel_ids=row.channel_ids,
        publish_at=key_time(row.publish_at) if row.publish_at else None,
        variants=row.variants, media=row.media, version=row.version,
        thread=row.thread or None, first_comment=row.first_comment,
        created_at=key_time(row.created_at), updated_at=key_time(row.updated_at),
        post_workspace_id=row.workspace_id, post_workspace_status=f"{row.workspace_id}#{row.status}",
        timezone=row.timezone, open_deliveries=row.open_deliveries, approval=row.approval,
        plan=json.dumps(row.plan, sort_keys=True) if row.plan else None,
    )


def delivery_record(row: DeliveryRow, publish_key: str, shards: int) -> DeliveryRecord:
    due = row.due_moment
    return DeliveryRecord(
        post_pk(row.workspace_id, row.post_id), DELIVERY_SK + row.channel_id,
        workspace_id=row.workspace_id, post_id=row.post_id, publish_key=publish_key,
        channel_id=row.channel_id, network=row.network, status=row.status,
        post_version=row.post_version, remote_id=row.remote_id, remote_url=row.remote_url,
        attempts=row.attempts, last_error=row.last_error,
        published_at=key_time(row.published_at) if row.published_at else None,
        due_at=key_time(row.due_at) if row.due_at else None,
        lease_until=key_time(row.lease_until) if row.lease_until else None,
        claim_token=row.claim_token,
        progress=json.dumps(row.progress) if row.progress else None,
        first_attempt_at=key_time(row.first_attempt_at) if row.first_attempt_at else None,
        look_first=row.look_first or None, warnings=row.warnings or None,
        delivery_workspace_channel=f"{row.workspace_id}#{row.channel_id}",
        due_shard=due_shard(row.post_id, shards) if due else None,
        due_key=f"{key_time(due)}#{row.post_id}#{row.channel_id}" if due else None,
        at_risk=row.at_risk, risk_workspace=_risk_workspace(row),
        send_token=row.send_token, next_due=key_time(row.next_due) if row.next_due else None,
        short_links=json.dumps(row.short_links) if row.short_links else None,
    )


def _risk_workspace(row: DeliveryRow) -> str | None:
    return row.workspace_id if row.at_risk and row.status in UNSENT_STATUSES else None


def post_row(r: PostRecord) -> PostRow:
    variants = _plain(r.variants) or {}  # a variant's media and thread are lists of maps
    media = [m.as_dict() if hasattr(m, "as_dict") else dict(m) for m in (r.media or [])]
    return PostRow(
        workspace_id=r.workspace_id, post_id=r.post_id, text=r.text or "", status=r.status,
        channel_ids=list(r.channel_ids or []), created_at=_parse(r.created_at),  # type: ignore[arg-type]
        updated_at=_parse(r.updated_at), publish_at=_parse(r.publish_at),  # type: ignore[arg-type]
        variants=variants, media=media, version=int(r.version), timezone=r.timezone,
        thread=[_plain(part) for part in (r.thread or [])], first_comment=r.first_comment,
        open_deliveries=None if r.open_deliveries is None else int(r.open_deliveries),
        plan=json.loads(r.plan) if r.plan else {},
        approval=_plain(r.approval) if r.approval else None,
    )


def delivery_row(r: DeliveryRecord) -> DeliveryRow:
    return DeliveryRow(
        workspace_id=r.workspace_id, post_id=r.post_id, channel_id=r.channel_id, network=r.network,
        status=r.status, post_version=int(r.post_version), remote_id=r.remote_id, remote_url=r.remote_url,
        attempts=int(r.attempts or 0), last_error=r.last_error, published_at=_parse(r.published_at),
        due_at=_parse(r.due_at), lease_until=_parse(r.lease_until), claim_token=r.claim_token,
        progress=json.loads(r.progress) if r.progress else {}, first_attempt_at=_parse(r.first_attempt_at),
        look_first=bool(r.look_first), warnings=[str(w) for w in (r.warnings or [])],
        at_risk=r.at_risk, send_token=r.send_token, next_due=_parse(r.next_due),
        short_links=json.loads(r.short_links) if r.short_links else {},
    )


def _plain(value: Any) -> Any:
    """A stored map or list as plain dicts and lists."""
    if hasattr(value, "as_dict"):
        value = value.as_dict()
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value
# The index a listing reads, with its hash key's value and attribute name.
ListingIndex = tuple[GlobalSecondaryIndex[PostTableRecord], str, str]


def _listing_index(workspace_id: str, status: str | None, channel_id: str | None) -> ListingIndex:
    if channel_id:
        return PostTableRecord.by_channel, f"{workspace_id}#{channel_id}", "delivery_workspace_channel"
    if status:
        return PostTableRecord.by_status, f"{workspace_id}#{status}", "post_workspace_status"
    return PostTableRecord.by_workspace, workspace_id, "post_workspace_id"


def _publish_window(start: datetime | None, end: datetime | None) -> Condition | None:
    """The range-key condition for posts publishing from `start` through `end`."""
    lower = key_time(start) if start else None
    upper = key_time(end) + "#~" if end else None
    if lower and upper:
        return PostTableRecord.publish_key.between(lower, upper)
    if lower:
        # Undated drafts sort last, under `~<created_at>`: a time filter leaves them out.
        return PostTableRecord.publish_key.between(lower, UNDATED)
    if upper:
        return PostTableRecord.publish_key <= upper
    return None


class PostRepository:
    def __init__(self, due_shards: int, connection: Connection | None = None) -> None:
        self.due_shards = due_shards
        self._connection = connection

    @property
    def connection(self) -> Connection:
        if self._connection is None:
            # The models' own connection: a second one would load botocore's data files again.
            self._connection = PostTableRecord._get_connection().connection
        return self._connection

    def _tx(self) -> TransactWrite:
        return TransactWrite(connection=self.connection)

    # -- reads ---------------------------------------------------------------

    def get(self, workspace_id: str, post_id: str) -> tuple[PostRow, list[DeliveryRow]] | None:
        post: PostRow | None = None
        deliveries = []
        for record in PostTableRecord.query(post_pk(workspace_id, post_id), consistent_read=True):
            if isinstance(record, PostRecord):
                post = post_row(record)
            elif isinstance(record, DeliveryRecord):
                deliveries.append(delivery_row(record))
        if post is None or post.workspace_id != workspace_id:
            return None
        order = {cid: i for i, cid in enumerate(post.channel_ids)}
        deliveries.sort(key=lambda d: order.get(d.channel_id, len(order)))
        return post, deliveries

    def get_post(self, workspace_id: str, post_id: str) -> PostRow | None:
        """The post item alone, without its deliveries."""
        try:
            return post_row(PostRecord.get(post_pk(workspace_id, post_id), POST_SK, consistent_read=True))
        except PostRecord.DoesNotExist:
            return None

    def get_with_seq(self, workspace_id: str, post_id: str) -> tuple[PostRow, list[DeliveryRow], int | None] | None:
        """The post, its deliveries, and its outcome sequence, in one consistent read."""
        post, seq, deliveries = None, None, []
        for record in PostTableRecord.query(post_pk(workspace_id, post_id), consistent_read=True):
            if isinstance(record, PostRecord):
                post, seq = post_row(record), record.outcome_seq
            elif isinstance(record, DeliveryRecord):
                deliveries.append(delivery_row(record))
        if post is None:
            return None
        return post, deliveries, None if seq is None else int(seq)

    def get_delivery(self, workspace_id: str, post_id: str, channel_id: str) -> DeliveryRow | None:
        for record in DeliveryRecord.query(post_pk(workspace_id, post_id),
                                           DeliveryRecord.sk == DELIVERY_SK + channel_id,
                                           consistent_read=True):
            return delivery_row(record)
        return None

    def deliveries_of(self, posts: Iterable[PostRow]) -> dict[str, list[DeliveryRow]]:
        keys = [(post_pk(p.workspace_id, p.post_id), DELIVERY_SK + cid) for p in posts for cid in p.channel_ids]
        found: dict[str, list[DeliveryRow]] = {}
        for record in DeliveryRecord.batch_get(keys):
            found.setdefault(record.post_id, []).append(delivery_row(record))
        return found

    def posts_by_ids(self, workspace_id: str, post_ids: list[str]) -> list[PostRow]:
        keys = [(post_pk(workspace_id, pid), POST_SK) for pid in dict.fromkeys(post_ids)]
        rows = {r.post_id: post_row(r) for r in PostRecord.batch_get(keys)}
        return [rows[pid] for pid in dict.fromkeys(post_ids) if pid in rows]

    def list_posts(self, workspace_id: str, *, status: str | None, channel_id: str | None,
                   start: datetime | None, end: datetime | None, limit: int,
                   cursor: str | None) -> tuple[list[PostRow], str | None]:
        index, hash_value, attr = _listing_index(workspace_id, status, channel_id)
        condition = _publish_window(start, end)
        result = index.query(hash_value, condition, limit=limit,
                             last_evaluated_key=decode_cursor(cursor, {attr: hash_value},
                                                              ("pk", "sk", attr, "publish_key")))
        records = list(result)
        if channel_id:
            posts = self.posts_by_ids(workspace_id, [r.post_id for r in records])
            if status:
                # Status lives on the post item: filtered within this channel's page.
                posts = [p for p in posts if p.status == status]
        else:
            posts = [post_row(r) for r in records if isinstance(r, PostRecord)]  # these indexes hold posts only
        return posts, encode_cursor(result.last_evaluated_key)

    def posts_between(self, workspace_id: str, start: datetime, end: datetime) -> Iterator[PostRow]:
        condition = PostTableRecord.publish_key.between(key_time(start), key_time(end) + "#~")
        for record in PostTableRecord.by_workspace.query(workspace_id, condition):
            yield post_row(record)  # type: ignore[arg-type]

    # -- deliveries at risk (accounts/health.py) -----------------------------

    def unsent_on_channel(self, workspace_id: str, channel_id: str,
                          since: datetime) -> list[tuple[PostRow, DeliveryRow]]:
        """The channel's deliveries not yet sent, of posts due from `since` on (drafts included), with their
        posts: Query `by_channel`, then BatchGetItem."""
        records = PostTableRecord.by_channel.query(f"{workspace_id}#{channel_id}",
                                                   PostTableRecord.publish_key >= key_time(since))
        posts = self.posts_by_ids(workspace_id, [r.post_id for r in records])
        found = self.deliveries_of(posts)
        out = []
        for post in posts:
            for delivery in found.get(post.post_id, []):
                if delivery.channel_id == channel_id and delivery.status in UNSENT_STATUSES:
                    out.append((post, delivery))
        return out

    def set_risk(self, delivery: DeliveryRow, reason: str | None, *, last_error: str | None = None) -> bool:
        """Flags (or clears) an unsent delivery at risk; False when it left `scheduled`/`queued` meanwhile."""
        actions: list[Any] = ([DeliveryRecord.at_risk.set(reason), DeliveryRecord.risk_workspace.set(
            delivery.workspace_id)] if reason else [DeliveryRecord.at_risk.remove(),
                                                   DeliveryRecord.risk_workspace.remove()])
        if last_error:
            actions.append(DeliveryRecord.last_error.set(last_error))
        record = DeliveryRecord(post_pk(delivery.workspace_id, delivery.post_id), DELIVERY_SK + delivery.channel_id)
        try:
            record.update(actions=actions, condition=DeliveryRecord.status.is_in(*UNSENT_STATUSES))
        except UpdateError:
            return False
        return True

    def list_at_risk(self, workspace_id: str, limit: int, cursor: str | None) -> tuple[list[PostRow], str | None]:
        """Posts with a delivery flagged at risk, by publish time (Query the sparse `at_risk` index)."""
        start = decode_cursor(cursor, {"risk_workspace": workspace_id}, ("pk", "sk", "risk_workspace", "publish_key"))
        result = PostTableRecord.by_risk.query(workspace_id, limit=limit, last_evaluated_key=start)
        post_ids = list(dict.fromkeys(r.post_id for r in result))
        return self.posts_by_ids(workspace_id, post_ids), encode_cursor(result.last_evaluated_key)

    # -- writes --------------------------------------------------------------

    def create(self, post: PostRow, deliveries: list[DeliveryRow]) -> None:
        """Put a new post and its deliveries; a post of that id already there is a Conflict (`post_exists`):
        imports and feeds derive ids from what they read, so taking something twice makes no second post."""
        post.open_deliveries = open_count(deliveries)
        try:
            with self._tx() as tx:
                tx.save(post_record(post), condition=PostTableRecord.pk.does_not_exist())
                for delivery in deliveries:
                    tx.save(delivery_record(delivery, post.publish_key, self.due_shards),
                            condition=PostTableRecord.pk.does_not_exist())
        except TransactWriteError as exc:
            raise Conflict(f"A post {post.post_id} already exists.", code="post_exists") from exc

    def replace(self, post: PostRow, deliveries: list[DeliveryRow], *, expected_version: int,
                expected_statuses: tuple[str, ...], old_deliveries: list[DeliveryRow],
                expected_approval_seq: int | None = None) -> None:
        """Write a post and its deliveries as one transaction, only if nobody
        changed the post since `expected_version` and every delivery still has
        the status it was read with (the engine may have moved one meanwhile); an approval decision also
        names the decision count it read (`approval.seq`), so two decisions on one step cannot both win."""
        kept = {d.channel_id for d in deliveries}
        previous = {d.channel_id: d for d in old_deliveries}
        post.open_deliveries = open_count(deliveries)
        try:
            with self._tx() as tx:
                condition = (PostRecord.version == expected_version) & PostRecord.status.is_in(*expected_statuses)
                if expected_approval_seq is not None:
                    condition &= PostRecord.approval["seq"] == expected_approval_seq
                tx.save(post_record(post), condition=condition)
                for old in old_deliveries:
                    if old.channel_id not in kept:
                        tx.delete(DeliveryRecord(post_pk(old.workspace_id, old.post_id),
                                                 DELIVERY_SK + old.channel_id),
                                  condition=DeliveryRecord.status == old.status)
                for delivery in deliveries:
                    before = previous.get(delivery.channel_id)
                    condition = (DeliveryRecord.status == before.status if before
                                 else PostTableRecord.pk.does_not_exist())
                    tx.save(delivery_record(delivery, post.publish_key, self.due_shards), condition=condition)
        except TransactWriteError as exc:
            raise Conflict("The post changed meanwhile (edited elsewhere, or it started publishing); "
                           "read it again and retry.", code="version_conflict") from exc
