"""Identifiers: a short prefix that says what it is, then a time-ordered random part."""
from __future__ import annotations

import secrets
import time

_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"  # Crockford base32, lower case


def _encode(number: int, length: int) -> str:
    chars = []
    for _ in range(length):
        number, rest = divmod(number, 32)
        chars.append(_ALPHABET[rest])
    return "".join(reversed(chars))


def new_id(prefix: str) -> str:
    """`prefix_` + 10 chars of milliseconds + 12 random chars: sorts by creation time."""
    return f"{prefix}_{_encode(int(time.time() * 1000), 10)}{_encode(secrets.randbits(60), 12)}"
