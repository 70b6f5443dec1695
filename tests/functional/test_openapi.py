"""The OpenAPI document describes exactly the API that is served."""
from __future__ import annotations

import json
from typing import Any

import pytest
from openapi_spec_validator import validate
from openapi_spec_validator.validation import OpenAPIV31SpecValidator

from chalicelib.api import ROUTES

PUBLIC = {("/health", "GET"), ("/openapi.json", "GET"), ("/calendar-feed/{token}", "GET")}


@pytest.fixture
def document(client: Any) -> dict[str, Any]:
    response = client.http.get("/openapi.json")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    return json.loads(response.body)


def resolve(schema: Any, definitions: dict[str, Any], prefix: str) -> Any:
    """The schema with every `$ref` replaced by what it points to."""
    if isinstance(schema, dict):
        if "$ref" in schema:
            return resolve(definitions[schema["$ref"].removeprefix(prefix)], definitions, prefix)
        return {k: resolve(v, definitions, prefix) for k, v in schema.items() if k != "$defs"}
    if isinstance(schema, list):
        return [resolve(item, definitions, prefix) for item in schema]
    return schema


def test_it_is_a_valid_openapi_3_1_document(document):
    assert document["openapi"].startswith("3.1")
    validate(document, cls=OpenAPIV31SpecValidator)


def test_it_lists_every_route_the_app_serves_and_no_other(document):
    from app import app

    served = {(path, method) for path, methods in app.routes.items() for method in methods if method != "OPTIONS"}
    documented = {(path, method.upper()) for path, operations in document["paths"].items() for method in operations}
    assert documented == served
    assert {("/posts/{post_id}/publish-now", "POST"), ("/calendar", "GET"), ("/channels/{channel_id}", "PATCH")} \
        <= documented


def test_every_request_body_is_the_model_that_validates_it(document):
    components = document["components"]["schemas"]
    bodies = [spec for spec in ROUTES if spec.body is not None]
    assert {spec.body.__name__ for spec in bodies} >= {"PostCreate", "PostPatch", "ChannelCreate", "ScheduleRequest"}
    for spec in bodies:
        operation = document["paths"][spec.path][spec.method.lower()]
        served = operation["requestBody"]["content"]["application/json"]["schema"]
        model = spec.body.model_json_schema(ref_template="#/$defs/{model}")
        assert resolve(served, components, "#/components/schemas/") \
            == resolve(model, model.get("$defs", {}), "#/$defs/"), (spec.method, spec.path)


def test_every_query_parameter_is_a_field_of_the_model_that_validates_it(document):
    for spec in ROUTES:
        operation = document["paths"][spec.path][spec.method.lower()]
        documented = {p["name"] for p in operation["parameters"] if p["in"] == "query"}
        expected = set(spec.query.model_json_schema(by_alias=True)["properties"]) if spec.query else set()
        assert documented == expected, (spec.method, spec.path)
    posts = document["paths"]["/posts"]["get"]["parameters"]
    assert {"status", "channel_id", "from", "to", "limit", "cursor"} <= {p["name"] for p in posts}


def test_the_key_is_asked_for_everywhere_but_the_public_routes(document):
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            public = (path, method.upper()) in PUBLIC
            assert ("security" not in operation) == public, (method, path)
            assert ("401" not in operation["responses"]) == public, (method, path)


def test_errors_are_documented_in_the_contracts_shape(document):
    error = resolve(document["paths"]["/posts"]["post"]["responses"]["422"]["content"]["application/json"]["schema"],
                    document["components"]["schemas"], "#/components/schemas/")
    assert set(error["properties"]["error"]["properties"]) == {"code", "message", "details"}
