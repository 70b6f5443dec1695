"""Click ids and unique visitors, without personal data.

- A click id (`hcid`) is the link's code and the click's second, signed: the site sends it back with a
  conversion, and Herald learns from it which link was clicked and when, with nothing stored per click.
- A visitor is an HMAC of (code, ip, user agent) under that local day's salt; the salt is an HMAC of the
  secret and the day, computed when needed and never stored, so a marker cannot be tied back to an address
  by anyone without the secret, and the markers of two days cannot be tied to each other.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, date, datetime

SIGNATURE_BYTES = 12


def _b36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        number, rest = divmod(number, 36)
        out = digits[rest] + out
        if not number:
            return out


def _signature(secret: bytes, payload: str) -> str:
    digest = hmac.new(secret, b"hcid|" + payload.encode(), hashlib.sha256).digest()[:SIGNATURE_BYTES]
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def click_id(secret: bytes, code: str, clicked_at: datetime) -> str:
    payload = f"{code}.{_b36(int(clicked_at.timestamp()))}"
    return f"{payload}.{_signature(secret, payload)}"


def read_click_id(secret: bytes, value: str) -> tuple[str, datetime] | None:
    """(code, when it was clicked), or None when Herald did not issue it."""
    parts = value.split(".")
    if len(parts) != 3 or len(value) > 100:
        return None
    code, seconds, signature = parts
    if not hmac.compare_digest(_signature(secret, f"{code}.{seconds}"), signature):
        return None
    try:
        return code, datetime.fromtimestamp(int(seconds, 36), UTC)
    except (ValueError, OverflowError):
        return None


def visitor_hash(secret: bytes, day: date, code: str, ip: str, user_agent: str) -> str:
    salt = hmac.new(secret, b"visitors|" + day.isoformat().encode(), hashlib.sha256).digest()
    seen = "\n".join((code, ip, user_agent)).encode("utf-8", "replace")
    return hmac.new(salt, seen, hashlib.sha256).hexdigest()[:32]
