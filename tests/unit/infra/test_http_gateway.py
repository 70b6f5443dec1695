from __future__ import annotations

import base64
import http.client
import json
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from chalice import Chalice, Response
from chalice.config import Config

from infra.local.http_gateway import ApiGateway, HttpServer, answer_from_lambda

CONFIG = Config(chalice_stage="local", function_name="api_handler")


def make_gateway() -> ApiGateway:
    app = Chalice(app_name="herald", configure_logs=False)
    app.api.binary_types.append("application/octet-stream")

    @app.route("/posts/{post_id}", methods=["GET", "POST"])
    def post(post_id: str) -> dict[str, Any]:
        request = app.current_request
        return {"id": post_id, "method": request.method, "query": request.query_params,
                "auth": request.headers.get("authorization")}

    @app.route("/echo", methods=["POST"], content_types=["application/octet-stream"])
    def echo() -> Response:
        return Response(body=app.current_request.raw_body[::-1], status_code=201,
                        headers={"Content-Type": "application/octet-stream"})

    @app.route("/cookies")
    def cookies() -> Response:
        return Response(body="", status_code=204, headers={"Set-Cookie": ["a=1", "b=2"], "X-One": "1"})

    return ApiGateway(app, Config(chalice_stage="local", function_name="api_handler"))


def test_a_route_gets_its_path_parameters_query_and_headers() -> None:
    answer = make_gateway().answer("GET", "/posts/p1?limit=5", {"Authorization": "Bearer k"}, None)
    assert answer.status == 200
    assert json.loads(answer.body) == {
        "id": "p1", "method": "GET", "query": {"limit": "5"}, "auth": "Bearer k"}
    assert answer.route == "/posts/{post_id}"


def test_an_unknown_path_answers_404_in_the_api_error_shape() -> None:
    for headers in ({}, {"Authorization": "Bearer k"}):
        answer = make_gateway().answer("DELETE", "/nothing/here?x=1", headers, None)
        assert answer.status == 404
        assert json.loads(answer.body) == {"error": {
            "code": "not_found", "message": "No route for DELETE /nothing/here", "details": []}}
        assert ("Content-Type", "application/json") in answer.headers


def test_every_method_on_a_known_path_reaches_the_app_as_the_deployed_any_method_sends_it() -> None:
    gateway = make_gateway()
    for method in ("DELETE", "HEAD", "PUT", "TRACE", "BREW"):
        answer = gateway.answer(method, "/posts/p1", {}, None)
        assert answer.status == 405, method
        assert dict(answer.headers)["Allow"] == "GET, POST"
        assert answer.route == "/posts/{post_id}"


def test_preflight_is_answered_where_a_view_allows_cors() -> None:
    app = Chalice(app_name="herald", configure_logs=False)

    @app.route("/open", methods=["PUT"], cors=True)
    def open_view() -> dict[str, Any]:
        return {}

    answer = ApiGateway(app, Config(chalice_stage="local", function_name="api_handler")).answer(
        "OPTIONS", "/open", {"Origin": "http://localhost:5173"}, None)
    assert answer.status == 200
    assert ("Access-Control-Allow-Methods", "PUT,OPTIONS") in answer.headers


def test_binary_bodies_travel_base64_through_the_lambda_event_and_back() -> None:
    answer = make_gateway().answer("POST", "/echo", {"Content-Type": "application/octet-stream",
                                                     "Accept": "application/octet-stream"}, b"\x00\x01\xff")
    assert answer.status == 201
    assert answer.body == b"\xff\x01\x00"


def test_multi_value_headers_become_repeated_header_lines() -> None:
    answer = make_gateway().answer("GET", "/cookies", {}, None)
    assert answer.status == 204
    assert [value for name, value in answer.headers if name == "Set-Cookie"] == ["a=1", "b=2"]
    assert ("X-One", "1") in answer.headers


def test_an_answer_without_a_body_gets_no_content_type() -> None:
    answer = make_gateway().answer("GET", "/cookies", {}, None)
    assert answer.body == b""
    assert "content-type" not in {name.lower() for name, _ in answer.headers}


def test_lambda_response_merging_follows_api_gateway() -> None:
    answer = answer_from_lambda({
        "statusCode": 200,
        "headers": {"X-A": "single", "X-B": "kept", "Content-Length": "999"},
        "multiValueHeaders": {"X-A": ["multi-1", "multi-2"]},
        "body": base64.b64encode(b"\x89PNG").decode(), "isBase64Encoded": True,
    })
    assert answer.headers == [("X-A", "multi-1"), ("X-A", "multi-2"), ("X-B", "kept"),
                              ("Content-Type", "application/json")]
    assert answer.body == b"\x89PNG"


def test_outside_a_request_the_app_has_no_current_request_as_in_lambda() -> None:
    app = Chalice(app_name="herald", configure_logs=False)

    @app.route("/")
    def index() -> dict[str, Any]:
        return {}

    ApiGateway(app, Config(chalice_stage="local", function_name="api_handler"))
    assert app.current_request is None


def test_requests_served_side_by_side_each_see_their_own_request() -> None:
    app = Chalice(app_name="herald", configure_logs=False)
    first_inside, second_done = threading.Event(), threading.Event()

    @app.route("/wait/{name}")
    def wait(name: str) -> dict[str, Any]:
        if name == "first":
            first_inside.set()
            second_done.wait(5)  # the second request is served while this one is in the middle
        return {"seen": app.current_request.uri_params["name"]}

    gateway = ApiGateway(app, Config(chalice_stage="local", function_name="api_handler"))
    answers: dict[str, Any] = {}
    first = threading.Thread(
        target=lambda: answers.update(first=gateway.answer("GET", "/wait/first", {}, None)))
    first.start()
    first_inside.wait(5)
    answers["second"] = gateway.answer("GET", "/wait/second", {}, None)
    second_done.set()
    first.join()

    assert json.loads(answers["first"].body) == {"seen": "first"}
    assert json.loads(answers["second"].body) == {"seen": "second"}


# Over real HTTP: what `make run` serves.


@pytest.fixture(scope="module")
def herald_server() -> Iterator[str]:
    """The Herald app behind the local stack's gateway on a free port (no AWS needed for these answers)."""
    from app import app

    server = HttpServer(ApiGateway(app, CONFIG), "127.0.0.1", 0)
    server.start()
    yield f"127.0.0.1:{server.port}"
    server.stop()


@pytest.fixture(scope="module")
def test_app_server() -> Iterator[str]:
    server = HttpServer(make_gateway(), "127.0.0.1", 0)
    server.start()
    yield f"127.0.0.1:{server.port}"
    server.stop()


def request(address: str, method: str, path: str, body: bytes | None = None) -> tuple[Any, bytes]:
    connection = http.client.HTTPConnection(address, timeout=10)
    connection.request(method, path, body=body, headers={"Content-Type": "application/json"} if body else {})
    response = connection.getresponse()
    data = response.read()
    connection.close()
    return response, data


def contract_error(answer: tuple[Any, bytes], status: int) -> dict[str, Any]:
    response, data = answer
    assert response.status == status, data
    assert response.getheader("Content-Type") == "application/json"
    error = json.loads(data)["error"]
    assert set(error) == {"code", "message", "details"} and error["details"] == []
    return error


@pytest.mark.parametrize(("method", "path", "allowed"), [
    ("TRACE", "/posts", "GET, OPTIONS, POST"), ("PUT", "/posts", "GET, OPTIONS, POST"),
    ("DELETE", "/workspace", "GET, OPTIONS, PATCH"), ("TRACE", "/health", "GET, OPTIONS"),
    ("PUT", "/posts/pst_x", "DELETE, GET, OPTIONS, PATCH"), ("BREW", "/calendar", "GET, OPTIONS")])
def test_a_method_a_path_does_not_take_is_a_405_in_the_contracts_shape_over_http(herald_server, method, path,
                                                                                allowed):
    answer = request(herald_server, method, path, b"{}")
    error = contract_error(answer, 405)
    assert error["code"] == "method_not_allowed"
    assert method in error["message"]
    assert answer[0].getheader("Allow") == allowed


def test_an_unknown_path_is_a_404_in_the_contracts_shape_over_http(herald_server):
    for method in ("GET", "TRACE", "POST"):
        assert contract_error(request(herald_server, method, "/no/such/route"), 404)["code"] == "not_found"


def test_a_204_has_no_body_no_length_and_no_content_type_over_http(test_app_server):
    response, data = request(test_app_server, "GET", "/cookies")
    assert response.status == 204
    assert data == b""
    assert response.getheader("Content-Type") is None
    assert response.getheader("Content-Length") is None


def raw_exchange(address: str, data: bytes) -> bytes:
    host, port = address.split(":")
    with socket.create_connection((host, int(port)), timeout=10) as connection:
        connection.sendall(data)
        chunks = []
        while chunk := connection.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


@pytest.mark.parametrize(("data", "status"), [
    (b"GARBAGE\r\n\r\n", 400),
    (b"GET /health HTTP/9.9\r\n\r\n", 505),
    (b"GET /" + b"a" * 70000 + b" HTTP/1.1\r\n\r\n", 414),
    (b"POST /posts HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n", 400),
    (b"POST /posts HTTP/1.1\r\nHost: x\r\nContent-Length: many\r\n\r\n", 400),
])
def test_what_the_http_server_refuses_itself_is_answered_in_the_contracts_shape(herald_server, data, status):
    head, _, body = raw_exchange(herald_server, data).partition(b"\r\n\r\n")
    assert head.split(b" ")[1] == str(status).encode(), head
    assert b"Content-Type: application/json" in head
    assert set(json.loads(body)["error"]) == {"code", "message", "details"}


def test_kept_alive_answers_are_not_held_back_by_delayed_acks(test_app_server):
    # Headers and body are two writes; with Nagle's algorithm on, each answer waited ~40 ms for an ACK.
    connection = http.client.HTTPConnection(test_app_server, timeout=10)
    started = time.monotonic()
    for _ in range(20):
        connection.request("GET", "/posts/p1")
        assert connection.getresponse().read()
    connection.close()
    assert time.monotonic() - started < 0.5
