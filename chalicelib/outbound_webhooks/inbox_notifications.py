"""What the inbox tells webhook endpoints: a conversation opened, a message received, a listening rule matched.

Runs as one of the inbox consumer's after-ingest hooks, once per stored event; each event has its own key, so
a consumer that applies an event again sends nothing twice.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalicelib.core.clock import to_rfc3339

if TYPE_CHECKING:
    from chalicelib.inbox.stored_events import StoredEvent
    from chalicelib.outbound_webhooks.sending import WebhookEmitter


class InboxNotifications:
    def __init__(self, emitter: WebhookEmitter) -> None:
        self.emitter = emitter

    def after_ingest(self, stored: StoredEvent, applied: Any, mentions: list[Any]) -> None:
        event = stored.event
        conversation = applied.conversation
        where = {"conversation_id": conversation.conversation_id, "channel_id": stored.channel_id,
                 "network": event.network}
        if event.direction == "inbound" and event.action == "created":
            if conversation.opened_by == event.message_id:
                self.emitter.emit(stored.workspace_id, "conversation.created",
                                  {**where, "kind": conversation.kind, "opened_at": to_rfc3339(conversation.opened_at)},
                                  event_key=conversation.conversation_id)
            self.emitter.emit(stored.workspace_id, "message.received", {
                **where, "message_id": event.message_id, "kind": event.kind, "text": event.text,
                "author": {"id": event.author_id, "name": event.author_name, "handle": event.author_handle},
                "occurred_at": to_rfc3339(event.occurred_at)}, event_key=stored.key)
        for mention in mentions:
            self.emitter.emit(stored.workspace_id, "mention.matched", {
                **where, "mention_id": mention.mention_id, "rule_id": mention.rule_id,
                "rule_name": mention.rule_name, "message_id": mention.message_id, "text": mention.text,
                "matched_terms": list(mention.matched_terms)}, event_key=mention.mention_id)
