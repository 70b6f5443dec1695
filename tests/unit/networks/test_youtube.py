"""The YouTube adapter and Google's OAuth against a local fake of the YouTube Data API (tests/fakes/youtube_api.py)."""
from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from chalicelib.core.clock import FixedClock
from chalicelib.networks import youtube
from chalicelib.networks.base import (
    AmbiguousError,
    AuthError,
    ChannelContext,
    MediaItem,
    OAuthApp,
    PermanentError,
    PublishRequest,
    RetryableError,
    StillProcessing,
)
from chalicelib.networks.google_oauth import credentials_of
from chalicelib.networks.registry import NETWORKS
from tests.fakes.youtube_api import YouTubeApi

CHANNEL_ID = "UCherald0000000000coffee"
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # 01:00 in Los Angeles (PST)
CHUNK = 256 * 1024
VIDEO = b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 2400  # ~600 KB: three chunks of 256 KiB
APP = OAuthApp("herald-google.apps.googleusercontent.com", "google-client-secret")


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START)


@pytest.fixture
def fake(clock: FixedClock) -> Iterator[YouTubeApi]:
    with YouTubeApi(clock) as api:
        api.channel(CHANNEL_ID, "Herald Coffee", "@heraldcoffee")
        yield api


@pytest.fixture
def adapter(fake: YouTubeApi, clock: FixedClock) -> youtube.YouTubeAdapter:
    return youtube.make_adapter(clock=clock, base_url=fake.api_url, upload_url=fake.upload_url, chunk_bytes=CHUNK)


def channel(fake: YouTubeApi, token: str | None = None, refresh: Any = None) -> ChannelContext:
    return ChannelContext("ws1", "ch1", "youtube", {"youtube_channel_id": CHANNEL_ID},
                          {"access_token": token or fake.token_for(CHANNEL_ID)}, refresh_credentials=refresh)


def video(body: bytes = VIDEO, **fields: Any) -> MediaItem:
    def stream(size: int) -> Iterator[bytes]:
        for start in range(0, len(body), 100_000):  # the S3 stream's own chunks, not YouTube's
            yield body[start:start + 100_000]

    return MediaItem(mime="video/mp4", size=len(body), stream=stream, **fields)


class Progress:
    def __init__(self, crash_when: Any = None) -> None:
        self.saved: list[dict[str, Any]] = []
        self.crash_when = crash_when

    def __call__(self, progress: Mapping[str, Any]) -> None:
        self.saved.append(dict(progress))
        if self.crash_when and self.crash_when(progress):
            self.crash_when = None
            raise RuntimeError("the worker died")

    @property
    def last(self) -> dict[str, Any]:
        return self.saved[-1] if self.saved else {}


def request(text: str = "Latte art in 60 seconds\nHow our baristas pour a rosetta.", progress: Progress | None = None,
            **fields: Any) -> PublishRequest:
    fields.setdefault("media", (video(),))
    return PublishRequest(delivery_id="d1", text=text, record_progress=progress or Progress(),
                          first_attempt_at=START, **fields)


def again(previous: PublishRequest, progress: Progress) -> PublishRequest:
    return replace(previous, progress=progress.last, record_progress=progress)


def publish_until_done(adapter: youtube.YouTubeAdapter, ch: ChannelContext, req: PublishRequest,
                       progress: Progress, fake: YouTubeApi) -> Any:
    for _ in range(10):
        try:
            return adapter.publish(ch, req)
        except StillProcessing as waiting:
            progress.saved.append(waiting.progress)
            fake.settle()
            req = again(req, progress)
    raise AssertionError("never finished")


class TestAccount:
    def test_describe_account_is_the_tokens_channel(self, adapter, fake):
        assert adapter.describe_account(channel(fake)) == {"handle": "@heraldcoffee", "account_id": CHANNEL_ID}
        assert fake.calls("GET", "/youtube/v3/channels")[0].query["mine"] == ["true"]

    def test_an_account_without_a_channel_is_refused_in_words(self, adapter, fake):
        with pytest.raises(PermanentError, match="no YouTube channel"):
            adapter.describe_account(channel(fake, fake.token_for("UCnochannel0000000000000")))

    def test_the_registry_knows_youtube(self):
        spec = NETWORKS["youtube"]
        assert spec.account_setting == "youtube_channel_id" and spec.can_publish
        assert spec.credential_fields == ("access_token", "refresh_token")


class TestUpload:
    def test_a_video_is_a_resumable_upload_then_processing_then_out(self, adapter, fake):
        progress = Progress()
        req = request(progress=progress, options={"privacy_status": "unlisted", "tags": ["coffee", "latte art"],
                                                  "category_id": "26", "notify_subscribers": False,
                                                  "made_for_kids": False})
        with pytest.raises(StillProcessing) as waiting:
            adapter.publish(channel(fake), req)
        assert waiting.value.check_after_s == youtube.FIRST_CHECK_S

        opened = fake.calls("POST", "/upload/youtube/v3/videos")[0]
        assert opened.query["uploadType"] == ["resumable"] and opened.query["notifySubscribers"] == ["false"]
        assert opened.headers["x-upload-content-length"] == str(len(VIDEO))
        assert opened.headers["x-upload-content-type"] == "video/mp4"
        assert opened.json() == {"snippet": {"title": "Latte art in 60 seconds", "description": req.text,
                                             "categoryId": "26", "tags": ["coffee", "latte art"]},
                                 "status": {"privacyStatus": "unlisted", "embeddable": True,
                                            "selfDeclaredMadeForKids": False}}
        puts = fake.calls("PUT", "/upload/youtube/v3/videos")
        assert [p.headers["content-range"] for p in puts] == [
            f"bytes 0-{CHUNK - 1}/{len(VIDEO)}", f"bytes {CHUNK}-{2 * CHUNK - 1}/{len(VIDEO)}",
            f"bytes {2 * CHUNK}-{len(VIDEO) - 1}/{len(VIDEO)}"]
        assert all(p.headers["authorization"].startswith("Bearer ") for p in puts)
        (uploaded,) = fake.published(CHANNEL_ID)
        assert uploaded.body == VIDEO
        assert progress.saved[0]["session"].startswith(fake.upload_url) and "video_id" not in progress.saved[0]
        assert progress.last["video_id"] == uploaded.video_id

        fake.settle()
        result = adapter.publish(channel(fake), again(req, progress))
        assert result.remote_id == uploaded.video_id
        assert result.remote_url == f"https://www.youtube.com/watch?v={uploaded.video_id}"
        assert len(fake.calls("POST", "/upload/youtube/v3/videos")) == 1 and len(fake.published(CHANNEL_ID)) == 1
        assert fake.violations == []

    def test_the_first_comment_follows_the_processed_video_once(self, adapter, fake):
        progress = Progress()
        req = request(progress=progress, first_comment="Which pour should we film next?")
        result = publish_until_done(adapter, channel(fake), req, progress, fake)
        (thread,) = fake.comments
        assert thread["snippet"]["videoId"] == result.remote_id
        assert thread["snippet"]["topLevelComment"]["snippet"]["textOriginal"] == "Which pour should we film next?"
        assert progress.last["comment_id"] == thread["id"]
        adapter.publish(channel(fake), again(req, progress))
        assert len(fake.comments) == 1 and fake.violations == []

    def test_a_refused_comment_is_a_warning_not_a_failure(self, adapter, fake):
        fake.fail("POST", "/youtube/v3/commentThreads", 403, {"error": {"code": 403, "message": "disabled", "errors": [
            {"reason": "commentsDisabled", "domain": "youtube.commentThread", "message": "disabled"}]}})
        progress = Progress()
        result = publish_until_done(adapter, channel(fake), request(progress=progress, first_comment="Hi"),
                                    progress, fake)
        assert result.remote_id and "comments are turned off" in result.warnings[0]

    def test_a_vertical_short_video_is_linked_as_a_short(self, adapter, fake):
        progress = Progress()
        req = request(progress=progress, media=(video(width=1080, height=1920, duration_s=45),))
        result = publish_until_done(adapter, channel(fake), req, progress, fake)
        assert result.remote_url == f"https://www.youtube.com/shorts/{result.remote_id}"


class TestContinuing:
    def test_a_crash_after_the_session_opened_resumes_it(self, adapter, fake):
        progress = Progress(crash_when=lambda p: "session" in p)
        req = request(progress=progress)
        with pytest.raises(RuntimeError):
            adapter.publish(channel(fake), req)
        assert fake.calls("PUT", "/upload/youtube/v3/videos") == []
        with pytest.raises(StillProcessing):
            adapter.publish(channel(fake), again(req, progress))
        assert len(fake.calls("POST", "/upload/youtube/v3/videos")) == 1
        assert fake.calls("PUT", "/upload/youtube/v3/videos")[0].headers["content-range"] == f"bytes */{len(VIDEO)}"
        assert fake.published(CHANNEL_ID)[0].body == VIDEO and fake.violations == []

    def test_a_broken_chunk_is_settled_by_asking_the_session_then_resumed(self, adapter, fake):
        progress = Progress()
        req = request(progress=progress)
        fake.drop_after("PUT", "/upload/youtube/v3/videos")  # the first chunk arrives, its answer is lost
        with pytest.raises(AmbiguousError):
            adapter.publish(channel(fake), req)
        assert adapter.find_published(channel(fake), again(req, progress)) is None  # the session holds no video
        with pytest.raises(StillProcessing):
            adapter.publish(channel(fake), again(req, progress))
        ranges = [p.headers["content-range"] for p in fake.calls("PUT", "/upload/youtube/v3/videos")]
        assert ranges[0] == f"bytes 0-{CHUNK - 1}/{len(VIDEO)}" and ranges[-1].startswith(f"bytes {2 * CHUNK}-")
        assert fake.published(CHANNEL_ID)[0].body == VIDEO
        assert len(fake.calls("POST", "/upload/youtube/v3/videos")) == 1 and fake.violations == []

    def test_a_lost_answer_to_the_last_chunk_is_found_from_the_session(self, fake, clock):
        one_chunk = youtube.make_adapter(clock=clock, base_url=fake.api_url, upload_url=fake.upload_url,
                                         chunk_bytes=(len(VIDEO) // CHUNK + 1) * CHUNK)
        progress = Progress()
        req = request(progress=progress)
        fake.drop_after("PUT", "/upload/youtube/v3/videos")  # every byte arrives, the video answer is lost
        with pytest.raises(AmbiguousError):
            one_chunk.publish(channel(fake), req)
        fake.settle()
        found = one_chunk.find_published(channel(fake), again(req, progress))
        (uploaded,) = fake.published(CHANNEL_ID)
        assert found is not None and found.remote_id == uploaded.video_id
        assert progress.last["video_id"] == uploaded.video_id

    def test_a_long_upload_hands_over_to_the_next_attempt(self, fake, clock):
        adapter = youtube.make_adapter(clock=clock, base_url=fake.api_url, upload_url=fake.upload_url,
                                       chunk_bytes=CHUNK, max_bytes_per_attempt=CHUNK)
        progress = Progress()
        req = request(progress=progress)
        with pytest.raises(StillProcessing) as waiting:
            adapter.publish(channel(fake), req)
        assert waiting.value.progress["offset"] == CHUNK and fake.published(CHANNEL_ID) == []
        progress.saved.append(waiting.value.progress)
        result = publish_until_done(adapter, channel(fake), again(req, progress), progress, fake)
        assert fake.published(CHANNEL_ID)[0].body == VIDEO and result.remote_id
        assert len(fake.calls("POST", "/upload/youtube/v3/videos")) == 1 and fake.violations == []


class TestErrors:
    def test_a_spent_quota_waits_until_midnight_pacific(self, adapter, fake):
        fake.quota_used = 9000
        with pytest.raises(RetryableError) as waiting:
            adapter.publish(channel(fake), request())
        assert waiting.value.retry_after_s == 23 * 3600  # 01:00 PST → midnight
        assert "quota" in waiting.value.message and "midnight Pacific" in waiting.value.message

    def test_the_quota_day_follows_daylight_saving(self):
        summer = datetime(2026, 7, 1, 6, 30, tzinfo=UTC)  # 23:30 PDT
        assert youtube.seconds_until_quota_reset(summer) == 30 * 60

    def test_a_channels_upload_limit_waits_a_day(self, adapter, fake):
        fake.upload_limit = 0
        with pytest.raises(RetryableError, match="daily upload limit") as waiting:
            adapter.publish(channel(fake), request())
        assert waiting.value.retry_after_s == 24 * 3600

    def test_a_refused_title_is_said_in_words(self, adapter, fake):
        with pytest.raises(PermanentError, match="refused the video's title"):
            adapter.publish(channel(fake), request(options={"title": "a <b> title"}))

    @pytest.mark.parametrize(("status", "reason", "said"), [("rejected", "duplicate", "duplicates a video"),
                                                            ("failed", "codec", "codec")])
    def test_a_video_youtube_refuses_after_upload_fails_clearly(self, adapter, fake, status, reason, said):
        fake.end_next_video(status, reason)
        progress = Progress()
        with pytest.raises(PermanentError, match=said):
            publish_until_done(adapter, channel(fake), request(progress=progress), progress, fake)

    def test_an_expired_token_is_refreshed_once(self, adapter, fake, clock):
        oauth = youtube.make_oauth(clock=clock, api_url=fake.api_url, token_url=fake.token_url)
        refresh_token = fake.refresh_token_for(CHANNEL_ID)
        stale = fake.token_for(CHANNEL_ID)
        fake.revoke(stale)

        def refresh() -> dict[str, Any]:
            return credentials_of(oauth.refresh(APP, {"refresh_token": refresh_token}))

        assert adapter.describe_account(channel(fake, stale, refresh))["account_id"] == CHANNEL_ID
        assert len(fake.calls("POST", "/token")) == 1

    def test_a_refused_token_without_refresh_is_an_auth_error(self, adapter, fake):
        token = fake.token_for(CHANNEL_ID)
        fake.revoke(token)
        with pytest.raises(AuthError):
            adapter.publish(channel(fake, token), request())

    def test_a_throttled_call_is_retried(self, adapter, fake):
        fake.fail("POST", "/upload/youtube/v3/videos", 429, {"error": {"code": 429, "message": "slow", "errors": [
            {"reason": "rateLimitExceeded", "domain": "youtube.quota", "message": "slow"}]}}, {"Retry-After": "30"})
        with pytest.raises(RetryableError) as waiting:
            adapter.publish(channel(fake), request())
        assert waiting.value.retry_after_s == 30


class TestFindPublished:
    def test_without_progress_the_uploads_are_read_for_the_exact_title_and_text(self, adapter, fake):
        progress = Progress()
        req = request(progress=progress)
        publish_until_done(adapter, channel(fake), req, progress, fake)
        found = adapter.find_published(channel(fake), request())
        assert found is not None and found.remote_id == fake.published(CHANNEL_ID)[0].video_id
        assert adapter.find_published(channel(fake), request(text="Another video")) is None


class TestContentProblems:
    @pytest.mark.parametrize(("fields", "where", "said"), [
        ({"media": ()}, "media", "exactly one video"),
        ({"media": (MediaItem(mime="image/jpeg"),)}, "media", "exactly one video"),
        ({"text": ""}, "options.title", "needs a title"),
        ({"text": "x" * 101}, "text", "YouTube allows 100"),
        ({"text": "ok\n" + "é" * 2600}, "text", "bytes"),
        ({"options": {"privacy_status": "friends"}}, "options.privacy_status", "public, unlisted, private"),
        ({"options": {"tags": ["a" * 300, "b" * 300]}}, "options.tags", "500"),
        ({"options": {"category_id": "music"}}, "options.category_id", "category"),
        ({"options": {"colour": "red"}}, "options.colour", "not a YouTube option"),
        ({"options": {"short": True}, "media": (video(width=1920, height=1080),)}, "media.0", "square or vertical"),
        ({"options": {"short": True}, "media": (video(duration_s=200),)}, "media.0", "at most 3 minutes"),
        ({"first_comment": "c" * 10_001}, "first_comment", "10000"),
    ])
    def test_a_rule_youtube_documents_is_named(self, fields, where, said):
        problems = youtube.content_problems(request(**fields))
        assert any(p.field == where and said in p.message for p in problems), problems

    def test_a_good_post_has_no_problems(self):
        assert youtube.content_problems(request(options={"title": "Latte art", "privacy_status": "public",
                                                         "notify_subscribers": True, "made_for_kids": False,
                                                         "tags": ["coffee"], "category_id": "22"})) == []


class TestOAuth:
    def test_the_authorization_asks_for_offline_access_with_consent_and_pkce(self, fake, clock):
        oauth = youtube.make_oauth(clock=clock, authorize_url="https://accounts.google.com/o/oauth2/v2/auth")
        url = oauth.authorize_url(APP, "https://herald.example/oauth/callback/youtube", "st8", "chal")
        query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
        assert url.startswith("https://accounts.google.com/o/oauth2/v2/auth?")
        assert query["access_type"] == "offline" and query["prompt"] == "consent"
        assert query["code_challenge"] == "chal" and query["code_challenge_method"] == "S256"
        assert "https://www.googleapis.com/auth/youtube.upload" in query["scope"].split()

    def test_the_code_becomes_tokens_and_the_channel_is_the_account(self, fake, clock):
        import base64
        import hashlib

        verifier = "v" * 50
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        fake.authorization_code("4/code", "https://herald.example/cb", CHANNEL_ID, challenge)
        oauth = youtube.make_oauth(clock=clock, api_url=fake.api_url, token_url=fake.token_url)
        grant = oauth.exchange_code(APP, "4/code", "https://herald.example/cb", verifier)
        assert grant.refresh_token and grant.expires_at is not None
        (account,) = oauth.granted_accounts(APP, grant)
        assert (account.account_id, account.handle, account.name) == (CHANNEL_ID, "@heraldcoffee", "Herald Coffee")
        assert account.settings == {"youtube_channel_id": CHANNEL_ID}
        assert account.credentials["refresh_token"] == grant.refresh_token

    def test_a_refresh_keeps_the_refresh_token_google_does_not_repeat(self, fake, clock):
        oauth = youtube.make_oauth(clock=clock, token_url=fake.token_url)
        token = fake.refresh_token_for(CHANNEL_ID)
        grant = oauth.refresh(APP, {"refresh_token": token})
        assert grant.refresh_token == token and grant.access_token

    def test_only_invalid_grant_needs_a_reconnect(self, fake, clock):
        oauth = youtube.make_oauth(clock=clock, token_url=fake.token_url)
        token = fake.refresh_token_for(CHANNEL_ID)
        fake.revoke(token)
        with pytest.raises(AuthError):
            oauth.refresh(APP, {"refresh_token": token})
        with pytest.raises(RetryableError, match="HERALD_GOOGLE_CLIENT_ID"):
            oauth.refresh(OAuthApp("other", "wrong"), {"refresh_token": fake.refresh_token_for(CHANNEL_ID)})
        fake.fail("POST", "/token", 503, {"error": "backend"})
        with pytest.raises(RetryableError):
            oauth.refresh(APP, {"refresh_token": fake.refresh_token_for(CHANNEL_ID)})


class Documented:
    """A response carrying a documented payload (tests/events/youtube)."""

    def __init__(self, status: int, body: Any) -> None:
        self.status_code, self._body, self.headers, self.text = status, body, {}, ""

    def json(self) -> Any:
        return self._body


class TestDocumentedPayloads:
    def test_the_documented_quota_error_waits_for_the_pacific_midnight(self):
        from tests.support.events import load_event

        detail = youtube.explain_error(Documented(403, load_event("youtube", "quota_exceeded.json")), now=START)
        assert detail.rate_limited and detail.retry_after_s == 23 * 3600

    def test_the_documented_channel_list_is_the_account(self):
        from tests.support.events import load_event

        found = youtube.my_channel(load_event("youtube", "channels_mine.json"))
        assert found["id"] == "UC_x5XG1OV2P6uZZ5FSM9Ttw"

    def test_the_session_body_has_the_documented_shape(self, adapter, fake):
        from tests.support.events import load_event

        with pytest.raises(StillProcessing):
            adapter.publish(channel(fake), request(options={"made_for_kids": False, "tags": ["coffee"]}))
        documented = load_event("youtube", "upload_session_request.json")
        sent = fake.calls("POST", "/upload/youtube/v3/videos")[0].json()
        assert {k: set(v) for k, v in sent.items()} == {k: set(v) for k, v in documented.items()}
