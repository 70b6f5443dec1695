"""The bits of Herald's HTTP API the benches use, as a user's script would call them."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import requests
from requests.adapters import HTTPAdapter


def rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


class HeraldApi:
    def __init__(self, api_url: str, api_key: str, connections: int = 16) -> None:
        self.api_url = api_url
        self.http = requests.Session()
        self.http.headers.update({"Authorization": f"Bearer {api_key}"})
        # Shared by the bench's threads: one pooled connection each.
        self.http.mount("http://", HTTPAdapter(pool_connections=1, pool_maxsize=connections))

    def _call(self, method: str, path: str, **arguments: Any) -> Any:
        answer = self.http.request(method, f"{self.api_url}{path}", timeout=60, **arguments)
        if not answer.ok:
            raise RuntimeError(f"{method} {path} answered {answer.status_code}: {answer.text[:500]}")
        return answer.json()

    def create_sandbox_channel(self, name: str, settings: dict[str, Any] | None = None) -> str:
        body = {"network": "sandbox", "name": name, "settings": settings or {}}
        return str(self._call("POST", "/channels", json=body)["id"])

    def schedule_post(self, text: str, channel_ids: list[str], publish_at: datetime) -> dict[str, Any]:
        body = {"text": text, "channel_ids": channel_ids, "publish_at": rfc3339(publish_at)}
        return dict(self._call("POST", "/posts", json=body))

    def _pages(self, path: str, params: dict[str, Any]) -> Iterator[dict[str, Any]]:
        cursor = None
        while True:
            page = self._call("GET", path, params={**params, "limit": 100, **({"cursor": cursor} if cursor else {})})
            yield from page["items"]
            cursor = page.get("next_cursor")
            if not cursor:
                return

    def posts(self, status: str | None = None) -> list[dict[str, Any]]:
        return list(self._pages("/posts", {"status": status} if status else {}))

    def sandbox_received(self, channel_id: str) -> list[dict[str, Any]]:
        """Every request the sandbox channel received, duplicates included, with `received_at`."""
        return list(self._pages(f"/channels/{channel_id}/sandbox/posts", {}))
