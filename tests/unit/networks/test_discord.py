"""The Discord webhook adapter against the local Discord API (tests/fakes/discord_api.py)."""
from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

import pytest

from chalicelib.core.clock import FixedClock
from chalicelib.core.errors import ValidationFailed
from chalicelib.core.outbound import ALLOW_LOCAL_PEERS, OutboundPolicy
from chalicelib.networks.base import (
    AmbiguousError,
    AuthError,
    ChannelContext,
    MediaItem,
    PermanentError,
    PublishRequest,
    RetryableError,
)
from chalicelib.networks.discord import LIMITS, content_problems, make_adapter, parse_webhook
from tests.fakes.discord_api import CHANNEL_ID, GUILD_ID, WEBHOOK_ID, WEBHOOK_TOKEN, DiscordApi
from tests.fakes.multipart_form import parse_form
from tests.functional.networks.contract.cases import discord as discord_case
from tests.functional.networks.contract.cases.telegram import JPEG, MP4, streamed
from tests.support.events import load_event

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
EXECUTE = r"/api/v10/webhooks/[0-9]+/[^/]+"


@pytest.fixture
def api() -> Any:
    with DiscordApi() as fake:
        yield fake
    assert fake.violations == []


@pytest.fixture
def adapter(api: DiscordApi) -> Any:
    return make_adapter(clock=FixedClock(NOW), base_url=f"{api.url}/api", policy=ALLOW_LOCAL_PEERS)


@pytest.fixture
def channel(api: DiscordApi) -> ChannelContext:
    return ChannelContext("ws_1", "ch_1", "discord", {"webhook_id": WEBHOOK_ID, "channel_id": CHANNEL_ID,
                                                      "guild_id": GUILD_ID}, {"webhook_url": api.webhook_url()})


class Progress:
    def __init__(self) -> None:
        self.saved: list[dict[str, Any]] = []

    def __call__(self, progress: Any) -> None:
        self.saved.append(dict(progress))


def request(text: str = "New roast is out @everyone", media: tuple[MediaItem, ...] = (), progress: Any = None,
            record: Any = None, **options: Any) -> PublishRequest:
    return PublishRequest(delivery_id="dl_1", text=text, media=media, options=options, progress=progress or {},
                          record_progress=record or (lambda _p: None))


# -- publishing --------------------------------------------------------------------------------------------------

def test_a_text_post_waits_for_the_message_and_never_pings_anyone(api, adapter, channel):
    record = Progress()
    result = adapter.publish(channel, request(record=record))

    [call] = api.calls("POST", EXECUTE)
    assert call.arg("wait") == "true"
    assert call.json() == {"content": "New roast is out @everyone", "allowed_mentions": {"parse": []}}
    message_id = api.messages[0]["id"]
    assert result.remote_id == message_id
    assert result.remote_url == f"https://discord.com/channels/{GUILD_ID}/{CHANNEL_ID}/{message_id}"
    assert record.saved[0]["message_id"] == message_id


def test_options_override_the_name_and_avatar_add_embeds_and_suppress_previews(api, adapter, channel):
    embed = {"title": "Spring menu", "description": "Three new drinks", "color": 0x8B4513,
             "fields": [{"name": "Price", "value": "4 EUR", "inline": True}], "footer": {"text": "Herald"}}
    adapter.publish(channel, request("Menu https://cafe.example", username="Cafe Bot",
                                     avatar_url="https://cdn.example/a.png", embeds=[embed], suppress_embeds=True,
                                     thread_name="Spring menu"))

    sent = api.calls("POST", EXECUTE)[0].json()
    assert sent["username"] == "Cafe Bot" and sent["avatar_url"] == "https://cdn.example/a.png"
    assert sent["embeds"] == [embed]
    assert sent["flags"] == 4  # SUPPRESS_EMBEDS
    assert sent["thread_name"] == "Spring menu"


def test_files_go_as_payload_json_and_files_n_streamed(api, adapter, channel):
    def never_loaded() -> bytes:
        raise AssertionError("files are streamed")

    video = MediaItem(mime="video/mp4", size=len(MP4), load=never_loaded,
                      stream=lambda size: iter([MP4[i:i + size] for i in range(0, len(MP4), size)]))
    adapter.publish(channel, request("Two files", (streamed("image/jpeg", JPEG, alt="a cup"), video)))

    [call] = api.calls("POST", EXECUTE)
    fields, files = parse_form(call.headers["content-type"], call.body)
    payload = json.loads(fields["payload_json"])
    assert payload["content"] == "Two files" and payload["allowed_mentions"] == {"parse": []}
    assert payload["attachments"] == [{"id": 0, "filename": "media0.jpg", "description": "a cup"},
                                      {"id": 1, "filename": "media1.mp4"}]
    assert files["files[0]"].data == JPEG and files["files[1]"].data == MP4
    assert int(call.headers["content-length"]) == len(call.body)


def test_a_recorded_message_is_not_posted_again(api, adapter, channel):
    record = Progress()
    first = adapter.publish(channel, request(record=record))

    again = adapter.publish(channel, request(progress=record.saved[-1]))

    assert again.remote_id == first.remote_id and len(api.calls("POST", EXECUTE)) == 1


# -- looking before a retry --------------------------------------------------------------------------------------

def test_a_lost_answer_is_ambiguous_and_without_an_id_cannot_be_looked_for(api, adapter, channel):
    api.drop_after("POST", EXECUTE)
    with pytest.raises(AmbiguousError):
        adapter.publish(channel, request())

    with pytest.raises(AmbiguousError, match="cannot tell"):
        adapter.find_published(channel, request())
    assert len(api.messages) == 1


def test_a_recorded_id_is_confirmed_by_get_webhook_message(api, adapter, channel):
    record = Progress()
    adapter.publish(channel, request(record=record))

    found = adapter.find_published(channel, request(progress=record.saved[-1]))

    assert found is not None and found.remote_id == api.messages[0]["id"]
    assert len(api.calls("GET", EXECUTE + r"/messages/[0-9]+")) == 1


# -- errors ------------------------------------------------------------------------------------------------------

def test_429_is_retried_after_discords_retry_after(api, adapter, channel):
    api.fail("POST", EXECUTE, 429, {"message": "You are being rate limited.", "retry_after": 2.5, "global": False},
             {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset-After": "2.5"})
    with pytest.raises(RetryableError) as caught:
        adapter.publish(channel, request())
    assert caught.value.retry_after_s == 2.5


def test_429_without_a_body_wait_uses_the_rate_limit_headers(api, adapter, channel):
    api.fail("POST", EXECUTE, 429, {"message": "You are being rate limited."}, {"X-RateLimit-Reset-After": "4"})
    with pytest.raises(RetryableError) as caught:
        adapter.publish(channel, request())
    assert caught.value.retry_after_s == 4.0


def test_a_deleted_webhook_needs_the_channel_reconnected(api, adapter, channel):
    api.deleted = True
    with pytest.raises(AuthError, match="no longer exists"):
        adapter.publish(channel, request())


def test_invalid_form_body_says_which_field(api, adapter, channel):
    api.fail("POST", EXECUTE, 400, {"message": "Invalid Form Body", "code": 50035, "errors": {"embeds": {"0": {
        "title": {"_errors": [{"code": "BASE_TYPE_MAX_LENGTH", "message": "Must be 256 or fewer in length."}]}}}}})
    with pytest.raises(PermanentError, match=r"embeds\.0\.title: Must be 256"):
        adapter.publish(channel, request())


def test_a_forum_webhook_without_a_thread_name_says_what_to_set(api, adapter, channel):
    api.fail("POST", EXECUTE, 400, {"message": "Webhooks posted to forum channels must have a thread_name or "
                                               "thread_id", "code": 220001})
    with pytest.raises(PermanentError, match="thread_name"):
        adapter.publish(channel, request())


def test_the_webhook_token_is_in_no_error_and_no_log_line(api, adapter, channel, caplog):
    caplog.set_level(logging.DEBUG)
    messages = []
    api.fail("POST", EXECUTE, 500, {"message": "oops"})
    api.deleted = False
    for _ in range(2):
        try:
            adapter.publish(channel, request())
        except Exception as error:  # noqa: BLE001 - every failure's text is checked
            messages.append(str(error))
    api.deleted = True
    try:
        adapter.publish(channel, request())
    except AuthError as error:
        messages.append(str(error))
    assert len(messages) == 2 and not any(WEBHOOK_TOKEN in m for m in messages)
    assert WEBHOOK_TOKEN not in caplog.text
    assert f"/webhooks/{WEBHOOK_ID}/[redacted]" in caplog.text


# -- connecting --------------------------------------------------------------------------------------------------

def test_connecting_reads_the_webhooks_channel_and_guild_and_keeps_no_token(api, adapter, channel):
    described = adapter.describe_account(channel)

    assert described == {"account_id": WEBHOOK_ID, "handle": "Herald announcements", "webhook_id": WEBHOOK_ID,
                         "channel_id": CHANNEL_ID, "guild_id": GUILD_ID}
    assert WEBHOOK_TOKEN not in json.dumps(described)


@pytest.mark.parametrize("url", [
    "https://evil.example/api/webhooks/1/abc",
    "http://discord.com/api/webhooks/1/abc",
    "https://discord.com/api/channels/1/messages",
    "https://discord.com/api/webhooks/1/abc?wait=false",
    "https://discord.com/api/webhooks/abc/def",
])
def test_only_a_discord_webhook_url_is_accepted(url):
    with pytest.raises(PermanentError):
        parse_webhook(url)


def test_real_webhook_urls_are_accepted_on_the_default_host():
    for url in ("https://discord.com/api/webhooks/123/tok_en-1", "https://discordapp.com/api/webhooks/123/tok",
                "https://discord.com/api/v10/webhooks/123/tok", "https://canary.discord.com/api/webhooks/123/tok"):
        assert parse_webhook(url)[0] == "123"


def test_a_local_webhook_url_needs_the_private_address_exception(api):
    url = api.webhook_url()
    with pytest.raises(PermanentError, match="refused"):
        parse_webhook(url, f"{api.url}/api", OutboundPolicy())
    assert parse_webhook(url, f"{api.url}/api", ALLOW_LOCAL_PEERS) == (WEBHOOK_ID, WEBHOOK_TOKEN)


def test_a_wrong_webhook_url_is_a_422_on_connect_that_does_not_repeat_it(api, adapter):
    wrong = ChannelContext("ws_1", "ch_1", "discord", {}, {"webhook_url": "https://evil.example/api/webhooks/1/x"})
    with pytest.raises(ValidationFailed) as caught:
        adapter.describe_account(wrong)
    assert "evil.example" not in str(caught.value)
    assert api.requests == []


def test_a_deleted_webhook_is_refused_on_connect(api, adapter, channel):
    api.deleted = True
    with pytest.raises(AuthError):
        adapter.describe_account(channel)


# -- rules -------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("post", "field", "said"), [
    (request("a" * 2001), "text", "2000"),
    (request(""), "text", "needs text"),
    (request("x", tuple(MediaItem(mime="image/png", size=10) for _ in range(11))), "media", "10"),
    (request("x", (MediaItem(mime="video/mp4", size=26 * 1024 * 1024),)), "media", "25 MiB"),
    (request("x", (MediaItem(mime="application/x-msdownload"),)), "media.0", "not a kind"),
    (request("x", embeds=[{"title": "t" * 257}]), "options.embeds.0.title", "Discord option"),
    (request("x", embeds=[{"description": "d"}] * 11), "options.embeds", "Discord option"),
    (request("x", embeds=[{"description": "d" * 4000}, {"description": "d" * 2500}]), "options.embeds", "6000"),
    (request("x", username="Discord Bot"), "options.username", "discord"),
    (request("x", mention_everyone=True), "options.mention_everyone", "Discord option"),
])
def test_content_problems_name_the_field_and_the_rule(post, field, said):
    problems = content_problems(post)
    assert [p.field for p in problems] == [field], problems
    assert said in problems[0].message and "Discord" in problems[0].message


def test_an_embed_only_post_is_valid():
    assert content_problems(request("", embeds=[{"title": "Hello"}])) == []
    assert LIMITS.max_text == 2000 and LIMITS.max_media == 10


def test_the_documented_answers_are_what_the_adapter_reads():
    assert "token" in load_event("discord", "get_webhook_with_token.json")
    assert load_event("discord", "execute_webhook_wait_message.json")["id"]
    assert load_event("discord", "error_429.json")["retry_after"] > 0


# -- the contract row, driven here until the shared runner exists ------------------------------------------------

def test_the_contract_case_runs_every_scenario():
    with discord_case.start(FixedClock(NOW)) as case:
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
