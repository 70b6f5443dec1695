"""Short links: made when a post is saved, followed and counted on every click, and the conversions that
the sites report back.

Cost of a counted click: one GetItem of the link (none once this process has read it), and two writes: the
visitor's conditional put (a repeated visitor's put fails its condition and is still billed) and one
UpdateItem of the link's day counter in the metrics table. A bot's click and a HEAD cost the read only.
"""
from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from chalicelib.accounts.channel_repository import ChannelRow
from chalicelib.core.clock import Clock, local_day, parse_rfc3339, to_rfc3339
from chalicelib.core.errors import NotFound, ValidationFailed
from chalicelib.core.ids import new_id
from chalicelib.links.bots import is_bot
from chalicelib.links.click_ids import click_id, read_click_id, visitor_hash
from chalicelib.links.link_repository import LinkRepository, LinkRow, conversion_key
from chalicelib.links.settings import LinkSettings, link_settings, shortens
from chalicelib.links.tables import ConversionRecord
from chalicelib.links.utm import redirect_target
from chalicelib.metrics.metric_repository import MetricsRepository
from chalicelib.publishing.post_repository import PostRow
from chalicelib.publishing.short_text import find_urls

log = logging.getLogger("herald.links")

CODE_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
# 62^8 ≈ 2.2e14 codes: guessing one that exists takes billions of tries per million links.
CODE_LENGTH = 8
MAX_LINKS_PER_CHANNEL = 20
FUTURE_TOLERANCE = timedelta(minutes=5)


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


@dataclass(frozen=True)
class Redirect:
    location: str
    counted: bool


@dataclass(frozen=True)
class ConversionInput:
    value: float
    currency: str | None
    occurred_at: datetime | None
    conversion_id: str | None


class LinkService:
    def __init__(self, links: LinkRepository, metrics: MetricsRepository,
                 workspace_links: Callable[[str], dict[str, Any] | None], timezones: Callable[[str], str],
                 clock: Clock, secret: bytes, base_url: str) -> None:
        self.links = links
        self.metrics = metrics
        # The workspace's stored `links` settings (None: the defaults).
        self.workspace_links = workspace_links
        self.timezones = timezones
        self.clock = clock
        self.secret = secret
        self.base_url = base_url.rstrip("/")

    # -- making links -----------------------------------------------------------

    def short_url(self, code: str) -> str:
        return f"{self.base_url}/l/{code}"

    def short_links(self, post: PostRow, channels: dict[str, ChannelRow],
                    previous: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
        """Each channel its own links (its clicks are its own); a link shortened before for the channel keeps
        its code, so an edit does not break what was already shared."""
        settings = link_settings(self.workspace_links(post.workspace_id))
        out: dict[str, dict[str, str]] = {}
        for channel_id, channel in channels.items():
            if not shortens(settings, channel_id):
                continue
            urls = [u for u in find_urls(post.text_for(channel_id)) if not u.startswith(self.base_url + "/l/")]
            known = previous.get(channel_id) or {}
            out[channel_id] = {url: known.get(url) or self._make(post, channel, url, settings)
                               for url in urls[:MAX_LINKS_PER_CHANNEL]}
        return out

    def _make(self, post: PostRow, channel: ChannelRow, url: str, settings: LinkSettings) -> str:
        now = self.clock.now()
        for _attempt in range(5):
            code = new_code()
            row = LinkRow(code, post.workspace_id, post.post_id, channel.channel_id, channel.network, url,
                          settings.utm_campaign or post.post_id, to_rfc3339(post.publish_at or now),
                          to_rfc3339(now))
            if self.links.create(row):
                return self.short_url(code)
        raise RuntimeError("no free short-link code after 5 tries")

    # -- clicks -------------------------------------------------------------------

    def follow(self, code: str, *, ip: str, user_agent: str, counting: bool = True) -> Redirect:
        """Where the link leads; the click is counted unless it is a HEAD (`counting` False) or a bot."""
        link = self.links.get(code)
        if link is None:
            raise NotFound(f"No short link {code}.")
        now = self.clock.now()
        location = redirect_target(link.target, network=link.network, campaign=link.campaign,
                                   post_id=link.post_id, click_id=click_id(self.secret, code, now))
        if not counting or is_bot(user_agent):
            return Redirect(location, counted=False)
        try:
            self._count_click(link, ip, user_agent, now)
        except Exception:  # the visitor is sent on all the same
            log.exception("Could not count a click on %s", code)
            return Redirect(location, counted=False)
        return Redirect(location, counted=True)

    def _count_click(self, link: LinkRow, ip: str, user_agent: str, now: datetime) -> None:
        timezone = self.timezones(link.workspace_id)
        day = local_day(now, timezone)
        day_end = datetime.combine(day + timedelta(days=1), time(), ZoneInfo(timezone))
        first = self.links.first_visit(visitor_hash(self.secret, day, link.code, ip, user_agent),
                                       day_end + timedelta(hours=1))
        self.metrics.add_traffic(link.workspace_id, link.channel_id, day, link.code, link.post_id,
                                 {"clicks": 1, "unique_visitors": 1 if first else 0})

    # -- conversions ----------------------------------------------------------------

    def convert(self, workspace_id: str, *, click: str | None, code: str | None,
                given: ConversionInput) -> tuple[dict[str, Any], bool]:
        """(the conversion, whether it is new). Another workspace's link is a 404."""
        clicked_at = None
        if click is not None:
            read = read_click_id(self.secret, click)
            if read is None:
                raise ValidationFailed.field("click_id", "is not a click id Herald issued")
            code, clicked_at = read
        assert code is not None
        link = self.links.get(code)
        if link is None or link.workspace_id != workspace_id:
            raise NotFound(f"No short link {code} in this workspace.")
        return self._record(link, clicked_at, given)

    def pixel(self, code: str, *, query: dict[str, str], user_agent: str) -> str:
        """What the pixel did, for its `X-Herald-Conversion` header: recorded, duplicate or ignored (why)."""
        link = self.links.get(code)
        if link is None:
            return "ignored: no such link"
        if is_bot(user_agent):
            return "ignored: not a browser"
        clicked_at, conversion_id = None, None
        if query.get("cid"):
            read = read_click_id(self.secret, query["cid"])
            if read is None or read[0] != code:
                return "ignored: cid is not a click on this link"
            clicked_at, conversion_id = read[1], "px-" + query["cid"].rsplit(".", 1)[-1]
        try:
            value = float(query.get("value") or 0)
            given = ConversionInput(value, query.get("currency") or None, None, conversion_id)
            _conversion, new = self._record(link, clicked_at, given)
        except (ValueError, ValidationFailed) as error:
            return f"ignored: {getattr(error, 'message', None) or error}"
        return "recorded" if new else "duplicate"

    def _record(self, link: LinkRow, clicked_at: datetime | None,
                given: ConversionInput) -> tuple[dict[str, Any], bool]:
        settings = link_settings(self.workspace_links(link.workspace_id))
        now = self.clock.now()
        currency = given.currency or settings.currency
        if currency != settings.currency:
            raise ValidationFailed.field("currency", f"must be the workspace's currency, {settings.currency}")
        if not 0 <= given.value <= 1e9:
            raise ValidationFailed.field("value", "must be a number from 0 to 1000000000")
        occurred_at = given.occurred_at or now
        if occurred_at > now + FUTURE_TOLERANCE:
            raise ValidationFailed.field("occurred_at", "is in the future")
        opens, closes = _window(link, clicked_at, timedelta(days=settings.attribution_window_days))
        attributed = opens <= occurred_at <= closes
        day = local_day(occurred_at, self.timezones(link.workspace_id))
        conversion_id = given.conversion_id or new_id("cnv", now)
        record = ConversionRecord(
            conversion_key(link.workspace_id, conversion_id), workspace_id=link.workspace_id,
            conversion_id=conversion_id, code=link.code, post_id=link.post_id if attributed else None,
            channel_id=link.channel_id if attributed else None, attributed="yes" if attributed else "no",
            value=given.value, currency=currency, occurred_at=to_rfc3339(occurred_at), day=day.isoformat(),
            recorded_at=to_rfc3339(now))
        increments = {"conversions": 1, "conversion_value": given.value}

        def count(transaction: Any) -> None:
            if attributed:
                self.metrics.add_traffic(link.workspace_id, link.channel_id, day, link.code, link.post_id,
                                         increments, transaction=transaction)
            else:
                self.metrics.add_traffic(link.workspace_id, None, day, None, None, increments,
                                         transaction=transaction)

        if self.links.record_conversion(record, count):
            return conversion_view(record), True
        stored = self.links.conversion(link.workspace_id, conversion_id)
        return conversion_view(stored or record), False


def _window(link: LinkRow, clicked_at: datetime | None, length: timedelta) -> tuple[datetime, datetime]:
    """After a click, the window; with the link's code alone (no click known), from when the link was made
    until the window after the post's publication."""
    if clicked_at is not None:
        return clicked_at, clicked_at + length
    made = parse_rfc3339(link.created_at)
    return made, max(made, parse_rfc3339(link.starts_at)) + length


def conversion_view(record: ConversionRecord) -> dict[str, Any]:
    return {"id": record.conversion_id, "link_code": record.code, "post_id": record.post_id,
            "channel_id": record.channel_id, "attributed": record.attributed == "yes",
            "value": float(record.value), "currency": record.currency, "occurred_at": record.occurred_at,
            "day": record.day}
