"""The OpenAPI document describes exactly the API that is served."""
from __future__ import annotations

import json
from typing import Any

import pytest
from openapi_spec_validator import validate
from openapi_spec_validator.validation import OpenAPIV31SpecValidator

from chalicelib.core.api import ROUTES

PUBLIC = {("/health", "GET"), ("/openapi.json", "GET"), ("/calendar-feed/{token}", "GET"),
          # Each network signs its webhooks instead.
          ("/webhooks/meta", "GET"), ("/webhooks/meta", "POST"), ("/webhooks/x", "GET"), ("/webhooks/x", "POST"),
          ("/webhooks/linkedin", "GET"), ("/webhooks/linkedin", "POST"), ("/webhooks/tiktok", "POST"),
          ("/webhooks/meta/deauthorize", "POST"),  # Meta signs it (signed_request)
          # The person's browser back from the network: its single-use `state` proves who began the connection.
          ("/oauth/callback/{network}", "GET"),
          # A client reviewer's emailed link: its single-use token is the proof.
          ("/review/{token}", "GET"),
          # A person before they hold a token: signing in, renewing, resetting a password, accepting an invitation
          # (the mailed single-use token proves who they are).
          ("/auth/sign-in", "POST"), ("/auth/refresh", "POST"), ("/auth/password-reset", "POST"),
          ("/auth/password-reset/confirm", "POST"), ("/invitations/accept", "POST"),
          # Short links and their conversion pixel: anyone who sees a post follows them.
          ("/l/{code}", "GET"), ("/l/{code}/pixel.gif", "GET")}
# Public routes that still answer 401: a wrong password, a refresh token no longer valid.
PUBLIC_WITH_401 = {("/auth/sign-in", "post"), ("/auth/refresh", "post")}


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
            signed = (path.startswith("/webhooks/") and method == "post") or (path, method) in PUBLIC_WITH_401
            assert ("401" in operation["responses"]) == (not public or signed), (method, path)


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(method.upper(), path, operation) for path, by_method in document["paths"].items()
            for method, operation in by_method.items()]


def test_a_refused_webhook_signature_is_a_documented_401(document):
    receivers = [(m, p, o) for m, p, o in operations(document) if p.startswith("/webhooks/") and m == "POST"]
    assert len(receivers) == 5  # meta, x, linkedin, tiktok, and Meta's deauthorize callback
    for method, path, operation in receivers:
        # Meta's deauthorize callback reads nothing unsigned: a malformed one is a bad signature (401).
        expected = {"401", "413"} if path.endswith("/deauthorize") else {"400", "401", "413"}
        assert expected <= set(operation["responses"]), (method, path)
    for method, path, operation in operations(document):
        if path.startswith("/webhooks/") and method == "GET":
            assert "403" in operation["responses"], (method, path)  # handshake_refused


def test_every_list_route_documents_the_invalid_cursor_400(document):
    lists = [(m, p, o) for m, p, o in operations(document)
             if any(param["name"] == "cursor" for param in o["parameters"])]
    assert {("GET", "/posts"), ("GET", "/channels"), ("GET", "/inbox/conversations"), ("GET", "/saved-replies"),
            ("GET", "/listening/rules"), ("GET", "/listening/mentions")} <= {(m, p) for m, p, _ in lists}
    for method, path, operation in lists:
        assert "400" in operation["responses"], (method, path)


def test_role_and_method_errors_are_documented_where_they_apply(document):
    specs = {(spec.method, spec.path): spec for spec in ROUTES}
    for method, path, operation in operations(document):
        responses, spec = set(operation["responses"]), specs[(method, path)]
        assert {"405", "429"} <= responses, (method, path)
        assert ("403" in responses) == (spec.role not in (None, "viewer") or 403 in spec.errors or
                                       (path.startswith("/webhooks/") and method == "GET")), (method, path)
        if spec.body is not None:
            assert {"400", "413", "415", "422"} <= responses, (method, path)
        if "{" in path:
            assert "404" in responses, (method, path)


def test_a_204_answer_is_documented_without_content(document):
    no_content = [(m, p, o) for m, p, o in operations(document) if "204" in o["responses"]]
    assert {("DELETE", "/channels/{channel_id}"), ("DELETE", "/workspace/calendar-feed")} \
        <= {(m, p) for m, p, _ in no_content}
    for method, path, operation in no_content:
        assert "content" not in operation["responses"]["204"], (method, path)


def test_the_inbox_reply_documents_its_idempotency_key(document):
    operation = document["paths"]["/inbox/conversations/{conversation_id}/reply"]["post"]
    [header] = [p for p in operation["parameters"] if p["in"] == "header"]
    assert header["name"] == "Idempotency-Key" and not header["required"]
    assert header["schema"]["type"] == "string"


def test_reports_document_their_csv_and_html_answers(document):
    for path in ("/reports/monthly", "/reports/quarterly"):
        assert set(document["paths"][path]["get"]["responses"]["200"]["content"]) \
            == {"application/json", "text/csv", "text/html"}


def test_errors_are_documented_in_the_contracts_shape(document):
    components = document["components"]["schemas"]
    error = resolve(document["paths"]["/posts"]["post"]["responses"]["422"]["content"]["application/json"]["schema"],
                    components, "#/components/schemas/")
    assert set(error["properties"]["error"]["properties"]) == {"code", "message", "details"}
    for method, path, operation in operations(document):
        for status, answer in operation["responses"].items():
            if int(status) >= 400:
                schema = answer["content"]["application/json"]["schema"]
                assert resolve(schema, components, "#/components/schemas/") == error, (method, path, status)
