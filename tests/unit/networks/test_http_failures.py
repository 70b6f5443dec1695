from http.client import RemoteDisconnected

import pytest
import requests
from urllib3.exceptions import NewConnectionError

from chalicelib.networks.base import AmbiguousError, AuthError, PermanentError, RetryableError
from chalicelib.networks.http_failures import ErrorDetail, retry_after_seconds, send
from tests.support.network_fakes import FakeResponse, FakeSession, fixed_clock


def explain(response):
    return ErrorDetail(text=response.text)


def call(answer):
    return send(
        FakeSession([answer]),
        "POST",
        "https://api.example.test/x",
        network="Example",
        explain=explain,
        now=fixed_clock().now,
    )


def test_a_success_returns_the_response():
    response = FakeResponse(201, {"id": "1"})
    assert call(response) is response


@pytest.mark.parametrize(
    "answer, error",
    [
        (requests.ConnectTimeout(), RetryableError),
        (requests.ConnectionError(NewConnectionError(None, "refused")), RetryableError),  # nothing was sent
        (requests.ConnectionError(RemoteDisconnected("closed")), AmbiguousError),  # sent, no answer
        (requests.ReadTimeout(), AmbiguousError),
        (requests.exceptions.ChunkedEncodingError(), AmbiguousError),
        (FakeResponse(503, text="maintenance"), RetryableError),
        (FakeResponse(429, text="slow down"), RetryableError),
        (FakeResponse(401, text="bad token"), AuthError),
        (FakeResponse(403, text="forbidden"), AuthError),
        (FakeResponse(422, text="text too long"), PermanentError),
    ],
)
def test_failures_map_to_what_the_engine_can_act_on(answer, error):
    with pytest.raises(error):
        call(answer)


def test_a_read_whose_connection_broke_is_only_retried():
    with pytest.raises(RetryableError):
        send(FakeSession([requests.ConnectionError(RemoteDisconnected("closed"))]), "GET",
             "https://api.example.test/x", network="Example", explain=explain)


def test_the_message_carries_the_network_and_its_own_words():
    with pytest.raises(PermanentError) as caught:
        call(FakeResponse(422, text="text too long"))
    assert caught.value.message == "Example answered 422: text too long"
    assert caught.value.status == 422


def test_retry_after_in_seconds_or_as_a_date():
    now = fixed_clock().now
    assert retry_after_seconds({"Retry-After": "30"}, now) == 30
    assert retry_after_seconds({"retry-after": "Mon, 02 Mar 2026 09:31:00 GMT"}, now) == 60
    assert retry_after_seconds({}, now) is None
    assert retry_after_seconds({"Retry-After": "soon"}, now) is None


def test_the_networks_words_are_one_short_clean_line():
    with pytest.raises(PermanentError) as caught:
        call(FakeResponse(422, text="too long\x1b[2J\r\nX-Injected: yes " + "x" * 2000))
    assert "too long [2J X-Injected: yes" in caught.value.message
    assert "\x1b" not in caught.value.message and "\n" not in caught.value.message
    assert len(caught.value.message) < 340


def test_a_network_may_say_it_in_its_own_sentence_and_name_its_documented_wait():
    def own_words(response):
        return ErrorDetail(text=response.text, sentence="Example refused a duplicate", retry_after_s=90.0)

    def answered(answer):
        return send(FakeSession([answer]), "POST", "https://api.example.test/x", network="Example",
                    explain=own_words, now=fixed_clock().now)

    with pytest.raises(PermanentError) as refused:
        answered(FakeResponse(422, text="DUPLICATE_POST"))
    assert refused.value.message == "Example refused a duplicate"
    with pytest.raises(RetryableError) as throttled:
        answered(FakeResponse(429, text="slow down"))
    assert throttled.value.retry_after_s == 90.0
    with pytest.raises(RetryableError) as throttled:  # the header, when there is one, wins
        answered(FakeResponse(429, text="slow down", headers={"Retry-After": "7"}))
    assert throttled.value.retry_after_s == 7.0


def test_a_connection_closed_after_the_request_left_is_ambiguous():
    from http.client import RemoteDisconnected

    from urllib3.exceptions import ProtocolError

    closed = requests.ConnectionError(ProtocolError("Connection aborted.", RemoteDisconnected("closed")))
    with pytest.raises(AmbiguousError, match="may have been applied"):
        call(closed)


def test_a_connection_never_made_is_retryable():
    from urllib3.exceptions import MaxRetryError, NewConnectionError

    refused = requests.ConnectionError(MaxRetryError(None, "/x", NewConnectionError(None, "refused")))
    with pytest.raises(RetryableError):
        call(refused)
