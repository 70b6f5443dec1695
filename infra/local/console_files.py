"""The web console's static files (console/), served by the local stack at `/` and `/console/*`.

Local stack only: the deployed template serves them from S3 behind CloudFront. Nothing is built; the files
are read from disk on each request (edit and reload). Only files inside the console folder are served: a path
that leaves it, a dotfile or an unknown type is a 404 in the API's error shape.
"""
from __future__ import annotations

from pathlib import Path

from infra.local.http_gateway import HttpAnswer, not_found_answer

CONSOLE_DIR = Path(__file__).resolve().parents[2] / "console"
PREFIX = "/console/"
TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
         ".css": "text/css; charset=utf-8", ".json": "application/json", ".svg": "image/svg+xml",
         ".png": "image/png", ".ico": "image/x-icon"}
# Scripts only from the console itself; styles inline too (a report's HTML, shown in a sandboxed frame, carries
# its own); uploads go to the presigned storage URL, which is another origin.
POLICY = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
          "connect-src *; frame-src 'self' blob: data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'")


class ConsoleFiles:
    def __init__(self, root: Path = CONSOLE_DIR) -> None:
        self._root = root.resolve()

    def serves(self, method: str, path: str) -> bool:
        bare = path.split("?", 1)[0]
        return method in ("GET", "HEAD") and (bare == "/" or bare.startswith(PREFIX))

    def answer(self, path: str) -> HttpAnswer:
        bare = path.split("?", 1)[0]
        name = "index.html" if bare == "/" else bare[len(PREFIX):]
        found = self._file(name)
        if found is None:
            return not_found_answer("GET", bare)
        headers = [("Content-Type", TYPES[found.suffix]), ("Cache-Control", "no-cache"),
                   ("X-Content-Type-Options", "nosniff"), ("Content-Security-Policy", POLICY),
                   ("Referrer-Policy", "no-referrer")]
        return HttpAnswer(200, headers, found.read_bytes())

    def _file(self, name: str) -> Path | None:
        if not name or any(part.startswith(".") for part in name.split("/")):
            return None
        candidate = (self._root / name).resolve()
        if not candidate.is_relative_to(self._root) or not candidate.is_file() or candidate.suffix not in TYPES:
            return None
        return candidate
