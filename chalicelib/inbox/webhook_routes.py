"""Webhooks in. No bearer key: each network signs its requests, and the
signature is checked on the raw body before anything is parsed."""
from __future__ import annotations

import json
from typing import Any

from chalice import Blueprint, Response

from chalicelib.core.api import Call, route
from chalicelib.inbox.schemas import WebhookReceipt
from chalicelib.wiring import Container

bp = Blueprint(__name__)
TAG = "webhooks"
EVENT_ERRORS = (400, 401, 413)  # malformed_json / malformed_event, invalid_signature, too large
HANDSHAKE_ERRORS = (403, 422)  # handshake_refused; a challenge of the wrong shape


def _receive(name: str, call: Call[Container]) -> dict[str, Any]:
    return call.deps.webhooks.receive(name, call.raw_body, call.headers).as_dict()


def _handshake(name: str, call: Call[Container]) -> Response:
    answer = call.deps.webhooks.handshake(name, call.query_params)
    body = answer.body if isinstance(answer.body, str) else json.dumps(answer.body, separators=(",", ":"))
    return Response(body=body, status_code=200, headers={"Content-Type": answer.content_type})


@route(bp, "/webhooks/meta", "GET", summary="Meta's subscription handshake (hub.challenge)", tag=TAG,
       role=None, content_type="text/plain", errors=HANDSHAKE_ERRORS)
def meta_handshake(call: Call[Container]) -> Response:
    return _handshake("meta", call)


@route(bp, "/webhooks/meta", "POST", summary="Facebook Pages, Messenger and Instagram events", tag=TAG,
       role=None, response=WebhookReceipt, errors=EVENT_ERRORS)
def meta_events(call: Call[Container]) -> dict[str, Any]:
    return _receive("meta", call)


@route(bp, "/webhooks/x", "GET", summary="X's challenge-response check (crc_token)", tag=TAG, role=None,
       errors=HANDSHAKE_ERRORS)
def x_handshake(call: Call[Container]) -> Response:
    return _handshake("x", call)


@route(bp, "/webhooks/x", "POST", summary="X Account Activity events", tag=TAG, role=None,
       response=WebhookReceipt, errors=EVENT_ERRORS)
def x_events(call: Call[Container]) -> dict[str, Any]:
    return _receive("x", call)


@route(bp, "/webhooks/linkedin", "GET", summary="LinkedIn's endpoint validation (challengeCode)", tag=TAG,
       role=None, errors=HANDSHAKE_ERRORS)
def linkedin_handshake(call: Call[Container]) -> Response:
    return _handshake("linkedin", call)


@route(bp, "/webhooks/linkedin", "POST", summary="LinkedIn organization social action notifications", tag=TAG,
       role=None, response=WebhookReceipt, errors=EVENT_ERRORS)
def linkedin_events(call: Call[Container]) -> dict[str, Any]:
    return _receive("linkedin", call)


@route(bp, "/webhooks/tiktok", "POST", summary="TikTok for Developers events", tag=TAG, role=None,
       response=WebhookReceipt, errors=EVENT_ERRORS)
def tiktok_events(call: Call[Container]) -> dict[str, Any]:
    return _receive("tiktok", call)
