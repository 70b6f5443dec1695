"""The nightly roll-up: idempotent, catches up, re-runs one day, never reports a
failed network as zero, and reads one Query per channel (no Scan)."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from chalicelib.core.clock import to_rfc3339
from chalicelib.core.jobs import run_job_by_name
from tests.functional.publishing.test_publishing import run_messages
from tests.support.dynamodb_calls import dynamodb_calls
from tests.support.fixtures import make_workspace
from tests.support.http import Api
from tests.support.insights import ScriptedInsights
from tests.support.queues import RecordingQueue

PARIS = ZoneInfo("Europe/Paris")


def paris(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=PARIS).astimezone(UTC)


@pytest.fixture
def queue(deps):
    recording = RecordingQueue()
    deps.publish_queue = recording
    return recording


@pytest.fixture
def network(deps, clock):
    scripted = ScriptedInsights(deps.sandbox_store, clock)
    deps._adapter_overrides["sandbox"] = scripted
    return scripted


@pytest.fixture
def shop(deps, clock, client, network):
    """A Paris workspace made on 2 March 2026 with one sandbox channel."""
    clock.set(paris(date(2026, 3, 2), 8))
    workspace = make_workspace(deps, "Boutique", "Europe/Paris")
    api = Api(client, workspace.headers())
    channel = api.post("/channels", {"network": "sandbox", "name": "Shop", "settings": {}}).json["id"]
    network.followers = {channel: 250}
    return workspace, api, channel


def publish(deps, queue, clock, api, channel, text, at, network, figures):
    network.figures[text] = figures
    clock.set(at - timedelta(seconds=30))
    created = api.post("/posts", {"text": text, "channel_ids": [channel], "publish_at": to_rfc3339(at)})
    assert created.status_code == 201, created.body
    deps.engine.publish_due_deliveries()
    run_messages(deps, queue, clock)


def days(api, first, last, channel=None):
    query = f"/metrics/daily?from={first}&to={last}" + (f"&channel_id={channel}" if channel else "")
    answer = api.get(query)
    assert answer.status_code == 200, answer.body
    return {d["date"]: d for d in answer.json["days"]}


def test_running_a_day_twice_gives_the_same_rows(deps, clock, queue, network, shop):
    workspace, api, channel = shop
    publish(deps, queue, clock, api, channel, "Bonjour", paris(date(2026, 3, 2), 10), network,
            dict(likes=5, reposts=1, replies=2, impressions=90))
    deps.counters.record_inbound(workspace.id, channel, "comment", paris(date(2026, 3, 2), 11),
                                 new_conversation=True)
    clock.set(paris(date(2026, 3, 3), 0, 20))
    first = deps.rollup.run()
    assert (first.workspaces, first.channel_days, first.rows_written) == (1, 1, 1)
    day = date(2026, 3, 2)
    rows = deps.metrics_repository.window(workspace.id, channel, day, day)[1]

    assert run_job_by_name("nightly-metrics", "2026-03-02")["rows_written"] == 0
    assert deps.rollup.run(date(2026, 3, 2)).rows_written == 0
    assert deps.metrics_repository.window(workspace.id, channel, day, day)[1] == rows
    assert deps.rollup.run().workspaces == 0  # nothing new has ended
    seen = days(api, "2026-03-02", "2026-03-02")["2026-03-02"]
    assert [seen[k] for k in ("posts_published", "engagements", "impressions", "comments", "followers")] == [
        1, 8, 90, 1, 250]


def test_missed_nights_are_caught_up_by_the_next_run(deps, clock, network, shop):
    workspace, api, channel = shop
    for day in (date(2026, 3, 2), date(2026, 3, 3), date(2026, 3, 4)):
        deps.counters.record_inbound(workspace.id, channel, "message", paris(day, 12), new_conversation=True)
    clock.set(paris(date(2026, 3, 5), 6))  # three nights without a run
    report = deps.rollup.run()
    assert report.channel_days == 3
    assert deps.metrics_registry.get(workspace.id).rolled_through == date(2026, 3, 4)
    seen = days(api, "2026-03-02", "2026-03-04")
    assert [seen[d]["messages"] for d in sorted(seen)] == [1, 1, 1]
    assert all(seen[d]["rolled_up"] for d in seen)
    # The follower count is taken when the run happens: it belongs to the last day only.
    assert [seen[d]["followers"] for d in sorted(seen)] == [None, None, 250]
    assert seen["2026-03-02"]["insights_missing"] == [channel]


def test_a_failing_network_is_missing_never_zero_and_is_asked_again(deps, clock, queue, network, shop):
    workspace, api, channel = shop
    publish(deps, queue, clock, api, channel, "Soldes", paris(date(2026, 3, 2), 18), network,
            dict(likes=7, reposts=0, replies=1))
    network.failing = {channel}
    clock.set(paris(date(2026, 3, 3), 0, 15))
    assert deps.rollup.run().insights_missing == 1
    day = days(api, "2026-03-02", "2026-03-02")["2026-03-02"]
    assert day["followers"] is None and day["engagements"] is None and day["likes"] is None
    assert day["insights_missing"] == [channel] and day["posts_published"] == 1

    network.failing = set()
    network.followers = {channel: 260}
    clock.set(paris(date(2026, 3, 4), 0, 15))
    deps.rollup.run()
    seen = days(api, "2026-03-02", "2026-03-03")
    assert seen["2026-03-02"]["engagements"] == 8  # asked again the next night
    assert seen["2026-03-02"]["followers"] is None  # that day's count was never taken
    assert seen["2026-03-03"]["followers"] == 260 and seen["2026-03-03"]["insights_missing"] == []
    month = api.get("/reports/monthly?month=2026-03").json
    assert [(m["date"], m["followers_missing"], m["posts_missing"]) for m in month["missing"]] == [
        ("2026-03-02", True, 0)]
    assert "503" in month["missing"][0]["reason"]


def test_a_day_that_has_not_ended_is_not_rolled_up(deps, clock, shop):
    workspace, _api, _channel = shop
    clock.set(paris(date(2026, 3, 2), 23, 30))
    result = run_job_by_name("nightly-metrics", "2026-03-02")
    assert result["workspaces"] == 0 and "has not ended" in result["skipped"][0]
    clock.set(paris(date(2026, 3, 3), 0, 5))
    assert run_job_by_name("nightly-metrics", "2026-03-02")["channel_days"] == 1
    # A re-run of one day leaves the catch-up watermark alone.
    assert deps.metrics_registry.get(workspace.id).rolled_through == date(2026, 3, 1)


def test_the_roll_up_reads_one_query_per_channel_and_never_scans(deps, clock, client, network):
    clock.set(datetime(2026, 3, 2, 9, tzinfo=UTC))
    channels = 0
    for n in range(3):
        workspace = make_workspace(deps, f"W{n}", "UTC")
        api = Api(client, workspace.headers())
        for c in range(2):
            api.post("/channels", {"network": "sandbox", "name": f"C{c}", "settings": {}})
            channels += 1
    clock.set(datetime(2026, 3, 3, 0, 30, tzinfo=UTC))
    with dynamodb_calls() as calls:
        report = deps.rollup.run()
    assert report.channel_days == channels == 6
    assert calls.count("Scan") == 0 and calls.count("GetItem", "BatchGetItem") == 0
    shards, workspaces, series = deps.metrics_registry.shards, 3, channels + 3
    assert calls.count("Query") == shards + workspaces + series
    assert calls.count("BatchWriteItem") == channels  # one row per channel and day
    assert calls.count("UpdateItem") == workspaces  # the watermark


def test_a_disconnected_channel_stays_in_the_report(deps, clock, queue, network, shop):
    workspace, api, channel = shop
    publish(deps, queue, clock, api, channel, "Adieu", paris(date(2026, 3, 2), 10), network,
            dict(likes=3, reposts=0, replies=0))
    clock.set(paris(date(2026, 3, 3), 1))
    deps.rollup.run()
    assert api.delete(f"/channels/{channel}").status_code == 204
    report = api.get("/reports/monthly?month=2026-03").json
    assert [(c["name"], c["figures"]["posts_published"]["value"]) for c in report["channels"]] == [
        ("(disconnected channel)", 1)]
    assert report["figures"]["engagements"]["value"] == 3
