"""Health and the OpenAPI document."""
from __future__ import annotations

from chalice import Blueprint

from chalicelib.core.api import Call, json_response, route
from chalicelib.core.schemas import Health

bp = Blueprint(__name__)


@route(bp, "/health", "GET", summary="Is the API up", tag="meta", role=None, response=Health)
def health(call: Call) -> dict[str, str]:
    return {"status": "ok"}


@route(bp, "/openapi.json", "GET", summary="This API as an OpenAPI 3.1 document", tag="meta", role=None)
def openapi(call: Call) -> object:
    from chalicelib.core.openapi import build_document

    return json_response(build_document())
