from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
import requests
from requests.structures import CaseInsensitiveDict
from urllib3.exceptions import MaxRetryError, NewConnectionError, ProtocolError

from chalicelib.core.clock import FixedClock
from chalicelib.core.outbound import ALLOW_LOCAL_PEERS
from chalicelib.networks.base import (
    AmbiguousError,
    AuthError,
    ChannelContext,
    PermanentError,
    PublishRequest,
    ReplyRequest,
    RetryableError,
)
from chalicelib.networks.mastodon import (
    count_text,
    html_to_text,
    make_adapter,
    normalize_instance_url,
)
from tests.support.events import load_event

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
STATUS = {"id": "103254962155278888", "created_at": "2019-12-05T11:34:47.196Z",
          "url": "https://mastodon.social/@trwnh/103254962155278888"}


class FakeResponse:
    def __init__(self, status: int, body: Any = None, headers: dict[str, str] | None = None,
                 text: str | None = None) -> None:
        self.status_code = status
        self.headers = CaseInsensitiveDict(headers or {})
        self.text = text if text is not None else ("" if body is None else json.dumps(body))
        self.content = self.text.encode()

    def json(self) -> Any:
        return json.loads(self.text)


@dataclass
class Call:
    method: str
    url: str
    kwargs: dict[str, Any]


@dataclass
class FakeSession:
    """Answers requests from a list, in order; an exception in the list is raised."""

    answers: list[Any]
    calls: list[Call] = field(default_factory=list)

    def request(self, method: str, url: str, **kwargs: Any) -> Any:
        self.calls.append(Call(method, url, kwargs))
        answer = self.answers.pop(0)
        if isinstance(answer, BaseException):
            raise answer
        return answer


def channel(**settings: Any) -> ChannelContext:
    return ChannelContext(workspace_id="w1", channel_id="c1", network="mastodon", settings=settings,
                          credentials={"instance_url": "https://mastodon.social", "access_token": "secret"})


def adapter_with(*answers: Any) -> tuple[Any, FakeSession]:
    session = FakeSession(list(answers))
    return make_adapter(http=session, clock=FixedClock(NOW), sleep=lambda _s: None), session


def publish_error(*answers: Any) -> Exception:
    adapter, _ = adapter_with(*answers)
    with pytest.raises(Exception) as caught:
        adapter.publish(channel(), PublishRequest(delivery_id="d1", text="hello"))
    return caught.value


# -- counting ---------------------------------------------------------------------


@pytest.mark.parametrize(("text", "expected"), [
    ("hello", 5),
    ("read https://example.com/a/very/long/path/that/goes/on?x=1 now", 5 + 23 + 4),
    ("https://a.example/1 and https://b.example/2", 23 + 5 + 23),
    ("see https://example.com/a.", 4 + 23 + 1),
    ("(see https://en.example.org/wiki/Foo_(bar))", 5 + 23 + 1),
    ("example.com has no protocol", 27),
    ("@alice@example.social hi", len("@alice hi")),
    ("https://example.social/@alice@other.example", 23),
    ("mail bob@example.com", 20),
    ("👩‍👩‍👧 e\u0301", 3),
])
def test_count_text_follows_mastodon_rules(text: str, expected: int) -> None:
    assert count_text(text) == expected


def test_count_text_uses_the_instance_url_length() -> None:
    assert count_text("go https://example.com/x", max_chars_per_url=10) == 3 + 10


# -- errors -----------------------------------------------------------------------


def test_validation_error_is_permanent_with_mastodons_text() -> None:
    error = publish_error(FakeResponse(422, {"error": "Validation failed: Text character limit of 500 exceeded"}))
    assert isinstance(error, PermanentError)
    assert error.status == 422
    assert "Text character limit of 500 exceeded" in error.message


def test_invalid_token_is_auth_error() -> None:
    error = publish_error(FakeResponse(401, {"error": "The access token is invalid"}))
    assert isinstance(error, AuthError)
    assert "The access token is invalid" in error.message


def test_missing_scope_is_auth_error_but_other_refusals_are_permanent() -> None:
    assert isinstance(publish_error(FakeResponse(403, {"error": "This action is outside the authorized scopes"})),
                      AuthError)
    refused = publish_error(FakeResponse(403, {"error": "This action is not allowed"}))
    assert type(refused) is PermanentError


def test_rate_limit_with_retry_after_seconds() -> None:
    error = publish_error(FakeResponse(429, {"error": "Too many requests"}, {"Retry-After": "30"}))
    assert isinstance(error, RetryableError)
    assert error.retry_after_s == 30


def test_rate_limit_with_only_mastodons_reset_time() -> None:
    error = publish_error(FakeResponse(429, {"error": "Too many requests"},
                                       {"X-RateLimit-Reset": "2025-03-01T12:01:30.000000Z"}))
    assert isinstance(error, RetryableError)
    assert error.retry_after_s == 90


def test_rate_limit_with_an_http_date() -> None:
    error = publish_error(FakeResponse(429, {"error": "Too many requests"},
                                       {"Retry-After": "Sat, 01 Mar 2025 12:02:00 GMT"}))
    assert isinstance(error, RetryableError)
    assert error.retry_after_s == 120


def test_only_mastodons_own_error_text_is_shown_clean_and_short() -> None:
    error = publish_error(FakeResponse(422, {"error": "Validation failed\x00\x1b[31m\r\nSet-Cookie: a=b " + "x" * 900}))
    assert "Validation failed [31m Set-Cookie: a=b" in error.message
    assert "\x00" not in error.message and "\n" not in error.message and len(error.message) < 300
    hidden = publish_error(FakeResponse(403, text="<html>internal admin console: password=hunter2</html>"))
    assert "hunter2" not in hidden.message and "HTTP 403" in hidden.message


def test_server_errors_are_retryable() -> None:
    assert isinstance(publish_error(FakeResponse(503, {"error": "Service unavailable"})), RetryableError)
    error = publish_error(FakeResponse(502, text="<html>502 Bad Gateway</html>"))
    assert isinstance(error, RetryableError)
    # The status, never the body: whatever answers at the address is not echoed to the client.
    assert "(502)" in error.message and "<html>" not in error.message


def test_read_timeout_after_sending_a_post_is_ambiguous() -> None:
    assert isinstance(publish_error(requests.ReadTimeout("read timed out")), AmbiguousError)


def test_read_timeout_on_a_read_is_retryable() -> None:
    adapter, _ = adapter_with(requests.ReadTimeout("read timed out"))
    with pytest.raises(RetryableError):
        adapter.poll_inbox(channel(account_id="14715"), None)


def test_failures_before_sending_are_retryable() -> None:
    refused = requests.ConnectionError(MaxRetryError(None, "/api/v1/statuses",  # type: ignore[arg-type]
                                                     NewConnectionError(None, "Connection refused")))
    assert type(publish_error(refused)) is RetryableError
    assert type(publish_error(requests.ConnectTimeout("connect timed out"))) is RetryableError


def test_connection_broken_after_sending_a_post_is_ambiguous() -> None:
    aborted = requests.ConnectionError(ProtocolError("Connection aborted.", ConnectionResetError(104, "reset")))
    assert isinstance(publish_error(aborted), AmbiguousError)


def test_an_unreadable_answer_to_a_post_is_ambiguous() -> None:
    assert isinstance(publish_error(FakeResponse(200, text="<html>ok</html>")), AmbiguousError)


# -- publishing and replying -------------------------------------------------------


def test_publish_sends_the_delivery_id_as_idempotency_key() -> None:
    adapter, session = adapter_with(FakeResponse(200, STATUS))
    result = adapter.publish(channel(), PublishRequest(delivery_id="dlv-1", text="hello",
                                                       link="https://herald.example/l/abc"))
    call = session.calls[0]
    assert (call.method, call.url) == ("POST", "https://mastodon.social/api/v1/statuses")
    assert call.kwargs["headers"]["Idempotency-Key"] == "dlv-1"
    assert call.kwargs["headers"]["Authorization"] == "Bearer secret"
    assert call.kwargs["json"] == {"status": "hello\n\nhttps://herald.example/l/abc"}
    assert result.remote_id == STATUS["id"]
    assert result.remote_url == STATUS["url"]
    assert result.published_at == datetime(2019, 12, 5, 11, 34, 47, 196000, tzinfo=UTC)


@pytest.mark.parametrize(("author", "text", "sent"), [
    ("bob@remote.example", "thanks!", "@bob@remote.example thanks!"),
    ("bob@remote.example", "@bob@remote.example thanks!", "@bob@remote.example thanks!"),
    ("bob@remote.example", "@bob thanks!", "@bob@remote.example @bob thanks!"),
    ("bob", "@Bob thanks!", "@Bob thanks!"),
    ("bob", "@bobby thanks!", "@bob @bobby thanks!"),
])
def test_reply_mentions_the_author_once(author: str, text: str, sent: str) -> None:
    adapter, session = adapter_with(FakeResponse(200, STATUS))
    adapter.reply(channel(), ReplyRequest(reply_id="r1", text=text, in_reply_to="42",
                                          thread={"author_acct": author, "visibility": "public"}))
    body = session.calls[0].kwargs["json"]
    assert body == {"status": sent, "in_reply_to_id": "42"}


def test_reply_to_a_private_mention_stays_private() -> None:
    adapter, session = adapter_with(FakeResponse(200, STATUS))
    adapter.reply(channel(), ReplyRequest(reply_id="r1", text="sure", in_reply_to="42", kind="message",
                                          thread={"author_acct": "haskal@cybre.space", "visibility": "direct"}))
    body = session.calls[0].kwargs["json"]
    assert body["visibility"] == "direct"
    assert body["status"] == "@haskal@cybre.space sure"
    assert session.calls[0].kwargs["headers"]["Idempotency-Key"] == "reply-r1"


# -- inbox ------------------------------------------------------------------------


def test_poll_sorts_mentions_into_comments_messages_and_mentions() -> None:
    page = load_event("mastodon", "notifications_mentions.json")
    adapter, session = adapter_with(FakeResponse(200, page))
    result = adapter.poll_inbox(channel(account_id="14715"), None)

    assert [call.url for call in session.calls] == ["https://mastodon.social/api/v1/notifications"]
    assert session.calls[0].kwargs["params"]["types[]"] == ["mention"]
    assert result.cursor == "34975990"
    assert [(e.event_id, e.kind, e.thread_key) for e in result.events] == [
        ("34975861", "comment", "103186038209478945"),   # a reply to our status
        ("34975900", "mention", "103186140000000000"),
        ("34975940", "mention", "103186160000000001"),   # a reply to someone else that mentions us
        ("34975990", "message", "297420"),               # visibility direct: keyed by the other account
    ]
    comment, _, _, message = result.events
    assert comment.text == "@trwnh sup!"
    assert comment.author_handle == "zsc@mastodon.social"
    assert comment.parent_id == "103186038209478945"
    assert comment.occurred_at == datetime(2019, 11, 23, 7, 49, 1, 940000, tzinfo=UTC)
    assert message.text == ("@trwnh can we talk about the order?\n\n"
                            "It's https://shop.example/orders/1234/very/long/path\nthanks")
    assert message.author_handle == "haskal@cybre.space"
    assert message.reply_context["author_acct"] == "haskal@cybre.space"
    assert message.reply_context["visibility"] == "direct"


def test_poll_with_a_cursor_pages_forward_from_it() -> None:
    adapter, session = adapter_with(FakeResponse(200, []))
    result = adapter.poll_inbox(channel(account_id="14715"), "34975990")
    assert session.calls[0].kwargs["params"]["min_id"] == "34975990"
    assert result.events == []
    assert result.cursor == "34975990"


def test_poll_drops_what_a_server_answers_from_before_the_cursor() -> None:
    page = load_event("mastodon", "notifications_mentions.json")
    adapter, _ = adapter_with(FakeResponse(200, page))
    result = adapter.poll_inbox(channel(account_id="14715"), "34975900")
    assert [e.event_id for e in result.events] == ["34975940", "34975990"]


def test_html_to_text_keeps_paragraphs_breaks_and_full_links() -> None:
    content = ('<p>Hello &amp; welcome</p><p>line one<br />line two <a href="https://example.com/page/long">'
               '<span class="invisible">https://</span><span class="ellipsis">example.com/pa</span>'
               '<span class="invisible">ge/long</span></a></p>')
    assert html_to_text(content) == "Hello & welcome\n\nline one\nline two https://example.com/page/long"


# -- instance limits --------------------------------------------------------------


def test_instance_limits_come_from_the_instance_and_are_cached() -> None:
    instance = {"configuration": {"statuses": {"max_characters": 5000, "max_media_attachments": 6,
                                               "characters_reserved_per_url": 23}}}
    clock = FixedClock(NOW)
    session = FakeSession([FakeResponse(200, instance), FakeResponse(200, instance)])
    adapter = make_adapter(http=session, clock=clock)

    assert adapter.instance_limits("mastodon.example").max_text == 5000
    assert adapter.instance_limits("https://mastodon.example/").max_media == 6
    assert len(session.calls) == 1
    clock.advance(hours=7)
    adapter.instance_limits("mastodon.example")
    assert len(session.calls) == 2


def test_instance_limits_fall_back_to_v1_then_to_500_briefly() -> None:
    clock = FixedClock(NOW)
    session = FakeSession([
        FakeResponse(404, {"error": "Record not found"}),
        FakeResponse(200, {"uri": "old.example", "max_toot_chars": 1000}),
        FakeResponse(503, {"error": "down"}),
        FakeResponse(200, {"configuration": {"statuses": {"max_characters": 3000}}}),
    ])
    adapter = make_adapter(http=session, clock=clock)

    assert adapter.instance_limits("old.example").max_text == 1000
    assert [c.url for c in session.calls] == ["https://old.example/api/v2/instance",
                                              "https://old.example/api/v1/instance"]
    assert adapter.instance_limits("down.example").max_text == 500
    clock.advance(minutes=6)
    assert adapter.instance_limits("down.example").max_text == 3000


@pytest.mark.parametrize(("given", "expected"), [
    ("mastodon.social", "https://mastodon.social"),
    ("https://mastodon.social/", "https://mastodon.social"),
    (" https://Mastodon.Social ", "https://Mastodon.Social"),
])
def test_instance_urls_are_normalised(given: str, expected: str) -> None:
    assert normalize_instance_url(given) == expected


def test_plain_http_to_this_machine_needs_the_allowing_policy() -> None:
    with pytest.raises(PermanentError, match="https://"):
        normalize_instance_url("http://127.0.0.1:3000")
    assert normalize_instance_url("http://127.0.0.1:3000", ALLOW_LOCAL_PEERS) == "http://127.0.0.1:3000"


@pytest.mark.parametrize("given", ["https://127.0.0.1", "https://[::1]:3000", "https://169.254.169.254",
                                   "https://10.1.2.3", "https://localhost:3000", "https://[::ffff:127.0.0.1]"])
def test_an_instance_at_an_inside_address_is_refused(given: str) -> None:
    with pytest.raises(PermanentError, match="refused"):
        normalize_instance_url(given)


def test_plain_http_to_another_machine_is_refused() -> None:
    with pytest.raises(PermanentError):
        normalize_instance_url("http://mastodon.social")
