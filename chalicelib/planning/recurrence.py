"""RFC 5545 recurrence rules (RRULE) read with python-dateutil, on the workspace's wall clock.

The rule runs on local, naive date-times from DTSTART (the post's publish_at in the workspace's time zone),
so "every Monday at 09:00" stays 09:00 across daylight-saving changes; each occurrence is then turned into
an instant as queue slots are (slots.py: a time in a spring-forward gap moves on by the gap, a time in a
fall-back overlap is its first, once).

One deviation from RFC 5545 §3.8.5.3, as dateutil does: DTSTART is an occurrence only when the rule
matches it ("first working day of the month" from a Wednesday the 10th starts on the next month's).
"""
from __future__ import annotations

import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from chalicelib.core.errors import ValidationFailed
from chalicelib.planning.slots import wall_clock_instant

FREQUENCIES = ("YEARLY", "MONTHLY", "WEEKLY", "DAILY")
_UNTIL_UTC = re.compile(r"UNTIL=(\d{8}T\d{6})Z", re.IGNORECASE)
FIELD = "recurrence"


def _part(rule: str, name: str) -> str | None:
    for piece in rule.split(";"):
        key, _, value = piece.partition("=")
        if key.strip().upper() == name:
            return value.strip().upper()
    return None


def normalise(text: str) -> str:
    """The rule's text without an `RRULE:` prefix; refuses what Herald does not take."""
    rule = text.strip()
    if rule.upper().startswith("RRULE:"):
        rule = rule[len("RRULE:"):]
    if not rule or "\n" in rule or "DTSTART" in rule.upper():
        raise ValidationFailed.field(FIELD, "give one RRULE line (DTSTART comes from publish_at)")
    frequency = _part(rule, "FREQ")
    if frequency not in FREQUENCIES:
        raise ValidationFailed.field(FIELD, f"FREQ must be one of {', '.join(FREQUENCIES)} (posts at most daily)")
    return rule


def _local_until(rule: str, zone: ZoneInfo) -> str:
    """UNTIL given in UTC (`...Z`, as RFC 5545 wants with a zoned DTSTART) as the local wall clock the rule
    runs on (dateutil refuses a zoned UNTIL with a naive DTSTART)."""
    def local(match: re.Match[str]) -> str:
        moment = datetime.strptime(match.group(1), "%Y%m%dT%H%M%S").replace(tzinfo=UTC).astimezone(zone)
        return "UNTIL=" + moment.strftime("%Y%m%dT%H%M%S")

    return _UNTIL_UTC.sub(local, rule)


class Recurrence:
    def __init__(self, text: str, dtstart: datetime, zone: ZoneInfo) -> None:
        from dateutil.rrule import rrulestr  # loaded when a rule is read: not at a handler's cold start

        self.text = normalise(text)
        self.zone = zone
        self.dtstart = dtstart.replace(second=0, microsecond=0, tzinfo=None)
        try:
            self.rule = rrulestr(_local_until(self.text, zone), dtstart=self.dtstart)
        except (ValueError, TypeError) as exc:
            raise ValidationFailed.field(FIELD, f"is not a valid RRULE ({exc})") from exc

    @staticmethod
    def key(local: datetime) -> str:
        """The occurrence's key: its local wall-clock start, which a series edit or a second run finds again."""
        return local.strftime("%Y%m%dT%H%M")

    def instant(self, local: datetime) -> datetime:
        return wall_clock_instant(local.date(), local.time(), self.zone)

    def between(self, start: datetime, end: datetime) -> list[tuple[str, datetime]]:
        """The occurrences after the instant `start` up to `end`, as (key, UTC instant)."""
        low = start.astimezone(self.zone).replace(tzinfo=None)
        high = end.astimezone(self.zone).replace(tzinfo=None)
        found = [(self.key(local), self.instant(local)) for local in self.rule.between(low, high, inc=True)]
        return [(key, at) for key, at in found if start < at <= end]

    def next_after(self, start: datetime) -> tuple[str, datetime] | None:
        local = self.rule.after(start.astimezone(self.zone).replace(tzinfo=None))
        while local is not None and self.instant(local) <= start:
            local = self.rule.after(local)
        return (self.key(local), self.instant(local)) if local is not None else None
