"""Identifiers: a short prefix that says what it is, then a time-ordered random part."""
from __future__ import annotations

import secrets
import time
from datetime import UTC, datetime, timedelta

_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"  # Crockford base32, lower case
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _encode(number: int, length: int) -> str:
    chars = []
    for _ in range(length):
        number, rest = divmod(number, 32)
        chars.append(_ALPHABET[rest])
    return "".join(reversed(chars))


def new_id(prefix: str, now: datetime | None = None) -> str:
    """`prefix_` + 10 chars of milliseconds + 12 random chars: sorts by creation time."""
    millis = (now - _EPOCH) // timedelta(milliseconds=1) if now else int(time.time() * 1000)
    return f"{prefix}_{_encode(millis, 10)}{_encode(secrets.randbits(60), 12)}"
