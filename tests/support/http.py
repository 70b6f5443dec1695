"""Small helpers for talking JSON to Chalice's test client."""
from __future__ import annotations

import json
from typing import Any


class Api:
    def __init__(self, client: Any, headers: dict[str, str]) -> None:
        self.client = client
        self.headers = headers

    def call(self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None) -> Any:
        raw = body if isinstance(body, (bytes, str)) else (json.dumps(body) if body is not None else None)
        response = self.client.http.request(method, path, headers={**self.headers, **(headers or {})}, body=raw)
        response.json = json.loads(response.body) if response.body and response.body[:1] in (b"{", b"[") else None
        return response

    def get(self, path: str, **kw: Any) -> Any:
        return self.call("GET", path, **kw)

    def post(self, path: str, body: Any = None, **kw: Any) -> Any:
        return self.call("POST", path, body, **kw)

    def patch(self, path: str, body: Any = None, **kw: Any) -> Any:
        return self.call("PATCH", path, body, **kw)

    def delete(self, path: str, **kw: Any) -> Any:
        return self.call("DELETE", path, **kw)
