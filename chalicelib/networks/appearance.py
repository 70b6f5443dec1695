"""How a network will show a post, for previews (the composer's, as it types, and the client reviewer's): the
text's length in the network's own units against its limit, the text cut where the network's limit ends, and
the link card it draws for a link in the text."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from chalicelib.networks.registry import limits_for, text_length

UNITS = {
    "characters": "characters",
    "graphemes": "graphemes",
    "utf16": "UTF-16 code units",
    "mastodon": "characters (a link counts 23)",
    "x_weighted": "weighted characters (a link counts 23)",
    "threads": "characters",
}

# Networks that draw a card (the page's title and image) under a post whose text has a link, when the post
# carries no media: Facebook, X, Mastodon, Threads, Telegram and Discord fetch the page themselves. LinkedIn's
# Posts API scrapes no URL (an article card must be sent, and Herald sends none), Bluesky's card is an embed the
# client builds (Herald builds none), the others show no card. The sandbox draws one, as most networks do.
LINK_CARDS = frozenset({"facebook", "x", "mastodon", "threads", "telegram", "discord", "sandbox"})
# A network option that turns the card off (variants[ch].<network>).
NO_CARD_OPTIONS = ("disable_link_preview", "suppress_embeds")
LINK = re.compile(r"https?://[^\s<>\"']+[^\s<>\"'.,;:!?)\]]")


def measure(network: str, text: str, settings: dict[str, Any]) -> dict[str, Any]:
    """`{length, limit, unit, fits}`: the text counted as the network counts it, against its limit."""
    limits = limits_for(network, settings)
    length = text_length(network, text, settings)
    return {
        "length": length,
        "limit": limits.max_text,
        "unit": UNITS.get(limits.text_counting, "characters"),
        "fits": length <= limits.max_text,
    }


def cut(network: str, text: str, settings: dict[str, Any]) -> str:
    """The longest start of `text`, in whole graphemes, that the network's limit takes (all of it when it fits)."""
    limit = limits_for(network, settings).max_text
    if text_length(network, text, settings) <= limit:
        return text
    import regex

    parts = regex.findall(r"\X", text)
    low, high = 0, len(parts)  # parts[:low] fits, parts[:high] does not
    while high - low > 1:
        middle = (low + high) // 2
        if text_length(network, "".join(parts[:middle]), settings) <= limit:
            low = middle
        else:
            high = middle
    return "".join(parts[:low])


def link_card(network: str, text: str, has_media: bool, options: dict[str, Any]) -> dict[str, str] | None:
    """`{url, host}` of the first link, where the network draws a card for it; None where it draws none."""
    if network not in LINK_CARDS or has_media or any(options.get(name) for name in NO_CARD_OPTIONS):
        return None
    found = LINK.search(text)
    if found is None:
        return None
    return {"url": found.group(0), "host": urlsplit(found.group(0)).hostname or ""}


def shown(
    network: str,
    settings: dict[str, Any],
    text: str,
    media: list[dict[str, Any]],
    thread: list[dict[str, Any]],
    first_comment: str | None,
    options: dict[str, Any],
) -> dict[str, Any]:
    """One channel's post as its network shows it: the text (and `shown_text`, cut at the limit) with its
    length, the media the network takes (`accepted` by type; those past its count left out), the link card,
    each thread part's length, the first comment and the network's options."""
    limits = limits_for(network, settings)
    return {
        "network": network,
        "text": text,
        "shown_text": cut(network, text, settings),
        **measure(network, text, settings),
        "media": [
            {**item, "accepted": not item.get("mime") or item["mime"] in limits.media_types}
            for item in media[: limits.max_media]
        ],
        "media_left_out": max(0, len(media) - limits.max_media),
        "link_card": link_card(network, text, bool(media), options),
        "thread": [
            {
                "text": str(part.get("text") or ""),
                "media": list(part.get("media") or []),
                **measure(network, str(part.get("text") or ""), settings),
            }
            for part in thread
        ],
        "first_comment": first_comment,
        "options": options,
    }
