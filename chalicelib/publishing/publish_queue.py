"""Messages to the publish queue: one per delivery, delayed until it is due."""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

MAX_DELAY_S = 900  # SQS's own limit on DelaySeconds
BATCH = 10


@dataclass(frozen=True)
class PublishMessage:
    workspace_id: str
    post_id: str
    channel_id: str
    post_version: int
    due_at: str
    # The token the delivery held when this message was sent: only the message the engine sent last (or a
    # copy of it) can claim the delivery. None: a message sent before tokens existed.
    send_token: str | None = None

    def body(self) -> str:
        return json.dumps(self.__dict__, separators=(",", ":"))

    @classmethod
    def parse(cls, body: str) -> PublishMessage:
        data = json.loads(body)
        token = data.get("send_token")
        return cls(str(data["workspace_id"]), str(data["post_id"]), str(data["channel_id"]),
                   int(data["post_version"]), str(data["due_at"]), None if token is None else str(token))


@dataclass(frozen=True)
class TickUnit:
    """One shard of one tick (a page of it, from `cursor`): what a tick worker does with one message."""

    shard: int
    horizon: str
    cursor: dict[str, Any] | None = None

    def body(self) -> str:
        return json.dumps(self.__dict__, separators=(",", ":"))

    @classmethod
    def parse(cls, body: str) -> TickUnit:
        data = json.loads(body)
        cursor = data.get("cursor")
        return cls(int(data["shard"]), str(data["horizon"]), cursor if isinstance(cursor, dict) else None)


class PublishQueue:
    def __init__(self, sqs: Any, queue_name: str) -> None:
        self._sqs = sqs
        self._queue_name = queue_name
        self._url: str | None = None

    @property
    def url(self) -> str:
        if self._url is None:
            self._url = self._sqs.get_queue_url(QueueName=self._queue_name)["QueueUrl"]
        return self._url

    def waiting(self) -> int:
        """Messages waiting to be received (not those delayed, nor those a worker holds now)."""
        attributes = self._sqs.get_queue_attributes(
            QueueUrl=self.url, AttributeNames=["ApproximateNumberOfMessages"])["Attributes"]
        return int(attributes.get("ApproximateNumberOfMessages", 0))

    def send(self, messages: list[tuple[Any, int]]) -> list[Any]:
        """Sends (message, delay seconds) pairs (PublishMessage, or TickUnit on the tick queue); returns the ones
        SQS refused."""
        refused: list[Any] = []
        for start in range(0, len(messages), BATCH):
            chunk = messages[start:start + BATCH]
            entries = [{"Id": str(i), "MessageBody": m.body(), "DelaySeconds": max(0, min(MAX_DELAY_S, delay))}
                       for i, (m, delay) in enumerate(chunk)]
            answer = self._sqs.send_message_batch(QueueUrl=self.url, Entries=entries)
            refused += [chunk[int(f["Id"])][0] for f in answer.get("Failed", [])]
        return refused
