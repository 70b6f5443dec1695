"""The one way routes are declared: auth, body limits, JSON parsing, validation,
errors in the contract's shape, and an entry in the OpenAPI document.

A route handler gets a `Call` and the path parameters, and returns a pydantic
model, a dict, or a `chalice.Response`.
"""
from __future__ import annotations

import functools
import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from chalice import Blueprint, Response
from pydantic import BaseModel, ValidationError

from chalicelib.core.errors import (
    ApiError,
    BadRequest,
    Forbidden,
    InternalError,
    PayloadTooLarge,
    UnsupportedMediaType,
    ValidationFailed,
)
from chalicelib.core.principal import ROLE_RANK, Principal
from chalicelib.core.settings import get_settings

log = logging.getLogger("herald.api")

Deps = TypeVar("Deps")

@dataclass(frozen=True)
class RouteSpec:
    method: str
    path: str
    summary: str
    role: str | None
    body: type[BaseModel] | None
    query: type[BaseModel] | None
    response: type[BaseModel] | None
    status: int
    tag: str
    content_type: str = "application/json"
    # Statuses the route answers beyond those its role, body and query imply (openapi.py derives those).
    errors: tuple[int, ...] = ()
    # Request headers the route reads: name -> JSON schema of the value.
    request_headers: tuple[tuple[str, dict[str, Any]], ...] = ()
    # Other media types the success answer may take (a report as CSV or HTML).
    also_serves: tuple[str, ...] = ()
    # role=None, but the handler checks the bearer itself (a person's sign-in token; /me an API key too).
    own_auth: bool = False


ROUTES: list[RouteSpec] = []


@dataclass
class Call(Generic[Deps]):
    """What a handler needs from the request, already checked, and the services it may use (`deps`, what
    `provide_wiring` registered: chalicelib.wiring's Container; tests install their own)."""

    principal: Principal | None
    body: Any
    query: Any
    headers: dict[str, str]
    raw_body: bytes
    deps: Deps
    query_params: dict[str, str] = field(default_factory=dict)

    @property
    def workspace_id(self) -> str:
        assert self.principal is not None
        return self.principal.workspace_id


def json_response(body: Any, status: int = 200, headers: Mapping[str, str | list[str]] | None = None) -> Response:
    if isinstance(body, BaseModel):
        body = body.model_dump(mode="json", by_alias=True)
    answer_headers: dict[str, str | list[str]] = {"Content-Type": "application/json", **(headers or {})}
    return Response(
        body=json.dumps(body, separators=(",", ":"), ensure_ascii=False),
        status_code=status,
        headers=answer_headers,
    )


def error_response(error: ApiError) -> Response:
    return json_response(error.body(), error.status, error.headers)


def validation_details(exc: ValidationError) -> list[dict[str, Any]]:
    details = []
    for item in exc.errors(include_url=False):
        loc = ".".join(str(part) for part in item["loc"]) or "body"
        details.append({"field": loc, "message": item["msg"], "type": item["type"]})
    return details


def _validate(model: type[BaseModel], data: Any, where: str) -> BaseModel:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        details = validation_details(exc)
        summary = "; ".join(f"{d['field']}: {d['message']}" for d in details[:3])
        raise ValidationFailed(f"The {where} is not valid: {summary}", details=details) from None


def _bytes_of(raw_body: str | bytes | None) -> bytes:
    """The request's body as bytes: chalice types it `str | bytes` (it decodes base64 and encodes text)."""
    if isinstance(raw_body, str):
        return raw_body.encode("utf-8")
    return raw_body or b""


def parse_json_body(raw: bytes) -> Any:
    if len(raw) > get_settings().max_body_bytes:
        raise PayloadTooLarge(f"The body is {len(raw)} bytes; the limit is {get_settings().max_body_bytes}.")
    if not raw.strip():
        return {}
    try:
        data = json.loads(raw.decode("utf-8"))  # bytes alone would also let UTF-16 and UTF-32 in
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadRequest(f"The body is not valid JSON: {exc}", code="malformed_json") from None
    if not isinstance(data, dict):
        raise BadRequest("The body must be a JSON object.", code="malformed_json")
    _refuse_lone_surrogates(data)
    return data


def _refuse_lone_surrogates(data: dict[str, Any]) -> None:
    """`"\\ud800"` is valid JSON but not text: name where it is, before any model sees it."""
    from chalicelib.core.fields import lone_surrogate_at

    found = lone_surrogate_at(data)
    if found is not None:
        where = ".".join(str(part) for part in found) or "body"
        raise ValidationFailed.field(where, "is not valid Unicode text: it holds a lone surrogate",
                                     type="lone_surrogate")


def check_media_type(headers: dict[str, str], raw: bytes, accepts: tuple[str, ...] = ("application/json",)) -> None:
    """A body must be JSON (every route but a few webhooks reads JSON); a request without one may say anything
    or nothing."""
    content_type = headers.get("content-type")
    if not raw.strip() or content_type is None:
        return
    if content_type.split(";", 1)[0].strip().lower() not in accepts:
        raise UnsupportedMediaType(f"Send the body as application/json, not {content_type[:100]!r}.")


AuthFn = Callable[[Any, dict[str, str]], Principal]
_wiring: list[tuple[Callable[[], Any], AuthFn]] = []


def provide_wiring(current: Callable[[], Any], authenticate: AuthFn) -> None:
    """What every handler is handed: `current()` gives the services (chalicelib.wiring registers its
    container here when it is imported), and `authenticate(services, headers)` checks the caller."""
    _wiring[:] = [(current, authenticate)]


def _wired() -> tuple[Any, AuthFn]:
    if not _wiring:
        raise InternalError("No services are wired: import chalicelib.wiring before serving a request.")
    current, authenticate = _wiring[0]
    return current(), authenticate


Event = TypeVar("Event")
Result = TypeVar("Result")


def with_services(job: Callable[[Event, Any], Result]) -> Callable[[Event], Result]:
    """A scheduled function or queue consumer written as `job(event, deps)`: it is handed the wired
    services, as route handlers are through `Call.deps`, instead of reaching for them."""

    @functools.wraps(job)
    def run(event: Event) -> Result:
        return job(event, _wired()[0])

    return run


def _principal(deps: Any, authenticate: AuthFn, headers: dict[str, str], role: str) -> Principal:
    principal = authenticate(deps, headers)
    if ROLE_RANK[principal.role] < ROLE_RANK[role]:
        raise Forbidden(f"This needs the {role} role or higher; yours here is {principal.role}.")
    return principal


def _audit(deps: Any, request: Any, principal: Principal, method: str, path: str, params: dict[str, str],
           body: BaseModel | None, result: Any, status: int) -> None:
    """Records the write; a log that cannot be written is logged loudly and does not undo the write."""
    from chalicelib.core.audit_trail import WriteMade, record_write, redacted

    try:
        changes = redacted(body.model_dump(mode="json", exclude_unset=True)) if body is not None else {}
        answered = result.status_code if isinstance(result, Response) else status
        if answered >= 400:
            return
        answer_id = result.get("id") if isinstance(result, dict) else None
        identity = (request.context or {}).get("identity") or {}
        record_write(deps, WriteMade(principal, method, path, dict(params), changes, answered,
                                     str(identity.get("sourceIp") or ""),
                                     str((request.headers or {}).get("user-agent") or "")[:300],
                                     str(answer_id) if answer_id else None))
    except Exception:
        log.exception("AUDIT LOG WRITE FAILED for %s %s by %s", method, path, principal.actor)


def route(bp: Blueprint, path: str, method: str, *, summary: str, tag: str,
          role: str | None = "viewer", body: type[BaseModel] | None = None,
          query: type[BaseModel] | None = None, response: type[BaseModel] | None = None,
          status: int = 200, content_type: str = "application/json", errors: tuple[int, ...] = (),
          request_headers: dict[str, dict[str, Any]] | None = None,
          also_serves: tuple[str, ...] = (),
          accepts: tuple[str, ...] = ("application/json",), own_auth: bool = False
          ) -> Callable[[Callable[..., Any]], Any]:
    spec = RouteSpec(method, path, summary, role, body, query, response, status, tag, content_type, errors,
                     tuple((request_headers or {}).items()), also_serves, own_auth)
    ROUTES.append(spec)

    def decorate(handler: Callable[..., Any]) -> Any:
        def view(**params: str) -> Response:
            request = bp.current_request
            try:
                raw = _bytes_of(request.raw_body)
                headers = {k.lower(): v for k, v in (request.headers or {}).items()}
                deps, authenticate = _wired()
                principal = _principal(deps, authenticate, headers, role) if role else None
                check_media_type(headers, raw, accepts)
                parsed_body = _validate(body, parse_json_body(raw), "body") if body else None
                query_params = dict(request.query_params or {})
                parsed_query = _validate(query, query_params, "query") if query else None
                call = Call(principal, parsed_body, parsed_query, headers, raw, deps, query_params)
                result = handler(call, **params)
                if principal is not None and method != "GET":
                    _audit(deps, request, principal, method, path, params, parsed_body, result, status)
            except ApiError as error:
                return error_response(error)
            except Exception:
                log.exception("Unhandled error in %s %s", method, path)
                return error_response(InternalError("Something went wrong on our side; it was logged."))
            if isinstance(result, Response):
                return result
            if status == 204:
                return Response(body="", status_code=204)  # no content: no body and no content type
            return json_response(result, status)

        view.__name__ = handler.__name__
        view.__doc__ = handler.__doc__
        # Any media type reaches the view, which refuses a body that is not JSON (check_media_type): Chalice
        # alone would refuse a GET that carries no body but some Content-Type.
        bp.route(path, methods=[method], content_types=["*/*"])(view)
        return handler

    return decorate
