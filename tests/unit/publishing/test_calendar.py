from __future__ import annotations

import unicodedata
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest

from chalicelib.publishing.calendar import month_bounds, preview, render_ics
from chalicelib.publishing.post_repository import PostRow

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(("month", "zone", "start", "end", "days"), [
    ("2026-03", "Europe/Paris", datetime(2026, 2, 28, 23, tzinfo=UTC), datetime(2026, 3, 31, 22, tzinfo=UTC), 31),
    ("2026-10", "Europe/Paris", datetime(2026, 9, 30, 22, tzinfo=UTC), datetime(2026, 10, 31, 23, tzinfo=UTC), 31),
    ("2026-11", "America/New_York", datetime(2026, 11, 1, 4, tzinfo=UTC), datetime(2026, 12, 1, 5, tzinfo=UTC), 30),
    ("2026-03", "America/New_York", datetime(2026, 3, 1, 5, tzinfo=UTC), datetime(2026, 4, 1, 4, tzinfo=UTC), 31),
    ("2026-12", "UTC", datetime(2026, 12, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC), 31),
    ("2028-02", "Asia/Tokyo", datetime(2028, 1, 31, 15, tzinfo=UTC), datetime(2028, 2, 29, 15, tzinfo=UTC), 29),
    ("2026-04", "Australia/Sydney", datetime(2026, 3, 31, 13, tzinfo=UTC), datetime(2026, 4, 30, 14, tzinfo=UTC), 30),
])
def test_month_bounds_are_local_midnights(month, zone, start, end, days):
    got_start, got_end, got_days = month_bounds(month, ZoneInfo(zone))
    assert (got_start, got_end) == (start, end)
    assert len(got_days) == days
    assert got_days[0] == date(start.astimezone(ZoneInfo(zone)).year, int(month[5:]), 1)
    assert [b - a for a, b in zip(got_days, got_days[1:], strict=False)] == [timedelta(days=1)] * (days - 1)


def test_a_month_across_a_change_is_an_hour_short_or_long():
    start, end, _ = month_bounds("2026-03", ZoneInfo("Europe/Paris"))
    assert end - start == timedelta(days=31, hours=-1)
    start, end, _ = month_bounds("2026-11", ZoneInfo("America/New_York"))
    assert end - start == timedelta(days=30, hours=1)


def post(text: str, publish_at: datetime = NOW + timedelta(days=1), status: str = "scheduled") -> PostRow:
    return PostRow("ws_1", "pst_1", text, status, ["ch_1"], NOW, NOW, publish_at, version=3)


AWKWARD = ("Sale; today only, everything \\ half price!\nSecond line\r\nThird line\rFourth line "
           + "caf\u00e9 \U0001F600 " * 30)


def physical_lines(feed: str) -> list[bytes]:
    raw = feed.encode()
    assert raw.endswith(b"\r\n")
    return raw[:-2].split(b"\r\n")


def test_feed_lines_are_folded_at_75_octets_without_splitting_characters():
    lines = physical_lines(render_ics([post(AWKWARD)], "Acme", "UTC", NOW))
    assert max(len(line) for line in lines) <= 75
    assert any(line.startswith(b" ") for line in lines)  # something was folded
    for line in lines:
        line.decode("utf-8")  # a character cut in two would not decode
        assert b"\r" not in line and b"\n" not in line


def test_feed_text_comes_back_exactly_after_escaping_and_folding():
    parsed = icalendar.Calendar.from_ical(render_ics([post(AWKWARD)], "Acme", "UTC", NOW))
    [event] = parsed.walk("VEVENT")
    expected = AWKWARD.replace("\r\n", "\n").replace("\r", "\n")
    assert str(event["DESCRIPTION"]) == expected + "\n\nStatus: scheduled"
    assert str(event["SUMMARY"]) == preview(AWKWARD)
    assert event.decoded("DTSTART") == NOW + timedelta(days=1)
    assert event.decoded("DTEND") == NOW + timedelta(days=1, minutes=15)
    assert int(event["SEQUENCE"]) == 3


def test_escaping_of_commas_semicolons_backslashes_and_newlines():
    [line] = [line for line in physical_lines(render_ics([post("a,b;c\\d\ne")], "Acme", "UTC", NOW))
              if line.startswith(b"SUMMARY:")]
    assert line == b"SUMMARY:a\\,b\\;c\\\\d e"
    [line] = [line for line in physical_lines(render_ics([post("a,b;c\\d\ne")], "Acme", "UTC", NOW))
              if line.startswith(b"DESCRIPTION:")]
    assert line == b"DESCRIPTION:a\\,b\\;c\\\\d\\ne\\n\\nStatus: scheduled"


def test_a_draft_is_tentative_and_a_media_only_post_has_a_summary():
    [event] = icalendar.Calendar.from_ical(render_ics([post("", status="draft")], "A", "UTC", NOW)).walk("VEVENT")
    assert str(event["STATUS"]) == "TENTATIVE"
    assert str(event["SUMMARY"]) == "(media post)"


def test_an_empty_feed_is_still_a_calendar():
    parsed = icalendar.Calendar.from_ical(render_ics([], "Acme", "Europe/Paris", NOW))
    assert parsed.walk("VEVENT") == []
    assert str(parsed["X-WR-TIMEZONE"]) == "Europe/Paris"


@pytest.mark.parametrize(("text", "shown"), [
    ("Short", "Short"),
    ("Two\nlines  and   spaces", "Two lines and spaces"),
    ("x" * 80, "x" * 80),
    ("x" * 81, "x" * 79 + "\u2026"),
])
def test_preview(text, shown):
    assert preview(text) == shown


# Text stored before the API refused control characters, or that came in some other way.
POISON = "Bell\x07 nul\x00 esc\x1b[31m del\x7f c1\x85 vt\x0b ff\x0c tab\tend\u2028next"


def test_the_feed_never_carries_a_control_character_even_for_old_data():
    feed = render_ics([post(POISON * 3)], "Acme\x07\x00 \x1b[2J", "UTC", NOW)
    for line in physical_lines(feed):
        assert len(line) <= 75
        text = line.decode("utf-8")
        assert not [char for char in text if unicodedata.category(char) == "Cc"], line
    parsed = icalendar.Calendar.from_ical(feed)
    [event] = parsed.walk("VEVENT")
    shown = POISON.replace("\u2028", "\n").replace("\t", " ")
    shown = "".join("\ufffd" if unicodedata.category(c) == "Cc" and c != "\n" else c for c in shown)
    assert str(event["DESCRIPTION"]) == shown * 3 + "\n\nStatus: scheduled"
    assert str(parsed["X-WR-CALNAME"]) == "Acme\ufffd\ufffd \ufffd[2J · Herald"


def test_feed_text_round_trips_through_an_icalendar_reader():
    text = "Back\\slash; semi, comma\nnew line " + "é€😀" * 40
    feed = render_ics([post(text)], "A; B, C\\D", "UTC", NOW)
    assert "X-WR-CALNAME:A\\; B\\, C\\\\D · Herald".encode() in physical_lines(feed)
    parsed = icalendar.Calendar.from_ical(feed)
    assert str(parsed.walk("VEVENT")[0]["DESCRIPTION"]) == text + "\n\nStatus: scheduled"
