from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import pytest
import requests

from chalicelib.core.clock import FixedClock
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
from chalicelib.networks.bluesky import (
    LIMITS,
    TID_ALPHABET,
    BlueskyAdapter,
    count_text,
    make_adapter,
    record_key,
)
from tests.fakes.bluesky import Failure, FakeBluesky
from tests.support.events import load_event

ME = "did:plc:k3a6mqxwv2nfj7hbcy4zt5de"
P1 = f"at://{ME}/app.bsky.feed.post/3ljt6kvouzc2b"
P2 = f"at://{ME}/app.bsky.feed.post/3ljs2pqmxd22k"
BOB = "did:plc:q6gjnaw2blty4crticxkmujt"
PNG = bytes.fromhex("89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489")


@pytest.fixture
def bluesky() -> FakeBluesky:
    fake = FakeBluesky(did=ME)
    fake.handles["bob.test"] = BOB
    return fake


@pytest.fixture
def adapter(bluesky: FakeBluesky, clock: FixedClock) -> BlueskyAdapter:
    return make_adapter(http=bluesky, clock=clock)


class Channel:
    """A channel whose saved credentials are kept, as the channels service would."""

    def __init__(self, **credentials: Any) -> None:
        self.saved: list[dict[str, Any]] = []
        base = {"service_url": "https://pds.example.com", "handle": "alice.test", "app_password": "app-pass-1234"}
        self.context = ChannelContext("ws_1", "ch_1", "bluesky", {}, {**base, **credentials}, self.saved.append)


@pytest.fixture
def channel() -> Channel:
    return Channel()


def post(adapter: BlueskyAdapter, channel: Channel, text: str, delivery_id: str = "dl_1", **kw: Any) -> Any:
    return adapter.publish(channel.context, PublishRequest(delivery_id=delivery_id, text=text, **kw))


def only_post(bluesky: FakeBluesky) -> dict[str, Any]:
    posts = bluesky.posts()
    assert len(posts) == 1
    return posts[0]["value"]


def covered(text: str, facet: dict[str, Any]) -> str:
    index = facet["index"]
    return text.encode("utf-8")[index["byteStart"]: index["byteEnd"]].decode("utf-8")


# -- counting text


def test_text_is_counted_in_graphemes_as_bluesky_counts_it() -> None:
    assert count_text("👩‍👩‍👧‍👦") == 1
    assert count_text("🇫🇷🇩🇪") == 2
    assert count_text("e\u0301te\u0301") == 3
    assert count_text("नमस्ते") == 3  # Unicode 15.1 conjuncts, as Intl.Segmenter counts them
    assert LIMITS.max_text == 300
    assert LIMITS.text_counting == "graphemes"


def test_a_post_of_300_graphemes_goes_out_and_301_is_refused(adapter: BlueskyAdapter, channel: Channel,
                                                             bluesky: FakeBluesky) -> None:
    post(adapter, channel, "👍🏽" * 300)
    assert only_post(bluesky)["text"] == "👍🏽" * 300

    with pytest.raises(PermanentError, match="300"):
        post(adapter, channel, "👍🏽" * 301, delivery_id="dl_2")
    assert len(bluesky.posts()) == 1


# -- rich text


def test_facets_count_utf8_bytes_around_accents_and_emoji(adapter: BlueskyAdapter, channel: Channel,
                                                         bluesky: FakeBluesky) -> None:
    text = "Café ☕ @bob.test https://exämple.com/ü?q=1. #Ünïcode 🎉"
    post(adapter, channel, text)

    facets = only_post(bluesky)["facets"]
    assert [f["index"] for f in facets] == [
        {"byteStart": 10, "byteEnd": 19},
        {"byteStart": 20, "byteEnd": 47},
        {"byteStart": 49, "byteEnd": 59},
    ]
    assert [f["features"] for f in facets] == [
        [{"$type": "app.bsky.richtext.facet#mention", "did": BOB}],
        [{"$type": "app.bsky.richtext.facet#link", "uri": "https://exämple.com/ü?q=1"}],
        [{"$type": "app.bsky.richtext.facet#tag", "tag": "Ünïcode"}],
    ]
    assert [covered(text, f) for f in facets] == ["@bob.test", "https://exämple.com/ü?q=1", "#Ünïcode"]


def test_a_mention_after_a_zwj_emoji_starts_at_its_byte_offset(adapter: BlueskyAdapter, channel: Channel,
                                                              bluesky: FakeBluesky) -> None:
    text = "👩‍👩‍👧‍👦 (@Bob.test)"
    post(adapter, channel, text)

    [facet] = only_post(bluesky)["facets"]
    assert facet["index"] == {"byteStart": 27, "byteEnd": 36}
    assert covered(text, facet) == "@Bob.test"
    assert bluesky.calls("com.atproto.identity.resolveHandle")[0].params["handle"] == ["bob.test"]


def test_a_mention_nobody_answers_to_stays_plain_text(adapter: BlueskyAdapter, channel: Channel,
                                                      bluesky: FakeBluesky) -> None:
    post(adapter, channel, "thanks @nobody.test and @bob.test, mail me at carol@example.com")

    facets = only_post(bluesky)["facets"]
    assert [f["features"][0]["did"] for f in facets] == [BOB]


def test_hashtags_drop_trailing_punctuation_and_skip_numbers_and_keycaps(adapter: BlueskyAdapter, channel: Channel,
                                                                        bluesky: FakeBluesky) -> None:
    text = "#launch! #2024 #️⃣ ＃全角 see https://example.com/#anchor, (https://example.com/a_(b)) x#not"
    post(adapter, channel, text)

    features = [f["features"][0] for f in only_post(bluesky)["facets"]]
    assert features == [
        {"$type": "app.bsky.richtext.facet#tag", "tag": "launch"},
        {"$type": "app.bsky.richtext.facet#tag", "tag": "全角"},
        {"$type": "app.bsky.richtext.facet#link", "uri": "https://example.com/#anchor"},
        {"$type": "app.bsky.richtext.facet#link", "uri": "https://example.com/a_(b)"},
    ]


def test_a_link_of_the_post_is_added_to_the_text_as_a_link(adapter: BlueskyAdapter, channel: Channel,
                                                           bluesky: FakeBluesky) -> None:
    post(adapter, channel, "New menu 🍰", link="https://bakery.example/menu")

    record = only_post(bluesky)
    assert record["text"] == "New menu 🍰\n\nhttps://bakery.example/menu"
    assert record["facets"][0]["features"][0]["uri"] == "https://bakery.example/menu"
    assert covered(record["text"], record["facets"][0]) == "https://bakery.example/menu"


# -- publishing and idempotency


def decode_tid(tid: str) -> int:
    value = 0
    for char in tid:
        value = value * 32 + TID_ALPHABET.index(char)
    return value


def test_record_keys_are_valid_tids_derived_from_the_delivery_alone(clock: FixedClock) -> None:
    first, again, other = record_key("delivery:dl_1"), record_key("delivery:dl_1"), record_key("delivery:dl_2")

    assert first == again
    assert first != other
    for key in (first, other):
        assert len(key) == 13 and key[0] in "234567abcdefghij"
        micros = decode_tid(key) >> 10
        assert datetime(2023, 1, 1, tzinfo=UTC).timestamp() * 1e6 <= micros < clock.now().timestamp() * 1e6


def test_publish_creates_a_post_and_returns_its_address(adapter: BlueskyAdapter, channel: Channel,
                                                        bluesky: FakeBluesky, clock: FixedClock) -> None:
    result = post(adapter, channel, "Hello Bluesky")

    rkey = record_key("delivery:dl_1")
    assert result.remote_id == f"at://{ME}/app.bsky.feed.post/{rkey}"
    assert result.remote_url == f"https://bsky.app/profile/alice.test/post/{rkey}"
    assert result.published_at == clock.now()
    assert only_post(bluesky) == {"$type": "app.bsky.feed.post", "text": "Hello Bluesky",
                                  "createdAt": "2026-03-02T09:00:00Z"}
    assert adapter.idempotent_publish is True


def test_publishing_the_same_delivery_twice_leaves_one_post(adapter: BlueskyAdapter, channel: Channel,
                                                            bluesky: FakeBluesky, clock: FixedClock) -> None:
    first = post(adapter, channel, "Only once")
    clock.advance(60)
    second = post(adapter, channel, "Only once")

    assert second.remote_id == first.remote_id
    assert second.published_at == first.published_at
    assert len(bluesky.posts()) == 1
    assert len(bluesky.calls("com.atproto.repo.createRecord")) == 2


def test_a_timeout_after_sending_is_ambiguous_and_the_retry_finds_the_post(adapter: BlueskyAdapter,
                                                                          channel: Channel,
                                                                          bluesky: FakeBluesky) -> None:
    bluesky.fail_next("com.atproto.repo.createRecord",
                      Failure(exception=requests.ReadTimeout("read timed out"), after_handling=True))

    with pytest.raises(AmbiguousError):
        post(adapter, channel, "Did it go out?")
    retried = post(adapter, channel, "Did it go out?")

    assert retried.remote_id == f"at://{ME}/app.bsky.feed.post/{record_key('delivery:dl_1')}"
    assert len(bluesky.posts()) == 1


@pytest.mark.parametrize("exception", [requests.ConnectTimeout("connect timed out"),
                                       requests.ConnectionError("connection refused")])
def test_failing_to_reach_bluesky_is_retryable(adapter: BlueskyAdapter, channel: Channel, bluesky: FakeBluesky,
                                               exception: Exception) -> None:
    bluesky.fail_next("com.atproto.repo.createRecord", Failure(exception=exception))

    with pytest.raises(RetryableError):
        post(adapter, channel, "hello")
    assert bluesky.posts() == []


def test_a_read_timeout_on_a_read_is_retryable_not_ambiguous(adapter: BlueskyAdapter, channel: Channel,
                                                            bluesky: FakeBluesky) -> None:
    bluesky.fail_next("app.bsky.actor.getProfile", Failure(exception=requests.ReadTimeout("read timed out")))

    with pytest.raises(RetryableError) as caught:
        adapter.fetch_insights(channel.context, [])
    assert not isinstance(caught.value, AmbiguousError)


def test_rate_limit_waits_as_long_as_retry_after_says(adapter: BlueskyAdapter, channel: Channel,
                                                      bluesky: FakeBluesky) -> None:
    bluesky.fail_next("com.atproto.repo.createRecord",
                      Failure(429, {"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"},
                              {"Retry-After": "30"}))

    with pytest.raises(RetryableError) as caught:
        post(adapter, channel, "hello")
    assert (caught.value.status, caught.value.retry_after_s) == (429, 30.0)
    assert bluesky.posts() == []


def test_rate_limit_without_retry_after_waits_until_ratelimit_reset(adapter: BlueskyAdapter, channel: Channel,
                                                                   bluesky: FakeBluesky, clock: FixedClock) -> None:
    reset = int(clock.now().timestamp()) + 120
    bluesky.fail_next("com.atproto.repo.createRecord",
                      Failure(429, {"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"},
                              {"RateLimit-Limit": "5000", "RateLimit-Remaining": "0", "RateLimit-Reset": str(reset)}))

    with pytest.raises(RetryableError) as caught:
        post(adapter, channel, "hello")
    assert caught.value.retry_after_s == 120.0


def test_a_server_error_with_no_post_behind_it_is_retryable(adapter: BlueskyAdapter, channel: Channel,
                                                            bluesky: FakeBluesky) -> None:
    bluesky.fail_next("com.atproto.repo.createRecord",
                      Failure(502, {"error": "UpstreamFailure", "message": "Upstream Failure"}))

    with pytest.raises(RetryableError) as caught:
        post(adapter, channel, "hello")
    assert caught.value.status == 502
    assert bluesky.posts() == []
    assert len(bluesky.calls("com.atproto.repo.getRecord")) == 1  # it looked for the post before giving up


def test_a_refused_post_is_permanent_and_says_why(adapter: BlueskyAdapter, channel: Channel,
                                                  bluesky: FakeBluesky) -> None:
    bluesky.fail_next("com.atproto.repo.createRecord",
                      Failure(400, {"error": "InvalidRequest", "message": "Invalid app.bsky.feed.post record: "
                                                                         "Record/text must not be longer than 300 "
                                                                         "graphemes"}))

    with pytest.raises(PermanentError, match="must not be longer than 300 graphemes"):
        post(adapter, channel, "hello")


def test_a_refusal_says_why_in_one_short_clean_line(adapter: BlueskyAdapter, channel: Channel,
                                                    bluesky: FakeBluesky) -> None:
    message = "Invalid record\x1b[2J\r\nX-Injected: yes " + "padding " * 200
    bluesky.fail_next("com.atproto.repo.createRecord", Failure(400, {"error": "InvalidRequest", "message": message}))

    with pytest.raises(PermanentError) as caught:
        post(adapter, channel, "hello")

    assert "Invalid record [2J X-Injected: yes" in caught.value.message
    assert "\x1b" not in caught.value.message and "\n" not in caught.value.message
    assert len(caught.value.message) < 320


def test_a_pds_at_an_inside_address_is_refused_before_anything_is_sent(bluesky: FakeBluesky,
                                                                       clock: FixedClock) -> None:
    from chalicelib.core.errors import ValidationFailed

    inside = Channel(service_url="https://169.254.169.254")
    with pytest.raises(PermanentError, match="link-local"):
        post(make_adapter(http=bluesky, clock=clock), inside, "hello")
    with pytest.raises(ValidationFailed) as caught:
        make_adapter(http=bluesky, clock=clock).describe_account(Channel(service_url="http://pds.example").context)
    assert caught.value.details[0]["field"] == "credentials.service_url"
    assert bluesky.sent == []


# -- images


def test_images_are_uploaded_and_embedded_with_their_alt_text(adapter: BlueskyAdapter, channel: Channel,
                                                              bluesky: FakeBluesky) -> None:
    media = (MediaItem("image/png", alt="A croissant", load=lambda: PNG),
             MediaItem("image/jpeg", alt="", load=lambda: b"\xff\xd8\xff\xe0jpeg"))
    post(adapter, channel, "Fresh today", media=media)

    uploads = bluesky.calls("com.atproto.repo.uploadBlob")
    assert [(u.data, u.headers["Content-Type"]) for u in uploads] == [(PNG, "image/png"),
                                                                    (b"\xff\xd8\xff\xe0jpeg", "image/jpeg")]
    embed = only_post(bluesky)["embed"]
    assert embed["$type"] == "app.bsky.embed.images"
    assert [image["alt"] for image in embed["images"]] == ["A croissant", ""]
    uploaded = [bluesky.blobs[image["image"]["ref"]["$link"]] for image in embed["images"]]
    assert uploaded == [PNG, b"\xff\xd8\xff\xe0jpeg"]
    assert embed["images"][0]["image"]["mimeType"] == "image/png"


@pytest.mark.parametrize(("media", "reason"), [
    ((MediaItem("image/png", load=lambda: b"x" * 1_000_001),), "1,000,000 bytes"),
    (tuple(MediaItem("image/png", load=lambda: PNG) for _ in range(5)), "at most 4 images"),
    ((MediaItem("video/mp4", load=lambda: b"mp4"),), "images only"),
])
def test_media_bluesky_would_refuse_is_refused_before_sending_anything(adapter: BlueskyAdapter, channel: Channel,
                                                                bluesky: FakeBluesky, media: tuple[MediaItem, ...],
                                                                reason: str) -> None:
    with pytest.raises(PermanentError, match=reason):
        post(adapter, channel, "pics for @bob.test", media=media)
    assert bluesky.sent == []


# -- sessions


def test_the_first_call_logs_in_and_saves_the_session(adapter: BlueskyAdapter, channel: Channel,
                                                      bluesky: FakeBluesky) -> None:
    post(adapter, channel, "one")
    post(adapter, channel, "two", delivery_id="dl_2")

    assert len(bluesky.calls("com.atproto.server.createSession")) == 1
    assert bluesky.calls("com.atproto.server.createSession")[0].json == {"identifier": "alice.test",
                                                                         "password": "app-pass-1234"}
    assert channel.saved == [{"service_url": "https://pds.example.com", "handle": "alice.test",
                              "app_password": "app-pass-1234", "access_jwt": "access-1",
                              "refresh_jwt": "refresh-1", "did": ME}]


def test_an_expired_access_token_is_refreshed_and_the_call_repeated(adapter: BlueskyAdapter, channel: Channel,
                                                                    bluesky: FakeBluesky) -> None:
    post(adapter, channel, "one")
    bluesky.expire_tokens()

    post(adapter, channel, "two", delivery_id="dl_2")

    assert len(bluesky.posts()) == 2
    assert len(bluesky.calls("com.atproto.server.refreshSession")) == 1
    assert len(bluesky.calls("com.atproto.server.createSession")) == 1
    assert channel.saved[-1]["access_jwt"] == "access-2"
    assert channel.saved[-1]["refresh_jwt"] == "refresh-2"


def test_when_refreshing_fails_the_adapter_logs_in_again(adapter: BlueskyAdapter, channel: Channel,
                                                         bluesky: FakeBluesky) -> None:
    post(adapter, channel, "one")
    bluesky.expire_everything()

    post(adapter, channel, "two", delivery_id="dl_2")

    assert len(bluesky.posts()) == 2
    assert len(bluesky.calls("com.atproto.server.createSession")) == 2
    assert channel.saved[-1]["access_jwt"] == "access-2"


def test_a_wrong_app_password_is_an_auth_error(adapter: BlueskyAdapter, bluesky: FakeBluesky) -> None:
    channel = Channel(app_password="wrong")

    with pytest.raises(AuthError, match="Invalid identifier or password"):
        post(adapter, channel, "hello")
    assert bluesky.calls("com.atproto.repo.createRecord") == []
    assert channel.saved == []


def test_a_token_refused_right_after_logging_in_is_an_auth_error(adapter: BlueskyAdapter, channel: Channel,
                                                                 bluesky: FakeBluesky) -> None:
    refused = Failure(401, {"error": "AccountDeactivated", "message": "Account is deactivated"})
    bluesky.fail_next("app.bsky.actor.getProfile", refused)
    bluesky.fail_next("app.bsky.actor.getProfile", refused)

    with pytest.raises(AuthError, match="Account is deactivated"):
        adapter.fetch_insights(channel.context, [])


def test_describe_account_gives_the_handle_and_did(adapter: BlueskyAdapter, channel: Channel) -> None:
    assert adapter.describe_account(channel.context) == {"handle": "alice.test", "account_id": ME}
    assert channel.context.credentials["did"] == ME


# -- replies


def test_a_reply_points_at_the_thread_root_and_the_parent(adapter: BlueskyAdapter, channel: Channel,
                                                          bluesky: FakeBluesky) -> None:
    root = {"uri": P1, "cid": "bafyreiroot"}
    parent = {"uri": "at://did:plc:carol/app.bsky.feed.post/3ljt7a2zqkk2x", "cid": "bafyreiparent"}
    request = ReplyRequest("rp_1", "Merci Carol! Yes, threads too.", in_reply_to=parent["uri"],
                           thread={"root": root, "parent": parent})

    result = adapter.reply(channel.context, request)
    again = adapter.reply(channel.context, request)

    record = only_post(bluesky)
    assert record["reply"] == {"root": root, "parent": parent}
    assert record["text"] == "Merci Carol! Yes, threads too."
    assert again.remote_id == result.remote_id == f"at://{ME}/app.bsky.feed.post/{record_key('reply:rp_1')}"


def test_a_reply_without_thread_context_looks_the_parent_up(adapter: BlueskyAdapter, channel: Channel,
                                                            bluesky: FakeBluesky) -> None:
    post(adapter, channel, "Root post")
    root = bluesky.posts()[0]
    adapter.reply(channel.context, ReplyRequest("rp_1", "first reply", in_reply_to=root["uri"]))
    first_reply = next(r for r in bluesky.posts() if r["uri"] != root["uri"])

    adapter.reply(channel.context, ReplyRequest("rp_2", "second reply", in_reply_to=first_reply["uri"]))

    second = next(r for r in bluesky.posts() if r["value"]["text"] == "second reply")
    assert second["value"]["reply"] == {"root": {"uri": root["uri"], "cid": root["cid"]},
                                        "parent": {"uri": first_reply["uri"], "cid": first_reply["cid"]}}


def test_direct_messages_cannot_be_answered(adapter: BlueskyAdapter, channel: Channel) -> None:
    with pytest.raises(PermanentError, match="direct messages"):
        adapter.reply(channel.context, ReplyRequest("rp_1", "hi", in_reply_to="convo-1", kind="message"))


# -- inbox


@pytest.fixture
def inbox(bluesky: FakeBluesky) -> list[dict[str, Any]]:
    bluesky.notifications = load_event("bluesky", "list_notifications.json")["notifications"]
    return bluesky.notifications


def notification(uri: str, indexed_at: str, reason: str = "reply") -> dict[str, Any]:
    return {"uri": uri, "cid": "bafyreinew", "reason": reason, "isRead": False, "indexedAt": indexed_at,
            "author": {"did": "did:plc:gus", "handle": "gus.bsky.social", "displayName": "Gus"},
            "record": {"$type": "app.bsky.feed.post", "text": "late to the party",
                       "createdAt": indexed_at, "reply": {"root": {"uri": P1, "cid": "c1"},
                                                          "parent": {"uri": P1, "cid": "c1"}}}}


def test_polling_turns_replies_mentions_and_quotes_into_events(adapter: BlueskyAdapter, channel: Channel,
                                                               bluesky: FakeBluesky,
                                                               inbox: list[dict[str, Any]]) -> None:
    result = adapter.poll_inbox(channel.context, None)

    frank, dave, carol, erin = inbox
    assert [e.event_id for e in result.events] == [erin["uri"], carol["uri"], dave["uri"], frank["uri"]]
    assert bluesky.calls("app.bsky.notification.listNotifications")[0].params["reasons"] == ["reply", "mention",
                                                                                             "quote"]
    by_id = {e.event_id: e for e in result.events}

    reply = by_id[carol["uri"]]
    assert (reply.network, reply.account_id, reply.kind, reply.action) == ("bluesky", ME, "comment", "created")
    assert (reply.thread_key, reply.message_id, reply.parent_id) == (P1, carol["uri"], P1)
    assert reply.text == "Génial ! Does it work with threads too? 🧵"
    assert (reply.author_id, reply.author_name, reply.author_handle) == (carol["author"]["did"], "Carol Dupré",
                                                                         "carol.bsky.social")
    assert reply.occurred_at == datetime(2026, 3, 2, 8, 57, 40, 871000, tzinfo=UTC)
    assert reply.reply_context == {"root": {"uri": P1, "cid": carol["record"]["reply"]["root"]["cid"]},
                                   "parent": {"uri": carol["uri"], "cid": carol["cid"]}}

    nested = by_id[frank["uri"]]
    assert (nested.thread_key, nested.parent_id) == (P1, carol["uri"])

    quote = by_id[dave["uri"]]
    assert (quote.kind, quote.thread_key, quote.parent_id) == ("mention", dave["uri"], P1)

    mention = by_id[erin["uri"]]
    assert (mention.kind, mention.thread_key, mention.author_name) == ("mention", erin["uri"], "erin.bsky.social")
    assert mention.reply_context == {"root": {"uri": erin["uri"], "cid": erin["cid"]},
                                     "parent": {"uri": erin["uri"], "cid": erin["cid"]}}


def test_polling_again_returns_only_what_is_newer_than_the_cursor(adapter: BlueskyAdapter, channel: Channel,
                                                                  inbox: list[dict[str, Any]]) -> None:
    first = adapter.poll_inbox(channel.context, None)
    again = adapter.poll_inbox(channel.context, first.cursor)
    assert again.events == []
    assert again.cursor == first.cursor

    newest = inbox[0]["indexedAt"]
    inbox.insert(0, notification("at://did:plc:gus/app.bsky.feed.post/3ljt8aaaaaa2a", "2026-03-02T09:05:00.000Z"))
    inbox.insert(1, notification("at://did:plc:gus/app.bsky.feed.post/3ljt7zzzzzz2a", newest))  # same instant

    later = adapter.poll_inbox(channel.context, again.cursor)
    assert [e.event_id for e in later.events] == ["at://did:plc:gus/app.bsky.feed.post/3ljt7zzzzzz2a",
                                                  "at://did:plc:gus/app.bsky.feed.post/3ljt8aaaaaa2a"]
    assert adapter.poll_inbox(channel.context, later.cursor).events == []


def test_polling_pages_back_until_it_reaches_the_cursor(adapter: BlueskyAdapter, channel: Channel,
                                                        bluesky: FakeBluesky) -> None:
    bluesky.notifications = [notification(f"at://did:plc:gus/app.bsky.feed.post/{n:013d}",
                                           f"2026-03-02T08:{59 - n // 60:02d}:{59 - n % 60:02d}.000Z")
                             for n in range(250)]
    first = adapter.poll_inbox(channel.context, None)
    assert len(first.events) == 250
    assert len(bluesky.calls("app.bsky.notification.listNotifications")) == 3

    bluesky.notifications[:0] = [notification(f"at://did:plc:gus/app.bsky.feed.post/new{n}",
                                              f"2026-03-02T09:0{n}:00.000Z") for n in (3, 2, 1)]
    later = adapter.poll_inbox(channel.context, first.cursor)
    assert [e.event_id.rsplit("/", 1)[1] for e in later.events] == ["new1", "new2", "new3"]
    assert len(bluesky.calls("app.bsky.notification.listNotifications")) == 4


def test_an_empty_inbox_keeps_no_cursor(adapter: BlueskyAdapter, channel: Channel) -> None:
    assert adapter.poll_inbox(channel.context, None).cursor is None


def test_a_cursor_from_elsewhere_is_refused(adapter: BlueskyAdapter, channel: Channel) -> None:
    with pytest.raises(PermanentError, match="cursor"):
        adapter.poll_inbox(channel.context, "2026-03-02T08:55:03.902Z")


# -- insights


def test_insights_report_followers_and_counts_per_post(adapter: BlueskyAdapter, channel: Channel,
                                                       bluesky: FakeBluesky) -> None:
    bluesky.profile = load_event("bluesky", "get_profile.json")
    bluesky.post_views = {p["uri"]: p for p in load_event("bluesky", "get_posts.json")["posts"]}
    deleted = f"at://{ME}/app.bsky.feed.post/3ljaaaaaaaa2a"

    insights = adapter.fetch_insights(channel.context, [P2, deleted, P1])

    assert insights.followers == 1284
    assert [(p.remote_id, p.likes, p.reposts, p.replies) for p in insights.posts] == [(P2, 12, 0, 1),
                                                                                      (P1, 57, 9, 3)]
    assert bluesky.calls("app.bsky.actor.getProfile")[0].params["actor"] == [ME]


def test_insights_ask_for_at_most_25_posts_at_a_time(adapter: BlueskyAdapter, channel: Channel,
                                                     bluesky: FakeBluesky) -> None:
    view = load_event("bluesky", "get_posts.json")["posts"][0]
    uris = [f"at://{ME}/app.bsky.feed.post/3ljaaaaaaa{n:03d}" for n in range(30)]
    bluesky.post_views = {uri: {**copy.deepcopy(view), "uri": uri} for uri in uris}

    insights = adapter.fetch_insights(channel.context, uris)

    assert [len(call.params["uris"]) for call in bluesky.calls("app.bsky.feed.getPosts")] == [25, 5]
    assert [p.remote_id for p in insights.posts] == uris
