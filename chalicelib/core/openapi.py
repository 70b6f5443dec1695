"""The OpenAPI 3.1 document, built from the routes and the very pydantic models
that validate their requests."""
from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from chalicelib.core.api import ROUTES, RouteSpec
from chalicelib.core.schemas import Error

ERRORS = {400: "Malformed request (`malformed_json`; `invalid_cursor` on a list)",
          401: "Missing or bad API key (a webhook: `invalid_signature`)", 403: "Role too low",
          404: "Not found in this workspace", 405: "Another method than this path takes (see `Allow`)",
          409: "State conflict", 413: "Body too large", 415: "Body not sent as application/json",
          422: "Validation failed", 429: "Too many requests"}
WRITES = ("POST", "PATCH", "PUT", "DELETE")


def error_statuses(spec: RouteSpec) -> list[int]:
    """Every error status the route can answer, from what it reads; `spec.errors` adds the rest."""
    found = {405, 429, *spec.errors}  # any path: another method; the gateway throttles every route
    if spec.role is not None:
        found |= {401, 404}  # a missing or bad key; another workspace's object (or an unknown id)
        if spec.role != "viewer":
            found.add(403)
        if spec.method in WRITES:
            found.add(409)
    if spec.own_auth:
        found.add(401)
    if spec.method in WRITES:
        found.add(415)  # a body that is not JSON, whether the route reads one or not
    if spec.body is not None:
        found |= {400, 413, 422}
    if spec.query is not None:
        found.add(422)
        if "cursor" in spec.query.model_fields:
            found.add(400)
    if re.search(r"{\w+}", spec.path):
        found.add(404)
    return sorted(found)


def _header_parameters(spec: RouteSpec) -> list[dict[str, Any]]:
    return [{"name": name, "in": "header", "required": False, "schema": schema}
            for name, schema in spec.request_headers]


def _success(spec: RouteSpec, ref: Callable[[type[BaseModel], str], dict[str, Any]]) -> dict[str, Any]:
    if spec.status == 204:
        return {"description": "Done; no content"}
    content: dict[str, Any]
    if spec.response is not None:
        content = {spec.content_type: {"schema": ref(spec.response, "serialization")}}
    elif spec.content_type != "application/json":
        content = {spec.content_type: {"schema": {"type": "string"}}}
    else:
        content = {"application/json": {"schema": {"type": "object"}}}
    content.update({media_type: {"schema": {"type": "string"}} for media_type in spec.also_serves})
    return {"description": "OK", "content": content}


def _query_parameters(model: type[BaseModel], components: dict[str, Any]) -> list[dict[str, Any]]:
    schema = model.model_json_schema(by_alias=True, ref_template="#/components/schemas/{model}")
    for name, definition in schema.pop("$defs", {}).items():
        components.setdefault(name, definition)
    required = set(schema.get("required", []))
    return [{"name": name, "in": "query", "required": name in required, "schema": prop}
            for name, prop in schema.get("properties", {}).items()]


@lru_cache(maxsize=1)
def build_document() -> dict[str, Any]:
    models: set[type[BaseModel]] = {Error}
    for spec in ROUTES:
        models.update(m for m in (spec.body, spec.response) if m is not None)
    pairs = [(m, "validation") for m in models] + [(m, "serialization") for m in models]
    keys, top = models_json_schema(pairs, ref_template="#/components/schemas/{model}")  # type: ignore[arg-type]
    components: dict[str, Any] = dict(top.get("$defs", {}))

    def ref(model: type[BaseModel], mode: str) -> dict[str, Any]:
        return keys[(model, mode)]  # type: ignore[index]

    paths: dict[str, dict[str, Any]] = {}
    for spec in ROUTES:
        operation: dict[str, Any] = {
            "summary": spec.summary,
            "operationId": f"{spec.method.lower()}_{re.sub(r'[^a-zA-Z0-9]+', '_', spec.path).strip('_') or 'root'}",
            "tags": [spec.tag],
            "parameters": [{"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
                           for name in re.findall(r"{(\w+)}", spec.path)],
            "responses": {},
        }
        if spec.query is not None:
            operation["parameters"] += _query_parameters(spec.query, components)
        operation["parameters"] += _header_parameters(spec)
        if spec.body is not None:
            operation["requestBody"] = {"required": True,
                                        "content": {"application/json": {"schema": ref(spec.body, "validation")}}}
        operation["responses"][str(spec.status)] = _success(spec, ref)
        for code in error_statuses(spec):
            operation["responses"][str(code)] = {
                "description": ERRORS[code], "content": {"application/json": {"schema": ref(Error, "serialization")}}}
        if spec.role is not None:
            operation["security"] = [{"apiKey": []}]
            operation["description"] = f"Needs the {spec.role} role or higher."
        elif spec.own_auth:
            operation["security"] = [{"apiKey": []}]
        paths.setdefault(spec.path, {})[spec.method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "info": {"title": "Herald API", "version": "1.0.0",
                 "description": "Schedule, publish, answer and measure social-media work."},
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {"apiKey": {"type": "http", "scheme": "bearer",
                                           "description": "Authorization: Bearer <api_key>, or a person's "
                                                          "sign-in access token (POST /auth/sign-in) with "
                                                          "X-Herald-Workspace naming the workspace"}},
        },
    }
