"""Messages to the webhook_deliveries queue: one per attempt of one delivery, `{endpoint_key, message_id,
attempt}`. A duplicate or late message is harmless: the attempt is claimed by a conditional write."""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

# SQS delays a message by at most 15 minutes; longer waits are picked up by the sweeper when due.
MAX_DELAY_S = 900
BATCH = 10


@dataclass(frozen=True)
class AttemptMessage:
    endpoint_key: str
    message_id: str
    attempt: int  # attempts made before this one

    def to_json(self) -> str:
        return json.dumps({"endpoint_key": self.endpoint_key, "message_id": self.message_id,
                           "attempt": self.attempt}, separators=(",", ":"))

    @classmethod
    def from_json(cls, body: str) -> AttemptMessage:
        data = json.loads(body)
        return cls(str(data["endpoint_key"]), str(data["message_id"]), int(data["attempt"]))


class DeliveryQueue:
    def __init__(self, sqs: Any, queue_name: str) -> None:
        self._sqs = sqs
        self._queue_name = queue_name
        self._url: str | None = None

    @property
    def url(self) -> str:
        if self._url is None:
            self._url = self._sqs.get_queue_url(QueueName=self._queue_name)["QueueUrl"]
        return self._url

    def send(self, messages: list[tuple[AttemptMessage, int]]) -> int:
        """Sends (message, delay in seconds); returns how many SQS refused (the sweeper sends those later)."""
        refused = 0
        for start in range(0, len(messages), BATCH):
            chunk = messages[start:start + BATCH]
            entries = [{"Id": str(i), "MessageBody": message.to_json(),
                        "DelaySeconds": max(0, min(MAX_DELAY_S, delay))}
                       for i, (message, delay) in enumerate(chunk)]
            answer = self._sqs.send_message_batch(QueueUrl=self.url, Entries=entries)
            refused += len(answer.get("Failed") or [])
        return refused
