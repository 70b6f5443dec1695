"""Field types shared by every request model: one rule per kind of field.

Every request field of one kind (a name, a multi-line text, a month, a time
zone, an instant...) is checked by the one type here, so the same input gets
the same answer on every route. Each type also documents its rule in the
OpenAPI document (a `pattern` that says what the Python check says).

The rules:
- Text is valid Unicode: no lone surrogate anywhere (`"\\ud800"` is valid JSON,
  but not text that can be stored or sent).
- A single-line text (names, tags, terms, titles, file names) has no control
  character at all (C0, DEL, C1) and no line or paragraph separator; it is
  stripped of surrounding white space and must not be blank. Its length limit
  applies to what was sent.
- A multi-line text (post text, replies) allows line feeds and tabs; a CR LF
  pair is stored as a line feed; a bare CR and every other control character
  are refused.
- Dates and months are ASCII digits only (Python's `\\d` and `int()` also take
  Arabic-Indic and other digits), in the years 2000 to 2100.
- An instant is an RFC 3339 string with its offset (`2026-03-05T10:00:00Z`),
  never a number and never a local time.
- A time zone is a name from the IANA database, bounded in length, without the
  files that are not zones (`localtime`, `posixrules`, `Factory`).
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from typing import Annotated, Any

from annotated_types import GroupedMetadata
from pydantic import AfterValidator, BeforeValidator, Field, WithJsonSchema

MIN_YEAR, MAX_YEAR = 2000, 2100
TIMEZONE_MAX_LENGTH = 64
NOT_ZONES = frozenset({"localtime", "posixrules", "Factory"})

# Explicit classes, not \d or \s: they mean the same to Python and to a JSON Schema (ECMA-262) reader.
_CONTROLS = r"\x00-\x1f\x7f-\x9f\u2028\u2029"
_MULTILINE_CONTROLS = r"\x00-\x08\x0b-\x1f\x7f-\x9f"  # tab and line feed are allowed; CR only before LF
_SPACES = r"\x20\xa0\u1680\u2000-\u200a\u202f\u205f\u3000"  # str.isspace() minus the controls above
SINGLE_LINE_PATTERN = f"^[^{_CONTROLS}]*[^{_CONTROLS}{_SPACES}][^{_CONTROLS}]*$"
MULTILINE_PATTERN = f"^(?:[^{_MULTILINE_CONTROLS}\\r]|\\r\\n)*$"
_YEAR = r"(?:20[0-9]{2}|2100)"
_MONTH = r"(?:0[1-9]|1[0-2])"
_DAY = r"(?:0[1-9]|[12][0-9]|3[01])"
MONTH_PATTERN = f"^{_YEAR}-{_MONTH}$"
QUARTER_PATTERN = f"^{_YEAR}-Q[1-4]$"
DATE_PATTERN = f"^{_YEAR}-{_MONTH}-{_DAY}$"
TIMESTAMP_PATTERN = (f"^{_YEAR}-{_MONTH}-{_DAY}[Tt](?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:\\.[0-9]{{1,9}})?"
                     r"(?:[Zz]|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])$")
TIMEZONE_PATTERN = r"^[A-Za-z0-9_+\-/]+$"


# -- Unicode text ----------------------------------------------------------------------------------


def has_lone_surrogate(text: str) -> bool:
    return any("\ud800" <= char <= "\udfff" for char in text)


def lone_surrogate_at(value: Any, path: tuple[str | int, ...] = ()) -> tuple[str | int, ...] | None:
    """Where, in decoded JSON, a string (a value or a key) holds a lone surrogate; None when nowhere."""
    if isinstance(value, str):
        return path if has_lone_surrogate(value) else None
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(key, str) and has_lone_surrogate(key):
                return path
            found = lone_surrogate_at(item, (*path, key))
            if found is not None:
                return found
    if isinstance(value, list):
        for index, item in enumerate(value):
            found = lone_surrogate_at(item, (*path, index))
            if found is not None:
                return found
    return None


def check_unicode(value: Any) -> Any:
    """A before-validator for any field: refuses lone surrogates at any depth."""
    found = lone_surrogate_at(value)
    if found is not None:
        where = f" (at {'.'.join(str(part) for part in found)})" if found else ""
        raise ValueError(f"is not valid Unicode text: it holds a lone surrogate{where}")
    return value


def _describe(char: str) -> str:
    return f"U+{ord(char):04X}" + (f" {unicodedata.name(char)}" if unicodedata.name(char, "") else "")


def _single_line(value: str) -> str:
    check_unicode(value)
    for position, char in enumerate(value):
        if unicodedata.category(char) in ("Cc", "Zl", "Zp"):
            raise ValueError(f"must be one line of text without control characters; "
                             f"{_describe(char)} at position {position}")
    stripped = value.strip()
    if not stripped:
        raise ValueError("must not be blank")
    return stripped


def _multi_line(value: str) -> str:
    check_unicode(value)
    text = value.replace("\r\n", "\n")
    for position, char in enumerate(text):
        if char not in "\n\t" and unicodedata.category(char) == "Cc":
            what = "a carriage return must be followed by a line feed" if char == "\r" else \
                "no control characters other than line feeds and tabs"
            raise ValueError(f"{what}; {_describe(char)} at position {position}")
    return text


@dataclass(frozen=True)
class SingleLine(GroupedMetadata):
    """One line (a name, a tag, a term, a file name): stripped, not blank, no control characters.

    Used as `Annotated[str, SingleLine(100)]`: the length limit applies to what was sent."""

    max_length: int

    def __iter__(self) -> Iterator[object]:
        yield Field(min_length=1, max_length=self.max_length, json_schema_extra={"pattern": SINGLE_LINE_PATTERN})
        yield AfterValidator(_single_line)


@dataclass(frozen=True)
class MultiLine(GroupedMetadata):
    """Text that may hold line feeds and tabs (a post, a reply); CR LF is stored as LF.

    Used as `Annotated[str, MultiLine(max_length=2000)]`."""

    max_length: int | None = None
    min_length: int = 0

    def __iter__(self) -> Iterator[object]:
        yield Field(min_length=self.min_length, max_length=self.max_length,
                    json_schema_extra={"pattern": MULTILINE_PATTERN})
        yield AfterValidator(_multi_line)


# -- months, quarters, days and instants -------------------------------------------------------------


def _must_be_string(value: Any, shape: str) -> str:
    if not isinstance(value, str):
        raise ValueError(f"must be a string like {shape}")
    return value


def _matching(pattern: str, shape: str, what: str) -> Callable[[Any], str]:
    compiled = re.compile(pattern)

    def check(value: Any) -> str:
        if not compiled.fullmatch(_must_be_string(value, shape)):
            raise ValueError(f"must be {what} written {shape} in ASCII digits, years {MIN_YEAR} to {MAX_YEAR}")
        return str(value)

    return check


def _as_date(value: Any) -> date:
    text = _matching(DATE_PATTERN, "YYYY-MM-DD", "a day")(value)
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{text} is not a day of the calendar") from None


def _as_datetime(value: Any) -> datetime:
    if isinstance(value, datetime) and value.tzinfo is not None:  # already checked (made by our code)
        return value
    text = _matching(TIMESTAMP_PATTERN, "2026-03-05T10:00:00Z (RFC 3339, with Z or an offset)",
                     "a date and time")(value)
    try:
        return datetime.fromisoformat(text.upper())
    except ValueError:
        raise ValueError(f"{text} is not a day of the calendar") from None


Month = Annotated[str, BeforeValidator(_matching(MONTH_PATTERN, "YYYY-MM", "a month")),
                  WithJsonSchema({"type": "string", "pattern": MONTH_PATTERN,
                                  "description": f"YYYY-MM, {MIN_YEAR}-01 to {MAX_YEAR}-12"})]
Quarter = Annotated[str, BeforeValidator(_matching(QUARTER_PATTERN, "YYYY-Qn", "a quarter")),
                    WithJsonSchema({"type": "string", "pattern": QUARTER_PATTERN,
                                    "description": f"YYYY-Qn, {MIN_YEAR}-Q1 to {MAX_YEAR}-Q4"})]
Day = Annotated[date, BeforeValidator(_as_date),
                WithJsonSchema({"type": "string", "format": "date", "pattern": DATE_PATTERN,
                                "description": f"YYYY-MM-DD, years {MIN_YEAR} to {MAX_YEAR}"})]
Timestamp = Annotated[datetime, BeforeValidator(_as_datetime),
                      WithJsonSchema({"type": "string", "format": "date-time", "pattern": TIMESTAMP_PATTERN,
                                      "description": "RFC 3339 with Z or an offset, e.g. 2026-03-05T10:00:00Z; "
                                                     f"years {MIN_YEAR} to {MAX_YEAR}"})]


# -- page sizes --------------------------------------------------------------------------------------


def _ascii_whole_number(value: Any) -> Any:
    """A query's number is ASCII digits only: pydantic alone takes " 50", "5_0", "+50" and "50.0"."""
    if isinstance(value, str) and not re.fullmatch(r"[0-9]{1,9}", value):
        raise ValueError("must be a whole number written in ASCII digits")
    return value


QueryLimit = Annotated[int, Field(ge=1, le=100), BeforeValidator(_ascii_whole_number)]


# -- time zones --------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def known_timezones() -> frozenset[str]:
    """The zone names this machine's IANA database has (read once: it walks the files)."""
    from zoneinfo import available_timezones

    return frozenset(name for name in available_timezones()
                     if name not in NOT_ZONES and not name.startswith(("posix/", "right/")))


def check_timezone(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError("must be an IANA time zone name such as Europe/Paris")
    if len(value) > TIMEZONE_MAX_LENGTH or value not in known_timezones():
        shown = value if len(value) <= TIMEZONE_MAX_LENGTH and value.isprintable() else \
            f"{value[:20].encode('unicode_escape').decode()}... ({len(value)} characters)"
        raise ValueError(f"'{shown}' is not an IANA time zone such as Europe/Paris")
    return value


TimeZoneName = Annotated[str, BeforeValidator(check_timezone),
                         WithJsonSchema({"type": "string", "minLength": 1, "maxLength": TIMEZONE_MAX_LENGTH,
                                         "pattern": TIMEZONE_PATTERN,
                                         "description": "An IANA time zone name, e.g. Europe/Paris"})]
