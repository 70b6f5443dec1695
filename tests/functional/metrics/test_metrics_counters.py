"""Counters kept as things happen: the publishing engine's outcomes (counted from the posts
table's stream by the counter consumer, once each) and the recording API the inbox calls."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from pynamodb.connection import Connection
from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

from chalicelib.accounts.tables import ChannelRecord
from chalicelib.core.clock import to_rfc3339
from chalicelib.metrics.metric_repository import delivery_counts
from tests.functional.publishing.test_publishing import run_messages
from tests.support.dynamodb_calls import dynamodb_calls
from tests.support.fixtures import make_workspace
from tests.support.http import Api
from tests.support.insights import ScriptedInsights
from tests.support.queues import RecordingQueue
from tests.support.streams import run_stream_consumers

LOS_ANGELES = ZoneInfo("America/Los_Angeles")


def la(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=LOS_ANGELES).astimezone(UTC)


@pytest.fixture
def queue(deps):
    recording = RecordingQueue()
    deps.publish_queue = recording
    return recording


@pytest.fixture
def coast(deps, clock, client):
    clock.set(la(date(2026, 3, 2), 8))
    workspace = make_workspace(deps, "West", "America/Los_Angeles")
    return workspace, Api(client, workspace.headers())


def sandbox(api, **settings):
    return api.post("/channels", {"network": "sandbox", "name": "Sandbox", "settings": settings}).json["id"]


def counted(api, day, channel=None):
    query = f"/metrics/daily?from={day}&to={day}" + (f"&channel_id={channel}" if channel else "")
    return api.get(query).json["days"][0]


def test_an_outcome_is_counted_on_the_local_day_off_the_publish_path(deps, clock, queue, coast):
    _workspace, api = coast
    channel = sandbox(api)
    publish_at = la(date(2026, 3, 2), 22, 30)  # 06:30 UTC on the 3rd
    api.post("/posts", {"text": "Evening", "channel_ids": [channel], "publish_at": to_rfc3339(publish_at)})
    clock.set(publish_at - timedelta(seconds=20))
    deps.engine.publish_due_deliveries()
    clock.set(publish_at + timedelta(milliseconds=1500))  # the message came 1.5 s late
    with dynamodb_calls() as calls:
        assert deps.engine.publish_delivery(queue.take()[0][0]) == "published"
    writes = ("PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems")
    engine_writes = calls.count(*writes) - calls.count(*writes, table="sandbox_posts")  # the network's own
    assert engine_writes <= 3 and calls.count("TransactWriteItems") == 1
    assert not calls.count(*writes, table="metrics")  # counting is the stream consumer's
    run_stream_consumers(deps)
    day = counted(api, "2026-03-02", channel)
    assert (day["posts_published"], day["lateness_median_s"], day["posts_on_time"]) == (1, 1.5, 1)
    assert day["rolled_up"] is False  # live counters until the night
    assert counted(api, "2026-03-03", channel)["posts_published"] == 0


def test_failed_and_unknown_outcomes_are_counted(deps, clock, queue, coast):
    _workspace, api = coast
    refused, lost = sandbox(api, fail="invalid"), sandbox(api, fail="timeout")
    publish_at = la(date(2026, 3, 2), 9)
    api.post("/posts", {"text": "Two", "channel_ids": [refused, lost], "publish_at": to_rfc3339(publish_at)})
    clock.set(publish_at - timedelta(seconds=10))
    deps.engine.publish_due_deliveries()
    assert sorted(run_messages(deps, queue, clock)) == ["failed", "unknown"]
    run_stream_consumers(deps)
    day = counted(api, "2026-03-02")
    assert (day["posts_published"], day["posts_failed"], day["posts_unknown"]) == (0, 1, 1)


def test_inbound_events_replies_and_first_responses_land_on_the_local_day(deps, coast):
    workspace, api = coast
    channel = sandbox(api)
    late_evening = la(date(2026, 3, 2), 23, 45)  # 07:45 UTC on the 3rd
    counters = deps.counters
    counters.record_inbound(workspace.id, channel, "comment", late_evening, new_conversation=True)
    counters.record_inbound(workspace.id, channel, "comment", late_evening + timedelta(minutes=5))
    counters.record_inbound(workspace.id, channel, "mention", late_evening)
    counters.record_listening_match(workspace.id, late_evening)
    counters.record_first_response(workspace.id, channel, late_evening, 86400)  # exactly 24 h: in time
    counters.record_reply_sent(workspace.id, channel, late_evening + timedelta(days=1))
    day = counted(api, "2026-03-02")
    assert (day["comments"], day["mentions"], day["listening_matches"], day["word_of_mouth"]) == (2, 1, 1, 2)
    assert (day["conversations"], day["answered_within_24h"], day["response_rate"]) == (1, 1, 100)
    assert day["first_response_median_s"] == 86400 and day["replies_sent"] == 0
    assert counted(api, "2026-03-03")["replies_sent"] == 1
    assert counted(api, "2026-03-02", channel)["listening_matches"] == 0  # it belongs to the workspace


def test_a_count_in_the_callers_transaction_commits_with_it_or_not_at_all(deps, coast):
    workspace, api = coast
    channel = sandbox(api)
    at = la(date(2026, 3, 2), 12)
    connection = Connection(region=ChannelRecord.Meta.region, host=ChannelRecord.Meta.host)
    with TransactWrite(connection=connection) as tx:
        tx.update(ChannelRecord(workspace.id, channel), actions=[ChannelRecord.handle.set("stored")],
                  condition=ChannelRecord.channel_id.exists())
        deps.counters.record_inbound(workspace.id, channel, "message", at, new_conversation=True,
                                     transaction=tx)
    with pytest.raises(TransactWriteError), TransactWrite(connection=connection) as tx:
        tx.update(ChannelRecord(workspace.id, channel), actions=[ChannelRecord.handle.set("again")],
                  condition=ChannelRecord.channel_id.does_not_exist())  # the event was already stored
        deps.counters.record_inbound(workspace.id, channel, "message", at, transaction=tx)
    assert counted(api, "2026-03-02")["messages"] == 1


def test_the_recording_api_refuses_what_it_cannot_place(deps, coast):
    workspace, _api = coast
    with pytest.raises(ValueError):
        deps.counters.record_first_response(workspace.id, "ch_x", la(date(2026, 3, 2), 9), -1)
    with pytest.raises(ValueError):
        deps.counters.record_inbound(workspace.id, "ch_x", "comment", datetime(2026, 3, 2, 9))
    with pytest.raises(ValueError):
        deps.counters.record_inbound(workspace.id, "ch_x", "like", la(date(2026, 3, 2), 9))


def publish_many(deps, queue, clock, api, channel, lateness_s, text="Flash sale"):
    """One post per lateness, all due at 10:00 local, each published that many seconds late."""
    publish_at = la(date(2026, 3, 2), 10)
    for i in range(len(lateness_s)):
        created = api.post("/posts", {"text": f"{text} {i}", "channel_ids": [channel],
                                      "publish_at": to_rfc3339(publish_at)})
        assert created.status_code == 201, created.body
    clock.set(publish_at - timedelta(seconds=30))
    deps.engine.publish_due_deliveries()
    messages = [message for message, _delay in queue.take()]
    assert len(messages) == len(lateness_s)
    for message, late in zip(messages, lateness_s, strict=True):
        clock.set(publish_at + timedelta(seconds=late))
        assert deps.engine.publish_delivery(message) == "published"
    run_stream_consumers(deps)


def raw_counter(aws, deps, workspace_id, channel, day):
    key = {"pk": {"S": f"{workspace_id}#{channel}"}, "sk": {"S": f"{day}#counts"}}
    return aws["dynamodb"].get_item(TableName=deps.settings.table("metrics"), Key=key)["Item"]


def test_a_busy_channels_day_counter_keeps_its_size(deps, clock, queue, coast, aws):
    workspace, api = coast
    channel = sandbox(api)
    publish_many(deps, queue, clock, api, channel, [2.0], text="First")
    after_one = raw_counter(aws, deps, workspace.id, channel, "2026-03-02")
    publish_many(deps, queue, clock, api, channel, [1.0] * 40)
    after_many = raw_counter(aws, deps, workspace.id, channel, "2026-03-02")

    assert after_many["published"] == {"N": "41"}
    assert set(after_many) == set(after_one)  # nothing was added per post
    assert all(set(value) <= {"S", "N"} for value in after_many.values())  # no list or map to grow
    assert counted(api, "2026-03-02", channel)["posts_published"] == 41


@pytest.fixture
def network(deps, clock):
    scripted = ScriptedInsights(deps.sandbox_store, clock)
    deps._adapter_overrides["sandbox"] = scripted
    return scripted


def test_every_post_of_a_busy_day_is_reported_with_exact_lateness(deps, clock, queue, coast, network):
    workspace, api = coast
    channel = sandbox(api)
    lateness = [(i * 7 % 40) / 2 for i in range(40)]  # 0, 0.5 … 19.5 in a shuffled order
    publish_many(deps, queue, clock, api, channel, lateness)
    network.figures = {f"Flash sale {i}": dict(likes=1, reposts=0, replies=i % 2) for i in range(40)}

    live = counted(api, "2026-03-02", channel)
    assert (live["posts_published"], live["lateness_median_s"], live["lateness_p90_s"]) == (40, 9.75, 17.5)
    posts = deps.metrics_repository.window(workspace.id, channel, date(2026, 3, 2), date(2026, 3, 2))[0][
        date(2026, 3, 2)].posts
    assert [p["published_at"] for p in posts] == sorted(p["published_at"] for p in posts)  # publishing order

    clock.set(la(date(2026, 3, 3), 0, 15))
    deps.rollup.run()
    [(_channel, asked)] = network.asked
    assert len(set(asked)) == 40
    rolled = counted(api, "2026-03-02", channel)
    assert rolled["rolled_up"] is True
    assert (rolled["likes"], rolled["replies"], rolled["lateness_median_s"], rolled["lateness_p90_s"]) == (
        40, 20, 9.75, 17.5)


def test_an_outcome_written_again_puts_the_same_post_item(deps, clock, queue, coast):
    workspace, api = coast
    channel = sandbox(api)
    publish_many(deps, queue, clock, api, channel, [1.5], text="Once")
    [post] = api.get("/posts").json["items"]
    day = date(2026, 3, 2)
    published = datetime.fromisoformat(post["deliveries"][0]["published_at"])
    _increments, appends = delivery_counts("published", post_id=post["id"], remote_id="again", remote_url=None,
                                           published_at=published, publish_at=la(day, 10), text="Once 0")
    deps.metrics_repository.add(workspace.id, channel, day, {}, appends)  # a retried write of the same entry

    counts = deps.metrics_repository.window(workspace.id, channel, day, day)[0][day]
    assert [(p["post_id"], p["remote_id"]) for p in counts.posts] == [(post["id"], "again")]
    assert counts.lateness_s == [1.5]


def test_posts_counted_on_the_counter_item_before_still_count(deps, clock, queue, coast, aws):
    workspace, api = coast
    channel = sandbox(api)
    older = {"post_id": {"S": "pst_older"}, "remote_id": {"S": "sbx_older"}, "remote_url": {"NULL": True},
             "published_at": {"S": "2026-03-02T15:00:03.000Z"}, "preview": {"S": "Older"}}
    aws["dynamodb"].put_item(TableName=deps.settings.table("metrics"), Item={
        "pk": {"S": f"{workspace.id}#{channel}"}, "sk": {"S": "2026-03-02#counts"}, "kind": {"S": "counts"},
        "published": {"N": "1"}, "lateness_sum_s": {"N": "3"}, "lateness_s": {"L": [{"N": "3"}]},
        "posts": {"L": [{"M": older}]}})
    publish_many(deps, queue, clock, api, channel, [1.0])
    [post] = api.get("/posts").json["items"]

    day = date(2026, 3, 2)
    counts = deps.metrics_repository.window(workspace.id, channel, day, day)[0][day]
    assert [p["post_id"] for p in counts.posts] == ["pst_older", post["id"]] and counts.lateness_s == [3, 1]
    assert counts.posts[0] == {"post_id": "pst_older", "remote_id": "sbx_older", "remote_url": None,
                               "published_at": "2026-03-02T15:00:03.000Z", "preview": "Older"}
    live = counted(api, "2026-03-02", channel)
    assert (live["posts_published"], live["lateness_median_s"]) == (2, 2)


class AnotherDeliveryFinishesFirst:
    """The posts table's connection, on which another delivery of the same post records its
    outcome just before our first outcome transaction is sent."""

    def __init__(self, real, meanwhile):
        self.real, self.meanwhile = real, meanwhile

    def __getattr__(self, name):
        return getattr(self.real, name)

    def transact_write_items(self, *args, **kwargs):
        meanwhile, self.meanwhile = self.meanwhile, None
        if meanwhile is not None:
            meanwhile()
        return self.real.transact_write_items(*args, **kwargs)


def test_an_outcome_whose_post_moved_meanwhile_is_written_again_and_counted_once(deps, clock, queue, coast):
    workspace, api = coast
    channels = [sandbox(api), sandbox(api)]
    publish_at = la(date(2026, 3, 2), 10)
    post_id = api.post("/posts", {"text": "Both", "channel_ids": channels,
                                  "publish_at": to_rfc3339(publish_at)}).json["id"]
    clock.set(publish_at - timedelta(seconds=30))
    deps.engine.publish_due_deliveries()
    mine, other = (message for message, _delay in queue.take())
    deps.post_repository._connection = AnotherDeliveryFinishesFirst(
        deps.post_repository.connection, lambda: deps.engine.publish_delivery(other))
    pauses = []
    deps.delivery_repository.sleep = pauses.append
    clock.set(publish_at + timedelta(seconds=2))

    assert deps.engine.publish_delivery(mine) == "published"
    run_stream_consumers(deps)

    assert len(pauses) == 1  # one cancelled transaction, then the one that went through
    day = date(2026, 3, 2)
    for channel in channels:
        counts = deps.metrics_repository.window(workspace.id, channel, day, day)[0][day]
        assert counts.count("published") == 1 and [p["post_id"] for p in counts.posts] == [post_id]
    assert api.get(f"/posts/{post_id}").json["status"] == "published"
