"""A channel's posting schedule as instants: weekly wall-clock slots in the workspace's time zone.

Daylight saving time, decided once here (tests/unit/planning/test_slots.py):
- A slot inside a spring-forward gap (02:30 in New York on the second Sunday of March, 01:30 in London on
  the last Sunday of March) does not exist on the wall clock that day. It is taken at the same elapsed
  instant the time would have had before the change, which the clock shows one hour later (03:30 EDT,
  02:30 BST): the post still goes out that day, never skipped. Two slots that land on one instant that day
  (02:30 and 03:30) are one slot.
- A slot inside a fall-back overlap (01:30 in New York on the first Sunday of November) exists twice on the
  wall clock; the slot is the first of them (summer time, `fold=0`), once, never twice.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
# How far ahead a queue looks for a free slot: a year of one slot a week has 52.
LOOK_AHEAD_DAYS = 400


@dataclass(frozen=True, order=True)
class Slot:
    weekday: int  # 0 = Monday, as date.weekday()
    at: time

    @property
    def label(self) -> dict[str, str]:
        return {"weekday": WEEKDAYS[self.weekday], "time": self.at.strftime("%H:%M")}


def wall_clock_instant(day: date, at: time, zone: ZoneInfo) -> datetime:
    """The UTC instant of a local wall-clock time (the rules above: gap forward, overlap first)."""
    return datetime.combine(day, at, tzinfo=zone).replace(fold=0).astimezone(UTC)


def day_instants(day: date, slots: Iterable[Slot], zone: ZoneInfo) -> list[datetime]:
    """The day's slots as instants, in time order, each instant once."""
    return sorted({wall_clock_instant(day, slot.at, zone) for slot in slots if slot.weekday == day.weekday()})


def upcoming(slots: Iterable[Slot], zone: ZoneInfo, after: datetime,
             days: int = LOOK_AHEAD_DAYS) -> Iterator[datetime]:
    """Every slot instant strictly after `after`, in order, for `days` local days."""
    chosen = sorted(set(slots))
    if not chosen:
        return
    first = after.astimezone(zone).date()
    for offset in range(days + 1):
        for instant in day_instants(first + timedelta(days=offset), chosen, zone):
            if instant > after:
                yield instant


def first_n(slots: Iterable[Slot], zone: ZoneInfo, after: datetime, count: int) -> list[datetime]:
    """The first `count` slot instants after `after` (fewer only if the schedule is empty)."""
    out: list[datetime] = []
    for instant in upcoming(slots, zone, after):
        if len(out) == count:
            break
        out.append(instant)
    return out


def next_free(slots: Iterable[Slot], zone: ZoneInfo, after: datetime, taken: set[datetime]) -> datetime | None:
    return next((instant for instant in upcoming(slots, zone, after) if instant not in taken), None)


def parse_wall_clock(text: str) -> time:
    hour, minute = text.split(":")
    return time(int(hour), int(minute))
