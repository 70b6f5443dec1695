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
        problem = _plan_problem(body)
        if problem:
            # The app's plan, not the token: search/recent needs an enrolled project and a usage cap left.
            return ErrorDetail(text=f"{text} ({problem})", not_auth=True)
    else:
        text = (getattr(response, "text", "") or "")[:300]
    if response.status_code == 403 and not any(word in text.lower() for word in TOKEN_WORDS):
        # X answers 403 for content it refuses (duplicates, reply restrictions).
        return ErrorDetail(text=text, not_auth=True)
    return ErrorDetail(text=text)


PLAN_PROBLEMS = ("client-not-enrolled", "usage-capped")


def _plan_problem(body: Mapping[str, Any]) -> str | None:
    """`client-not-enrolled` (403) or `usage-capped` (429): X's problem types about the app's access level."""
    said = f"{body.get('reason') or ''} {body.get('type') or ''} {body.get('title') or ''}".lower()
    if "usagecap" in said.replace(" ", "") or "usage-capped" in said:
        return "usage-capped"
    if "client-not-enrolled" in said or "client-forbidden" in said:
        return "client-not-enrolled"
    return None
