"""The metrics table: counters kept as things happen, the nightly daily rows,
and the registry of workspaces the nightly roll-up visits.

Key layout (one table, `pk`/`sk`):

- `pk = <workspace_id>#<channel_id>` is one series (`channel_id` is `workspace`
  for what belongs to no channel, such as listening matches). Its items sort by
  local day, counters next to the daily row of the same day:
  `sk = <YYYY-MM-DD>#counts` (ADDed to when an event happens) and
  `sk = <YYYY-MM-DD>#daily` (written whole by the roll-up), and one item per
  published delivery, `sk = <YYYY-MM-DD>#post#<post_id>` (its post and lateness;
  put in the outcome's transaction), so that the counter keeps a constant size
  however many posts a day has. One Query reads a window of days, all three kinds.
- `pk = registry#<shard>`, `sk = <workspace_id>`: the workspace's time zone,
  the last local day rolled up, and every series it ever rolled up. The nightly
  job queries the shards instead of scanning anything.
"""
from __future__ import annotations

import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from pynamodb.attributes import (
    DiscriminatorAttribute,
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
)
from pynamodb.exceptions import DoesNotExist, TransactWriteError, UpdateError
from pynamodb.expressions.update import Action
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from chalicelib.core.tables import table_meta
from chalicelib.publishing.post_repository import key_time

WORKSPACE_SERIES = "workspace"
# A registry partition takes one write per workspace per night and one Query
# per hourly run; 4 shards keep both far below a partition's limits up to
# hundreds of thousands of workspaces and let a run read them in parallel.
# Changing it means moving the registry items (the shard is in their key).
REGISTRY_SHARDS = 4
COUNTS = "counts"
DAILY = "daily"
POST_ENTRY = "post"
COUNTED = "counted"
# A short link's traffic on one day (`sk = <YYYY-MM-DD>#link#<code>`): ADDed to by each counted click and
# conversion, one UpdateItem each. A day's items are summed into its counts on read; `-` is the code of the
# workspace series' conversions that no click within the attribution window explains (unattributed).
LINK_ENTRY = "link"
TRAFFIC_FIELDS = ("clicks", "unique_visitors", "conversions", "conversion_value")
UNATTRIBUTED = "-"

# Every counter a series keeps per local day; all are ADDed to, never set.
COUNT_FIELDS = (
    "published", "failed", "unknown", "lateness_sum_s",
    "comments", "messages", "mentions", "conversations", "listening_matches",
    "replies_sent", "answered", "answered_24h", "first_response_sum_s",
)
# Lists kept value by value, so that percentiles are exact. The counter item holds
# `first_response_s`; a published post and its lateness are an item of their own.
COUNTER_LISTS = ("first_response_s",)
POST_LISTS = ("posts", "lateness_s")


class MetricsTableRecord(Model):
    Meta = table_meta("metrics")
    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    kind = DiscriminatorAttribute()


class CounterRecord(MetricsTableRecord, discriminator=COUNTS):
    published = NumberAttribute(null=True)
    failed = NumberAttribute(null=True)
    unknown = NumberAttribute(null=True)
    lateness_sum_s = NumberAttribute(null=True)
    comments = NumberAttribute(null=True)
    messages = NumberAttribute(null=True)
    mentions = NumberAttribute(null=True)
    conversations = NumberAttribute(null=True)
    listening_matches = NumberAttribute(null=True)
    replies_sent = NumberAttribute(null=True)
    answered = NumberAttribute(null=True)
    answered_24h = NumberAttribute(null=True)
    first_response_sum_s = NumberAttribute(null=True)
    first_response_s = ListAttribute(of=NumberAttribute, null=True)
    # Written by the engine before each post had its own item (PostEntryRecord); still read.
    lateness_s = ListAttribute(of=NumberAttribute, null=True)
    posts = ListAttribute(null=True)  # type: ignore[var-annotated]


class PostEntryRecord(MetricsTableRecord, discriminator=POST_ENTRY):
    """One published delivery on its channel's day; the key makes writing it again harmless."""

    post_id = UnicodeAttribute()
    remote_id = UnicodeAttribute(null=True)
    remote_url = UnicodeAttribute(null=True)
    published_at = UnicodeAttribute()
    preview = UnicodeAttribute()
    lateness_s = NumberAttribute()


class CountedRecord(MetricsTableRecord, discriminator="counted"):
    """That one outcome was counted (pk `counted#<workspace>#<once key>`): the counter consumer puts it
    in the transaction that counts, on condition that it is new, so a stream record delivered twice
    counts once. Gone after a week: a stream keeps its records 24 hours."""

    expires_at_epoch = TTLAttribute(null=True)


class LinkCounterRecord(MetricsTableRecord, discriminator=LINK_ENTRY):
    """One short link's clicks, unique visitors and conversions on one local day."""

    code = UnicodeAttribute()
    post_id = UnicodeAttribute(null=True)
    clicks = NumberAttribute(null=True)
    unique_visitors = NumberAttribute(null=True)
    conversions = NumberAttribute(null=True)
    conversion_value = NumberAttribute(null=True)


class DailyRecord(MetricsTableRecord, discriminator=DAILY):
    day = UnicodeAttribute()
    counts = MapAttribute(default=dict)  # type: ignore[var-annotated]
    lateness_s = ListAttribute(of=NumberAttribute, default=list)
    first_response_s = ListAttribute(of=NumberAttribute, default=list)
    # The counter's posts with what the network reported: likes, reposts, replies,
    # impressions (absent: not known), gone (deleted on the network).
    posts = ListAttribute(default=list)  # type: ignore[var-annotated]
    followers = NumberAttribute(null=True)
    insights = UnicodeAttribute()
    insights_error = UnicodeAttribute(null=True)
    # The day's short links: [{code, post_id, clicks, unique_visitors, conversions, conversion_value}].
    traffic = ListAttribute(null=True)  # type: ignore[var-annotated]


class RegistryRecord(MetricsTableRecord, discriminator="registry"):
    workspace_id = UnicodeAttribute()
    timezone = UnicodeAttribute()
    rolled_through = UnicodeAttribute(null=True)
    series = UnicodeSetAttribute(null=True)


# -- rows ------------------------------------------------------------------------


@dataclass
class DayCounts:
    """What the counters of one series say about one local day."""

    day: date
    counts: dict[str, float] = field(default_factory=dict)
    lateness_s: list[float] = field(default_factory=list)
    first_response_s: list[float] = field(default_factory=list)
    posts: list[dict[str, Any]] = field(default_factory=list)
    traffic: list[dict[str, Any]] = field(default_factory=list)

    def count(self, name: str) -> float:
        return self.counts.get(name, 0)


@dataclass
class DailyRow:
    """One series' rolled-up day. `followers` None means the network did not
    say (missing), never zero; `insights` is ok, missing, unavailable (the
    network gives no figures) or none (a series without a network)."""

    workspace_id: str
    channel_id: str
    day: date
    counts: dict[str, float] = field(default_factory=dict)
    lateness_s: list[float] = field(default_factory=list)
    first_response_s: list[float] = field(default_factory=list)
    posts: list[dict[str, Any]] = field(default_factory=list)
    followers: int | None = None
    insights: str = "missing"
    insights_error: str | None = None
    traffic: list[dict[str, Any]] = field(default_factory=list)

    def count(self, name: str) -> float:
        return self.counts.get(name, 0)


@dataclass
class RegistryEntry:
    workspace_id: str
    timezone: str
    rolled_through: date | None = None
    series: set[str] = field(default_factory=set)


def series_pk(workspace_id: str, channel_id: str | None) -> str:
    return f"{workspace_id}#{channel_id or WORKSPACE_SERIES}"


def counter_sk(day: date) -> str:
    return f"{day.isoformat()}#{COUNTS}"


def post_entry_sk(day: date, post_id: str) -> str:
    return f"{day.isoformat()}#{POST_ENTRY}#{post_id}"


def link_sk(day: date, code: str | None) -> str:
    return f"{day.isoformat()}#{LINK_ENTRY}#{code or UNATTRIBUTED}"


def _day_of(sk: str) -> date:
    return date.fromisoformat(sk.split("#")[0])


def registry_shard(workspace_id: str, shards: int = REGISTRY_SHARDS) -> int:
    return zlib.crc32(workspace_id.encode()) % shards


def _number(value: Any) -> float:
    number = float(value)
    return int(number) if number.is_integer() else number


def _plain(value: Any) -> Any:
    if hasattr(value, "as_dict"):
        value = value.as_dict()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, float):
        return _number(value)
    return value


def _counts_of(record: CounterRecord) -> DayCounts:
    counts = {name: _number(getattr(record, name)) for name in COUNT_FIELDS
              if getattr(record, name) is not None}
    return DayCounts(_day_of(record.sk), counts,
                     [_number(v) for v in record.lateness_s or []],
                     [_number(v) for v in record.first_response_s or []],
                     _plain(list(record.posts or [])))


POST_KEYS = ("post_id", "remote_id", "remote_url", "published_at", "preview")


def _entry_attributes(post: Mapping[str, Any]) -> dict[str, Any]:
    """A published post's POST_KEYS as PostEntryRecord attributes (None where absent). Values are
    Any, as Model's **attributes are: mypy checks a spread dict against Model's `_user_instantiated`."""
    return {name: post.get(name) for name in POST_KEYS}


def _add_entries(counts: DayCounts, entries: list[PostEntryRecord]) -> None:
    """After the posts an older counter item holds in its own lists, in the order they were published."""
    for entry in sorted(entries, key=lambda e: (e.published_at, e.post_id)):
        counts.posts.append({name: getattr(entry, name) for name in POST_KEYS})
        counts.lateness_s.append(_number(entry.lateness_s))


def _traffic_of(record: LinkCounterRecord) -> dict[str, Any]:
    return {"code": None if record.code == UNATTRIBUTED else record.code, "post_id": record.post_id,
            **{name: _number(getattr(record, name) or 0) for name in TRAFFIC_FIELDS}}


def _add_traffic(counts: DayCounts, traffic: list[dict[str, Any]]) -> None:
    """A day's links, and their sums among the day's counts (what the figures read)."""
    for item in sorted(traffic, key=lambda t: t["code"] or ""):
        counts.traffic.append(item)
        for name in TRAFFIC_FIELDS:
            counts.counts[name] = _number(counts.counts.get(name, 0) + item[name])
        if item["code"] is None:
            counts.counts["conversions_unattributed"] = counts.counts.get("conversions_unattributed", 0) + \
                item["conversions"]


def _entry_actions(entry: PostEntryRecord) -> list[Action]:
    actions: list[Action] = [PostEntryRecord.kind.set(PostEntryRecord)]
    for name in (*POST_KEYS, "lateness_s"):
        attribute, value = getattr(PostEntryRecord, name), getattr(entry, name)
        actions.append(attribute.remove() if value is None else attribute.set(value))
    return actions


def _row_of(workspace_id: str, channel_id: str, record: DailyRecord) -> DailyRow:
    return DailyRow(workspace_id, channel_id, date.fromisoformat(record.day),
                    {k: _number(v) for k, v in _plain(record.counts).items()},
                    [_number(v) for v in record.lateness_s or []],
                    [_number(v) for v in record.first_response_s or []],
                    _plain(list(record.posts or [])),
                    None if record.followers is None else int(record.followers),
                    record.insights, record.insights_error, _plain(list(record.traffic or [])))


def _daily_record(row: DailyRow) -> DailyRecord:
    return DailyRecord(series_pk(row.workspace_id, row.channel_id), f"{row.day.isoformat()}#{DAILY}",
                       day=row.day.isoformat(), counts=dict(row.counts), lateness_s=list(row.lateness_s),
                       first_response_s=list(row.first_response_s), posts=list(row.posts),
                       followers=row.followers, insights=row.insights, insights_error=row.insights_error,
                       traffic=list(row.traffic) or None)


def counter_actions(increments: Mapping[str, float], appends: dict[str, list[Any]]) -> list[Action]:
    """ADD to counters and append to the counter's lists; the item is made by the first update."""
    actions: list[Action] = [CounterRecord.kind.set(CounterRecord)]
    for name, amount in increments.items():
        if name not in COUNT_FIELDS:
            raise ValueError(f"unknown counter {name}")
        if amount:
            actions.append(getattr(CounterRecord, name).add(amount))
    for name, values in appends.items():
        if name not in COUNTER_LISTS:
            raise ValueError(f"unknown counter list {name}")
        if values:
            attribute = getattr(CounterRecord, name)
            actions.append(attribute.set((attribute | []).append(values)))
    return actions


PREVIEW_CHARS = 80


def delivery_counts(status: str, *, post_id: str, remote_id: str | None, remote_url: str | None,
                    published_at: datetime | None, publish_at: datetime | None,
                    text: str) -> tuple[dict[str, float], dict[str, list[Any]]]:
    """What one final delivery outcome adds to its channel's day."""
    if status != "published" or published_at is None:
        return ({status: 1} if status in ("failed", "unknown") else {}), {}
    # Published a few milliseconds early (the worker's sleep rounds) is on time, not negative.
    lateness = round(max(0.0, (published_at - publish_at).total_seconds()), 3) if publish_at else 0.0
    flat = " ".join(text.split())
    entry = {"post_id": post_id, "remote_id": remote_id, "remote_url": remote_url,
             "published_at": key_time(published_at),
             "preview": flat if len(flat) <= PREVIEW_CHARS else flat[:PREVIEW_CHARS - 1] + "…"}
    return {"published": 1, "lateness_sum_s": lateness}, {"lateness_s": [lateness], "posts": [entry]}


class MetricsRepository:
    # -- counters ------------------------------------------------------------

    def counter_item(self, workspace_id: str, channel_id: str | None, day: date) -> CounterRecord:
        return CounterRecord(series_pk(workspace_id, channel_id), counter_sk(day))

    def post_entries(self, workspace_id: str, channel_id: str | None, day: date, posts: list[dict[str, Any]],
                     lateness_s: list[float]) -> list[PostEntryRecord]:
        """The items of published posts, each with its lateness (the two lists side by side)."""
        if len(posts) != len(lateness_s):
            raise ValueError("each published post needs its lateness")
        return [PostEntryRecord(series_pk(workspace_id, channel_id), post_entry_sk(day, post["post_id"]),
                                **_entry_attributes(post), lateness_s=lateness)
                for post, lateness in zip(posts, lateness_s, strict=True)]

    def add(self, workspace_id: str, channel_id: str | None, day: date, increments: Mapping[str, float],
            appends: dict[str, list[Any]] | None = None, transaction: TransactWrite | None = None) -> None:
        """One UpdateItem; or more items in the caller's transaction, so that a
        count commits together with the event it counts. Published `posts` and
        their `lateness_s` are put as items of their own next to the counter."""
        lists = dict(appends or {})
        entries = self.post_entries(workspace_id, channel_id, day, *(lists.pop(name, []) for name in POST_LISTS))
        item = self.counter_item(workspace_id, channel_id, day)
        actions = counter_actions(increments, lists)
        if transaction is None and not entries:
            item.update(actions=actions)
            return
        if transaction is None:
            with TransactWrite(connection=MetricsTableRecord._get_connection().connection) as own:
                self._write(own, item, actions, entries)
        else:
            self._write(transaction, item, actions, entries)

    def add_once(self, once_key: str, expires_at: datetime, workspace_id: str, channel_id: str | None, day: date,
                 increments: Mapping[str, float], appends: dict[str, list[Any]] | None = None) -> bool:
        """`add`, unless `once_key` was counted before: one transaction with the marker put on condition
        that it is new. False when it was (nothing is written)."""
        marker = CountedRecord(f"counted#{workspace_id}#{once_key}", COUNTED, expires_at_epoch=expires_at)
        try:
            with TransactWrite(connection=MetricsTableRecord._get_connection().connection) as tx:
                # An update, as _write's: PynamoDB sends Puts first, and the marker must be first (reasons[0]).
                tx.update(marker, actions=[CountedRecord.kind.set(CountedRecord),
                                           CountedRecord.expires_at_epoch.set(expires_at)],
                          condition=CountedRecord.pk.does_not_exist())
                self.add(workspace_id, channel_id, day, increments, appends, transaction=tx)
        except TransactWriteError as exc:
            reasons = [r.code if r else None for r in (exc.cancellation_reasons or [])]
            if reasons and reasons[0] == "ConditionalCheckFailed":
                return False
            raise
        return True

    @staticmethod
    def _write(transaction: TransactWrite, item: CounterRecord, actions: list[Action],
               entries: list[PostEntryRecord]) -> None:
        transaction.update(item, actions=actions)
        for entry in entries:
            # An update that sets every attribute, not a Put: it writes the same item again just as
            # harmlessly, and PynamoDB sends Puts before Updates, which would move the positions by
            # which the engine reads the cancellation reasons (deliveries.py _finish).
            transaction.update(entry, actions=_entry_actions(entry))

    def add_traffic(self, workspace_id: str, channel_id: str | None, day: date, code: str | None,
                    post_id: str | None, increments: Mapping[str, float],
                    transaction: TransactWrite | None = None) -> None:
        """One UpdateItem on the link's day item (or one item of the caller's transaction)."""
        item = LinkCounterRecord(series_pk(workspace_id, channel_id), link_sk(day, code))
        actions: list[Action] = [LinkCounterRecord.kind.set(LinkCounterRecord),
                                 LinkCounterRecord.code.set(code or UNATTRIBUTED)]
        if post_id:
            actions.append(LinkCounterRecord.post_id.set(post_id))
        for name, amount in increments.items():
            if name not in TRAFFIC_FIELDS:
                raise ValueError(f"unknown traffic counter {name}")
            if amount:
                actions.append(getattr(LinkCounterRecord, name).add(amount))
        if transaction is None:
            item.update(actions=actions)
        else:
            transaction.update(item, actions=actions)

    # -- series --------------------------------------------------------------

    def window(self, workspace_id: str, channel_id: str, first: date,
               last: date) -> tuple[dict[date, DayCounts], dict[date, DailyRow]]:
        """Counters (a day's post items folded into its `posts` and `lateness_s`) and
        daily rows of one series for `first`..`last`, in one Query."""
        counters: dict[date, DayCounts] = {}
        rows: dict[date, DailyRow] = {}
        entries: dict[date, list[PostEntryRecord]] = {}
        traffic: dict[date, list[dict[str, Any]]] = {}
        condition = MetricsTableRecord.sk.between(first.isoformat(), last.isoformat() + "#~")
        for record in MetricsTableRecord.query(series_pk(workspace_id, channel_id), condition):
            if isinstance(record, CounterRecord):
                counts = _counts_of(record)
                counters[counts.day] = counts
            elif isinstance(record, PostEntryRecord):
                entries.setdefault(_day_of(record.sk), []).append(record)
            elif isinstance(record, LinkCounterRecord):
                traffic.setdefault(_day_of(record.sk), []).append(_traffic_of(record))
            elif isinstance(record, DailyRecord):
                row = _row_of(workspace_id, channel_id, record)
                rows[row.day] = row
        for day, day_entries in entries.items():
            _add_entries(counters.setdefault(day, DayCounts(day)), day_entries)
        for day, day_traffic in traffic.items():
            _add_traffic(counters.setdefault(day, DayCounts(day)), day_traffic)
        return counters, rows

    def put_rows(self, rows: list[DailyRow]) -> None:
        if not rows:
            return
        with DailyRecord.batch_write() as batch:
            for row in rows:
                batch.save(_daily_record(row))


class WorkspaceRegistry:
    """Which workspaces the nightly job visits, with their time zone and how far
    it got. Sharded so that no partition grows without bound."""

    def __init__(self, shards: int = REGISTRY_SHARDS) -> None:
        self.shards = shards

    def _item(self, workspace_id: str) -> RegistryRecord:
        return RegistryRecord(f"registry#{registry_shard(workspace_id, self.shards)}", workspace_id)

    def enroll(self, workspace_id: str, timezone: str, rolled_through: date) -> None:
        """From now on the nightly job rolls this workspace up, starting the day after `rolled_through`."""
        item = self._item(workspace_id)
        item.update(actions=[
            RegistryRecord.kind.set(RegistryRecord), RegistryRecord.workspace_id.set(workspace_id),
            RegistryRecord.timezone.set(timezone),
            RegistryRecord.rolled_through.set(RegistryRecord.rolled_through | rolled_through.isoformat()),
        ])

    def set_timezone(self, workspace_id: str, timezone: str) -> None:
        item = self._item(workspace_id)
        item.update(actions=[RegistryRecord.kind.set(RegistryRecord),
                             RegistryRecord.workspace_id.set(workspace_id),
                             RegistryRecord.timezone.set(timezone)])

    def get(self, workspace_id: str) -> RegistryEntry | None:
        item = self._item(workspace_id)
        try:
            record = RegistryRecord.get(item.pk, item.sk)
        except DoesNotExist:
            return None
        return _entry(record)

    def list_shard(self, shard: int) -> list[RegistryEntry]:
        return [_entry(r) for r in RegistryRecord.query(f"registry#{shard}")]

    def mark_rolled(self, workspace_id: str, day: date, series: set[str]) -> None:
        """Moves the watermark forward only: a late or repeated run never moves it back."""
        item = self._item(workspace_id)
        actions: list[Action] = [RegistryRecord.rolled_through.set(day.isoformat())]
        if series:
            actions.append(RegistryRecord.series.add(set(series)))
        condition = (RegistryRecord.rolled_through.does_not_exist()
                     | (RegistryRecord.rolled_through < day.isoformat()))
        try:
            item.update(actions=actions, condition=condition & RegistryRecord.workspace_id.exists())
        except UpdateError as exc:
            if getattr(exc, "cause_response_code", "") != "ConditionalCheckFailedException":
                raise
            if series:
                item.update(actions=[RegistryRecord.series.add(set(series))])


    def add_series(self, workspace_id: str, series: set[str]) -> None:
        if series:
            self._item(workspace_id).update(actions=[RegistryRecord.series.add(set(series))],
                                            condition=RegistryRecord.workspace_id.exists())


def _entry(record: RegistryRecord) -> RegistryEntry:
    rolled = date.fromisoformat(record.rolled_through) if record.rolled_through else None
    return RegistryEntry(record.workspace_id, record.timezone, rolled, set(record.series or ()))


def days_between(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]
