"""Channel queues through the API: weekly slots in the workspace's time zone, posts queued into them,
the front, reordering, shuffling, pausing, and slot changes that move the queued posts."""
from __future__ import annotations

import threading
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from chalicelib.core.clock import to_rfc3339
from chalicelib.planning.queue_repository import QueueRepository
from chalicelib.planning.queues import QueueService
from chalicelib.planning.schemas import Queue
from chalicelib.publishing.posts import PostDraft
from tests.functional.publishing.test_publishing import run_messages
from tests.support.fixtures import make_workspace
from tests.support.http import Api
from tests.support.queues import RecordingQueue

MWF = [{"weekday": day, "time": "09:00"} for day in ("monday", "wednesday", "friday")]


@pytest.fixture
def queue(deps):
    recording = RecordingQueue()
    deps.publish_queue = recording
    return recording


def workspace_api(deps, client, tz: str) -> Api:
    return Api(client, make_workspace(deps, "Planner", tz).headers())


def channel(api: Api, name: str = "Cafe") -> str:
    return api.post("/channels", {"network": "sandbox", "name": name, "settings": {}}).json["id"]


def set_slots(api: Api, channel_id: str, slots, **extra):
    answer = api.call("PUT", f"/channels/{channel_id}/queue", {"slots": slots, **extra})
    assert answer.status_code == 200, answer.body
    Queue.model_validate(answer.json)
    return answer.json


def queue_post(api: Api, channel_ids, text: str, **extra):
    answer = api.post("/posts", {"text": text, "channel_ids": channel_ids, "queue": True, **extra})
    assert answer.status_code == 201, answer.body
    return answer.json


def local(zone: str, day: date, hour: int, minute: int = 0) -> str:
    return to_rfc3339(datetime.combine(day, time(hour, minute), tzinfo=ZoneInfo(zone)))


def weekdays_from(first: date, weekdays: tuple[int, ...], count: int) -> list[date]:
    days, day = [], first
    while len(days) < count:
        if day.weekday() in weekdays:
            days.append(day)
        day += timedelta(days=1)
    return days


def queued_order(api: Api, channel_id: str) -> list[str]:
    return [p["post_id"] for p in api.get(f"/channels/{channel_id}/queue").json["posts"]]


def test_twenty_posts_queued_into_monday_wednesday_friday_slots_of_three_channels(deps, client, clock):
    # Monday 2026-03-02 12:00 in Istanbul (09:00 UTC).
    api = workspace_api(deps, client, "Europe/Istanbul")
    hours = {"Morning": (9, 0), "Noon": (12, 0), "Evening": (17, 30)}
    channels = {name: channel(api, name) for name in hours}
    for name, (hour, minute) in hours.items():
        set_slots(api, channels[name], [{"weekday": d, "time": f"{hour:02d}:{minute:02d}"}
                                        for d in ("monday", "wednesday", "friday")])
    posts = [queue_post(api, list(channels.values()), f"Post {n}") for n in range(20)]

    # Monday's 09:00 and 12:00 have gone by (a slot under two minutes away is not offered); 17:30 has not.
    firsts = {"Morning": date(2026, 3, 4), "Noon": date(2026, 3, 4), "Evening": date(2026, 3, 2)}
    for name, (hour, minute) in hours.items():
        days = weekdays_from(firsts[name], (0, 2, 4), 20)
        expected = [local("Europe/Istanbul", day, hour, minute) for day in days]
        assert [p["queue_slots"][channels[name]] for p in posts] == expected
        assert [d["due_at"] for p in posts for d in p["deliveries"] if d["channel_id"] == channels[name]] == expected
        assert queued_order(api, channels[name]) == [p["id"] for p in posts]
    assert posts[0]["queue_slots"][channels["Evening"]] == "2026-03-02T14:30:00Z"
    assert posts[19]["queue_slots"][channels["Morning"]] == "2026-04-17T06:00:00Z"
    # Each post is an ordinary scheduled post, at its first slot.
    assert {p["status"] for p in posts} == {"scheduled"} and all(p["queued"] for p in posts)
    assert posts[0]["publish_at"] == "2026-03-02T14:30:00Z"


def test_a_common_slot_is_the_first_free_on_every_channel(deps, client, clock):
    api = workspace_api(deps, client, "UTC")
    first, second = channel(api, "A"), channel(api, "B")
    set_slots(api, first, [{"weekday": "tuesday", "time": "09:00"}, {"weekday": "wednesday", "time": "09:00"}])
    set_slots(api, second, [{"weekday": "wednesday", "time": "09:00"}, {"weekday": "thursday", "time": "09:00"}])
    post = queue_post(api, [first, second], "Together", queue_slot="common")
    assert post["queue_slots"] == {first: "2026-03-04T09:00:00Z", second: "2026-03-04T09:00:00Z"}
    alone = queue_post(api, [first, second], "Apart")
    assert alone["queue_slots"] == {first: "2026-03-03T09:00:00Z", second: "2026-03-05T09:00:00Z"}


def test_front_reorder_swap_and_a_seeded_shuffle(deps, client, clock):
    api = workspace_api(deps, client, "UTC")
    cid = channel(api)
    set_slots(api, cid, MWF)
    ids = [queue_post(api, [cid], f"Post {n}")["id"] for n in range(4)]
    slots = ["2026-03-04T09:00:00Z", "2026-03-06T09:00:00Z", "2026-03-09T09:00:00Z", "2026-03-11T09:00:00Z",
             "2026-03-13T09:00:00Z"]

    front = queue_post(api, [cid], "Urgent", queue_position="front")
    assert front["queue_slots"][cid] == slots[0]
    assert queued_order(api, cid) == [front["id"], *ids]
    assert [api.get(f"/posts/{pid}").json["publish_at"] for pid in ids] == slots[1:]

    moved = api.post(f"/channels/{cid}/queue/move", {"post_id": ids[3], "position": 0})
    assert moved.status_code == 200, moved.body
    assert queued_order(api, cid) == [ids[3], front["id"], ids[0], ids[1], ids[2]]
    assert {(m["post_id"], m["old"], m["new"]) for m in moved.json["moved"]} == {
        (ids[3], slots[4], slots[0]), (front["id"], slots[0], slots[1]), (ids[0], slots[1], slots[2]),
        (ids[1], slots[2], slots[3]), (ids[2], slots[3], slots[4])}

    swapped = api.post(f"/channels/{cid}/queue/swap", {"post_ids": [ids[3], ids[2]]})
    assert swapped.status_code == 200, swapped.body
    assert queued_order(api, cid) == [ids[2], front["id"], ids[0], ids[1], ids[3]]
    assert api.get(f"/posts/{ids[2]}").json["deliveries"][0]["due_at"] == slots[0]

    before = queued_order(api, cid)
    first = api.post(f"/channels/{cid}/queue/shuffle", {"seed": 7}).json
    order = [p["post_id"] for p in first["posts"]]
    assert sorted(order) == sorted(before) and [p["slot_at"] for p in first["posts"]] == slots
    # The same seed over the same order gives the same order again.
    for pid, slot in zip(before, slots, strict=True):
        api.post(f"/channels/{cid}/queue/move", {"post_id": pid, "position": slots.index(slot)})
    assert queued_order(api, cid) == before
    assert [p["post_id"] for p in api.post(f"/channels/{cid}/queue/shuffle", {"seed": 7}).json["posts"]] == order
    for pid, slot in zip(order, slots, strict=True):
        assert api.get(f"/posts/{pid}").json["queue_slots"][cid] == slot


def test_changing_the_slots_moves_the_queued_posts_in_order_and_says_which_moved(deps, client, clock):
    api = workspace_api(deps, client, "UTC")
    cid = channel(api)
    set_slots(api, cid, MWF)
    ids = [queue_post(api, [cid], f"Post {n}")["id"] for n in range(3)]
    answer = set_slots(api, cid, [{"weekday": "tuesday", "time": "10:00"}, {"weekday": "friday", "time": "09:00"}])
    assert answer["moved"] == [
        {"post_id": ids[0], "channel_id": cid, "old": "2026-03-04T09:00:00Z", "new": "2026-03-03T10:00:00Z"},
        {"post_id": ids[2], "channel_id": cid, "old": "2026-03-09T09:00:00Z", "new": "2026-03-10T10:00:00Z"}]
    # The second kept Friday 09:00: not moved, not in the answer.
    assert [api.get(f"/posts/{pid}").json["deliveries"][0]["due_at"] for pid in ids] == [
        "2026-03-03T10:00:00Z", "2026-03-06T09:00:00Z", "2026-03-10T10:00:00Z"]
    assert answer["slots"] == [{"weekday": "tuesday", "time": "10:00"}, {"weekday": "friday", "time": "09:00"}]
    assert api.call("PUT", f"/channels/{cid}/queue", {"slots": []}).status_code == 422


def test_a_paused_queue_publishes_nothing_and_resuming_moves_its_posts_to_the_next_slots(deps, client, clock, queue):
    api = workspace_api(deps, client, "UTC")
    cid = channel(api)
    set_slots(api, cid, MWF)
    ids = [queue_post(api, [cid], f"Post {n}")["id"] for n in range(2)]
    paused = set_slots(api, cid, MWF, paused=True)
    assert paused["paused"] is True and paused["moved"] == []
    held = api.get(f"/posts/{ids[0]}").json
    assert held["queue_paused"] == [cid] and held["deliveries"][0]["due_at"] is None
    late = queue_post(api, [cid], "Added while paused")
    assert late["queue_paused"] == [cid]

    clock.set(datetime(2026, 3, 4, 9, 0, 30, tzinfo=UTC))  # the first slot has come
    assert deps.engine.publish_due_deliveries().queued == 0
    assert queue.take() == []
    assert [d["status"] for d in api.get(f"/posts/{ids[0]}").json["deliveries"]] == ["scheduled"]

    resumed = api.call("PUT", f"/channels/{cid}/queue", {"paused": False}).json
    assert [(m["post_id"], m["new"]) for m in resumed["moved"]] == [
        (ids[0], "2026-03-06T09:00:00Z"), (ids[1], "2026-03-09T09:00:00Z"), (late["id"], "2026-03-11T09:00:00Z")]
    clock.set(datetime(2026, 3, 6, 8, 59, 30, tzinfo=UTC))
    deps.engine.publish_due_deliveries()
    run_messages(deps, queue, clock)
    assert api.get(f"/posts/{ids[0]}").json["status"] == "published"


def test_a_post_left_the_queue_frees_its_slot_for_the_next(deps, client, clock):
    api = workspace_api(deps, client, "UTC")
    cid = channel(api)
    set_slots(api, cid, MWF)
    first = queue_post(api, [cid], "First")
    second = queue_post(api, [cid], "Second")
    assert api.delete(f"/posts/{first['id']}").status_code == 200
    assert queued_order(api, cid) == [second["id"]]
    assert queue_post(api, [cid], "Third")["queue_slots"][cid] == "2026-03-04T09:00:00Z"
    timed = api.patch(f"/posts/{second['id']}", {"publish_at": "2026-03-20T12:00:00Z",
                                                  "version": second["version"]})
    assert timed.status_code == 200 and timed.json["queued"] is False
    assert timed.json["deliveries"][0]["due_at"] == "2026-03-20T12:00:00Z"


@pytest.mark.parametrize(("zone", "start", "slot", "expected"), [
    # Spring forward: 02:30 does not exist on 2026-03-08 in New York; it goes out at 03:30 EDT.
    ("America/New_York", date(2026, 3, 7), {"weekday": "sunday", "time": "02:30"},
     ["2026-03-08T07:30:00Z", "2026-03-15T06:30:00Z"]),
    # 01:30 does not exist on 2026-03-29 in London; 02:30 BST.
    ("Europe/London", date(2026, 3, 28), {"weekday": "sunday", "time": "01:30"},
     ["2026-03-29T01:30:00Z", "2026-04-05T00:30:00Z"]),
    # Istanbul keeps +03:00 all year: Sunday 01:30 is Saturday 22:30 UTC, before and after Europe's change.
    ("Europe/Istanbul", date(2026, 3, 27), {"weekday": "sunday", "time": "01:30"},
     ["2026-03-28T22:30:00Z", "2026-04-04T22:30:00Z"]),
])
def test_spring_forward_slots_through_the_api(deps, client, clock, zone, start, slot, expected):
    clock.set(datetime.combine(start, time(12), tzinfo=UTC))
    api = workspace_api(deps, client, zone)
    cid = channel(api)
    set_slots(api, cid, [slot])
    assert [queue_post(api, [cid], f"P{n}")["queue_slots"][cid] for n in range(2)] == expected


@pytest.mark.parametrize(("zone", "expected"), [
    ("America/New_York", ["2026-11-01T05:30:00Z", "2026-11-08T06:30:00Z"]),
    ("Europe/London", ["2026-11-01T01:30:00Z", "2026-11-08T01:30:00Z"]),
])
def test_a_fall_back_slot_is_taken_once(deps, client, clock, zone, expected):
    clock.set(datetime(2026, 10, 31, 12, tzinfo=UTC))
    api = workspace_api(deps, client, zone)
    cid = channel(api)
    set_slots(api, cid, [{"weekday": "sunday", "time": "01:30"}])
    assert [queue_post(api, [cid], f"P{n}")["queue_slots"][cid] for n in range(2)] == expected


def test_bad_slots_are_refused_and_nothing_changes(deps, client, clock, workspace, other_workspace):
    api = Api(client, workspace.headers())
    cid = channel(api)
    for slots in ([{"weekday": "funday", "time": "09:00"}], [{"weekday": "monday", "time": "24:00"}],
                  [{"weekday": "monday", "time": "9:00"}],
                  [{"weekday": "monday", "time": "09:00"}, {"weekday": "monday", "time": "09:00"}]):
        answer = api.call("PUT", f"/channels/{cid}/queue", {"slots": slots})
        assert answer.status_code == 422, slots
        assert answer.json["error"]["details"][0]["field"].startswith("slots")
    assert api.get(f"/channels/{cid}/queue").json["slots"] == []
    no_slots = api.post("/posts", {"text": "x", "channel_ids": [cid], "queue": True})
    assert no_slots.status_code == 422 and no_slots.json["error"]["details"][0]["field"] == "channel_ids.0"
    set_slots(api, cid, MWF)
    both = api.post("/posts", {"text": "x", "channel_ids": [cid], "queue": True, "publish_at": "2026-03-09T09:00:00Z"})
    assert both.status_code == 422
    assert Api(client, other_workspace.headers()).get(f"/channels/{cid}/queue").status_code == 404
    assert Api(client, workspace.headers("viewer")).call("PUT", f"/channels/{cid}/queue",
                                                         {"slots": MWF}).status_code == 403


def test_suggested_slots_come_from_the_best_times_beside_the_current_ones(deps, client, clock):
    api = workspace_api(deps, client, "UTC")
    cid = channel(api)
    set_slots(api, cid, MWF)
    best = {"best": [{"weekday": "Tuesday", "weekday_index": 1, "hour": 9, "posts": 3, "average_engagements": 30},
                     {"weekday": "Monday", "weekday_index": 0, "hour": 9, "posts": 2, "average_engagements": 7}]}
    deps.queues.best_times = lambda _ws, _cid: best
    answer = api.get(f"/channels/{cid}/queue").json
    assert answer["suggested_slots"] == [
        {"weekday": "tuesday", "time": "09:00", "posts": 3, "average_engagements": 30, "in_schedule": False},
        {"weekday": "monday", "time": "09:00", "posts": 2, "average_engagements": 7, "in_schedule": True}]
    assert answer["slots"] == MWF and answer["next_free_slots"][0] == "2026-03-04T09:00:00Z"


class StaleClaims(QueueRepository):
    """Reads no claims, as a reader that looked just before another post took the slot."""

    def claims(self, workspace_id, channel_id, after):
        return []


def test_a_slot_taken_between_reading_and_claiming_is_never_shared(deps, client, clock, workspace):
    api = Api(client, workspace.headers())
    cid = channel(api)
    set_slots(api, cid, MWF)
    first = queue_post(api, [cid], "First")
    stale = QueueService(StaleClaims(), deps.posts, deps.channel_repository, lambda _ws: "UTC", clock)
    second, _ = stale.queue_post(workspace.id, PostDraft("Second", [cid], {}, [], None, None, queue="next"))
    assert first["queue_slots"][cid] == "2026-03-04T09:00:00Z"
    assert second.plan["queue"][cid] == "2026-03-06T09:00:00Z"


def test_posts_queued_at_once_take_distinct_slots(deps, client, clock, workspace):
    api = Api(client, workspace.headers())
    cid = channel(api)
    set_slots(api, cid, MWF)
    found: list[str] = []
    start = threading.Barrier(6)

    def add(n: int) -> None:
        start.wait()
        post, _ = deps.queues.queue_post(workspace.id, PostDraft(f"P{n}", [cid], {}, [], None, None, queue="next"))
        found.append(post.plan["queue"][cid])

    threads = [threading.Thread(target=add, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(found) == 6 and len(set(found)) == 6


class CountingClaims(QueueRepository):
    def __init__(self) -> None:
        super().__init__()
        self.reads = 0

    def claims(self, workspace_id, channel_id, after):
        self.reads += 1
        return super().claims(workspace_id, channel_id, after)


def test_a_bulk_batch_reads_each_queue_once_and_reuses_the_slot_of_a_refused_post(deps, client, clock, workspace):
    from chalicelib.core.errors import ValidationFailed

    api = Api(client, workspace.headers())
    cid = channel(api)
    set_slots(api, cid, MWF)
    counting = CountingClaims()
    service = QueueService(counting, deps.posts, deps.channel_repository, lambda _ws: "UTC", clock)
    batch = service.new_batch()
    made = []
    for n in range(12):
        draft = PostDraft("" if n == 3 else f"Row {n}", [cid], {}, [], None, None, queue="next")
        try:
            made.append(service.queue_post(workspace.id, draft, batch=batch)[0])
        except ValidationFailed:
            assert n == 3  # empty text without media
    assert counting.reads == 1
    slots = [post.plan["queue"][cid] for post in made]
    assert slots == [to_rfc3339(datetime.combine(day, time(9), tzinfo=UTC))
                     for day in weekdays_from(date(2026, 3, 4), (0, 2, 4), 11)]
    assert queued_order(api, cid) == [post.post_id for post in made]
