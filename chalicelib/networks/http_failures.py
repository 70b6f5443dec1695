"""One HTTP call to a network, with its failures turned into the errors of `base`.

Before the request left (connection refused, connect timeout) a retry is safe;
after it left (read timeout) the network may have acted, so the caller must
not repeat blindly.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any

from chalicelib.core.outbound import clean_reason
from chalicelib.networks.base import AmbiguousError, AuthError, PermanentError, RetryableError

DEFAULT_TIMEOUT = (5.0, 20.0)
REASON_CHARS = 300


@dataclass(frozen=True)
class ErrorDetail:
    """What a network's error body says, read by its adapter."""

    text: str
    auth: bool = False  # the network says the token is the problem
    rate_limited: bool = False  # the network says slow down, whatever the status
    not_auth: bool = False  # a 401/403 that is about the content, not the token
    # A sentence for a person that replaces "<network> answered <status>: <text>" (duplicate post, policy...).
    sentence: str | None = None
    # The wait when the network sends no Retry-After: from its own usage headers (Meta's X-App-Usage) or its
    # documented reset (LinkedIn's daily limits reset at midnight UTC).
    retry_after_s: float | None = None


def read_json(response: Any) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def failed_before_sending(exc: BaseException) -> bool:
    """True when the connection was never made (refused, DNS, connect timeout), so nothing was sent."""
    from urllib3.exceptions import ConnectTimeoutError, NameResolutionError, NewConnectionError

    pending: list[Any] = [exc]
    seen: set[int] = set()
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, (NewConnectionError, ConnectTimeoutError, NameResolutionError, ConnectionRefusedError)):
            return True
        if isinstance(current, BaseException):
            pending += [*current.args, getattr(current, "reason", None), current.__cause__, current.__context__]
    return False


def send(
    http: Any,
    method: str,
    url: str,
    *,
    network: str,
    explain: Callable[[Any], ErrorDetail],
    headers: Mapping[str, str] | None = None,
    json: Any = None,
    data: Any = None,
    params: Mapping[str, str] | None = None,
    now: Callable[[], datetime] | None = None,
    timeout: Any = DEFAULT_TIMEOUT,
) -> Any:
    """The response of a 2xx answer; otherwise raise the matching NetworkError."""
    import requests  # lazily: keeps cold starts of webhook-only handlers light

    try:
        response = http.request(
            method, url, headers=dict(headers or {}), json=json, data=data, params=params, timeout=timeout
        )
    except requests.ReadTimeout:
        raise AmbiguousError(f"{network} did not answer in time; the request may have been applied") from None
    except requests.ConnectTimeout:
        raise RetryableError(f"could not reach {network}") from None
    except requests.ConnectionError as exc:
        # A connection the network closed after reading a write may have acted: look before trying again.
        if method.upper() not in SAFE_METHODS and not failed_before_sending(exc):
            raise AmbiguousError(f"the connection to {network} broke after the request was sent; "
                                 "it may have been applied") from None
        raise RetryableError(f"could not reach {network}") from None
    except requests.RequestException:
        raise AmbiguousError(f"the connection to {network} failed after the request was sent") from None

    status = response.status_code
    if 200 <= status < 300:
        return response
    detail = explain(response)
    # What the network says is shown to people and stored: one line, no control characters, short.
    text = clean_reason(detail.text, REASON_CHARS)
    message = f"{network} answered {status}: {text}" if text else f"{network} answered {status}"
    if detail.sentence:
        message = clean_reason(detail.sentence, REASON_CHARS)
    if status == 429 or detail.rate_limited or status >= 500:
        wait = retry_after_seconds(response.headers, now)
        raise RetryableError(message, status=status,
                             retry_after_s=wait if wait is not None else detail.retry_after_s)
    if detail.auth or (status in (401, 403) and not detail.not_auth):
        raise AuthError(message, status=status)
    raise PermanentError(message, status=status)


def retry_after_seconds(
    headers: Mapping[str, str] | None, now: Callable[[], datetime] | None = None
) -> float | None:
    """Retry-After in seconds or as an HTTP date; X's x-rate-limit-reset epoch as a fallback."""
    if not headers:
        return None
    lowered = {key.lower(): value for key, value in headers.items()}
    value = lowered.get("retry-after")
    if value:
        try:
            return max(0.0, float(value))
        except ValueError:
            pass
        if now is not None:
            try:
                return max(0.0, (parsedate_to_datetime(value) - now()).total_seconds())
            except (TypeError, ValueError):
                return None
    reset = lowered.get("x-rate-limit-reset")
    if reset and now is not None:
        try:
            return max(0.0, float(reset) - now().timestamp())
        except ValueError:
            return None
    return None
