"""The `inbox_events` queue consumer: everything the webhook answer does not wait for.

For each stored event, in this order, each step safe to repeat:
1. thread it into its conversation (InboxService.apply);
2. run the workspace's listening rules: mentions, and the conversation's priority;
3. mark the stored event `applied`; the one call that does so runs `after_ingest`.

A failure anywhere raises, SQS delivers the message again, and the steps that
already happened change nothing the second time.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from chalicelib.core.clock import Clock
from chalicelib.inbox.config_repository import MentionRow
from chalicelib.inbox.conversations import Applied, InboxService
from chalicelib.inbox.listening import ListeningService, Rule
from chalicelib.inbox.stored_events import StoredEvent

log = logging.getLogger("herald.inbox_consumer")

# (the stored event, how it changed its conversation, the mentions it made)
AfterIngest = Callable[[StoredEvent, Applied, list[MentionRow]], None]


@dataclass
class ConsumeReport:
    applied: int = 0
    mentions: int = 0
    repeated: int = 0  # already applied by an earlier delivery of the message
    errors: list[str] = field(default_factory=list)


class InboxEventConsumer:
    def __init__(self, inbox: InboxService, listening: ListeningService, events: Any, clock: Clock,
                 after_ingest_hooks: list[AfterIngest] | None = None) -> None:
        self.inbox = inbox
        self.listening = listening
        self.events = events
        self.clock = clock
        self.after_ingest_hooks = list(after_ingest_hooks or [])

    def process(self, batch: list[StoredEvent], report: ConsumeReport | None = None) -> ConsumeReport:
        """Applies every event of one queue message; raises on the first failure."""
        report = report or ConsumeReport()
        rules: dict[str, list[Rule]] = {}  # read once per workspace and message, not per event
        for stored in batch:
            applied = self.inbox.apply(stored)
            conversation_id = applied.conversation.conversation_id
            mentions: list[MentionRow] = []
            if self.listening.listens_to(stored.event):
                if stored.workspace_id not in rules:
                    rules[stored.workspace_id] = self.listening.rules_for(stored.workspace_id)
                mentions = self.listening.match(stored, conversation_id, rules[stored.workspace_id])
            if mentions and applied.conversation.priority != "high":
                self.inbox.raise_priority(stored.workspace_id, conversation_id)
            report.mentions += len(mentions)
            if self.events.mark_applied(stored.key, self.clock.now()):
                report.applied += 1
                self.after_ingest(stored, applied, mentions)
            else:
                report.repeated += 1
        return report

    def after_ingest(self, stored: StoredEvent, applied: Applied, mentions: list[MentionRow]) -> None:
        """The single place for per-event side effects that must not repeat (metrics counters:
        services/inbox_metrics.py).

        Runs once per stored event, right after it was marked applied. A hook
        that fails is logged and not retried, so counting is at most once.
        """
        for hook in self.after_ingest_hooks:
            try:
                hook(stored, applied, mentions)
            except Exception:
                log.exception("after_ingest hook %s failed for %s", getattr(hook, "__name__", hook),
                              stored.key)
