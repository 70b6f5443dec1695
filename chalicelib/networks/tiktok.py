"""TikTok: webhook verification and the documented TikTok for Developers events.

None of the documented events (authorization.removed, video.upload.failed,
video.publish.completed, portability.download.ready, post.publish.*) is a
comment, a message or a mention, and the API has no endpoint to answer one:
every well-formed event is counted as ignored and replies are refused.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from chalicelib.core.clock import Clock
from chalicelib.networks.base import (
    ChannelContext,
    NetworkLimits,
    PermanentError,
    PollResult,
    PublishResult,
    ReplyRequest,
    SignatureError,
)
from chalicelib.networks.http_failures import ErrorDetail, object_at, read_json, send
from chalicelib.networks.webhook import (
    InboxNetworkAdapter,
    Malformed,
    ParsedWebhook,
    hex_digest_bytes,
    hmac_sha256,
    moment_from_epoch,
    require_secret,
    required_header,
    text_field,
)

API_URL = "https://open.tiktokapis.com/v2"
SIGNATURE_HEADER = "TikTok-Signature"
REPLAY_WINDOW_S = 300

LIMITS = NetworkLimits(
    max_text=2200,
    text_counting="utf16",
    max_media=35,
    media_types=("video/mp4", "video/quicktime", "video/webm", "image/jpeg", "image/webp"),
    max_media_bytes=4 * 1024 * 1024 * 1024,
    requires_media=True,
)


def verify_signature(
    raw_body: bytes,
    headers: Mapping[str, str],
    secret: str,
    now: datetime | None = None,
    window_s: int = REPLAY_WINDOW_S,
) -> None:
    """`TikTok-Signature: t=<unix>,s=<hex HMAC-SHA256(client secret, "<t>.<raw body>")>`.

    A timestamp more than `window_s` away from `now`, in either direction, is
    refused: an old one is a replay, one from the future cannot be real.
    """
    require_secret(secret)
    value = required_header(headers, SIGNATURE_HEADER)
    timestamp: str | None = None
    signatures: list[bytes] = []
    for element in value.split(","):
        prefix, _, part = element.strip().partition("=")
        if prefix == "t":
            timestamp = part
        elif prefix == "s":
            signatures.append(hex_digest_bytes(part))
    if timestamp is None or not timestamp.isdigit() or not signatures:
        raise SignatureError(f"malformed {SIGNATURE_HEADER} header")
    expected = hmac_sha256(secret, timestamp.encode("ascii") + b"." + raw_body)
    # Check every candidate so the time taken does not say which one matched.
    matched = False
    for candidate in signatures:
        matched = hmac.compare_digest(expected, candidate) or matched
    if not matched:
        raise SignatureError("signature does not match")
    moment = (now or datetime.now(UTC)).timestamp()
    age = moment - int(timestamp)
    if age > window_s:
        raise SignatureError("signature timestamp is too old")
    if age < -window_s:
        raise SignatureError("signature timestamp is in the future")


def parse_webhook(payload: dict[str, Any]) -> ParsedWebhook:
    """TikTok sends one event per request; none of the documented ones is kept."""
    parsed = ParsedWebhook()
    try:
        text_field(payload, "event")
        text_field(payload, "user_openid")
        moment_from_epoch(payload.get("create_time"), "create_time")
        content = payload.get("content")
        if not isinstance(content, str):
            raise Malformed("content is not a string")
        try:
            json.loads(content)
        except ValueError:
            raise Malformed("content is not serialized JSON") from None
    except Malformed as exc:
        parsed.errors.append(str(exc))
        return parsed
    parsed.ignored = 1
    return parsed


def explain_error(response: Any) -> ErrorDetail:
    body = read_json(response)
    error = body.get("error") if isinstance(body, Mapping) else None
    if isinstance(error, Mapping):
        return ErrorDetail(text=str(error.get("message") or error.get("code") or ""))
    return ErrorDetail(text=(getattr(response, "text", "") or "")[:300])


class TikTokAdapter(InboxNetworkAdapter):
    """Credentials: `access_token` (user.info.basic scope)."""

    network = "tiktok"
    limits = LIMITS

    def __init__(self, http: Any = None, clock: Clock | None = None, *, base_url: str | None = None) -> None:
        super().__init__(http, clock)
        # HERALD_TIKTOK_API_URL (settings.py): the API host; v2 lives under /v2.
        self.api_url = f"{base_url.rstrip('/')}/v2" if base_url else API_URL

    def reply(self, channel: ChannelContext, request: ReplyRequest) -> PublishResult:
        raise PermanentError(
            "TikTok's API has no way to reply to comments or messages; answer in the TikTok app"
        )

    def poll_inbox(self, channel: ChannelContext, cursor: str | None) -> PollResult:
        raise PermanentError("TikTok's API does not expose comments or messages to read")

    def describe_account(self, channel: ChannelContext) -> dict[str, str]:
        token = channel.credentials.get("access_token")
        if not token:
            raise PermanentError("the tiktok channel has no access token")
        response = send(
            self.http,
            "GET",
            f"{self.api_url}/user/info/",
            network="TikTok",
            explain=explain_error,
            headers={"Authorization": f"Bearer {token}"},
            params={"fields": "open_id,display_name"},
            now=self._clock.now,
        )
        body = read_json(response)
        user = object_at(object_at(body, "data"), "user")
        open_id = user.get("open_id")
        if not isinstance(open_id, str) or not open_id or len(open_id) > 128 or not open_id.isprintable():
            raise PermanentError("tiktok returned no open_id for this account")
        return {"handle": str(user.get("display_name") or open_id), "account_id": open_id}


def make_adapter(http: Any = None, clock: Clock | None = None, *, base_url: str | None = None) -> TikTokAdapter:
    return TikTokAdapter(http=http, clock=clock, base_url=base_url)
