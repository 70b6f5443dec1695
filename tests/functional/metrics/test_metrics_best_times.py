"""Best time to post, from the channel's own history in the workspace's time zone."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from chalicelib.core.clock import to_rfc3339
from chalicelib.metrics.schemas import BestTimes
from tests.functional.publishing.test_publishing import run_messages
from tests.support.fixtures import make_workspace
from tests.support.http import Api
from tests.support.insights import ScriptedInsights
from tests.support.queues import RecordingQueue

TOKYO = ZoneInfo("Asia/Tokyo")


def tokyo(day: date, hour: int) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=TOKYO).astimezone(UTC)


@pytest.fixture
def queue(deps):
    recording = RecordingQueue()
    deps.publish_queue = recording
    return recording


def test_best_times_rank_weekday_and_hour_by_engagement_with_the_sample_size(deps, clock, client, queue):
    network = ScriptedInsights(deps.sandbox_store, clock)
    deps._adapter_overrides["sandbox"] = network
    clock.set(tokyo(date(2026, 3, 2), 7))
    workspace = make_workspace(deps, "Kissa", "Asia/Tokyo")
    api = Api(client, workspace.headers())
    channel = api.post("/channels", {"network": "sandbox", "name": "Cafe", "settings": {}}).json["id"]
    network.followers = {channel: 80}
    # Tuesdays 09:00 (00:00 UTC) do best; Saturdays 18:00 less; one Sunday noon.
    plan = [(date(2026, 3, 3), 9, 30), (date(2026, 3, 10), 9, 20), (date(2026, 3, 17), 9, 40),
            (date(2026, 3, 7), 18, 5), (date(2026, 3, 14), 18, 9), (date(2026, 3, 8), 12, 50)]
    for n, (day, hour, likes) in enumerate(plan):
        network.figures[f"Post {n}"] = dict(likes=likes, reposts=0, replies=0)
        api.post("/posts", {"text": f"Post {n}", "channel_ids": [channel],
                            "publish_at": to_rfc3339(tokyo(day, hour))})
    for at in sorted(tokyo(day, hour) for day, hour, _likes in plan):
        clock.set(at - timedelta(seconds=30))
        deps.engine.publish_due_deliveries()
        run_messages(deps, queue, clock)
    clock.set(tokyo(date(2026, 3, 20), 1))
    deps.rollup.run()  # one run catches up every day since the 2nd

    answer = api.get(f"/channels/{channel}/best-times")
    assert answer.status_code == 200, answer.body
    best = answer.json
    BestTimes.model_validate(best)
    assert (best["timezone"], best["from"], best["to"], best["weeks"]) == (
        "Asia/Tokyo", "2025-11-28", "2026-03-19", 16)
    assert best["sample_size"] == 6 and best["posts_without_figures"] == 0
    assert [(s["weekday"], s["hour"], s["posts"], s["average_engagements"]) for s in best["best"]] == [
        ("Tuesday", 9, 3, 30), ("Saturday", 18, 2, 7)]
    assert best["slots"][0] == {"weekday": "Sunday", "weekday_index": 6, "hour": 12, "posts": 1,
                                "engagements": 50, "average_engagements": 50}
    by_weekday = {d["weekday"]: (d["posts"], d["average_engagements"]) for d in best["by_weekday"]}
    assert by_weekday["Tuesday"] == (3, 30) and by_weekday["Monday"] == (0, None)
    assert [h["hour"] for h in best["by_hour"] if h["posts"]] == [9, 12, 18]


def test_best_times_only_for_the_workspaces_own_channels(deps, client, workspace, other_workspace):
    mine = Api(client, workspace.headers())
    theirs = Api(client, other_workspace.headers())
    channel = mine.post("/channels", {"network": "sandbox", "name": "Mine", "settings": {}}).json["id"]
    assert theirs.get(f"/channels/{channel}/best-times").status_code == 404
    empty = Api(client, workspace.headers("viewer")).get(f"/channels/{channel}/best-times")
    assert empty.status_code == 200 and empty.json["sample_size"] == 0 and empty.json["best"] == []
    assert theirs.get(f"/metrics/daily?from=2026-03-01&to=2026-03-02&channel_id={channel}").status_code == 404
