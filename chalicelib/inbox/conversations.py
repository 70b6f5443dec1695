"""The unified inbox: threading events into conversations, triage, replies.

Threading: a comment thread on one post is one conversation, keyed by the post
(`thread_key`); a direct-message thread with one person is one conversation,
keyed by that person. The conversation id is derived from that key, so the
same event always lands in the same conversation without a lookup. A message
Herald already has (an edit, a delete, a duplicate) stays where it is, and a
reply to a message Herald has (`parent_id`: Mastodon and X thread a reply on
the status it answers) joins that message's conversation.

Every change to a conversation is a pure `fold` of one message into it,
written with an optimistic version check. `fold` keeps maxima and minima
rather than counters, so applying the same message twice changes nothing.
"""
from __future__ import annotations

import base64
import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Literal

from chalicelib.core.clock import Clock
from chalicelib.core.errors import Conflict, NotFound, ValidationFailed
from chalicelib.core.ids import new_id
from chalicelib.inbox.conversation_filter import ConversationFilter
from chalicelib.inbox.conversation_repository import (
    ConversationRow,
    EventMark,
    InboxRepository,
    MessageRow,
    Stale,
)
from chalicelib.inbox.stored_events import StoredEvent
from chalicelib.networks.base import NetworkAdapter, NetworkError, ReplyRequest
from chalicelib.networks.failures import REPLY_WORDING, classify_network_error

log = logging.getLogger("herald.inbox")

PREVIEW_CHARS = 200
SAVE_ATTEMPTS = 8
# Longer than any request may run (API Gateway stops at 29 s): a reply still `sending`
# after this was cut off mid-way, and may or may not have reached the network.
SENDING_FOR_AT_MOST = timedelta(minutes=2)
STATUSES = ("open", "pending", "closed")


def conversation_id_for(workspace_id: str, channel_id: str, kind: str, thread_key: str) -> str:
    # Comments and mentions of one post share a conversation; a person's DMs are another.
    family = "dm" if kind == "message" else "post"
    digest = hashlib.sha256(f"{workspace_id}\n{channel_id}\n{family}\n{thread_key}".encode()).digest()
    return "cv_" + base64.b32encode(digest[:15]).decode().lower()


@dataclass(frozen=True)
class ThreadUpdate:
    """One message, as it changes its conversation."""

    workspace_id: str
    conversation_id: str
    channel_id: str
    network: str
    kind: str
    thread_key: str
    message_id: str
    action: Literal["created", "edited", "deleted"]
    direction: Literal["inbound", "outbound"]
    text: str
    occurred_at: datetime  # the network's time for the message
    seen_at: datetime  # when it reached Herald, or left it: response times use Herald's clock
    author: dict[str, str]


def fold(current: ConversationRow | None, update: ThreadUpdate) -> ConversationRow:
    """The conversation after `update`; the very same object when nothing changes."""
    u = update
    if current is not None:
        conv = replace(current, tags=list(current.tags), participant=dict(current.participant))
    else:
        # Nothing to answer yet when it starts with our own words or a deletion: the first
        # inbound message opens it.
        starts_open = u.direction == "inbound" and u.action != "deleted"
        conv = ConversationRow(u.workspace_id, u.conversation_id, u.channel_id, u.network, u.kind,
                               u.thread_key, created_at=u.seen_at, updated_at=u.seen_at,
                               status_changed_at=u.seen_at, status="open" if starts_open else "closed")
    if u.action == "created":
        newest = conv.last_message_at is None or u.occurred_at > conv.last_message_at or (
            u.occurred_at == conv.last_message_at and u.message_id == conv.last_message_id)
        if newest:
            conv.last_message_at, conv.last_message_id = u.occurred_at, u.message_id
            conv.last_message_preview = u.text[:PREVIEW_CHARS]
        if u.direction == "inbound":
            _fold_inbound(conv, u)
        else:
            _fold_outbound(conv, u)
    elif u.message_id == conv.last_message_id:
        conv.last_message_preview = "" if u.action == "deleted" else u.text[:PREVIEW_CHARS]
    if current is not None and conv == current:
        return current
    conv.updated_at = max(conv.updated_at, u.seen_at)
    return conv


def _fold_inbound(conv: ConversationRow, u: ThreadUpdate) -> None:
    if conv.first_inbound_at is None or u.seen_at < conv.first_inbound_at:
        conv.first_inbound_at, conv.opened_by, conv.opened_at = u.seen_at, u.message_id, u.occurred_at
    # Only a message that arrived after the conversation was closed reopens it,
    # so a redelivered old event cannot.
    if conv.status != "open" and (conv.status_changed_at is None or u.seen_at >= conv.status_changed_at):
        conv.status, conv.status_changed_at = "open", u.seen_at
    if u.author.get("id") and (u.kind == "message" or not conv.participant):
        conv.participant = {k: v for k, v in u.author.items() if v}
    _measure_first_response(conv)


def _fold_outbound(conv: ConversationRow, u: ThreadUpdate) -> None:
    if conv.first_inbound_at is not None and u.seen_at >= conv.first_inbound_at and (
            conv.first_response_at is None or u.seen_at < conv.first_response_at):
        conv.first_response_at = u.seen_at
    _measure_first_response(conv)


def _measure_first_response(conv: ConversationRow) -> None:
    if conv.first_inbound_at is not None and conv.first_response_at is not None:
        if conv.first_response_at < conv.first_inbound_at:
            conv.first_response_at = conv.first_response_s = None  # an answer to nothing
        else:
            conv.first_response_s = round((conv.first_response_at - conv.first_inbound_at).total_seconds())


@dataclass(frozen=True)
class Applied:
    conversation: ConversationRow
    # True when this event gave the conversation its first response time (every time it is threaded).
    answered: bool = False


def _answered(before: ConversationRow | None, after: ConversationRow) -> bool:
    return after.first_response_at is not None and (before is None or before.first_response_at is None)


def clean_tags(tags: list[str]) -> list[str]:
    return list(dict.fromkeys(" ".join(tag.split()) for tag in tags if tag.strip()))


class InboxService:
    def __init__(self, repository: InboxRepository, channels: Any, adapters: Callable[[str], NetworkAdapter],
                 saved_replies: Any, clock: Clock, metrics: Any = None) -> None:
        self.repository = repository
        self.channels = channels
        self.adapters = adapters
        self.saved_replies = saved_replies
        self.clock = clock
        self.metrics = metrics  # services/inbox_metrics.py; None counts nothing

    # -- events in -------------------------------------------------------------------

    def store(self, stored: StoredEvent) -> bool:
        """Writes one stored event into its message: the queue consumer's one write. Safe to repeat:
        False when this event was written before. The conversation follows from the inbox table's
        stream (`thread`)."""
        event = stored.event
        row = self._message_row(stored, self._conversation_for(stored))
        mark = EventMark(stored.key, stored.to_json(with_text=False))
        if event.action == "created":
            return self.repository.add_message(row, mark)
        if event.action == "edited":
            return self.repository.edit_message(row, event.occurred_at, mark)
        return self.repository.delete_message(row, event.occurred_at, mark)

    def has_event(self, stored: StoredEvent) -> bool:
        """Whether the queue consumer wrote this stored event (the ingest path's duplicate check)."""
        return self.repository.has_event(stored.workspace_id, self._conversation_for(stored),
                                         stored.event.message_id, stored.key)

    def thread(self, stored: StoredEvent, conversation_id: str) -> Applied:
        """Folds an event the queue consumer wrote into its conversation. Safe to repeat: `answered`
        says the same each time (the stream consumer counts it once by its key)."""
        event = stored.event
        update = ThreadUpdate(
            stored.workspace_id, conversation_id, stored.channel_id, event.network, event.kind,
            event.thread_key, event.message_id, event.action, event.direction, event.text, event.occurred_at,
            stored.received_at,
            {"id": event.author_id, "name": event.author_name, "handle": event.author_handle},
        )
        _before, conversation = self._change(stored.workspace_id, conversation_id,
                                             lambda current: fold(current, update))
        answered_at = conversation.first_response_at
        answered = (event.direction == "outbound" and conversation.first_response_s is not None
                    and answered_at is not None  # times are kept to the millisecond
                    and abs((answered_at - stored.received_at).total_seconds()) < 0.001)
        return Applied(conversation, answered)

    @staticmethod
    def _message_row(stored: StoredEvent, conversation_id: str) -> MessageRow:
        event = stored.event
        return MessageRow(
            stored.workspace_id, conversation_id, stored.channel_id, event.message_id, event.direction,
            event.kind, event.text, event.occurred_at, event.author_id, event.author_name,
            event.author_handle, event.parent_id, dict(event.reply_context),
        )

    def _conversation_for(self, stored: StoredEvent) -> str:
        event = stored.event
        # An edit or a deletion goes where its message is; any event answering a known message
        # goes where that one is. The same event always resolves the same way, so a new message
        # needs no lookup of its own id.
        lookups = (event.parent_id,) if event.action == "created" else (event.message_id, event.parent_id)
        for known in lookups:
            if known:
                found = self.repository.find_message(stored.workspace_id, stored.channel_id, known)
                if found:
                    return found
        return conversation_id_for(stored.workspace_id, stored.channel_id, event.kind, event.thread_key)

    def raise_priority(self, workspace_id: str, conversation_id: str) -> ConversationRow:
        def change(current: ConversationRow | None) -> ConversationRow | None:
            if current is None or current.priority == "high":
                return current
            return replace(current, priority="high")

        return self._change(workspace_id, conversation_id, change)[1]

    def _change(self, workspace_id: str, conversation_id: str,
                change: Callable[[ConversationRow | None], ConversationRow | None],
                ) -> tuple[ConversationRow | None, ConversationRow]:
        """(before, after) of the one write that changed the conversation; both the same when none did."""
        for _attempt in range(SAVE_ATTEMPTS):
            current = self.repository.get_conversation(workspace_id, conversation_id)
            changed = change(current)
            if changed is None:
                raise NotFound(f"No conversation {conversation_id} in this workspace.")
            if changed is current:
                return current, current
            try:
                return current, self.repository.save_conversation(changed)
            except Stale:
                continue
        raise Conflict("The conversation kept changing while it was being updated; try again.",
                       code="version_conflict")

    # -- reading and triage -------------------------------------------------------------

    def get(self, workspace_id: str, conversation_id: str) -> tuple[ConversationRow, list[MessageRow]]:
        conversation = self.repository.get_conversation(workspace_id, conversation_id)
        if conversation is None:
            raise NotFound(f"No conversation {conversation_id} in this workspace.")
        cut_off = self.clock.now() - SENDING_FOR_AT_MOST
        messages = [
            replace(m, delivery_status="unknown", error="Herald stopped while sending this reply; it may or may "
                                                        "not have reached the network. Check there before sending "
                                                        "it again.")
            if m.delivery_status == "sending" and m.occurred_at < cut_off else m
            for m in self.repository.messages(workspace_id, conversation_id)
        ]
        return conversation, messages

    def list(self, workspace_id: str, wanted: ConversationFilter, limit: int,
             cursor: str | None) -> tuple[list[ConversationRow], str | None]:
        if wanted.channel_id is not None:
            # As on /posts and /metrics/daily: another workspace's channel (or none) is not found, not empty.
            self.channels.get(workspace_id, wanted.channel_id)
        return self.repository.list_conversations(workspace_id, wanted, limit, cursor)

    def update(self, workspace_id: str, conversation_id: str, changes: dict[str, Any]) -> ConversationRow:
        now = self.clock.now()

        def change(current: ConversationRow | None) -> ConversationRow | None:
            if current is None:
                return None
            conv = replace(current, tags=list(current.tags))
            if "status" in changes and changes["status"] != conv.status:
                conv.status, conv.status_changed_at = changes["status"], now
            if "assignee" in changes:
                conv.assignee = changes["assignee"] or None
            if "tags" in changes:
                conv.tags = clean_tags(changes["tags"] or [])
            if "priority" in changes:
                conv.priority = changes["priority"]
            if conv == current:
                return current
            conv.updated_at = now
            return conv

        return self._change(workspace_id, conversation_id, change)[1]

    # -- replies out ----------------------------------------------------------------------

    def reply(self, workspace_id: str, conversation_id: str, *, text: str | None = None,
              saved_reply_id: str | None = None, variables: dict[str, str] | None = None,
              in_reply_to: str | None = None, idempotency_key: str | None = None
              ) -> tuple[MessageRow, ConversationRow]:
        """Answers through the network and records the answer with how it went. With an
        idempotency key, a repeated request (a double click, a retried call) answers with the
        reply the first one made, and nothing is sent twice."""
        conversation, messages = self.get(workspace_id, conversation_id)
        text, outside_window = self._compose(workspace_id, text, saved_reply_id, variables)
        target = _reply_target(messages, in_reply_to)
        channel = self.channels.find(workspace_id, conversation.channel_id)
        if channel is None:
            raise Conflict("The channel of this conversation was disconnected; reconnect it to reply.",
                           code="channel_gone")
        draft = ReplyRequest(reply_id="", text=text, in_reply_to=target.message_id or "",
                             thread=dict(target.reply_context), kind=target.kind,  # type: ignore[arg-type]
                             **outside_window)
        adapter = self.adapters(channel.network)
        _refuse_closed_window(adapter, draft)
        now = self.clock.now()
        keyed = idempotency_key is not None
        pending = MessageRow(
            workspace_id, conversation_id, channel.channel_id, None, "outbound", target.kind, text, now,
            author_name=channel.name, author_handle=channel.handle or "", parent_id=target.message_id,
            delivery_status="sending",
            reply_id=new_id("rp") if idempotency_key is None
            else keyed_reply_id(workspace_id, conversation_id, idempotency_key),
        )
        earlier = self.repository.start_reply(pending, keyed=keyed)
        if earlier is not None:
            return self._earlier_reply(earlier, pending), conversation
        request = replace(draft, reply_id=pending.reply_id or "")
        try:
            result = adapter.reply(self.channels.context_for(channel), request)
        except NetworkError as error:
            return self._reply_failed(pending, channel, error), conversation
        except Exception as error:  # a bug after the request may have gone out: say so, never resend
            log.exception("Unexpected error replying in %s", conversation_id)
            return self._reply_failed(pending, channel, error), conversation
        sent = replace(pending, message_id=result.remote_id, delivery_status="sent",
                       occurred_at=result.published_at or now)
        count = None
        if self.metrics is not None:
            def count(transaction: Any) -> None:
                self.metrics.reply_sent(conversation, sent.occurred_at, transaction=transaction)
        self.repository.reply_sent(pending, sent, count, keyed=keyed)
        update = ThreadUpdate(
            workspace_id, conversation_id, channel.channel_id, channel.network, target.kind,
            conversation.thread_key, result.remote_id, "created", "outbound", text, sent.occurred_at,
            self.clock.now(),
            {"name": channel.name, "handle": channel.handle or ""},
        )
        before, conversation = self._change(workspace_id, conversation_id,
                                            lambda current: fold(current, update))
        if self.metrics is not None and _answered(before, conversation):
            try:
                self.metrics.first_response(conversation)
            except Exception:  # the reply went out; a lost count must not say otherwise
                log.exception("Could not count the first response of %s", conversation_id)
        return sent, conversation

    def _compose(self, workspace_id: str, text: str | None, saved_reply_id: str | None,
                 variables: dict[str, str] | None) -> tuple[str, dict[str, Any]]:
        """The reply's text, and what its saved reply may send once a messaging window closed."""
        outside_window: dict[str, Any] = {}
        if saved_reply_id:
            text = self.saved_replies.render(workspace_id, saved_reply_id, variables or {})
            outside_window = _outside_window(self.saved_replies.get(workspace_id, saved_reply_id))
        if not text or not text.strip():
            raise ValidationFailed.field("text", "a reply needs some text")
        return text, outside_window

    def _earlier_reply(self, earlier: MessageRow, pending: MessageRow) -> MessageRow:
        if earlier.text != pending.text:
            raise Conflict("This Idempotency-Key was used for a different reply; use a new key for a new reply.",
                           code="idempotency_key_reused")
        if earlier.delivery_status == "sent" and earlier.message_id:
            # The message as it is now (the network's echo may have merged into it).
            return self.repository.message(earlier.workspace_id, earlier.conversation_id,
                                           earlier.message_id) or earlier
        return earlier

    def _reply_failed(self, pending: MessageRow, channel: Any, error: Exception) -> MessageRow:
        # A reply is tried once: a person decides whether to send it again.
        failure = classify_network_error(error, 1, network=channel.network, wording=REPLY_WORDING)
        if failure.needs_reauth:
            self.channels.mark_needs_reauth(channel.workspace_id, channel.channel_id)
        self.repository.reply_failed(pending, failure.status, failure.message)
        return replace(pending, delivery_status=failure.status, error=failure.message)


def _refuse_closed_window(adapter: Any, draft: ReplyRequest) -> None:
    """A messaging network whose window closed (WhatsApp, Messenger: 24 hours) refuses a reply that names no
    template or tag before anything is recorded or sent: a 409 a person reads, not a failed reply."""
    problem = getattr(adapter, "reply_problem", None)
    reason = problem(draft) if problem is not None else None
    if reason:
        raise Conflict(reason, code="reply_window_closed")


def _outside_window(saved: Any) -> dict[str, Any]:
    """What a saved reply may send after a messaging window closed (WhatsApp template, Messenger tag)."""
    fields = {"template_name": saved.template_name, "message_tag": saved.message_tag}
    if saved.template_language:
        fields["template_language"] = saved.template_language
    return {name: value for name, value in fields.items() if value}


def keyed_reply_id(workspace_id: str, conversation_id: str, idempotency_key: str) -> str:
    """The same key in the same conversation always names the same reply."""
    digest = hashlib.sha256(f"{workspace_id}\n{conversation_id}\n{idempotency_key}".encode()).hexdigest()
    return f"rp_k{digest[:23]}"


def _reply_target(messages: list[MessageRow], in_reply_to: str | None) -> MessageRow:
    """The message answered: the one asked for, else the newest inbound message still there."""
    if in_reply_to:
        for message in messages:
            if message.message_id == in_reply_to:
                return message
        raise ValidationFailed.field("in_reply_to", f"no message {in_reply_to} in this conversation")
    for message in reversed(messages):
        if message.direction == "inbound" and message.deleted_at is None and message.message_id:
            return message
    raise Conflict("This conversation has no message from someone else to answer.", code="nothing_to_answer")
