"""What every local network fake shares: a real HTTP server on 127.0.0.1, the requests it saw, scripted answers.

A fake subclasses `LocalHttpFake`, lists its endpoints in `routes()` (method, path regex, handler), and raises
`Answer` (or returns one) from a handler. Everything else is here: a `ThreadingHTTPServer` on a free port,
`with Fake(...) as fake:`, `fake.url`, `fake.requests` (every request, in order), `fake.calls(method, pattern)`,
`fake.fail(...)` (answer a documented error next time, `times` times), `fake.drop_after(...)` (do the work, then
close the connection without an answer: an ambiguous attempt), and `fake.violations` (what the fake refused
because Herald sent it wrong; a test asserts it is empty).
"""
from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import parse_qs, urlsplit


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-cased names
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body or b"null")

    def form(self) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(self.body.decode(), keep_blank_values=True).items()}

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[0] if values else default


@dataclass
class Answer(Exception):
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    raw: bytes | None = None  # sent as is (content type from headers) instead of JSON


@dataclass
class _Scripted:
    method: str
    path: re.Pattern[str]
    answer: Answer | None  # None: drop the connection after doing the work


Route = tuple[str, str, Callable[..., Answer]]


class LocalHttpFake:
    """Subclass and implement `routes()`; handlers take (request, *path groups) and return an Answer."""

    name = "network-fake"

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.requests: list[Request] = []
        self.violations: list[str] = []
        self._scripted: list[_Scripted] = []
        self._server: ThreadingHTTPServer | None = None

    # -- lifecycle --------------------------------------------------------------------------------------------

    def start(self) -> Self:
        self._server = _QuietServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, name=self.name, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        assert self._server is not None, "start the fake first"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    # -- scripting and reading back ---------------------------------------------------------------------------

    def fail(self, method: str, path: str, status: int, body: Any = None, headers: dict[str, str] | None = None,
             *, times: int = 1) -> None:
        for _ in range(times):
            self._scripted.append(_Scripted(method, re.compile(path), Answer(status, body, headers or {})))

    def drop_after(self, method: str, path: str) -> None:
        self._scripted.append(_Scripted(method, re.compile(path), None))

    def calls(self, method: str, pattern: str) -> list[Request]:
        return [r for r in self.requests if r.method == method and re.fullmatch(pattern, r.path)]

    def violation(self, message: str, answer: Answer | None = None) -> Answer:
        """Record that Herald sent something the network would refuse; the answer to raise."""
        self.violations.append(message)
        return answer or Answer(400, {"error": message})

    # -- what a subclass provides -----------------------------------------------------------------------------

    def routes(self) -> list[Route]:
        raise NotImplementedError

    def not_found(self, request: Request) -> Answer:
        return Answer(404, {"error": f"no route {request.method} {request.path}"})

    # -- dispatch ---------------------------------------------------------------------------------------------

    def handle(self, request: Request) -> Answer | None:
        with self.lock:
            self.requests.append(request)
            scripted = self._take_scripted(request)
            if scripted is not None and scripted.answer is not None:
                return scripted.answer
            answer = self._route(request)
            return None if scripted is not None else answer

    def _take_scripted(self, request: Request) -> _Scripted | None:
        for scripted in self._scripted:
            if scripted.method == request.method and scripted.path.fullmatch(request.path):
                self._scripted.remove(scripted)
                return scripted
        return None

    def _route(self, request: Request) -> Answer:
        for method, pattern, handler in self.routes():
            match = re.fullmatch(pattern, request.path)
            if method == request.method and match:
                try:
                    return handler(request, *match.groups())
                except Answer as answer:
                    return answer
        return self.not_found(request)


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hung up (a timeout on Herald's side) is not the fake's error: say nothing."""
        import sys

        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


def _handler_for(fake: LocalHttpFake) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *_args: Any) -> None:
            pass

        def _serve(self) -> None:
            split = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            request = Request(self.command, split.path, parse_qs(split.query, keep_blank_values=True),
                              {k.lower(): v for k, v in self.headers.items()}, body)
            answer = fake.handle(request)
            if answer is None:
                self.close_connection = True
                self.connection.close()
                return
            self._write(answer)

        def _write(self, answer: Answer) -> None:
            payload = answer.raw if answer.raw is not None else (
                json.dumps(answer.body).encode() if answer.body is not None else b"")
            self.send_response(answer.status)
            if "Content-Type" not in answer.headers:
                self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(payload)))
            for name, value in answer.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve  # noqa: N815

    return Handler
