"""RSS 2.0 and Atom 1.0 documents into items, parsed safely.

Parsed with defusedxml's ElementTree, never the standard library's directly: an entity declaration (the
"billion laughs" expansion), an external entity or an external DTD in a feed someone else controls is refused
(a plain DOCTYPE line, which old RSS feeds carry, is allowed). Herald needs five fields of each item, so a
small reader of the two formats is enough; feedparser would add its HTML sanitiser and sgmllib for none of them.

- RSS 2.0 (RSS Advisory Board, "RSS 2.0 Specification", rssboard.org/rss-specification): `rss/channel/item`
  with `title`, `link`, `guid`, `pubDate` (RFC 822), `description`. An item has a title or a description.
- Atom (RFC 4287): `feed/entry` in the `http://www.w3.org/2005/Atom` namespace with `id` (required, permanent),
  `title`, `link rel="alternate"` (or no rel) `href`, `published` / `updated` (RFC 3339), `summary`.
"""
from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urljoin

ATOM = "{http://www.w3.org/2005/Atom}"
TAGS = re.compile(r"<[^>]*>")
SPACES = re.compile(r"\s+")


class FeedError(ValueError):
    """The document is not an RSS 2.0 or Atom feed Herald can read; the message says why."""


@dataclass(frozen=True)
class FeedItem:
    guid: str | None  # RSS guid or Atom id: what identifies the item for good
    link: str | None
    title: str
    summary: str
    published: datetime | None

    @property
    def identity(self) -> str:
        """What the item is known by: its id, else its link, else its title and date."""
        return self.guid or self.link or f"{self.title}\n{self.published.isoformat() if self.published else ''}"


def parse_feed(data: bytes, base_url: str = "") -> list[FeedItem]:
    """The items in document order. Raises FeedError."""
    from xml.etree.ElementTree import ParseError

    from defusedxml import DefusedXmlException
    from defusedxml.ElementTree import fromstring

    try:
        root = fromstring(data, forbid_dtd=False, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as refused:
        raise FeedError(f"the feed declares entities or external references, which Herald refuses ({refused})")\
            from None
    except ParseError as error:
        raise FeedError(f"the feed is not well-formed XML ({error})") from None
    if root.tag == "rss":
        return _rss_items(root, base_url)
    if root.tag == f"{ATOM}feed":
        return _atom_items(root, base_url)
    raise FeedError(f"the document is not RSS 2.0 or Atom (its root element is <{_local(root.tag)}>)")


def _rss_items(root: Any, base_url: str) -> list[FeedItem]:
    channel = root.find("channel")
    if channel is None:
        raise FeedError("the RSS document has no <channel>")
    items = []
    for item in channel.findall("item"):
        link = _text(item.find("link")) or None
        guid = item.find("guid")
        guid_text = _text(guid) or None
        if guid_text and link is None and (guid.get("isPermaLink") or "true").lower() == "true":
            link = guid_text
        items.append(FeedItem(guid_text, _absolute(link, base_url), _plain(_text(item.find("title"))),
                              _plain(_text(item.find("description"))), _rfc822(_text(item.find("pubDate")))))
    return items


def _atom_items(root: Any, base_url: str) -> list[FeedItem]:
    items = []
    for entry in root.findall(f"{ATOM}entry"):
        published = _text(entry.find(f"{ATOM}published")) or _text(entry.find(f"{ATOM}updated"))
        summary = entry.find(f"{ATOM}summary")
        if summary is None:
            summary = entry.find(f"{ATOM}content")
        items.append(FeedItem(_text(entry.find(f"{ATOM}id")) or None, _absolute(_atom_link(entry), base_url),
                              _plain(_text(entry.find(f"{ATOM}title"))), _plain(_text(summary)),
                              _rfc3339(published)))
    return items


def _atom_link(entry: Any) -> str | None:
    for link in entry.findall(f"{ATOM}link"):
        if (link.get("rel") or "alternate") == "alternate" and link.get("href"):
            return str(link.get("href")).strip()
    return None


def _text(element: Any) -> str:
    return "".join(element.itertext()).strip() if element is not None else ""


def _plain(text: str) -> str:
    """Text for a post: markup (escaped HTML in a description, an Atom html title) taken out."""
    return SPACES.sub(" ", html.unescape(TAGS.sub(" ", text))).strip()


def _absolute(link: str | None, base_url: str) -> str | None:
    return urljoin(base_url, link) if link and base_url else link


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _rfc822(text: str) -> datetime | None:
    try:
        moment = parsedate_to_datetime(text) if text else None
    except (TypeError, ValueError):
        return None
    if moment is None:
        return None
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


def _rfc3339(text: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00")) if text else None
    except ValueError:
        return None
    if moment is None:
        return None
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
