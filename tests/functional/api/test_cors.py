"""The web app's origin may call the API from a browser; other origins may not."""
from __future__ import annotations

from typing import Any

import pytest

from tests.support.http import Api

ALLOWED = "https://app.herald.test"  # HERALD_CORS_ORIGINS in tests/conftest.py
OTHER = "https://evil.example"


def preflight(client: Any, path: str, origin: str, method: str = "POST") -> Any:
    return client.http.request("OPTIONS", path, headers={
        "Origin": origin, "Access-Control-Request-Method": method,
        "Access-Control-Request-Headers": "authorization,content-type"})


def cors_headers(response: Any) -> dict[str, str]:
    return {k: v for k, v in response.headers.items() if k.lower().startswith("access-control-")}


@pytest.mark.parametrize(("path", "method"), [("/posts", "POST"), ("/posts/pst_x", "PATCH"),
                                              ("/channels/ch_x", "DELETE"), ("/calendar", "GET")])
def test_the_allowed_origin_passes_preflight(client, deps, path, method):
    response = preflight(client, path, ALLOWED, method)
    assert response.status_code in (200, 204)
    headers = cors_headers(response)
    assert headers["Access-Control-Allow-Origin"] == ALLOWED
    assert method in headers["Access-Control-Allow-Methods"].split(",")
    allowed_headers = {h.strip().lower() for h in headers["Access-Control-Allow-Headers"].split(",")}
    assert {"authorization", "content-type"} <= allowed_headers
    assert "origin" in response.headers.get("Vary", "").lower()


def test_another_origin_gets_no_cors_headers_on_preflight(client, deps):
    response = preflight(client, "/posts", OTHER)
    assert cors_headers(response) == {}
    assert response.status_code >= 400


@pytest.mark.parametrize("key_role", ["viewer", None])
def test_the_allowed_origin_can_read_answers_and_errors(client, workspace, key_role):
    headers = {"Origin": ALLOWED, **(workspace.headers(key_role) if key_role else {})}
    response = Api(client, headers).get("/workspace")
    assert response.status_code == (200 if key_role else 401)
    assert response.headers["Access-Control-Allow-Origin"] == ALLOWED
    assert "Retry-After" in response.headers["Access-Control-Expose-Headers"]


def test_the_allowed_origin_gets_cors_headers_on_chalices_own_errors(client, workspace):
    response = Api(client, {"Origin": ALLOWED, **workspace.headers()}).call("PUT", "/posts", {})
    assert response.status_code == 405
    assert response.headers["Access-Control-Allow-Origin"] == ALLOWED


def test_another_origin_gets_the_answer_without_cors_headers(client, workspace):
    response = Api(client, {"Origin": OTHER, **workspace.headers("viewer")}).get("/workspace")
    assert response.status_code == 200
    assert cors_headers(response) == {}


def test_no_origin_no_cors_headers(client, workspace):
    response = Api(client, workspace.headers("viewer")).get("/workspace")
    assert cors_headers(response) == {}


def test_public_routes_answer_the_allowed_origin_too(client, deps):
    response = client.http.get("/health", headers={"Origin": ALLOWED})
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == ALLOWED
    assert preflight(client, "/openapi.json", ALLOWED, "GET").headers["Access-Control-Allow-Origin"] == ALLOWED


def test_answers_are_not_sniffed_nor_cached(client, workspace):
    api = Api(client, workspace.headers("viewer"))
    for response in (api.get("/workspace"), api.get("/posts/pst_missing"), client.http.get("/health")):
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Cache-Control"] == "no-store"
