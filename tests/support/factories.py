"""Objects made the way a user makes them: through the API."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from chalicelib.clock import to_rfc3339
from tests.support.http import Api


def iso(moment: datetime) -> str:
    return to_rfc3339(moment) or ""


def connect_sandbox(api: Api, name: str = "Sandbox", **settings: Any) -> dict[str, Any]:
    response = api.post("/channels", {"network": "sandbox", "name": name,
                                      "credentials": {"token": "sandbox-token"}, "settings": settings})
    assert response.status_code == 201, response.body
    return response.json


def make_post(api: Api, channel_ids: list[str], publish_at: datetime | None = None, text: str = "Hello",
              **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"text": text, "channel_ids": channel_ids, **fields}
    if publish_at is not None:
        body["publish_at"] = iso(publish_at)
    response = api.post("/posts", body)
    assert response.status_code == 201, response.body
    return response.json
