"""How approval sends email: any `MailSender` (`send(to, subject, text)`), injected. Until the people work's
SES mailer is wired in, the container hands the approval an in-memory outbox, readable by tests."""
from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Protocol


class MailSender(Protocol):
    def send(self, to: str, subject: str, text: str) -> None: ...


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    text: str


class InMemoryOutbox:
    """Keeps every message sent, in order."""

    def __init__(self) -> None:
        self.sent: list[Mail] = []
        self._lock = threading.Lock()

    def send(self, to: str, subject: str, text: str) -> None:
        with self._lock:
            self.sent.append(Mail(to, subject, text))

    def to(self, address: str) -> list[Mail]:
        return [mail for mail in self.sent if mail.to == address.lower()]
