"""Serves the Chalice app over HTTP the way API Gateway does in front of Lambda.

Each request goes through chalice's LocalGateway, which builds the API Gateway
proxy event and calls the app's own Lambda entry point. A path no route matches
answers 404 in the API's error shape (the deployed template maps API Gateway's
MISSING_AUTHENTICATION_TOKEN answer to the same body). Every method on a known path
reaches the app, as the deployed template's ANY method on every resource sends it
there: a method the path does not take is the app's 405, with `Allow`. Whatever the
HTTP server itself refuses (a malformed request line, an odd method) is answered
in the same error shape, never as an HTML page.
"""
from __future__ import annotations

import base64
import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

from chalice.app import Chalice
from chalice.config import Config
from chalice.local import LocalGateway, LocalGatewayException, RouteMatcher

if TYPE_CHECKING:
    from infra.local.console_files import ConsoleFiles

log = logging.getLogger(__name__)

# Headers the server itself writes; the app's values for them are not passed on.
_HOP_HEADERS = {"content-length", "transfer-encoding", "connection", "keep-alive"}


@dataclass
class HttpAnswer:
    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    route: str | None = None


# Answers that carry no body, so no Content-Length and no Content-Type either (RFC 9110, 8.6 and 15.3.5).
NO_BODY_STATUSES = (204, 304)


def error_answer(status: int, code: str, message: str) -> HttpAnswer:
    body = {"error": {"code": code, "message": message, "details": []}}
    return HttpAnswer(status, [("Content-Type", "application/json")], json.dumps(body).encode("utf-8"))


def not_found_answer(method: str, path: str) -> HttpAnswer:
    return error_answer(404, "not_found", f"No route for {method} {path}")


def status_code_name(status: int) -> str:
    """`uri_too_long` for 414: the error code of an answer the HTTP server gives itself."""
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        return "bad_request"
    return phrase.lower().replace(" ", "_").replace("-", "_")


def answer_from_lambda(response: dict[str, Any]) -> HttpAnswer:
    """Turn a Lambda proxy response into status, header lines and body bytes, as API Gateway does."""
    multi = {name: [str(value) for value in values]
             for name, values in (response.get("multiValueHeaders") or {}).items()}
    headers = [(name, value) for name, values in multi.items() for value in values]
    # API Gateway merges both maps; for a name in both, multiValueHeaders wins.
    headers += [(name, str(value)) for name, value in (response.get("headers") or {}).items()
                if name not in multi]
    headers = [(name, value) for name, value in headers if name.lower() not in _HOP_HEADERS]
    status = int(response["statusCode"])
    body = response.get("body")
    if body is None or status in NO_BODY_STATUSES:
        data = b""
    elif response.get("isBase64Encoded"):
        data = base64.b64decode(body)
    else:
        data = body.encode("utf-8") if isinstance(body, str) else bytes(body)
    # API Gateway labels an unlabelled body as JSON; an answer without a body gets no label.
    if data and not any(name.lower() == "content-type" for name, _ in headers):
        headers.append(("Content-Type", "application/json"))
    return HttpAnswer(status, headers, data)


class _RequestPerThread:
    """`current_request` kept per thread: None outside a request, as in a Lambda fed by a queue."""

    _requests: threading.local

    @property
    def current_request(self) -> Any:
        return getattr(self._requests, "request", None)

    @current_request.setter
    def current_request(self, value: Any) -> None:
        self._requests.request = value


def serve_threads_safely(app: Chalice) -> None:
    """Give the app a per-thread `current_request` (as `chalice local` does), so requests served
    side by side, and the queue and schedule threads, never see each other's request."""
    if not isinstance(app, _RequestPerThread):
        app.__class__ = type(f"Local{type(app).__name__}", (_RequestPerThread, type(app)),
                             {"_requests": threading.local()})


class ApiGateway:
    def __init__(self, app: Chalice, config: Config, console: ConsoleFiles | None = None) -> None:
        serve_threads_safely(app)
        self._app = app
        self._console = console  # `/` and `/console/*`: the web console
        self._gateway = LocalGateway(app, config)
        self._routes = RouteMatcher(list(app.routes))

    def answer(self, method: str, path: str, headers: dict[str, str], body: bytes | None) -> HttpAnswer:
        if self._console is not None and self._console.serves(method, path):
            answer = self._console.answer(path)
            answer.route = path.split("?", 1)[0]
            return answer
        try:
            route = self._routes.match_route(path).route
        except ValueError:
            # API Gateway answers an unknown path with MISSING_AUTHENTICATION_TOKEN, mapped to this 404.
            return not_found_answer(method, path.split("?", 1)[0])
        try:
            response = self._gateway.handle_request(method=method, path=path, headers=headers, body=body)
        except LocalGatewayException as error:
            answer = HttpAnswer(error.CODE, [(name, str(value)) for name, value in error.headers.items()],
                                error.body or b"")
        else:
            answer = answer_from_lambda(response)
        answer.route = route
        return answer


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: every answer carries a Content-Length
    # Headers and body go out as separate writes: with Nagle on, the body waits for the delayed ACK (40 ms).
    disable_nagle_algorithm = True
    server_version = "HeraldLocal"
    timeout = 120  # an idle kept-alive connection is closed after this long
    server: ThreadingHTTPServer

    def _read_body(self) -> bytes | None:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        if length < 0:
            raise ValueError(f"Content-Length {length}")
        return self.rfile.read(length) if length > 0 else None

    def _handle(self) -> None:
        started = time.monotonic()
        try:
            body = self._read_body()
        except ValueError:
            self.close_connection = True  # where the next request starts is unknown
            self._send(error_answer(400, "bad_request", "The body's length or chunks are not valid."))
            return
        gateway: ApiGateway = self.server.gateway  # type: ignore[attr-defined]
        try:
            answer = gateway.answer(self.command, self.path, dict(self.headers.items()), body)
        except Exception:
            log.exception("The gateway failed on %s %s", self.command, self.path.split("?", 1)[0])
            answer = error_answer(500, "internal_error", "The local gateway failed")
        self._send(answer)
        # The route template, not the path: paths may carry tokens (feed URLs) that must not be logged.
        shown = answer.route or f"{self.path.split('?', 1)[0]} (no route)"
        log.info("%s %s answered %d in %.0f ms", self.command, shown, answer.status,
                 (time.monotonic() - started) * 1000)

    def _send(self, answer: HttpAnswer) -> None:
        self.send_response(answer.status)
        for name, value in answer.headers:
            self.send_header(name, value)
        if answer.status not in NO_BODY_STATUSES:
            self.send_header("Content-Length", str(len(answer.body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD" and answer.status not in NO_BODY_STATUSES:
            self.wfile.write(answer.body)

    def __getattr__(self, name: str) -> Callable[[], None]:
        """Every method (TRACE, or any other token) goes to the gateway, which answers it in the
        contract's shape; BaseHTTPRequestHandler would answer an HTML 501 for a method it has no do_ for."""
        if name.startswith("do_"):
            return self._handle
        raise AttributeError(name)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """What the HTTP server refuses itself (a bad request line, too long a URI, too many headers)."""
        self.close_connection = True
        self.command = getattr(self, "command", None) or ""
        self.request_version = self.protocol_version  # an unreadable request line still gets a status line
        self._send(error_answer(code, status_code_name(code), message or status_code_name(code).replace("_", " ")))

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("http: " + format, *args)


class HttpServer:
    def __init__(self, gateway: ApiGateway, host: str, port: int) -> None:
        self._server = ThreadingHTTPServer((host, port), _RequestHandler)
        self._server.daemon_threads = True
        self._server.gateway = gateway  # type: ignore[attr-defined]
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    def start(self) -> None:
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.2},
                                        name="http", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread:
            self._thread.join()
