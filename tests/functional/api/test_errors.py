"""Errors a client can act on, always in the contract's shape."""
from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from tests.support.factories import connect_sandbox, iso
from tests.support.http import Api


@pytest.fixture
def channel(api: Api) -> dict[str, Any]:
    return connect_sandbox(api)


def error_of(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.body
    assert response.headers["Content-Type"].startswith("application/json")
    error = response.json["error"]
    assert set(error) == {"code", "message", "details"}
    assert error["message"].strip()
    return error


def fields(error: dict[str, Any]) -> list[str]:
    return [d["field"] for d in error["details"]]


# Tables of cases share one test (and one emulated AWS): each case is cheap, a setup is not.


def test_malformed_json_is_a_400(api):
    for raw in (b"{", b'{"text": "hi",}', b"{'text': 'hi'}", b"\xff\xfe\x00", '{"text": "café"}'.encode("latin-1")):
        assert error_of(api.post("/posts", raw), 400)["code"] == "malformed_json", raw


def test_a_body_not_in_utf8_is_malformed(api, channel):
    body = json.dumps({"text": "hi", "channel_ids": [channel["id"]]}).encode("utf-16")
    assert error_of(api.post("/posts", body), 400)["code"] == "malformed_json"
    assert api.get("/posts").json["items"] == []


def test_a_body_that_is_not_an_object_is_a_400(api):
    for raw in (b"[]", b'[{"text": "hi"}]', b'"text"', b"null", b"42"):
        assert error_of(api.post("/posts", raw), 400)["code"] == "malformed_json", raw


def test_a_body_over_256_kib_is_a_413(api, channel):
    body = json.dumps({"text": "x" * (256 * 1024), "channel_ids": [channel["id"]]})
    error = error_of(api.post("/posts", body), 413)
    assert error["code"] == "payload_too_large"
    assert api.get("/posts").json["items"] == []


def test_a_body_just_under_the_limit_is_read(api, channel):
    body = json.dumps({"text": "", "channel_ids": [channel["id"]]})
    padded = body[:-1] + " " * (256 * 1024 - len(body)) + "}"
    assert len(padded.encode()) == 256 * 1024
    error = error_of(api.post("/posts", padded), 422)  # read and validated, not refused for its size
    assert fields(error) == ["text"]


def test_missing_fields_are_named(api):
    error = error_of(api.post("/posts", {"text": "hi"}), 422)
    assert error["code"] == "validation_failed"
    assert fields(error) == ["channel_ids"]


def test_unknown_fields_are_named(api, channel):
    error = error_of(api.post("/posts", {"text": "hi", "channel_ids": [channel["id"]], "colour": "red"}), 422)
    assert fields(error) == ["colour"]


def test_a_publish_at_that_is_not_an_rfc3339_time_with_offset_is_named(api, channel):
    for publish_at in ("tomorrow", "2026-03-05T10:00:00", "2026-02-30T10:00:00Z", 12):
        body = {"text": "hi", "channel_ids": [channel["id"]], "publish_at": publish_at}
        assert fields(error_of(api.post("/posts", body), 422)) == ["publish_at"], publish_at


def test_nested_fields_are_named_by_their_path(api, channel):
    error = error_of(api.post("/posts", {"text": "hi", "channel_ids": [channel["id"]],
                                         "media": [{"url": "ftp://example.com/a.png"}]}), 422)
    assert fields(error) == ["media.0.url"]


def test_text_over_the_sandbox_limit_names_the_network_and_its_limit(api, channel):
    error = error_of(api.post("/posts", {"text": "x" * 5001, "channel_ids": [channel["id"]]}), 422)
    [detail] = error["details"]
    assert (detail["field"], detail["network"], detail["limit"], detail["length"]) == ("text", "sandbox", 5000, 5001)
    assert "sandbox" in detail["message"] and "5000" in detail["message"]
    assert api.post("/posts", {"text": "x" * 5000, "channel_ids": [channel["id"]]}).status_code == 201


def test_a_channels_own_character_limit_is_named(api, channel):
    short = connect_sandbox(api, "Short", max_characters=20)
    error = error_of(api.post("/posts", {"text": "y" * 21, "channel_ids": [channel["id"], short["id"]]}), 422)
    [detail] = error["details"]
    assert (detail["field"], detail["network"], detail["limit"]) == ("text", "sandbox", 20)
    assert "Short" in detail["message"]


def test_a_query_parameter_of_the_wrong_type_is_named(api):
    error = error_of(api.get("/posts?limit=many"), 422)
    assert fields(error) == ["limit"]


def test_an_unknown_query_parameter_is_named(api):
    assert fields(error_of(api.get("/posts?colour=red"), 422)) == ["colour"]


def test_an_unknown_route_answers_like_api_gateway_in_the_test_client(client):
    # Chalice's test client (like API Gateway) refuses a path no route matches with a
    # 403 "Missing Authentication Token"; the local HTTP server turns that into a 404.
    response = client.http.get("/no-such-route")
    assert response.status_code == 403
    assert json.loads(response.body) == {"message": "Missing Authentication Token"}


@pytest.mark.parametrize(("method", "path", "allowed"), [
    ("PUT", "/posts", "GET, OPTIONS, POST"), ("DELETE", "/posts", "GET, OPTIONS, POST"),
    ("TRACE", "/posts", "GET, OPTIONS, POST"), ("POST", "/workspace", "GET, OPTIONS, PATCH"),
    ("PUT", "/posts/pst_x", "DELETE, GET, OPTIONS, PATCH"), ("TRACE", "/health", "GET, OPTIONS"),
    ("DELETE", "/webhooks/x", "GET, OPTIONS, POST")])
def test_a_method_a_route_does_not_have_is_a_405_in_the_contract_shape(api, method, path, allowed):
    response = api.call(method, path, {})
    error = error_of(response, 405)
    assert error["code"] == "method_not_allowed"
    assert error["details"] == []
    assert method in error["message"]
    assert response.headers["Allow"] == allowed


def test_no_content_answers_carry_no_body_and_no_content_type(api, channel):
    saved = api.post("/saved-replies", {"name": "Thanks", "text": "Thank you!"})
    assert saved.status_code == 201, saved.body
    for response in (api.delete(f"/saved-replies/{saved.json['id']}"), api.delete(f"/channels/{channel['id']}"),
                     api.delete("/workspace/calendar-feed"), api.call("OPTIONS", "/posts")):
        assert response.status_code == 204, response.body
        assert response.body == b""
        assert "content-type" not in {name.lower() for name in response.headers}


def test_a_plain_options_request_is_told_the_paths_methods(api):
    response = api.call("OPTIONS", "/posts/pst_x")
    assert response.status_code == 204
    assert response.headers["Allow"] == "DELETE,GET,OPTIONS,PATCH"


def test_a_preflight_from_another_origin_is_a_403_in_the_contract_shape(api):
    response = api.call("OPTIONS", "/posts", headers={"Origin": "https://evil.example",
                                                      "Access-Control-Request-Method": "POST"})
    assert error_of(response, 403)["code"] == "origin_not_allowed"


def test_a_body_sent_as_another_media_type_is_a_415_in_the_contract_shape(api, channel):
    response = api.post("/posts", json.dumps({"text": "hi", "channel_ids": [channel["id"]]}),
                        headers={"Content-Type": "text/plain"})
    assert error_of(response, 415)["code"] == "unsupported_media_type"


def test_a_request_without_a_body_may_carry_any_content_type(api, channel):
    for content_type in ("", "text/plain", "*/*"):
        headers = {"Content-Type": content_type}
        assert api.get("/channels", headers=headers).status_code == 200, content_type
        assert api.get(f"/channels/{channel['id']}", headers=headers).status_code == 200, content_type
    assert api.delete(f"/channels/{channel['id']}", headers={"Content-Type": ""}).status_code == 204


def test_any_body_not_sent_as_json_is_a_415(api, channel):
    for content_type in ("text/plain", "*/*", "text/plain, application/json", "application/jsonp"):
        response = api.post("/posts", json.dumps({"text": "hi", "channel_ids": [channel["id"]]}),
                            headers={"Content-Type": content_type})
        assert error_of(response, 415)["code"] == "unsupported_media_type", content_type
    assert api.get("/posts").json["items"] == []


def test_json_with_a_charset_is_accepted(api, channel, clock):
    response = api.post("/posts", {"text": "hi", "channel_ids": [channel["id"]],
                                   "publish_at": iso(clock.now() + timedelta(hours=1))},
                        headers={"Content-Type": "application/json; charset=utf-8"})
    assert response.status_code == 201, response.body


def test_a_bad_key_is_refused_before_the_body_is_read(client):
    response = Api(client, {"Content-Type": "application/json"}).post("/posts", b"{not json")
    assert error_of(response, 401)["code"] == "unauthorized"
