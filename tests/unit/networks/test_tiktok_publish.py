"""The TikTok adapter's publishing and OAuth against a local fake of the Content Posting API
(tests/fakes/tiktok_api.py)."""
from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from chalicelib.core.clock import FixedClock
from chalicelib.networks import tiktok, tiktok_oauth
from chalicelib.networks import tiktok_publish as rules
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
    ThreadPart,
)
from chalicelib.networks.registry import NETWORKS
from tests.fakes.tiktok_api import MB, TikTokApi, envelope

TOKEN = "act.herald-coffee"
OPEN_ID = "-000OBm8Uw5SmQnk2RZeS9Qa2d1IjhIN6vZ0"
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
MP4 = b"\x00\x00\x00\x18ftypmp42" + bytes(2000)
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF" + bytes(64)
PUBLIC = {"privacy_level": "PUBLIC_TO_EVERYONE"}
APP = OAuthApp("awtiktokfake", "tiktok-client-secret")


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START)


@pytest.fixture
def fake() -> Iterator[TikTokApi]:
    with TikTokApi() as api:
        api.creator(TOKEN, OPEN_ID, "herald.coffee")
        yield api
        assert api.violations == []


@pytest.fixture
def adapter(fake: TikTokApi, clock: FixedClock) -> tiktok.TikTokAdapter:
    return tiktok.make_adapter(clock=clock, base_url=fake.url, app_audited=True)


def channel(token: str = TOKEN, refresh: Any = None) -> ChannelContext:
    return ChannelContext("ws1", "ch1", "tiktok", {"open_id": OPEN_ID}, {"access_token": token},
                          refresh_credentials=refresh)


def video(body: bytes = MP4, **fields: Any) -> MediaItem:
    def stream(size: int) -> Iterator[bytes]:
        for start in range(0, len(body), size):
            yield body[start:start + size]

    return MediaItem(mime="video/mp4", size=len(body), stream=stream, **fields)


def pulled_video(fake: TikTokApi, body: bytes = MP4) -> MediaItem:
    return MediaItem(mime="video/mp4", size=len(body), public_url=lambda _ttl: fake.host("clip.mp4", body, "video/mp4"))


def photo(fake: TikTokApi, name: str) -> MediaItem:
    return MediaItem(mime="image/jpeg", size=len(JPEG), public_url=lambda _ttl: fake.host(name, JPEG, "image/jpeg"))


class Progress:
    """What the adapter records; `crash_when` raises once (a worker dying) when it returns True."""

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


def request(media: tuple[MediaItem, ...] | None = None, text: str = "Fresh beans #coffee",
            options: Mapping[str, Any] | None = None, progress: Progress | None = None) -> PublishRequest:
    return PublishRequest("d1", text, media=media if media is not None else (video(),),
                          options=dict(PUBLIC if options is None else options), record_progress=progress or Progress(),
                          first_attempt_at=START)


def again(previous: PublishRequest, progress: Progress) -> PublishRequest:
    return replace(previous, progress=progress.last, record_progress=progress)


def until_settled(adapter: tiktok.TikTokAdapter, first: PublishRequest, progress: Progress,
                  clock: FixedClock) -> Any:
    req = first
    for _ in range(10):
        try:
            return adapter.publish(channel(), req)
        except StillProcessing as still:
            clock.advance(still.check_after_s)
            progress.saved.append(still.progress)
            req = again(first, progress)
    raise AssertionError("never settled")


def steps(fake: TikTokApi) -> list[str]:
    return [f"{r.method} {r.path}" for r in fake.requests]


CREATOR, VIDEO_INIT, STATUS = ("POST /v2/post/publish/creator_info/query/", "POST /v2/post/publish/video/init/",
                               "POST /v2/post/publish/status/fetch/")


class TestRegistry:
    def test_tiktok_publishes_now(self):
        spec = NETWORKS["tiktok"]
        assert spec.can_publish and spec.account_setting == "open_id"
        assert spec.credential_fields == ("access_token",)
        assert "refresh_token" in spec.credentials_model.model_fields


class TestVideo:
    def test_a_small_video_is_creator_info_init_one_chunk_then_the_status(self, adapter, fake, clock):
        progress = Progress()
        first = request(progress=progress)
        with pytest.raises(StillProcessing) as still:
            adapter.publish(channel(), first)
        assert steps(fake) == [CREATOR, VIDEO_INIT, f"PUT /upload/{progress.last['publish_id']}", STATUS]
        assert still.value.check_after_s == rules.FIRST_CHECK_S
        clock.advance(still.value.check_after_s)
        result = adapter.publish(channel(), replace(first, progress=still.value.progress))

        post = fake.published()[0]
        assert result.remote_id == post.post_id
        assert result.remote_url == f"https://www.tiktok.com/@herald.coffee/video/{post.post_id}"
        assert bytes(post.received) == MP4
        init = fake.calls("POST", "/v2/post/publish/video/init/")[0]
        assert init.headers["authorization"] == f"Bearer {TOKEN}"
        assert init.json() == {
            "post_info": {"privacy_level": "PUBLIC_TO_EVERYONE", "title": "Fresh beans #coffee",
                          "disable_comment": True, "disable_duet": True, "disable_stitch": True,
                          "brand_content_toggle": False, "brand_organic_toggle": False, "is_aigc": False},
            "source_info": {"source": "FILE_UPLOAD", "video_size": len(MP4), "chunk_size": len(MP4),
                            "total_chunk_count": 1}}
        assert len(fake.calls("POST", "/v2/post/publish/video/init/")) == 1

    def test_options_reach_tiktok_as_chosen(self, adapter, fake, clock):
        options = {**PUBLIC, "disable_comment": False, "disable_duet": False, "disable_stitch": False,
                   "brand_organic_toggle": True, "video_cover_timestamp_ms": 1500, "is_aigc": True}
        until_settled(adapter, request(options=options), Progress(), clock)
        info = fake.calls("POST", "/v2/post/publish/video/init/")[0].json()["post_info"]
        assert info["disable_comment"] is False and info["disable_duet"] is False and info["is_aigc"] is True
        assert info["brand_organic_toggle"] is True and info["video_cover_timestamp_ms"] == 1500

    def test_a_large_video_goes_in_documented_chunks_and_a_crash_repeats_no_chunk(self, adapter, fake, clock):
        body = b"\x00\x00\x00\x18ftypmp42" + bytes(31 * MB)  # 3 chunks of 10 MB, the last with the trailing bytes
        progress = Progress(crash_when=lambda p: p.get("uploaded_chunks") == 1)
        first = request(media=(video(body),), progress=progress)
        with pytest.raises(RuntimeError):
            adapter.publish(channel(), first)

        result = until_settled(adapter, again(first, progress), progress, clock)

        assert len(fake.calls("POST", "/v2/post/publish/video/init/")) == 1
        ranges = [r.headers["content-range"] for r in fake.calls("PUT", r"/upload/.+")]
        size = len(body)
        assert ranges == [f"bytes 0-{10 * MB - 1}/{size}", f"bytes {10 * MB}-{20 * MB - 1}/{size}",
                          f"bytes {20 * MB}-{size - 1}/{size}"]
        assert bytes(fake.published()[0].received) == body
        assert result.remote_id == fake.published()[0].post_id

    def test_a_crash_after_init_continues_without_a_second_init(self, adapter, fake, clock):
        progress = Progress(crash_when=lambda p: "publish_id" in p and not p.get("uploaded_chunks"))
        first = request(progress=progress)
        with pytest.raises(RuntimeError):
            adapter.publish(channel(), first)
        until_settled(adapter, again(first, progress), progress, clock)
        assert len(fake.calls("POST", "/v2/post/publish/video/init/")) == 1
        assert len(fake.calls("PUT", r"/upload/.+")) == 1

    def test_a_video_without_a_stream_is_pulled_from_its_link(self, adapter, fake, clock):
        result = until_settled(adapter, request(media=(pulled_video(fake),)), Progress(), clock)
        source = fake.calls("POST", "/v2/post/publish/video/init/")[0].json()["source_info"]
        assert source == {"source": "PULL_FROM_URL", "video_url": f"{fake.url}/media/clip.mp4"}
        assert fake.calls("PUT", r"/upload/.+") == [] and result.remote_id == fake.published()[0].post_id

    def test_a_private_post_is_named_by_its_publish_id(self, adapter, fake, clock):
        progress = Progress()
        result = until_settled(adapter, request(options={"privacy_level": "SELF_ONLY"}, progress=progress),
                               progress, clock)
        assert result.remote_id == progress.last["publish_id"] and result.remote_url is None

    def test_a_failed_post_says_the_documented_reason(self, adapter, fake, clock):
        fake.fail_next_post("frame_rate_check_failed")
        with pytest.raises(PermanentError, match="frame rate is outside the 23 to 60 FPS"):
            until_settled(adapter, request(), Progress(), clock)

    def test_a_privacy_level_the_creator_does_not_offer_fails_before_init(self, adapter, fake):
        fake.creators[OPEN_ID].privacy_level_options = ["FOLLOWER_OF_CREATOR", "SELF_ONLY"]
        with pytest.raises(PermanentError, match="does not offer the privacy level PUBLIC_TO_EVERYONE"):
            adapter.publish(channel(), request())
        assert fake.calls("POST", "/v2/post/publish/video/init/") == []

    def test_a_video_longer_than_the_creator_may_post_fails_before_init(self, adapter, fake):
        fake.creators[OPEN_ID].max_video_post_duration_sec = 180
        with pytest.raises(PermanentError, match="at most 180 seconds"):
            adapter.publish(channel(), request(media=(video(duration_s=200.0),)))
        assert fake.calls("POST", "/v2/post/publish/video/init/") == []

    def test_an_interaction_the_creator_turned_off_stays_off_and_is_said(self, adapter, fake, clock):
        fake.creators[OPEN_ID].comment_disabled = True
        result = until_settled(adapter, request(options={**PUBLIC, "disable_comment": False}), Progress(), clock)
        assert fake.calls("POST", "/v2/post/publish/video/init/")[0].json()["post_info"]["disable_comment"] is True
        assert result.warnings and "comments" in result.warnings[0]


class TestPhotos:
    def test_a_photo_post_is_pulled_with_its_title_and_description(self, adapter, fake, clock):
        media = (photo(fake, "a.jpg"), photo(fake, "b.jpg"))
        options = {**PUBLIC, "title": "Roast day", "photo_cover_index": 1, "auto_add_music": True}
        result = until_settled(adapter, request(media=media, text="Two roasts today", options=options),
                               Progress(), clock)
        body = fake.calls("POST", "/v2/post/publish/content/init/")[0].json()
        assert body["media_type"] == "PHOTO" and body["post_mode"] == "DIRECT_POST"
        assert body["post_info"]["title"] == "Roast day" and body["post_info"]["description"] == "Two roasts today"
        assert body["source_info"] == {"source": "PULL_FROM_URL", "photo_cover_index": 1,
                                       "photo_images": [f"{fake.url}/media/a.jpg", f"{fake.url}/media/b.jpg"]}
        assert result.remote_url == f"https://www.tiktok.com/@herald.coffee/photo/{fake.published()[0].post_id}"


class TestUnauditedApp:
    def test_a_public_post_is_a_content_problem_before_it_is_saved(self, fake, clock):
        adapter = tiktok.make_adapter(clock=clock, base_url=fake.url, app_audited=False)
        problems = adapter.content_problems(request())
        assert [p.field for p in problems] == ["options.privacy_level"]
        assert "HERALD_TIKTOK_APP_AUDITED" in problems[0].message
        assert adapter.content_problems(request(options={"privacy_level": "SELF_ONLY"})) == []
        assert adapter.account_notes() and not tiktok.make_adapter(app_audited=True).account_notes()

    def test_a_public_post_is_refused_without_calling_tiktok(self, fake, clock):
        adapter = tiktok.make_adapter(clock=clock, base_url=fake.url, app_audited=False)
        with pytest.raises(PermanentError, match="not audited"):
            adapter.publish(channel(), request())
        assert fake.requests == []

    def test_tiktoks_own_refusal_is_said_plainly(self, adapter, fake):
        fake.audited = False  # the operator said audited, TikTok disagrees
        with pytest.raises(PermanentError, match="HERALD_TIKTOK_APP_AUDITED"):
            adapter.publish(channel(), request())


class TestErrors:
    def test_throttling_is_retried_after_the_minute_window(self, adapter, fake):
        fake.fail("POST", "/v2/post/publish/video/init/", 429, envelope(code="rate_limit_exceeded", message="slow"))
        with pytest.raises(RetryableError) as err:
            adapter.publish(channel(), request())
        assert err.value.retry_after_s == rules.RATE_LIMIT_RETRY_S

    def test_the_daily_cap_defers_the_post(self, adapter, fake):
        fake.fail("POST", "/v2/post/publish/video/init/", 403,
                  envelope(code="spam_risk_too_many_posts", message="daily cap"))
        with pytest.raises(RetryableError, match="daily number of posts") as err:
            adapter.publish(channel(), request())
        assert err.value.retry_after_s == rules.DAILY_CAP_RETRY_S

    @pytest.mark.parametrize(("code", "status", "words"), [
        ("privacy_level_option_mismatch", 400, "not one this TikTok account offers"),
        ("spam_risk_user_banned_from_posting", 403, "banned this account"),
        ("url_ownership_unverified", 403, "verified in its developer portal"),
        ("invalid_params", 400, "bad title"),
    ])
    def test_refusals_are_sentences(self, adapter, fake, code, status, words):
        fake.fail("POST", "/v2/post/publish/video/init/", status, envelope(code=code, message="bad title"))
        with pytest.raises(PermanentError, match=words):
            adapter.publish(channel(), request())

    def test_a_server_error_is_retried(self, adapter, fake):
        fake.fail("POST", "/v2/post/publish/creator_info/query/", 500, envelope(code="internal_error"))
        with pytest.raises(RetryableError):
            adapter.publish(channel(), request())

    @pytest.mark.parametrize("code", ["access_token_invalid", "scope_not_authorized"])
    def test_a_refused_token_without_refresh_is_an_auth_error(self, adapter, fake, code):
        fake.fail("POST", "/v2/post/publish/creator_info/query/", 401, envelope(code=code, message="no"))
        with pytest.raises(AuthError):
            adapter.publish(channel(), request())

    def test_an_expired_token_is_refreshed_once(self, adapter, fake, clock):
        fake.expire(TOKEN)
        fake.creator("act.fresh", OPEN_ID, "herald.coffee")
        refreshed: list[int] = []

        def refresh() -> dict[str, str]:
            refreshed.append(1)
            return {"access_token": "act.fresh"}

        ctx = channel(refresh=refresh)
        with pytest.raises(StillProcessing):
            adapter.publish(ctx, request())
        assert refreshed == [1] and ctx.credentials["access_token"] == "act.fresh"


class TestLookingBeforeRetry:
    def test_a_lost_last_chunk_is_found_by_the_status(self, adapter, fake, clock):
        progress = Progress()
        first = request(progress=progress)
        fake.drop_after("PUT", r"/upload/.+")
        with pytest.raises(AmbiguousError):
            adapter.publish(channel(), first)
        clock.advance(30)
        for post in fake.posts.values():
            post.reads_left = 0  # TikTok has processed it meanwhile
        found = adapter.find_published(channel(), again(first, progress))
        assert found is not None and found.remote_id == fake.published()[0].post_id
        assert len(fake.calls("PUT", r"/upload/.+")) == 1

    def test_a_lost_chunk_is_not_sent_twice_when_publishing_again(self, adapter, fake, clock):
        progress = Progress()
        first = request(progress=progress)
        fake.drop_after("PUT", r"/upload/.+")
        with pytest.raises(AmbiguousError):
            adapter.publish(channel(), first)
        assert adapter.find_published(channel(), again(first, progress)) is None  # still processing
        until_settled(adapter, again(first, progress), progress, clock)
        assert len(fake.calls("PUT", r"/upload/.+")) == 1 and len(fake.published()) == 1

    def test_a_lost_file_upload_init_posted_nothing(self, adapter, fake):
        fake.drop_after("POST", "/v2/post/publish/video/init/")
        with pytest.raises(AmbiguousError):
            adapter.publish(channel(), request())
        assert adapter.find_published(channel(), request()) is None

    def test_a_lost_pull_init_cannot_be_told(self, adapter, fake):
        fake.drop_after("POST", "/v2/post/publish/video/init/")
        pulled = request(media=(pulled_video(fake),))
        with pytest.raises(AmbiguousError):
            adapter.publish(channel(), pulled)
        with pytest.raises(AmbiguousError, match="cannot tell"):
            adapter.find_published(channel(), pulled)


def problems_of(req: PublishRequest, audited: bool = True) -> list[tuple[str, str]]:
    return [(p.field, p.message) for p in rules.content_problems(req, app_audited=audited)]


class TestContentProblems:
    def test_a_valid_video_and_a_valid_photo_post_have_none(self, fake):
        assert problems_of(request()) == []
        assert problems_of(request(media=(photo(fake, "a.jpg"),), text="x" * 4000)) == []

    @pytest.mark.parametrize(("req", "field", "words"), [
        (dict(media=()), "media", "no text-only posts"),
        (dict(media=(video(), video())), "media", "cannot mix"),
        (dict(media=(MediaItem(mime="image/png"),)), "media.0", "not accepted by TikTok"),
        (dict(media=(MediaItem(mime="image/jpeg"),) * 36), "media", "1 to 35"),
        (dict(media=(video(duration_s=601.0),)), "media.0", "10 minutes"),
        (dict(media=(video(width=200, height=640),)), "media.0", "360 to 4096"),
        (dict(media=(MediaItem(mime="image/jpeg", size=21 * MB),)), "media.0", "20 MB"),
        (dict(text="a" * 2201), "text", "2200 for a video's caption"),
        (dict(text="😀" * 1101), "text", "UTF-16"),
        (dict(media=(MediaItem(mime="image/jpeg"),), text="a" * 4001), "text", "4000"),
        (dict(options={}), "options.privacy_level", "no default"),
        (dict(options={"privacy_level": "EVERYONE"}), "options.privacy_level", "must be one of"),
        (dict(options={**PUBLIC, "reply_control": "x"}), "options.reply_control", "not a TikTok option"),
        (dict(options={**PUBLIC, "disable_comment": "yes"}), "options.disable_comment", "not a valid"),
        (dict(options={"privacy_level": "SELF_ONLY", "brand_content_toggle": True}),
         "options.brand_content_toggle", "branded content (a paid partnership) to be private"),
        (dict(options={**PUBLIC, "title": "x"}), "options.title", "photo posts"),
        (dict(media=(MediaItem(mime="image/jpeg"),), options={**PUBLIC, "disable_duet": False}),
         "options.disable_duet", "not photo posts"),
        (dict(media=(MediaItem(mime="image/jpeg"),), options={**PUBLIC, "photo_cover_index": 3}),
         "options.photo_cover_index", "has 1 photos"),
        (dict(media=(MediaItem(mime="image/jpeg"),), options={**PUBLIC, "title": "t" * 91}),
         "options.title", "not a valid"),
    ])
    def test_each_documented_rule(self, req, field, words):
        found = problems_of(request(**req))
        assert any(f == field and words in message for f, message in found), found

    def test_threads_first_comments_and_links_are_not_tiktok(self):
        req = replace(request(), thread=(ThreadPart("more"),), first_comment="hi", link="https://x.test")
        assert {f for f, _ in problems_of(req)} == {"thread", "first_comment", "link"}

    def test_chunk_plans_follow_the_media_transfer_guide(self):
        assert rules.plan_chunks(3 * MB) == rules.ChunkPlan(3 * MB, 3 * MB, 1)
        assert rules.plan_chunks(50_000_123) == rules.ChunkPlan(50_000_123, 10 * MB, 4)
        plan = rules.plan_chunks(4 * 1024 ** 3)
        assert plan.total_chunk_count <= 1000 and plan.byte_range(plan.total_chunk_count - 1)[1] == 4 * 1024 ** 3 - 1


class TestOAuth:
    @pytest.fixture
    def oauth(self, fake: TikTokApi, clock: FixedClock) -> tiktok_oauth.TikTokOAuth:
        return tiktok.make_oauth(clock=clock, api_url=fake.url, authorize_url="https://www.tiktok.com/v2/auth/authorize/")

    def test_the_authorize_url_is_login_kits(self, oauth):
        url = oauth.authorize_url(APP, "https://herald.test/oauth/callback/tiktok", "st4te", "chall")
        split = urlsplit(url)
        query = {k: v[0] for k, v in parse_qs(split.query).items()}
        assert f"{split.scheme}://{split.netloc}{split.path}" == "https://www.tiktok.com/v2/auth/authorize/"
        assert query == {"client_key": APP.client_id, "scope": "user.info.basic,video.publish,video.upload",
                         "response_type": "code", "redirect_uri": "https://herald.test/oauth/callback/tiktok",
                         "state": "st4te", "code_challenge": "chall", "code_challenge_method": "S256"}
        assert APP.client_secret not in url

    def test_the_code_is_exchanged_with_the_verifier_and_the_account_read(self, oauth, fake, clock):
        verifier = "v" * 50
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        fake.authorization_code("c0de", "https://herald.test/cb", OPEN_ID, challenge)
        grant = oauth.exchange_code(APP, "c0de", "https://herald.test/cb", verifier)
        assert grant.refresh_token and grant.expires_at is not None
        assert (grant.expires_at - clock.now()).total_seconds() == 86400
        assert grant.scopes == ("user.info.basic", "video.publish", "video.upload")
        [account] = oauth.granted_accounts(APP, grant)
        assert (account.account_id, account.handle, account.settings) == (OPEN_ID, "Herald.Coffee",
                                                                            {"open_id": OPEN_ID})
        assert set(account.credentials) == {"access_token", "refresh_token", "expires_at", "refresh_expires_at"}

    def test_refresh_answers_the_new_pair(self, oauth, fake):
        fake.refresh_token_for("rft.old", OPEN_ID)
        grant = oauth.refresh(APP, {"refresh_token": "rft.old"})
        assert grant.access_token in fake.tokens and grant.refresh_token != "rft.old"

    def test_a_revoked_refresh_token_is_an_auth_error(self, oauth):
        with pytest.raises(AuthError, match="connect the account again"):
            oauth.refresh(APP, {"refresh_token": "rft.gone"})

    def test_a_refused_client_is_the_operators_problem_not_a_reconnect(self, oauth):
        with pytest.raises(RetryableError, match="HERALD_TIKTOK_CLIENT_KEY"):
            oauth.refresh(OAuthApp("other", "secret"), {"refresh_token": "rft.any"})


class TestContractCase:
    def test_the_case_drives_every_scenario(self, clock):
        from tests.functional.networks.contract.cases import tiktok as case_module

        with case_module.start(clock) as case:
            run_contract(case)


def run_contract(case: Any) -> None:
    adapter = case.adapter()

    def settled(req: PublishRequest, progress: Progress) -> Any:
        for _ in range(10):
            try:
                return adapter.publish(case.channel(), req)
            except StillProcessing as still:
                progress.saved.append(still.progress)
                case.settle()
                req = replace(req, progress=progress.last)
        raise AssertionError("never settled")

    for index, kind in enumerate((None, *case.media_kinds)):
        progress = Progress()
        result = settled(case.request(f"d{index}", "Fresh beans", kind, record_progress=progress), progress)
        assert result.remote_id == case.published()[-1]
    assert adapter.content_problems(case.request("dl", case.too_long_text()))
    expected = {"throttled": RetryableError, "revoked": AuthError, "rejected": PermanentError}
    for kind in case.error_kinds:
        case.script_error(kind)
        with pytest.raises(expected[kind]):
            adapter.publish(case.channel(), case.request(f"e-{kind}", "Fresh beans"))
    before = len(case.published())
    progress = Progress()
    req = case.request("amb", "Fresh beans", record_progress=progress)
    case.drop_next_publish()
    with pytest.raises(AmbiguousError):
        adapter.publish(case.channel(), req)
    case.settle()
    found = adapter.find_published(case.channel(), replace(req, progress=progress.last))
    assert found is not None and len(case.published()) == before + 1 and found.remote_id == case.published()[-1]
