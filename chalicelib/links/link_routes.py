"""Short links (`GET /l/{code}`, no key), the conversion pixel, and conversions reported by a server."""

from __future__ import annotations

import base64
from typing import Any

from chalice import Blueprint, Response

from chalicelib.core.api import Call, json_response, route
from chalicelib.links.schemas import Conversion, ConversionCreate
from chalicelib.wiring import Container

bp = Blueprint(__name__)
TAG = "links"
# A 1x1 transparent GIF.
PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")
NO_STORE = "no-store, max-age=0"


def _source_ip() -> str:
    """API Gateway's (and the local stack's) caller address; used only inside the day's salted hash."""
    context = bp.current_request.context or {}
    return str((context.get("identity") or {}).get("sourceIp") or "")


def _redirect(call: Call[Container], code: str) -> Response:
    found = call.deps.links.follow(code, ip=_source_ip(), user_agent=call.headers.get("user-agent", ""))
    return Response(
        body="",
        status_code=302,
        headers={
            "Location": found.location,
            "Cache-Control": NO_STORE,
            "Referrer-Policy": "no-referrer-when-downgrade",
        },
    )


@route(
    bp,
    "/l/{code}",
    "GET",
    summary="Follow a short link: 302 to its target with UTM parameters and hcid",
    tag=TAG,
    role=None,
    status=302,
    errors=(404,),
)
def follow_link(call: Call[Container], code: str) -> Response:
    """A HEAD (link checkers, some preview bots) is not a method of this path: it is answered 405 and never
    counted."""
    return _redirect(call, code)


@route(
    bp,
    "/l/{code}/pixel.gif",
    "GET",
    tag=TAG,
    role=None,
    content_type="image/gif",
    summary="A conversion seen by a page that cannot call the API: ?value=&currency=&cid=<hcid>",
)
def conversion_pixel(call: Call[Container], code: str) -> Response:
    said = call.deps.links.pixel(code, query=call.query_params, user_agent=call.headers.get("user-agent", ""))
    headers: dict[str, str | list[str]] = {"Cache-Control": NO_STORE, "X-Herald-Conversion": said[:200]}
    if not _accepts_gif(call.headers.get("accept", "")):
        return Response(body="", status_code=204, headers=headers)
    return Response(body=PIXEL, status_code=200, headers={**headers, "Content-Type": "image/gif"})


def _accepts_gif(accept: str) -> bool:
    """Chalice answers a binary body only to an Accept naming one of its binary types (image/gif...) or
    */*: a bare image/* would get a 400 instead of the GIF. So the GIF goes to an Accept listing image/gif
    or */* (not with q=0), anything else gets a 204 with no body; either is a success to the browser."""
    for media_range in accept.lower().split(","):
        kind, *parameters = (part.strip() for part in media_range.split(";"))
        if kind in ("image/gif", "*/*") and not any(_is_q_zero(p) for p in parameters):
            return True
    return False


def _is_q_zero(parameter: str) -> bool:
    name, _, value = (part.strip() for part in parameter.partition("="))
    return name == "q" and value.rstrip("0").rstrip(".") in ("0", "")


@route(
    bp,
    "/conversions",
    "POST",
    summary="Report a conversion (server to server), by click id or link code",
    tag=TAG,
    role="editor",
    body=ConversionCreate,
    response=Conversion,
    status=201,
    errors=(404,),
)
def report_conversion(call: Call[Container]) -> Any:
    from chalicelib.links.links import ConversionInput

    body: ConversionCreate = call.body
    conversion, new = call.deps.links.convert(
        call.workspace_id,
        click=body.click_id,
        code=body.link_code,
        given=ConversionInput(body.value, body.currency, body.occurred_at, body.id),
    )
    return conversion if new else json_response(conversion, 200)
