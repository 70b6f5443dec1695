import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime

import pytest

from chalicelib.networks import x
from chalicelib.networks.base import (
    AuthError,
    InboundEvent,
    PermanentError,
    PublishRequest,
    ReplyRequest,
    RetryableError,
    SignatureError,
)
from chalicelib.networks.webhook import BASE64_CHARS
from tests.support.network_fakes import FakeResponse, FakeSession, channel, event_bytes, fixed_clock, load_event
from tests.support.webhooks import json_objects_as_text, random_tokens

CONSUMER_SECRET = "x-consumer-secret"
OUR_USER = "2975699229"
FAN = "1205290247124217856"


def _is_json_object(text: str) -> bool:
    try:
        return isinstance(json.loads(text), dict)
    except ValueError:
        return False


def sign(body: bytes, secret: str = CONSUMER_SECRET) -> str:
    digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    return "sha256=" + base64.b64encode(digest).decode()


class TestSignature:
    body = event_bytes("x", "tweet_create_reply.json")

    def test_accepts_the_signature_of_the_raw_body(self):
        x.verify_signature(self.body, {"x-twitter-webhooks-signature": sign(self.body)}, CONSUMER_SECRET)

    def test_header_name_is_case_insensitive(self):
        x.verify_signature(self.body, {"X-Twitter-Webhooks-Signature": sign(self.body)}, CONSUMER_SECRET)

    def test_refuses_a_missing_header(self):
        with pytest.raises(SignatureError, match="missing"):
            x.verify_signature(self.body, {}, CONSUMER_SECRET)

    def test_refuses_another_secret(self):
        with pytest.raises(SignatureError, match="does not match"):
            x.verify_signature(
                self.body, {"x-twitter-webhooks-signature": sign(self.body, "nope")}, CONSUMER_SECRET
            )

    def test_refuses_a_signature_over_other_bytes(self):
        other = json.dumps(json.loads(self.body), separators=(",", ":")).encode()
        with pytest.raises(SignatureError, match="does not match"):
            x.verify_signature(self.body, {"x-twitter-webhooks-signature": sign(other)}, CONSUMER_SECRET)

    def test_a_hex_digest_is_not_the_documented_encoding(self):
        hex_signature = "sha256=" + hmac.new(CONSUMER_SECRET.encode(), self.body, hashlib.sha256).hexdigest()
        with pytest.raises(SignatureError, match="malformed"):
            x.verify_signature(self.body, {"x-twitter-webhooks-signature": hex_signature}, CONSUMER_SECRET)

    def test_base64_is_case_sensitive(self):
        swapped = sign(self.body)[:7] + sign(self.body)[7:].swapcase()
        with pytest.raises(SignatureError):
            x.verify_signature(self.body, {"x-twitter-webhooks-signature": swapped}, CONSUMER_SECRET)

    @pytest.mark.parametrize("header", ["sha256=", "sha256=***", "md5=" + "A" * 44, "sha256=" + "QUJD"])
    def test_refuses_a_malformed_header(self, header):
        with pytest.raises(SignatureError, match="malformed"):
            x.verify_signature(self.body, {"x-twitter-webhooks-signature": header}, CONSUMER_SECRET)


class TestCrc:
    def test_answers_with_the_base64_hmac_of_the_token(self):
        # Worked example from X's own CRC sample code (consumer secret and token as published there).
        secret = "z3ZX4v7mAAUGykl3EcmkqbartmuW8VFOOzCloLx9Q45P0hLrFu"
        token = "9b4507b3-9040-4669-9ca3-6b94edb50553"
        expected = base64.b64encode(
            hmac.new(secret.encode(), token.encode(), hashlib.sha256).digest()
        ).decode()
        assert x.crc_response(token, secret) == {"response_token": "sha256=" + expected}

    def test_refuses_an_empty_token(self):
        with pytest.raises(SignatureError):
            x.crc_response("", CONSUMER_SECRET)

    @pytest.mark.parametrize("token", [
        "9b4507b3-9040-4669-9ca3-6b94edb50553",
        "MTU5NDk0NDQwNjk2OTIzMDk3Ng==",
        "a+b/c=",
        "url_safe-Token",
        "A" * 256,
    ])
    def test_answers_tokens_of_the_documented_shape(self, token):
        digest = hmac.new(CONSUMER_SECRET.encode(), token.encode(), hashlib.sha256).digest()
        assert x.crc_response(token, CONSUMER_SECRET)["response_token"] == (
            "sha256=" + base64.b64encode(digest).decode())

    @pytest.mark.parametrize("token", [
        "A" * 257, "{}", ' {"a":1}', "\ufeff{}", "a b", "a\n", "tok\u00e9n", "a.b", "<b>", "%7B%7D",
        event_bytes("x", "tweet_create_reply.json").decode(),
        json.dumps(load_event("x", "direct_message_incoming.json"), separators=(",", ":")),
    ])
    def test_refuses_anything_else_without_repeating_it(self, token):
        with pytest.raises(SignatureError) as refused:
            x.crc_response(token, CONSUMER_SECRET)
        assert token not in str(refused.value)

    def test_never_signs_a_json_object_whatever_surrounds_it(self):
        # X signs a POST's raw body alone: a CRC over a JSON object would be that POST's signature.
        for body in json_objects_as_text():
            with pytest.raises(SignatureError):
                x.crc_response(body, CONSUMER_SECRET)

    def test_nothing_it_signs_parses_as_a_json_object(self):
        for token in random_tokens(BASE64_CHARS):
            x.crc_response(token, CONSUMER_SECRET)
            assert not _is_json_object(token)

    def test_the_token_alphabet_has_no_brace_and_no_whitespace(self):
        assert not BASE64_CHARS & set("{}[]\"' \t\r\n\ufeff\x0b\x0c")


def only_event(name: str) -> InboundEvent:
    parsed = x.parse_webhook(load_event("x", name))
    assert parsed.errors == [] and parsed.ignored == 0
    assert len(parsed.events) == 1
    return parsed.events[0]


class TestTweets:
    def test_a_reply_to_our_post_is_a_comment(self):
        assert only_event("tweet_create_reply.json") == InboundEvent(
            network="x",
            account_id=OUR_USER,
            event_id="1207623566339919872",
            kind="comment",
            action="created",
            thread_key="1205348660982083584",
            message_id="1207623566339919872",
            direction="inbound",
            text="@ScruffyMcG Does the new roast come in decaf?",
            occurred_at=datetime(2019, 12, 19, 11, 27, 49, 433000, tzinfo=UTC),
            author_id=FAN,
            author_name="pennbrooke",
            author_handle="pennbrooke1",
            parent_id="1205348660982083584",
            reply_context={"tweet_id": "1207623566339919872", "author_id": FAN},
        )

    def test_a_reply_is_threaded_on_the_conversation_root_when_x_gives_it(self):
        payload = load_event("x", "tweet_create_reply.json")
        payload["tweet_create_events"][0]["conversation_id_str"] = "1205000000000000000"
        event = x.parse_webhook(payload).events[0]
        assert event.thread_key == "1205000000000000000"
        assert event.parent_id == "1205348660982083584"

    def test_a_mention_outside_a_reply_is_a_mention(self):
        event = only_event("tweet_create_mention.json")
        assert (event.kind, event.thread_key, event.message_id, event.parent_id) == (
            "mention",
            "1206724334791753730",
            "1206724334791753730",
            None,
        )
        assert event.text == "Best coffee in town is at @ScruffyMcG, fight me \u2615"
        assert event.occurred_at == datetime(2019, 12, 17, 0, 1, 25, 19000, tzinfo=UTC)

    def test_the_full_text_of_an_extended_tweet_is_kept(self):
        payload = load_event("x", "tweet_create_mention.json")
        tweet = payload["tweet_create_events"][0]
        tweet["truncated"] = True
        tweet["text"] = "Best coffee in town is at @ScruffyMcG, fight\u2026 https://t.co/abc"
        tweet["extended_tweet"] = {
            "full_text": "Best coffee in town is at @ScruffyMcG, fight me, I have receipts"
        }
        assert x.parse_webhook(payload).events[0].text.endswith("I have receipts")

    def test_our_own_reply_to_someone_is_outbound(self):
        payload = load_event("x", "tweet_create_reply.json")
        tweet = payload["tweet_create_events"][0]
        tweet["user"] = {"id_str": OUR_USER, "name": "Ryan Lue", "screen_name": "ScruffyMcG"}
        tweet["in_reply_to_user_id_str"] = FAN
        tweet["in_reply_to_status_id_str"] = "1207623566339919872"
        event = x.parse_webhook(payload).events[0]
        assert (event.direction, event.kind, event.thread_key) == (
            "outbound",
            "comment",
            "1207623566339919872",
        )

    def test_our_own_posts_and_reposts_are_ignored(self):
        payload = load_event("x", "tweet_create_mention.json")
        own = dict(payload["tweet_create_events"][0], user={"id_str": OUR_USER, "screen_name": "ScruffyMcG"})
        repost = dict(payload["tweet_create_events"][0], retweeted_status={"id_str": "1"})
        unrelated = dict(payload["tweet_create_events"][0], entities={"user_mentions": []})
        parsed = x.parse_webhook({"for_user_id": OUR_USER, "tweet_create_events": [own, repost, unrelated]})
        assert parsed.events == [] and parsed.ignored == 3

    def test_created_at_is_used_when_timestamp_ms_is_missing(self):
        payload = load_event("x", "tweet_create_reply.json")
        del payload["tweet_create_events"][0]["timestamp_ms"]
        assert x.parse_webhook(payload).events[0].occurred_at == datetime(
            2019, 12, 19, 11, 27, 49, tzinfo=UTC
        )


class TestDirectMessages:
    def test_an_incoming_message(self):
        assert only_event("direct_message_incoming.json") == InboundEvent(
            network="x",
            account_id=OUR_USER,
            event_id="1206724334791753732",
            kind="message",
            action="created",
            thread_key=FAN,
            message_id="1206724334791753732",
            direction="inbound",
            text="Yes, you are!",
            occurred_at=datetime(2019, 12, 16, 23, 54, 35, 925000, tzinfo=UTC),
            author_id=FAN,
            author_name="pennbrooke",
            author_handle="pennbrooke1",
            reply_context={"participant_id": FAN, "dm_event_id": "1206724334791753732"},
        )

    def test_a_message_we_sent_is_outbound_in_the_same_thread(self):
        event = only_event("direct_message_outgoing.json")
        assert (event.direction, event.thread_key, event.author_id, event.author_handle) == (
            "outbound",
            FAN,
            OUR_USER,
            "ScruffyMcG",
        )


class TestBatches:
    def test_one_bad_entry_does_not_cost_the_good_ones(self):
        parsed = x.parse_webhook(load_event("x", "batch_with_bad_entry.json"))
        assert [e.event_id for e in parsed.events] == ["1207624111111111111"]
        assert parsed.errors == ["tweet_create_events[1]: user is not an object"]
        assert parsed.ignored == 2  # our own post, a like

    def test_without_for_user_id_nothing_can_be_attributed(self):
        parsed = x.parse_webhook({"tweet_create_events": []})
        assert parsed.errors == ["missing for_user_id"]

    def test_other_activity_is_counted_not_kept(self):
        parsed = x.parse_webhook(
            {
                "for_user_id": OUR_USER,
                "follow_events": [{}, {}],
                "direct_message_indicate_typing_events": [{}],
            }
        )
        assert (parsed.events, parsed.ignored, parsed.errors) == ([], 3, [])


def reply(kind, in_reply_to, thread, text="Thanks for asking!"):
    return ReplyRequest(reply_id="rp_1", text=text, in_reply_to=in_reply_to, thread=thread, kind=kind)


class TestReplies:
    def test_a_comment_reply_is_a_post_in_reply_to_the_tweet(self):
        http = FakeSession(
            [
                FakeResponse(
                    201,
                    {
                        "data": {
                            "id": "1445880548472328192",
                            "text": "Thanks for asking!",
                            "edit_history_tweet_ids": ["1445880548472328192"],
                        }
                    },
                )
            ]
        )
        event = only_event("tweet_create_reply.json")
        result = x.make_adapter(http, fixed_clock()).reply(
            channel("x"), reply("comment", event.message_id, event.reply_context)
        )
        sent = http.sent[0]
        assert (sent.method, sent.url) == ("POST", "https://api.x.com/2/tweets")
        assert sent.json == {
            "text": "Thanks for asking!",
            "reply": {"in_reply_to_tweet_id": "1207623566339919872"},
        }
        assert sent.headers["Authorization"] == "Bearer tok-123"
        assert (result.remote_id, result.remote_url) == (
            "1445880548472328192",
            "https://x.com/i/web/status/1445880548472328192",
        )

    def test_a_dm_reply_goes_to_the_conversation_with_the_participant(self):
        http = FakeSession(
            [
                FakeResponse(
                    201,
                    {
                        "data": {
                            "dm_conversation_id": f"{OUR_USER}-{FAN}",
                            "dm_event_id": "1582838223709347844",
                        }
                    },
                )
            ]
        )
        event = only_event("direct_message_incoming.json")
        result = x.make_adapter(http, fixed_clock()).reply(
            channel("x"), reply("message", event.message_id, event.reply_context)
        )
        assert http.sent[0].url == f"https://api.x.com/2/dm_conversations/with/{FAN}/messages"
        assert http.sent[0].json == {"text": "Thanks for asking!"}
        assert result.remote_id == "1582838223709347844"

    def test_a_duplicate_is_refused_for_good_not_as_a_token_problem(self):
        http = FakeSession(
            [
                FakeResponse(
                    403,
                    {
                        "detail": "You are not allowed to create a Tweet with duplicate content.",
                        "type": "about:blank",
                        "title": "Forbidden",
                        "status": 403,
                    },
                )
            ]
        )
        with pytest.raises(PermanentError, match="duplicate content") as caught:
            x.make_adapter(http, fixed_clock()).reply(channel("x"), reply("comment", "1", {"tweet_id": "1"}))
        assert not isinstance(caught.value, AuthError)

    def test_an_invalid_token_needs_a_reconnect(self):
        http = FakeSession(
            [
                FakeResponse(
                    401,
                    {"title": "Unauthorized", "type": "about:blank", "status": 401, "detail": "Unauthorized"},
                )
            ]
        )
        with pytest.raises(AuthError):
            x.make_adapter(http, fixed_clock()).reply(channel("x"), reply("comment", "1", {"tweet_id": "1"}))

    def test_a_rate_limit_says_when_to_come_back(self):
        reset = int(fixed_clock().now().timestamp()) + 900
        http = FakeSession(
            [
                FakeResponse(
                    429,
                    {"title": "Too Many Requests", "detail": "Too Many Requests"},
                    headers={"x-rate-limit-reset": str(reset)},
                )
            ]
        )
        with pytest.raises(RetryableError) as caught:
            x.make_adapter(http, fixed_clock()).reply(channel("x"), reply("comment", "1", {"tweet_id": "1"}))
        assert caught.value.retry_after_s == 900


class TestAdapter:
    def test_limits_count_as_x_does(self):
        limits = x.make_adapter().limits
        assert (limits.max_text, limits.text_counting, limits.max_media) == (280, "x_weighted", 4)

    def test_publishing_posts_the_text(self):
        http = FakeSession([FakeResponse(201, {"data": {"id": "1346889436626259968", "text": "hi"}})])
        result = x.make_adapter(http).publish(channel("x", {"username": "Scruffy"}), PublishRequest("d_1", "hi"))
        assert (http.sent[0].method, http.sent[0].url, http.sent[0].json) == (
            "POST", "https://api.x.com/2/tweets", {"text": "hi"})
        assert result.remote_url == "https://x.com/Scruffy/status/1346889436626259968"

    def test_describe_account_reads_the_authenticated_user(self):
        http = FakeSession(
            [FakeResponse(200, {"data": {"id": OUR_USER, "name": "Ryan Lue", "username": "ScruffyMcG"}})]
        )
        assert x.make_adapter(http).describe_account(channel("x")) == {
            "handle": "ScruffyMcG",
            "account_id": OUR_USER,
            "username": "ScruffyMcG",
        }
        assert http.sent[0].url == "https://api.x.com/2/users/me"
