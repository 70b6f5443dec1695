"""What X's API v2 errors mean for Herald: shared by the adapter (x.py) and the OAuth side (x_oauth.py)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from chalicelib.networks.http_failures import ErrorDetail, read_json

TOKEN_WORDS = ("token", "authenticat", "unauthorized", "credential")


def explain_error(response: Any) -> ErrorDetail:
    body = read_json(response)
    text = ""
    if isinstance(body, Mapping):
        errors = body.get("errors")
        first = errors[0] if isinstance(errors, list) and errors and isinstance(errors[0], Mapping) else {}
        text = str(body.get("detail") or first.get("message") or body.get("title") or "")
    else:
        text = (getattr(response, "text", "") or "")[:300]
    if response.status_code == 403 and not any(word in text.lower() for word in TOKEN_WORDS):
        # X answers 403 for content it refuses (duplicates, reply restrictions).
        return ErrorDetail(text=text, not_auth=True)
    return ErrorDetail(text=text)
