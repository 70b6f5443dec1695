"""Conversations and their messages.

One item collection per conversation, `pk = <workspace_id>#<conversation_id>`:
`sk = conversation` for the conversation, `sk = message#<network message id>`
for each message, `sk = reply#<reply_id>` for a reply Herald is sending or
failed to send. Indexes: `by_workspace`, `by_status`, `by_channel`,
`by_assignee` (conversations only, newest activity first) and `by_message`
(messages only: finds a message's conversation from its network id).
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pynamodb.attributes import MapAttribute, NumberAttribute, UnicodeAttribute, UnicodeSetAttribute
from pynamodb.connection import Connection
from pynamodb.exceptions import DoesNotExist, PutError, TransactWriteError, UpdateError
from pynamodb.expressions.condition import Condition
from pynamodb.indexes import GlobalSecondaryIndex, KeysOnlyProjection
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from chalicelib.core.pages import decode_cursor, encode_cursor
from chalicelib.core.tables import index_meta, string_list, table_meta
from chalicelib.inbox.conversation_filter import ConversationFilter
from chalicelib.publishing.post_repository import key_time

log = logging.getLogger("herald.inbox")

CONVERSATION_SK = "conversation"
MESSAGE_SK = "message#"
REPLY_SK = "reply#"


class Stale(Exception):
    """The conversation changed since it was read."""


@dataclass(frozen=True)
class EventMark:
    """The stored event a message write applies: its key, and its record (StoredEvent JSON, no text)."""

    key: str
    record: str


# -- models ----------------------------------------------------------------------


class _ConversationIndex(GlobalSecondaryIndex["ConversationRecord"]):
    activity_key = UnicodeAttribute(range_key=True)


class ByWorkspace(_ConversationIndex):
    Meta = index_meta("by_workspace")
    conv_workspace = UnicodeAttribute(hash_key=True)


class ByStatus(_ConversationIndex):
    Meta = index_meta("by_status")
    conv_status = UnicodeAttribute(hash_key=True)


class ByChannel(_ConversationIndex):
    Meta = index_meta("by_channel")
    conv_channel = UnicodeAttribute(hash_key=True)


class ByAssignee(_ConversationIndex):
    Meta = index_meta("by_assignee")
    conv_assignee = UnicodeAttribute(hash_key=True)


class ConversationRecord(Model):
    Meta = table_meta("inbox")
    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True, default=CONVERSATION_SK)
    workspace_id = UnicodeAttribute()
    conversation_id = UnicodeAttribute()
    channel_id = UnicodeAttribute()
    network = UnicodeAttribute()
    kind = UnicodeAttribute()
    thread_key = UnicodeAttribute()
    status = UnicodeAttribute()
    status_changed_at = UnicodeAttribute()
    assignee = UnicodeAttribute(null=True)
    tags = string_list(default=list)
    priority = UnicodeAttribute(default="normal")
    participant = MapAttribute(default=dict)  # type: ignore[var-annotated]
    last_message_at = UnicodeAttribute(null=True)
    last_message_id = UnicodeAttribute(null=True)
    last_message_preview = UnicodeAttribute(default="")
    first_inbound_at = UnicodeAttribute(null=True)
    first_response_at = UnicodeAttribute(null=True)
    first_response_s = NumberAttribute(null=True)
    # The first inbound message and its network time: the conversation "started" then.
    opened_by = UnicodeAttribute(null=True)
    opened_at = UnicodeAttribute(null=True)
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()
    version = NumberAttribute(default=0)
    conv_workspace = UnicodeAttribute()
    conv_status = UnicodeAttribute()
    conv_channel = UnicodeAttribute()
    conv_assignee = UnicodeAttribute(null=True)
    activity_key = UnicodeAttribute()
    by_workspace = ByWorkspace()
    by_status = ByStatus()
    by_channel = ByChannel()
    by_assignee = ByAssignee()


class ByMessage(GlobalSecondaryIndex["MessageRecord"]):
    class Meta:
        index_name = "by_message"
        projection = KeysOnlyProjection()

    message_ref = UnicodeAttribute(hash_key=True)


class MessageRecord(Model):
    Meta = table_meta("inbox")
    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    workspace_id = UnicodeAttribute(null=True)
    conversation_id = UnicodeAttribute(null=True)
    channel_id = UnicodeAttribute(null=True)
    message_id = UnicodeAttribute(null=True)
    direction = UnicodeAttribute(null=True)
    kind = UnicodeAttribute(null=True)
    text = UnicodeAttribute(default="")
    occurred_at = UnicodeAttribute(null=True)
    # The time of the edit that set `text`: a late, older edit never overwrites a newer one.
    # Any edit beats the creation, whatever their clocks say.
    text_at = UnicodeAttribute(null=True)
    edited_at = UnicodeAttribute(null=True)
    deleted_at = UnicodeAttribute(null=True)
    author_id = UnicodeAttribute(default="")
    author_name = UnicodeAttribute(default="")
    author_handle = UnicodeAttribute(default="")
    parent_id = UnicodeAttribute(null=True)
    reply_context = MapAttribute(default=dict)  # type: ignore[var-annotated]
    delivery_status = UnicodeAttribute(default="received")
    error = UnicodeAttribute(null=True)
    reply_id = UnicodeAttribute(null=True)
    # The stored events (StoredEvent.key) written into this message, each once: the queue consumer's
    # dedupe, the ingest path's "already applied" and how the stream consumer finds the event a change made.
    events = UnicodeSetAttribute(null=True)
    # The event of the last write, as StoredEvent JSON without its text (the message has it): what the
    # inbox table's stream consumer threads, counts and announces (chalicelib/inbox/message_stream.py).
    last_event = UnicodeAttribute(null=True)
    message_ref = UnicodeAttribute(null=True)
    by_message = ByMessage()


# -- rows --------------------------------------------------------------------------


@dataclass
class ConversationRow:
    workspace_id: str
    conversation_id: str
    channel_id: str
    network: str
    kind: str
    thread_key: str
    created_at: datetime
    updated_at: datetime
    status: str = "open"
    status_changed_at: datetime | None = None
    assignee: str | None = None
    tags: list[str] = field(default_factory=list)
    priority: str = "normal"
    participant: dict[str, str] = field(default_factory=dict)
    last_message_at: datetime | None = None
    last_message_id: str | None = None
    last_message_preview: str = ""
    first_inbound_at: datetime | None = None
    first_response_at: datetime | None = None
    first_response_s: int | None = None
    opened_by: str | None = None
    opened_at: datetime | None = None
    version: int = 0


@dataclass
class MessageRow:
    workspace_id: str
    conversation_id: str
    channel_id: str
    message_id: str | None
    direction: str
    kind: str
    text: str
    occurred_at: datetime
    author_id: str = ""
    author_name: str = ""
    author_handle: str = ""
    parent_id: str | None = None
    reply_context: dict[str, Any] = field(default_factory=dict)
    edited_at: datetime | None = None
    deleted_at: datetime | None = None
    delivery_status: str = "received"
    error: str | None = None
    reply_id: str | None = None


def conversation_pk(workspace_id: str, conversation_id: str) -> str:
    return f"{workspace_id}#{conversation_id}"


def message_ref(workspace_id: str, channel_id: str, message_id: str) -> str:
    return f"{workspace_id}#{channel_id}#{message_id}"


def _time(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text.replace("Z", "+00:00")) if text else None


def _text_time(moment: datetime | None) -> str | None:
    return key_time(moment) if moment else None


def _plain(value: Any) -> Any:
    if hasattr(value, "as_dict"):
        return value.as_dict()
    return dict(value or {})


def _conversation_row(r: ConversationRecord) -> ConversationRow:
    return ConversationRow(
        r.workspace_id, r.conversation_id, r.channel_id, r.network, r.kind, r.thread_key,
        _time(r.created_at), _time(r.updated_at), r.status, _time(r.status_changed_at),  # type: ignore[arg-type]
        r.assignee, list(r.tags or []), r.priority or "normal", _plain(r.participant),
        _time(r.last_message_at), r.last_message_id, r.last_message_preview or "", _time(r.first_inbound_at),
        _time(r.first_response_at),
        int(r.first_response_s) if r.first_response_s is not None else None, r.opened_by, _time(r.opened_at),
        int(r.version or 0),
    )


def _conversation_record(row: ConversationRow) -> ConversationRecord:
    ws = row.workspace_id
    activity = row.last_message_at or row.created_at
    return ConversationRecord(
        conversation_pk(ws, row.conversation_id), CONVERSATION_SK, workspace_id=ws,
        conversation_id=row.conversation_id, channel_id=row.channel_id, network=row.network, kind=row.kind,
        thread_key=row.thread_key, status=row.status,
        status_changed_at=_text_time(row.status_changed_at or row.created_at), assignee=row.assignee,
        tags=row.tags, priority=row.priority, participant=row.participant,
        last_message_at=_text_time(row.last_message_at), last_message_id=row.last_message_id,
        last_message_preview=row.last_message_preview, first_inbound_at=_text_time(row.first_inbound_at),
        first_response_at=_text_time(row.first_response_at), first_response_s=row.first_response_s,
        opened_by=row.opened_by, opened_at=_text_time(row.opened_at), created_at=key_time(row.created_at),
        updated_at=key_time(row.updated_at), version=row.version,
        conv_workspace=ws, conv_status=f"{ws}#{row.status}", conv_channel=f"{ws}#{row.channel_id}",
        conv_assignee=f"{ws}#{row.assignee}" if row.assignee else None,
        activity_key=f"{key_time(activity)}#{row.conversation_id}",
    )


def _message_row(r: MessageRecord) -> MessageRow:
    return MessageRow(
        r.workspace_id or "", r.conversation_id or "", r.channel_id or "", r.message_id,
        r.direction or "inbound",
        r.kind or "comment", r.text or "", _time(r.occurred_at), r.author_id or "",  # type: ignore[arg-type]
        r.author_name or "", r.author_handle or "", r.parent_id, _plain(r.reply_context), _time(r.edited_at),
        _time(r.deleted_at), r.delivery_status or "received", r.error, r.reply_id,
    )


def _message_attributes(row: MessageRow) -> dict[str, Any]:
    return {
        "workspace_id": row.workspace_id, "conversation_id": row.conversation_id,
        "channel_id": row.channel_id,
        "message_id": row.message_id, "direction": row.direction, "kind": row.kind, "text": row.text,
        "occurred_at": key_time(row.occurred_at), "author_id": row.author_id, "author_name": row.author_name,
        "author_handle": row.author_handle, "parent_id": row.parent_id, "reply_context": row.reply_context,
        "delivery_status": row.delivery_status, "error": row.error, "reply_id": row.reply_id,
        "edited_at": _text_time(row.edited_at), "deleted_at": _text_time(row.deleted_at),
        "message_ref": (message_ref(row.workspace_id, row.channel_id, row.message_id)
                        if row.message_id else None),
    }


def _message_record(row: MessageRow, sk: str) -> MessageRecord:
    pk = conversation_pk(row.workspace_id, row.conversation_id)
    return MessageRecord(pk, sk, **_message_attributes(row))


def in_reading_order(rows: list[MessageRow]) -> list[MessageRow]:
    """By time; at the same instant a message comes after the one it answers, inbound first."""
    parents = {row.message_id: row.parent_id for row in rows if row.message_id}

    def depth(row: MessageRow) -> int:
        seen, parent = set(), row.parent_id
        while parent in parents and parent not in seen:
            seen.add(parent)
            parent = parents[parent]
        return len(seen)

    return sorted(rows, key=lambda m: (m.occurred_at, depth(m), m.direction != "inbound",
                                       m.message_id or m.reply_id or ""))


def _conversation_index(ws: str, wanted: ConversationFilter) -> tuple[_ConversationIndex, str, str]:
    """The most selective index for the filter, with its hash key's attribute name and value."""
    if wanted.assignee:
        return ConversationRecord.by_assignee, "conv_assignee", f"{ws}#{wanted.assignee}"
    if wanted.channel_id:
        return ConversationRecord.by_channel, "conv_channel", f"{ws}#{wanted.channel_id}"
    if wanted.status:
        return ConversationRecord.by_status, "conv_status", f"{ws}#{wanted.status}"
    return ConversationRecord.by_workspace, "conv_workspace", ws


def _conversation_filter(wanted: ConversationFilter, attribute: str) -> Condition | None:
    """What the filter asks beyond the index read (hash key `attribute`), as one condition."""
    conditions: list[Condition] = []
    if wanted.status and attribute != "conv_status":
        conditions.append(ConversationRecord.status == wanted.status)
    if wanted.channel_id and attribute not in ("conv_channel",):
        conditions.append(ConversationRecord.channel_id == wanted.channel_id)
    if wanted.kind:
        conditions.append(ConversationRecord.kind == wanted.kind)
    if wanted.tag:
        conditions.append(ConversationRecord.tags.contains(wanted.tag))
    filter_condition: Condition | None = None
    for condition in conditions:
        filter_condition = condition if filter_condition is None else filter_condition & condition
    return filter_condition


def _conditional_failure(exc: Exception) -> bool:
    return getattr(exc, "cause_response_code", "") == "ConditionalCheckFailedException"


class InboxRepository:
    def __init__(self, connection: Connection | None = None) -> None:
        self._connection = connection

    @property
    def connection(self) -> Connection:
        if self._connection is None:
            # The models' own connection: a second one would load botocore's data files again.
            self._connection = MessageRecord._get_connection().connection
        return self._connection

    # -- conversations -------------------------------------------------------------

    def get_conversation(self, workspace_id: str, conversation_id: str) -> ConversationRow | None:
        try:
            record = ConversationRecord.get(conversation_pk(workspace_id, conversation_id), CONVERSATION_SK,
                                            consistent_read=True)
        except DoesNotExist:
            return None
        return _conversation_row(record)

    def save_conversation(self, row: ConversationRow) -> ConversationRow:
        """Writes the conversation if nobody else did since `row.version` was read."""
        expected = row.version
        record = _conversation_record(row)
        record.version = expected + 1
        condition = (ConversationRecord.pk.does_not_exist() if expected == 0
                     else ConversationRecord.version == expected)
        try:
            record.save(condition=condition)
        except PutError as exc:
            if _conditional_failure(exc):
                raise Stale(row.conversation_id) from None
            raise
        row.version = expected + 1
        return row

    def list_conversations(self, workspace_id: str, wanted: ConversationFilter, limit: int,
                           cursor: str | None) -> tuple[list[ConversationRow], str | None]:
        """Newest activity first, through the most selective index; other filters are applied to it."""
        index, attribute, key = _conversation_index(workspace_id, wanted)
        filter_condition = _conversation_filter(wanted, attribute)
        result = index.query(
            key, filter_condition=filter_condition, scan_index_forward=False, limit=limit,
            page_size=max(limit, 100) if filter_condition is not None else None,
            last_evaluated_key=decode_cursor(cursor, {attribute: key}),
        )
        rows = [_conversation_row(r) for r in result]
        return rows, encode_cursor(result.last_evaluated_key) if len(rows) == limit else None

    # -- messages ------------------------------------------------------------------

    def messages(self, workspace_id: str, conversation_id: str) -> list[MessageRow]:
        """Every message and reply of a conversation, oldest first."""
        records = MessageRecord.query(conversation_pk(workspace_id, conversation_id),
                                      MessageRecord.sk > CONVERSATION_SK, consistent_read=True)
        # A keyed reply's record, once sent, only guards its key: the message itself is shown.
        return in_reading_order([_message_row(r) for r in records
                                 if not (r.sk.startswith(REPLY_SK) and r.delivery_status == "sent")])

    def message(self, workspace_id: str, conversation_id: str, message_id: str) -> MessageRow | None:
        try:
            record = MessageRecord.get(conversation_pk(workspace_id, conversation_id), MESSAGE_SK + message_id,
                                       consistent_read=True)
        except DoesNotExist:
            return None
        return _message_row(record)

    def find_message(self, workspace_id: str, channel_id: str, message_id: str) -> str | None:
        """The conversation holding a network message, if Herald has it."""
        ref = message_ref(workspace_id, channel_id, message_id)
        for record in MessageRecord.by_message.query(ref, limit=1):
            return record.pk.split("#", 1)[1]
        return None

    def add_message(self, row: MessageRow, event: EventMark) -> bool:
        """Stores a new message, or marks its creation on the one an earlier edit, deletion or reply made
        (nothing Herald already knows is overwritten). False when this event was written before."""
        actions = self._if_not_there(row, exclude=("edited_at", "deleted_at"))
        return self._write_event(row, event, actions, None)

    def edit_message(self, row: MessageRow, at: datetime, event: EventMark) -> bool:
        """Sets the text as of `at`, unless the message was deleted or a later edit is already there."""
        fresh = MessageRecord.text_at.does_not_exist() | (MessageRecord.text_at < key_time(at))
        condition = MessageRecord.pk.does_not_exist() | (MessageRecord.deleted_at.does_not_exist() & fresh)
        actions = [MessageRecord.text.set(row.text), MessageRecord.text_at.set(key_time(at)),
                   MessageRecord.edited_at.set(key_time(at))]
        actions += self._if_not_there(row, exclude=("text", "edited_at", "deleted_at"))
        return self._write_event(row, event, actions, condition)

    def delete_message(self, row: MessageRow, at: datetime, event: EventMark) -> bool:
        """Marks the message deleted and forgets its words, whatever order its events came in."""
        actions = [MessageRecord.text.set(""), MessageRecord.deleted_at.set(key_time(at)),
                   MessageRecord.text_at.set(key_time(at))]
        actions += self._if_not_there(row, exclude=("text", "edited_at", "deleted_at"))
        return self._write_event(row, event, actions, MessageRecord.deleted_at.does_not_exist())

    def has_event(self, workspace_id: str, conversation_id: str, message_id: str, event_key: str) -> bool:
        """Whether this stored event was written into the message (a consistent read)."""
        try:
            record = MessageRecord.get(conversation_pk(workspace_id, conversation_id), MESSAGE_SK + message_id,
                                       consistent_read=True, attributes_to_get=["events"])
        except DoesNotExist:
            return False
        return event_key in (record.events or set())

    @staticmethod
    def _if_not_there(row: MessageRow, exclude: tuple[str, ...]) -> list[Any]:
        actions: list[Any] = []
        for name, value in _message_attributes(row).items():
            if name in exclude or value is None:
                continue
            attribute = getattr(MessageRecord, name)
            actions.append(attribute.set(attribute | value))  # if_not_exists: never overwrite what is known
        return actions

    def _write_event(self, row: MessageRow, event: EventMark, actions: list[Any],
                     condition: Condition | None) -> bool:
        """One update (it also creates the message, should this event come before the one that made it),
        recording the event in the same write. When the change itself is refused (a later edit or the
        deletion is there already), the event is still recorded, changing nothing else: it was applied."""
        assert row.message_id is not None
        record = MessageRecord(conversation_pk(row.workspace_id, row.conversation_id),
                               MESSAGE_SK + row.message_id)
        new_event = ~MessageRecord.events.contains(event.key)
        mark: list[Any] = [MessageRecord.events.add({event.key}), MessageRecord.last_event.set(event.record)]
        try:
            record.update(actions=actions + mark, condition=new_event if condition is None
                          else new_event & condition)
            return True
        except UpdateError as exc:
            if not _conditional_failure(exc):
                raise
            if condition is None:
                return False
        try:  # refused: written before (this fails too), or superseded (only the event is recorded)
            record.update(actions=mark, condition=MessageRecord.pk.exists() & new_event)
        except UpdateError as exc:
            if _conditional_failure(exc):
                return False
            raise
        return True

    # -- replies sent from Herald ------------------------------------------------------

    def start_reply(self, row: MessageRow, *, keyed: bool = False) -> MessageRow | None:
        """Records a reply about to be sent. A keyed reply's id comes from its idempotency key:
        when that reply exists already, nothing is written and the earlier one is returned."""
        assert row.reply_id is not None
        record = _message_record(row, REPLY_SK + row.reply_id)
        if not keyed:
            record.save()
            return None
        try:
            record.save(condition=MessageRecord.pk.does_not_exist())
        except PutError as exc:
            if not _conditional_failure(exc):
                raise
            earlier = MessageRecord.get(record.pk, record.sk, consistent_read=True)
            return _message_row(earlier)
        return None

    def reply_sent(self, pending: MessageRow, sent: MessageRow,
                   count: Callable[[TransactWrite], None] | None = None, *, keyed: bool = False) -> None:
        """The network took the reply: it becomes the message the network's own events will name.

        `count` adds the reply's counter to the same transaction, so it is counted once. A keyed
        reply's record stays, marked sent, so the same key never sends it again."""
        assert pending.reply_id is not None and sent.message_id is not None
        record = _message_record(sent, MESSAGE_SK + sent.message_id)
        reply_record = MessageRecord(conversation_pk(pending.workspace_id, pending.conversation_id),
                                     REPLY_SK + pending.reply_id)
        try:
            with TransactWrite(connection=self.connection) as tx:
                if keyed:
                    tx.update(reply_record, actions=[MessageRecord.delivery_status.set("sent"),
                                                     MessageRecord.message_id.set(sent.message_id)])
                else:
                    tx.delete(reply_record)
                tx.save(record)
                if count is not None:
                    count(tx)
        except TransactWriteError:
            # Keep the outcome whatever went wrong with the rest (the count is lost then).
            log.exception("Recording reply %s as sent needed a second try", pending.reply_id)
            record.save()

    def reply_failed(self, pending: MessageRow, status: str, error: str) -> None:
        assert pending.reply_id is not None
        MessageRecord(conversation_pk(pending.workspace_id, pending.conversation_id),
                      REPLY_SK + pending.reply_id).update(
            actions=[MessageRecord.delivery_status.set(status), MessageRecord.error.set(error)])
