"""What the inbox tells the metrics counters (services/counters.py), each thing once.

- an inbound message (comment, DM, mention), once per stored event, flagged when it
  opened its conversation;
- a listening match, once per event and rule;
- a reply the network took, in the same transaction that records it;
- a conversation's first response, by the one write that set it.
"""
from __future__ import annotations

import logging
from typing import Any

from chalicelib.inbox.conversation_repository import ConversationRow
from chalicelib.inbox.stored_events import StoredEvent

log = logging.getLogger("herald.inbox_metrics")


class InboxMetrics:
    def __init__(self, counters: Any) -> None:
        self.counters = counters

    def after_ingest(self, stored: StoredEvent, applied: Any, mentions: list[Any]) -> None:
        """The consumer's per-event hook: runs once per stored event."""
        event = stored.event
        ws, channel = stored.workspace_id, stored.channel_id
        if event.direction == "inbound" and event.action == "created":
            opened = applied.conversation.opened_by == event.message_id
            self.counters.record_inbound(ws, channel, event.kind, event.occurred_at, new_conversation=opened)
        for _mention in mentions:
            self.counters.record_listening_match(ws, stored.received_at, channel_id=channel)
        if applied.answered:
            self.first_response(applied.conversation)

    def reply_sent(self, conversation: ConversationRow, sent_at: Any, transaction: Any = None) -> None:
        self.counters.record_reply_sent(conversation.workspace_id, conversation.channel_id, sent_at,
                                        transaction=transaction)

    def first_response(self, conversation: ConversationRow) -> None:
        started = conversation.opened_at or conversation.first_inbound_at
        if started is None or conversation.first_response_s is None:
            return
        self.counters.record_first_response(conversation.workspace_id, conversation.channel_id, started,
                                            float(conversation.first_response_s))
