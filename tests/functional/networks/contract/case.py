"""What one row of the network contract test provides (tests/functional/networks/contract/cases/<network>.py).

Every network adapter runs the same scenarios against its local fake (test_contract.py): a text post, each media
kind it supports, its documented limits, each documented error mapped to the right outcome, and an ambiguous
attempt settled by looking before retrying. Adding a network is one module, one fake and one case module whose
`start(clock)` is a context manager yielding an object with this shape.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import Any, Literal, Protocol

from chalicelib.core.clock import Clock
from chalicelib.networks.base import ChannelContext, NetworkAdapter, PublishRequest

MediaKind = Literal["image", "images", "video", "document"]
# throttled → RetryableError (with retry_after_s when the network sends one), revoked → AuthError,
# rejected → PermanentError with a sentence a person reads (duplicate, policy, media refused).
ErrorKind = Literal["throttled", "revoked", "rejected"]


class NetworkContract(Protocol):
    network: str
    media_kinds: tuple[MediaKind, ...]
    error_kinds: tuple[ErrorKind, ...]
    # False when the network cannot tell whether a lost answer's post exists (the engine settles `unknown`).
    looks_before_retry: bool

    def adapter(self) -> NetworkAdapter: ...

    def channel(self) -> ChannelContext: ...

    def request(self, delivery_id: str, text: str, media_kind: MediaKind | None = None,
                progress: dict[str, Any] | None = None,
                record_progress: Callable[[Any], None] | None = None) -> PublishRequest:
        """A valid post (with the options the network requires), media of that kind when asked."""
        ...

    def too_long_text(self) -> str:
        """One unit over the network's documented text limit."""
        ...

    def script_error(self, kind: ErrorKind) -> None:
        """The next publishing call answers the network's documented error of that kind."""
        ...

    def drop_next_publish(self) -> None:
        """The next call that creates the post does its work, and its answer is lost."""
        ...

    def published(self) -> list[str]:
        """The remote ids of the posts the fake holds for the channel, oldest first."""
        ...

    def settle(self) -> None:
        """Let time pass on the fake so that processing (video, containers) can finish; a no-op if none."""
        ...


class ReportsViolations(Protocol):
    """Optional on a case: what the fake refused because Herald sent it wrong (the runner asserts none)."""

    def violations(self) -> list[str]: ...


StartCase = Callable[[Clock], AbstractContextManager[NetworkContract]]
CaseIterator = Iterator[NetworkContract]
