from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from chalicelib.core.ids import new_id

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def test_ids_sort_by_the_time_they_were_made():
    steps = [timedelta(0), timedelta(milliseconds=1), timedelta(milliseconds=31), timedelta(milliseconds=32),
             timedelta(seconds=1), timedelta(days=1), timedelta(days=3650)]
    made = [new_id("pst", START + step) for step in steps]
    assert sorted(made) == made
    assert len(set(made)) == len(made)


def test_ids_sort_the_same_before_and_after_a_digit_rolls_over():
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    rollover = epoch + timedelta(milliseconds=32 ** 8)  # the time part rolls over to 0100000000
    before, after = new_id("pst", rollover - timedelta(milliseconds=1)), new_id("pst", rollover)
    assert (before[4:14], after[4:14]) == ("00zzzzzzzz", "0100000000")
    assert before < after


def test_ids_made_at_the_same_instant_are_still_unique():
    assert len({new_id("ch", START) for _ in range(2000)}) == 2000


def test_an_id_is_its_prefix_and_22_lowercase_characters():
    made = new_id("ws", START)
    assert re.fullmatch(r"ws_[0-9a-hjkmnp-tv-z]{22}", made)
    assert new_id("ws", START)[:13] == made[:13]  # the time part


def test_without_a_time_the_id_is_made_now():
    before = new_id("x", datetime.now(UTC) - timedelta(seconds=1))
    assert before < new_id("x") < new_id("x", datetime.now(UTC) + timedelta(seconds=1))
