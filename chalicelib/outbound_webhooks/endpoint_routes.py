"""Outbound webhooks (Standard Webhooks v1): endpoints, their secrets, their delivery log and replays."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice import Blueprint, Response

from chalicelib.core.api import Call, route
from chalicelib.core.clock import to_rfc3339
from chalicelib.core.schemas import PageQuery
from chalicelib.outbound_webhooks.schemas import (
    DeliveryPage,
    EndpointCreate,
    EndpointCreated,
    EndpointOut,
    EndpointPage,
    EndpointPatch,
    Replayed,
    ReplaySince,
    SecretRotated,
)
from chalicelib.outbound_webhooks.views import delivery_view, endpoint_view

if TYPE_CHECKING:
    from chalicelib.wiring import Container

bp = Blueprint(__name__)
TAG = "webhook-endpoints"


@route(bp, "/webhook-endpoints", "GET", summary="List outbound webhook endpoints", tag=TAG, role="admin",
       query=PageQuery, response=EndpointPage)
def list_endpoints(call: Call[Container]) -> dict[str, Any]:
    rows, cursor = call.deps.webhook_endpoints.list(call.workspace_id, call.query.limit, call.query.cursor)
    return {"items": [endpoint_view(r) for r in rows], "next_cursor": cursor}


@route(bp, "/webhook-endpoints", "POST", summary="Send events to a URL, signed (the secret is shown once)",
       tag=TAG, role="admin", body=EndpointCreate, response=EndpointCreated, status=201)
def create_endpoint(call: Call[Container]) -> dict[str, Any]:
    body: EndpointCreate = call.body
    made = call.deps.webhook_endpoints.create(call.workspace_id, body.url, list(body.events),
                                             body.description or "")
    return {**endpoint_view(made.endpoint), "secret": made.secret}


@route(bp, "/webhook-endpoints/{endpoint_id}", "GET", summary="One outbound webhook endpoint", tag=TAG,
       role="admin", response=EndpointOut)
def get_endpoint(call: Call[Container], endpoint_id: str) -> dict[str, Any]:
    return endpoint_view(call.deps.webhook_endpoints.get(call.workspace_id, endpoint_id))


@route(bp, "/webhook-endpoints/{endpoint_id}", "PATCH", summary="Change an endpoint's URL, events or status",
       tag=TAG, role="admin", body=EndpointPatch, response=EndpointOut)
def update_endpoint(call: Call[Container], endpoint_id: str) -> dict[str, Any]:
    body: EndpointPatch = call.body
    changes = {name: getattr(body, name) for name in body.model_fields_set if getattr(body, name) is not None}
    return endpoint_view(call.deps.webhook_endpoints.update(call.workspace_id, endpoint_id, changes))


@route(bp, "/webhook-endpoints/{endpoint_id}", "DELETE", summary="Stop sending to an endpoint", tag=TAG,
       role="admin", status=204)
def delete_endpoint(call: Call[Container], endpoint_id: str) -> Response:
    call.deps.webhook_endpoints.delete(call.workspace_id, endpoint_id)
    return Response(body="", status_code=204)


@route(bp, "/webhook-endpoints/{endpoint_id}/rotate-secret", "POST",
       summary="A new secret; the old one keeps signing beside it for 24 hours", tag=TAG, role="admin",
       response=SecretRotated)
def rotate_secret(call: Call[Container], endpoint_id: str) -> dict[str, Any]:
    rotated = call.deps.webhook_endpoints.rotate_secret(call.workspace_id, endpoint_id)
    return {"secret": rotated.secret, "previous_expires_at": rotated.endpoint.previous_expires_at}


@route(bp, "/webhook-endpoints/{endpoint_id}/deliveries", "GET",
       summary="What was sent to an endpoint, newest first", tag=TAG, role="admin", query=PageQuery,
       response=DeliveryPage)
def list_deliveries(call: Call[Container], endpoint_id: str) -> dict[str, Any]:
    rows, cursor = call.deps.webhook_endpoints.deliveries(call.workspace_id, endpoint_id, call.query.limit,
                                                          call.query.cursor)
    return {"items": [delivery_view(r) for r in rows], "next_cursor": cursor}


@route(bp, "/webhook-endpoints/{endpoint_id}/deliveries/{message_id}/replay", "POST",
       summary="Send one message to the endpoint again", tag=TAG, role="admin", response=Replayed, status=202)
def replay_delivery(call: Call[Container], endpoint_id: str, message_id: str) -> dict[str, Any]:
    call.deps.webhook_endpoints.replay(call.workspace_id, endpoint_id, message_id)
    return {"replayed": 1}


@route(bp, "/webhook-endpoints/{endpoint_id}/replay", "POST",
       summary="Send again every failed message since a time", tag=TAG, role="admin", body=ReplaySince,
       response=Replayed, status=202)
def replay_since(call: Call[Container], endpoint_id: str) -> dict[str, Any]:
    body: ReplaySince = call.body
    count = call.deps.webhook_endpoints.replay_since(call.workspace_id, endpoint_id, to_rfc3339(body.since) or "",
                                                     failed_only=body.failed_only)
    return {"replayed": count}
