"""Counting text the way each network counts it."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any


def characters(text: str, _settings: dict[str, Any]) -> int:
    return len(text)


def graphemes(text: str, _settings: dict[str, Any]) -> int:
    # `regex` implements Unicode extended grapheme clusters (\X), which is how
    # Bluesky counts: an emoji with skin tone or a flag is one.
    import regex

    return len(regex.findall(r"\X", text))


def utf16(text: str, _settings: dict[str, Any]) -> int:
    return len(text.encode("utf-16-le")) // 2


def mastodon(text: str, settings: dict[str, Any]) -> int:
    from chalicelib.networks.mastodon import count_text

    return count_text(text, int(settings.get("characters_reserved_per_url", 23)))


def x_weighted(text: str, _settings: dict[str, Any]) -> int:
    from chalicelib.networks.tweet_length import weighted_length

    return weighted_length(text)


def threads(text: str, _settings: dict[str, Any]) -> int:
    from chalicelib.networks.threads import count_text

    return count_text(text)


COUNTERS: dict[str, Callable[[str, dict[str, Any]], int]] = {
    "characters": characters,
    "graphemes": graphemes,
    "utf16": utf16,
    "mastodon": mastodon,
    "x_weighted": x_weighted,
    "threads": threads,
}
