"""The content calendar by day in the workspace's time zone, and the .ics feed."""
from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import icalendar
import pytest

from tests.support.factories import connect_sandbox, make_post
from tests.support.http import Api


@pytest.fixture
def channel(api: Api) -> str:
    return connect_sandbox(api)["id"]


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def posts_at(api: Api, clock: Any, channel: str, *times: str) -> dict[str, str]:
    """Schedules a post at each UTC time (the clock is moved back so that none is in the past)."""
    clock.set(utc(min(times)) - timedelta(days=1))
    return {when: make_post(api, [channel], utc(when), text=f"At {when}")["id"] for when in times}


def calendar(api: Api, month: str) -> dict[str, list[str]]:
    response = api.get(f"/calendar?month={month}")
    assert response.status_code == 200, response.body
    return {day["date"]: [p["id"] for p in day["posts"]] for day in response.json["days"]}


def test_paris_march_across_the_change_to_summer_time(api, clock, channel):
    api.patch("/workspace", {"timezone": "Europe/Paris"})
    ids = posts_at(api, clock, channel,
                   "2026-02-28T22:30:00Z",  # 23:30 CET, 28 February
                   "2026-02-28T23:30:00Z",  # 00:30 CET, 1 March
                   "2026-03-29T00:30:00Z",  # 01:30 CET, 29 March, half an hour before the change
                   "2026-03-29T01:30:00Z",  # 03:30 CEST, 29 March
                   "2026-03-31T21:30:00Z",  # 23:30 CEST, 31 March
                   "2026-03-31T22:30:00Z")  # 00:30 CEST, 1 April
    response = api.get("/calendar?month=2026-03").json
    assert (response["month"], response["timezone"]) == ("2026-03", "Europe/Paris")
    days = calendar(api, "2026-03")
    assert list(days) == [f"2026-03-{d:02d}" for d in range(1, 32)]
    assert days["2026-03-01"] == [ids["2026-02-28T23:30:00Z"]]
    assert days["2026-03-29"] == [ids["2026-03-29T00:30:00Z"], ids["2026-03-29T01:30:00Z"]]
    assert days["2026-03-31"] == [ids["2026-03-31T21:30:00Z"]]
    assert sum(len(posts) for posts in days.values()) == 4
    assert calendar(api, "2026-04")["2026-04-01"] == [ids["2026-03-31T22:30:00Z"]]
    assert calendar(api, "2026-02")["2026-02-28"] == [ids["2026-02-28T22:30:00Z"]]


def test_new_york_november_across_the_end_of_summer_time(api, clock, channel):
    api.patch("/workspace", {"timezone": "America/New_York"})
    ids = posts_at(api, clock, channel,
                   "2026-11-01T03:30:00Z",  # 23:30 EDT, 31 October
                   "2026-11-01T04:30:00Z",  # 00:30 EDT, 1 November
                   "2026-11-01T06:30:00Z",  # 01:30 EST, 1 November (the second 01:30)
                   "2026-12-01T04:30:00Z",  # 23:30 EST, 30 November
                   "2026-12-01T05:30:00Z")  # 00:30 EST, 1 December
    days = calendar(api, "2026-11")
    assert list(days) == [f"2026-11-{d:02d}" for d in range(1, 31)]
    assert days["2026-11-01"] == [ids["2026-11-01T04:30:00Z"], ids["2026-11-01T06:30:00Z"]]
    assert days["2026-11-30"] == [ids["2026-12-01T04:30:00Z"]]
    assert sum(len(posts) for posts in days.values()) == 3
    assert calendar(api, "2026-10")["2026-10-31"] == [ids["2026-11-01T03:30:00Z"]]


def test_the_same_posts_move_days_when_the_time_zone_changes(api, clock, channel):
    ids = posts_at(api, clock, channel, "2026-03-10T23:30:00Z")
    assert calendar(api, "2026-03")["2026-03-10"] == list(ids.values())
    api.patch("/workspace", {"timezone": "Asia/Tokyo"})
    days = calendar(api, "2026-03")
    assert (days["2026-03-10"], days["2026-03-11"]) == ([], list(ids.values()))


def test_a_day_lists_what_a_person_needs(api, clock, channel):
    post = make_post(api, [channel], clock.now() + timedelta(hours=2), text="Spring sale!\nEverything  must go " * 5)
    [entry] = [p for day in api.get("/calendar?month=2026-03").json["days"] for p in day["posts"]]
    assert entry["id"] == post["id"]
    assert (entry["publish_at"], entry["status"], entry["channel_ids"]) == ("2026-03-02T11:00:00Z", "scheduled",
                                                                            [channel])
    assert entry["text_preview"].startswith("Spring sale! Everything must go Spring sale!")
    assert "\n" not in entry["text_preview"] and len(entry["text_preview"]) <= 80


def test_canceled_posts_and_undated_drafts_are_not_on_the_calendar(api, clock, channel):
    kept = make_post(api, [channel], clock.now() + timedelta(days=1))
    canceled = make_post(api, [channel], clock.now() + timedelta(days=2))
    api.post(f"/posts/{canceled['id']}/cancel")
    make_post(api, [channel], text="Someday")
    assert [p for posts in calendar(api, "2026-03").values() for p in posts] == [kept["id"]]


def test_a_bad_month_is_refused(api):
    for query in ("month=2026-13", "month=2026-00", "month=2026-3", "month=26-03", "month=March", "month=", ""):
        response = api.get(f"/calendar?{query}")
        assert response.status_code == 422, (query, response.body)
        assert [d["field"] for d in response.json["error"]["details"]] == ["month"]


# -- the .ics feed -------------------------------------------------------------------


def feed_url(api: Api) -> str:
    """The feed's address, made by the admin's POST (which answers the one there is, if any)."""
    response = api.post("/workspace/calendar-feed")
    assert response.status_code == 200, response.body
    assert api.get("/workspace/calendar-feed").json["url"] == response.json["url"]
    return response.json["url"]


def fetch(client: Any, url: str) -> Any:
    """What a calendar app does: a plain GET, no bearer key."""
    assert url.startswith("http://herald.test/")
    return client.http.get(urlsplit(url).path)


def test_the_feed_address_is_stable(api):
    assert feed_url(api) == feed_url(api)


def test_the_feed_serves_each_scheduled_post_as_an_event(api, client, clock, channel, other_workspace):
    first = make_post(api, [channel], clock.now() + timedelta(hours=3), text="First; with, punctuation")
    second = make_post(api, [channel], clock.now() + timedelta(days=9, minutes=5), text="Second")
    canceled = make_post(api, [channel], clock.now() + timedelta(days=1))
    api.post(f"/posts/{canceled['id']}/cancel")
    theirs = Api(client, other_workspace.headers())
    make_post(theirs, [connect_sandbox(theirs)["id"]], clock.now() + timedelta(hours=4), text="Not ours")

    response = fetch(client, feed_url(api))
    assert response.status_code == 200, response.body
    assert response.headers["Content-Type"].startswith("text/calendar")
    parsed = icalendar.Calendar.from_ical(response.body)
    events = {str(e["UID"]).split("@")[0]: e for e in parsed.walk("VEVENT")}
    assert set(events) == {first["id"], second["id"]}
    assert events[first["id"]].decoded("DTSTART") == datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
    assert events[second["id"]].decoded("DTSTART") == datetime(2026, 3, 11, 9, 5, tzinfo=UTC)
    assert str(events[first["id"]]["SUMMARY"]) == "First; with, punctuation"


def test_an_edit_shows_in_the_feed(api, client, clock, channel):
    post = make_post(api, [channel], clock.now() + timedelta(hours=3))
    api.post(f"/posts/{post['id']}/schedule", {"publish_at": "2026-03-20T08:15:00Z"})
    [event] = icalendar.Calendar.from_ical(fetch(client, feed_url(api)).body).walk("VEVENT")
    assert event.decoded("DTSTART") == datetime(2026, 3, 20, 8, 15, tzinfo=UTC)
    assert int(event["SEQUENCE"]) == 2


def test_rotating_the_feed_retires_the_old_address(api, client, channel, clock):
    make_post(api, [channel], clock.now() + timedelta(hours=3))
    old = feed_url(api)
    rotated = api.post("/workspace/calendar-feed/rotate")
    assert rotated.status_code == 200, rotated.body
    new = rotated.json["url"]
    assert new != old
    assert feed_url(api) == new
    gone = fetch(client, old)
    assert gone.status_code == 404
    assert json.loads(gone.body)["error"]["code"] == "not_found"
    assert fetch(client, new).status_code == 200


def test_revoking_the_feed_retires_its_address(api, client):
    old = feed_url(api)
    assert api.delete("/workspace/calendar-feed").status_code == 204
    assert fetch(client, old).status_code == 404
    assert feed_url(api) != old


def test_reading_the_feed_address_never_makes_one(client, api, workspace):
    viewer = Api(client, workspace.headers("viewer"))
    never_made = viewer.get("/workspace/calendar-feed")
    assert never_made.status_code == 200, never_made.body
    assert never_made.json["url"] is None and "POST /workspace/calendar-feed" in never_made.json["message"]
    old = feed_url(api)
    assert viewer.get("/workspace/calendar-feed").json == {"url": old, "message": None}
    assert api.delete("/workspace/calendar-feed").status_code == 204
    for _ in range(2):
        after_revoke = viewer.get("/workspace/calendar-feed")
        assert after_revoke.status_code == 200 and after_revoke.json["url"] is None
    assert fetch(client, old).status_code == 404


def test_only_admins_make_rotate_or_revoke_the_feed(client, api, workspace):
    url = feed_url(api)
    for role in ("viewer", "editor"):
        other = Api(client, workspace.headers(role))
        for method, path in (("POST", "/workspace/calendar-feed"), ("POST", "/workspace/calendar-feed/rotate"),
                             ("DELETE", "/workspace/calendar-feed")):
            response = other.call(method, path)
            assert response.status_code == 403, (role, method, path, response.body)
            assert "admin" in response.json["error"]["message"]
    assert api.get("/workspace/calendar-feed").json["url"] == url
    admin = Api(client, workspace.headers("admin"))
    assert admin.post("/workspace/calendar-feed").json["url"] == url
    rotated = admin.post("/workspace/calendar-feed/rotate").json["url"]
    assert rotated != url
    assert admin.delete("/workspace/calendar-feed").status_code == 204


def test_a_made_up_feed_address_is_not_found(client, api):
    feed_url(api)
    for token in ("nothing.ics", "0123456789abcdef-" + "A" * 43 + ".ics", "%2e%2e"):
        assert client.http.get(f"/calendar-feed/{token}").status_code == 404, token


def test_a_feed_address_with_a_wrong_secret_is_not_found(client, api):
    path = urlsplit(feed_url(api)).path
    token = path.rsplit("/", 1)[1].removesuffix(".ics")
    forged = token[:-1] + ("A" if token[-1] != "A" else "B")
    assert client.http.get(f"/calendar-feed/{forged}.ics").status_code == 404


def test_a_name_stored_before_control_characters_were_refused_never_reaches_the_feed(api, client, deps,
                                                                                     workspace, channel, clock):
    deps.workspace_repository.update(workspace.id, name="Acme\x07\x00\x1b[2J\r\nX-INJECTED:1")
    make_post(api, [channel], clock.now() + timedelta(hours=3), text="Tab\tand\nline")
    response = fetch(client, feed_url(api))
    assert response.status_code == 200, response.body
    body = response.body.decode("utf-8")
    assert [line for line in body.split("\r\n") if line.startswith("X-INJECTED")] == []
    assert not [c for c in body.replace("\r\n", "") if c < " " or "\x7f" <= c <= "\x9f"]
    parsed = icalendar.Calendar.from_ical(response.body)
    assert "X-INJECTED" not in parsed
    assert str(parsed.walk("VEVENT")[0]["DESCRIPTION"]).startswith("Tab and\nline")
