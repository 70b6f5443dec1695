"""The one table from a network's error to what a post's delivery or a reply comes to."""
from __future__ import annotations

import pytest

from chalicelib.networks.base import AmbiguousError, AuthError, NetworkError, PermanentError, RetryableError
from chalicelib.networks.failures import (
    POST_WORDING,
    REPLY_WORDING,
    FailureOutcome,
    classify_network_error,
)

CREDENTIALS = "mastodon refused the channel's credentials (token revoked); reconnect the channel."
POST_UNKNOWN = ("read timed out. mastodon may or may not have published it; "
                "check the channel before publishing again.")
REPLY_UNKNOWN = ("mastodon may or may not have received this reply (read timed out); "
                 "check the conversation on the network before sending it again.")


def post(error: Exception, attempts: int, *, resend_is_safe: bool = False) -> FailureOutcome:
    return classify_network_error(error, attempts, network="mastodon", wording=POST_WORDING, max_attempts=5,
                                  resend_is_safe=resend_is_safe)


def reply(error: Exception, *, resend_is_safe: bool = False) -> FailureOutcome:
    return classify_network_error(error, 1, network="mastodon", wording=REPLY_WORDING,
                                  resend_is_safe=resend_is_safe)


@pytest.mark.parametrize(("outcome", "expected"), [
    # Credentials: failed, and the channel must be reconnected, whatever was sent.
    (post(AuthError("token revoked", status=401), 1), FailureOutcome("failed", CREDENTIALS, needs_reauth=True)),
    (reply(AuthError("token revoked", status=401)), FailureOutcome("failed", CREDENTIALS, needs_reauth=True)),
    # Refused content: failed, never retried.
    (post(PermanentError("text is too long"), 1),
     FailureOutcome("failed", "mastodon refused the post: text is too long")),
    (reply(PermanentError("text is too long")),
     FailureOutcome("failed", "mastodon did not take the reply: text is too long")),
    # Surely not sent: retried while attempts are left, with the network's hint; then given up.
    (post(RetryableError("503 Service Unavailable", status=503, retry_after_s=30.0), 1),
     FailureOutcome("retry", "Attempt 1 failed (503 Service Unavailable)", retry_after_s=30.0)),
    (post(RetryableError("503 Service Unavailable", status=503), 4),
     FailureOutcome("retry", "Attempt 4 failed (503 Service Unavailable)")),
    (post(RetryableError("503 Service Unavailable", status=503), 5),
     FailureOutcome("failed", "Gave up after 5 attempts: 503 Service Unavailable")),
    # A reply is tried once: the network's answer is what the person reads.
    (reply(RetryableError("503 Service Unavailable", status=503)),
     FailureOutcome("failed", "mastodon did not take the reply: 503 Service Unavailable")),
    # May have arrived: unknown, unless the network deduplicates a resend and attempts are left.
    (post(AmbiguousError("read timed out"), 1), FailureOutcome("unknown", POST_UNKNOWN)),
    (post(AmbiguousError("read timed out"), 2, resend_is_safe=True),
     FailureOutcome("retry", "Attempt 2 failed (read timed out)")),
    (post(AmbiguousError("read timed out"), 5, resend_is_safe=True),
     FailureOutcome("failed", "Gave up after 5 attempts: read timed out")),
    (reply(AmbiguousError("read timed out")), FailureOutcome("unknown", REPLY_UNKNOWN)),
    (reply(AmbiguousError("read timed out"), resend_is_safe=True), FailureOutcome("unknown", REPLY_UNKNOWN)),
    # An error no subclass describes, or a bug after the request went out, may have arrived too.
    (post(NetworkError("read timed out"), 1), FailureOutcome("unknown", POST_UNKNOWN)),
    (reply(NetworkError("read timed out")), FailureOutcome("unknown", REPLY_UNKNOWN)),
    (post(KeyError("id"), 1), FailureOutcome("unknown", "unexpected error: 'id'. mastodon may or may not have "
                                                        "published it; check the channel before publishing again.")),
    (post(KeyError("id"), 1, resend_is_safe=True),
     FailureOutcome("retry", "Attempt 1 failed (unexpected error: 'id')")),
    (reply(KeyError("id")), FailureOutcome("unknown", "mastodon may or may not have received this reply (unexpected "
                                                      "error: 'id'); check the conversation on the network before "
                                                      "sending it again.")),
])
def test_each_error_class_comes_to_one_outcome(outcome: FailureOutcome, expected: FailureOutcome) -> None:
    assert outcome == expected
