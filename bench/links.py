"""Short-link redirects on the running local stack, beside a bare `GET /health` on the same stack.

    run(api_url, aws_endpoint_url) -> {"redirects_per_s", "health_per_s", "ddb_writes_per_click", ...}

- `redirects_per_s`: `GET /l/{code}` answered 302 per second, `CLICKS` clicks by `VISITORS` browsers (so
  most clicks are a visitor's second or later: the unique marker's put is refused, and still billed), with
  `CONCURRENCY` at once, not following the redirect.
- `health_per_s`: `GET /health` answered 200 per second, the same way: the stack's own ceiling, so the ratio
  says what a click costs beyond serving any request.
- `ddb_writes_per_click`: DynamoDB write requests to the `links` and `metrics` tables during the clicks,
  per click (the emulator's request recorder; refused conditional puts included). Expected: 2 (the visitor's
  conditional put, the link's day counter).

Needs an owner or admin API key (HERALD_API_KEY, else `.local/api-key`).
"""
from __future__ import annotations

import os
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol

from bench.webhooks import _api_key, _count_writes, _Recorder

CLICKS = 2000
VISITORS = 50
CONCURRENCY = 8
COUNTED_TABLES = ("links", "metrics")
USER_AGENT = "Mozilla/5.0 (X11; Linux x86_64; rv:135.0) Gecko/20100101 Firefox/135.0 bench-visitor/{n}"

Get = Callable[[str, dict[str, str]], int]


class WriteCounter(Protocol):
    def start(self) -> None: ...

    def stop(self) -> int | None: ...


def run(api_url: str, aws_endpoint_url: str, *, network_apis: Any = None, clicks: int = CLICKS,
        concurrency: int = CONCURRENCY) -> dict[str, Any]:
    import requests

    from chalicelib.core.settings import resource_name, table_env_var

    api = requests.Session()
    api.headers["Authorization"] = f"Bearer {_api_key()}"
    def call(method: str, path: str, body: Any) -> tuple[int, Any]:
        answer = api.request(method, f"{api_url}{path}", json=body, timeout=30)
        return answer.status_code, answer.json() if answer.content else None

    code = _make_link(call)
    http = requests.Session()
    http.mount("http://", requests.adapters.HTTPAdapter(pool_connections=concurrency, pool_maxsize=concurrency))
    stage = os.environ.get("HERALD_STAGE", "local")
    tables = {os.environ.get(table_env_var(t), resource_name(stage, t)) for t in COUNTED_TABLES}

    def get(path: str, headers: dict[str, str]) -> int:
        return http.get(f"{api_url}{path}", headers=headers, allow_redirects=False, timeout=60).status_code

    return measure(get, code, _RecordedWrites(aws_endpoint_url, tables), clicks=clicks, concurrency=concurrency)


def _make_link(call: Callable[[str, str, Any], tuple[int, Any]]) -> str:
    """A sandbox channel, link shortening on, and a post an hour ahead with one link: its code."""
    from datetime import UTC, datetime, timedelta

    _ok(call("PATCH", "/workspace", {"links": {"shorten": True}}))
    channel = _ok(call("POST", "/channels", {"network": "sandbox", "name": "Links bench", "settings": {}}))["id"]
    publish_at = (datetime.now(UTC) + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    post = _ok(call("POST", "/posts", {"text": "Bench: https://shop.example/bench", "channel_ids": [channel],
                                       "publish_at": publish_at}))
    return str(post["deliveries"][0]["short_links"][0]["short_url"].rsplit("/", 1)[1])


def _ok(answer: tuple[int, Any]) -> Any:
    status, body = answer
    if status >= 300:
        raise RuntimeError(f"bench/links: {status} {str(body)[:300]}")
    return body


def measure(get: Get, code: str, writes: WriteCounter, *, clicks: int, concurrency: int,
            visitors: int = VISITORS) -> dict[str, Any]:
    """The figures, from `get(path, headers) -> status`; `writes` counts DynamoDB writes between start and stop."""
    health_statuses, health_s = _timed([("/health", {})] * clicks, get, concurrency)
    requests = [(f"/l/{code}", {"User-Agent": USER_AGENT.format(n=n % visitors)}) for n in range(clicks)]
    writes.start()
    statuses, redirects_s = _timed(requests, get, concurrency)
    written = writes.stop()
    redirected = sum(1 for status in statuses if status == 302)
    return {
        "redirects_per_s": round(redirected / redirects_s, 1),
        "health_per_s": round(sum(1 for s in health_statuses if s == 200) / health_s, 1),
        "ddb_writes_per_click": round(written / clicks, 2) if written is not None else None,
        "redirect_clicks": clicks,
        "redirect_non_302": clicks - redirected,
    }


def _timed(items: list[tuple[str, dict[str, str]]], get: Get, concurrency: int) -> tuple[list[int], float]:
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        started = time.perf_counter()
        results = list(pool.map(lambda item: get(*item), items))
        return results, time.perf_counter() - started


class _RecordedWrites:
    def __init__(self, endpoint: str, tables: set[str]) -> None:
        self.recorder = _Recorder(endpoint)
        self.tables = tables

    def start(self) -> None:
        self.recorder.start()

    def stop(self) -> int | None:
        recorded = self.recorder.stop()
        return None if recorded is None else _count_writes(recorded, self.tables)
