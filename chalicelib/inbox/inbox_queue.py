"""Messages to the inbox queue: several stored events in one, applied idempotently by the consumer."""
from __future__ import annotations

import json
from typing import Any

BATCH = 10  # SQS takes at most ten messages in one SendMessageBatch

# A message to the inbox queue carries several stored events; the consumer
# applies each idempotently, so a retried message redoes nothing visible.
INBOX_MESSAGE_BYTES = 64 * 1024
INBOX_BATCH_BYTES = 200 * 1024


class QueueSendFailed(Exception):
    """SQS refused some messages; the caller must not report success."""


class InboxQueue:
    def __init__(self, sqs: Any, queue_name: str) -> None:
        self._sqs = sqs
        self._queue_name = queue_name
        self._url: str | None = None

    @property
    def url(self) -> str:
        if self._url is None:
            self._url = self._sqs.get_queue_url(QueueName=self._queue_name)["QueueUrl"]
        return self._url

    def send(self, events: list[str]) -> None:
        """Sends stored events (JSON objects), packed into as few messages as fit."""
        batch: list[str] = []
        size = 0
        for body in pack_events(events):
            length = len(body.encode())
            if batch and (len(batch) == BATCH or size + length > INBOX_BATCH_BYTES):
                self._send_batch(batch)
                batch, size = [], 0
            batch.append(body)
            size += length
        if batch:
            self._send_batch(batch)

    def _send_batch(self, bodies: list[str]) -> None:
        entries = [{"Id": str(i), "MessageBody": body} for i, body in enumerate(bodies)]
        answer = self._sqs.send_message_batch(QueueUrl=self.url, Entries=entries)
        if answer.get("Failed"):
            raise QueueSendFailed(f"SQS refused {len(answer['Failed'])} inbox messages")


def pack_events(events: list[str]) -> list[str]:
    """`{"events": [...]}` bodies of at most INBOX_MESSAGE_BYTES each (one event may exceed it alone)."""
    bodies: list[str] = []
    current: list[str] = []
    size = 0
    for event in events:
        length = len(event.encode()) + 1
        if current and size + length > INBOX_MESSAGE_BYTES:
            bodies.append('{"events":[' + ",".join(current) + "]}")
            current, size = [], 0
        current.append(event)
        size += length
    if current:
        bodies.append('{"events":[' + ",".join(current) + "]}")
    return bodies


def unpack_events(body: str) -> list[dict[str, Any]]:
    data = json.loads(body)
    events = data.get("events") if isinstance(data, dict) else None
    if not isinstance(events, list):
        raise ValueError("an inbox message has an `events` list")
    return events
