import hashlib
import hmac
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests
from urllib3.exceptions import NewConnectionError

from chalicelib.core.clock import FixedClock
from chalicelib.networks import meta, meta_errors
from chalicelib.networks.base import (
    AmbiguousError,
    AuthError,
    InboundEvent,
    PermanentError,
    PublishRequest,
    ReplyRequest,
    RetryableError,
    SignatureError,
)
from tests.support.network_fakes import FakeResponse, FakeSession, channel, event_bytes, fixed_clock, load_event

APP_SECRET = "meta-app-secret"
PAGE_ID = "448242228374517"
IG_USER_ID = "17841474524784050"


def sign(body: bytes, secret: str = APP_SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class TestSignature:
    body = event_bytes("meta", "feed_comment_add.json")

    def test_accepts_the_signature_of_the_raw_body(self):
        meta.verify_signature(self.body, {"X-Hub-Signature-256": sign(self.body)}, APP_SECRET)

    def test_header_name_is_case_insensitive(self):
        meta.verify_signature(self.body, {"x-hub-signature-256": sign(self.body)}, APP_SECRET)

    def test_accepts_uppercase_hex(self):
        digest = sign(self.body).split("=", 1)[1].upper()
        meta.verify_signature(self.body, {"X-Hub-Signature-256": "sha256=" + digest}, APP_SECRET)

    def test_refuses_a_missing_header(self):
        with pytest.raises(SignatureError, match="missing X-Hub-Signature-256"):
            meta.verify_signature(self.body, {"Content-Type": "application/json"}, APP_SECRET)

    def test_refuses_a_signature_made_with_another_secret(self):
        with pytest.raises(SignatureError, match="does not match"):
            meta.verify_signature(self.body, {"X-Hub-Signature-256": sign(self.body, "other")}, APP_SECRET)

    def test_refuses_a_signature_over_other_bytes(self):
        reserialised = json.dumps(json.loads(self.body)).encode()
        with pytest.raises(SignatureError, match="does not match"):
            meta.verify_signature(self.body, {"X-Hub-Signature-256": sign(reserialised)}, APP_SECRET)

    def test_refuses_a_tampered_body(self):
        tampered = self.body.replace(b"Lisbon", b"Madrid")
        with pytest.raises(SignatureError):
            meta.verify_signature(tampered, {"X-Hub-Signature-256": sign(self.body)}, APP_SECRET)

    @pytest.mark.parametrize(
        "header",
        [
            "sha1=" + "a" * 40,
            "sha256=",
            "sha256=" + "z" * 64,
            "sha256=" + "ab" * 16,
            "a" * 64,
        ],
    )
    def test_refuses_a_malformed_header(self, header):
        with pytest.raises(SignatureError, match="malformed"):
            meta.verify_signature(self.body, {"X-Hub-Signature-256": header}, APP_SECRET)

    def test_refuses_to_check_without_a_secret(self):
        with pytest.raises(SignatureError, match="no secret"):
            meta.verify_signature(self.body, {"X-Hub-Signature-256": sign(self.body, "")}, "")


class TestSubscriptionHandshake:
    def test_answers_the_challenge_when_the_token_matches(self):
        query = {"hub.mode": "subscribe", "hub.challenge": "1158201444", "hub.verify_token": "meatyhamhock"}
        assert meta.verify_subscription(query, "meatyhamhock") == "1158201444"

    @pytest.mark.parametrize(
        "query",
        [
            {"hub.mode": "subscribe", "hub.challenge": "1158201444", "hub.verify_token": "wrong"},
            {"hub.mode": "unsubscribe", "hub.challenge": "1158201444", "hub.verify_token": "meatyhamhock"},
            {"hub.mode": "subscribe", "hub.verify_token": "meatyhamhock"},
            {"hub.mode": "subscribe", "hub.challenge": "1158201444"},
            {},
        ],
    )
    def test_refuses_anything_else(self, query):
        with pytest.raises(SignatureError):
            meta.verify_subscription(query, "meatyhamhock")

    @pytest.mark.parametrize("challenge", ["", "12a", "-1", "1.5", " 1", "1" * 65, "{}", "<b>1</b>", "\u0661\u0662"])
    def test_echoes_only_an_integer_and_never_repeats_anything_else(self, challenge):
        query = {"hub.mode": "subscribe", "hub.challenge": challenge, "hub.verify_token": "meatyhamhock"}
        with pytest.raises(SignatureError) as refused:
            meta.verify_subscription(query, "meatyhamhock")
        assert not challenge or challenge not in str(refused.value)

    def test_echoes_a_long_integer(self):
        query = {"hub.mode": "subscribe", "hub.challenge": "9" * 64, "hub.verify_token": "meatyhamhock"}
        assert meta.verify_subscription(query, "meatyhamhock") == "9" * 64

    def test_refuses_when_no_token_is_configured(self):
        with pytest.raises(SignatureError):
            meta.verify_subscription(
                {"hub.mode": "subscribe", "hub.challenge": "1", "hub.verify_token": ""}, ""
            )


def only_event(name: str) -> InboundEvent:
    parsed = meta.parse_webhook(load_event("meta", name))
    assert parsed.errors == [] and parsed.ignored == 0
    assert len(parsed.events) == 1
    return parsed.events[0]


class TestPageFeedComments:
    def test_a_new_top_level_comment(self):
        assert only_event("feed_comment_add.json") == InboundEvent(
            network="facebook",
            account_id=PAGE_ID,
            event_id="122131676912594941_1213590066982748:add:1742667604",
            kind="comment",
            action="created",
            thread_key="448242228374517_122131676912594941",
            message_id="122131676912594941_1213590066982748",
            direction="inbound",
            text="Do you ship to Lisbon?",
            occurred_at=datetime(2025, 3, 22, 18, 20, 4, tzinfo=UTC),
            author_id="8473625109283746",
            author_name="Ada Lovelace",
            parent_id=None,
            reply_context={
                "comment_id": "122131676912594941_1213590066982748",
                "post_id": "448242228374517_122131676912594941",
                "page_id": PAGE_ID,
            },
        )

    def test_an_edited_reply_keeps_its_parent_comment(self):
        event = only_event("feed_comment_edited.json")
        assert (event.action, event.text, event.parent_id) == (
            "edited",
            "Do you ship to Porto as well?",
            "122131676912594941_1213590066982748",
        )
        assert event.event_id == "122131676912594941_1213590112398711:edited:1742668012"

    def test_a_removed_comment(self):
        event = only_event("feed_comment_remove.json")
        assert (event.action, event.text, event.message_id) == (
            "deleted",
            "",
            "122131676912594941_1213590066982748",
        )
        assert event.event_id == "122131676912594941_1213590066982748:remove:1742669098"

    def test_add_and_remove_of_one_comment_are_two_events(self):
        add = only_event("feed_comment_add.json")
        remove = only_event("feed_comment_remove.json")
        assert add.event_id != remove.event_id

    def test_a_comment_written_by_the_page_is_outbound(self):
        event = only_event("feed_comment_by_page.json")
        assert event.direction == "outbound"
        assert event.author_id == PAGE_ID


class TestMessenger:
    def test_an_inbound_message(self):
        assert only_event("messenger_message.json") == InboundEvent(
            network="facebook",
            account_id=PAGE_ID,
            event_id="m_1457764197618:41d102a3e1ae206a38",
            kind="message",
            action="created",
            thread_key="6283746501928374",
            message_id="m_1457764197618:41d102a3e1ae206a38",
            direction="inbound",
            text="hello, world!",
            occurred_at=datetime(2016, 3, 23, 0, 25, 52, 478000, tzinfo=UTC),
            author_id="6283746501928374",
            parent_id="m_1fTq8oLumEyIp3Q2MR-aY7IfLZDamVrALniheU",
            reply_context={
                "recipient_id": "6283746501928374",
                "page_id": PAGE_ID,
                "mid": "m_1457764197618:41d102a3e1ae206a38",
                "received_at": "2016-03-23T00:25:52.478000+00:00",  # the messaging window runs from here
            },
        )

    def test_an_echo_is_the_page_writing_to_the_person(self):
        event = only_event("messenger_echo.json")
        assert (event.direction, event.account_id, event.thread_key, event.author_id) == (
            "outbound",
            PAGE_ID,
            "6283746501928374",
            PAGE_ID,
        )
        assert event.text == "Thanks for writing, we open at 9."
        assert event.reply_context["recipient_id"] == "6283746501928374"

    def test_an_edit_is_a_new_event_about_the_same_message(self):
        event = only_event("messenger_edit.json")
        assert (event.action, event.message_id, event.text) == (
            "edited",
            "m_1457764197618:41d102a3e1ae206a38",
            "hello, world! (edited)",
        )
        assert event.event_id == "m_1457764197618:41d102a3e1ae206a38:edit:1"
        assert event.thread_key == "6283746501928374"

    def test_an_attachment_without_text_says_what_it_is(self):
        payload = {
            "object": "page",
            "entry": [
                {
                    "id": PAGE_ID,
                    "time": 1518479195594,
                    "messaging": [
                        {
                            "sender": {"id": "6283746501928374"},
                            "recipient": {"id": PAGE_ID},
                            "timestamp": 1518479195308,
                            "message": {
                                "mid": "mid.$cAAJdkrCd2ORnva8ErFhjGm0X_Q_c",
                                "attachments": [
                                    {"type": "image", "payload": {"url": "https://example.com/a.jpg"}}
                                ],
                            },
                        }
                    ],
                }
            ],
        }
        assert meta.parse_webhook(payload).events[0].text == "[image]"


class TestInstagram:
    def test_a_comment_on_a_media(self):
        assert only_event("instagram_comment.json") == InboundEvent(
            network="instagram",
            account_id=IG_USER_ID,
            event_id="17919697626119712",
            kind="comment",
            action="created",
            thread_key="18172143295349192",
            message_id="17919697626119712",
            direction="inbound",
            text="Is the large bag still in stock?",
            occurred_at=datetime(2025, 8, 21, 12, 28, tzinfo=UTC),
            author_id="2105722729836161",
            author_name="grace.hopper",
            author_handle="grace.hopper",
            parent_id="17866132954374650",
            reply_context={
                "comment_id": "17919697626119712",
                "media_id": "18172143295349192",
                "ig_user_id": IG_USER_ID,
            },
        )

    def test_direct_messages_in_and_echoed_out(self):
        parsed = meta.parse_webhook(load_event("meta", "instagram_dm.json"))
        incoming, echo = parsed.events
        assert (incoming.network, incoming.kind, incoming.direction) == ("instagram", "message", "inbound")
        assert (incoming.account_id, incoming.thread_key) == (IG_USER_ID, "1254459154682919")
        assert incoming.text == "Hi! Do you deliver on Sundays?"
        assert incoming.reply_context["recipient_id"] == "1254459154682919"
        assert incoming.reply_context["ig_user_id"] == IG_USER_ID
        assert (echo.direction, echo.account_id, echo.thread_key) == (
            "outbound",
            IG_USER_ID,
            "1254459154682919",
        )
        assert echo.occurred_at == datetime(2019, 9, 23, 18, 16, 41, 22000, tzinfo=UTC)

    def test_an_unsent_message_is_a_deletion_distinct_from_its_creation(self):
        created = meta.parse_webhook(load_event("meta", "instagram_dm.json")).events[0]
        deleted = only_event("instagram_dm_deleted.json")
        assert (deleted.action, deleted.message_id) == ("deleted", created.message_id)
        assert deleted.event_id != created.event_id


class TestBatches:
    def test_one_bad_entry_does_not_cost_the_good_ones(self):
        parsed = meta.parse_webhook(load_event("meta", "batch_with_bad_entry.json"))
        assert [e.message_id for e in parsed.events] == [
            "122131676912594941_1213590000000001",
            "m_batch_good_message",
        ]
        assert parsed.errors == ["entry[0].changes[1]: missing comment_id", "entry[1]: missing id"]
        assert parsed.ignored == 2  # a reaction and a read receipt

    def test_an_unknown_object_is_an_error(self):
        parsed = meta.parse_webhook({"object": "user", "entry": []})
        assert parsed.events == [] and parsed.errors

    def test_an_entry_list_that_is_not_a_list_is_an_error(self):
        parsed = meta.parse_webhook({"object": "page", "entry": {"id": PAGE_ID}})
        assert parsed.errors == ["entry is not a list"]

    def test_an_unparseable_time_is_an_error_not_a_crash(self):
        payload = load_event("meta", "feed_comment_add.json")
        payload["entry"][0]["changes"][0]["value"]["created_time"] = "yesterday"
        parsed = meta.parse_webhook(payload)
        assert parsed.events == [] and parsed.errors == ["entry[0].changes[0]: created_time is not a number"]


def reply(kind, in_reply_to, thread, text="Thanks, we do!"):
    return ReplyRequest(reply_id="rp_1", text=text, in_reply_to=in_reply_to, thread=thread, kind=kind)


class TestReplies:
    def test_a_facebook_comment_reply_goes_to_the_comment_edge(self):
        http = FakeSession([FakeResponse(200, {"id": "122131676912594941_1213590099999999"})])
        adapter = meta.make_adapter(http, fixed_clock())
        event = only_event("feed_comment_add.json")
        result = adapter.reply(
            channel("facebook", {"page_id": PAGE_ID}), reply("comment", event.message_id, event.reply_context)
        )
        sent = http.sent[0]
        assert (sent.method, sent.url) == (
            "POST",
            f"https://graph.facebook.com/{meta_errors.GRAPH_API_VERSION}/122131676912594941_1213590066982748/comments",
        )
        assert sent.json == {"message": "Thanks, we do!"}
        assert sent.headers["Authorization"] == "Bearer tok-123"
        assert result.remote_id == "122131676912594941_1213590099999999"
        assert result.published_at == fixed_clock().now()

    def test_a_messenger_reply_uses_the_send_api(self):
        http = FakeSession(
            [FakeResponse(200, {"recipient_id": "6283746501928374", "message_id": "m_reply_1"})]
        )
        event = only_event("messenger_message.json")
        result = meta.make_adapter(http, soon_after(event)).reply(
            channel("facebook", {"page_id": PAGE_ID}), reply("message", event.message_id, event.reply_context)
        )
        sent = http.sent[0]
        assert sent.url == f"{meta.GRAPH_URL}/{PAGE_ID}/messages"
        assert sent.json == {
            "recipient": {"id": "6283746501928374"},
            "messaging_type": "RESPONSE",
            "message": {"text": "Thanks, we do!"},
        }
        assert result.remote_id == "m_reply_1"

    def test_an_instagram_comment_reply_goes_to_the_replies_edge(self):
        http = FakeSession([FakeResponse(200, {"id": "17870913679156914"})])
        event = only_event("instagram_comment.json")
        adapter = meta.make_adapter(http, fixed_clock(), network="instagram")
        result = adapter.reply(channel("instagram"), reply("comment", event.message_id, event.reply_context))
        assert http.sent[0].url == f"{meta.GRAPH_URL}/17919697626119712/replies"
        assert http.sent[0].json == {"message": "Thanks, we do!"}
        assert result.remote_id == "17870913679156914"

    def test_an_instagram_dm_reply_uses_the_send_api_of_the_linked_page(self):
        http = FakeSession(
            [FakeResponse(200, {"recipient_id": "1254459154682919", "message_id": "aWdf_reply"})]
        )
        event = meta.parse_webhook(load_event("meta", "instagram_dm.json")).events[0]
        adapter = meta.make_adapter(http, soon_after(event), network="instagram")
        adapter.reply(
            channel("instagram", {"page_id": PAGE_ID}),
            reply("message", event.message_id, event.reply_context),
        )
        assert http.sent[0].url == f"{meta.GRAPH_URL}/{PAGE_ID}/messages"
        assert http.sent[0].json["recipient"] == {"id": "1254459154682919"}

    def test_an_instagram_dm_reply_without_a_linked_page_goes_through_me(self):
        http = FakeSession(
            [FakeResponse(200, {"recipient_id": "1254459154682919", "message_id": "aWdf_reply"})]
        )
        event = meta.parse_webhook(load_event("meta", "instagram_dm.json")).events[0]
        meta.make_adapter(http, soon_after(event), network="instagram").reply(
            channel("instagram"), reply("message", event.message_id, event.reply_context)
        )
        assert http.sent[0].url == f"{meta.GRAPH_URL}/me/messages"

    def test_a_messenger_reply_after_the_24_hour_window_is_refused_before_sending(self):
        http = FakeSession([])
        event = only_event("messenger_message.json")
        late = FixedClock(event.occurred_at + timedelta(hours=24, minutes=1))
        with pytest.raises(PermanentError, match="24-hour standard messaging window .* closed"):
            meta.make_adapter(http, late).reply(channel("facebook", {"page_id": PAGE_ID}),
                                                reply("message", event.message_id, event.reply_context))
        assert http.sent == []

    def test_a_tagged_messenger_reply_after_the_window_is_a_message_tag(self):
        http = FakeSession([FakeResponse(200, {"recipient_id": "6283746501928374", "message_id": "m_tagged"})])
        event = only_event("messenger_message.json")
        late = FixedClock(event.occurred_at + timedelta(days=3))
        request = replace(reply("message", event.message_id, event.reply_context), message_tag="HUMAN_AGENT")
        meta.make_adapter(http, late).reply(channel("facebook", {"page_id": PAGE_ID}), request)
        assert http.sent[0].json == {"recipient": {"id": "6283746501928374"}, "messaging_type": "MESSAGE_TAG",
                                     "tag": "HUMAN_AGENT", "message": {"text": "Thanks, we do!"}}

    def test_an_expired_token_needs_a_reconnect(self):
        http = FakeSession(
            [
                FakeResponse(
                    400,
                    {
                        "error": {
                            "message": "Error validating access token: Session has expired",
                            "type": "OAuthException",
                            "code": 190,
                            "error_subcode": 463,
                            "fbtrace_id": "AbC",
                        }
                    },
                )
            ]
        )
        with pytest.raises(AuthError, match="Session has expired"):
            meta.make_adapter(http, fixed_clock()).reply(channel("facebook"), reply("comment", "1_2", {}))

    def test_a_reply_outside_the_messaging_window_is_permanent(self):
        http = FakeSession(
            [
                FakeResponse(
                    400,
                    {
                        "error": {
                            "message": "(#10) This message is sent outside of allowed window.",
                            "type": "OAuthException",
                            "code": 10,
                            "error_subcode": 2018278,
                        }
                    },
                )
            ]
        )
        with pytest.raises(PermanentError, match="outside of allowed window") as caught:
            meta.make_adapter(http, fixed_clock()).reply(
                channel("facebook", {"page_id": PAGE_ID}), reply("message", "m_1", {"recipient_id": "6283"})
            )
        assert not isinstance(caught.value, AuthError)

    def test_an_application_rate_limit_is_retryable(self):
        http = FakeSession(
            [FakeResponse(400, {"error": {"message": "(#4) Application request limit reached", "code": 4}})]
        )
        with pytest.raises(RetryableError):
            meta.make_adapter(http, fixed_clock()).reply(channel("facebook"), reply("comment", "1_2", {}))

    def test_429_carries_retry_after(self):
        http = FakeSession(
            [
                FakeResponse(
                    429, {"error": {"message": "slow down", "code": 80001}}, headers={"Retry-After": "120"}
                )
            ]
        )
        with pytest.raises(RetryableError) as caught:
            meta.make_adapter(http, fixed_clock()).reply(channel("facebook"), reply("comment", "1_2", {}))
        assert caught.value.retry_after_s == 120

    def test_a_server_error_is_retryable(self):
        http = FakeSession([FakeResponse(500, text="<html>oops</html>")])
        with pytest.raises(RetryableError):
            meta.make_adapter(http, fixed_clock()).reply(channel("facebook"), reply("comment", "1_2", {}))

    def test_a_read_timeout_is_ambiguous_and_a_refused_connection_retryable(self):
        adapter = meta.make_adapter(
            FakeSession([requests.ReadTimeout(), requests.ConnectionError(NewConnectionError(None, "refused")),
                         requests.ConnectTimeout()]),
            fixed_clock(),
        )
        with pytest.raises(AmbiguousError):
            adapter.reply(channel("facebook"), reply("comment", "1_2", {}))
        with pytest.raises(RetryableError):
            adapter.reply(channel("facebook"), reply("comment", "1_2", {}))
        with pytest.raises(RetryableError):
            adapter.reply(channel("facebook"), reply("comment", "1_2", {}))

    def test_a_message_reply_without_a_recipient_is_refused_before_sending(self):
        http = FakeSession()
        with pytest.raises(PermanentError):
            meta.make_adapter(http, fixed_clock()).reply(channel("facebook"), reply("message", "m_1", {}))
        assert http.sent == []

    def test_the_token_never_appears_in_the_url(self):
        http = FakeSession([FakeResponse(200, {"id": "c_1"})])
        meta.make_adapter(http, fixed_clock()).reply(
            channel("facebook", token="SECRET-TOKEN"), reply("comment", "1_2", {})
        )
        assert "SECRET-TOKEN" not in http.sent[0].url


class TestAdapter:
    def test_limits(self):
        assert meta.make_adapter().limits.max_text == 63206
        instagram = meta.make_adapter(network="instagram")
        assert (instagram.network, instagram.limits.max_text, instagram.limits.requires_media) == (
            "instagram",
            2200,
            True,
        )

    def test_an_instagram_channel_without_its_account_id_is_refused_before_sending(self):
        http = FakeSession()
        with pytest.raises(PermanentError, match="ig_user_id"):
            meta.make_adapter(http, network="instagram").publish(channel("instagram"), PublishRequest("d_1", "hi"))
        assert http.sent == []

    def test_the_graph_url_is_the_operators_setting(self):
        http = FakeSession([FakeResponse(200, {"id": PAGE_ID, "name": "Herald Coffee Roasters"})])
        meta.make_adapter(http, base_url="http://127.0.0.1:9/v25.0/").describe_account(channel("facebook"))
        assert http.sent[0].url == "http://127.0.0.1:9/v25.0/me"

    def test_a_page_id_graph_does_not_give_is_never_made_up(self):
        for body in ({"name": "No id"}, {"id": "urn:evil"}, {"id": True}):
            with pytest.raises(PermanentError):
                meta.make_adapter(FakeSession([FakeResponse(200, body)])).describe_account(channel("facebook"))

    def test_describe_account_reads_the_page(self):
        http = FakeSession([FakeResponse(200, {"id": PAGE_ID, "name": "Herald Coffee Roasters"})])
        assert meta.make_adapter(http).describe_account(channel("facebook")) == {
            "handle": "Herald Coffee Roasters",
            "account_id": PAGE_ID,
        }
        assert http.sent[0].params == {"fields": "id,name"}

    def test_describe_account_finds_the_linked_instagram_account(self):
        http = FakeSession(
            [
                FakeResponse(
                    200,
                    {
                        "instagram_business_account": {"id": IG_USER_ID, "username": "heraldcoffee"},
                        "id": PAGE_ID,
                    },
                )
            ]
        )
        assert meta.make_adapter(http, network="instagram").describe_account(channel("instagram")) == {
            "handle": "heraldcoffee",
            "account_id": IG_USER_ID,
            "page_id": PAGE_ID,  # the linked Page, as Graph names it: the Send API's sender
        }


def soon_after(event: Any) -> FixedClock:
    """A clock an hour after the person wrote: inside the 24-hour messaging window."""
    return FixedClock(event.occurred_at + timedelta(hours=1))
