"""The links bench at a tiny size, in-process: the Chalice test client on moto stands in for the local stack,
and PynamoDB's own send signal counts the writes the emulator's recorder would."""
from __future__ import annotations

from bench import links
from tests.support.dynamodb_calls import WRITES, dynamodb_calls
from tests.support.http import Api


class PynamoWrites:
    def __init__(self) -> None:
        self.calls = None
        self._context = dynamodb_calls()

    def start(self) -> None:
        self.calls = self._context.__enter__()

    def stop(self) -> int | None:
        self._context.__exit__(None, None, None)
        return sum(self.calls.count(*WRITES, table=table) for table in links.COUNTED_TABLES)


def test_the_bench_counts_redirects_health_and_two_writes_per_click(client, workspace):
    api = Api(client, workspace.headers())
    def call(method: str, path: str, body: object) -> tuple[int, object]:
        answer = api.call(method, path, body)
        return answer.status_code, answer.json

    code = links._make_link(call)

    def get(path: str, headers: dict[str, str]) -> int:
        return client.http.request("GET", path, headers=headers).status_code

    figures = links.measure(get, code, PynamoWrites(), clicks=12, concurrency=1, visitors=3)
    assert figures["redirect_clicks"] == 12 and figures["redirect_non_302"] == 0
    assert figures["redirects_per_s"] > 0 and figures["health_per_s"] > 0
    assert figures["ddb_writes_per_click"] == 2  # the visitor's conditional put and the day counter
    assert api.get("/metrics/daily?from=2026-03-02&to=2026-03-02").json["days"][0]["unique_visitors"] == 3
