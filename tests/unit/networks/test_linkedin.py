import hashlib
import hmac
import json
from datetime import UTC, datetime

import pytest

from chalicelib.networks import linkedin
from chalicelib.networks.base import (
    AuthError,
    InboundEvent,
    PermanentError,
    PublishRequest,
    ReplyRequest,
    SignatureError,
)
from chalicelib.networks.webhook import TOKEN_CHARS
from tests.support.network_fakes import FakeResponse, FakeSession, channel, event_bytes, fixed_clock, load_event
from tests.support.webhooks import json_objects_as_text, random_tokens

CLIENT_SECRET = "linkedin-client-secret"
ORG = "urn:li:organization:96072893"
ACTIVITY = "urn:li:activity:7094637247890620418"
COMMENT = "urn:li:comment:(urn:li:activity:7094637247890620418,7094977717598625792)"


def sign(body: bytes, secret: str = CLIENT_SECRET) -> str:
    return hmac.new(secret.encode(), b"hmacsha256=" + body, hashlib.sha256).hexdigest()


class TestSignature:
    body = event_bytes("linkedin", "comment_notification.json")

    def test_accepts_the_signature_of_the_prefixed_raw_body(self):
        linkedin.verify_signature(self.body, {"X-LI-Signature": sign(self.body)}, CLIENT_SECRET)

    def test_header_name_is_case_insensitive_and_a_repeated_prefix_is_tolerated(self):
        linkedin.verify_signature(
            self.body, {"x-li-signature": "hmacsha256=" + sign(self.body)}, CLIENT_SECRET
        )

    def test_accepts_uppercase_hex(self):
        linkedin.verify_signature(self.body, {"X-LI-Signature": sign(self.body).upper()}, CLIENT_SECRET)

    def test_refuses_a_missing_header(self):
        with pytest.raises(SignatureError, match="missing X-LI-Signature"):
            linkedin.verify_signature(self.body, {}, CLIENT_SECRET)

    def test_refuses_another_secret(self):
        with pytest.raises(SignatureError, match="does not match"):
            linkedin.verify_signature(self.body, {"X-LI-Signature": sign(self.body, "x")}, CLIENT_SECRET)

    def test_refuses_a_signature_over_other_bytes(self):
        other = json.dumps(json.loads(self.body)).encode()
        with pytest.raises(SignatureError, match="does not match"):
            linkedin.verify_signature(self.body, {"X-LI-Signature": sign(other)}, CLIENT_SECRET)

    def test_the_prefix_belongs_to_what_is_signed(self):
        unprefixed = hmac.new(CLIENT_SECRET.encode(), self.body, hashlib.sha256).hexdigest()
        with pytest.raises(SignatureError, match="does not match"):
            linkedin.verify_signature(self.body, {"X-LI-Signature": unprefixed}, CLIENT_SECRET)

    @pytest.mark.parametrize("header", ["hmacsha256=", "not-hex" * 9 + "z", "abcd"])
    def test_refuses_a_malformed_header(self, header):
        with pytest.raises(SignatureError, match="malformed|missing"):
            linkedin.verify_signature(self.body, {"X-LI-Signature": header}, CLIENT_SECRET)


class TestChallenge:
    def test_answers_with_the_hex_hmac_of_the_code(self):
        code = "890e4665-4dfe-4ab1-b689-ed553bceeed0"
        expected = hmac.new(CLIENT_SECRET.encode(), code.encode(), hashlib.sha256).hexdigest()
        assert linkedin.challenge_response(code, CLIENT_SECRET) == {
            "challengeCode": code,
            "challengeResponse": expected,
        }

    def test_refuses_an_empty_code(self):
        with pytest.raises(SignatureError):
            linkedin.challenge_response("", CLIENT_SECRET)

    @pytest.mark.parametrize("code", ["890e4665-4dfe-4ab1-b689-ed553bceeed0", "opaque_Code-1", "a" * 256])
    def test_answers_codes_of_the_documented_shape(self, code):
        expected = hmac.new(CLIENT_SECRET.encode(), code.encode(), hashlib.sha256).hexdigest()
        assert linkedin.challenge_response(code, CLIENT_SECRET)["challengeResponse"] == expected

    @pytest.mark.parametrize("code", [
        "a" * 257, "{}", "hmacsha256={}", "HMACSHA256=abc", "hmacsha256=" + "a" * 20, "ab=", "a+b", "a b",
        "c\u00f3digo", "<b>",
        "hmacsha256=" + event_bytes("linkedin", "comment_notification.json").decode(),
    ])
    def test_refuses_anything_else_without_repeating_it(self, code):
        with pytest.raises(SignatureError) as refused:
            linkedin.challenge_response(code, CLIENT_SECRET)
        assert code not in str(refused.value)

    def test_never_signs_what_a_post_signature_covers(self):
        # A POST's X-LI-Signature is the HMAC of "hmacsha256=" + body, with the same client secret.
        for body in json_objects_as_text():
            for prefix in ("", "hmacsha256=", "HMACSHA256=", "hmacsha256= "):
                with pytest.raises(SignatureError):
                    linkedin.challenge_response(prefix + body, CLIENT_SECRET)

    def test_no_code_it_signs_can_carry_the_signed_prefix(self):
        assert "=" not in TOKEN_CHARS and not TOKEN_CHARS & set("{ \t\r\n\ufeff")
        for code in random_tokens(TOKEN_CHARS):
            linkedin.challenge_response(code, CLIENT_SECRET)
            assert not code.lower().startswith("hmacsha256=")


class TestNotifications:
    def test_a_comment_on_an_organization_post(self):
        parsed = linkedin.parse_webhook(load_event("linkedin", "comment_notification.json"))
        assert parsed.errors == [] and parsed.ignored == 0
        assert parsed.events == [
            InboundEvent(
                network="linkedin",
                account_id=ORG,
                event_id="5603453321",
                kind="comment",
                action="created",
                thread_key=ACTIVITY,
                message_id=COMMENT,
                direction="inbound",
                text="Congratulations to the whole team!",
                occurred_at=datetime(2023, 8, 9, 9, 48, 26, 310000, tzinfo=UTC),
                author_id="urn:li:person:Ab3dE5fG7h",
                reply_context={"organization_urn": ORG, "object_urn": ACTIVITY, "comment_urn": COMMENT},
            )
        ]

    def test_a_mention_in_a_post(self):
        event = linkedin.parse_webhook(load_event("linkedin", "mention_notification.json")).events[0]
        assert (event.kind, event.thread_key, event.event_id) == (
            "mention",
            "urn:li:share:7094700000000000001",
            "5603460000",
        )
        assert event.text == "Great talk by Herald Coffee Roasters at the meetup today"
        assert event.reply_context == {
            "organization_urn": ORG,
            "object_urn": "urn:li:share:7094700000000000001",
        }

    def test_an_admin_comment_is_outbound(self):
        payload = load_event("linkedin", "comment_notification.json")
        payload["notifications"][0]["action"] = "ADMIN_COMMENT"
        assert linkedin.parse_webhook(payload).events[0].direction == "outbound"

    def test_one_bad_entry_does_not_cost_the_good_ones(self):
        parsed = linkedin.parse_webhook(load_event("linkedin", "batch_with_bad_entry.json"))
        assert [(e.event_id, e.action) for e in parsed.events] == [
            ("5603453400", "created"),
            ("5603453402", "deleted"),
        ]
        assert parsed.errors == ["notifications[1]: missing notificationId"]
        assert parsed.ignored == 1  # the like

    def test_other_notification_families_are_ignored(self):
        parsed = linkedin.parse_webhook(
            {"type": "LEAD_ACTION", "leadGenFormResponse": "urn:li:leadGenFormResponse:1"}
        )
        assert (parsed.events, parsed.ignored, parsed.errors) == ([], 1, [])


def reply(kind, in_reply_to, thread, text="Thank you!"):
    return ReplyRequest(reply_id="rp_1", text=text, in_reply_to=in_reply_to, thread=thread, kind=kind)


class TestReplies:
    def test_a_comment_reply_is_nested_under_the_comment_with_the_required_headers(self):
        http = FakeSession(
            [
                FakeResponse(
                    201,
                    {
                        "actor": ORG,
                        "object": ACTIVITY,
                        "commentUrn": "urn:li:comment:(urn:li:activity:7094637247890620418,"
                        "7094999999999999999)",
                    },
                )
            ]
        )
        event = linkedin.parse_webhook(load_event("linkedin", "comment_notification.json")).events[0]
        result = linkedin.make_adapter(http, fixed_clock()).reply(
            channel("linkedin", {"organization_urn": ORG}),
            reply("comment", event.message_id, event.reply_context),
        )
        sent = http.sent[0]
        assert sent.method == "POST"
        assert sent.url == (
            "https://api.linkedin.com/rest/socialActions/"
            "urn%3Ali%3Acomment%3A%28urn%3Ali%3Aactivity%3A7094637247890620418%2C"
            "7094977717598625792%29/comments"
        )
        assert sent.json == {
            "actor": ORG,
            "object": ACTIVITY,
            "message": {"text": "Thank you!"},
            "parentComment": COMMENT,
        }
        assert sent.headers["LinkedIn-Version"] == linkedin.LINKEDIN_VERSION
        assert sent.headers["X-Restli-Protocol-Version"] == "2.0.0"
        assert sent.headers["Authorization"] == "Bearer tok-123"
        assert result.remote_id.endswith("7094999999999999999)")

    def test_a_mention_is_answered_with_a_comment_on_the_post(self):
        http = FakeSession(
            [FakeResponse(201, {}, headers={"x-restli-id": "urn:li:comment:(urn:li:share:1,2)"})]
        )
        event = linkedin.parse_webhook(load_event("linkedin", "mention_notification.json")).events[0]
        result = linkedin.make_adapter(http, fixed_clock()).reply(
            channel("linkedin"), reply("mention", event.message_id, event.reply_context)
        )
        assert http.sent[0].url.endswith("/socialActions/urn%3Ali%3Ashare%3A7094700000000000001/comments")
        assert "parentComment" not in http.sent[0].json
        assert result.remote_id == "urn:li:comment:(urn:li:share:1,2)"

    def test_a_revoked_token_needs_a_reconnect(self):
        http = FakeSession(
            [
                FakeResponse(
                    401,
                    {
                        "status": 401,
                        "serviceErrorCode": 65601,
                        "code": "REVOKED_ACCESS_TOKEN",
                        "message": "The token used in the request has been revoked by the user",
                    },
                )
            ]
        )
        with pytest.raises(AuthError, match="revoked"):
            linkedin.make_adapter(http, fixed_clock()).reply(
                channel("linkedin"),
                reply(
                    "comment",
                    COMMENT,
                    {"organization_urn": ORG, "object_urn": ACTIVITY, "comment_urn": COMMENT},
                ),
            )

    def test_direct_messages_are_refused(self):
        with pytest.raises(PermanentError):
            linkedin.make_adapter(FakeSession()).reply(channel("linkedin"), reply("message", "x", {}))


class TestAdapter:
    def test_limits(self):
        assert linkedin.make_adapter().limits.max_text == 3000

    def test_publishing_needs_the_author(self):
        with pytest.raises(PermanentError, match="names neither the organization nor the member"):
            linkedin.make_adapter(FakeSession()).publish(channel("linkedin"), PublishRequest("d_1", "hi"))

    def test_describe_account_lists_the_organizations_the_member_administers(self):
        acls = {"paging": {"count": 10, "start": 0, "links": []}, "elements": [
            {"organization": ORG, "role": "ADMINISTRATOR", "state": "APPROVED", "roleAssignee": "urn:li:person:1"},
            {"organizationalTarget": "urn:li:organization:2", "role": "ADMINISTRATOR", "state": "APPROVED"},
            {"organization": "urn:li:organization:3", "role": "ANALYST", "state": "APPROVED"},
            {"organization": "urn:li:organization:4", "role": "ADMINISTRATOR", "state": "REQUESTED"},
            {"organization": "not a urn", "role": "ADMINISTRATOR", "state": "APPROVED"},
        ]}
        http = FakeSession([FakeResponse(200, acls)])
        adapter = linkedin.make_adapter(http, base_url="http://127.0.0.1:9")
        # what the client typed plays no part: the ACLs decide
        described = adapter.describe_account(channel("linkedin", {"organization_urn": "urn:li:organization:9"}))
        assert [a["account_id"] for a in described["accounts"]] == [ORG, "urn:li:organization:2"]
        [sent] = http.sent
        assert sent.url == "http://127.0.0.1:9/rest/organizationAcls"
        assert (sent.params["q"], sent.params["role"], sent.params["state"]) \
            == ("roleAssignee", "ADMINISTRATOR", "APPROVED")
        assert sent.headers["LinkedIn-Version"] == linkedin.LINKEDIN_VERSION
        assert sent.headers["X-Restli-Protocol-Version"] == "2.0.0"

    def test_a_member_who_administers_nothing_has_no_account(self):
        http = FakeSession([FakeResponse(200, {"elements": []})])
        with pytest.raises(PermanentError, match="administers no organization"):
            linkedin.make_adapter(http).describe_account(channel("linkedin"))
