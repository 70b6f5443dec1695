"""Opaque list cursors: the DynamoDB LastEvaluatedKey, base64url-encoded."""
from __future__ import annotations

import base64
import json
from typing import Any

from chalicelib.core.errors import BadRequest


def encode_cursor(last_key: dict[str, Any] | None) -> str | None:
    if not last_key:
        return None
    raw = json.dumps(last_key, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None, must_match: dict[str, str] | None = None,
                  key_names: tuple[str, ...] = ()) -> dict[str, Any] | None:
    """Refuses a cursor that is not ours, or that belongs to another list.
    `key_names`: the attributes a position in this list has (table and index keys);
    a cursor with others, or without some, would make DynamoDB refuse the query."""
    if not cursor:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        key = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if not isinstance(key, dict):
            raise ValueError("not an object")
    except (ValueError, json.JSONDecodeError):
        raise BadRequest("The cursor is not valid; use next_cursor from the previous page.",
                         code="invalid_cursor") from None
    malformed = any(not isinstance(v, dict) or not isinstance(v.get("S"), str) for v in key.values())
    if malformed or (key_names and set(key) != set(key_names)):
        raise BadRequest("The cursor is not valid; use next_cursor from the previous page.", code="invalid_cursor")
    for attribute, expected in (must_match or {}).items():
        value = key.get(attribute)
        if not isinstance(value, dict) or value.get("S") != expected:
            raise BadRequest("The cursor belongs to another list.", code="invalid_cursor")
    return key
