"""`GET /dev/mail`, registered only on the local stack (app.py): the mail Herald sent, read back from the AWS
emulation's SES (moto keeps every sent message; the local stack runs moto in the app's own process)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice import Blueprint

from chalicelib.core.api import Call, route
from chalicelib.people.schemas import DevMail

if TYPE_CHECKING:
    from chalicelib.wiring import Container

bp = Blueprint(__name__)


def sent_mail(account_id: str, region: str) -> list[dict[str, Any]]:
    """Newest first: {id, from, to, subject, body} (the HTML part when one was sent, else the text)."""
    from moto.ses.models import ses_backends  # the local stack only: never imported on Lambda

    backend = ses_backends[account_id][region]
    return [{"id": m.id, "from": m.source, "to": list(m.destinations.get("ToAddresses", [])),
             "subject": m.subject, "body": m.body} for m in reversed(list(backend.sent_messages))]


@route(bp, "/dev/mail", "GET", summary="Mail sent on the local stack (read back from its SES)", tag="dev",
       role=None, response=DevMail)
def dev_mail(call: Call[Container]) -> dict[str, Any]:
    return {"items": sent_mail("123456789012", call.deps.settings.region)}
