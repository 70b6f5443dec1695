"""Keeps credentials that live in a URL path out of log lines.

A Telegram bot token is part of every Bot API path (`/bot<token>/sendMessage`) and a Discord webhook token
is part of the webhook's path (`/webhooks/<id>/<token>`). Herald never logs a URL, but urllib3 logs each
request's path at DEBUG (`"POST /bot123:ABC/sendMessage HTTP/1.1" 200`). The filter installed here rewrites
those records before any handler sees them.
"""
from __future__ import annotations

import logging
import re
from typing import Any

SECRET_PATHS = (
    (re.compile(r"/bot[0-9]+:[A-Za-z0-9_-]+"), "/bot[redacted]"),
    (re.compile(r"/webhooks/([0-9]+)/[A-Za-z0-9_.-]+"), r"/webhooks/\1/[redacted]"),
)
LOGGERS = ("urllib3.connectionpool", "urllib3.connection", "requests")


def redacted(text: str) -> str:
    for pattern, replacement in SECRET_PATHS:
        text = pattern.sub(replacement, text)
    return text


class SecretPathFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redacted(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(_redact_arg(arg) for arg in record.args)
        return True


def _redact_arg(arg: Any) -> Any:
    return redacted(arg) if isinstance(arg, str) else arg


_FILTER = SecretPathFilter()


def install() -> None:
    """Idempotent: adds the filter to the loggers that print request paths."""
    for name in LOGGERS:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
