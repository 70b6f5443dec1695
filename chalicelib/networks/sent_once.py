"""An HTTP client wrapper for the one call that makes a post visible.

`http_failures.send` reads a `requests.ConnectionError` as "could not reach the network" (retryable). That is
right before the request left, but a connection the server closed after reading the request (urllib3's
ProtocolError: "Connection aborted", RemoteDisconnected, a reset) may have published the post: for a network
that does not deduplicate (Telegram, Discord) a blind retry could post twice. Wrapped in `SentOnce`, such a
failure comes out as a read timeout, which `send` reports as AmbiguousError.
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
        except requests.ConnectionError as error:
            if _after_sending(error):
                raise requests.ReadTimeout("the connection closed after the request was sent") from None
            raise


def _after_sending(error: Exception) -> bool:
    from urllib3.exceptions import MaxRetryError, ProtocolError

    inner = error.args[0] if error.args else None
    if isinstance(inner, MaxRetryError):
        inner = inner.reason
    return isinstance(inner, ProtocolError)
