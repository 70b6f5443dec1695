"""The mail Herald sent, read back from the AWS emulation's SES: moto keeps every sent message, and the local
stack (and the tests) run moto in the app's own process. Never imported on Lambda."""
from __future__ import annotations

from typing import Any


def sent_mail(account_id: str, region: str) -> list[dict[str, Any]]:
    """Newest first: {id, from, to, subject, body} (the HTML part when one was sent, else the text)."""
    from moto.ses.models import ses_backends

    backend = ses_backends[account_id][region]
    return [{"id": m.id, "from": m.source, "to": list(m.destinations.get("ToAddresses", [])),
             "subject": m.subject, "body": m.body} for m in reversed(list(backend.sent_messages))]
