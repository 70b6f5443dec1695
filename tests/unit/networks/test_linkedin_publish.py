"""LinkedIn publishing, look-before-retry and OAuth, driven against the local fake of LinkedIn's API."""
from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests

from chalicelib.core.clock import FixedClock
from chalicelib.networks import linkedin
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
from tests.fakes.linkedin_api import LinkedInApi

ORG_ID = "96072893"
ORG = f"urn:li:organization:{ORG_ID}"
SUB = "782bbtaQ"
PERSON = f"urn:li:person:{SUB}"
JPEG = b"\xff\xd8\xff\xe0" + b"\x00JFIF" + bytes(range(256)) * 4
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 600
PDF = b"%PDF-1.7\n" + b"1 0 obj\n<<>>\nendobj\n" * 50
MP4 = b"\x00\x00\x00\x20ftypisom" + bytes(range(256)) * ((4 * 1024 * 1024 + 300_000) // 256)


class Crash(Exception):
    """The worker died right after a step's progress write."""


class Progress:
    """The delivery's progress as the engine keeps it; optionally dies after the `crash_after`th write, or on
    the first write that satisfies `crash_when`."""

    def __init__(self, crash_after: int | None = None, crash_when: Any = None) -> None:
        self.saved: dict[str, Any] = {}
        self.writes = 0
        self.crash_after = crash_after
        self.crash_when = crash_when

    def record(self, progress: Mapping[str, Any]) -> None:
        self.writes += 1
        if self.crash_when is not None and self.crash_when(progress):
            self.crash_when = None
            raise Crash  # the step happened remotely; its record was lost
        self.saved = dict(progress)
        if self.crash_after is not None and self.writes >= self.crash_after:
            self.crash_after = None
            raise Crash


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime(2026, 3, 2, 9, 30, tzinfo=UTC))


@pytest.fixture
def li(clock: FixedClock) -> Iterator[LinkedInApi]:
    with LinkedInApi(now=lambda: clock.now().timestamp()) as api:
        api.organization(ORG_ID, "Herald Coffee Roasters", "herald-coffee")
        api.member(SUB, "Ada Lovelace", token="tok-ada", organizations=(ORG_ID,))
        api.processing_polls = 0
        yield api


@pytest.fixture
def adapter(li: LinkedInApi, clock: FixedClock) -> linkedin.LinkedInAdapter:
    return linkedin.make_adapter(requests.Session(), clock, base_url=li.url)


def org_channel(token: str = "tok-ada", urn: str = ORG) -> ChannelContext:
    return ChannelContext("ws_1", "ch_1", "linkedin", {"organization_urn": urn}, {"access_token": token})


def member_channel(token: str = "tok-ada") -> ChannelContext:
    return ChannelContext("ws_1", "ch_2", "linkedin", {"person_urn": PERSON}, {"access_token": token})


def post(text: str = "Fresh roast today", *, progress: Progress | None = None, **kwargs: Any) -> PublishRequest:
    store = progress or Progress()
    return PublishRequest("dl_1", text, progress=dict(store.saved), record_progress=store.record, **kwargs)


def image(data: bytes = JPEG, mime: str = "image/jpeg", alt: str = "a cup") -> MediaItem:
    return MediaItem(mime=mime, alt=alt, size=len(data), load=lambda: data)


def video(data: bytes = MP4, chunk: int = 1_000_003) -> MediaItem:
    def stream(_size: int) -> Iterator[bytes]:
        for start in range(0, len(data), chunk):  # chunks of another size than LinkedIn's parts
            yield data[start:start + chunk]

    return MediaItem(mime="video/mp4", alt="How we roast", size=len(data), stream=stream, duration_s=42.0)


def pdf(data: bytes = PDF) -> MediaItem:
    return MediaItem(mime="application/pdf", size=len(data), load=lambda: data)


class TestText:
    def test_an_organization_post_keeps_every_reserved_character(self, li, adapter):
        text = "Launch (beta) of [our] *new* roast_1 <3 ~ 50% off | {today} @cafe \\o/ #coffee"
        result = adapter.publish(org_channel(), post(text))
        [created] = li.posts
        assert created["author"] == ORG
        assert created["shown"] == text  # unescaped, LinkedIn would have cut it at "("
        assert "\\(beta\\)" in created["commentary"] and "#coffee" in created["commentary"]
        assert result.remote_id == created["id"]
        assert result.remote_url == f"https://www.linkedin.com/feed/update/{created['id']}"
        [sent] = li.calls("POST", "/rest/posts")
        assert sent.headers["linkedin-version"] == linkedin.LINKEDIN_VERSION
        assert sent.headers["x-restli-protocol-version"] == "2.0.0"
        assert sent.headers["authorization"] == "Bearer tok-ada"
        assert sent.json()["distribution"] == {"feedDistribution": "MAIN_FEED", "targetEntities": [],
                                               "thirdPartyDistributionChannels": []}
        assert (sent.json()["visibility"], sent.json()["lifecycleState"]) == ("PUBLIC", "PUBLISHED")

    def test_a_member_post_is_authored_by_the_person(self, li, adapter):
        adapter.publish(member_channel(), post("Hello from me", options={"visibility": "CONNECTIONS"}))
        assert (li.posts[0]["author"], li.posts[0]["visibility"]) == (PERSON, "CONNECTIONS")

    def test_a_link_goes_into_the_text(self, li, adapter):
        adapter.publish(org_channel(), post("Read this", link="https://example.com/a_(b)"))
        assert li.posts[0]["shown"] == "Read this\n\nhttps://example.com/a_(b)"


class TestImages:
    def test_one_image_is_initialized_uploaded_then_posted(self, li, adapter):
        progress = Progress()
        adapter.publish(org_channel(), post(media=(image(),), progress=progress))
        assert li.steps() == ["POST /rest/images?initializeUpload", "PUT /dms-uploads/images", "POST /rest/posts"]
        assert li.calls("POST", "/rest/images")[0].json() == {"initializeUploadRequest": {"owner": ORG}}
        [upload] = li.calls("PUT")
        assert upload.body == JPEG and upload.headers["authorization"] == "Bearer tok-ada"
        urn = progress.saved["media"][0]["urn"]
        assert li.posts[0]["content"] == {"media": {"id": urn, "altText": "a cup"}}
        assert progress.saved["post_urn"] == li.posts[0]["id"]

    def test_several_images_make_a_multi_image_post(self, li, adapter):
        adapter.publish(org_channel(), post(media=(image(), image(PNG, "image/png", "beans"), image(alt=""))))
        images = li.posts[0]["content"]["multiImage"]["images"]
        assert [i["altText"] for i in images] == ["a cup", "beans", ""]
        assert [li.assets[i["id"]].data for i in images] == [JPEG, PNG, JPEG]

    def test_a_crash_after_the_upload_continues_without_uploading_again(self, li, adapter):
        progress = Progress(crash_after=3)  # initialized, uploaded, about to post → dies before the post
        with pytest.raises(Crash):
            adapter.publish(org_channel(), post(media=(image(),), progress=progress))
        assert li.posts == []
        adapter.publish(org_channel(), post(media=(image(),), progress=progress))
        assert li.steps() == ["POST /rest/images?initializeUpload", "PUT /dms-uploads/images",
                              "GET /rest/posts", "POST /rest/posts"]  # looked first: the post might be out
        assert len(li.posts) == 1


class TestVideo:
    def test_parts_are_uploaded_finalized_and_the_post_waits_until_available(self, li, adapter):
        li.processing_polls = 1
        progress = Progress()
        with pytest.raises(StillProcessing) as waiting:
            adapter.publish(org_channel(), post("Watch", media=(video(),), progress=progress))
        assert waiting.value.check_after_s == linkedin.VIDEO_CHECK_AFTER_S
        assert waiting.value.progress["media"][0]["finalized"] is True
        assert li.steps() == ["POST /rest/videos?initializeUpload", "PUT /dms-uploads/videos",
                              "PUT /dms-uploads/videos", "POST /rest/videos?finalizeUpload",
                              f"GET /rest/videos/{quote(progress.saved['media'][0]['urn'])}"]
        init = li.calls("POST", "/rest/videos")[0].json()["initializeUploadRequest"]
        assert (init["owner"], init["fileSizeBytes"]) == (ORG, len(MP4))
        assert li.calls("PUT")[0].headers["content-type"] == "application/octet-stream"
        final = li.calls("POST", "/rest/videos")[1].json()["finalizeUploadRequest"]
        assert final["uploadedPartIds"] == progress.saved["media"][0]["etags"] and len(final["uploadedPartIds"]) == 2
        assert li.posts == []

        li.requests.clear()
        result = adapter.publish(org_channel(), post("Watch", media=(video(),), progress=progress))
        assert li.steps() == [f"GET /rest/videos/{quote(progress.saved['media'][0]['urn'])}", "POST /rest/posts"]
        urn = progress.saved["media"][0]["urn"]
        assert li.assets[urn].data == MP4
        assert li.posts[0]["content"] == {"media": {"id": urn, "title": "How we roast"}}
        assert result.remote_id == li.posts[0]["id"]

    def test_a_crash_between_parts_sends_only_the_missing_part(self, li, adapter):
        progress = Progress(crash_after=2)  # the initialized video, the first part's ETag → dies
        with pytest.raises(Crash):
            adapter.publish(org_channel(), post("Watch", media=(video(),), progress=progress))
        assert len(li.calls("PUT")) == 1
        adapter.publish(org_channel(), post("Watch", media=(video(),), progress=progress))
        assert len(li.calls("POST", "/rest/videos")) == 2  # one initialize, one finalize
        puts = li.calls("PUT")
        assert [p.path.rsplit("/", 1)[1] for p in puts] == ["0", "1"]
        assert len(li.posts) == 1 and li.assets[progress.saved["media"][0]["urn"]].data == MP4

    def test_a_video_linkedin_cannot_process_fails_clearly(self, li, adapter):
        not_mp4 = b"\x00" * (80 * 1024)
        with pytest.raises(PermanentError, match="LinkedIn could not process the video"):
            adapter.publish(org_channel(), post(media=(video(not_mp4, chunk=10_000),)))


class TestDocument:
    def test_a_pdf_carousel_waits_for_processing_then_posts_with_its_title(self, li, adapter):
        li.processing_polls = 1
        progress = Progress()
        request = post("Our 2026 report", media=(pdf(),), options={"document_title": "Report 2026"},
                       progress=progress)
        with pytest.raises(StillProcessing) as waiting:
            adapter.publish(org_channel(), request)
        assert waiting.value.check_after_s == linkedin.DOCUMENT_CHECK_AFTER_S
        adapter.publish(org_channel(), post("Our 2026 report", media=(pdf(),),
                                            options={"document_title": "Report 2026"}, progress=progress))
        urn = progress.saved["media"][0]["urn"]
        assert li.steps() == ["POST /rest/documents?initializeUpload", "PUT /dms-uploads/documents",
                              f"GET /rest/documents/{quote(urn)}", f"GET /rest/documents/{quote(urn)}",
                              "POST /rest/posts"]
        assert li.assets[urn].data == PDF
        assert li.posts[0]["content"] == {"media": {"id": urn, "title": "Report 2026"}}


class TestFirstComment:
    def test_the_comment_follows_the_post_as_its_author(self, li, adapter):
        progress = Progress()
        result = adapter.publish(org_channel(), post(first_comment="Order at herald.example", progress=progress))
        [comment] = li.comments[result.remote_id]
        assert (comment["actor"], comment["object"], comment["message"]) == (
            ORG, result.remote_id, {"text": "Order at herald.example"})
        assert progress.saved["comment_urn"] == comment["commentUrn"]
        assert li.steps()[-1] == f"POST /rest/socialActions/{quote(result.remote_id)}/comments"

    def test_a_retry_after_the_comment_comments_no_more(self, li, adapter):
        progress = Progress(crash_when=lambda p: "comment_urn" in p)  # the comment is out, its record lost
        with pytest.raises(Crash):
            adapter.publish(org_channel(), post(first_comment="First!", progress=progress))
        result = adapter.publish(org_channel(), post(first_comment="First!", progress=progress))
        assert len(li.comments[result.remote_id]) == 1 and len(li.posts) == 1
        assert progress.saved["comment_urn"] == li.comments[result.remote_id][0]["commentUrn"]

    def test_comments_it_cannot_read_are_never_commented_twice(self, li, adapter):
        progress = Progress(crash_when=lambda p: "comment_urn" in p)
        with pytest.raises(Crash):
            adapter.publish(member_channel(), post(first_comment="First!", progress=progress))
        li.fail("GET", "/rest/socialActions/", 403, {"status": 403, "code": "ACCESS_DENIED", "message": "no"})
        result = adapter.publish(member_channel(), post(first_comment="First!", progress=progress))
        assert len(li.comments[result.remote_id]) == 1
        assert "could not check whether the first comment went out" in progress.saved["comment_refused"]

    def test_a_refused_comment_leaves_the_post_published(self, li, adapter):
        li.fail("POST", "/rest/socialActions/", 422, {"status": 422, "message": "Comment text is invalid"})
        progress = Progress()
        result = adapter.publish(org_channel(), post(first_comment="First!", progress=progress))
        assert result.remote_id == li.posts[0]["id"]
        assert "Comment text is invalid" in progress.saved["comment_refused"]


class TestCrashAroundThePost:
    def test_a_post_whose_urn_was_lost_is_found_not_repeated(self, li, adapter, clock):
        progress = Progress(crash_when=lambda p: "post_urn" in p)
        request = post("Once only (really)", progress=progress, first_attempt_at=clock.now())
        with pytest.raises(Crash):
            adapter.publish(org_channel(), request)
        clock.advance(30)
        result = adapter.publish(org_channel(), post("Once only (really)", progress=progress,
                                                     first_attempt_at=request.first_attempt_at))
        assert len(li.posts) == 1 and result.remote_id == li.posts[0]["id"]
        assert len(li.calls("POST", "/rest/posts")) == 1


class TestErrors:
    def test_a_revoked_token_needs_a_reconnect(self, li, adapter):
        li.revoke("tok-ada")
        with pytest.raises(AuthError, match="revoked"):
            adapter.publish(org_channel(), post())

    def test_throttling_waits_for_linkedins_documented_reset(self, li, adapter, clock):
        li.fail("POST", "/rest/posts", 429, {"status": 429, "message": "Resource level throttle limit"}, times=2)
        with pytest.raises(RetryableError) as throttled:
            adapter.publish(org_channel(), post())
        assert throttled.value.retry_after_s == linkedin.RATE_LIMIT_BACKOFF_S
        clock.set(datetime(2026, 3, 2, 23, 56, tzinfo=UTC))  # the daily limits reset sooner than 15 minutes
        with pytest.raises(RetryableError) as throttled:
            adapter.publish(org_channel(), post("again"))
        assert throttled.value.retry_after_s == 5 * 60

    def test_a_duplicate_is_refused_in_a_sentence(self, li, adapter):
        adapter.publish(org_channel(), post("Same words"))
        with pytest.raises(PermanentError) as refused:
            adapter.publish(org_channel(), PublishRequest("dl_2", "Same words"))
        assert refused.value.message == "LinkedIn refused a duplicate of a recent post"
        assert refused.value.status == 422

    def test_access_denied_names_the_permission(self, li, adapter):
        with pytest.raises(PermanentError) as refused:
            adapter.publish(org_channel(urn="urn:li:organization:1"), post())
        assert not isinstance(refused.value, AuthError)
        assert "ACCESS_DENIED" in refused.value.message and "w_organization_social" in refused.value.message

    def test_a_member_without_w_member_social_is_told_which_permission(self, li, adapter):
        li.member("Zed1", "Zed", token="tok-zed", scopes=("openid", "profile"))
        channel = ChannelContext("ws_1", "ch_3", "linkedin", {"person_urn": "urn:li:person:Zed1"},
                                 {"access_token": "tok-zed"})
        with pytest.raises(PermanentError, match="w_member_social"):
            adapter.publish(channel, post())

    def test_a_server_error_is_retried(self, li, adapter):
        li.fail("POST", "/rest/images", 503, {"status": 503, "message": "Service Unavailable"})
        with pytest.raises(RetryableError):
            adapter.publish(org_channel(), post(media=(image(),)))

    def test_the_version_header_is_required_by_the_fake(self, li):
        answer = requests.post(f"{li.url}/rest/posts", headers={"Authorization": "Bearer tok-ada"}, json={},
                               timeout=5)
        assert answer.status_code == 400 and answer.json()["code"] == "VERSION_MISSING"


class TestFindPublished:
    def test_found_by_its_text_after_the_attempt(self, li, adapter, clock):
        attempt = clock.now()
        adapter.publish(org_channel(), post("Was it sent? (yes)"))
        found = adapter.find_published(org_channel(), PublishRequest("dl_1", "Was it sent? (yes)",
                                                                     first_attempt_at=attempt))
        assert found is not None and found.remote_id == li.posts[0]["id"]
        assert found.remote_url == f"https://www.linkedin.com/feed/update/{found.remote_id}"
        [finder] = li.calls("GET", "/rest/posts")
        assert finder.headers["x-restli-method"] == "FINDER"
        assert {k: v[0] for k, v in finder.query.items()} == {"author": ORG, "q": "author", "count": "10",
                                                                "sortBy": "LAST_MODIFIED"}

    def test_the_same_text_from_before_the_attempt_is_not_ours(self, li, adapter, clock):
        adapter.publish(org_channel(), post("Weekly hours"))
        clock.advance(days=3)
        assert adapter.find_published(org_channel(), PublishRequest("dl_9", "Weekly hours",
                                                                    first_attempt_at=clock.now())) is None

    def test_absent_when_the_page_reaches_back_past_the_attempt(self, li, adapter, clock):
        for n in range(12):
            adapter.publish(org_channel(), PublishRequest(f"old_{n}", f"old post {n}"))
        clock.advance(hours=1)
        attempt = clock.now()
        adapter.publish(org_channel(), PublishRequest("other", "another post"))
        assert adapter.find_published(org_channel(), PublishRequest("dl_1", "mine",
                                                                    first_attempt_at=attempt)) is None

    def test_unsure_when_ten_newer_posts_hide_the_window(self, li, adapter, clock):
        attempt = clock.now()
        for n in range(10):
            clock.advance(1)
            adapter.publish(org_channel(), PublishRequest(f"new_{n}", f"new post {n}"))
        with pytest.raises(AmbiguousError, match="cannot tell"):
            adapter.find_published(org_channel(), PublishRequest("dl_1", "mine", first_attempt_at=attempt))

    def test_found_by_the_media_it_uploaded(self, li, adapter, clock):
        progress = Progress()
        adapter.publish(org_channel(), post("with a picture", media=(image(),), progress=progress))
        progress.saved.pop("post_urn")
        found = adapter.find_published(org_channel(), PublishRequest("dl_1", "text edited since",
                                                                     media=(image(),), progress=progress.saved))
        assert found is not None and found.remote_id == li.posts[0]["id"]

    def test_a_members_posts_cannot_be_read_so_it_cannot_tell(self, li, adapter, clock):
        with pytest.raises(AmbiguousError, match="r_member_social"):
            adapter.find_published(member_channel(), PublishRequest("dl_1", "x", first_attempt_at=clock.now()))


def problems(**kwargs: Any) -> list[tuple[str, str]]:
    request = PublishRequest("dl_1", kwargs.pop("text", "hi"), **kwargs)
    return [(p.field, p.message) for p in linkedin.content_problems(request)]


class TestContentProblems:
    def test_a_plain_post_has_none(self):
        assert problems() == []
        assert problems(media=tuple(image() for _ in range(20))) == []

    @pytest.mark.parametrize(("kwargs", "field", "words"), [
        ({"text": "x" * 3001}, "text", "at most 3000 characters"),
        ({"media": tuple(image() for _ in range(21))}, "media", "at most 20 images"),
        ({"media": (video(), video())}, "media", "one video"),
        ({"media": (pdf(), pdf())}, "media", "one document"),
        ({"media": (image(), video())}, "media", "never a mix"),
        ({"media": (MediaItem("image/webp"),)}, "media.0", "does not take image/webp"),
        ({"media": (MediaItem("video/mp4", size=50 * 1024),)}, "media.0", "75 KB to 500 MB"),
        ({"media": (MediaItem("video/mp4", size=600 * 1024 * 1024),)}, "media.0", "75 KB to 500 MB"),
        ({"media": (MediaItem("video/mp4", duration_s=2.0),)}, "media.0", "3 seconds to 30 minutes"),
        ({"media": (MediaItem("video/mp4", duration_s=31 * 60.0),)}, "media.0", "3 seconds to 30 minutes"),
        ({"media": (MediaItem("application/pdf", size=101 * 1024 * 1024),)}, "media.0", "at most 100 MB"),
        ({"media": (MediaItem("image/png", width=8000, height=5000),)}, "media.0", "fewer than 36,152,320"),
        ({"media": (MediaItem("image/png", alt="a" * 4087),)}, "media.0", "alt text"),
        ({"thread": (ThreadPart("two"),)}, "thread", "no threads"),
        ({"first_comment": "c" * 1251}, "first_comment", "at most 1250"),
        ({"first_comment": "  "}, "first_comment", "cannot be empty"),
        ({"options": {"visibility": "FRIENDS"}}, "options.visibility", "PUBLIC, CONNECTIONS, LOGGED_IN"),
        ({"options": {"document_title": ""}}, "options.document_title", "1 to 400"),
        ({"options": {"poll": True}}, "options.poll", "visibility and document_title only"),
    ])
    def test_each_rule_names_the_field_and_linkedin(self, kwargs, field, words):
        found = problems(**kwargs)
        assert any(f == field and words in message and "LinkedIn" in message for f, message in found), found

    def test_the_limits_agree(self):
        assert linkedin.LIMITS.max_text == 3000 and linkedin.LIMITS.max_media == 20
        assert linkedin.BUDGET.per_account_concurrency == 2


class TestLittleText:
    @pytest.mark.parametrize(("text", "escaped"), [
        ("plain words, 50% off!", "plain words, 50% off!"),
        ("(a) [b] {c} <d>", "\\(a\\) \\[b\\] \\{c\\} \\<d\\>"),
        ("@x *y* _z_ ~w~ a|b \\", "\\@x \\*y\\* \\_z\\_ \\~w\\~ a\\|b \\\\"),
        ("#coffee and #2026 but # alone and a#b", "#coffee and #2026 but \\# alone and a\\#b"),
    ])
    def test_reserved_characters_are_escaped_hashtags_kept(self, text, escaped):
        assert linkedin.little_text(text) == escaped
        assert linkedin.plain_from_little(escaped) == text


class TestOAuth:
    app = OAuthApp("herald-client", "herald-secret")
    redirect = "https://herald.example/oauth/callback/linkedin"

    @pytest.fixture
    def oauth(self, li, clock) -> linkedin.LinkedInOAuth:
        return linkedin.make_oauth(requests.Session(), clock, api_url=li.url,
                                   authorize_url=f"{li.url}/oauth/v2/authorization",
                                   token_url=f"{li.url}/oauth/v2/accessToken")

    def code(self, li, oauth) -> str:
        li.authorizing(SUB)
        url = oauth.authorize_url(self.app, self.redirect, "state-123", "challenge-ignored")
        answer = requests.get(url, allow_redirects=False, timeout=5)
        assert answer.status_code == 302
        location = answer.headers["Location"]
        assert location.startswith(self.redirect) and "state=state-123" in location
        return location.split("code=")[1].split("&")[0]

    def test_the_authorization_url(self, oauth):
        from urllib.parse import parse_qs, urlsplit

        url = oauth.authorize_url(self.app, self.redirect, "state-123", "challenge")
        split = urlsplit(url)
        query = {k: v[0] for k, v in parse_qs(split.query).items()}
        assert url.startswith(oauth.authorize_endpoint + "?")
        assert query == {"response_type": "code", "client_id": "herald-client", "redirect_uri": self.redirect,
                         "state": "state-123", "scope": "openid profile w_member_social w_organization_social "
                                                        "r_organization_social rw_organization_admin"}
        assert linkedin.make_oauth().authorize_url(self.app, self.redirect, "s", None).startswith(
            "https://www.linkedin.com/oauth/v2/authorization?")

    def test_exchange_records_both_expiries(self, li, oauth, clock):
        grant = oauth.exchange_code(self.app, self.code(li, oauth), self.redirect, None)
        assert grant.expires_at == clock.now() + timedelta(days=60)
        assert grant.refresh_expires_at == clock.now() + timedelta(days=365)
        assert grant.refresh_token and "w_organization_social" in grant.scopes
        [exchange] = li.calls("POST", "/oauth/v2/accessToken")
        assert exchange.form()["grant_type"] == "authorization_code"
        assert exchange.form()["client_secret"] == "herald-secret"
        assert "tok" not in repr(grant) and grant.access_token not in repr(grant)

    def test_a_used_code_is_refused(self, li, oauth):
        code = self.code(li, oauth)
        oauth.exchange_code(self.app, code, self.redirect, None)
        with pytest.raises(PermanentError, match="connect again"):
            oauth.exchange_code(self.app, code, self.redirect, None)

    def test_refresh_keeps_the_refresh_token_and_its_first_expiry(self, li, oauth, clock):
        grant = oauth.exchange_code(self.app, self.code(li, oauth), self.redirect, None)
        clock.advance(days=59)
        refreshed = oauth.refresh(self.app, {"refresh_token": grant.refresh_token,
                                             "refresh_expires_at": grant.refresh_expires_at.isoformat()})
        assert refreshed.refresh_token == grant.refresh_token
        assert refreshed.refresh_expires_at == grant.refresh_expires_at  # 306 days left, as LinkedIn says
        assert refreshed.expires_at == clock.now() + timedelta(days=60)
        assert refreshed.access_token != grant.access_token

    def test_a_rotated_refresh_token_is_kept(self, li, oauth):
        li.rotate_refresh_tokens = True
        grant = oauth.exchange_code(self.app, self.code(li, oauth), self.redirect, None)
        refreshed = oauth.refresh(self.app, {"refresh_token": grant.refresh_token})
        assert refreshed.refresh_token not in (None, grant.refresh_token)
        again = oauth.refresh(self.app, {"refresh_token": refreshed.refresh_token})
        assert again.access_token

    def test_a_revoked_refresh_token_needs_a_reconnect(self, li, oauth):
        with pytest.raises(AuthError, match="invalid_grant"):
            oauth.refresh(self.app, {"refresh_token": "refresh-unknown"})

    def test_transient_failures_never_look_revoked(self, li, oauth, clock):
        grant = oauth.exchange_code(self.app, self.code(li, oauth), self.redirect, None)
        li.fail("POST", "/oauth/v2/accessToken", 503, {"error": "temporarily_unavailable"})
        with pytest.raises(RetryableError):
            oauth.refresh(self.app, {"refresh_token": grant.refresh_token})
        wrong_app = OAuthApp("herald-client", "not-the-secret")
        with pytest.raises(RetryableError, match="invalid_client"):
            oauth.refresh(wrong_app, {"refresh_token": grant.refresh_token})
        assert oauth.refresh(self.app, {"refresh_token": grant.refresh_token}).access_token

    def test_without_a_refresh_token_it_says_so(self, oauth):
        with pytest.raises(PermanentError, match="no refresh token"):
            oauth.refresh(self.app, {"access_token": "x"})

    def test_granted_accounts_are_the_member_and_the_organizations(self, li, oauth):
        grant = oauth.exchange_code(self.app, self.code(li, oauth), self.redirect, None)
        accounts = oauth.granted_accounts(self.app, grant)
        assert [(a.account_id, a.name, a.handle, dict(a.settings)) for a in accounts] == [
            (PERSON, "Ada Lovelace", "Ada Lovelace", {"person_urn": PERSON}),
            (ORG, "Herald Coffee Roasters", "herald-coffee", {"organization_urn": ORG}),
        ]
        credentials = accounts[1].credentials
        assert credentials["access_token"] == grant.access_token
        assert credentials["refresh_token"] == grant.refresh_token
        assert credentials["expires_at"].endswith("Z") and credentials["refresh_expires_at"].endswith("Z")
        assert li.calls("GET", "/rest/organizations/")[0].path == f"/rest/organizations/{ORG_ID}"

    def test_a_member_only_app_grants_the_member(self, li, oauth):
        li.member("Bob2", "Bob", token="tok-bob", scopes=("openid", "profile", "w_member_social"))
        li.authorizing("Bob2")
        grant = oauth.exchange_code(self.app, li.issue_code("Bob2", self.redirect), self.redirect, None)
        assert [a.account_id for a in oauth.granted_accounts(self.app, grant)] == ["urn:li:person:Bob2"]

    def test_the_member_channel_is_described_by_userinfo(self, li, adapter):
        assert adapter.describe_account(member_channel()) == {"handle": "Ada Lovelace", "account_id": PERSON}


def quote(urn: str) -> str:
    from urllib.parse import quote as url_quote

    return url_quote(urn, safe="")
