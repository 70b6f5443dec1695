"""The Mastodon adapter against a local HTTP fake of the Mastodon API."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from chalicelib.core.clock import FixedClock
from chalicelib.core.outbound import ALLOW_LOCAL_PEERS
from chalicelib.networks.base import (
    AmbiguousError,
    AuthError,
    ChannelContext,
    MediaItem,
    PermanentError,
    PublishRequest,
    ReplyRequest,
    RetryableError,
)
from chalicelib.networks.mastodon import MEDIA_POLL_DELAYS_S, MastodonAdapter, count_text, make_adapter
from tests.fakes.mastodon_server import MastodonFake

# Bytes that would trip a careless multipart parser.
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4 + b"\r\n--not-a-boundary\r\n"


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime(2025, 3, 1, 12, 0, tzinfo=UTC))


@pytest.fixture
def fake(clock: FixedClock) -> Iterator[MastodonFake]:
    with MastodonFake(clock=clock) as server:
        yield server


@pytest.fixture
def adapter(clock: FixedClock) -> MastodonAdapter:
    # The fake listens on 127.0.0.1: a local peer, which only the allowing policy reaches.
    return make_adapter(clock=clock, sleep=lambda seconds: clock.advance(seconds), timeout=(2.0, 5.0),
                        policy=ALLOW_LOCAL_PEERS)


def channel_for(fake: MastodonFake, token: str | None = None) -> ChannelContext:
    return ChannelContext(workspace_id="w1", channel_id="c1", network="mastodon", settings={},
                          credentials={"instance_url": fake.url, "access_token": token or fake.access_token})


# -- publishing ---------------------------------------------------------------------


def test_publish_with_image_and_alt_reaches_mastodon_once(fake: MastodonFake, adapter: MastodonAdapter) -> None:
    fake.media_processing_polls = 2
    request = PublishRequest(delivery_id="dlv-1", text="Spring menu is out",
                             media=(MediaItem(mime="image/png", alt="A plate of asparagus", load=lambda: PNG),))

    result = adapter.publish(channel_for(fake), request)

    assert len(fake.created) == 1
    status = fake.created[0]
    assert status.text == "Spring menu is out"
    assert status.idempotency_key == "dlv-1"
    assert [(m["description"], m["content_type"], m["size"]) for m in status.media] == [
        ("A plate of asparagus", "image/png", len(PNG))]
    assert result.remote_id == status.id
    assert result.remote_url == f"{fake.url}/@herald/{status.id}"
    # Two answers of 206 while processing, then 200.
    assert len(fake.requests_to("GET", f"/api/v1/media/{status.media[0]['id']}")) == 3


def test_media_that_never_finishes_processing_posts_nothing(fake: MastodonFake,
                                                           adapter: MastodonAdapter) -> None:
    fake.media_processing_polls = 10**6
    request = PublishRequest(delivery_id="dlv-1", text="video",
                             media=(MediaItem(mime="video/mp4", load=lambda: b"\x00" * 64),))

    with pytest.raises(RetryableError, match="still processing"):
        adapter.publish(channel_for(fake), request)

    assert fake.created == []
    media_id = next(iter(fake.media))
    assert len(fake.requests_to("GET", f"/api/v1/media/{media_id}")) == len(MEDIA_POLL_DELAYS_S)


def test_retry_after_a_read_timeout_creates_no_second_status(fake: MastodonFake, clock: FixedClock) -> None:
    # A real read timeout: the fake creates the status, then stalls longer than this.
    adapter = make_adapter(clock=clock, timeout=(2.0, 0.5), policy=ALLOW_LOCAL_PEERS)
    fake.fail_next("timeout_after_processing", method="POST", path="/api/v1/statuses")
    request = PublishRequest(delivery_id="dlv-7", text="Doors open at 9")

    with pytest.raises(AmbiguousError):
        adapter.publish(channel_for(fake), request)
    assert len(fake.created) == 1  # it did reach Mastodon

    result = adapter.publish(channel_for(fake), request)

    assert len(fake.requests_to("POST", "/api/v1/statuses")) == 2
    assert [status.text for status in fake.created] == ["Doors open at 9"]
    assert result.remote_id == fake.created[0].id


def test_the_same_text_in_another_delivery_is_posted_again(fake: MastodonFake, adapter: MastodonAdapter) -> None:
    adapter.publish(channel_for(fake), PublishRequest(delivery_id="dlv-1", text="Weekly update"))
    adapter.publish(channel_for(fake), PublishRequest(delivery_id="dlv-2", text="Weekly update"))
    assert [status.idempotency_key for status in fake.created] == ["dlv-1", "dlv-2"]


def test_rate_limit_is_retryable_after_retry_after(fake: MastodonFake, adapter: MastodonAdapter) -> None:
    fake.fail_next("rate_limit", path="/api/v1/statuses", retry_after=30)

    with pytest.raises(RetryableError) as caught:
        adapter.publish(channel_for(fake), PublishRequest(delivery_id="dlv-1", text="hi"))

    assert caught.value.status == 429
    assert caught.value.retry_after_s == 30
    assert fake.created == []


def test_rate_limit_without_retry_after_waits_for_mastodons_reset(fake: MastodonFake,
                                                                 adapter: MastodonAdapter) -> None:
    fake.fail_next("rate_limit", reset_in_s=120)

    with pytest.raises(RetryableError) as caught:
        adapter.publish(channel_for(fake), PublishRequest(delivery_id="dlv-1", text="hi"))

    assert caught.value.retry_after_s == 120


def test_server_error_is_retryable_and_the_retry_posts_once(fake: MastodonFake, adapter: MastodonAdapter) -> None:
    fake.fail_next("server_error", status=503, path="/api/v1/statuses")
    request = PublishRequest(delivery_id="dlv-1", text="hi")

    with pytest.raises(RetryableError):
        adapter.publish(channel_for(fake), request)
    adapter.publish(channel_for(fake), request)

    assert len(fake.created) == 1


def test_refused_connection_is_retryable_not_ambiguous(fake: MastodonFake, adapter: MastodonAdapter) -> None:
    fake.refuse_connections()
    with pytest.raises(RetryableError) as caught:
        adapter.publish(channel_for(fake), PublishRequest(delivery_id="dlv-1", text="hi"))
    assert not isinstance(caught.value, AmbiguousError)

    fake.accept_connections()
    adapter.publish(channel_for(fake), PublishRequest(delivery_id="dlv-1", text="hi"))
    assert len(fake.created) == 1


def test_wrong_token_is_an_auth_error(fake: MastodonFake, adapter: MastodonAdapter) -> None:
    with pytest.raises(AuthError, match="The access token is invalid"):
        adapter.publish(channel_for(fake, token="revoked"), PublishRequest(delivery_id="dlv-1", text="hi"))
    assert fake.created == []


def test_counting_agrees_with_the_instance_at_its_limit(fake: MastodonFake, adapter: MastodonAdapter) -> None:
    tail = " https://example.com/a/really/long/path/that/mastodon/counts/as/23 @bob@remote.example 👩‍👩‍👧"
    text = "x" * (500 - count_text(tail)) + tail
    assert count_text(text) == 500

    with pytest.raises(PermanentError, match="character limit of 500 exceeded"):
        adapter.publish(channel_for(fake), PublishRequest(delivery_id="dlv-1", text=text + "!"))
    adapter.publish(channel_for(fake), PublishRequest(delivery_id="dlv-2", text=text))

    assert [status.idempotency_key for status in fake.created] == ["dlv-2"]


# -- limits -------------------------------------------------------------------------


def test_instance_limit_is_read_once_and_cached(clock: FixedClock, adapter: MastodonAdapter) -> None:
    with MastodonFake(clock=clock, max_characters=1000) as fake:
        assert adapter.instance_limits(fake.url).max_text == 1000
        assert adapter.instance_limits(fake.url).max_text == 1000
        assert len(fake.requests_to("GET", "/api/v2/instance")) == 1


def test_instance_limit_from_an_instance_before_mastodon_4(clock: FixedClock, adapter: MastodonAdapter) -> None:
    with MastodonFake(clock=clock, max_characters=700, v2_instance=False) as fake:
        assert adapter.instance_limits(fake.url).max_text == 700
        assert len(fake.requests_to("GET", "/api/v1/instance")) == 1


# -- inbox ----------------------------------------------------------------------------


def test_reply_to_a_comment_threads_under_it(fake: MastodonFake, adapter: MastodonAdapter) -> None:
    post = adapter.publish(channel_for(fake), PublishRequest(delivery_id="dlv-1", text="New opening hours"))
    fake.receive_mention("bob@remote.example", "@herald are you open on Sunday?", in_reply_to_id=post.remote_id)

    [event] = adapter.poll_inbox(channel_for(fake), None).events
    assert (event.kind, event.thread_key, event.author_handle) == ("comment", post.remote_id, "bob@remote.example")
    assert event.text == "@herald are you open on Sunday?"

    adapter.reply(channel_for(fake), ReplyRequest(reply_id="r1", text="Yes, 10 to 4.", in_reply_to=event.message_id,
                                                  thread=event.reply_context, kind=event.kind))

    answer = fake.created[-1]
    assert answer.in_reply_to_id == event.message_id
    assert answer.text == "@bob@remote.example Yes, 10 to 4."
    assert answer.visibility == "public"


def test_reply_to_a_deleted_status_is_permanent(fake: MastodonFake, adapter: MastodonAdapter) -> None:
    with pytest.raises(PermanentError, match="does not appear to exist"):
        adapter.reply(channel_for(fake), ReplyRequest(reply_id="r1", text="thanks", in_reply_to="999",
                                                      thread={"author_acct": "bob@remote.example"}))
    assert fake.created == []


def test_private_mention_is_a_message_and_the_answer_stays_private(fake: MastodonFake,
                                                                  adapter: MastodonAdapter) -> None:
    fake.receive_mention("carol@else.example", "@herald my order never arrived", visibility="direct")
    carol = fake.account_by_acct("carol@else.example")

    [event] = adapter.poll_inbox(channel_for(fake), None).events
    assert (event.kind, event.thread_key) == ("message", carol["id"])

    adapter.reply(channel_for(fake), ReplyRequest(reply_id="r1", text="Sorry! Checking now.",
                                                  in_reply_to=event.message_id, thread=event.reply_context,
                                                  kind=event.kind))

    answer = fake.created[-1]
    assert (answer.visibility, answer.in_reply_to_id) == ("direct", event.message_id)
    assert answer.text.startswith("@carol@else.example ")


def test_poll_returns_each_mention_once(fake: MastodonFake, adapter: MastodonAdapter) -> None:
    post = adapter.publish(channel_for(fake), PublishRequest(delivery_id="dlv-1", text="hello"))
    first = fake.receive_mention("bob@remote.example", "@herald one")
    fake.receive_favourite(post.remote_id, "dave@remote.example")
    second = fake.receive_mention("eve@other.example", "@herald two")

    result = adapter.poll_inbox(channel_for(fake), None)
    assert [e.event_id for e in result.events] == [first["id"], second["id"]]
    assert adapter.poll_inbox(channel_for(fake), result.cursor).events == []

    third = fake.receive_mention("bob@remote.example", "@herald three")
    again = adapter.poll_inbox(channel_for(fake), result.cursor)
    assert [e.event_id for e in again.events] == [third["id"]]
    assert again.cursor == third["id"]


def test_poll_pages_forward_through_a_burst_in_order(fake: MastodonFake, adapter: MastodonAdapter) -> None:
    cursor = adapter.poll_inbox(channel_for(fake), None).cursor
    fake.receive_mention("bob@remote.example", "@herald before the burst")
    cursor = adapter.poll_inbox(channel_for(fake), cursor).cursor
    burst = [fake.receive_mention("bob@remote.example", f"@herald message {n}") for n in range(85)]
    calls_before = len(fake.requests_to("GET", "/api/v1/notifications"))

    result = adapter.poll_inbox(channel_for(fake), cursor)

    assert [e.event_id for e in result.events] == [n["id"] for n in burst]
    assert result.cursor == burst[-1]["id"]
    pages = fake.requests_to("GET", "/api/v1/notifications")[calls_before:]
    assert [page.query["min_id"] for page in pages] == [[cursor], [burst[79]["id"]]]


# -- insights and account ---------------------------------------------------------------


def test_insights_read_followers_and_counts(fake: MastodonFake, adapter: MastodonAdapter) -> None:
    kept = adapter.publish(channel_for(fake), PublishRequest(delivery_id="dlv-1", text="kept"))
    gone = adapter.publish(channel_for(fake), PublishRequest(delivery_id="dlv-2", text="deleted later"))
    fake.me["followers_count"] = 42
    fake.set_counts(kept.remote_id, favourites=7, reblogs=3, replies=2)
    fake.delete_status(gone.remote_id)

    insights = adapter.fetch_insights(channel_for(fake), [kept.remote_id, gone.remote_id])

    assert insights.followers == 42
    assert [(p.remote_id, p.likes, p.reposts, p.replies) for p in insights.posts] == [(kept.remote_id, 7, 3, 2)]


def test_describe_account(fake: MastodonFake, adapter: MastodonAdapter) -> None:
    described = adapter.describe_account(channel_for(fake))
    assert (described["handle"], described["account_id"]) == ("herald@127.0.0.1", fake.me["id"])
