"""What the route decorator hands the audit log after every write a caller made (chalice-free; the audit
feature registers the recorder with `provide_audit`, as the wiring registers the services)."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from chalicelib.core.principal import Principal

# Never written to the log, whatever a body calls them: credentials and secrets of every kind.
SECRET_FIELDS = frozenset({
    "credentials", "secret", "secrets", "token", "tokens", "password", "app_password", "access_token",
    "refresh_token", "api_key", "client_secret", "webhook_url", "bot_token", "code", "code_verifier",
})
REDACTED = "[redacted]"
# How long the audit log keeps an entry unless the workspace says otherwise (PATCH /workspace).
DEFAULT_RETENTION_DAYS = 365


@dataclass(frozen=True)
class WriteMade:
    principal: Principal
    method: str
    route: str  # the route's path template: /posts/{post_id}
    params: dict[str, str]
    changes: dict[str, Any]  # the fields the request set, secrets redacted
    status: int
    source_ip: str
    user_agent: str
    answer_id: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def redacted(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: (REDACTED if str(k).lower() in SECRET_FIELDS else redacted(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [redacted(item) for item in value]
    return value


Recorder = Callable[[Any, WriteMade], None]
_recorders: list[Recorder] = []


def provide_audit(recorder: Recorder) -> None:
    _recorders[:] = [recorder]


def record_write(deps: Any, write: WriteMade) -> None:
    for recorder in _recorders:
        recorder(deps, write)
