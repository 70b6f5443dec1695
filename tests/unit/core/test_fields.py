"""The shared field types: each says in its OpenAPI pattern what its Python check does."""
from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Annotated, Any

import pytest
from pydantic import TypeAdapter, ValidationError

from chalicelib.core.fields import (
    DATE_PATTERN,
    MONTH_PATTERN,
    MULTILINE_PATTERN,
    QUARTER_PATTERN,
    SINGLE_LINE_PATTERN,
    TIMESTAMP_PATTERN,
    TIMEZONE_PATTERN,
    Day,
    Month,
    MultiLine,
    Quarter,
    SingleLine,
    Timestamp,
    TimeZoneName,
    known_timezones,
)

SAMPLES = ["Acme", " Acme ", "   ", "", "a\nb", "a\r\nb", "a\rb", "tab\there", "nul\x00", "bell\x07", "esc\x1b",
           "del\x7f", "c1\x85", "nbsp\xa0", "\u3000", "line\u2028sep", "para\u2029sep", "zwj\u200d", "é😀",
           "\u200b", "\ufeff", "trailing\n", "\n", "\t", "ideographic\u3000space"]


def accepts(adapter: TypeAdapter[Any], value: Any) -> bool:
    try:
        adapter.validate_python(value)
    except ValidationError:
        return False
    return True


@pytest.mark.parametrize("text", SAMPLES)
def test_the_single_line_pattern_says_what_the_check_does(text):
    adapter = TypeAdapter(Annotated[str, SingleLine(100)])
    assert accepts(adapter, text) == bool(re.fullmatch(SINGLE_LINE_PATTERN, text)), repr(text)


@pytest.mark.parametrize("text", SAMPLES)
def test_the_multi_line_pattern_says_what_the_check_does(text):
    adapter = TypeAdapter(Annotated[str, MultiLine(100)])
    assert accepts(adapter, text) == bool(re.fullmatch(MULTILINE_PATTERN, text)), repr(text)


def test_single_line_text_is_stripped_and_multi_line_text_keeps_lf_for_crlf():
    assert TypeAdapter(Annotated[str, SingleLine(100)]).validate_python("\u3000 Acme \xa0") == "Acme"
    assert TypeAdapter(Annotated[str, MultiLine()]).validate_python("a\r\nb\n\tc") == "a\nb\n\tc"


def test_every_month_and_quarter_of_the_supported_years_parses_and_nothing_outside():
    months, quarters = TypeAdapter(Month), TypeAdapter(Quarter)
    for year in range(2000, 2101):
        for number in range(1, 13):
            assert months.validate_python(f"{year}-{number:02d}") == f"{year}-{number:02d}"
        for number in range(1, 5):
            assert quarters.validate_python(f"{year}-Q{number}") == f"{year}-Q{number}"
    for value in ("1999-12", "2101-01", "0000-01", "9999-12", "2026-00", "2026-13", "\u0662\u0660\u0662\u0666-03"):
        assert not accepts(months, value) and not re.fullmatch(MONTH_PATTERN, value)
    for value in ("1999-Q4", "2101-Q1", "2026-Q0", "2026-Q5", "2026-Q\u0661"):
        assert not accepts(quarters, value) and not re.fullmatch(QUARTER_PATTERN, value)


def test_days_are_calendar_days_of_the_supported_years():
    days = TypeAdapter(Day)
    assert days.validate_python("2000-01-01") == date(2000, 1, 1)
    assert days.validate_python("2100-12-31") == date(2100, 12, 31)
    assert days.validate_python("2024-02-29") == date(2024, 2, 29)
    for value in ("2100-02-29", "2026-02-30", "2026-04-31", "1999-12-31", "2101-01-01", "2026-03-01T00:00:00",
                  "0", "20260301", 20260301):
        assert not accepts(days, value), value
    assert re.fullmatch(DATE_PATTERN, "2026-02-30")  # the pattern is the shape; the check also knows the calendar


def test_instants_are_rfc3339_strings_with_their_offset():
    instants = TypeAdapter(Timestamp)
    assert instants.validate_python("2026-03-05T10:00:00Z") == datetime(2026, 3, 5, 10, tzinfo=UTC)
    assert instants.validate_python("2026-03-05t11:00:00.5+01:00") == datetime(2026, 3, 5, 10, 0, 0, 500000,
                                                                                tzinfo=UTC)
    for value in (1_900_000_000, "1900000000", 1.5, True, None, "2026-03-05T10:00:00", "2026-03-05",
                  "2026-03-05 10:00:00Z", "2026-03-05T10:00Z", "2026-03-05T24:00:00Z", "2026-02-30T10:00:00Z",
                  "9999-12-31T23:59:59Z", "0001-01-01T00:00:00Z", "2026-03-05T10:00:00+1:00"):
        assert not accepts(instants, value), value
        assert not isinstance(value, str) or not re.fullmatch(TIMESTAMP_PATTERN, value) \
            or value == "2026-02-30T10:00:00Z"


def test_every_known_zone_fits_the_documented_shape_and_the_non_zones_are_out():
    zones = known_timezones()
    assert {"Europe/Paris", "UTC", "America/Argentina/ComodRivadavia", "Etc/GMT+5"} <= zones
    assert not zones & {"localtime", "posixrules", "Factory"}
    assert all(re.fullmatch(TIMEZONE_PATTERN, zone) and len(zone) <= 64 for zone in zones)
    adapter = TypeAdapter(TimeZoneName)
    for value in ("localtime", "posixrules", "Factory", "A" * 10_000, "europe/paris", "../etc/passwd", 2, ""):
        assert not accepts(adapter, value), value
