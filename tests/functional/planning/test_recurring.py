"""Recurring posts through the API: a series of ordinary scheduled posts made 60 days ahead by the daily
job, each editable alone; series edits and ends; evergreen recycling; the calendar and .ics feed."""
from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from chalicelib.core.jobs import run_job_by_name
from chalicelib.planning.recurrence import Recurrence
from chalicelib.planning.schemas import Series
from tests.functional.publishing.test_publishing import run_messages
from tests.support.fixtures import make_workspace
from tests.support.http import Api
from tests.support.queues import RecordingQueue

WEEKLY_MONDAY_9 = "FREQ=WEEKLY;BYDAY=MO;BYHOUR=9;BYMINUTE=0"
FIRST_WORKING_DAY = "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=1;BYHOUR=10;BYMINUTE=0"


@pytest.fixture
def queue(deps):
    recording = RecordingQueue()
    deps.publish_queue = recording
    return recording


@pytest.fixture
def london(deps, client) -> Api:
    return Api(client, make_workspace(deps, "Pub", "Europe/London").headers())


def channel(api: Api) -> str:
    return api.post("/channels", {"network": "sandbox", "name": "Cafe", "settings": {}}).json["id"]


def start_weekly(api: Api, cid: str) -> dict:
    answer = api.post("/posts", {"text": "Monday special", "channel_ids": [cid], "recurrence": WEEKLY_MONDAY_9,
                                 "publish_at": "2026-03-09T09:00:00Z"})
    assert answer.status_code == 201, answer.body
    return answer.json


def series_of(api: Api, series_id: str) -> dict:
    answer = api.get(f"/series/{series_id}")
    assert answer.status_code == 200, answer.body
    Series.model_validate(answer.json)
    return answer.json


# Mondays 09:00 in London from Monday 2026-03-02 09:00 UTC, 60 days ahead (to 2026-05-01): BST from 29 March.
MONDAYS = ["2026-03-09T09:00:00Z", "2026-03-16T09:00:00Z", "2026-03-23T09:00:00Z", "2026-03-30T08:00:00Z",
           "2026-04-06T08:00:00Z", "2026-04-13T08:00:00Z", "2026-04-20T08:00:00Z", "2026-04-27T08:00:00Z"]


def test_a_weekly_series_is_ordinary_scheduled_posts_for_sixty_days_wall_clock_across_dst(london, clock):
    cid = channel(london)
    first = start_weekly(london, cid)
    assert (first["status"], first["publish_at"], first["recurrence"]) == ("scheduled", MONDAYS[0], WEEKLY_MONDAY_9)
    assert first["occurrence_key"] == "20260309T0900" and first["series_id"].startswith("ser_")
    series = series_of(london, first["series_id"])
    assert [o["publish_at"] for o in series["occurrences"]] == MONDAYS
    assert series["occurrences"][0]["post_id"] == first["id"]
    listed = london.get(f"/posts?status=scheduled&channel_id={cid}").json["items"]
    assert sorted(p["publish_at"] for p in listed) == MONDAYS
    assert {p["deliveries"][0]["due_at"] for p in listed} == set(MONDAYS)


def test_the_job_twice_makes_no_duplicates_and_a_week_later_makes_the_next(deps, london, clock):
    cid = channel(london)
    series_id = start_weekly(london, cid)["series_id"]
    assert run_job_by_name("plan-ahead")["occurrences_made"] == 0  # made when the series was
    assert deps.series.run()["occurrences_made"] == 0
    clock.advance(days=7)
    assert deps.series.run() == {"series": 1, "occurrences_made": 1, "recycled": 0, "errors": 0}
    assert deps.series.run()["occurrences_made"] == 0
    times = [o["publish_at"] for o in series_of(london, series_id)["occurrences"]]
    assert times == MONDAYS + ["2026-05-04T08:00:00Z"]
    assert len(london.get(f"/posts?channel_id={cid}").json["items"]) == 9


def test_one_occurrence_edited_alone_keeps_its_edit_through_series_edits(london, clock):
    cid = channel(london)
    first = start_weekly(london, cid)
    occurrences = series_of(london, first["series_id"])["occurrences"]
    alone_id = occurrences[2]["post_id"]
    alone = london.get(f"/posts/{alone_id}").json
    edited = london.patch(f"/posts/{alone_id}", {"text": "Closed for the holiday", "version": alone["version"]})
    assert edited.status_code == 200 and edited.json["detached"] is True

    answer = london.patch(f"/series/{first['series_id']}", {"text": "Monday special: soup"})
    assert answer.status_code == 200, answer.body
    assert alone_id not in answer.json["changed"] and len(answer.json["changed"]) == 7
    texts = {o["post_id"]: london.get(f"/posts/{o['post_id']}").json["text"] for o in occurrences}
    assert texts[alone_id] == "Closed for the holiday"
    assert {t for pid, t in texts.items() if pid != alone_id} == {"Monday special: soup"}
    assert series_of(london, first["series_id"])["text"] == "Monday special: soup"


def test_an_occurrence_already_out_is_not_changed_and_ending_cancels_the_rest(deps, london, clock, queue):
    cid = channel(london)
    first = start_weekly(london, cid)
    clock.set(datetime(2026, 3, 9, 8, 59, 30, tzinfo=UTC))
    deps.engine.publish_due_deliveries()
    run_messages(deps, queue, clock)
    assert london.get(f"/posts/{first['id']}").json["status"] == "published"
    clock.set(datetime(2026, 3, 10, tzinfo=UTC))
    changed = london.patch(f"/series/{first['series_id']}", {"text": "New text"}).json
    assert first["id"] not in changed["changed"]
    assert london.get(f"/posts/{first['id']}").json["text"] == "Monday special"

    ended = london.delete(f"/series/{first['series_id']}")
    assert ended.status_code == 200 and ended.json["status"] == "ended"
    assert len(ended.json["canceled"]) == 8  # 16 March to 4 May (the edit planned on from 10 March)
    statuses = {o["post_id"]: o["status"] for o in series_of(london, first["series_id"])["occurrences"]}
    assert statuses.pop(first["id"]) == "published" and set(statuses.values()) == {"canceled"}
    clock.advance(days=7)
    assert deps.series.run()["occurrences_made"] == 0  # an ended series makes nothing more
    assert london.patch(f"/series/{first['series_id']}", {"text": "again"}).status_code == 409


def test_an_until_in_the_rule_cancels_the_occurrences_after_it(london, clock):
    cid = channel(london)
    first = start_weekly(london, cid)
    answer = london.patch(f"/series/{first['series_id']}",
                          {"recurrence": WEEKLY_MONDAY_9 + ";UNTIL=20260324T000000Z"})
    assert answer.status_code == 200, answer.body
    assert len(answer.json["canceled"]) == 5
    kept = [o["publish_at"] for o in answer.json["occurrences"] if o["status"] == "scheduled"]
    assert kept == MONDAYS[:3]


def test_the_first_working_day_of_the_month(deps, client, clock):
    api = Api(client, make_workspace(deps, "Ofis", "Europe/Istanbul").headers())
    cid = channel(api)
    answer = api.post("/posts", {"text": "Monthly report", "channel_ids": [cid], "recurrence": FIRST_WORKING_DAY,
                                 "publish_at": "2026-03-02T07:00:00Z"})
    assert answer.status_code == 201, answer.body
    # Monday 2 March 10:00 (07:00 UTC) has gone by at 12:00; April 1st is a Wednesday, May 1st a Friday.
    assert [o["publish_at"] for o in series_of(api, answer.json["series_id"])["occurrences"]] == [
        "2026-04-01T07:00:00Z", "2026-05-01T07:00:00Z"]
    rule = Recurrence(FIRST_WORKING_DAY, datetime(2026, 3, 2, 10), ZoneInfo("Europe/Istanbul"))
    days = [at.date() for _key, at in rule.between(datetime(2026, 3, 3, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC))]
    # August 1st is a Saturday, November 1st a Sunday.
    assert days == [date(2026, 4, 1), date(2026, 5, 1), date(2026, 6, 1), date(2026, 7, 1), date(2026, 8, 3),
                    date(2026, 9, 1), date(2026, 10, 1), date(2026, 11, 2), date(2026, 12, 1)]


@pytest.mark.parametrize(("rule", "field"), [
    ("FREQ=HOURLY", "recurrence"), ("FREQ=WEEKLY;BYDAY=XX", "recurrence"), ("BYDAY=MO", "recurrence"),
    ("DTSTART:20260301T090000\nRRULE:FREQ=DAILY", "recurrence"),
])
def test_bad_rules_are_refused_and_nothing_is_made(london, clock, rule, field):
    cid = channel(london)
    answer = london.post("/posts", {"text": "x", "channel_ids": [cid], "recurrence": rule,
                                    "publish_at": "2026-03-09T09:00:00Z"})
    assert answer.status_code == 422, answer.body
    assert answer.json["error"]["details"][0]["field"] == field
    assert london.get("/series").json["items"] == [] and london.get("/posts").json["items"] == []
    no_start = london.post("/posts", {"text": "x", "channel_ids": [cid], "recurrence": WEEKLY_MONDAY_9})
    assert no_start.status_code == 422 and no_start.json["error"]["details"][0]["field"] == "publish_at"


def test_another_workspaces_series_is_not_found(deps, london, client, clock, other_workspace):
    series_id = start_weekly(london, channel(london))["series_id"]
    theirs = Api(client, other_workspace.headers())
    assert theirs.get(f"/series/{series_id}").status_code == 404
    assert theirs.delete(f"/series/{series_id}").status_code == 404


def test_an_evergreen_post_is_copied_into_the_queue_after_n_days_once(deps, client, clock, queue):
    api = Api(client, make_workspace(deps, "Shop", "UTC").headers())
    cid = channel(api)
    api.call("PUT", f"/channels/{cid}/queue", {"slots": [{"weekday": "monday", "time": "10:00"}]})
    post = api.post("/posts", {"text": "Our classic", "channel_ids": [cid], "publish_at": "2026-03-02T09:30:00Z",
                               "recycle_after_days": 7}).json
    assert post["recycle_after_days"] == 7
    clock.set(datetime(2026, 3, 2, 9, 29, 30, tzinfo=UTC))
    deps.engine.publish_due_deliveries()
    run_messages(deps, queue, clock)
    assert api.get(f"/posts/{post['id']}").json["status"] == "published"
    clock.set(datetime(2026, 3, 8, 12, tzinfo=UTC))
    assert deps.series.run()["recycled"] == 0  # six days
    clock.set(datetime(2026, 3, 9, 9, 31, tzinfo=UTC))
    assert deps.series.run()["recycled"] == 1
    assert deps.series.run()["recycled"] == 0
    queued = api.get(f"/channels/{cid}/queue").json["posts"]
    assert len(queued) == 1
    copy = api.get(f"/posts/{queued[0]['post_id']}").json
    assert (copy["text"], copy["recycled_from"], copy["recycle_after_days"], copy["publish_at"]) == (
        "Our classic", post["id"], 7, "2026-03-09T10:00:00Z")


def test_the_calendar_and_the_ics_feed_show_queued_and_recurring_posts(deps, london, client, clock):
    cid = channel(london)
    london.call("PUT", f"/channels/{cid}/queue", {"slots": [{"weekday": "wednesday", "time": "12:00"}]})
    queued = london.post("/posts", {"text": "From the queue", "channel_ids": [cid], "queue": True}).json
    first = start_weekly(london, cid)
    month = london.get("/calendar?month=2026-03").json
    entries = {p["id"]: (day["date"], p) for day in month["days"] for p in day["posts"]}
    assert entries[queued["id"]][0] == "2026-03-04" and entries[queued["id"]][1]["queued"] is True
    assert entries[first["id"]][0] == "2026-03-09" and entries[first["id"]][1]["series_id"] == first["series_id"]
    assert sum(1 for _d, p in entries.values() if p["series_id"]) == 4  # 9, 16, 23, 30 March

    url = london.post("/workspace/calendar-feed").json["url"]
    feed = client.http.get(url[url.index("/calendar-feed/"):])
    body = feed.body.decode()
    assert feed.status_code == 200
    assert f"UID:{queued['id']}@herald" in body and "CATEGORIES:SCHEDULED,QUEUED" in body
    assert f"UID:{first['id']}@herald" in body and body.count("CATEGORIES:SCHEDULED,RECURRING") == 8
    assert "DTSTART:20260330T080000Z" in body
