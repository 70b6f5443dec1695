"""The Threads adapter against a local fake of the Threads API (tests/fakes/threads_api.py)."""
from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from chalicelib.core.clock import FixedClock
from chalicelib.networks import threads
from chalicelib.networks.base import (
    AmbiguousError,
    AuthError,
    ChannelContext,
    MediaItem,
    OAuthApp,
    PermanentError,
    PublishRequest,
    ReplyRequest,
    RetryableError,
    StillProcessing,
    ThreadPart,
)
from chalicelib.networks.registry import NETWORKS, limits_for, text_length
from tests.fakes.threads_api import ThreadsApi

TOKEN = "THQlong-token"
USER_ID = "17841400000000001"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF" + bytes(32)
PNG = b"\x89PNG\r\n\x1a\n" + bytes(32)
MP4 = b"\x00\x00\x00\x18ftypmp42" + bytes(32)
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START)


@pytest.fixture
def fake(clock: FixedClock) -> Iterator[ThreadsApi]:
    with ThreadsApi(clock) as api:
        api.user(TOKEN, USER_ID, "herald.coffee", followers=1200)
        yield api


@pytest.fixture
def adapter(fake: ThreadsApi, clock: FixedClock) -> threads.ThreadsAdapter:
    return threads.make_adapter(clock=clock, base_url=fake.api_url)


def channel(token: str = TOKEN) -> ChannelContext:
    return ChannelContext("ws1", "ch1", "threads", {"threads_user_id": USER_ID}, {"access_token": token})


def media(fake: ThreadsApi, name: str, body: bytes, mime: str, alt: str = "") -> MediaItem:
    return MediaItem(mime=mime, alt=alt, size=len(body), public_url=lambda _ttl: fake.host(name, body, mime))


class Progress:
    """Collects what the adapter records; `crash_when` raises (a worker dying) once it returns True."""

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


def request(text: str = "Fresh beans today", progress: Progress | None = None, **fields: Any) -> PublishRequest:
    return PublishRequest(delivery_id="d1", text=text, record_progress=progress or Progress(),
                          first_attempt_at=START, **fields)


def again(previous: PublishRequest, progress: Progress) -> PublishRequest:
    """The engine's next attempt: the same delivery with what was recorded."""
    return replace(previous, progress=progress.last, record_progress=progress)


def steps(fake: ThreadsApi) -> list[str]:
    return [f"{r.method} {r.path.removeprefix('/v1.0')}" for r in fake.requests]


def post_fields(fake: ThreadsApi) -> list[dict[str, str]]:
    return [r.form for r in fake.calls("POST", "/threads")]


class TestAccount:
    def test_describe_account_asks_threads_who_the_token_is(self, adapter, fake):
        assert adapter.describe_account(channel()) == {"handle": "herald.coffee", "account_id": USER_ID}
        me = fake.calls("GET", "/me")[0]
        assert me.headers["authorization"] == f"Bearer {TOKEN}"
        assert me.query["fields"] == ["id,username"]

    def test_a_refused_token_is_an_auth_error(self, adapter, fake):
        fake.revoke(TOKEN)
        with pytest.raises(AuthError):
            adapter.describe_account(channel())

    def test_the_registry_knows_threads(self):
        spec = NETWORKS["threads"]
        assert spec.account_setting == "threads_user_id" and spec.can_publish
        assert spec.credential_fields == ("access_token",)
        assert limits_for("threads").max_text == 500
        assert text_length("threads", "hi 👍") == 7  # the emoji counts its 4 UTF-8 bytes


class TestPublishing:
    def test_a_text_post_is_a_container_then_a_publish(self, adapter, fake):
        progress = Progress()
        result = adapter.publish(channel(), request(progress=progress))

        assert steps(fake) == [f"POST /{USER_ID}/threads", f"GET /{fake.published()[0].container_id}",
                               f"GET /{USER_ID}/threads_publishing_limit", f"POST /{USER_ID}/threads_publish",
                               f"GET /{result.remote_id}"]
        assert post_fields(fake) == [{"media_type": "TEXT", "text": "Fresh beans today"}]
        (published,) = fake.published()
        assert (result.remote_id, result.remote_url) == (published.media_id, published.permalink)
        assert result.published_at == START
        # The container was recorded before it was published, the post's id right after.
        assert progress.saved[0]["posts"][0]["container"] == published.container_id
        assert "id" not in progress.saved[0]["posts"][0]
        assert progress.last["posts"][0]["id"] == published.media_id
        assert fake.problems == []

    def test_a_link_is_attached_to_a_text_post(self, adapter, fake):
        adapter.publish(channel(), request(link="https://herald.coffee/menu"))
        assert post_fields(fake)[0]["link_attachment"] == "https://herald.coffee/menu"

    def test_options_reach_the_container(self, adapter, fake):
        adapter.publish(channel(), request(options={"reply_control": "followers_only", "topic_tag": "Coffee"}))
        assert post_fields(fake)[0] | {} == {"media_type": "TEXT", "text": "Fresh beans today",
                                             "reply_control": "followers_only", "topic_tag": "Coffee"}

    def test_an_image_is_fetched_by_threads_from_its_public_url(self, adapter, fake):
        item = media(fake, "beans.jpg", JPEG, "image/jpeg", alt="A bag of beans")
        adapter.publish(channel(), request(media=(item,)))
        fields = post_fields(fake)[0]
        assert fields["media_type"] == "IMAGE" and fields["image_url"].endswith("/media/beans.jpg")
        assert fields["alt_text"] == "A bag of beans"
        assert fake.fetched == ["beans.jpg"]
        assert fake.published()[0].media_type == "IMAGE"

    def test_a_video_waits_while_threads_processes_it_then_publishes(self, adapter, fake):
        progress = Progress()
        first = request(media=(media(fake, "pour.mp4", MP4, "video/mp4"),), progress=progress)
        with pytest.raises(StillProcessing) as waiting:
            adapter.publish(channel(), first)
        assert waiting.value.check_after_s == threads.FIRST_CHECK_S
        assert fake.published() == []
        container = waiting.value.progress["posts"][0]["container"]

        result = adapter.publish(channel(), replace(first, progress=waiting.value.progress))

        assert len(fake.calls("POST", "/threads")) == 1  # the container was not created again
        (published,) = fake.published()
        assert (published.container_id, published.media_id, published.media_type) == (container, result.remote_id,
                                                                                        "VIDEO")

    def test_a_carousel_makes_its_items_then_the_carousel(self, adapter, fake):
        items = (media(fake, "a.jpg", JPEG, "image/jpeg"), media(fake, "b.png", PNG, "image/png"),
                 media(fake, "c.mp4", MP4, "video/mp4"))
        first = request(text="Three roasts", media=items)
        with pytest.raises(StillProcessing) as waiting:  # the video item is still processing
            adapter.publish(channel(), first)
        result = adapter.publish(channel(), replace(first, progress=waiting.value.progress))

        created = post_fields(fake)
        assert [f["media_type"] for f in created] == ["IMAGE", "IMAGE", "VIDEO", "CAROUSEL"]
        assert all(f["is_carousel_item"] == "true" for f in created[:3])
        item_ids = waiting.value.progress["posts"][0]["items"]
        assert created[3]["children"] == ",".join(item_ids) and created[3]["text"] == "Three roasts"
        (published,) = fake.published()
        assert published.media_type == "CAROUSEL_ALBUM" and published.media_id == result.remote_id
        assert fake.problems == []

    def test_a_thread_replies_part_after_part(self, adapter, fake):
        progress = Progress()
        parts = (ThreadPart("Part two"), ThreadPart("Part three", (media(fake, "p.jpg", JPEG, "image/jpeg"),)))
        result = adapter.publish(channel(), request(text="Part one", thread=parts, progress=progress))

        root, second, third = fake.published()
        assert (root.text, root.reply_to, result.remote_id) == ("Part one", None, root.media_id)
        assert (second.text, second.reply_to) == ("Part two", root.media_id)
        assert (third.text, third.reply_to, third.media_type) == ("Part three", second.media_id, "IMAGE")
        assert [step["id"] for step in progress.last["posts"]] == [root.media_id, second.media_id, third.media_id]
        # Replies count against the reply quota, the root against the post quota.
        assert (fake.users[USER_ID].quota_usage, fake.users[USER_ID].reply_quota_usage) == (1, 2)

    def test_a_crash_between_steps_continues_without_repeating_any(self, adapter, fake):
        # The worker dies right after recording the second part's container, before publishing it.
        progress = Progress(crash_when=lambda p: len(p["posts"]) > 1 and "container" in p["posts"][1])
        first = request(text="One", thread=(ThreadPart("Two"), ThreadPart("Three")), progress=progress)
        with pytest.raises(RuntimeError):
            adapter.publish(channel(), first)
        assert [m.text for m in fake.published()] == ["One"]

        adapter.publish(channel(), again(first, progress))

        assert [m.text for m in fake.published()] == ["One", "Two", "Three"]
        assert [f.get("text") for f in post_fields(fake)] == ["One", "Two", "Three"]  # no container made twice
        assert fake.problems == []

    def test_a_crash_after_publishing_before_recording_finds_the_part_instead_of_repeating_it(self, adapter, fake):
        progress = Progress(crash_when=lambda p: len(p["posts"]) > 1 and "id" in p["posts"][1])
        first = request(text="One", thread=(ThreadPart("Two"), ThreadPart("Three")), progress=progress)
        with pytest.raises(RuntimeError):
            adapter.publish(channel(), first)
        lost = dict(progress.saved[-2])  # what the store kept: part two's container, not its id

        adapter.publish(channel(), replace(first, progress=lost, record_progress=progress))

        assert [m.text for m in fake.published()] == ["One", "Two", "Three"]
        assert len(fake.calls("POST", "/threads_publish")) == 3
        assert fake.calls("GET", "/replies")  # part two was looked up among the account's replies
        assert fake.problems == []

    def test_a_publish_applied_but_answered_500_is_not_repeated(self, adapter, fake):
        fake.answer("POST", f"/v1.0/{USER_ID}/threads_publish", 500,
                    {"error": {"message": "An unexpected error has occurred.", "code": 2, "is_transient": True}},
                    apply_first=True)
        progress = Progress()
        first = request(progress=progress)
        with pytest.raises(RetryableError):
            adapter.publish(channel(), first)

        result = adapter.publish(channel(), again(first, progress))

        (published,) = fake.published()
        assert result.remote_id == published.media_id and result.remote_url == published.permalink
        assert fake.problems == []

    def test_a_container_in_error_is_a_readable_failure(self, adapter, fake):
        fake.fail_next_container("FAILED_DOWNLOADING_VIDEO")
        with pytest.raises(PermanentError, match="could not download the video"):
            adapter.publish(channel(), request(media=(media(fake, "v.mp4", MP4, "video/mp4"),)))

    def test_media_threads_cannot_fetch_fails_clearly(self, adapter, fake):
        broken = MediaItem(mime="image/jpeg", public_url=lambda _ttl: f"{fake.url}/media/missing.jpg")
        with pytest.raises(PermanentError, match="Threads refused the media"):
            adapter.publish(channel(), request(media=(broken,)))
        assert fake.published() == []

    def test_an_expired_container_is_a_readable_failure(self, adapter, fake):
        first = request(media=(media(fake, "v.mp4", MP4, "video/mp4"),))
        with pytest.raises(StillProcessing) as waiting:
            adapter.publish(channel(), first)
        fake.containers[waiting.value.progress["posts"][0]["container"]].status = "EXPIRED"
        with pytest.raises(PermanentError, match="expire"):
            adapter.publish(channel(), replace(first, progress=waiting.value.progress))

    def test_a_video_still_processing_after_20_minutes_is_given_up(self, adapter, fake, clock):
        fake.processing = 1000
        first = request(media=(media(fake, "v.mp4", MP4, "video/mp4"),))
        with pytest.raises(StillProcessing) as waiting:
            adapter.publish(channel(), first)
        clock.advance(minutes=5)
        with pytest.raises(StillProcessing) as later:
            adapter.publish(channel(), replace(first, progress=waiting.value.progress))
        assert later.value.check_after_s == threads.NEXT_CHECK_S
        clock.advance(minutes=16)
        with pytest.raises(PermanentError, match="still processing"):
            adapter.publish(channel(), replace(first, progress=later.value.progress))

    def test_a_used_up_publishing_limit_defers_the_post(self, adapter, fake):
        fake.users[USER_ID].quota_usage = 250
        progress = Progress()
        first = request(progress=progress)
        with pytest.raises(RetryableError) as deferred:
            adapter.publish(channel(), first)
        assert deferred.value.retry_after_s == threads.QUOTA_RETRY_S
        assert "publishing limit" in deferred.value.message
        assert fake.published() == [] and fake.problems == []

        fake.users[USER_ID].quota_usage = 249  # a slot freed up
        adapter.publish(channel(), again(first, progress))
        assert len(fake.published()) == 1 and len(fake.calls("POST", "/threads")) == 1

    def test_media_without_a_public_link_cannot_go_to_threads(self, adapter):
        with pytest.raises(PermanentError, match="public link"):
            adapter.publish(channel(), request(media=(MediaItem(mime="image/jpeg", load=lambda: JPEG),)))


class TestErrors:
    @pytest.mark.parametrize(("status", "error", "raised"), [
        (400, {"message": "Error validating access token: Session has expired", "code": 190, "error_subcode": 463},
         AuthError),
        (403, {"message": "Application does not have permission for this action", "code": 10}, AuthError),
        (400, {"message": "Application request limit reached", "code": 4, "is_transient": True}, RetryableError),
        (400, {"message": "User request limit reached", "code": 17}, RetryableError),
        (500, {"message": "An unknown error occurred", "code": 1}, RetryableError),
        (400, {"message": "Duplicate post", "code": 506}, PermanentError),
        (400, {"message": "Invalid parameter", "code": 100}, PermanentError),
    ])
    def test_threads_errors_map_to_what_the_engine_does(self, adapter, fake, status, error, raised):
        fake.answer("POST", f"/v1.0/{USER_ID}/threads", status, {"error": {"type": "OAuthException", **error}})
        with pytest.raises(raised) as caught:
            adapter.publish(channel(), request())
        assert type(caught.value) is raised
        assert error["message"] in caught.value.message

    def test_retry_after_is_honoured(self, adapter, fake):
        fake.answer("POST", f"/v1.0/{USER_ID}/threads", 503, {"error": {"message": "busy", "code": 2}},
                    headers={"Retry-After": "120"})
        with pytest.raises(RetryableError) as caught:
            adapter.publish(channel(), request())
        assert caught.value.retry_after_s == 120

    def test_more_than_five_links_is_a_sentence_a_person_reads(self, adapter, fake):
        text = " ".join(f"https://e.com/{i}" for i in range(6))
        with pytest.raises(PermanentError, match="more than 5 links"):
            adapter.publish(channel(), request(text=text))


class TestFindPublished:
    def test_a_post_with_the_exact_text_near_the_attempt_is_found(self, adapter, fake, clock):
        adapter.publish(channel(), request(text="Same words"))
        clock.advance(minutes=2)
        found = adapter.find_published(channel(), request(text="Same words"))
        assert found is not None and found.remote_id == fake.published()[0].media_id
        assert found.remote_url == fake.published()[0].permalink

    def test_absent_when_no_such_post(self, adapter, fake):
        adapter.publish(channel(), request(text="Other words"))
        assert adapter.find_published(channel(), request(text="Same words")) is None

    def test_a_container_not_published_is_certainly_absent(self, adapter, fake):
        first = request(media=(media(fake, "v.mp4", MP4, "video/mp4"),))
        with pytest.raises(StillProcessing) as waiting:
            adapter.publish(channel(), first)
        assert adapter.find_published(channel(), replace(first, progress=waiting.value.progress)) is None

    def test_a_published_container_not_listed_yet_is_unsure(self, adapter, fake):
        fake.answer("GET", f"/v1.0/{USER_ID}/threads", 200, {"data": []})
        progress = Progress(crash_when=lambda p: "id" in p["posts"][0])
        first = request(progress=progress)
        with pytest.raises(RuntimeError):
            adapter.publish(channel(), first)
        with pytest.raises(AmbiguousError):
            adapter.find_published(channel(), replace(first, progress=progress.saved[0]))

    def test_two_posts_with_the_same_text_are_unsure(self, adapter, fake):
        adapter.publish(channel(), request(text="Twice"))
        adapter.publish(channel(), request(text="Twice"))
        with pytest.raises(AmbiguousError):
            adapter.find_published(channel(), request(text="Twice"))

    def test_a_thread_whose_root_is_out_but_not_its_parts_is_continued_not_settled(self, adapter, fake):
        progress = Progress(crash_when=lambda p: len(p["posts"]) > 1)
        first = request(text="Root", thread=(ThreadPart("Part"),), progress=progress)
        with pytest.raises(RuntimeError):
            adapter.publish(channel(), first)
        assert adapter.find_published(channel(), again(first, progress)) is None
        adapter.publish(channel(), again(first, progress))
        assert [m.text for m in fake.published()] == ["Root", "Part"]


class TestContentProblems:
    @pytest.mark.parametrize(("fields", "field", "words"), [
        ({"text": "x" * 501}, "text", "500"),
        ({"text": "👍" * 126}, "text", "500"),  # 126 emoji are 504 bytes
        ({"text": ""}, "text", "needs text"),
        ({"text": " ".join(f"https://e.com/{i}" for i in range(6))}, "text", "5 links"),
        ({"media": tuple(MediaItem(mime="image/jpeg") for _ in range(21))}, "media", "2 to 20"),
        ({"media": (MediaItem(mime="image/gif"),)}, "media.0", "not accepted"),
        ({"media": (MediaItem(mime="image/jpeg", size=9 * 1024 * 1024),)}, "media.0", "8 MB"),
        ({"media": (MediaItem(mime="image/png", width=1100, height=100),)}, "media.0", "10:1"),
        ({"media": (MediaItem(mime="video/mp4", duration_s=301),)}, "media.0", "5 minutes"),
        ({"media": (MediaItem(mime="video/mp4", width=3840, height=2160),)}, "media.0", "1920"),
        ({"media": (MediaItem(mime="image/jpeg"),), "link": "https://e.com"}, "link", "without images"),
        ({"thread": (ThreadPart("y" * 501),)}, "thread.0.text", "500"),
        ({"thread": (ThreadPart("ok", (MediaItem(mime="application/pdf"),)),)}, "thread.0.media.0", "not accepted"),
        ({"first_comment": "hi"}, "first_comment", "no first comment"),
        ({"options": {"reply_control": "nobody"}}, "options.reply_control", "one of"),
        ({"options": {"topic_tag": "a.b"}}, "options.topic_tag", "periods"),
        ({"options": {"privacy": "x"}}, "options.privacy", "not a Threads option"),
    ])
    def test_each_documented_rule(self, fields, field, words):
        problems = threads.content_problems(PublishRequest(delivery_id="d", **{"text": "ok", **fields}))
        assert [p.field for p in problems] == [field]
        assert words in problems[0].message

    def test_a_good_post_has_no_problems(self):
        post = PublishRequest(delivery_id="d", text="👍" * 125, media=(MediaItem(mime="image/jpeg"),) * 20,
                              thread=(ThreadPart("next"),), options={"reply_control": "everyone"})
        assert threads.content_problems(post) == []


class TestInboxAndInsights:
    def test_a_reply_is_published_under_the_comment(self, adapter, fake):
        comment = adapter.publish(channel(), request(text="someone's comment"))
        result = adapter.reply(channel(), ReplyRequest("r1", "Thank you!", comment.remote_id))
        assert post_fields(fake)[-1] == {"media_type": "TEXT", "text": "Thank you!", "reply_to_id": comment.remote_id}
        assert fake.published()[-1].media_id == result.remote_id
        assert fake.published()[-1].reply_to == comment.remote_id

    def test_insights_read_followers_and_each_post(self, adapter, fake):
        post = adapter.publish(channel(), request())
        fake.media[post.remote_id].stats = {"likes": 7, "replies": 2, "reposts": 1, "views": 300}
        insights = adapter.fetch_insights(channel(), [post.remote_id, "999"])
        assert insights.followers == 1200
        (only,) = insights.posts
        assert (only.likes, only.replies, only.reposts, only.impressions) == (7, 2, 1, 300)

    def test_poll_inbox_says_replies_come_by_webhook(self, adapter):
        with pytest.raises(PermanentError, match="webhook"):
            adapter.poll_inbox(channel(), None)


class TestOAuth:
    app = OAuthApp(client_id="990602627938098", client_secret="threads-app-secret")
    redirect = "https://herald.test/oauth/callback/threads"

    @pytest.fixture
    def oauth(self, fake, clock) -> threads.ThreadsOAuth:
        return threads.make_oauth(clock=clock, api_url=fake.api_url, authorize_url="https://threads.test/authorize")

    def test_the_authorization_url_names_the_app_scopes_and_state(self, oauth):
        url = urlsplit(oauth.authorize_url(self.app, self.redirect, "st4te", "challenge-ignored"))
        assert f"{url.scheme}://{url.netloc}{url.path}" == "https://threads.test/authorize"
        query = {key: values[0] for key, values in parse_qs(url.query).items()}
        assert query == {"client_id": self.app.client_id, "redirect_uri": self.redirect, "response_type": "code",
                         "state": "st4te", "scope": ",".join(threads.SCOPES)}
        assert oauth.supports_pkce is False
        assert {"threads_basic", "threads_content_publish", "threads_manage_replies",
                "threads_read_replies"} <= set(threads.SCOPES)

    def test_a_code_becomes_a_long_lived_token_and_the_profile(self, oauth, fake, clock):
        fake.authorization_code("c0de", self.redirect, USER_ID)
        grant = oauth.exchange_code(self.app, "c0de", self.redirect, None)

        assert grant.access_token.startswith("THQlong") and grant.refresh_token is None
        assert grant.expires_at == clock.now() + timedelta(seconds=5_184_000)
        assert grant.extra["user_id"] == USER_ID
        exchange = fake.calls("POST", "/oauth/access_token")[0]
        assert exchange.form["grant_type"] == "authorization_code" and exchange.form["redirect_uri"] == self.redirect
        assert fake.calls("GET", "/access_token")[0].query["grant_type"] == ["th_exchange_token"]

        (account,) = oauth.granted_accounts(self.app, grant)
        assert (account.network, account.account_id, account.handle) == ("threads", USER_ID, "herald.coffee")
        assert account.credentials == {"access_token": grant.access_token, "expires_at": grant.expires_at.isoformat()}
        assert account.settings == {"threads_user_id": USER_ID}
        assert grant.access_token not in repr(grant) and grant.access_token not in repr(account)

    def test_a_used_code_or_another_redirect_is_refused(self, oauth, fake):
        fake.authorization_code("c0de", self.redirect, USER_ID)
        with pytest.raises(PermanentError):
            oauth.exchange_code(self.app, "c0de", "https://elsewhere.test/cb", None)
        with pytest.raises(PermanentError):
            oauth.exchange_code(self.app, "c0de", self.redirect, None)

    def test_refresh_gives_a_new_60_day_token(self, oauth, fake, clock):
        credentials = {"access_token": TOKEN, "expires_at": (clock.now() + timedelta(days=30)).isoformat()}
        grant = oauth.refresh(self.app, credentials)
        assert grant.access_token != TOKEN and grant.expires_at == clock.now() + timedelta(days=60)
        assert fake.calls("GET", "/refresh_access_token")[0].query["grant_type"] == ["th_refresh_token"]

    def test_a_revoked_token_needs_reconnecting(self, oauth, fake):
        fake.revoke(TOKEN)
        with pytest.raises(AuthError):
            oauth.refresh(self.app, {"access_token": TOKEN})

    @pytest.mark.parametrize(("status", "error"), [
        (500, {"message": "An unexpected error has occurred", "code": 2}),
        (400, {"message": "Please retry your request later", "code": 100}),
    ])
    def test_a_transient_refusal_is_retried_never_reauth(self, oauth, fake, status, error):
        fake.answer("GET", "/refresh_access_token", status, {"error": {"type": "OAuthException", **error}})
        with pytest.raises(RetryableError):
            oauth.refresh(self.app, {"access_token": TOKEN})

    def test_a_token_younger_than_a_day_is_not_sent_for_refresh(self, oauth, fake, clock):
        fresh = {"access_token": TOKEN, "expires_at": (clock.now() + timedelta(days=59, hours=12)).isoformat()}
        with pytest.raises(RetryableError) as caught:
            oauth.refresh(self.app, fresh)
        assert caught.value.retry_after_s == pytest.approx(12 * 3600)
        assert fake.calls("GET", "/refresh_access_token") == []
