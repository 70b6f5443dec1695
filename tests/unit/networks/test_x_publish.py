"""X publishing, its rules, look-before-retry and OAuth, driven against the local fake of the X API."""
from __future__ import annotations

import base64
import copy
import hashlib
from collections.abc import Iterator, Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from chalicelib.core.clock import FixedClock
from chalicelib.networks import x
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
from chalicelib.networks.registry import XCredentials
from chalicelib.networks.x_oauth import SCOPES, credentials_of
from chalicelib.networks.x_publish import CHUNK_BYTES
from tests.fakes.x_api import CLIENT_ID, CLIENT_SECRET, XApi

USER = "2975699229"
USERNAME = "Scruffy"
APP = OAuthApp(CLIENT_ID, CLIENT_SECRET)
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF" + bytes(range(256)) * 4
MP4 = b"\x00\x00\x00\x18ftypmp42" + bytes(range(251)) * (9 * 1024 * 1024 // 251)  # three 4 MiB segments


class Crash(Exception):
    """The worker died right after a step was recorded."""


class Progress:
    """What the engine keeps of a delivery: each recorded progress, and a crash after the n-th if asked."""

    def __init__(self, crash_after: int | None = None) -> None:
        self.value: dict[str, Any] = {}
        self.snapshots: list[dict[str, Any]] = []
        self.crash_after = crash_after

    def record(self, progress: Mapping[str, Any]) -> None:
        self.value = copy.deepcopy(dict(progress))
        self.snapshots.append(self.value)
        if self.crash_after is not None and len(self.snapshots) == self.crash_after:
            self.crash_after = None
            raise Crash()


@pytest.fixture
def clock():
    return FixedClock(datetime(2026, 3, 2, 9, 30, tzinfo=UTC))


@pytest.fixture
def api(clock):
    with XApi(clock) as fake:
        yield fake
    assert fake.violations == [], "Herald sent X something its documentation does not allow"


@pytest.fixture
def adapter(api, clock):
    return x.make_adapter(clock=clock, base_url=api.url)


@pytest.fixture
def oauth(api, clock):
    return x.make_oauth(clock=clock, authorize_url="https://x.test/i/oauth2/authorize", api_url=api.url)


@pytest.fixture
def channel(api, oauth):
    return connected(api, oauth)


def connected(api: XApi, oauth: Any) -> ChannelContext:
    tokens = api.user_token(USER, USERNAME)
    saved: list[dict[str, Any]] = []
    context = ChannelContext("ws_1", "ch_1", "x", {"user_id": USER, "username": USERNAME}, dict(tokens),
                             save_credentials=saved.append)

    def refresh() -> Mapping[str, Any]:
        # The engine's atomic refresh, reduced to its effect: the rotated pair is stored before it is used.
        fresh = credentials_of(oauth.refresh(APP, context.credentials))
        context.save_credentials(fresh)
        return fresh

    context.refresh_credentials = refresh
    context.saved = saved  # type: ignore[attr-defined]
    return context


def request(text: str = "Fresh beans today", progress: Progress | None = None, **kwargs: Any) -> PublishRequest:
    progress = progress or Progress()
    return PublishRequest("d_1", text, progress=copy.deepcopy(progress.value), record_progress=progress.record,
                          **kwargs)


def image(alt: str = "", data: bytes = JPEG, mime: str = "image/jpeg") -> MediaItem:
    return MediaItem(mime=mime, alt=alt, size=len(data), load=lambda: data)


def video(data: bytes = MP4, piece: int = 1024 * 1024 + 3) -> MediaItem:
    def stream(_chunk: int) -> Iterator[bytes]:
        # The source's own piece size, not X's: the adapter makes X's segments from it.
        return (data[i:i + piece] for i in range(0, len(data), piece))

    return MediaItem(mime="video/mp4", size=len(data), stream=stream, duration_s=12.0)


def publish_until_done(adapter: Any, channel: ChannelContext, make: Any, progress: Progress, clock: FixedClock,
                       rounds: int = 10) -> Any:
    for _ in range(rounds):
        try:
            return adapter.publish(channel, make(progress))
        except StillProcessing as waiting:
            assert waiting.progress == progress.value
            clock.advance(waiting.check_after_s)
    raise AssertionError("never published")


# -- posts and media -------------------------------------------------------------------------------------------

def test_a_text_post_is_published_with_its_public_link(api, adapter, channel):
    result = adapter.publish(channel, request("Fresh beans today"))

    (tweet,) = api.tweets
    assert (tweet.text, tweet.author_id, tweet.in_reply_to) == ("Fresh beans today", USER, None)
    assert result.remote_id == tweet.id
    assert result.remote_url == f"https://x.com/{USERNAME}/status/{tweet.id}"
    (sent,) = api.calls("POST", "/2/tweets")
    assert sent.headers["authorization"] == f"Bearer {channel.credentials['access_token']}"
    assert sent.json() == {"text": "Fresh beans today"}


def test_the_link_goes_at_the_end_of_the_text_and_reply_settings_pass_through(api, adapter, channel):
    adapter.publish(channel, request("Menu", link="https://herald.example/menu",
                                     options={"reply_settings": "following"}))

    assert api.calls("POST", "/2/tweets")[0].json() == {
        "text": "Menu\n\nhttps://herald.example/menu", "reply_settings": "following"}


def test_four_images_are_uploaded_in_chunks_described_and_attached_in_order(api, adapter, channel):
    photos = tuple(image(alt=f"cup {i}", data=JPEG + bytes([i])) for i in range(4))

    adapter.publish(channel, request("Four cups", media=photos))

    inits = api.calls("POST", "/2/media/upload/initialize")
    assert [r.json() for r in inits] == [
        {"media_type": "image/jpeg", "total_bytes": len(JPEG) + 1, "media_category": "tweet_image"}] * 4
    media_ids = api.tweets[0].media_ids
    assert [api.media[m].content for m in media_ids] == [p.load() for p in photos]
    assert [api.media[m].alt for m in media_ids] == ["cup 0", "cup 1", "cup 2", "cup 3"]
    assert len(api.calls("POST", r"/2/media/upload/\d+/append")) == 4
    # Alt text once each, after the upload is finished and before the post.
    order = [(r.method, r.path.split("/")[-1]) for r in api.requests]
    assert order.index(("POST", "tweets")) > max(i for i, step in enumerate(order) if step[1] == "metadata")


def test_a_gif_is_uploaded_as_a_gif(api, adapter, channel):
    adapter.publish(channel, request("Loop", media=(image(mime="image/gif", data=b"GIF89a" + bytes(50)),)))

    assert api.calls("POST", "/2/media/upload/initialize")[0].json()["media_category"] == "tweet_gif"


def test_a_video_is_streamed_in_segments_and_waits_for_processing_without_sleeping(api, adapter, channel, clock):
    progress = Progress()

    with pytest.raises(StillProcessing) as first:
        adapter.publish(channel, request("Roasting", progress, media=(video(),)))
    assert first.value.check_after_s == 3
    assert api.tweets == []
    with pytest.raises(StillProcessing):
        adapter.publish(channel, request("Roasting", progress, media=(video(),)))
    result = adapter.publish(channel, request("Roasting", progress, media=(video(),)))

    assert len(api.calls("POST", "/2/media/upload/initialize")) == 1
    appends = api.calls("POST", r"/2/media/upload/\d+/append")
    assert len(appends) == 3 and all(len(r.body) < CHUNK_BYTES + 1024 for r in appends)
    assert len(api.calls("POST", r"/2/media/upload/\d+/finalize")) == 1
    statuses = api.calls("GET", "/2/media/upload")
    assert [r.query["command"] for r in statuses] == [["STATUS"], ["STATUS"]]
    (tweet,) = api.tweets
    assert api.media[tweet.media_ids[0]].content == MP4
    assert api.calls("POST", "/2/media/upload/initialize")[0].json()["media_category"] == "tweet_video"
    assert result.remote_id == tweet.id


def test_a_video_x_cannot_process_fails_in_plain_words(api, adapter, channel, clock):
    api.video_states = ["pending", "failed"]
    progress = Progress()
    with pytest.raises(StillProcessing):
        adapter.publish(channel, request("Roasting", progress, media=(video(),)))

    with pytest.raises(PermanentError, match="X could not process this video: Unsupported video codec"):
        adapter.publish(channel, request("Roasting", progress, media=(video(),)))
    assert api.tweets == []


def test_a_media_id_about_to_expire_is_uploaded_again(api, adapter, channel, clock):
    progress = Progress()
    with pytest.raises(StillProcessing):
        adapter.publish(channel, request("Roasting", progress, media=(video(),)))
    clock.advance(hours=24)

    publish_until_done(adapter, channel, lambda p: request("Roasting", p, media=(video(),)), progress, clock)

    assert len(api.calls("POST", "/2/media/upload/initialize")) == 2
    assert api.media[api.tweets[0].media_ids[0]].content == MP4


# -- threads and continuing after a crash ------------------------------------------------------------------------

def thread_request(progress: Progress) -> PublishRequest:
    return request("1/ How we roast", progress, media=(image("beans"),),
                   thread=(ThreadPart("2/ First crack", (image("crack"),)), ThreadPart("3/ Rest two days")))


def test_a_thread_answers_each_part_with_the_next_recording_each_id_before_sending_the_next(api, adapter,
                                                                                             channel):
    progress = Progress()

    result = adapter.publish(channel, thread_request(progress))

    first, second, third = api.tweets
    assert [t.text for t in api.tweets] == ["1/ How we roast", "2/ First crack", "3/ Rest two days"]
    assert (first.in_reply_to, second.in_reply_to, third.in_reply_to) == (None, first.id, second.id)
    assert result.remote_id == first.id
    assert progress.value["tweets"] == [first.id, second.id, third.id]
    # Before each part went out, the one before it was on record.
    sent_parts = [s["sending"]["part"] for s in progress.snapshots if "sending" in s]
    recorded_before = [len(s["tweets"]) for s in progress.snapshots if "sending" in s]
    assert sent_parts == recorded_before == [0, 1, 2]


@pytest.mark.parametrize("crash_after", range(1, 15))
def test_a_crash_after_any_step_continues_without_repeating_one(api, adapter, channel, crash_after):
    progress = Progress(crash_after=crash_after)
    with pytest.raises(Crash):
        adapter.publish(channel, thread_request(progress))

    adapter.publish(channel, thread_request(progress))

    assert [t.text for t in api.tweets] == ["1/ How we roast", "2/ First crack", "3/ Rest two days"]
    assert len(api.calls("POST", "/2/media/upload/initialize")) == 2
    assert len(api.calls("POST", "/2/media/metadata")) <= 3  # alt text again at most once, never a second upload
    assert [api.tweet(t).in_reply_to for t in progress.value["tweets"]] == [None, *progress.value["tweets"][:2]]


def test_a_crash_between_video_segments_sends_only_the_segments_missing(api, adapter, channel, clock):
    progress = Progress(crash_after=3)  # initialized, segment 0, segment 1: crash
    with pytest.raises(Crash):
        adapter.publish(channel, request("Roasting", progress, media=(video(),)))

    publish_until_done(adapter, channel, lambda p: request("Roasting", p, media=(video(),)), progress, clock)

    segments = [parse_qs_multipart(r)["segment_index"] for r in api.calls("POST", r"/2/media/upload/\d+/append")]
    assert segments == ["0", "1", "2"]
    assert api.media[api.tweets[0].media_ids[0]].content == MP4


def parse_qs_multipart(recorded: Any) -> dict[str, str]:
    text = recorded.body.decode("latin-1")
    return {"segment_index": text.split('name="segment_index"\r\n\r\n', 1)[1].split("\r\n", 1)[0]}


def test_a_part_sent_without_an_answer_is_looked_for_before_it_is_sent_again(api, adapter, channel):
    progress = Progress()
    api.drop_after("POST", "/2/tweets")  # part 0 reaches X; its answer never comes back
    with pytest.raises((RetryableError, AmbiguousError)):
        adapter.publish(channel, thread_request(progress))

    adapter.publish(channel, thread_request(progress))

    assert [t.text for t in api.tweets] == ["1/ How we roast", "2/ First crack", "3/ Rest two days"]
    assert len(api.calls("GET", rf"/2/users/{USER}/tweets")) == 1


# -- errors ------------------------------------------------------------------------------------------------------

def test_an_expired_token_is_refreshed_once_and_the_rotated_pair_kept(api, adapter, channel):
    old = dict(channel.credentials)
    api.expire(old["access_token"])

    adapter.publish(channel, request())

    assert len(api.tweets) == 1
    (saved,) = channel.saved
    assert saved["refresh_token"] != old["refresh_token"] and saved["access_token"] != old["access_token"]
    assert saved["expires_at"] == "2026-03-02T11:30:00Z"
    assert api.refresh_tokens[old["refresh_token"]][1] is True  # spent: X refuses it from now on


def test_a_token_past_its_expiry_is_refreshed_before_the_call(api, adapter, channel):
    channel.credentials["expires_at"] = "2026-03-02T09:30:30Z"

    adapter.publish(channel, request())

    assert [r.path for r in api.requests] == ["/2/oauth2/token", "/2/tweets"]


def test_a_revoked_grant_is_an_auth_error(api, adapter, channel):
    api.expire(channel.credentials["access_token"])
    api.revoke(channel.credentials["refresh_token"])

    with pytest.raises(AuthError, match="connect the account again"):
        adapter.publish(channel, request())
    assert api.tweets == []


def test_without_a_refresh_a_refused_token_is_an_auth_error(api, adapter, channel):
    api.expire(channel.credentials["access_token"])
    channel.refresh_credentials = None

    with pytest.raises(AuthError):
        adapter.publish(channel, request())


def test_throttling_waits_until_x_rate_limit_reset(api, adapter, channel, clock):
    reset = int(clock.now().timestamp()) + 420
    api.fail("POST", "/2/tweets", 429, {"title": "Too Many Requests", "status": 429, "detail": "Too Many Requests"},
             {"x-rate-limit-reset": str(reset), "x-rate-limit-remaining": "0"})

    with pytest.raises(RetryableError) as raised:
        adapter.publish(channel, request())
    assert raised.value.retry_after_s == 420


def test_throttling_honours_retry_after(api, adapter, channel):
    api.fail("POST", "/2/tweets", 429, {"title": "Too Many Requests"}, {"Retry-After": "30"})

    with pytest.raises(RetryableError) as raised:
        adapter.publish(channel, request())
    assert raised.value.retry_after_s == 30


def test_a_duplicate_is_refused_in_plain_words(api, adapter, channel):
    api.post_as(USER, "Fresh beans today")

    with pytest.raises(PermanentError, match="^X refused a duplicate of a recent post"):
        adapter.publish(channel, request("Fresh beans today"))


def test_another_refusal_under_the_rules_says_so(api, adapter, channel):
    api.fail("POST", "/2/tweets", 403, {"title": "Forbidden", "status": 403,
                                        "detail": "You are not permitted to perform this action."})

    with pytest.raises(PermanentError, match="X refused this post under its rules .*not permitted"):
        adapter.publish(channel, request())


@pytest.mark.parametrize("status", [500, 503])
def test_a_server_error_is_retried(api, adapter, channel, status):
    api.fail("POST", "/2/media/upload/initialize", status, {"title": "Service Unavailable"})

    with pytest.raises(RetryableError):
        adapter.publish(channel, request(media=(image(),)))


# -- looking before a retry ---------------------------------------------------------------------------------------

def test_a_post_that_is_on_x_is_found_by_its_words_and_time(api, adapter, channel, clock):
    attempt = clock.now()
    clock.advance(2)
    tweet_id = api.post_as(USER, "Beans & cups: https://herald.example/menu")
    api.post_as(USER, "Something else")

    found = adapter.find_published(channel, request("Beans & cups:", link="https://herald.example/menu",
                                                    first_attempt_at=attempt))

    assert found is not None and found.remote_id == tweet_id
    assert found.remote_url == f"https://x.com/{USERNAME}/status/{tweet_id}"
    query = api.calls("GET", rf"/2/users/{USER}/tweets")[0].query
    assert query["start_time"] == ["2026-03-02T09:25:00Z"] and query["max_results"] == ["100"]


def test_a_post_that_is_not_on_x_is_certainly_absent(api, adapter, channel, clock):
    api.post_as(USER, "Fresh beans today", at=clock.now() - timedelta(days=3))  # before the attempt: not ours

    assert adapter.find_published(channel, request(first_attempt_at=clock.now())) is None


def test_a_thread_half_out_records_the_parts_found_and_says_the_rest_is_absent(api, adapter, channel, clock):
    progress = Progress()
    attempt = clock.now()
    first = api.post_as(USER, "1/ How we roast")
    second = api.post_as(USER, "2/ First crack", in_reply_to=first)

    found = adapter.find_published(channel, replace(thread_request(progress), first_attempt_at=attempt))

    assert found is None
    assert progress.value["tweets"] == [first, second]
    adapter.publish(channel, thread_request(progress))
    assert [t.text for t in api.tweets] == ["1/ How we roast", "2/ First crack", "3/ Rest two days"]
    assert api.tweets[2].in_reply_to == second


def test_when_the_account_posted_too_much_to_tell_it_is_ambiguous(api, adapter, channel, clock):
    for i in range(301):
        api.post_as(USER, f"post {i}")

    with pytest.raises(AmbiguousError):
        adapter.find_published(channel, request(first_attempt_at=clock.now()))


# -- the rules -----------------------------------------------------------------------------------------------------

def big(mime: str, megabytes: float) -> MediaItem:
    return MediaItem(mime=mime, size=int(megabytes * 1024 * 1024))


@pytest.mark.parametrize(("content", "field", "words"), [
    ({"text": "é" * 281}, "text", "281 characters as X counts them; X allows 280"),
    ({"text": "字" * 141}, "text", "282 characters"),
    ({"text": " "}, "text", "needs text or media"),
    ({"media": tuple(image() for _ in range(5))}, "media", "5 images; a post on X takes up to 4"),
    ({"media": (image(), video())}, "media", "mixes a video or GIF"),
    ({"media": (big("image/gif", 1), big("image/gif", 1))}, "media", "mixes a video or GIF"),
    ({"media": (big("image/jpeg", 6),)}, "media.0", "X takes images of up to 5 MB"),
    ({"media": (big("image/gif", 16),)}, "media.0", "X takes GIFs of up to 15 MB"),
    ({"media": (big("video/mp4", 513),)}, "media.0", "X takes videos of up to 512 MB"),
    ({"media": (MediaItem(mime="video/mp4", duration_s=0.4),)}, "media.0", "0.5 to 140 seconds"),
    ({"media": (MediaItem(mime="video/mp4", duration_s=141),)}, "media.0", "0.5 to 140 seconds"),
    ({"media": (MediaItem(mime="video/mp4", width=4000, height=1000),)}, "media.0", "between 1:3 and 3:1"),
    ({"media": (MediaItem(mime="application/pdf"),)}, "media.0", "X takes JPEG, PNG, WebP and GIF"),
    ({"media": (image(alt="a" * 1001),)}, "media.0.alt", "alt text of up to 1000"),
    ({"thread": (ThreadPart("ok"), ThreadPart("x" * 281))}, "thread.1.text", "X allows 280"),
    ({"thread": (ThreadPart("", (image(), video())),)}, "thread.0.media", "mixes a video or GIF"),
    ({"thread": tuple(ThreadPart(f"part {i}") for i in range(25))}, "thread", "26 posts; Herald publishes X "
                                                                                "threads of up to 25"),
    ({"first_comment": "hi"}, "first_comment", "X has no first comments"),
    ({"options": {"reply_settings": "everyone"}}, "options.reply_settings", "must be one of following"),
    ({"options": {"privacy_level": "x"}}, "options.privacy_level", "not an option X posts take"),
])
def test_content_problems_name_the_field_and_the_rule(adapter, content, field, words):
    problems = adapter.content_problems(PublishRequest("d_1", **{"text": "ok", **content}))

    assert [p.field for p in problems] == [field]
    assert words in problems[0].message


@pytest.mark.parametrize("content", [
    {"text": "a" * 256 + " https://herald.example/a/very/long/path/that/counts/as/twenty-three"},
    {"text": "", "media": (video(),)},
    {"text": "four", "media": tuple(image() for _ in range(4))},
    {"text": "gif", "media": (big("image/gif", 14),)},
    {"text": "1/", "thread": tuple(ThreadPart(f"{i}/") for i in range(24))},
    {"text": "hi", "options": {"reply_settings": "mentionedUsers"}},
])
def test_content_x_takes_has_no_problems(adapter, content):
    assert adapter.content_problems(PublishRequest("d_1", **content)) == []


def test_limits_and_budget_agree_with_the_rules():
    assert (x.LIMITS.max_text, x.LIMITS.max_media, x.LIMITS.max_media_bytes) == (280, 4, 512 * 1024 * 1024)
    assert set(x.LIMITS.media_types) == {"image/jpeg", "image/png", "image/webp", "image/gif", "video/mp4"}
    assert x.BUDGET.per_account_concurrency == 10


# -- OAuth ---------------------------------------------------------------------------------------------------------

def pkce() -> tuple[str, str]:
    verifier = base64.urlsafe_b64encode(b"v" * 48).rstrip(b"=").decode()
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def test_the_authorize_url_asks_for_publishing_and_the_inbox_with_pkce(oauth):
    url = oauth.authorize_url(APP, "https://herald.test/oauth/callback/x", "state-123", "challenge-abc")

    split = urlsplit(url)
    assert f"{split.scheme}://{split.netloc}{split.path}" == "https://x.test/i/oauth2/authorize"
    assert {k: v[0] for k, v in parse_qs(split.query).items()} == {
        "response_type": "code", "client_id": CLIENT_ID, "redirect_uri": "https://herald.test/oauth/callback/x",
        "scope": "tweet.read tweet.write users.read media.write offline.access dm.read dm.write",
        "state": "state-123", "code_challenge": "challenge-abc", "code_challenge_method": "S256"}
    assert "offline.access" in SCOPES


def test_x_requires_pkce(oauth):
    with pytest.raises(PermanentError, match="PKCE"):
        oauth.authorize_url(APP, "https://herald.test/cb", "state", None)


def test_the_code_is_exchanged_with_the_verifier_and_names_the_user(api, oauth, clock):
    verifier, challenge = pkce()
    code = api.authorize(USER, USERNAME, code_challenge=challenge, redirect_uri="https://herald.test/cb")

    grant = oauth.exchange_code(APP, code, "https://herald.test/cb", verifier)
    (account,) = oauth.granted_accounts(APP, grant)

    assert grant.expires_at == clock.now() + timedelta(hours=2) and grant.refresh_token
    assert "tweet.write" in grant.scopes
    assert (account.network, account.account_id, account.handle) == ("x", USER, USERNAME)
    assert account.settings == {"user_id": USER, "username": USERNAME}
    assert account.credentials["refresh_token"] == grant.refresh_token
    assert XCredentials(**account.credentials).expires_at == "2026-03-02T11:30:00Z"  # what a channel keeps
    assert account.avatar_url == f"https://pbs.twimg.com/profile_images/{USER}.jpg"
    token_call = api.calls("POST", "/2/oauth2/token")[0]
    assert parse_qs(token_call.body.decode())["grant_type"] == ["authorization_code"]
    assert token_call.headers["authorization"].startswith("Basic ")
    assert "repr" not in repr(grant) and grant.access_token not in repr(grant)


def test_a_wrong_verifier_or_a_replayed_code_is_refused(api, oauth):
    verifier, challenge = pkce()
    code = api.authorize(USER, USERNAME, code_challenge=challenge, redirect_uri="https://herald.test/cb")
    with pytest.raises(AuthError):
        oauth.exchange_code(APP, code, "https://herald.test/cb", verifier + "x")
    with pytest.raises(AuthError):
        oauth.exchange_code(APP, code, "https://herald.test/cb", verifier)


def test_a_refresh_rotates_and_the_spent_token_is_refused(api, oauth):
    tokens = api.user_token(USER, USERNAME)

    grant = oauth.refresh(APP, tokens)

    assert grant.refresh_token and grant.refresh_token != tokens["refresh_token"]
    with pytest.raises(AuthError):
        oauth.refresh(APP, tokens)
    assert oauth.refresh(APP, {"refresh_token": grant.refresh_token}).access_token


def test_a_transient_refresh_failure_is_never_an_auth_error(api, oauth):
    tokens = api.user_token(USER, USERNAME)
    api.fail("POST", "/2/oauth2/token", 503, {"title": "Service Unavailable"})
    with pytest.raises(RetryableError):
        oauth.refresh(APP, tokens)

    assert oauth.refresh(APP, tokens).refresh_token  # the token was not spent by the failure


def test_a_refused_client_is_the_operators_problem_not_the_users(api, clock):
    tokens = api.user_token(USER, USERNAME)
    wrong = x.make_oauth(clock=clock, api_url=api.url)

    with pytest.raises(RetryableError, match="HERALD_X_CLIENT_ID"):
        wrong.refresh(OAuthApp(CLIENT_ID, "not-the-secret"), tokens)
