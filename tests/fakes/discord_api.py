"""A local Discord API for the webhook endpoints Herald calls
(https://discord.com/developers/docs/resources/webhook).

`GET /api/v10/webhooks/{id}/{token}` (the webhook object, with its token, as Discord answers it),
`POST /api/v10/webhooks/{id}/{token}?wait=true` (Execute Webhook: JSON, or multipart/form-data with
`payload_json` and `files[n]`), and `GET .../messages/{message_id}`. It checks what Herald sends (wait=true,
allowed_mentions, the documented lengths and counts, attachments matching the uploaded files, the bytes) and
answers the documented errors (`{"message", "code"}`; 429 with `retry_after` and X-RateLimit-* headers).
"""
from __future__ import annotations

import json
from datetime import UTC
from typing import Any

from chalicelib.core.clock import Clock, SystemClock
from tests.fakes.local_http import Answer, LocalHttpFake, Request, Route
from tests.fakes.multipart_form import UploadedFile, parse_form

WEBHOOK_ID = "1234567890123456789"
WEBHOOK_TOKEN = "abcDEF_ghi-JKLmnoPQRstuVWXyz0123456789abcdefghijKLMNOPqrstuvwx"
CHANNEL_ID = "987654321098765432"
GUILD_ID = "112233445566778899"
FLAGS_ALLOWED = (1 << 2) | (1 << 12) | (1 << 15)


def unknown_webhook() -> Answer:
    return Answer(404, {"message": "Unknown Webhook", "code": 10015})


class DiscordApi(LocalHttpFake):
    name = "discord-fake"

    def __init__(self, clock: Clock | None = None) -> None:
        super().__init__()
        self.clock = clock or SystemClock()  # a message's `timestamp` is the network's time: the test's clock
        self.messages: list[dict[str, Any]] = []
        self.uploads: list[UploadedFile] = []
        self.deleted = False
        self._next_id = 1_300_000_000_000_000_000

    def webhook_url(self) -> str:
        return f"{self.url}/api/webhooks/{WEBHOOK_ID}/{WEBHOOK_TOKEN}"

    def routes(self) -> list[Route]:
        base = r"/api/v10/webhooks/([0-9]+)/([A-Za-z0-9_.-]+)"
        return [("GET", base, self._get_webhook), ("POST", base, self._execute),
                ("GET", base + r"/messages/([0-9]+)", self._get_message)]

    def _check(self, webhook_id: str, token: str) -> None:
        if webhook_id != WEBHOOK_ID or self.deleted:
            raise unknown_webhook()
        if token != WEBHOOK_TOKEN:
            raise Answer(401, {"message": "Invalid Webhook Token", "code": 50027})

    def _get_webhook(self, _request: Request, webhook_id: str, token: str) -> Answer:
        self._check(webhook_id, token)
        return Answer(200, {"id": WEBHOOK_ID, "type": 1, "guild_id": GUILD_ID, "channel_id": CHANNEL_ID,
                            "name": "Herald announcements", "avatar": None, "application_id": None,
                            "token": WEBHOOK_TOKEN})

    def _get_message(self, request: Request, webhook_id: str, token: str, message_id: str) -> Answer:
        self._check(webhook_id, token)
        for message in self.messages:
            if message["id"] == message_id:
                return Answer(200, {k: v for k, v in message.items() if k != "sent"})
        return Answer(404, {"message": "Unknown Message", "code": 10008})

    def _execute(self, request: Request, webhook_id: str, token: str) -> Answer:
        self._check(webhook_id, token)
        if request.arg("wait") != "true":
            raise self.violation("Execute Webhook without wait=true: the message id would not come back")
        payload, files = self._payload(request)
        problem = self._problem(payload, files)
        if problem:
            return Answer(400, {"message": "Invalid Form Body", "code": 50035,
                                "errors": {problem[0]: {"_errors": [{"code": "BASE_TYPE_MAX_LENGTH",
                                                                       "message": problem[1]}]}}})
        self.uploads += files.values()
        self._next_id += 1
        message = {"id": str(self._next_id), "type": 0, "channel_id": CHANNEL_ID, "webhook_id": WEBHOOK_ID,
                   "content": payload.get("content", ""), "embeds": payload.get("embeds", []),
                   "author": {"id": WEBHOOK_ID, "username": payload.get("username", "Herald announcements"),
                              "bot": True},
                   "attachments": [{"id": str(self._next_id + i), "filename": f.filename, "size": len(f.data)}
                                   for i, f in enumerate(files.values())],
                   "flags": payload.get("flags", 0), "mention_everyone": False,
                   "timestamp": self.clock.now().astimezone(UTC).isoformat()}
        self.messages.append({**message, "sent": payload})
        return Answer(200, message)

    def _payload(self, request: Request) -> tuple[dict[str, Any], dict[str, UploadedFile]]:
        content_type = request.headers.get("content-type", "")
        if content_type.startswith("application/json"):
            body = request.json()
            return (body if isinstance(body, dict) else {}), {}
        try:
            fields, files = parse_form(content_type, request.body)
        except ValueError as problem:
            raise self.violation(f"Execute Webhook body is neither JSON nor multipart: {problem}") from None
        if set(fields) != {"payload_json"}:
            raise self.violation(f"multipart fields other than payload_json: {sorted(fields)}")
        payload = json.loads(fields["payload_json"])
        ids = sorted(int(name[6:-1]) for name in files if name.startswith("files[") and name.endswith("]"))
        if len(ids) != len(files) or ids != list(range(len(files))):
            raise self.violation(f"files are not files[0..n]: {sorted(files)}")
        attached = sorted(int(a["id"]) for a in payload.get("attachments", []))
        if attached != ids:
            raise self.violation(f"attachments {attached} do not match the uploaded files {ids}")
        return payload, files

    def _problem(self, payload: dict[str, Any], files: dict[str, UploadedFile]) -> tuple[str, str] | None:
        if payload.get("allowed_mentions") != {"parse": []}:
            self.violation(f"allowed_mentions is {payload.get('allowed_mentions')!r}, not {{'parse': []}}")
        if not payload.get("content") and not payload.get("embeds") and not files:
            return "content", "Cannot send an empty message"
        if len(payload.get("content", "")) > 2000:
            return "content", "Must be 2000 or fewer in length."
        if len(payload.get("embeds", [])) > 10:
            return "embeds", "Must be 10 or fewer in length."
        if payload.get("flags", 0) & ~FLAGS_ALLOWED:
            return "flags", "Invalid flags for a webhook message"
        return None
