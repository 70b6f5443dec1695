"""What the inbox tells the metrics counters (metrics/counters.py), each thing once.

- an inbound message (comment, DM, mention), once per stored event, flagged when it
  opened its conversation;
- a listening match, once per rule and post (network, remote post id), whether the post reached the
  inbox, a network search (inbox/listening_search.py), or both;
- a reply the network took, in the same transaction that records it;
- a conversation's first response, once per conversation.

The first, second and last are counted by the inbox table stream's consumer, which may see
an event twice: each commits with a marker keyed by what it counts (COUNTED_KEPT_FOR: past the
stream's 24 hours), so a record delivered again counts nothing.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from chalicelib.core.clock import Clock
from chalicelib.inbox.config_repository import MentionRow
from chalicelib.inbox.conversation_repository import ConversationRow
from chalicelib.inbox.stored_events import StoredEvent

log = logging.getLogger("herald.inbox_metrics")

COUNTED_KEPT_FOR = timedelta(days=7)
# A search may find, weeks later, a post the inbox counted: its marker outlives the quarter a report covers.
MATCH_KEPT_FOR = timedelta(days=400)


def match_key(rule_id: str, network: str, remote_id: str) -> str:
    """What a listening match is counted by: the same post found by the inbox and a search is one."""
    return f"match#{rule_id}#{network}#{remote_id}"


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
            self.listening_match(mention, stored.received_at, channel)
        if applied.answered:
            self.first_response(applied.conversation)

    def listening_match(self, mention: MentionRow, matched_at: datetime, channel_id: str | None) -> None:
        """A rule matched a post (an inbox message, or a post a search found: channel None, the workspace's)."""
        key = match_key(mention.rule_id, mention.network, mention.message_id)
        self.counters.record_listening_match(mention.workspace_id, matched_at, channel_id=channel_id,
                                             once=(key, self.clock.now() + MATCH_KEPT_FOR))

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
