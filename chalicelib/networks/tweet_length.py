"""The length X counts for a post, after twitter-text's v3 configuration.

Code points in the ranges below weigh 1, every other code point weighs 2, a
URL weighs 23 whatever its length, and an emoji (a whole sequence such as a
family or a flag) weighs 2. Text is NFC-normalised first, as X does.
"""

from __future__ import annotations

import re
import unicodedata

import regex

MAX_WEIGHTED_LENGTH = 280
URL_WEIGHT = 23
# twitter-text config/v3.json "ranges" of weight 1 (scale 100, defaultWeight 200).
LIGHT_RANGES = ((0x0000, 0x10FF), (0x2000, 0x200D), (0x2010, 0x201F), (0x2032, 0x2037))

# Top-level domains a bare link is most often written with; twitter-text knows all of them.
_COMMON_TLDS = (
    "com|net|org|edu|gov|info|biz|io|co|ai|app|dev|me|tv|ly|gl|gg|xyz|online|site|shop|blog|news|"
    "uk|de|fr|es|it|nl|be|ch|at|se|no|dk|fi|pl|pt|ie|us|ca|au|nz|jp|cn|kr|in|br|mx|ru|eu|asia"
)
_URL = re.compile(
    r"(?:(?<![\w@])https?://[^\s]+)"
    r"|(?:(?<![\w@.])www\.[^\s]+)"
    rf"|(?:(?<![\w@./-])(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+(?:{_COMMON_TLDS})(?![\w-])(?:/[^\s]*)?)",
    re.IGNORECASE,
)
_TRAILING_PUNCTUATION = ".,;:!?'\")]}"


def weighted_length(text: str) -> int:
    text = unicodedata.normalize("NFC", text)
    total = 0
    position = 0
    for match in _URL.finditer(text):
        url = match.group(0).rstrip(_TRAILING_PUNCTUATION)
        if "." not in url.split("//", 1)[-1]:
            continue
        total += _plain_weight(text[position : match.start()]) + URL_WEIGHT
        position = match.start() + len(url)
    return total + _plain_weight(text[position:])


def fits(text: str) -> bool:
    return weighted_length(text) <= MAX_WEIGHTED_LENGTH


def _plain_weight(text: str) -> int:
    weight = 0
    for cluster in regex.findall(r"\X", text):
        if _is_emoji(cluster):
            weight += 2
        else:
            weight += sum(1 if _is_light(ord(char)) else 2 for char in cluster)
    return weight


def _is_light(code_point: int) -> bool:
    return any(start <= code_point <= end for start, end in LIGHT_RANGES)


def _is_emoji(cluster: str) -> bool:
    first = ord(cluster[0])
    if 0x1F000 <= first <= 0x1FAFF:
        return True  # pictographs, emoticons, flags (regional indicators), transport...
    if len(cluster) > 1 and ("\ufe0f" in cluster or "\u20e3" in cluster or "\u200d" in cluster):
        return True  # ❤️, keycaps such as 1️⃣, joined sequences
    return 0x2600 <= first <= 0x27BF or 0x2B00 <= first <= 0x2BFF
