"""`report.ready` goes out once when the roll-up finishes a workspace's month (and quarter), in its time zone."""
from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.support.fixtures import make_workspace
from tests.support.http import Api
from tests.support.webhook_receiver import WebhookReceiver, drain_webhooks


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as server:
        yield server


def test_the_month_and_quarter_reports_are_announced_once_when_their_last_day_is_rolled_up(
        client: Any, local_peers: Any, clock: Any, receiver: WebhookReceiver) -> None:
    deps = local_peers
    clock.set(datetime(2026, 3, 30, 12, 0, tzinfo=UTC))
    workspace = make_workspace(deps, "Acme NYC", "America/New_York")
    api = Api(client, workspace.headers("admin"))
    assert api.post("/channels", {"network": "sandbox", "name": "Main"}).status_code == 201
    assert api.post("/webhook-endpoints", {"url": receiver.hook(), "events": ["report.ready"]}).status_code == 201
    for moment in (datetime(2026, 3, 31, 12, 0, tzinfo=UTC),   # rolls up 30 March
                   datetime(2026, 4, 1, 2, 0, tzinfo=UTC),     # 31 March has not ended in New York
                   datetime(2026, 4, 1, 5, 0, tzinfo=UTC),     # now it has
                   datetime(2026, 4, 1, 6, 0, tzinfo=UTC)):    # nothing new to roll up
        clock.set(moment)
        deps.rollup.run()
        drain_webhooks(deps)
    sent = [json.loads(r.body) for r in receiver.received()]
    assert [(s["type"], s["data"]) for s in sent] == [
        ("report.ready", {"report": "monthly", "month": "2026-03",
                          "url": "http://herald.test/reports/monthly?month=2026-03&format=html"}),
        ("report.ready", {"report": "quarterly", "quarter": "2026-Q1",
                          "url": "http://herald.test/reports/quarterly?quarter=2026-Q1&format=html"}),
    ]
    clock.set(datetime(2026, 4, 1, 7, 0, tzinfo=UTC))
    deps.rollup.run(day=datetime(2026, 3, 31).date())  # a re-run of one day announces nothing again
    drain_webhooks(deps)
    assert len(receiver.received()) == 2

