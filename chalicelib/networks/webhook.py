"""What every network's webhook half shares: the parse result and the checks
that must run on the raw bytes before anything is parsed."""

from __future__ import annotations

import hashlib
import hmac
import math
import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from chalicelib.core.clock import Clock, SystemClock
from chalicelib.networks.base import (
    ChannelContext,
    ChannelInsights,
    InboundEvent,
    PermanentError,
    PollResult,
    PublishRequest,
    PublishResult,
    SignatureError,
)


@dataclass
class ParsedWebhook:
    """One delivery, normalised.

    `ignored` counts entries of a kind we do not keep (likes, read receipts,
    follows...); `errors` names entries that were malformed. Good entries of a
    batch are kept whatever happens to their neighbours.
    """

    events: list[InboundEvent] = field(default_factory=list)
    ignored: int = 0
    errors: list[str] = field(default_factory=list)
    # `(network, account id)` of accounts whose user removed Herald's access (TikTok authorization.removed).
    revoked: list[tuple[str, str]] = field(default_factory=list)


class Malformed(Exception):
    """An entry of a payload that does not have the documented shape."""


def header_value(headers: Mapping[str, str], name: str) -> str | None:
    """The value of header `name`, whatever the case of the keys."""
    wanted = name.lower()
    for key, value in headers.items():
        if key.lower() == wanted:
            return value
    return None


def required_header(headers: Mapping[str, str], name: str) -> str:
    value = header_value(headers, name)
    if value is None or not value.strip():
        raise SignatureError(f"missing {name} header")
    return value.strip()


# What a GET handshake agrees to sign (X, LinkedIn) or echo (Meta): short opaque tokens of these characters.
# The handshakes sign with the very key the POST signatures use, so what they sign must never be a string a POST
# signature covers. Every body a receiver accepts is a JSON object, so contains `{`; none of these characters is
# `{`, whitespace or a byte order mark, so no challenge can be, or end in, such a body, whatever prefix a network
# signs in front of it. Keep it that way (tests/unit/networks/test_{x,linkedin,meta}.py check it).
CHALLENGE_MAX_CHARS = 256
TOKEN_CHARS = frozenset(string.ascii_letters + string.digits + "_-")
BASE64_CHARS = TOKEN_CHARS | frozenset("+/=")
DIGITS = frozenset(string.digits)


def challenge_token(value: str | None, name: str, alphabet: frozenset[str],
                    max_chars: int = CHALLENGE_MAX_CHARS) -> str:
    """`value` if it is a handshake challenge of the documented shape; never echoes it in the refusal."""
    if not value:
        raise SignatureError(f"missing {name}")
    if len(value) > max_chars or not alphabet.issuperset(value):
        raise SignatureError(f"{name} is not a token of the documented shape")
    return value


def query_value(query: Mapping[str, Any], name: str) -> str | None:
    """One query parameter as a string (the first, if it came as a list), or None."""
    value = query.get(name)
    if isinstance(value, (list, tuple)):
        value = value[0] if value else None
    return value if isinstance(value, str) else None


def hmac_sha256(secret: str, message: bytes) -> bytes:
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).digest()


def hex_digest_bytes(text: str) -> bytes:
    """A SHA-256 digest written in hex (either case) as bytes."""
    if len(text) != 64:
        raise SignatureError("malformed signature: not a SHA-256 hex digest")
    try:
        return bytes.fromhex(text)
    except ValueError:
        raise SignatureError("malformed signature: not a SHA-256 hex digest") from None


def require_secret(secret: str) -> None:
    if not secret:
        # An empty key would let anyone who knows the scheme sign requests.
        raise SignatureError("no secret configured for this network")


def same_digest(expected: bytes, received: bytes, reason: str = "signature does not match") -> None:
    if not hmac.compare_digest(expected, received):
        raise SignatureError(reason)


def text_field(mapping: Any, key: str, where: str = "") -> str:
    """A required id or string; ids may arrive as JSON numbers."""
    if not isinstance(mapping, Mapping):
        raise Malformed(f"{where or 'entry'} is not an object")
    value = mapping.get(key)
    if isinstance(value, bool) or value is None:
        raise Malformed(f"missing {where + '.' if where else ''}{key}")
    if isinstance(value, (int, str)) and str(value) != "":
        return str(value)
    raise Malformed(f"{where + '.' if where else ''}{key} is not a string")


def optional_text(mapping: Any, key: str) -> str | None:
    if not isinstance(mapping, Mapping):
        return None
    value = mapping.get(key)
    if isinstance(value, bool) or value is None:
        return None
    return str(value) if isinstance(value, (int, str)) and str(value) != "" else None


def moment_from_epoch(value: Any, what: str = "timestamp") -> datetime:
    """Epoch seconds or milliseconds (as a number or a numeric string) to UTC.

    Networks mix both units, sometimes in one payload (Meta's entry.time is
    seconds for Page changes and milliseconds for messaging), so anything past
    year 5138 in seconds is read as milliseconds.
    """
    if isinstance(value, bool):
        raise Malformed(f"{what} is not a number")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise Malformed(f"{what} is not a number") from None
    if math.isnan(number) or number < 0:
        raise Malformed(f"{what} is not a valid time")
    if number > 1e11:
        number /= 1000
    try:
        return datetime.fromtimestamp(number, tz=UTC)
    except (OverflowError, OSError, ValueError):
        raise Malformed(f"{what} is not a valid time") from None


def items_of(payload: Mapping[str, Any], key: str) -> list[Any]:
    value = payload.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise Malformed(f"{key} is not a list")
    return value


class InboxNetworkAdapter:
    """What the networks Herald reads by webhook and answers from the inbox share:
    a lazily made HTTP session, a clock, and clear refusals for what they cannot do yet."""

    network: str
    idempotent_publish = False

    def __init__(self, http: Any = None, clock: Clock | None = None) -> None:
        self._http = http
        self._clock = clock or SystemClock()

    @property
    def http(self) -> Any:
        if self._http is None:
            import requests

            self._http = requests.Session()
        return self._http

    def publish(self, channel: ChannelContext, request: PublishRequest) -> PublishResult:
        raise PermanentError(f"publishing to {self.network} is not supported yet")

    def fetch_insights(self, channel: ChannelContext, remote_ids: list[str]) -> ChannelInsights:
        raise PermanentError(f"insights from {self.network} are not supported yet")

    def poll_inbox(self, channel: ChannelContext, cursor: str | None) -> PollResult:
        raise PermanentError(f"{self.network} delivers its inbox by webhook; there is nothing to poll")
