"""The links in a post's text, and the text with each replaced by its channel's short link.

Pure string work: the links feature (chalicelib/links/) finds the links to shorten with `find_urls` when a post
is saved, and the delivery keeps `{url: short url}`; what the channel publishes is `with_short_links(text, ...)`.
"""
from __future__ import annotations

import re
from collections.abc import Mapping

URL = re.compile(r"https?://[^\s<>\"'`]+", re.IGNORECASE)
# Punctuation that ends a sentence rather than the link ("see https://acme.example/sale.").
TRAILING = ".,;:!?)]}'\""


def _split(found: str) -> tuple[str, str]:
    url = found.rstrip(TRAILING)
    return url, found[len(url):]


def find_urls(text: str) -> list[str]:
    """Each link once, in the order the text has them."""
    urls = []
    for match in URL.finditer(text):
        url, _tail = _split(match.group(0))
        if "." in url.split("//", 1)[1].split("/", 1)[0] and url not in urls:
            urls.append(url)
    return urls


def with_short_links(text: str, short_links: Mapping[str, str] | None) -> str:
    if not short_links:
        return text

    def replace(match: re.Match[str]) -> str:
        url, tail = _split(match.group(0))
        return short_links.get(url, url) + tail

    return URL.sub(replace, text)
