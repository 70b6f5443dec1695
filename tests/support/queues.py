"""An in-memory publish queue: records what the engine sent, with its delay."""
from __future__ import annotations

import threading

from chalicelib.publishing.publish_queue import PublishMessage


class RecordingQueue:
    def __init__(self) -> None:
        self.sent: list[tuple[PublishMessage, int]] = []
        self._lock = threading.Lock()

    waiting_messages = 0  # what the publish queue's ApproximateNumberOfMessages would say

    def waiting(self) -> int:
        return self.waiting_messages

    def send(self, messages: list[tuple[PublishMessage, int]]) -> list[PublishMessage]:
        with self._lock:
            self.sent.extend(messages)
        return []

    def take(self) -> list[tuple[PublishMessage, int]]:
        with self._lock:
            taken, self.sent = self.sent, []
        return taken
