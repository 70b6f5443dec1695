"""How approval sends email: any `MailSender` (`send(to, subject, text)`), injected: Herald's SES mailer in the
container, an in-memory outbox in unit tests."""
from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol


class MailSender(Protocol):
    def send(self, to: str, subject: str, text: str) -> None: ...


class MailerSender:
    """Approval's mail through Herald's Mailer (SES; on the local stack `GET /dev/mail` reads it back)."""

    def __init__(self, mailer: Callable[[], Any]) -> None:
        self._mailer = mailer

    def send(self, to: str, subject: str, text: str) -> None:
        self._mailer().send(to, subject, text)


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
