"""Email Herald sends (invitations, password resets, approval requests): one small interface, sent
through Amazon SES. The local stack's SES is moto's, whose sent mail `GET /dev/mail` reads back."""
from __future__ import annotations

import logging
from typing import Any, Protocol

log = logging.getLogger("herald.mail")


class Mailer(Protocol):
    def send(self, to: str, subject: str, text: str, html: str | None = None) -> str:
        """Sends one message to one address; answers the provider's message id."""
        ...


class SesMailer:
    """SES v1 SendEmail from a verified sender (HERALD_MAIL_FROM). The body is never logged: it can hold a
    single-use link."""

    def __init__(self, ses_client: Any, sender: str) -> None:
        self._ses = ses_client
        self._sender = sender

    def send(self, to: str, subject: str, text: str, html: str | None = None) -> str:
        body: dict[str, Any] = {"Text": {"Data": text, "Charset": "UTF-8"}}
        if html is not None:
            body["Html"] = {"Data": html, "Charset": "UTF-8"}
        answer = self._ses.send_email(Source=self._sender, Destination={"ToAddresses": [to]},
                                      Message={"Subject": {"Data": subject, "Charset": "UTF-8"}, "Body": body})
        message_id = str(answer.get("MessageId", ""))
        log.info("Mail %r sent (SES message %s)", subject, message_id)
        return message_id
