"""The content calendar: a month of posts in the workspace's time zone, and the
same posts as an iCalendar feed a calendar app can subscribe to."""
from __future__ import annotations

import calendar as cal
import unicodedata
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from chalicelib.core.clock import Clock

if TYPE_CHECKING:
    from chalicelib.publishing.post_repository import PostRepository, PostRow

PREVIEW_CHARS = 80
FEED_PAST = timedelta(days=90)
FEED_FUTURE = timedelta(days=400)
EVENT_LENGTH = timedelta(minutes=15)


def month_bounds(month: str, zone: ZoneInfo) -> tuple[datetime, datetime, list[date]]:
    """The UTC instants where a local month starts and ends, and its days.
    Local midnight is turned into UTC per day boundary, so a month that crosses
    a daylight-saving change keeps the right hours."""
    year, number = (int(part) for part in month.split("-"))
    days = [date(year, number, d) for d in range(1, cal.monthrange(year, number)[1] + 1)]
    next_first = date(year + (number == 12), number % 12 + 1, 1)
    start = datetime(year, number, 1, tzinfo=zone).astimezone(UTC)
    end = datetime(next_first.year, next_first.month, 1, tzinfo=zone).astimezone(UTC)
    return start, end, days


def preview(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= PREVIEW_CHARS else flat[:PREVIEW_CHARS - 1] + "…"


class CalendarService:
    def __init__(self, posts: PostRepository, clock: Clock) -> None:
        self.posts = posts
        self.clock = clock

    def month(self, workspace_id: str, month: str, tz_name: str) -> list[tuple[date, list[PostRow]]]:
        zone = ZoneInfo(tz_name)
        start, end, days = month_bounds(month, zone)
        by_day: dict[date, list[PostRow]] = {day: [] for day in days}
        for post in self.posts.posts_between(workspace_id, start, end - timedelta(milliseconds=1)):
            if post.publish_at is None or post.status == "canceled":
                continue
            local_day = post.publish_at.astimezone(zone).date()
            if local_day in by_day:
                by_day[local_day].append(post)
        return list(by_day.items())

    def feed(self, workspace_id: str, workspace_name: str, tz_name: str) -> str:
        now = self.clock.now()
        posts = [p for p in self.posts.posts_between(workspace_id, now - FEED_PAST, now + FEED_FUTURE)
                 if p.publish_at is not None and p.status != "canceled"]
        return render_ics(posts, workspace_name, tz_name, now)


_LINE_BREAKS = str.maketrans({"\r": "\n", "\u2028": "\n", "\u2029": "\n", "\t": " "})


def _printable(char: str) -> str:
    """RFC 5545 §3.3.11: TEXT has no control characters. Data stored before the API refused them
    (or arriving some other way) is shown with a replacement character, never written raw."""
    if char == "\n":
        return char
    return "\ufffd" if unicodedata.category(char) in ("Cc", "Cs") else char


def _escape(text: str) -> str:
    """A TEXT value (RFC 5545 §3.3.11): backslash, semicolon, comma and line breaks escaped."""
    plain = "".join(_printable(char) for char in text.replace("\r\n", "\n").translate(_LINE_BREAKS))
    return (plain.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
            .replace("\n", "\\n"))


def _fold(line: str) -> str:
    """RFC 5545 §3.1: lines longer than 75 octets are folded (CRLF + space)."""
    out: list[str] = []
    current = b""
    for char in line:
        encoded = char.encode()
        limit = 75 if not out else 74
        if len(current) + len(encoded) > limit:
            out.append(current.decode())
            current = b""
        current += encoded
    out.append(current.decode())
    return "\r\n ".join(out)


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _categories(post: PostRow) -> str:
    """The status, and QUEUED / RECURRING for a post in a queue or a series (chalicelib/planning/)."""
    names = [post.status.upper()] + (["QUEUED"] if post.plan.get("queue") else []) + (
        ["RECURRING"] if post.plan.get("series_id") else [])
    return ",".join(names)


def render_ics(posts: list[PostRow], calendar_name: str, tz_name: str, now: datetime) -> str:
    lines = [
        "BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Herald//Content calendar//EN", "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH", f"X-WR-CALNAME:{_escape(calendar_name + ' · Herald')}", f"X-WR-TIMEZONE:{_escape(tz_name)}",
    ]
    for post in posts:
        assert post.publish_at is not None
        lines += [
            "BEGIN:VEVENT",
            f"UID:{post.post_id}@herald",
            f"DTSTAMP:{_stamp(now)}",
            f"LAST-MODIFIED:{_stamp(post.updated_at)}",
            f"SEQUENCE:{post.version}",
            f"DTSTART:{_stamp(post.publish_at)}",
            f"DTEND:{_stamp(post.publish_at + EVENT_LENGTH)}",
            f"SUMMARY:{_escape(preview(post.text) or '(media post)')}",
            f"DESCRIPTION:{_escape(post.text + chr(10) + chr(10) + 'Status: ' + post.status)}",
            f"CATEGORIES:{_categories(post)}",
            "STATUS:" + ("TENTATIVE" if post.status == "draft" else "CONFIRMED"),
            "TRANSP:TRANSPARENT",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return "\r\n".join(_fold(line) for line in lines) + "\r\n"
