"""What the inbox tells the metrics counters (metrics/counters.py), each thing once.

- an inbound message (comment, DM, mention), once per stored event, flagged when it
  opened its conversation;
- a listening match, once per event and rule;
- a reply the network took, in the same transaction that records it;
- a conversation's first response, once per conversation.

The first, second and last are counted by the inbox table stream's consumer, which may see
an event twice: each commits with a marker keyed by what it counts (COUNTED_KEPT_FOR: past the
stream's 24 hours), so a record delivered again counts nothing.
"""
from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from chalicelib.core.clock import Clock
from chalicelib.inbox.conversation_repository import ConversationRow
from chalicelib.inbox.stored_events import StoredEvent

log = logging.getLogger("herald.inbox_metrics")

COUNTED_KEPT_FOR = timedelta(days=7)


class InboxMetrics:
    def __init__(self, counters: Any, clock: Clock) -> None:
        self.counters = counters
        self.clock = clock

    def _once(self, key: str) -> tuple[str, Any]:
        return key, self.clock.now() + COUNTED_KEPT_FOR

    def after_ingest(self, stored: StoredEvent, applied: Any, mentions: list[Any]) -> None:
        """The stream consumer's per-event hook: may run more than once for an event."""
        event = stored.event
        ws, channel = stored.workspace_id, stored.channel_id
        if event.direction == "inbound" and event.action == "created":
            opened = applied.conversation.opened_by == event.message_id
            self.counters.record_inbound(ws, channel, event.kind, event.occurred_at, new_conversation=opened,
                                         once=self._once(f"inbound#{stored.key}"))
        for mention in mentions:
            self.counters.record_listening_match(ws, stored.received_at, channel_id=channel,
                                                 once=self._once(f"match#{mention.mention_id}"))
        if applied.answered:
            self.first_response(applied.conversation)

    def reply_sent(self, conversation: ConversationRow, sent_at: Any, transaction: Any = None) -> None:
        self.counters.record_reply_sent(conversation.workspace_id, conversation.channel_id, sent_at,
                                        transaction=transaction)

    def first_response(self, conversation: ConversationRow) -> None:
        """Once per conversation, whether a reply from Herald or one made on the network answered it."""
        started = conversation.opened_at or conversation.first_inbound_at
        if started is None or conversation.first_response_s is None:
            return
        self.counters.record_first_response(conversation.workspace_id, conversation.channel_id, started,
                                            float(conversation.first_response_s),
                                            once=self._once(f"answered#{conversation.conversation_id}"))
