"""Meta's Graph API: its host and version, and what its errors mean for Herald (the Graph error-handling
guide and Instagram's error-code reference, cited in tests/events/meta/README.md). Shared by the adapter
(meta.py), publishing (meta_publish.py) and Facebook Login (meta_oauth.py)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from chalicelib.networks.http_failures import ErrorDetail, read_json

GRAPH_API_VERSION = "v25.0"
GRAPH_URL = f"https://graph.facebook.com/{GRAPH_API_VERSION}"

# Graph API error codes (error.code) that mean the token must be renewed.
TOKEN_ERROR_CODES = {102, 190}
PERMISSION_ERROR_CODES = {10, 200}
RATE_LIMIT_ERROR_CODES = {4, 17, 32, 341, 613}
# 80001 Pages, 80002 Instagram, 80006 Messenger...: Business Use Case throttling.
THROTTLING_CODES = range(80000, 80100)
# "API Unknown" and "API Service": temporary, wait and retry.
TRANSIENT_ERROR_CODES = {1, 2}
DUPLICATE_POST_CODE = 506
POLICY_BLOCK_CODE = 368
LINK_ERROR_CODE = 1609005
# X-App-Usage counts over a rolling hour and gives no time to regain access: a quarter of it.
APP_USAGE_WAIT_S = 900.0
# Instagram's error-code reference: subcodes 2207xxx describe the media and the container.
INSTAGRAM_SUBCODES = range(2207000, 2208000)
INSTAGRAM_SUBCODE_SENTENCES = {
    2207052: "Instagram could not fetch the media",
    2207020: "The Instagram media container expired before it was published",
    2207051: "Instagram restricted this post as suspected spam",
    2207050: "The Instagram account is restricted or inactive",
}
# Temporary per the reference (server errors, media not ready yet, the 24-hour publishing cap): retry after.
INSTAGRAM_RETRY_SUBCODES = {2207001: 30.0, 2207003: 60.0, 2207032: 30.0, 2207027: 15.0, 2207042: 3600.0}
# error_subcode 2018278: a Messenger reply outside the allowed window, not a token problem.
OUTSIDE_WINDOW_SUBCODES = {2018278}


def explain_error(response: Any, network: str = "Facebook") -> ErrorDetail:
    """What Graph's `{"error": {"code", "error_subcode", "message", "error_user_msg", "is_transient"}}` means,
    per the Graph error-handling guide and Instagram's error-code reference (tests/events/meta/README.md)."""
    body = read_json(response)
    error = body.get("error") if isinstance(body, Mapping) else None
    if not isinstance(error, Mapping):
        return ErrorDetail(text=(getattr(response, "text", "") or "")[:300])
    code = error.get("code")
    subcode = error.get("error_subcode")
    text = str(error.get("message") or "")
    # error_user_msg is the sentence Meta writes for the person (Instagram's media errors carry one).
    reason = str(error.get("error_user_msg") or text)
    return (_subcode_detail(subcode, text, reason)
            or _code_detail(code, error, text, reason, network, getattr(response, "headers", None))
            or ErrorDetail(text=reason, not_auth=True))


def _subcode_detail(subcode: Any, text: str, reason: str) -> ErrorDetail | None:
    """Instagram's and Messenger's subcodes say more than the code they come with."""
    if subcode in OUTSIDE_WINDOW_SUBCODES:
        return ErrorDetail(text=text, not_auth=True)
    if subcode in INSTAGRAM_SUBCODE_SENTENCES:
        return ErrorDetail(text=text, not_auth=True, sentence=f"{INSTAGRAM_SUBCODE_SENTENCES[subcode]} ({reason})")
    if subcode in INSTAGRAM_RETRY_SUBCODES:
        return ErrorDetail(text=text, rate_limited=True, retry_after_s=INSTAGRAM_RETRY_SUBCODES[subcode])
    if isinstance(subcode, int) and INSTAGRAM_SUBCODES.start <= subcode < INSTAGRAM_SUBCODES.stop:
        return ErrorDetail(text=text, not_auth=True, sentence=f"Instagram refused the media: {reason}")
    return None


def _code_detail(code: Any, error: Mapping[str, Any], text: str, reason: str, network: str,
                 headers: Mapping[str, str] | None) -> ErrorDetail | None:
    if _throttled(code):
        return ErrorDetail(text=text, rate_limited=True, retry_after_s=usage_wait_s(headers))
    if code in TRANSIENT_ERROR_CODES or error.get("is_transient") is True:
        return ErrorDetail(text=text, rate_limited=True)
    sentences = {
        DUPLICATE_POST_CODE: f"{network} refused a duplicate of a recent post",
        POLICY_BLOCK_CODE: f"{network} has temporarily blocked this account from posting because of its policies "
                           f"({reason})",
        LINK_ERROR_CODE: f"{network} could not read the link ({reason})",
    }
    if code in sentences:
        return ErrorDetail(text=text, not_auth=True, sentence=sentences[code])
    if code in TOKEN_ERROR_CODES or code in PERMISSION_ERROR_CODES or (isinstance(code, int) and 200 <= code < 300):
        return ErrorDetail(text=text, auth=True)
    return None


def _throttled(code: Any) -> bool:
    return code in RATE_LIMIT_ERROR_CODES or (isinstance(code, int) and code in THROTTLING_CODES)


def usage_wait_s(headers: Mapping[str, str] | None) -> float | None:
    """How long Graph says to wait, from its usage headers (the Rate Limits page): the largest
    `estimated_time_to_regain_access` (minutes) of X-Business-Use-Case-Usage, else, when X-App-Usage or
    X-Page-Usage reports a counter at 100%, a part of their rolling hour."""
    if not headers:
        return None
    lowered = {str(key).lower(): value for key, value in headers.items()}
    minutes = [
        entry.get("estimated_time_to_regain_access")
        for entries in _json_object(lowered.get("x-business-use-case-usage")).values()
        if isinstance(entries, list)
        for entry in entries
        if isinstance(entry, Mapping)
    ]
    waits = [float(m) * 60 for m in minutes if isinstance(m, (int, float)) and not isinstance(m, bool) and m > 0]
    if waits:
        return max(waits)
    for name in ("x-app-usage", "x-page-usage"):
        usage = _json_object(lowered.get(name))
        if any(isinstance(v, (int, float)) and v >= 100 for v in usage.values()):
            return APP_USAGE_WAIT_S
    return None


def _json_object(raw: Any) -> dict[str, Any]:
    import json

    try:
        value = json.loads(raw) if isinstance(raw, str) else None
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
