"""What a network's error means for what Herald sent: the one table for posts and replies.

Which `NetworkError` subclass leads to a retry, a failure or an unknown outcome, the
sentence a person reads, and whether the channel must be reconnected. The publishing
engine keeps its own retry schedule (when the next attempt is due) and the inbox its own
reply record; neither decides what an error means.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from chalicelib.networks.base import AmbiguousError, AuthError, NetworkError, PermanentError, RetryableError

FailureStatus = Literal["retry", "failed", "unknown"]


@dataclass(frozen=True)
class Wording:
    """How a person is told about one kind of thing sent; `{network}` and `{reason}` are filled in."""

    refused: str
    unknown: str


POST_WORDING = Wording(
    refused="{network} refused the post: {reason}",
    unknown="{reason}. {network} may or may not have published it; check the channel before publishing again.",
)
REPLY_WORDING = Wording(
    refused="{network} did not take the reply: {reason}",
    unknown="{network} may or may not have received this reply ({reason}); "
            "check the conversation on the network before sending it again.",
)
CREDENTIALS_REFUSED = "{network} refused the channel's credentials ({reason}); reconnect the channel."


@dataclass(frozen=True)
class FailureOutcome:
    """What one failed attempt comes to.

    - `retry`: send it again (the caller picks when; `retry_after_s` is the network's
      own hint, if it gave one); `message` says which attempt failed and why.
    - `failed`: it surely did not arrive and will not be sent again.
    - `unknown`: it may have arrived; never sent again without a person checking.
    """

    status: FailureStatus
    message: str
    needs_reauth: bool = False
    retry_after_s: float | None = None


def classify_network_error(error: Exception, attempts: int, *, network: str, wording: Wording,
                           max_attempts: int = 1, resend_is_safe: bool = False) -> FailureOutcome:
    """The outcome of the `attempts`-th attempt (counted from 1) failing with `error`.

    `max_attempts` 1 means the caller never sends again (a person does, a reply); then a
    retryable error is reported as the network's refusal. `resend_is_safe`: the network
    deduplicates a resend (an idempotency key), so an ambiguous attempt may be retried.
    An error that is not a `NetworkError` is a bug after the request may have gone out:
    it counts as ambiguous.
    """
    error = _as_network_error(error)
    reason = error.message
    if isinstance(error, AuthError):
        return FailureOutcome("failed", CREDENTIALS_REFUSED.format(network=network, reason=reason),
                              needs_reauth=True)
    if isinstance(error, PermanentError):
        return FailureOutcome("failed", wording.refused.format(network=network, reason=reason))
    if max_attempts > 1 and _may_resend(error, resend_is_safe):
        if attempts < max_attempts:
            return FailureOutcome("retry", f"Attempt {attempts} failed ({reason})",
                                  retry_after_s=getattr(error, "retry_after_s", None))
        return FailureOutcome("failed", f"Gave up after {attempts} attempts: {reason}")
    if isinstance(error, RetryableError):  # surely not sent, and not sent again here
        return FailureOutcome("failed", wording.refused.format(network=network, reason=reason))
    # Ambiguous, or an error no subclass describes: it may have arrived.
    return FailureOutcome("unknown", wording.unknown.format(network=network, reason=reason))


def _as_network_error(error: Exception) -> NetworkError:
    return error if isinstance(error, NetworkError) else AmbiguousError(f"unexpected error: {error}")


def _may_resend(error: NetworkError, resend_is_safe: bool) -> bool:
    """Surely not sent, or sent where the network drops a second copy."""
    return isinstance(error, RetryableError) or (isinstance(error, AmbiguousError) and resend_is_safe)
