"""What every HTTP answer gets: CORS for the allowed origins and a few safety
headers. Preflight (OPTIONS) is answered for every route, so it must be
registered after all other blueprints."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chalice import Blueprint, Chalice, Response
from chalice.app import Request

from chalicelib.core.api import json_response
from chalicelib.core.settings import get_settings

ALLOWED_HEADERS = "Authorization,Content-Type,Idempotency-Key"
EXPOSED_HEADERS = "Retry-After"
# Chalice answers a few requests itself, as {"Code", "Message"}; clients get the contract's shape instead.
CHALICE_ERROR_CODES = {"MethodNotAllowedError": "method_not_allowed", "UnsupportedMediaType": "unsupported_media_type",
                       "BadRequest": "bad_request"}


def cors_headers(origin: str | None, methods: str | None = None) -> dict[str, str | list[str]]:
    allowed = get_settings().cors_origins
    if not origin or not allowed or (origin not in allowed and "*" not in allowed):
        return {}
    headers: dict[str, str | list[str]] = {"Access-Control-Allow-Origin": origin, "Vary": "Origin",
               "Access-Control-Expose-Headers": EXPOSED_HEADERS}
    if methods:
        headers.update({"Access-Control-Allow-Methods": methods, "Access-Control-Allow-Headers": ALLOWED_HEADERS,
                        "Access-Control-Max-Age": "600"})
    return headers


def _origin(request: Request | None) -> str | None:
    if request is None:
        return None
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
        origin = _origin(app.current_request)
        if origin is None:  # not a browser's preflight: which methods the path takes
            return Response(body="", status_code=204, headers={"Allow": methods})
        headers = cors_headers(origin, methods)
        if headers:
            return Response(body="", status_code=204, headers=headers)
        return json_response({"error": {"code": "origin_not_allowed", "details": [],
                                        "message": f"Requests from {origin} are not allowed."}}, 403)

    return preflight


bp = HttpBlueprint(__name__)


@bp.middleware("http")
def add_http_headers(event: Request, get_response: Callable[[Request], Response]) -> Response:
    response = _in_contract_shape(get_response(event), event.method)
    if event.method != "OPTIONS":
        response.headers.update(cors_headers(_origin(event)))
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Cache-Control", "no-store")
    return response


def _in_contract_shape(response: Response, method: str) -> Response:
    body = response.body
    if response.status_code < 400 or not isinstance(body, dict) or set(body) != {"Code", "Message"}:
        return response
    code = CHALICE_ERROR_CODES.get(str(body["Code"]), "bad_request")
    headers = {k: v for k, v in response.headers.items() if k.lower() != "content-type"}
    message = str(body["Message"])
    if code == "method_not_allowed":
        headers["Allow"] = ", ".join(sorted({*str(headers.get("Allow", "")).replace(" ", "").split(","),
                                             "OPTIONS"} - {""}))
        message = f"{method} is not a method of this path; it takes {headers['Allow']}."
    return json_response({"error": {"code": code, "message": message, "details": []}},
                         response.status_code, headers)
