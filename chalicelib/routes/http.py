"""What every HTTP answer gets: CORS for the allowed origins and a few safety
headers. Preflight (OPTIONS) is answered for every route, so it must be
registered after all other blueprints."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chalice import Blueprint, Chalice, Response
from chalice.app import Request

from chalicelib.api import json_response
from chalicelib.settings import get_settings

ALLOWED_HEADERS = "Authorization,Content-Type,Idempotency-Key"
EXPOSED_HEADERS = "Retry-After"
# Chalice answers a few requests itself, as {"Code", "Message"}; clients get the contract's shape instead.
CHALICE_ERROR_CODES = {"MethodNotAllowedError": "method_not_allowed", "UnsupportedMediaType": "unsupported_media_type",
                       "BadRequest": "bad_request"}


def cors_headers(origin: str | None, methods: str | None = None) -> dict[str, str]:
    allowed = get_settings().cors_origins
    if not origin or not allowed or (origin not in allowed and "*" not in allowed):
        return {}
    headers = {"Access-Control-Allow-Origin": origin, "Vary": "Origin",
               "Access-Control-Expose-Headers": EXPOSED_HEADERS}
    if methods:
        headers.update({"Access-Control-Allow-Methods": methods, "Access-Control-Allow-Headers": ALLOWED_HEADERS,
                        "Access-Control-Max-Age": "600"})
    return headers


def _origin(request: Request) -> str | None:
    return {k.lower(): v for k, v in (request.headers or {}).items()}.get("origin")


class HttpBlueprint(Blueprint):
    def register(self, app: Chalice, options: dict[str, Any]) -> None:
        super().register(app, options)
        for path, methods in list(app.routes.items()):
            if "OPTIONS" not in methods:
                allowed = ",".join(sorted({*methods, "OPTIONS"}))
                app.route(path, methods=["OPTIONS"], name=f"preflight{path}")(_preflight(app, allowed))


def _preflight(app: Chalice, methods: str) -> Callable[..., Response]:
    def preflight(**_params: str) -> Response:
        headers = cors_headers(_origin(app.current_request), methods)
        return Response(body="", status_code=204 if headers else 403, headers=headers)

    return preflight


bp = HttpBlueprint(__name__)


@bp.middleware("http")
def add_http_headers(event: Request, get_response: Callable[[Request], Response]) -> Response:
    response = _in_contract_shape(get_response(event))
    if event.method != "OPTIONS":
        response.headers.update(cors_headers(_origin(event)))
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Cache-Control", "no-store")
    return response


def _in_contract_shape(response: Response) -> Response:
    body = response.body
    if response.status_code < 400 or not isinstance(body, dict) or set(body) != {"Code", "Message"}:
        return response
    code = CHALICE_ERROR_CODES.get(str(body["Code"]), "bad_request")
    headers = {k: v for k, v in response.headers.items() if k.lower() != "content-type"}
    return json_response({"error": {"code": code, "message": str(body["Message"]), "details": []}},
                         response.status_code, headers)
