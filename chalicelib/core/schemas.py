"""What every feature's request and answer shapes build on: the request base (valid Unicode, no unknown
fields), pages, the error body, health. The same models validate requests and produce the OpenAPI
document, so the two cannot disagree."""
from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, field_validator

from chalicelib.core.fields import (
    QueryLimit,
    check_unicode,
)

Limit = QueryLimit


class RequestModel(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)

    # Every field of every request (bodies, queries, free-form settings) is valid Unicode.
    _unicode = field_validator("*", mode="before")(lambda cls, value: check_unicode(value))


class PageQuery(RequestModel):
    limit: Limit = 50
    cursor: str | None = None


class Health(BaseModel):
    status: Literal["ok"]


class ErrorBody(BaseModel):
    code: str
    message: str
    details: list[dict[str, Any]]


class Error(BaseModel):
    error: ErrorBody
