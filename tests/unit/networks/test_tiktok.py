import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.networks import tiktok
from chalicelib.networks.base import PermanentError, PublishRequest, ReplyRequest, SignatureError
from tests.support.network_fakes import FakeResponse, FakeSession, channel, event_bytes, load_event

CLIENT_SECRET = "tiktok-client-secret"
NOW = datetime(2021, 3, 10, 1, 10, 30, tzinfo=UTC)
T = int(NOW.timestamp())


def sign(body: bytes, timestamp: int = T, secret: str = CLIENT_SECRET) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},s={digest}"


class TestSignature:
    body = event_bytes("tiktok", "video_publish_completed.json")

    def test_accepts_the_signature_of_timestamp_and_raw_body(self):
        tiktok.verify_signature(self.body, {"TikTok-Signature": sign(self.body)}, CLIENT_SECRET, now=NOW)

    def test_header_name_is_case_insensitive(self):
        tiktok.verify_signature(self.body, {"tiktok-signature": sign(self.body)}, CLIENT_SECRET, now=NOW)

    def test_accepts_uppercase_hex(self):
        header = sign(self.body)
        tiktok.verify_signature(
            self.body,
            {
                "TikTok-Signature": header.replace(
                    header[len(f"t={T},s=") :], header[len(f"t={T},s=") :].upper()
                )
            },
            CLIENT_SECRET,
            now=NOW,
        )

    def test_refuses_a_missing_header(self):
        with pytest.raises(SignatureError, match="missing TikTok-Signature"):
            tiktok.verify_signature(self.body, {}, CLIENT_SECRET, now=NOW)

    def test_refuses_another_secret(self):
        with pytest.raises(SignatureError, match="does not match"):
            tiktok.verify_signature(
                self.body, {"TikTok-Signature": sign(self.body, secret="x")}, CLIENT_SECRET, now=NOW
            )

    def test_refuses_a_signature_over_other_bytes(self):
        other = json.dumps(json.loads(self.body)).encode()
        with pytest.raises(SignatureError, match="does not match"):
            tiktok.verify_signature(self.body, {"TikTok-Signature": sign(other)}, CLIENT_SECRET, now=NOW)

    def test_the_timestamp_is_part_of_what_is_signed(self):
        forged = sign(self.body).replace(f"t={T}", f"t={T + 1}")
        with pytest.raises(SignatureError, match="does not match"):
            tiktok.verify_signature(self.body, {"TikTok-Signature": forged}, CLIENT_SECRET, now=NOW)

    def test_refuses_a_stale_timestamp(self):
        old = T - 301
        with pytest.raises(SignatureError, match="too old"):
            tiktok.verify_signature(
                self.body, {"TikTok-Signature": sign(self.body, old)}, CLIENT_SECRET, now=NOW
            )

    def test_refuses_a_timestamp_from_the_future(self):
        later = T + 301
        with pytest.raises(SignatureError, match="future"):
            tiktok.verify_signature(
                self.body, {"TikTok-Signature": sign(self.body, later)}, CLIENT_SECRET, now=NOW
            )

    def test_accepts_the_edges_of_the_window(self):
        for moment in (NOW + timedelta(seconds=300), NOW - timedelta(seconds=300)):
            tiktok.verify_signature(
                self.body, {"TikTok-Signature": sign(self.body)}, CLIENT_SECRET, now=moment
            )

    def test_the_window_can_be_narrowed(self):
        with pytest.raises(SignatureError, match="too old"):
            tiktok.verify_signature(
                self.body, {"TikTok-Signature": sign(self.body, T - 61)}, CLIENT_SECRET, now=NOW, window_s=60
            )

    @pytest.mark.parametrize(
        "header",
        [
            "s=" + "a" * 64,
            f"t={T}",
            f"t=yesterday,s={'a' * 64}",
            f"t={T},s=nothex",
            f"{T},{'a' * 64}",
        ],
    )
    def test_refuses_a_malformed_header(self, header):
        with pytest.raises(SignatureError, match="malformed"):
            tiktok.verify_signature(self.body, {"TikTok-Signature": header}, CLIENT_SECRET, now=NOW)


class TestEvents:
    @pytest.mark.parametrize("name", ["authorization_removed.json", "video_publish_completed.json"])
    def test_documented_events_are_counted_not_kept(self, name):
        parsed = tiktok.parse_webhook(load_event("tiktok", name))
        assert (parsed.events, parsed.ignored, parsed.errors) == ([], 1, [])

    def test_content_that_is_not_serialized_json_is_an_error(self):
        parsed = tiktok.parse_webhook(load_event("tiktok", "malformed_content.json"))
        assert (parsed.events, parsed.ignored, parsed.errors) == ([], 0, ["content is not a string"])

    def test_an_event_without_user_is_an_error(self):
        payload = load_event("tiktok", "authorization_removed.json")
        del payload["user_openid"]
        assert tiktok.parse_webhook(payload).errors == ["missing user_openid"]


class TestAdapter:
    def test_replies_are_refused_with_the_reason(self):
        with pytest.raises(PermanentError, match="no way to reply"):
            tiktok.make_adapter(FakeSession()).reply(
                channel("tiktok"), ReplyRequest(reply_id="r", text="hi", in_reply_to="1")
            )

    def test_a_post_without_media_is_refused_clearly(self):
        with pytest.raises(PermanentError, match="one video or 1 to 35 photos"):
            tiktok.make_adapter().publish(channel("tiktok"), PublishRequest("d_1", "hi"))

    def test_limits(self):
        limits = tiktok.make_adapter().limits
        assert (limits.max_text, limits.text_counting, limits.requires_media) == (4000, "utf16", True)  # captions: 2200

    def test_describe_account_reads_the_open_id(self):
        http = FakeSession(
            [
                FakeResponse(
                    200,
                    {
                        "data": {
                            "user": {
                                "open_id": "act.example12345Example12345Example",
                                "display_name": "Herald Coffee",
                            }
                        },
                        "error": {
                            "code": "ok",
                            "message": "",
                            "log_id": "20220829194722CBE87ED59D524E727021",
                        },
                    },
                )
            ]
        )
        assert tiktok.make_adapter(http).describe_account(channel("tiktok")) == {
            "handle": "Herald Coffee",
            "account_id": "act.example12345Example12345Example",
        }
        assert http.sent[0].url == "https://open.tiktokapis.com/v2/user/info/"
        assert http.sent[0].params == {"fields": "open_id,display_name"}
