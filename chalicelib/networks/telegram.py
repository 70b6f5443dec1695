"""Telegram (Bot API): posts to a channel or group where the channel's bot is an administrator.

A post is one call: `sendMessage` (text), `sendPhoto` / `sendVideo` / `sendDocument` / `sendAnimation` (one
file with a caption), or `sendMediaGroup` (an album of 2 to 10 photos and videos, or of documents only).
Files are uploaded as multipart/form-data streamed from `MediaItem.stream`. The message ids Telegram answers
are recorded in the delivery's progress before `publish` returns, so a retry after a crash never posts twice.

The bot token is the credential and is part of every URL path (`/bot<token>/<method>`): no error message or
log line here ever contains a URL, and the token never appears in what is raised (http_failures.send says
only the network's own description). Telegram cannot list a channel's history to a bot, so after a lost
answer Herald cannot look: `find_published` raises AmbiguousError and the engine settles `unknown`.

Sources are cited in tests/events/telegram/README.md.
"""
from __future__ import annotations

import html
import json
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from chalicelib.core.clock import Clock, SystemClock
from chalicelib.networks import redact
from chalicelib.networks.base import (
    FIRST_URL,
    AmbiguousError,
    AuthError,
    ChannelContext,
    ChannelInsights,
    ContentProblem,
    MediaItem,
    NetworkLimits,
    PermanentError,
    PollResult,
    PublicProfile,
    PublishRequest,
    PublishResult,
    RateBudget,
    ReplyRequest,
)
from chalicelib.networks.http_failures import ErrorDetail, object_at, read_json, send
from chalicelib.networks.multipart import MultipartBody, media_part
from chalicelib.networks.text import utf16
from chalicelib.networks.webhook import optional_text

NETWORK = "Telegram"
API_URL = "https://api.telegram.org"

MAX_TEXT = 4096  # "1-4096 characters after entities parsing"; entity offsets are UTF-16 code units
MAX_CAPTION = 1024  # "0-1024 characters after entities parsing"
MIN_ALBUM, MAX_ALBUM = 2, 10
PHOTO_TYPES = ("image/jpeg", "image/png", "image/webp")
ANIMATION_TYPES = ("image/gif",)  # sendAnimation: a GIF sent with sendPhoto would lose its motion
VIDEO_TYPES = ("video/mp4",)  # "Telegram clients support MPEG4 videos (other formats may be sent as Document)"
DOCUMENT_TYPES = ("application/pdf", "application/zip", "text/plain", "text/csv", "video/quicktime",
                  "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                  "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                  "application/vnd.openxmlformats-officedocument.presentationml.presentation")
MAX_PHOTO_BYTES = 10 * 1024 * 1024  # "10 MB max size for photos"
MAX_FILE_BYTES = 50 * 1024 * 1024  # "50 MB for other files" (multipart upload)
MAX_PHOTO_SIDES = 10_000  # "width and height must not exceed 10000 in total"
MAX_PHOTO_RATIO = 20.0  # "width and height ratio must be at most 20"
PARSE_MODES = ("HTML", "MarkdownV2", "Markdown")
POSTING_CHATS = ("channel", "group", "supergroup")

LIMITS = NetworkLimits(
    max_text=MAX_TEXT,
    text_counting="utf16",
    max_media=MAX_ALBUM,
    media_types=PHOTO_TYPES + ANIMATION_TYPES + VIDEO_TYPES + DOCUMENT_TYPES,
    max_media_bytes=MAX_FILE_BYTES,  # photos are held to 10 MB by content_problems
)

# Telegram's FAQ: no more than one message per second in one chat, 20 a minute in a group, and about 30 a
# second across chats for one bot. One post at a time per channel keeps to the first two; the network-wide
# figure is per bot, and each channel may have its own bot, so it only bounds Herald's own workers.
BUDGET = RateBudget(per_account_concurrency=1, per_network_concurrency=30)


class TelegramOptions(BaseModel):
    """`variants[ch].telegram`: how the post is sent."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    silent: bool = False  # disable_notification: subscribers get it without a sound
    parse_mode: Literal["HTML", "MarkdownV2", "Markdown"] | None = None
    disable_link_preview: bool = False
    protect_content: bool = False  # no forwarding or saving


def options_of(request: PublishRequest) -> TelegramOptions:
    try:
        return TelegramOptions.model_validate(dict(request.options))
    except ValidationError:
        raise PermanentError("the Telegram options of this post are not valid") from None


# -- rules -----------------------------------------------------------------------------------------------------

def visible_text(text: str, parse_mode: str | None) -> str:
    """What Telegram counts: the text after entities parsing. HTML tags are removed; Markdown is counted as
    written (an upper bound: its markers are removed by Telegram)."""
    if parse_mode == "HTML":
        return html.unescape(re.sub(r"<[^>]*>", "", text))
    return text


def post_text(request: PublishRequest) -> str:
    text = request.text
    if request.link and request.link not in text:
        text = f"{text}\n\n{request.link}" if text.strip() else request.link
    return text


def content_problems(request: PublishRequest) -> list[ContentProblem]:
    problems: list[ContentProblem] = []
    try:
        options = TelegramOptions.model_validate(dict(request.options))
    except ValidationError as error:
        for item in error.errors(include_url=False, include_input=False):
            name = ".".join(str(part) for part in item["loc"])
            problems.append(ContentProblem(f"options.{name}", f"is not a Telegram option value ({item['msg']}); "
                                                              "options are silent, parse_mode (HTML, MarkdownV2, "
                                                              "Markdown), disable_link_preview, protect_content"))
        options = TelegramOptions()
    problems += _text_problems(request, options.parse_mode)
    problems += _media_problems(request.media)
    if request.thread:
        problems.append(ContentProblem("thread", "Telegram channels have no threads; post the parts separately"))
    if request.first_comment:
        problems.append(ContentProblem("first_comment", "Herald cannot add a first comment on Telegram"))
    return problems


def _text_problems(request: PublishRequest, parse_mode: str | None) -> list[ContentProblem]:
    length = utf16(visible_text(post_text(request), parse_mode), {})
    if request.media:
        if length > MAX_CAPTION:
            return [ContentProblem("text", f"is {length} characters long; a Telegram caption under a photo, video "
                                           f"or file takes {MAX_CAPTION} (an emoji may count as 2)")]
        return []
    if not post_text(request).strip():
        return [ContentProblem("text", "Telegram needs text, a photo, a video or a file")]
    if length > MAX_TEXT:
        return [ContentProblem("text", f"is {length} characters long; a Telegram message takes {MAX_TEXT} "
                                       "(counted in UTF-16 units: an emoji may count as 2)")]
    return []


def _media_problems(media: Sequence[MediaItem]) -> list[ContentProblem]:
    problems: list[ContentProblem] = []
    if len(media) > MAX_ALBUM:
        problems.append(ContentProblem("media", f"has {len(media)} items; a Telegram album takes {MIN_ALBUM} to "
                                                f"{MAX_ALBUM}"))
    for index, item in enumerate(media):
        problems += [ContentProblem(f"media.{index}", message) for message in _item_problems(item)]
    if len(media) > 1:
        kinds = {_kind(item) for item in media}
        if "animation" in kinds:
            problems.append(ContentProblem("media", "a Telegram album cannot hold a GIF; post it on its own"))
        elif "document" in kinds and kinds != {"document"}:
            problems.append(ContentProblem("media", "a Telegram album groups documents only with other documents; "
                                                    "photos and videos may be mixed"))
    return problems


def _item_problems(item: MediaItem) -> list[str]:
    kind = _kind(item)
    if kind is None:
        return [f"{item.mime} is not a kind Herald sends to Telegram (JPEG, PNG or WebP photos, GIFs, MP4 videos, "
                "PDF and office documents)"]
    problems = []
    if kind == "photo":
        if item.size is not None and item.size > MAX_PHOTO_BYTES:
            problems.append("is larger than the 10 MB Telegram accepts for a photo")
        if item.width and item.height:
            if item.width + item.height > MAX_PHOTO_SIDES:
                problems.append("is larger than Telegram accepts for a photo (width and height 10000 in total)")
            if max(item.width / item.height, item.height / item.width) > MAX_PHOTO_RATIO:
                problems.append("has an aspect ratio beyond the 20:1 Telegram accepts for a photo")
    elif item.size is not None and item.size > MAX_FILE_BYTES:
        problems.append("is larger than the 50 MB a Telegram bot may upload")
    return problems


def _kind(item: MediaItem) -> str | None:
    if item.mime in PHOTO_TYPES:
        return "photo"
    if item.mime in ANIMATION_TYPES:
        return "animation"
    if item.mime in VIDEO_TYPES:
        return "video"
    if item.mime in DOCUMENT_TYPES:
        return "document"
    return None


# -- errors ----------------------------------------------------------------------------------------------------

def explain_error(response: Any) -> ErrorDetail:
    """`{"ok": false, "error_code", "description", "parameters": {"retry_after", "migrate_to_chat_id"}}`."""
    body = read_json(response)
    if not isinstance(body, Mapping):
        return ErrorDetail(text=(getattr(response, "text", "") or "")[:300])
    description = str(body.get("description") or "")
    parameters = object_at(body, "parameters")
    lowered = description.lower()
    status = response.status_code
    if status == 429 or parameters.get("retry_after") is not None:
        wait = parameters.get("retry_after")
        return ErrorDetail(text=description, rate_limited=True,
                           retry_after_s=float(wait) if isinstance(wait, int | float) else None)
    if status == 401:
        return ErrorDetail(text=description, auth=True,
                           sentence="Telegram refused the bot token (it was revoked or is wrong); paste the "
                                    "token @BotFather gives and reconnect the channel")
    if status == 403 or "need administrator rights" in lowered or "not enough rights" in lowered:
        return ErrorDetail(text=description, auth=True,
                           sentence=f"Telegram says the bot may not post in this chat ({description}); add it back "
                                    "as an administrator allowed to post, then reconnect the channel")
    return ErrorDetail(text=description, not_auth=True, sentence=_bad_request_sentence(lowered, parameters))


def _bad_request_sentence(lowered: str, parameters: Mapping[str, Any]) -> str | None:
    if parameters.get("migrate_to_chat_id") is not None:
        return (f"this Telegram group became a supergroup (chat id {parameters['migrate_to_chat_id']}); "
                "reconnect the channel with the new chat id")
    if "chat not found" in lowered:
        return "Telegram cannot find this chat: check the chat id, and that the bot was added to the chat"
    if "caption is too long" in lowered:
        return f"Telegram refused the caption: it is longer than the {MAX_CAPTION} characters Telegram allows"
    if "message is too long" in lowered:
        return f"Telegram refused the text: it is longer than the {MAX_TEXT} characters Telegram allows"
    if "can't parse entities" in lowered:
        return "Telegram could not read the formatting of the text (parse_mode); check the markup"
    if "request entity too large" in lowered:
        return "Telegram refused the file: it is larger than a bot may upload (10 MB photos, 50 MB files)"
    return None


# -- the adapter -----------------------------------------------------------------------------------------------

class TelegramAdapter:
    """Credentials: `bot_token`. Settings: `chat_id` (the chat's id, or @username of a public channel, when
    connecting; the numeric id Telegram gives once connected)."""

    network = "telegram"
    limits = LIMITS
    idempotent_publish = False

    def __init__(self, http: Any = None, clock: Clock | None = None, *, base_url: str | None = None) -> None:
        self._http = http
        self._clock = clock or SystemClock()
        redact.install()  # the token is in the URL path: urllib3's DEBUG lines print paths
        # HERALD_TELEGRAM_API_URL (settings.py): the Bot API host; methods are {base}/bot<token>/<method>.
        self.api_url = (base_url or API_URL).rstrip("/")

    @property
    def http(self) -> Any:
        if self._http is None:
            import requests

            self._http = requests.Session()
        return self._http

    # -- connecting -------------------------------------------------------------------------------------------

    def describe_account(self, channel: ChannelContext) -> dict[str, str]:
        """getMe (the token works), getChat (the chat exists and is a channel or group), getChatMember of the
        bot in it (an administrator allowed to post)."""
        chat_ref = str(channel.settings.get("chat_id") or "")
        if not chat_ref:
            raise PermanentError("name the Telegram chat to post in (settings.chat_id: its id or @username)")
        bot = self.call(channel, "getMe", {})
        chat = self.call(channel, "getChat", {"chat_id": chat_ref})
        chat_type = str(chat.get("type") or "")
        if chat_type not in POSTING_CHATS:
            raise PermanentError("a Telegram bot posts to a channel or a group; this chat is a private chat")
        member = self.call(channel, "getChatMember", {"chat_id": chat["id"], "user_id": bot["id"]})
        _check_may_post(member, chat_type, str(bot.get("username") or "the bot"))
        username = str(chat.get("username") or "")
        return {"account_id": str(chat["id"]), "handle": f"@{username}" if username else str(chat.get("title") or
                                                                                          chat["id"]),
                "chat_id": str(chat["id"]), "chat_type": chat_type, "chat_username": username,
                "bot_username": str(bot.get("username") or "")}

    def read_profile(self, channel: ChannelContext) -> PublicProfile:
        """getChat of the channel: title, description, username; the link is the first address in the
        description (a chat has no website field). The photo is not read: its file is downloaded from a URL
        holding the bot token (`/file/bot<token>/<path>`), and a profile's avatar URL is stored and shown, so
        the avatar is not available."""
        chat = self.call(channel, "getChat", {"chat_id": self.chat_id(channel)})
        description = optional_text(chat, "description")
        link = re.search(FIRST_URL, description or "")
        username = optional_text(chat, "username")
        return PublicProfile(display_name=optional_text(chat, "title"), bio=description,
                             link=link.group(0) if link else None, avatar_url=None,
                             handle=f"@{username}" if username else None, unavailable=frozenset({"avatar_url"}))

    def content_problems(self, request: PublishRequest) -> list[ContentProblem]:
        return content_problems(request)

    # -- publishing -------------------------------------------------------------------------------------------

    def publish(self, channel: ChannelContext, request: PublishRequest) -> PublishResult:
        done = request.progress.get("message_ids") if isinstance(request.progress, Mapping) else None
        if done:  # an earlier attempt posted it; its result was not stored
            return self._result(channel, dict(request.progress))
        options = options_of(request)
        chat_id = self.chat_id(channel)
        if not request.media:
            messages = [self.call(channel, "sendMessage", self._message_fields(request, options, chat_id))]
        elif len(request.media) == 1:
            messages = [self._send_file(channel, request, options, chat_id)]
        else:
            messages = self._send_album(channel, request, options, chat_id)
        progress = {"message_ids": [int(m["message_id"]) for m in messages if "message_id" in m],
                    "chat_username": str((messages[0].get("chat") or {}).get("username") or ""),
                    "date": messages[0].get("date")}
        if not progress["message_ids"]:
            raise AmbiguousError("Telegram accepted the post but answered no message id")
        request.record_progress(progress)
        return self._result(channel, progress)

    def _message_fields(self, request: PublishRequest, options: TelegramOptions, chat_id: str) -> dict[str, Any]:
        fields: dict[str, Any] = {"chat_id": chat_id, "text": post_text(request), **_common(options)}
        if options.disable_link_preview:
            fields["link_preview_options"] = {"is_disabled": True}
        elif request.link:
            fields["link_preview_options"] = {"url": request.link}
        return fields

    def _send_file(self, channel: ChannelContext, request: PublishRequest, options: TelegramOptions,
                   chat_id: str) -> dict[str, Any]:
        item = request.media[0]
        kind = _kind(item) or "document"
        method, field = {"photo": ("sendPhoto", "photo"), "video": ("sendVideo", "video"),
                         "animation": ("sendAnimation", "animation")}.get(kind, ("sendDocument", "document"))
        fields = {"chat_id": chat_id, **_common(options)}
        caption = post_text(request)
        if caption:
            fields["caption"] = caption
        if kind == "video":
            fields |= {"supports_streaming": True, **_dimensions(item)}
        body = MultipartBody([(k, _form_value(v)) for k, v in fields.items()],
                             [media_part(field, item, 0, NETWORK)])
        return self.call(channel, method, body=body)

    def _send_album(self, channel: ChannelContext, request: PublishRequest, options: TelegramOptions,
                    chat_id: str) -> list[dict[str, Any]]:
        media: list[dict[str, Any]] = []
        for index, item in enumerate(request.media):
            kind = _kind(item)
            entry: dict[str, Any] = {"type": kind if kind in ("photo", "video") else "document",
                                     "media": f"attach://file{index}"}
            if kind == "video":
                entry |= {"supports_streaming": True, **_dimensions(item)}
            media.append(entry)
        caption = post_text(request)
        if caption:  # one caption, on the first item: clients show it under the album
            media[0]["caption"] = caption
            if options.parse_mode:
                media[0]["parse_mode"] = options.parse_mode
        common = {k: v for k, v in _common(options).items() if k != "parse_mode"}
        fields = [("chat_id", chat_id), ("media", json.dumps(media))]
        fields += [(k, _form_value(v)) for k, v in common.items()]
        files = [media_part(f"file{i}", item, i, NETWORK) for i, item in enumerate(request.media)]
        answer = self.call_list(channel, "sendMediaGroup", MultipartBody(fields, files))
        return answer

    def _result(self, channel: ChannelContext, progress: Mapping[str, Any]) -> PublishResult:
        first = int(progress["message_ids"][0])
        username = str(progress.get("chat_username") or channel.settings.get("chat_username") or "")
        date = progress.get("date")
        return PublishResult(remote_id=str(first), remote_url=message_link(self.chat_id(channel), username, first),
                             published_at=datetime.fromtimestamp(date, UTC) if isinstance(date, int) else None)

    # -- looking before a retry -------------------------------------------------------------------------------

    def find_published(self, channel: ChannelContext, request: PublishRequest) -> PublishResult | None:
        """With the message ids recorded by an earlier attempt, that post. Without them Herald cannot tell:
        the Bot API gives a bot no way to read a channel's history (no getHistory, no getMessage), so the
        engine settles the delivery `unknown` for a person to check."""
        if isinstance(request.progress, Mapping) and request.progress.get("message_ids"):
            return self._result(channel, dict(request.progress))
        raise AmbiguousError("Telegram does not let a bot read a channel's messages, so Herald cannot tell "
                             "whether this post went out; check the channel")

    # -- what Telegram channels do not offer Herald -----------------------------------------------------------

    def reply(self, channel: ChannelContext, request: ReplyRequest) -> PublishResult:
        raise PermanentError("Herald does not answer Telegram messages yet")

    def fetch_insights(self, channel: ChannelContext, remote_ids: list[str]) -> ChannelInsights:
        raise PermanentError("the Telegram Bot API gives no insights of channel posts")

    def poll_inbox(self, channel: ChannelContext, cursor: str | None) -> PollResult:
        raise PermanentError("Herald does not read a Telegram inbox")

    # -- HTTP -------------------------------------------------------------------------------------------------

    def chat_id(self, channel: ChannelContext) -> str:
        chat_id = str(channel.settings.get("chat_id") or "")
        if not chat_id:
            raise AuthError("this Telegram channel names no chat; reconnect it")
        return chat_id

    def call(self, channel: ChannelContext, method: str, fields: Mapping[str, Any] | None = None, *,
             body: MultipartBody | None = None) -> dict[str, Any]:
        result = self._call(channel, method, fields, body)
        if not isinstance(result, dict):
            raise PermanentError(f"Telegram answered {method} without the object it documents")
        return result

    def call_list(self, channel: ChannelContext, method: str, body: MultipartBody) -> list[dict[str, Any]]:
        result = self._call(channel, method, None, body)
        if not isinstance(result, list) or not all(isinstance(item, dict) for item in result):
            raise AmbiguousError(f"Telegram answered {method} without the messages it documents")
        return result

    def _call(self, channel: ChannelContext, method: str, fields: Mapping[str, Any] | None,
              body: MultipartBody | None) -> Any:
        token = str(channel.credentials.get("bot_token") or "")
        if not token:
            raise AuthError("the Telegram channel has no bot token; reconnect it")
        # The URL holds the token: it is handed to the HTTP client only, never put in a message.
        url = f"{self.api_url}/bot{token}/{method}"
        # A send* call whose connection closes after the request left may have posted: ambiguous, not retried.
        http = self.http  # a send* broken after sending is ambiguous (http_failures.send)
        if body is not None:
            response = send(http, "POST", url, network=NETWORK, explain=explain_error, data=body,
                            headers={"Content-Type": body.content_type}, now=self._clock.now)
        else:
            response = send(http, "POST", url, network=NETWORK, explain=explain_error, json=dict(fields or {}),
                            now=self._clock.now)
        answer = read_json(response)
        if not isinstance(answer, Mapping) or answer.get("ok") is not True:
            raise AmbiguousError(f"Telegram answered {method} with something that is not a Bot API answer")
        return answer.get("result")


def _check_may_post(member: Mapping[str, Any], chat_type: str, bot_name: str) -> None:
    status = member.get("status")
    if status == "creator":
        return
    if status != "administrator":
        raise PermanentError(f"@{bot_name} is not an administrator of this Telegram chat; make it one, allowed "
                             "to post messages")
    if chat_type == "channel" and member.get("can_post_messages") is not True:
        raise PermanentError(f"@{bot_name} is an administrator of this channel but may not post messages; "
                             "give it the 'Post messages' right")


def _common(options: TelegramOptions) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    if options.parse_mode:
        fields["parse_mode"] = options.parse_mode
    if options.silent:
        fields["disable_notification"] = True
    if options.protect_content:
        fields["protect_content"] = True
    return fields


def _dimensions(item: MediaItem) -> dict[str, int]:
    found = {"width": item.width, "height": item.height,
             "duration": int(item.duration_s) if item.duration_s else None}
    return {key: value for key, value in found.items() if value}


def _form_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else json.dumps(value)


def message_link(chat_id: str, username: str, message_id: int) -> str | None:
    """t.me/<username>/<id> for a public chat, t.me/c/<id without -100>/<id> for a private supergroup or
    channel; a basic group's messages have no link."""
    if username:
        return f"https://t.me/{username}/{message_id}"
    if chat_id.startswith("-100"):
        return f"https://t.me/c/{chat_id[4:]}/{message_id}"
    return None


def make_adapter(http: Any = None, clock: Clock | None = None, *, base_url: str | None = None) -> TelegramAdapter:
    return TelegramAdapter(http=http, clock=clock, base_url=base_url)
