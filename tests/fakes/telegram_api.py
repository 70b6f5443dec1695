"""A local Telegram Bot API (https://core.telegram.org/bots/api) for the methods Herald calls.

`POST /bot<token>/<method>` with the documented parameters: getMe, getChat, getChatMember, sendMessage,
sendPhoto, sendVideo, sendAnimation, sendDocument, sendMediaGroup. It checks what Herald sends (the token,
the chat, JSON for text and multipart/form-data for files, `attach://` references of an album, the documented
mixes and lengths, the uploaded bytes) and answers `{"ok": true, "result": ...}` or the documented
`{"ok": false, "error_code", "description", "parameters"}`. Why telegram-test-api is not used instead:
tests/events/telegram/README.md.
"""
from __future__ import annotations

import json
from typing import Any

from chalicelib.core.clock import Clock, SystemClock
from tests.fakes.local_http import Answer, LocalHttpFake, Request, Route
from tests.fakes.multipart_form import UploadedFile, parse_form
from tests.support.events import load_event

BOT_ID = 7012345678
BOT_TOKEN = f"{BOT_ID}:AAH-test-token-for-the-herald-fake_0123"
CHANNEL_ID = -1001234567890
CHANNEL_USERNAME = "heraldnews"
FILE_METHODS = {"sendPhoto": "photo", "sendVideo": "video", "sendAnimation": "animation", "sendDocument": "document"}
ALBUM_TYPES = {"photo", "video", "document", "audio"}


def utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def error(code: int, description: str, **parameters: Any) -> Answer:
    body: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
    if parameters:
        body["parameters"] = parameters
    return Answer(code, body)


class TelegramApi(LocalHttpFake):
    name = "telegram-fake"

    def __init__(self, clock: Clock | None = None) -> None:
        super().__init__()
        self.clock = clock or SystemClock()  # a message's `date` is the network's time: the test's clock
        self.token = BOT_TOKEN
        # getChat's ChatFullInfo of the channel (tests/events/telegram/get_chat_channel.json).
        self.chat: dict[str, Any] = load_event("telegram", "get_chat_channel.json")["result"]
        self.member: dict[str, Any] = {"status": "administrator", "can_post_messages": True}
        self.messages: list[dict[str, Any]] = []
        self.uploads: list[UploadedFile] = []
        self._next_id = 100

    # -- scripting ----------------------------------------------------------------------------------------

    def fail_next(self, method: str, code: int, description: str, **parameters: Any) -> None:
        body: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
        if parameters:
            body["parameters"] = parameters
        self.fail("POST", rf"/bot[^/]+/{method}", code, body)

    # -- routes -------------------------------------------------------------------------------------------

    def routes(self) -> list[Route]:
        return [("POST", r"/bot([^/]+)/([A-Za-z]+)", self._method)]

    def _method(self, request: Request, token: str, method: str) -> Answer:
        if token != self.token:
            return error(401, "Unauthorized")
        handler = {"getMe": self._get_me, "getChat": self._get_chat, "getChatMember": self._get_chat_member,
                   "sendMessage": self._send_message, "sendMediaGroup": self._send_media_group}.get(method)
        if method in FILE_METHODS:
            return self._send_file(request, method)
        if handler is None:
            return error(404, "Not Found: method not found")
        return handler(request)

    def _params(self, request: Request) -> dict[str, Any]:
        content_type = request.headers.get("content-type", "")
        if content_type.startswith("application/json"):
            body = request.json()
            return body if isinstance(body, dict) else {}
        if content_type.startswith("multipart/form-data"):
            return parse_form(content_type, request.body)[0]
        return request.form()

    def _chat_of(self, params: dict[str, Any]) -> Answer | None:
        given = str(params.get("chat_id", ""))
        if given not in (str(self.chat["id"]), f"@{self.chat.get('username')}"):
            return error(400, "Bad Request: chat not found")
        return None

    def _get_me(self, _request: Request) -> Answer:
        return Answer(200, {"ok": True, "result": {"id": BOT_ID, "is_bot": True, "first_name": "Herald",
                                                   "username": "herald_test_bot"}})

    def _get_chat(self, request: Request) -> Answer:
        refused = self._chat_of(self._params(request))
        return refused or Answer(200, {"ok": True, "result": dict(self.chat)})

    def _get_chat_member(self, request: Request) -> Answer:
        params = self._params(request)
        refused = self._chat_of(params)
        if refused:
            return refused
        if str(params.get("user_id")) != str(BOT_ID):
            raise self.violation(f"getChatMember asked about user {params.get('user_id')}, not the bot")
        user = {"id": BOT_ID, "is_bot": True, "first_name": "Herald", "username": "herald_test_bot"}
        return Answer(200, {"ok": True, "result": {"user": user, **self.member}})

    def _send_message(self, request: Request) -> Answer:
        if not request.headers.get("content-type", "").startswith("application/json"):
            raise self.violation("sendMessage was not sent as JSON")
        params = self._params(request)
        refused = self._chat_of(params)
        if refused:
            return refused
        text = params.get("text")
        if not isinstance(text, str) or not text:
            return error(400, "Bad Request: message text is empty")
        if utf16_length(text) > 4096:
            return error(400, "Bad Request: message is too long")
        self._check_common(params)
        return Answer(200, {"ok": True, "result": self._store(params, text=text)})

    def _send_file(self, request: Request, method: str) -> Answer:
        fields, files = self._form(request)
        refused = self._chat_of(fields)
        if refused:
            return refused
        field = FILE_METHODS[method]
        if set(files) != {field}:
            raise self.violation(f"{method} uploaded {sorted(files)}, not one '{field}' file")
        if utf16_length(fields.get("caption", "")) > 1024:
            return error(400, "Bad Request: message caption is too long")
        self._check_common(fields)
        self.uploads.append(files[field])
        return Answer(200, {"ok": True, "result": self._store(fields, caption=fields.get("caption"),
                                                              kind=field, size=len(files[field].data))})

    def _send_media_group(self, request: Request) -> Answer:
        fields, files = self._form(request)
        refused = self._chat_of(fields)
        if refused:
            return refused
        try:
            media = json.loads(fields.get("media", ""))
        except ValueError:
            raise self.violation("sendMediaGroup media is not JSON") from None
        if not isinstance(media, list) or not 2 <= len(media) <= 10:
            return error(400, "Bad Request: wrong number of media items (2-10)")
        kinds = {item.get("type") for item in media}
        if not kinds <= ALBUM_TYPES or (kinds & {"document", "audio"} and len(kinds) > 1):
            return error(400, "Bad Request: documents and audio can only be grouped with the same type")
        named = [str(item.get("media", "")).removeprefix("attach://") for item in media]
        if sorted(named) != sorted(files):
            raise self.violation(f"sendMediaGroup refers to {named} but uploaded {sorted(files)}")
        if any(utf16_length(item.get("caption", "")) > 1024 for item in media):
            return error(400, "Bad Request: message caption is too long")
        self._check_common(fields)
        group = str(int(self.clock.now().timestamp() * 1000))
        result = []
        for item, name in zip(media, named, strict=True):
            self.uploads.append(files[name])
            result.append(self._store(fields, caption=item.get("caption"), kind=item["type"],
                                      size=len(files[name].data), media_group_id=group))
        return Answer(200, {"ok": True, "result": result})

    # -- helpers ------------------------------------------------------------------------------------------

    def _form(self, request: Request) -> tuple[dict[str, str], dict[str, UploadedFile]]:
        try:
            return parse_form(request.headers.get("content-type", ""), request.body)
        except ValueError as problem:
            raise self.violation(f"a file upload that is not valid multipart/form-data: {problem}") from None

    def _check_common(self, params: dict[str, Any]) -> None:
        for flag in ("disable_notification", "protect_content"):
            if flag in params and params[flag] not in (True, "true"):
                raise self.violation(f"{flag} should only be sent as true, got {params[flag]!r}")
        mode = params.get("parse_mode")
        if mode is not None and mode not in ("HTML", "MarkdownV2", "Markdown"):
            raise self.violation(f"parse_mode {mode!r} is not documented")

    def _store(self, params: dict[str, Any], **content: Any) -> dict[str, Any]:
        self._next_id += 1
        message = {"message_id": self._next_id, "date": int(self.clock.now().timestamp()),
                   "chat": {k: v for k, v in self.chat.items() if k in ("id", "type", "title", "username")},
                   **{k: v for k, v in content.items() if v is not None}}
        for flag in ("disable_notification", "protect_content", "parse_mode", "link_preview_options"):
            if flag in params:
                message[f"sent_{flag}"] = params[flag]
        self.messages.append(message)
        return {k: v for k, v in message.items() if not k.startswith("sent_") and k not in ("kind", "size")}
