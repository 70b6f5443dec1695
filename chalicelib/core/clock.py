"""Time comes from a clock object so that tests can inject one."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Protocol, overload
from zoneinfo import ZoneInfo


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock:
    """A clock that only moves when told to."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("FixedClock needs an aware datetime")
        self._now = start.astimezone(UTC)

    def now(self) -> datetime:
        return self._now

    def set(self, moment: datetime) -> None:
        self._now = moment.astimezone(UTC)

    def advance(self, seconds: float = 0, **kwargs: float) -> datetime:
        self._now += timedelta(seconds=seconds, **kwargs)
        return self._now


@overload
def to_rfc3339(moment: datetime) -> str: ...
@overload
def to_rfc3339(moment: None) -> None: ...
@overload
def to_rfc3339(moment: datetime | None) -> str | None: ...
def to_rfc3339(moment: datetime | None) -> str | None:
    """UTC with a trailing Z, milliseconds only when they are not zero."""
    if moment is None:
        return None
    moment = moment.astimezone(UTC)
    if moment.microsecond:
        return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_rfc3339(text: str) -> datetime:
    """Parse an RFC 3339 time; a time without an offset is refused."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError("time needs an offset such as Z or +02:00")
    return moment.astimezone(UTC)


def local_day(moment: datetime, timezone: str) -> date:
    """The calendar day `moment` falls on in an IANA time zone."""
    return moment.astimezone(ZoneInfo(timezone)).date()
