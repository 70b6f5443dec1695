"""Queue slots as instants across daylight-saving changes (the rules in chalicelib/planning/slots.py)."""
from __future__ import annotations

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

from chalicelib.planning.slots import Slot, first_n

SUNDAY, MONDAY = 6, 0


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def test_a_slot_in_new_yorks_spring_forward_gap_goes_out_an_hour_later_on_the_clock_that_day():
    zone = ZoneInfo("America/New_York")  # 2026-03-08 02:00 EST -> 03:00 EDT
    slots = [Slot(SUNDAY, time(2, 30))]
    assert first_n(slots, zone, utc(2026, 3, 1, 12), 3) == [
        utc(2026, 3, 8, 7, 30),   # 03:30 EDT: the instant 02:30 EST would have been
        utc(2026, 3, 15, 6, 30),  # 02:30 EDT again the week after
        utc(2026, 3, 22, 6, 30)]


def test_two_slots_that_meet_in_the_gap_are_one_slot_that_day():
    zone = ZoneInfo("America/New_York")
    slots = [Slot(SUNDAY, time(2, 30)), Slot(SUNDAY, time(3, 30))]
    assert first_n(slots, zone, utc(2026, 3, 7), 3) == [utc(2026, 3, 8, 7, 30), utc(2026, 3, 15, 6, 30),
                                                        utc(2026, 3, 15, 7, 30)]


def test_a_slot_in_new_yorks_fall_back_overlap_is_taken_once_at_the_first_of_the_two():
    zone = ZoneInfo("America/New_York")  # 2026-11-01 02:00 EDT -> 01:00 EST: 01:30 happens twice
    slots = [Slot(SUNDAY, time(1, 30))]
    assert first_n(slots, zone, utc(2026, 10, 31), 2) == [utc(2026, 11, 1, 5, 30), utc(2026, 11, 8, 6, 30)]


def test_london_gap_and_overlap():
    zone = ZoneInfo("Europe/London")  # 2026-03-29 01:00 GMT -> 02:00 BST; 2026-10-25 02:00 BST -> 01:00 GMT
    slots = [Slot(SUNDAY, time(1, 30))]
    assert first_n(slots, zone, utc(2026, 3, 28), 2) == [utc(2026, 3, 29, 1, 30), utc(2026, 4, 5, 0, 30)]
    assert first_n(slots, zone, utc(2026, 10, 24), 2) == [utc(2026, 10, 25, 0, 30), utc(2026, 11, 1, 1, 30)]


def test_istanbul_has_no_daylight_saving_so_a_slot_is_the_same_utc_hour_all_year():
    zone = ZoneInfo("Europe/Istanbul")
    slots = [Slot(MONDAY, time(9, 0))]
    march = first_n(slots, zone, utc(2026, 3, 20), 2)
    november = first_n(slots, zone, utc(2026, 10, 20), 2)
    assert {moment.hour for moment in march + november} == {6}
