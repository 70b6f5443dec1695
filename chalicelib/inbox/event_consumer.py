"""The inbox's two consumers: the `inbox_events` queue's, which stores each event in its message (one write),
and the inbox table stream's, which does everything else off the ingest path.

The queue consumer writes each stored event into its message with the event's key, on condition that the key
is new: a message delivered again by SQS writes nothing (it reads its messages first). The stream consumer
then sees that write once or more (a stream delivers a record at least once) and, for its event, each step
safe to repeat:
1. thread it into its conversation (InboxService.thread: a fold of maxima and minima);
2. run the workspace's listening rules: mentions (one item per event and rule), and the priority;
3. the after-ingest hooks: counters (each with a marker, so counted once: inbox_counts.py) and webhook
   events (each with its own event key: outbound_webhooks/inbox_notifications.py).
A failure raises: the record and those after it are delivered again, and what was done changes nothing.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from chalicelib.inbox.config_repository import MentionRow
from chalicelib.inbox.conversations import Applied, InboxService
from chalicelib.inbox.listening import ListeningService, Rule
from chalicelib.inbox.message_stream import WrittenEvent, written_event
from chalicelib.inbox.stored_events import StoredEvent, queued_again

log = logging.getLogger("herald.inbox_consumer")

# (the stored event, how it changed its conversation, the mentions it made)
AfterIngest = Callable[[StoredEvent, Applied, list[MentionRow]], None]


@dataclass
class ConsumeReport:
    applied: int = 0
    repeated: int = 0  # written by an earlier delivery of the message
    looked: int = 0  # of those, found by a read (not a refused write)
    errors: list[str] = field(default_factory=list)


class InboxEventConsumer:
    """The queue's consumer: one conditional write per event.

    A copy that is likely written already looks first (a consistent read of its message), so it costs a read
    instead of a refused write: a message SQS delivers again, and an event the ingest path queued again
    because a repeat delivery came before the first copy was written. The write stays conditional: two
    copies consumed at the same moment still store the event once."""

    def __init__(self, inbox: InboxService) -> None:
        self.inbox = inbox

    def process_message(self, events: list[dict[str, Any]], redelivered: bool = False) -> ConsumeReport:
        """One queue message's stored events (parsed JSON); `redelivered`: SQS received it before."""
        batch = [StoredEvent.from_dict(data) for data in events]
        look_first = {stored.key for stored, data in zip(batch, events, strict=True)
                      if redelivered or queued_again(data)}
        return self.process(batch, look_first=look_first)

    def process(self, batch: list[StoredEvent], report: ConsumeReport | None = None, *,
                look_first: Collection[str] = ()) -> ConsumeReport:
        """Writes every event of one queue message; raises on the first failure. Events whose key is in
        `look_first` are read first and not written when their message has them."""
        report = report or ConsumeReport()
        for stored in batch:
            if stored.key in look_first and self.inbox.has_event(stored):
                report.repeated += 1
                report.looked += 1
            elif self.inbox.store(stored):
                report.applied += 1
            else:
                report.repeated += 1
        return report


@dataclass
class ThreadReport:
    threaded: int = 0
    mentions: int = 0
    failed: list[str] = field(default_factory=list)  # sequence numbers of records to deliver again


class InboxStreamConsumer:
    """The inbox table stream's consumer: conversations, listening, counters and webhook events."""

    def __init__(self, inbox: InboxService, listening: ListeningService,
                 after_ingest_hooks: list[AfterIngest] | None = None) -> None:
        self.inbox = inbox
        self.listening = listening
        self.after_ingest_hooks = list(after_ingest_hooks or [])

    def consume(self, records: Iterable[Mapping[str, Any]]) -> ThreadReport:
        """Every record of one batch, in order; the first that fails and those after it are reported failed."""
        report = ThreadReport()
        rules: dict[str, list[Rule]] = {}  # read once per workspace and batch, not per event
        remaining = list(records)
        for index, record in enumerate(remaining):
            try:
                written = written_event(record)
                if written is not None:
                    self.apply(written, rules, report)
            except Exception:
                log.exception("Threading inbox stream record %s failed; it is delivered again", _sequence(record))
                report.failed = [_sequence(r) for r in remaining[index:]]
                break
        return report

    def apply(self, written: WrittenEvent, rules: dict[str, list[Rule]], report: ThreadReport) -> None:
        stored = written.stored
        applied = self.inbox.thread(stored, written.conversation_id)
        conversation_id = applied.conversation.conversation_id
        mentions: list[MentionRow] = []
        if self.listening.listens_to(stored.event):
            if stored.workspace_id not in rules:
                rules[stored.workspace_id] = self.listening.rules_for(stored.workspace_id)
            mentions = self.listening.match(stored, conversation_id, rules[stored.workspace_id])
        if mentions and applied.conversation.priority != "high":
            self.inbox.raise_priority(stored.workspace_id, conversation_id)
        for hook in self.after_ingest_hooks:
            hook(stored, applied, mentions)
        report.threaded += 1
        report.mentions += len(mentions)


def _sequence(record: Mapping[str, Any]) -> str:
    return str((record.get("dynamodb") or {}).get("SequenceNumber", ""))
