"""A request that creates something (a pin, a Reddit submission) and whose connection broke after it was sent.

`http_failures.send` reads every `requests.ConnectionError` as "could not reach", which is right for a refused
connection but not for one the network closed after reading the request: it may have acted. `SentOnce` wraps the
session for such a call and turns a connection broken after sending into a read timeout, which `send` reports as
an `AmbiguousError` (so the engine looks before retrying). A refused or never-made connection stays retryable.
"""
from __future__ import annotations

from typing import Any


class SentOnce:
    def __init__(self, http: Any) -> None:
        self._http = http

    def request(self, *args: Any, **kwargs: Any) -> Any:
        import requests

        try:
            return self._http.request(*args, **kwargs)
        except requests.ConnectTimeout:
            raise
        except requests.ConnectionError as exc:
            if failed_before_sending(exc):
                raise
            raise requests.ReadTimeout("the connection broke after the request was sent") from exc


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
