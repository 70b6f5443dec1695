"""The Telegram adapter against the local Bot API (tests/fakes/telegram_api.py)."""
from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

import pytest

from chalicelib.core.clock import FixedClock
from chalicelib.networks.base import (
    AmbiguousError,
    AuthError,
    ChannelContext,
    MediaItem,
    PermanentError,
    PublishRequest,
    RetryableError,
)
from chalicelib.networks.registry import NETWORKS, TelegramCredentials, TelegramSettings
from chalicelib.networks.telegram import LIMITS, content_problems, make_adapter, message_link
from tests.fakes.multipart_form import parse_form
from tests.fakes.telegram_api import BOT_TOKEN, CHANNEL_ID, TelegramApi
from tests.functional.networks.contract.cases import telegram as telegram_case
from tests.functional.networks.contract.cases.telegram import JPEG, MP4, PDF, streamed
from tests.support.events import load_event

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def api() -> Any:
    with TelegramApi() as fake:
        yield fake
    assert fake.violations == []


@pytest.fixture
def adapter(api: TelegramApi) -> Any:
    return make_adapter(clock=FixedClock(NOW), base_url=api.url)


def channel(**settings: Any) -> ChannelContext:
    return ChannelContext("ws_1", "ch_1", "telegram", {"chat_id": str(CHANNEL_ID), **settings},
                          {"bot_token": BOT_TOKEN})


class Progress:
    def __init__(self) -> None:
        self.saved: list[dict[str, Any]] = []

    def __call__(self, progress: Any) -> None:
        self.saved.append(dict(progress))


def request(text: str = "Fresh beans today", media: tuple[MediaItem, ...] = (), progress: Any = None,
            record: Any = None, **options: Any) -> PublishRequest:
    return PublishRequest(delivery_id="dl_1", text=text, media=media, options=options, progress=progress or {},
                          record_progress=record or (lambda _p: None))


def never_loaded() -> bytes:
    raise AssertionError("a video is streamed, never loaded whole")


# -- text --------------------------------------------------------------------------------------------------------

def test_a_text_post_is_one_sendmessage_and_links_to_the_channel_message(api, adapter):
    record = Progress()
    result = adapter.publish(channel(), request(record=record))

    [call] = api.calls("POST", r"/bot[^/]+/sendMessage")
    assert call.json() == {"chat_id": str(CHANNEL_ID), "text": "Fresh beans today"}
    assert result.remote_id == str(api.messages[0]["message_id"])
    assert result.remote_url == f"https://t.me/heraldnews/{result.remote_id}"
    assert record.saved == [{"message_ids": [int(result.remote_id)], "chat_username": "heraldnews",
                             "date": api.messages[0]["date"]}]


def test_options_silent_protected_html_without_preview_reach_telegram(api, adapter):
    adapter.publish(channel(), request("<b>Sale</b> https://shop.example", silent=True, protect_content=True,
                                       parse_mode="HTML", disable_link_preview=True))

    sent = api.calls("POST", r"/bot[^/]+/sendMessage")[0].json()
    assert sent["disable_notification"] is True and sent["protect_content"] is True
    assert sent["parse_mode"] == "HTML"
    assert sent["link_preview_options"] == {"is_disabled": True}


def test_a_link_is_added_to_the_text_and_previewed(api, adapter):
    post = PublishRequest(delivery_id="dl_1", text="Our menu", link="https://cafe.example/menu")
    adapter.publish(channel(), post)

    sent = api.calls("POST", r"/bot[^/]+/sendMessage")[0].json()
    assert sent["text"] == "Our menu\n\nhttps://cafe.example/menu"
    assert sent["link_preview_options"] == {"url": "https://cafe.example/menu"}


# -- files -------------------------------------------------------------------------------------------------------

def test_a_photo_is_uploaded_as_multipart_with_its_caption(api, adapter):
    adapter.publish(channel(), request("A cup", (streamed("image/jpeg", JPEG),), silent=True))

    [call] = api.calls("POST", r"/bot[^/]+/sendPhoto")
    fields, files = parse_form(call.headers["content-type"], call.body)
    assert fields == {"chat_id": str(CHANNEL_ID), "caption": "A cup", "disable_notification": "true"}
    assert files["photo"].data == JPEG and files["photo"].content_type == "image/jpeg"
    assert int(call.headers["content-length"]) == len(call.body)


def test_a_video_is_streamed_never_loaded_whole(api, adapter):
    chunks: list[int] = []

    def stream(size: int) -> Any:
        for start in range(0, len(MP4), size):
            chunks.append(start)
            yield MP4[start:start + size]

    video = MediaItem(mime="video/mp4", size=len(MP4), stream=stream, load=never_loaded, duration_s=12.5,
                      width=1080, height=1920)
    adapter.publish(channel(), request("Roasting", (video,)))

    [call] = api.calls("POST", r"/bot[^/]+/sendVideo")
    fields, files = parse_form(call.headers["content-type"], call.body)
    assert files["video"].data == MP4
    assert fields["supports_streaming"] == "true"
    assert (fields["width"], fields["height"], fields["duration"]) == ("1080", "1920", "12")
    assert chunks


@pytest.mark.parametrize(("mime", "data", "method"), [("application/pdf", PDF, "sendDocument"),
                                                       ("image/gif", b"GIF89a" + JPEG, "sendAnimation")])
def test_documents_and_gifs_use_their_own_methods(api, adapter, mime, data, method):
    adapter.publish(channel(), request("See attached", (streamed(mime, data),)))

    [call] = api.calls("POST", rf"/bot[^/]+/{method}")
    assert list(parse_form(call.headers["content-type"], call.body)[1].values())[0].data == data


def test_an_album_is_one_sendmediagroup_with_the_caption_on_its_first_item(api, adapter):
    media = (streamed("image/jpeg", JPEG), streamed("video/mp4", MP4), streamed("image/png", b"\x89PNG" + JPEG))
    result = adapter.publish(channel(), request("Our week", media, parse_mode="MarkdownV2"))

    [call] = api.calls("POST", r"/bot[^/]+/sendMediaGroup")
    fields, files = parse_form(call.headers["content-type"], call.body)
    sent = json.loads(fields["media"])
    assert [item["type"] for item in sent] == ["photo", "video", "photo"]
    assert [item["media"] for item in sent] == ["attach://file0", "attach://file1", "attach://file2"]
    assert sent[0]["caption"] == "Our week" and sent[0]["parse_mode"] == "MarkdownV2"
    assert "caption" not in sent[1]
    assert [files[f"file{i}"].data for i in range(3)] == [JPEG, MP4, b"\x89PNG" + JPEG]
    assert result.remote_id == str(api.messages[0]["message_id"])
    assert len(api.messages) == 3


# -- continuing, looking before a retry ------------------------------------------------------------------------

def test_a_post_whose_ids_were_recorded_is_not_sent_again(api, adapter):
    record = Progress()
    first = adapter.publish(channel(), request(record=record))

    again = adapter.publish(channel(), request(progress=record.saved[-1]))

    assert again.remote_id == first.remote_id
    assert len(api.calls("POST", r"/bot[^/]+/sendMessage")) == 1


def test_a_lost_answer_is_ambiguous_and_cannot_be_looked_for(api, adapter):
    api.drop_after("POST", r"/bot[^/]+/sendMessage")
    with pytest.raises(AmbiguousError):
        adapter.publish(channel(), request())

    with pytest.raises(AmbiguousError, match="cannot tell"):
        adapter.find_published(channel(), request())
    assert len(api.messages) == 1  # it did go out: a person checks (the delivery is `unknown`)


def test_find_published_answers_the_recorded_post(api, adapter):
    found = adapter.find_published(channel(), request(progress={"message_ids": [41, 42], "chat_username": ""}))

    assert found is not None and found.remote_id == "41"
    assert found.remote_url == "https://t.me/c/1234567890/41"
    assert api.requests == []


# -- errors ------------------------------------------------------------------------------------------------------

def test_429_is_retried_after_what_telegram_says(api, adapter):
    api.fail_next("sendMessage", 429, "Too Many Requests: retry after 35", retry_after=35)
    with pytest.raises(RetryableError) as caught:
        adapter.publish(channel(), request())
    assert caught.value.retry_after_s == 35


@pytest.mark.parametrize(("status", "description"), [(401, "Unauthorized"),
                                                      (403, "Forbidden: bot was kicked from the channel chat"),
                                                      (403, "Forbidden: bot is not a member of the channel chat"),
                                                      (400, "Bad Request: need administrator rights in the "
                                                            "channel chat")])
def test_a_revoked_token_or_a_removed_bot_needs_the_channel_reconnected(api, adapter, status, description):
    api.fail_next("sendMessage", status, description)
    with pytest.raises(AuthError) as caught:
        adapter.publish(channel(), request())
    assert "reconnect" in caught.value.message


@pytest.mark.parametrize(("description", "said"), [("Bad Request: chat not found", "cannot find this chat"),
                                                    ("Bad Request: message is too long", "longer than the 4096"),
                                                    ("Bad Request: can't parse entities: Unsupported start tag",
                                                     "formatting")])
def test_refusals_are_failures_a_person_understands(api, adapter, description, said):
    api.fail_next("sendMessage", 400, description)
    with pytest.raises(PermanentError) as caught:
        adapter.publish(channel(), request())
    assert said in caught.value.message


def test_a_group_upgraded_to_a_supergroup_names_the_new_chat(api, adapter):
    api.fail_next("sendMessage", 400, "Bad Request: group chat was upgraded to a supergroup chat",
                  migrate_to_chat_id=-1009876543210)
    with pytest.raises(PermanentError, match="-1009876543210"):
        adapter.publish(channel(), request())


def test_the_token_is_in_no_error_and_no_log_line(api, adapter, caplog):
    caplog.set_level(logging.DEBUG)
    wrong = ChannelContext("ws_1", "ch_1", "telegram", {"chat_id": str(CHANNEL_ID)},
                           {"bot_token": "999:WRONG-token-never-shown-anywhere"})
    messages = []
    for context in (wrong, channel()):
        api.fail_next("sendMessage", 500, "Internal Server Error")
        for _ in range(2):
            try:
                adapter.publish(context, request())
            except Exception as error:  # noqa: BLE001 - every failure's text is checked
                messages.append(str(error))
    assert messages and not any("WRONG-token" in m or BOT_TOKEN in m for m in messages)
    assert "WRONG-token" not in caplog.text and BOT_TOKEN.split(":")[1] not in caplog.text
    assert "/bot[redacted]/sendMessage" in caplog.text  # urllib3 logged the request, without the token


# -- connecting --------------------------------------------------------------------------------------------------

def test_connecting_checks_the_token_the_chat_and_the_bots_rights(api, adapter):
    described = adapter.describe_account(channel(chat_id="@heraldnews"))

    assert described == {"account_id": str(CHANNEL_ID), "handle": "@heraldnews", "chat_id": str(CHANNEL_ID),
                         "chat_type": "channel", "chat_username": "heraldnews", "bot_username": "herald_test_bot"}
    assert [r.path.rsplit("/", 1)[1] for r in api.requests] == ["getMe", "getChat", "getChatMember"]


@pytest.mark.parametrize(("member", "said"), [({"status": "member"}, "not an administrator"),
                                              ({"status": "administrator", "can_post_messages": False},
                                               "may not post"),
                                              ({"status": "left"}, "not an administrator")])
def test_a_bot_that_may_not_post_is_refused_on_connect(api, adapter, member, said):
    api.member = member
    with pytest.raises(PermanentError, match=said):
        adapter.describe_account(channel())


def test_a_private_chat_or_an_unknown_chat_is_refused_on_connect(api, adapter):
    with pytest.raises(PermanentError, match="cannot find this chat"):
        adapter.describe_account(channel(chat_id="-100555"))
    api.chat = {"id": 555, "type": "private", "first_name": "Ann"}
    with pytest.raises(PermanentError, match="private chat"):
        adapter.describe_account(channel(chat_id="555"))


def test_a_wrong_token_is_refused_on_connect(api, adapter):
    wrong = ChannelContext("ws_1", "ch_1", "telegram", {"chat_id": str(CHANNEL_ID)},
                           {"bot_token": "999:WRONG-token-never-shown-anywhere"})
    with pytest.raises(AuthError):
        adapter.describe_account(wrong)


def test_the_registry_row_checks_the_token_and_chat_shapes():
    spec = NETWORKS["telegram"]
    assert spec.credential_fields == ("bot_token",)
    TelegramCredentials.model_validate({"bot_token": BOT_TOKEN})
    for bad in ("no-colon", "123:short", f"{BOT_TOKEN}/../x"):
        with pytest.raises(ValueError):
            TelegramCredentials.model_validate({"bot_token": bad})
    TelegramSettings.model_validate({"chat_id": "@heraldnews"})
    with pytest.raises(ValueError):
        TelegramSettings.model_validate({"chat_id": "heraldnews"})


# -- rules -------------------------------------------------------------------------------------------------------

def jpeg(**extra: Any) -> MediaItem:
    return MediaItem(mime="image/jpeg", size=1000, **extra)


@pytest.mark.parametrize(("post", "field", "said"), [
    (request("a" * 4097), "text", "4096"),
    (request("😀" * 2049), "text", "UTF-16"),
    (request("a" * 1025, (jpeg(),)), "text", "1024"),
    (request(" "), "text", "needs text"),
    (request("x", tuple(jpeg() for _ in range(11))), "media", "2 to 10"),
    (request("x", (jpeg(), MediaItem(mime="application/pdf"))), "media", "documents only"),
    (request("x", (jpeg(), MediaItem(mime="image/gif"))), "media", "GIF"),
    (request("x", (MediaItem(mime="image/jpeg", size=11 * 1024 * 1024),)), "media.0", "10 MB"),
    (request("x", (MediaItem(mime="video/mp4", size=51 * 1024 * 1024),)), "media.0", "50 MB"),
    (request("x", (jpeg(width=9000, height=2000),)), "media.0", "10000"),
    (request("x", (jpeg(width=2100, height=100),)), "media.0", "20:1"),
    (request("x", (MediaItem(mime="audio/mpeg"),)), "media.0", "not a kind"),
    (request("x", parse_mode="BBCode"), "options.parse_mode", "Telegram option"),
    (request("x", silent="yes"), "options.silent", "Telegram option"),
    (request("x", pin=True), "options.pin", "Telegram option"),
])
def test_content_problems_name_the_field_and_the_rule(post, field, said):
    problems = content_problems(post)
    assert [p.field for p in problems] == [field], problems
    assert said in problems[0].message and "Telegram" in problems[0].message


def test_html_markup_is_not_counted_and_valid_posts_have_no_problems():
    assert content_problems(request("<b>" + "a" * 4096 + "</b>", parse_mode="HTML")) == []
    assert content_problems(request("x", (jpeg(), MediaItem(mime="video/mp4")), silent=True)) == []
    assert content_problems(request("x", (MediaItem(mime="application/pdf"),) * 2)) == []
    assert LIMITS.max_text == 4096 and LIMITS.text_counting == "utf16" and LIMITS.max_media == 10


def test_threads_and_first_comments_are_refused():
    post = PublishRequest(delivery_id="d", text="x", first_comment="hi")
    assert [p.field for p in content_problems(post)] == ["first_comment"]


def test_message_links():
    assert message_link("-1001234", "news", 5) == "https://t.me/news/5"
    assert message_link("-1001234", "", 5) == "https://t.me/c/1234/5"
    assert message_link("-4321", "", 5) is None


def test_the_documented_answers_are_what_the_adapter_reads():
    sent = load_event("telegram", "send_message_result.json")
    assert sent["ok"] is True and sent["result"]["chat"]["type"] == "channel"
    limited = load_event("telegram", "error_429.json")
    assert limited["parameters"]["retry_after"] > 0


# -- the contract row, driven here until the shared runner exists ------------------------------------------------

def test_the_contract_case_runs_every_scenario():
    with telegram_case.start(FixedClock(NOW)) as case:
        adapter, ch = case.adapter(), case.channel()
        adapter.publish(ch, case.request("dl_text", "hello"))
        for index, kind in enumerate(case.media_kinds):
            adapter.publish(ch, case.request(f"dl_{index}", f"media {kind}", kind))
        assert len(case.published()) == 1 + len(case.media_kinds)
        assert content_problems(case.request("dl_long", case.too_long_text()))
        for kind, error in (("throttled", RetryableError), ("revoked", AuthError), ("rejected", PermanentError)):
            case.script_error(kind)
            with pytest.raises(error):
                adapter.publish(ch, case.request(f"dl_{kind}", "scripted"))
        before = len(case.published())
        case.drop_next_publish()
        with pytest.raises(AmbiguousError):
            adapter.publish(ch, case.request("dl_lost", "lost answer"))
        assert not case.looks_before_retry
        with pytest.raises(AmbiguousError):
            adapter.find_published(ch, case.request("dl_lost", "lost answer"))
        assert len(case.published()) == before + 1
        assert case.fake.violations == []
