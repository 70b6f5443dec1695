"""Publishing to Facebook Pages and Instagram, and connecting them by Facebook Login, against a local fake of
the Graph API (tests/fakes/meta_graph.py) that checks what Herald sends."""
from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from chalicelib.core.clock import FixedClock
from chalicelib.networks import meta, meta_errors
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
from tests.fakes.meta_graph import MetaGraphFake

PAGE_ID = "448242228374517"
PAGE_TOKEN = "page-token-448"
IG_USER_ID = "17841405822304914"
START = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(32)
PNG = b"\x89PNG\r\n\x1a\n" + bytes(32)
MP4 = b"\x00\x00\x00\x18ftypmp42" + bytes(32)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START)


@pytest.fixture
def graph(clock: FixedClock):
    with MetaGraphFake(clock.now) as fake:
        fake.page(PAGE_ID, "Herald Coffee", PAGE_TOKEN, ig=(IG_USER_ID, "heraldcoffee"))
        yield fake


class Delivery:
    """A delivery as the engine would keep it: progress persisted by `record_progress`, fed to the next call."""

    def __init__(self, text: str = "", media: tuple[MediaItem, ...] = (), **fields: Any) -> None:
        self.progress: dict[str, Any] = {}
        self.recorded: list[dict[str, Any]] = []
        self.fields = {"text": text, "media": media, **fields}

    def _record(self, progress: Mapping[str, Any]) -> None:
        self.progress = dict(progress)
        self.recorded.append(dict(progress))

    def request(self, **overrides: Any) -> PublishRequest:
        fields = {"record_progress": self._record, "first_attempt_at": START, **self.fields, **overrides}
        return PublishRequest(delivery_id="dl_1", progress=dict(self.progress), **fields)


def hosted(graph: MetaGraphFake, name: str, mime: str, data: bytes, **facts: Any) -> MediaItem:
    url = f"https://media.herald.test/{name}?X-Amz-Expires=3600"
    graph.host(url, data)
    lifetimes: list[int] = []

    def public_url(lifetime: int) -> str:
        lifetimes.append(lifetime)
        return url

    return MediaItem(mime=mime, public_url=public_url, **facts)


def facebook(graph: MetaGraphFake, clock: FixedClock, token: str = PAGE_TOKEN):
    adapter = meta.make_adapter(requests.Session(), clock, base_url=graph.url)
    channel = ChannelContext("ws_1", "ch_fb", "facebook", {"page_id": PAGE_ID}, {"page_access_token": token})
    return adapter, channel


def instagram(graph: MetaGraphFake, clock: FixedClock, token: str = PAGE_TOKEN):
    adapter = meta.make_adapter(requests.Session(), clock, network="instagram", base_url=graph.url)
    channel = ChannelContext("ws_1", "ch_ig", "instagram", {"ig_user_id": IG_USER_ID, "page_id": PAGE_ID},
                             {"access_token": token})
    return adapter, channel


def publish_until_done(adapter, channel, delivery: Delivery, rounds: int = 5):
    """What the engine does: call again with the recorded progress after each StillProcessing."""
    for _ in range(rounds):
        try:
            return adapter.publish(channel, delivery.request())
        except StillProcessing as waiting:
            assert dict(waiting.progress) == delivery.progress  # recorded before it was raised
    raise AssertionError("still processing")


# -- Facebook Pages --------------------------------------------------------------------------------------------


class TestFacebookPublishing:
    def test_text_with_a_link_is_one_feed_post(self, graph, clock):
        adapter, channel = facebook(graph, clock)
        result = adapter.publish(channel, Delivery("New roast today", link="https://herald.test/roast").request())
        post = graph.posts(PAGE_ID)[0]
        assert (post["message"], post["link"]) == ("New roast today", "https://herald.test/roast")
        assert result.remote_id == post["id"]
        assert result.remote_url == f"https://www.facebook.com/{post['id']}"
        assert graph.calls() == [f"POST /{PAGE_ID}/feed"]
        seen = graph.requests[0]
        assert seen.headers["Authorization"] == f"Bearer {PAGE_TOKEN}"
        assert seen.query == {}  # the token is never in the URL

    def test_one_photo_is_published_by_the_photos_edge(self, graph, clock):
        adapter, channel = facebook(graph, clock)
        photo = hosted(graph, "a.jpg", "image/jpeg", JPEG, alt="A cup")
        result = adapter.publish(channel, Delivery("Morning", (photo,)).request())
        assert graph.calls() == [f"POST /{PAGE_ID}/photos"]
        assert graph.requests[0].body == {"url": "https://media.herald.test/a.jpg?X-Amz-Expires=3600",
                                          "published": True, "message": "Morning", "alt_text_custom": "A cup"}
        assert result.remote_id == graph.posts(PAGE_ID)[0]["id"]
        assert graph.state.violations == []

    def test_many_photos_are_uploaded_unpublished_then_attached_to_one_post(self, graph, clock):
        adapter, channel = facebook(graph, clock)
        photos = tuple(hosted(graph, f"{i}.jpg", "image/jpeg", JPEG) for i in range(3))
        delivery = Delivery("Three cups", photos)
        result = adapter.publish(channel, delivery.request())
        assert graph.calls() == [f"POST /{PAGE_ID}/photos"] * 3 + [f"POST /{PAGE_ID}/feed"]
        assert all(r.body["published"] is False for r in graph.requests[:3])
        photo_ids = delivery.progress["photo_ids"]
        assert graph.requests[3].body == {"message": "Three cups",
                                          "attached_media": [{"media_fbid": i} for i in photo_ids]}
        assert [len(p.get("photo_ids", [])) for p in delivery.recorded] == [1, 2, 3, 3]
        assert result.remote_id == delivery.progress["post_id"] == graph.posts(PAGE_ID)[0]["id"]
        assert graph.state.violations == []

    def test_a_crash_between_photo_uploads_continues_without_uploading_again(self, graph, clock):
        adapter, channel = facebook(graph, clock)
        photos = tuple(hosted(graph, f"{i}.jpg", "image/jpeg", JPEG) for i in range(3))
        delivery = Delivery("Three cups", photos)

        def crash_after_the_first_upload(progress: Mapping[str, Any]) -> None:
            delivery._record(progress)
            raise RuntimeError("the worker died")

        with pytest.raises(RuntimeError):
            adapter.publish(channel, delivery.request(record_progress=crash_after_the_first_upload))
        assert len(delivery.progress["photo_ids"]) == 1
        graph.fail("POST", f"{PAGE_ID}/feed", 500, 1, "An unknown error occurred")
        with pytest.raises(RetryableError):
            adapter.publish(channel, delivery.request())
        assert len(delivery.progress["photo_ids"]) == 3
        result = adapter.publish(channel, delivery.request())
        assert graph.calls() == [f"POST /{PAGE_ID}/photos"] * 3 + [f"POST /{PAGE_ID}/feed"] * 2
        assert result.remote_id == graph.posts(PAGE_ID)[0]["id"]
        assert graph.state.violations == []

    def test_a_video_is_fetched_by_meta_and_published_once_processed(self, graph, clock):
        adapter, channel = facebook(graph, clock)
        video = hosted(graph, "v.mp4", "video/mp4", MP4)
        delivery = Delivery("Latte art", (video,))
        with pytest.raises(StillProcessing) as waiting:
            adapter.publish(channel, delivery.request())
        assert waiting.value.check_after_s == 30
        video_id = delivery.progress["video_id"]
        result = adapter.publish(channel, delivery.request())
        assert graph.calls() == [f"POST /{PAGE_ID}/videos", f"GET /{video_id}", f"GET /{video_id}"]
        assert graph.requests[0].body == {"file_url": "https://media.herald.test/v.mp4?X-Amz-Expires=3600",
                                          "description": "Latte art"}
        assert result.remote_url == f"https://www.facebook.com/{PAGE_ID}/videos/{video_id}"

    def test_the_first_comment_follows_the_post_once(self, graph, clock):
        adapter, channel = facebook(graph, clock)
        delivery = Delivery("Open today", first_comment="Menu: https://herald.test/menu")
        graph.fail("POST", r".+/comments", 500, 2, "Service temporarily unavailable")
        with pytest.raises(RetryableError):
            adapter.publish(channel, delivery.request())
        post_id = delivery.progress["post_id"]
        result = adapter.publish(channel, delivery.request())
        assert graph.calls() == [f"POST /{PAGE_ID}/feed", f"POST /{post_id}/comments", f"POST /{post_id}/comments"]
        assert [c["on"] for c in graph.state.comments] == [post_id]
        assert result.remote_id == post_id
        adapter.publish(channel, delivery.request())  # a third call: nothing new reaches Facebook
        assert len(graph.calls()) == 3

    def test_a_refused_first_comment_leaves_the_post_published_with_a_warning(self, graph, clock):
        adapter, channel = facebook(graph, clock)
        graph.fail("POST", r".+/comments", 400, 368, "The action attempted has been deemed abusive")
        result = adapter.publish(channel, Delivery("Open today", first_comment="Menu").request())
        assert result.remote_id == graph.posts(PAGE_ID)[0]["id"]
        assert "first comment" in result.warnings[0]


class TestFacebookErrors:
    def test_a_duplicate_post_is_refused_in_a_sentence(self, graph, clock):
        adapter, channel = facebook(graph, clock)
        adapter.publish(channel, Delivery("Same words").request())
        with pytest.raises(PermanentError) as refused:
            adapter.publish(channel, Delivery("Same words").request())
        assert refused.value.message == "Facebook refused a duplicate of a recent post"

    def test_a_policy_block_is_permanent_and_says_so(self, graph, clock):
        adapter, channel = facebook(graph, clock)
        graph.fail("POST", f"{PAGE_ID}/feed", 400, 368, "The action attempted has been deemed abusive or is "
                                                        "otherwise disallowed")
        with pytest.raises(PermanentError, match="temporarily blocked this account from posting") as refused:
            adapter.publish(channel, Delivery("Hello").request())
        assert not isinstance(refused.value, AuthError)

    def test_a_revoked_token_needs_a_reconnect(self, graph, clock):
        adapter, channel = facebook(graph, clock, token="revoked")
        with pytest.raises(AuthError, match="invalidated"):
            adapter.publish(channel, Delivery("Hello").request())

    def test_page_throttling_waits_as_the_usage_header_says(self, graph, clock):
        adapter, channel = facebook(graph, clock)
        usage = json.dumps({PAGE_ID: [{"type": "pages", "call_count": 100, "total_cputime": 20, "total_time": 30,
                                       "estimated_time_to_regain_access": 7}]})
        graph.fail("POST", f"{PAGE_ID}/feed", 400, 80001, "There have been too many calls to this Page account",
                   headers={"X-Business-Use-Case-Usage": usage})
        with pytest.raises(RetryableError) as throttled:
            adapter.publish(channel, Delivery("Hello").request())
        assert throttled.value.retry_after_s == 7 * 60

    def test_application_throttling_waits_part_of_the_rolling_hour(self, graph, clock):
        adapter, channel = facebook(graph, clock)
        graph.fail("POST", f"{PAGE_ID}/feed", 400, 4, "(#4) Application request limit reached",
                   headers={"X-App-Usage": '{"call_count": 100, "total_cputime": 12, "total_time": 9}'})
        with pytest.raises(RetryableError) as throttled:
            adapter.publish(channel, Delivery("Hello").request())
        assert throttled.value.retry_after_s == meta_errors.APP_USAGE_WAIT_S

    def test_a_photo_meta_cannot_fetch_is_permanent(self, graph, clock):
        adapter, channel = facebook(graph, clock)
        missing = MediaItem(mime="image/jpeg", public_url=lambda _s: "https://media.herald.test/gone.jpg")
        with pytest.raises(PermanentError, match="invalid image file"):
            adapter.publish(channel, Delivery("Hello", (missing,)).request())


class TestFacebookLookBeforeRetry:
    def test_a_post_that_went_out_is_found_by_its_text_and_time(self, graph, clock):
        adapter, channel = facebook(graph, clock)
        delivery = Delivery("Exactly these words")
        adapter.publish(channel, Delivery("Exactly these words").request(record_progress=lambda _p: None))
        found = adapter.find_published(channel, delivery.request())
        assert found is not None and found.remote_id == graph.posts(PAGE_ID)[0]["id"]
        feed_read = graph.requests[-1]
        assert feed_read.query["fields"] == "id,message,created_time"
        assert int(feed_read.query["since"]) == int((START - timedelta(minutes=5)).timestamp())

    def test_a_post_that_did_not_go_out_is_certainly_absent(self, graph, clock):
        adapter, channel = facebook(graph, clock)
        adapter.publish(channel, Delivery("Something else").request())
        assert adapter.find_published(channel, Delivery("Exactly these words").request()) is None

    def test_a_recorded_post_id_is_the_answer(self, graph, clock):
        adapter, channel = facebook(graph, clock)
        delivery = Delivery("Words")
        delivery.progress = {"post_id": f"{PAGE_ID}_99"}
        assert adapter.find_published(channel, delivery.request()).remote_id == f"{PAGE_ID}_99"
        assert graph.requests == []

    def test_a_post_without_text_among_others_without_text_cannot_be_told(self, graph, clock):
        adapter, channel = facebook(graph, clock)
        photo = hosted(graph, "a.jpg", "image/jpeg", JPEG)
        adapter.publish(channel, Delivery("", (photo,)).request())
        with pytest.raises(AmbiguousError):
            adapter.find_published(channel, Delivery("", (photo,)).request())


# -- Instagram -------------------------------------------------------------------------------------------------


class TestInstagramPublishing:
    def test_an_image_is_a_container_then_media_publish(self, graph, clock):
        adapter, channel = instagram(graph, clock)
        image = hosted(graph, "a.jpg", "image/jpeg", JPEG, alt="A cup")
        delivery = Delivery("Morning #coffee", (image,))
        result = adapter.publish(channel, delivery.request())
        container_id = delivery.progress["container_id"]
        media_id = delivery.progress["media_id"]
        assert graph.calls() == [
            f"GET /{IG_USER_ID}/content_publishing_limit", f"POST /{IG_USER_ID}/media", f"GET /{container_id}",
            f"POST /{IG_USER_ID}/media_publish", f"GET /{media_id}",
        ]
        assert graph.requests[1].body == {"image_url": "https://media.herald.test/a.jpg?X-Amz-Expires=3600",
                                          "alt_text": "A cup", "caption": "Morning #coffee"}
        assert graph.requests[2].query == {"fields": "status_code,status"}
        assert graph.requests[3].body == {"creation_id": container_id}
        assert result.remote_id == media_id
        assert result.remote_url == graph.instagram_media(IG_USER_ID)[0]["permalink"]
        assert graph.state.violations == []

    def test_a_carousel_is_item_containers_then_a_carousel_container(self, graph, clock):
        adapter, channel = instagram(graph, clock)
        media = (hosted(graph, "1.jpg", "image/jpeg", JPEG), hosted(graph, "2.mp4", "video/mp4", MP4),
                 hosted(graph, "3.jpg", "image/jpeg", JPEG))
        delivery = Delivery("Three ways", media)
        result = publish_until_done(adapter, channel, delivery)
        children = delivery.progress["children"]
        creates = [r for r in graph.requests if r.method == "POST" and r.path == f"/{IG_USER_ID}/media"]
        assert [r.body.get("is_carousel_item") for r in creates] == [True, True, True, None]
        assert creates[1].body["media_type"] == "VIDEO"
        assert creates[3].body == {"media_type": "CAROUSEL", "children": ",".join(children), "caption": "Three ways"}
        assert len(creates) == 4  # the wait for the video created nothing twice
        published = graph.instagram_media(IG_USER_ID)
        assert len(published) == 1 and published[0]["kind"] == "CAROUSEL" and published[0]["children"] == children
        assert result.remote_id == published[0]["id"]
        assert graph.state.violations == []

    def test_a_reel_waits_while_the_container_is_in_progress(self, graph, clock):
        adapter, channel = instagram(graph, clock)
        delivery = Delivery("Pour over", (hosted(graph, "r.mp4", "video/mp4", MP4),))
        with pytest.raises(StillProcessing) as waiting:
            adapter.publish(channel, delivery.request())
        assert waiting.value.check_after_s == 30
        assert graph.requests[1].body == {"media_type": "REELS", "video_url": "https://media.herald.test/r.mp4"
                                          "?X-Amz-Expires=3600", "caption": "Pour over"}
        result = adapter.publish(channel, delivery.request())
        assert graph.calls().count(f"POST /{IG_USER_ID}/media") == 1
        assert graph.calls().count(f"POST /{IG_USER_ID}/media_publish") == 1
        assert result.remote_id == graph.instagram_media(IG_USER_ID)[0]["id"]

    def test_a_container_in_error_fails_clearly(self, graph, clock):
        adapter, channel = instagram(graph, clock)
        broken = MediaItem(mime="video/mp4", public_url=lambda _s: "https://media.herald.test/missing.mp4")
        delivery = Delivery("Pour over", (broken,))
        with pytest.raises(PermanentError, match="Instagram could not process the media.*2207026"):
            publish_until_done(adapter, channel, delivery)
        assert graph.calls().count(f"POST /{IG_USER_ID}/media_publish") == 0

    def test_media_instagram_cannot_fetch_is_refused_with_its_reason(self, graph, clock):
        adapter, channel = instagram(graph, clock)
        missing = MediaItem(mime="image/jpeg", public_url=lambda _s: "https://media.herald.test/gone.jpg")
        with pytest.raises(PermanentError) as refused:
            adapter.publish(channel, Delivery("Hello", (missing,)).request())
        assert refused.value.message.startswith("Instagram could not fetch the media (The media could not be "
                                                "fetched from this URI")

    def test_a_used_up_publishing_limit_defers_until_the_window_frees(self, graph, clock):
        adapter, channel = instagram(graph, clock)
        image = hosted(graph, "a.jpg", "image/jpeg", JPEG)
        graph.state.quota[IG_USER_ID]["total"] = 2
        adapter.publish(channel, Delivery("one", (image,)).request())
        clock.advance(hours=2)
        adapter.publish(channel, Delivery("two", (image,)).request())
        clock.advance(hours=1)
        delivery = Delivery("three", (image,))
        with pytest.raises(RetryableError) as deferred:
            adapter.publish(channel, delivery.request())
        # The oldest post in the 24-hour window was 3 hours ago: a place frees in 21 hours (plus a minute).
        assert deferred.value.retry_after_s == pytest.approx(21 * 3600 + 60)
        assert "publishing limit of 2 posts in 24 hours" in deferred.value.message
        assert delivery.progress == {}  # no container made that would expire while it waits
        assert not isinstance(deferred.value, PermanentError)

    def test_the_first_comment_is_added_once(self, graph, clock):
        adapter, channel = instagram(graph, clock)
        delivery = Delivery("Morning", (hosted(graph, "a.jpg", "image/jpeg", JPEG),), first_comment="#latte #art")
        result = adapter.publish(channel, delivery.request())
        adapter.publish(channel, delivery.request())
        assert [(c["on"], c["message"]) for c in graph.state.comments] == [(result.remote_id, "#latte #art")]
        assert graph.calls().count(f"POST /{IG_USER_ID}/media_publish") == 1

    def test_a_crash_after_media_publish_settles_from_the_published_container(self, graph, clock):
        adapter, channel = instagram(graph, clock)
        delivery = Delivery("Morning", (hosted(graph, "a.jpg", "image/jpeg", JPEG),))
        lost: list[dict[str, Any]] = []

        def crash_before_recording_the_media(progress: Mapping[str, Any]) -> None:
            if "media_id" in progress:
                lost.append(dict(progress))
                raise RuntimeError("the worker died")
            delivery._record(progress)

        with pytest.raises(RuntimeError):
            adapter.publish(channel, delivery.request(record_progress=crash_before_recording_the_media))
        assert "media_id" not in delivery.progress and lost
        found = adapter.find_published(channel, delivery.request())
        assert found is not None and found.remote_id == lost[0]["media_id"]
        result = adapter.publish(channel, delivery.request())  # and a plain retry never publishes twice
        assert result.remote_id == lost[0]["media_id"]
        assert graph.calls().count(f"POST /{IG_USER_ID}/media_publish") == 1

    def test_find_published_is_certain_when_the_container_was_never_published(self, graph, clock):
        adapter, channel = instagram(graph, clock)
        assert adapter.find_published(channel, Delivery("Morning").request()) is None
        delivery = Delivery("Pour over", (hosted(graph, "r.mp4", "video/mp4", MP4),))
        with pytest.raises(StillProcessing):
            adapter.publish(channel, delivery.request())
        assert adapter.find_published(channel, delivery.request()) is None

    def test_find_published_cannot_tell_when_the_published_media_is_not_found(self, graph, clock):
        adapter, channel = instagram(graph, clock)
        delivery = Delivery("Morning", (hosted(graph, "a.jpg", "image/jpeg", JPEG),))
        adapter.publish(channel, delivery.request())
        delivery.progress = {"container_id": delivery.progress["container_id"]}
        graph.state.ig_media[IG_USER_ID].clear()  # the post was removed since
        with pytest.raises(AmbiguousError):
            adapter.find_published(channel, delivery.request())

    def test_instagram_throttling_is_retryable(self, graph, clock):
        adapter, channel = instagram(graph, clock)
        graph.fail("GET", f"{IG_USER_ID}/content_publishing_limit", 400, 80002,
                   "There have been too many calls to this Instagram account",
                   headers={"X-Business-Use-Case-Usage": '{"1": [{"estimated_time_to_regain_access": 3}]}'})
        with pytest.raises(RetryableError) as throttled:
            adapter.publish(channel, Delivery("x", (hosted(graph, "a.jpg", "image/jpeg", JPEG),)).request())
        assert throttled.value.retry_after_s == 180


# -- connecting ------------------------------------------------------------------------------------------------


APP = OAuthApp(client_id=MetaGraphFake.app_id, client_secret=MetaGraphFake.app_secret)
REDIRECT = "https://app.herald.test/oauth/callback/facebook"


def oauth(graph: MetaGraphFake, clock: FixedClock, **kw: Any):
    return meta.make_oauth(requests.Session(), clock, graph_url=graph.url, **kw)


class TestConnecting:
    def test_the_authorize_url_names_the_app_the_state_the_scopes_and_pkce(self, graph, clock):
        url = oauth(graph, clock, authorize_url="https://www.facebook.com/v25.0/dialog/oauth").authorize_url(
            APP, REDIRECT, "st_123", "challenge-abc")
        parts = urlsplit(url)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        assert f"{parts.scheme}://{parts.netloc}{parts.path}" == "https://www.facebook.com/v25.0/dialog/oauth"
        assert query["client_id"] == MetaGraphFake.app_id
        assert query["redirect_uri"] == REDIRECT and query["state"] == "st_123" and query["response_type"] == "code"
        assert {"pages_manage_posts", "instagram_content_publish", "pages_messaging",
                "instagram_manage_comments"} <= set(query["scope"].split(","))
        assert (query["code_challenge"], query["code_challenge_method"]) == ("challenge-abc", "S256")
        assert APP.client_secret not in url

    def test_a_login_for_business_configuration_replaces_the_scopes(self, graph, clock):
        url = oauth(graph, clock, config_id="cfg_9").authorize_url(APP, REDIRECT, "st", None)
        query = parse_qs(urlsplit(url).query)
        assert query["config_id"] == ["cfg_9"] and "scope" not in query and "code_challenge" not in query

    def test_the_code_becomes_a_long_lived_user_token_and_its_pages(self, graph, clock):
        graph.page("111", "Second Page", "page-token-111")
        verifier = "v" * 50
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        graph.issue_code("code-1", REDIRECT, [PAGE_ID, "111"], code_challenge=challenge)
        connect = oauth(graph, clock)
        grant = connect.exchange_code(APP, "code-1", REDIRECT, verifier)
        assert grant.access_token.startswith("long-user-")
        assert grant.expires_at == START + timedelta(seconds=5183944)
        assert grant.refresh_token is None
        exchange = [r for r in graph.requests if r.path == "/oauth/access_token"]
        assert exchange[0].body["code_verifier"] == verifier and exchange[0].query == {}
        assert exchange[1].body["grant_type"] == "fb_exchange_token"
        assert exchange[1].body["fb_exchange_token"].startswith("short-user-")
        accounts = connect.granted_accounts(APP, grant)
        assert [(a.network, a.account_id, a.handle) for a in accounts] == [
            ("facebook", PAGE_ID, "Herald Coffee"), ("instagram", IG_USER_ID, "heraldcoffee"),
            ("facebook", "111", "Second Page"),
        ]
        assert dict(accounts[0].credentials) == {"page_access_token": PAGE_TOKEN,
                                                 "user_token_expires_at": grant.expires_at.isoformat()}
        assert dict(accounts[1].credentials)["access_token"] == PAGE_TOKEN
        assert dict(accounts[1].settings) == {"ig_user_id": IG_USER_ID, "page_id": PAGE_ID}
        assert "page-token" not in repr(accounts) and grant.access_token not in repr(grant)

    def test_pages_are_read_across_every_page_of_the_answer(self, graph, clock):
        ids = [str(1000 + i) for i in range(150)]
        for page_id in ids:
            graph.page(page_id, f"Page {page_id}", f"tok-{page_id}")
        graph.user("long-user-x", ids)
        from chalicelib.networks.base import TokenGrant

        accounts = oauth(graph, clock).granted_accounts(APP, TokenGrant(access_token="long-user-x"))
        assert [a.account_id for a in accounts] == ids
        assert [r.query.get("after") for r in graph.requests] == [None, "100"]

    def test_a_used_or_foreign_code_is_refused(self, graph, clock):
        graph.issue_code("code-1", REDIRECT, [PAGE_ID])
        connect = oauth(graph, clock)
        with pytest.raises(PermanentError):
            connect.exchange_code(APP, "code-1", "https://evil.test/cb", None)
        with pytest.raises(PermanentError, match="has been used"):
            connect.exchange_code(APP, "code-1", REDIRECT, None)

    def test_a_page_token_needs_no_refresh_and_a_user_token_is_exchanged_again(self, graph, clock):
        connect = oauth(graph, clock)
        kept = connect.refresh(APP, {"page_access_token": PAGE_TOKEN})
        assert (kept.access_token, kept.expires_at) == (PAGE_TOKEN, None)
        assert graph.requests == []
        graph.user("long-user-kept", [PAGE_ID])
        renewed = connect.refresh(APP, {"user_access_token": "long-user-kept"})
        assert renewed.access_token != "long-user-kept" and renewed.expires_at is not None

    def test_refresh_is_auth_only_for_an_expired_or_revoked_token(self, graph, clock):
        connect = oauth(graph, clock)
        with pytest.raises(AuthError):
            connect.refresh(APP, {"user_access_token": "expired"})
        graph.user("long-user-kept", [PAGE_ID])
        graph.fail("POST", "oauth/access_token", 500, 2, "Service temporarily unavailable")
        with pytest.raises(RetryableError):
            connect.refresh(APP, {"user_access_token": "long-user-kept"})
        graph.fail("POST", "oauth/access_token", 400, 100, "Invalid parameter")
        with pytest.raises(RetryableError):
            connect.refresh(APP, {"user_access_token": "long-user-kept"})
