"""`GET /dev/mail`, registered only on the local stack (app.py): the mail Herald sent, read back from the AWS
emulation's SES (moto keeps every sent message; the local stack runs moto in the app's own process)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice import Blueprint

from chalicelib.core.api import Call, route
from chalicelib.people.dev_mail import sent_mail
from chalicelib.people.schemas import DevMail

if TYPE_CHECKING:
    from chalicelib.wiring import Container

bp = Blueprint(__name__)


@route(bp, "/dev/mail", "GET", summary="Mail sent on the local stack (read back from its SES)", tag="dev",
       role=None, response=DevMail)
def dev_mail(call: Call[Container]) -> dict[str, Any]:
    return {"items": sent_mail("123456789012", call.deps.settings.region)}
