"""The Pinterest adapter against a local fake of Pinterest API v5 (tests/fakes/pinterest_api.py)."""
from __future__ import annotations

import base64
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from chalicelib.core.clock import FixedClock
from chalicelib.networks import pinterest
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
from chalicelib.networks.registry import NETWORKS, limits_for
from tests.fakes.pinterest_api import PinterestApi
from tests.support.events import load_event

TOKEN = "pina_token"
USER_ID = "1108000000000777"
BOARD = "5550001"
OTHER_BOARD = "5550002"
SECTION = "7770001"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF" + bytes(64)
PNG = b"\x89PNG\r\n\x1a\n" + bytes(64)
MP4 = b"\x00\x00\x00\x18ftypmp42" + bytes(3 * 1024 * 1024 + 17)
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
APP = OAuthApp("1508420", "pinterest-secret")


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START)


@pytest.fixture
def fake(clock: FixedClock) -> Iterator[PinterestApi]:
    with PinterestApi(clock) as api:
        api.account(TOKEN, USER_ID, "heraldcoffee", {BOARD: [SECTION], OTHER_BOARD: []})
        yield api


@pytest.fixture
def adapter(fake: PinterestApi, clock: FixedClock) -> pinterest.PinterestAdapter:
    return pinterest.make_adapter(clock=clock, base_url=fake.api_url)


def channel(token: str = TOKEN, board: str | None = BOARD, **creds: Any) -> ChannelContext:
    settings = {"user_id": USER_ID} | ({"board_id": board} if board else {})
    return ChannelContext("ws1", "ch1", "pinterest", settings, {"access_token": token, **creds})


def image(fake: PinterestApi, name: str = "cup.jpg", body: bytes = JPEG, alt: str = "") -> MediaItem:
    return MediaItem(mime="image/jpeg", alt=alt, size=len(body), public_url=lambda _ttl: fake.host(name, body))


def video(body: bytes = MP4, reads: list[int] | None = None) -> MediaItem:
    def stream(chunk: int) -> Iterator[bytes]:
        for start in range(0, len(body), chunk):
            if reads is not None:
                reads.append(min(chunk, len(body) - start))
            yield body[start:start + chunk]

    return MediaItem(mime="video/mp4", size=len(body), stream=stream, duration_s=12.0,
                     load=lambda: pytest.fail("a video must be streamed, never loaded whole"))


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


def request(text: str = "Our autumn blend, slow roasted.", media: tuple[MediaItem, ...] = (),
            options: dict[str, Any] | None = None, progress: Progress | None = None, **kwargs: Any) -> PublishRequest:
    saved = progress or Progress()
    return PublishRequest("d1", text, media, options=options or {}, progress=saved.last, record_progress=saved,
                          **kwargs)


def again(req: PublishRequest, progress: Progress) -> PublishRequest:
    return PublishRequest(req.delivery_id, req.text, req.media, link=req.link, options=req.options,
                          progress=progress.last, record_progress=progress, first_attempt_at=req.first_attempt_at)


# -- image pins ------------------------------------------------------------------------------------------------

def test_an_image_pin_goes_to_the_channel_board_with_title_link_and_alt_text(adapter, fake):
    req = request(media=(image(fake, alt="A cup of coffee"),), link="https://herald.example/autumn",
                  options={"title": "Autumn blend"})

    result = adapter.publish(channel(), req)

    [pin] = fake.published(USER_ID)
    assert result.remote_id == pin.pin_id
    assert result.remote_url == f"https://www.pinterest.com/pin/{pin.pin_id}/"
    assert pin.board_id == BOARD
    assert pin.fields == {"title": "Autumn blend", "description": "Our autumn blend, slow roasted.",
                          "link": "https://herald.example/autumn", "alt_text": "A cup of coffee"}
    [call] = fake.calls("POST", "/v5/pins")
    assert call.json()["media_source"]["source_type"] == "image_url"
    assert fake.violations == []


def test_the_post_may_choose_another_board_and_a_section(adapter, fake):
    req = request(media=(image(fake),), options={"board_id": OTHER_BOARD})
    adapter.publish(channel(), req)
    req = request(media=(image(fake, "b.jpg"),), options={"board_id": BOARD, "board_section_id": SECTION})
    adapter.publish(channel(board=None), req)

    first, second = fake.published(USER_ID)
    assert first.board_id == OTHER_BOARD
    assert (second.board_id, second.fields["board_section_id"]) == (BOARD, SECTION)


def test_a_small_image_held_only_as_bytes_is_sent_inline(adapter, fake):
    item = MediaItem(mime="image/png", size=len(PNG), load=lambda: PNG)

    adapter.publish(channel(), request(media=(item,)))

    source = fake.calls("POST", "/v5/pins")[0].json()["media_source"]
    assert source["source_type"] == "image_base64"
    assert base64.b64decode(source["data"]) == PNG
    assert len(fake.published()) == 1


def test_without_a_board_nothing_is_sent_and_the_message_says_where_to_choose_one(adapter, fake):
    with pytest.raises(PermanentError, match="board_id"):
        adapter.publish(channel(board=None), request(media=(image(fake),)))
    assert fake.calls("POST", "/v5/pins") == []


def test_a_board_that_is_not_the_accounts_is_refused_in_a_sentence(adapter, fake):
    with pytest.raises(PermanentError, match="does not know this board"):
        adapter.publish(channel(), request(media=(image(fake),), options={"board_id": "999"}))


# -- video pins ------------------------------------------------------------------------------------------------

def test_a_video_pin_registers_streams_waits_then_pins_with_its_cover(adapter, fake):
    reads: list[int] = []
    progress = Progress()
    req = request(media=(video(reads=reads), image(fake, "cover.jpg")), progress=progress)

    with pytest.raises(StillProcessing) as waiting:
        adapter.publish(channel(), req)

    assert waiting.value.check_after_s == pinterest.FIRST_CHECK_S
    assert waiting.value.progress["uploaded"] is True
    assert len(reads) == 4 and max(reads) <= pinterest.UPLOAD_CHUNK  # streamed in chunks, not loaded
    [media] = fake.media.values()
    assert media.bytes == MP4
    assert fake.published() == []

    result = adapter.publish(channel(), again(req, progress))

    [pin] = fake.published(USER_ID)
    assert result.remote_id == pin.pin_id
    source = fake.calls("POST", "/v5/pins")[0].json()["media_source"]
    assert source["source_type"] == "video_id" and source["media_id"] == media.media_id
    assert source["cover_image_url"].endswith("/hosted/cover.jpg")
    assert len(fake.calls("POST", "/v5/media")) == 1  # registered once
    assert len(fake.calls("POST", r"/upload/.*")) == 1  # uploaded once
    assert fake.violations == []


def test_a_video_may_take_its_cover_from_a_key_frame(adapter, fake):
    progress = Progress()
    req = request(media=(video(),), options={"cover_image_key_frame_time": 2.5}, progress=progress)
    with pytest.raises(StillProcessing):
        adapter.publish(channel(), req)
    fake.settle()
    adapter.publish(channel(), again(req, progress))
    assert fake.calls("POST", "/v5/pins")[0].json()["media_source"]["cover_image_key_frame_time"] == 2.5


def test_a_crash_after_the_upload_repeats_neither_registration_nor_upload(adapter, fake):
    progress = Progress(crash_when=lambda p: p.get("uploaded") is True)
    req = request(media=(video(), image(fake, "c.jpg")), progress=progress)
    with pytest.raises(RuntimeError):
        adapter.publish(channel(), req)

    fake.settle()
    adapter.publish(channel(), again(req, progress))

    assert len(fake.calls("POST", "/v5/media")) == 1
    assert len(fake.calls("POST", r"/upload/.*")) == 1
    assert len(fake.published()) == 1


def test_a_crash_between_registration_and_upload_registers_again_and_pins_once(adapter, fake):
    progress = Progress(crash_when=lambda p: p.get("uploaded") is False)
    req = request(media=(video(), image(fake, "c.jpg")), progress=progress)
    with pytest.raises(RuntimeError):
        adapter.publish(channel(), req)

    with pytest.raises(StillProcessing):
        adapter.publish(channel(), again(req, progress))
    fake.settle()
    adapter.publish(channel(), again(req, progress))

    assert len(fake.calls("POST", "/v5/media")) == 2  # the unfinished registration is abandoned
    assert len(fake.calls("POST", r"/upload/.*")) == 1
    assert len(fake.published()) == 1


def test_a_pin_already_made_is_not_made_again(adapter, fake):
    progress = Progress(crash_when=lambda p: "pin_id" in p)
    req = request(media=(image(fake),), progress=progress)
    with pytest.raises(RuntimeError):
        adapter.publish(channel(), req)

    result = adapter.publish(channel(), again(req, progress))

    assert [p.pin_id for p in fake.published()] == [result.remote_id]
    assert len(fake.calls("POST", "/v5/pins")) == 1


def test_a_video_pinterest_cannot_process_fails_in_a_sentence(adapter, fake):
    progress = Progress()
    req = request(media=(video(b"not a video" * 10), image(fake, "c.jpg")), progress=progress)
    with pytest.raises(PermanentError, match="could not process the video"):
        adapter.publish(channel(), req)


def test_processing_that_never_ends_is_given_up(adapter, fake, clock):
    fake.processing = 10_000
    progress = Progress()
    req = request(media=(video(), image(fake, "c.jpg")), progress=progress)
    with pytest.raises(StillProcessing) as first:
        adapter.publish(channel(), req)
    progress.saved.append(first.value.progress)  # what the engine records from a StillProcessing
    with pytest.raises(StillProcessing) as second:
        adapter.publish(channel(), again(req, progress))
    assert second.value.check_after_s == pinterest.NEXT_CHECK_S
    assert len(fake.calls("POST", r"/upload/.*")) == 1

    clock.advance(minutes=31)
    with pytest.raises(PermanentError, match="still processing"):
        adapter.publish(channel(), again(req, progress))


# -- errors ----------------------------------------------------------------------------------------------------

def test_a_rate_limit_is_retried_after_the_reset_pinterest_names(adapter, fake):
    fake.fail("POST", "/v5/pins", 429, load_event("pinterest", "error_rate_limited.json"),
              {"x-ratelimit-limit": "100", "x-ratelimit-remaining": "0", "x-ratelimit-reset": "42"})
    with pytest.raises(RetryableError) as raised:
        adapter.publish(channel(), request(media=(image(fake),)))
    assert raised.value.retry_after_s == 42


def test_the_documented_answers_are_read_as_documented(adapter, fake):
    documented = load_event("pinterest", "media_registered.json")
    progress = Progress()
    req = request(media=(video(), image(fake, "c.jpg")), progress=progress)
    with pytest.raises(StillProcessing):
        adapter.publish(channel(), req)
    [media] = fake.media.values()
    assert len(fake.calls("POST", "/v5/media")) == 1
    assert set(documented["upload_parameters"]) <= set(_last_upload_fields(fake))

    fake.fail("POST", "/v5/pins", 201, load_event("pinterest", "pin_created.json"))
    fake.settle()
    result = adapter.publish(channel(), again(req, progress))
    assert result.remote_id == "813744226420795884"
    assert result.remote_url == "https://www.pinterest.com/pin/813744226420795884/"
    assert media.status == "succeeded"


def _last_upload_fields(fake: PinterestApi) -> list[str]:
    from tests.fakes.pinterest_api import _multipart

    return list(_multipart(fake.calls("POST", r"/upload/.*")[-1]))


def test_a_refused_token_is_refreshed_once_then_an_auth_error(adapter, fake):
    refreshed: list[int] = []

    def refresh() -> dict[str, str]:
        refreshed.append(1)
        fake.tokens["pina_new"] = USER_ID
        return {"access_token": "pina_new"}

    ch = channel(token="pina_expired")
    ch.refresh_credentials = refresh
    adapter.publish(ch, request(media=(image(fake),)))
    assert refreshed == [1] and len(fake.published()) == 1

    with pytest.raises(AuthError):
        adapter.publish(channel(token="pina_revoked"), request(media=(image(fake),)))


def test_a_server_error_is_retryable_and_a_lost_answer_ambiguous(adapter, fake):
    fake.fail("POST", "/v5/pins", 503, {"code": 0, "message": "Service unavailable"})
    with pytest.raises(RetryableError):
        adapter.publish(channel(), request(media=(image(fake),)))
    fake.drop_after("POST", "/v5/pins")
    with pytest.raises(AmbiguousError):
        adapter.publish(channel(), request(media=(image(fake, "x.jpg"),)))


# -- looking before a retry -------------------------------------------------------------------------------------

def test_find_published_finds_the_pin_whose_answer_was_lost(adapter, fake):
    req = request(media=(image(fake),), options={"title": "Autumn"}, first_attempt_at=START)
    fake.drop_after("POST", "/v5/pins")
    with pytest.raises(AmbiguousError):
        adapter.publish(channel(), req)

    found = adapter.find_published(channel(), req)

    [pin] = fake.published()
    assert found is not None and found.remote_id == pin.pin_id


def test_find_published_is_none_when_the_pin_is_absent_and_ambiguous_when_it_cannot_tell(adapter, fake):
    req = request(media=(image(fake),), first_attempt_at=START)
    assert adapter.find_published(channel(), req) is None

    for index in range(pinterest.PINS_PAGE + 1):  # a full page of other recent pins
        adapter.publish(channel(), request(text=f"other {index}", media=(image(fake, f"{index}.jpg"),)))
    with pytest.raises(AmbiguousError):
        adapter.find_published(channel(), req)


# -- rules and options -------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("req", "field", "words"), [
    (PublishRequest("d", "x" * 801, (MediaItem("image/jpeg"),)), "text", "800"),
    (PublishRequest("d", "hi"), "media", "needs an image or a video"),
    (PublishRequest("d", "hi", (MediaItem("image/jpeg"), MediaItem("image/png"))), "media", "one image"),
    (PublishRequest("d", "hi", (MediaItem("image/jpeg"), MediaItem("video/mp4"))), "media", "video pin"),
    (PublishRequest("d", "hi", (MediaItem("application/pdf"),)), "media.0", "not accepted"),
    (PublishRequest("d", "hi", (MediaItem("image/jpeg", size=21 * 1024 * 1024),)), "media.0", "20 MB"),
    (PublishRequest("d", "hi", (MediaItem("video/mp4", duration_s=2),)), "media.0", "4 seconds"),
    (PublishRequest("d", "hi", (MediaItem("video/mp4", duration_s=20),)), "media", "needs a cover"),
    (PublishRequest("d", "hi", (MediaItem("image/jpeg"),), options={"title": "t" * 101}), "options.title", "100"),
    (PublishRequest("d", "hi", (MediaItem("image/jpeg"),), options={"alt_text": "a" * 501}), "options.alt_text",
     "500"),
    (PublishRequest("d", "hi", (MediaItem("image/jpeg"),), options={"board_id": "abc"}), "options.board_id",
     "digits"),
    (PublishRequest("d", "hi", (MediaItem("image/jpeg"),), options={"board_section_id": "1"}),
     "options.board_section_id", "needs its board_id"),
    (PublishRequest("d", "hi", (MediaItem("image/jpeg"),), options={"privacy": "x"}), "options.privacy",
     "not a Pinterest option"),
    (PublishRequest("d", "hi", (MediaItem("image/jpeg"),), thread=(ThreadPart("more"),)), "thread", "no threads"),
])
def test_content_problems_name_the_field_and_the_rule(req, field, words):
    problems = pinterest.content_problems(req)
    assert any(p.field == field and words in p.message for p in problems), problems


def test_a_valid_pin_has_no_problems_and_the_registry_row_agrees():
    req = PublishRequest("d", "hi", (MediaItem("video/mp4", duration_s=30), MediaItem("image/png")),
                         options={"board_id": BOARD, "title": "T", "link": "https://x.example"})
    assert pinterest.content_problems(req) == []
    assert limits_for("pinterest").max_text == 800
    spec = NETWORKS["pinterest"]
    assert spec.account_setting == "user_id" and spec.credential_fields == ("access_token",)
    assert spec.settings_model.model_validate({"board_id": BOARD}).board_id == BOARD


# -- connecting ------------------------------------------------------------------------------------------------

def test_describe_account_checks_the_channel_board_belongs_to_the_account(adapter, fake):
    assert adapter.describe_account(channel()) == {"handle": "heraldcoffee", "account_id": USER_ID}
    with pytest.raises(PermanentError, match="not one of this Pinterest account's boards"):
        adapter.describe_account(channel(board="31337"))


def test_oauth_url_exchange_refresh_and_accounts(fake, clock):
    oauth = pinterest.make_oauth(clock=clock, api_url=fake.api_url)
    url = oauth.authorize_url(APP, "https://app.example/cb", "state123", None)
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == "https://www.pinterest.com/oauth/"
    assert query == {"client_id": APP.client_id, "redirect_uri": "https://app.example/cb", "response_type": "code",
                     "scope": "boards:read,pins:read,pins:write,user_accounts:read", "state": "state123"}

    fake.authorization_code("code1", "https://app.example/cb", USER_ID)
    grant = oauth.exchange_code(APP, "code1", "https://app.example/cb", None)
    assert grant.refresh_token and grant.expires_at == START + timedelta(days=30)
    assert grant.refresh_expires_at == START + timedelta(days=365)

    [account] = oauth.granted_accounts(APP, grant)
    assert (account.account_id, account.handle) == (USER_ID, "heraldcoffee")
    assert account.credentials["refresh_token"] == grant.refresh_token
    assert account.settings == {"user_id": USER_ID}  # two boards: the channel names one

    renewed = oauth.refresh(APP, {"refresh_token": grant.refresh_token})
    assert renewed.access_token != grant.access_token
    fake.revoke(str(grant.refresh_token))
    with pytest.raises(AuthError):
        oauth.refresh(APP, {"refresh_token": grant.refresh_token})
    fake.fail("POST", "/v5/oauth/token", 503, {"code": 0, "message": "down"})
    with pytest.raises(RetryableError):
        oauth.refresh(APP, {"refresh_token": "anything"})
    with pytest.raises(PermanentError):
        oauth.exchange_code(APP, "spent", "https://app.example/cb", None)
    assert fake.violations == []


def test_an_account_with_one_board_gets_it_as_the_channel_board(fake, clock):
    fake.account("pina_single", "1108000000000888", "oneboard", {"5559999": []})
    oauth = pinterest.make_oauth(clock=clock, api_url=fake.api_url)
    fake.authorization_code("code2", "https://app.example/cb", "1108000000000888")
    [account] = oauth.granted_accounts(APP, oauth.exchange_code(APP, "code2", "https://app.example/cb", None))
    assert account.settings == {"user_id": "1108000000000888", "board_id": "5559999"}
