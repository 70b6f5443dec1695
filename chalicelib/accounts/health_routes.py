"""Channel health on demand, and Meta's deauthorize callback."""
from __future__ import annotations

import logging
from typing import Any

from chalice import Blueprint
from pydantic import BaseModel

from chalicelib.accounts.schemas import Channel
from chalicelib.accounts.views import channel_view
from chalicelib.core.api import Call, route
from chalicelib.core.errors import Unauthorized
from chalicelib.wiring import Container

log = logging.getLogger("herald.health")
bp = Blueprint(__name__)
FORM = "application/x-www-form-urlencoded"


class DeauthorizeReceipt(BaseModel):
    channels_disabled: int


class DeauthorizeRefused(Unauthorized):
    code = "invalid_signature"


@route(bp, "/channels/{channel_id}/check", "POST", summary="Check a channel now (its health)", tag="channels",
       role="admin", response=Channel)
def check_channel(call: Call[Container], channel_id: str) -> dict[str, Any]:
    return channel_view(call.deps.health.check(call.workspace_id, channel_id))


@route(bp, "/webhooks/meta/deauthorize", "POST", summary="Meta's deauthorize callback (signed_request)",
       tag="webhooks", role=None, response=DeauthorizeReceipt, errors=(401, 413), accepts=(FORM,))
def meta_deauthorize(call: Call[Container]) -> dict[str, Any]:
    from chalicelib.core.errors import PayloadTooLarge
    from chalicelib.networks.base import SignatureError
    from chalicelib.networks.meta_deauth import MAX_SIGNED_REQUEST

    if len(call.raw_body) > 2 * MAX_SIGNED_REQUEST:
        raise PayloadTooLarge(f"A deauthorize callback is at most {2 * MAX_SIGNED_REQUEST} bytes.")

    try:
        disabled = call.deps.health.meta_deauthorize_callback(call.raw_body)
    except SignatureError as exc:
        log.warning("Refused a Meta deauthorize callback: %s", exc)  # why: in the log only
        raise DeauthorizeRefused("The webhook signature is not valid.") from None
    return {"channels_disabled": disabled}
