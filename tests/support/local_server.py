"""A plain HTTP server on 127.0.0.1 that counts what reaches it, for the outbound policy's tests.

    with LocalServer() as server:
        server.route("/cat.png", body=PNG, content_type="image/png")
        server.route("/next", status=302, headers={"Location": "http://elsewhere.test/"})
        server.route("/slow", body=b"x" * 100, trickle_s=0.05)   # one byte every 50 ms
        ...
        assert server.hits == []   # nothing reached it

Every request is recorded (method, path, headers) before it is answered.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self


@dataclass
class Route:
    status: int = 200
    body: bytes = b""
    content_type: str = "application/octet-stream"
    headers: dict[str, str] = field(default_factory=dict)
    trickle_s: float = 0.0  # seconds between single bytes of the body
    chunked: bool = False  # no Content-Length: the body's end is the connection's


@dataclass
class Hit:
    method: str
    path: str
    headers: dict[str, str]  # lower-cased names


class LocalServer:
    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.hits: list[Hit] = []
        self._server: ThreadingHTTPServer | None = None

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def route(self, path: str, **kwargs: Any) -> None:
        self.routes[path] = Route(**kwargs)

    def __enter__(self) -> Self:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, name="local-server", daemon=True).start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> None:
        assert self._server is not None
        self._server.shutdown()
        self._server.server_close()


def _handler(server: LocalServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (the base class's name)
            pass

        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)
            path = self.path.split("?", 1)[0]
            server.hits.append(Hit(self.command, path, {k.lower(): v for k, v in self.headers.items()}))
            route = server.routes.get(path, Route(status=404, body=b"not here"))
            self.send_response(route.status)
            self.send_header("Content-Type", route.content_type)
            for name, value in route.headers.items():
                self.send_header(name, value)
            if route.chunked:
                self.send_header("Connection", "close")
                self.close_connection = True
            else:
                self.send_header("Content-Length", str(len(route.body)))
            self.end_headers()
            try:
                if route.trickle_s:
                    for byte in route.body:
                        self.wfile.write(bytes([byte]))
                        self.wfile.flush()
                        time.sleep(route.trickle_s)
                else:
                    self.wfile.write(route.body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client stopped reading, as it should past a limit

        do_GET = do_POST = do_PUT = _answer

    return Handler
