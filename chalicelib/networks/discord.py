"""Discord: posts through a channel webhook (Execute Webhook, `POST /webhooks/{id}/{token}?wait=true`).

`wait=true` makes Discord answer the message it created, so the post has an id and a link. Text is
`content` (2000 characters), rich embeds come from the post's options, files go as multipart/form-data
(`payload_json` + `files[n]`, streamed), and `allowed_mentions` is always `{"parse": []}` unless a person asks
otherwise: a scheduled post never pings @everyone, a role or a user by accident.

The webhook URL is the credential (its last segment is the token that lets anyone post): it is sealed like any
other, validated to be a webhook URL of the Discord host Herald is configured for (HERALD_DISCORD_API_URL), and
every request to it goes through the outbound policy (a client typed it). No error message or log line contains
it. `GET {webhook}/messages/{id}` confirms a recorded message; without an id (the answer was lost) a webhook
cannot read its channel's history, so an ambiguous attempt is settled `unknown`.

Sources are cited in tests/events/discord/README.md.
"""
from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from chalicelib.core.clock import Clock, SystemClock
from chalicelib.core.outbound import OutboundPolicy, OutboundRefused
from chalicelib.networks import redact
from chalicelib.networks.base import (
    AmbiguousError,
    AuthError,
    ChannelContext,
    ChannelInsights,
    ContentProblem,
    NetworkLimits,
    PermanentError,
    PollResult,
    PublishRequest,
    PublishResult,
    RateBudget,
    ReplyRequest,
)
from chalicelib.networks.http_failures import ErrorDetail, read_json, send
from chalicelib.networks.multipart import MultipartBody, media_part

NETWORK = "Discord"
API_URL = "https://discord.com/api"
API_VERSION = "v10"
# The hosts Discord hands out webhook URLs on; accepted only while HERALD_DISCORD_API_URL is the real host.
DISCORD_HOSTS = ("discord.com", "discordapp.com", "ptb.discord.com", "canary.discord.com")
MESSAGE_LINK = "https://discord.com/channels/{guild}/{channel}/{message}"

MAX_CONTENT = 2000
MAX_EMBEDS = 10
MAX_FILES = 10
MAX_REQUEST_BYTES = 25 * 1024 * 1024  # "The maximum request size when sending a message is 25 MiB"
MAX_EMBED_TOTAL = 6000  # title, description, field names and values, footer text and author name together
MAX_ALT = 1024  # attachment description
SUPPRESS_EMBEDS = 1 << 2
MEDIA_TYPES = ("image/jpeg", "image/png", "image/gif", "image/webp", "video/mp4", "video/quicktime",
               "video/webm", "application/pdf", "text/plain", "application/zip")

LIMITS = NetworkLimits(max_text=MAX_CONTENT, text_counting="characters", max_media=MAX_FILES,
                       media_types=MEDIA_TYPES, max_media_bytes=MAX_REQUEST_BYTES)

# Discord limits each webhook to a few requests a second (the X-RateLimit-* headers say how many) and
# documents a global 50 requests a second; one post at a time per webhook keeps to its bucket.
BUDGET = RateBudget(per_account_concurrency=1, per_network_concurrency=40)

WEBHOOK_PATH = re.compile(r"^(?:/v\d+)?/webhooks/(?P<id>[0-9]{1,20})/(?P<token>[A-Za-z0-9_.-]{1,100})/?$")

UNKNOWN_WEBHOOK = 10015
UNKNOWN_MESSAGE = 10008
INVALID_WEBHOOK_TOKEN = 50027
MISSING_ACCESS = {50001, 50013}
FORUM_NEEDS_THREAD = {220001, 220003}


def _text(high: int) -> Any:
    return Annotated[str, Field(min_length=1, max_length=high)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class EmbedFooter(_Strict):
    text: _text(2048)  # type: ignore[valid-type]
    icon_url: _text(2048) | None = None  # type: ignore[valid-type]


class EmbedAuthor(_Strict):
    name: _text(256)  # type: ignore[valid-type]
    url: _text(2048) | None = None  # type: ignore[valid-type]
    icon_url: _text(2048) | None = None  # type: ignore[valid-type]


class EmbedImage(_Strict):
    url: _text(2048)  # type: ignore[valid-type]


class EmbedField(_Strict):
    name: _text(256)  # type: ignore[valid-type]
    value: _text(1024)  # type: ignore[valid-type]
    inline: bool = False


class Embed(_Strict):
    """The embed fields a webhook may set (not type, provider, video, sizes): the documented limits."""

    title: _text(256) | None = None  # type: ignore[valid-type]
    description: _text(4096) | None = None  # type: ignore[valid-type]
    url: _text(2048) | None = None  # type: ignore[valid-type]
    timestamp: _text(40) | None = None  # type: ignore[valid-type]
    color: Annotated[int, Field(ge=0, le=0xFFFFFF)] | None = None
    footer: EmbedFooter | None = None
    image: EmbedImage | None = None
    thumbnail: EmbedImage | None = None
    author: EmbedAuthor | None = None
    fields: Annotated[list[EmbedField], Field(max_length=25)] = []

    def characters(self) -> int:
        parts = [self.title, self.description, self.footer.text if self.footer else None,
                 self.author.name if self.author else None]
        parts += [text for field in self.fields for text in (field.name, field.value)]
        return sum(len(part) for part in parts if part)


class DiscordOptions(_Strict):
    """`variants[ch].discord`."""

    username: _text(80) | None = None  # type: ignore[valid-type]
    avatar_url: _text(2048) | None = None  # type: ignore[valid-type]
    embeds: Annotated[list[Embed], Field(max_length=MAX_EMBEDS)] = []
    suppress_embeds: bool = False  # no link previews under the message
    thread_name: _text(100) | None = None  # type: ignore[valid-type]  # forum/media channels: the new post


def options_of(request: PublishRequest) -> DiscordOptions:
    try:
        return DiscordOptions.model_validate(dict(request.options))
    except ValidationError:
        raise PermanentError("the Discord options of this post are not valid") from None


# -- the webhook URL --------------------------------------------------------------------------------------------

def parse_webhook(url: str, api_url: str = API_URL, policy: OutboundPolicy | None = None) -> tuple[str, str]:
    """(webhook id, token) of `{api_url}[/v10]/webhooks/{id}/{token}`; PermanentError with a sentence (that
    never repeats the URL) otherwise. The URL must also pass the outbound policy: a client typed it."""
    parts = urlsplit(str(url or "").strip())
    base = urlsplit(api_url.rstrip("/"))
    host = (parts.hostname or "").lower()
    if api_url.rstrip("/") == API_URL:
        host_ok = parts.scheme == "https" and host in DISCORD_HOSTS and parts.port in (None, 443)
    else:
        host_ok = (parts.scheme, parts.netloc.lower()) == (base.scheme, base.netloc.lower())
    if not host_ok:
        raise PermanentError("the webhook URL must be a Discord webhook URL (https://discord.com/api/webhooks/...)")
    path = parts.path
    prefix = base.path.rstrip("/") if api_url.rstrip("/") != API_URL else "/api"
    match = WEBHOOK_PATH.match(path[len(prefix):]) if path.startswith(prefix + "/") else None
    if match is None or parts.query or parts.fragment:
        raise PermanentError("the webhook URL must look like https://discord.com/api/webhooks/<id>/<token>, "
                             "as Discord's 'Copy Webhook URL' gives it")
    try:
        (policy or OutboundPolicy()).check_url(url)
    except OutboundRefused as refused:
        raise PermanentError(f"the webhook URL was refused: {refused.reason}") from None
    return match["id"], match["token"]


# -- rules -----------------------------------------------------------------------------------------------------

def post_content(request: PublishRequest) -> str:
    text = request.text
    if request.link and request.link not in text:
        text = f"{text}\n{request.link}" if text.strip() else request.link
    return text


def content_problems(request: PublishRequest) -> list[ContentProblem]:
    problems: list[ContentProblem] = []
    try:
        options = DiscordOptions.model_validate(dict(request.options))
    except ValidationError as error:
        for item in error.errors(include_url=False, include_input=False):
            name = ".".join(str(part) for part in item["loc"])
            problems.append(ContentProblem(f"options.{name}", f"is not a valid Discord option ({item['msg']})"))
        options = DiscordOptions()
    content = post_content(request)
    if len(content) > MAX_CONTENT:
        problems.append(ContentProblem("text", f"is {len(content)} characters long; a Discord message takes "
                                               f"{MAX_CONTENT}"))
    if not content.strip() and not request.media and not options.embeds:
        problems.append(ContentProblem("text", "Discord needs text, a file or an embed"))
    total = sum(embed.characters() for embed in options.embeds)
    if total > MAX_EMBED_TOTAL:
        problems.append(ContentProblem("options.embeds", f"hold {total} characters; Discord takes "
                                                         f"{MAX_EMBED_TOTAL} across all embeds of a message"))
    if options.username and re.search(r"discord|clyde", options.username, re.IGNORECASE):
        problems.append(ContentProblem("options.username", "Discord refuses a webhook name containing "
                                                           "'discord' or 'clyde'"))
    problems += _media_problems(request)
    if request.thread:
        problems.append(ContentProblem("thread", "Herald posts one Discord message per post; a thread of parts is "
                                                 "not supported"))
    if request.first_comment:
        problems.append(ContentProblem("first_comment", "a Discord webhook message has no comments"))
    return problems


def _media_problems(request: PublishRequest) -> list[ContentProblem]:
    problems: list[ContentProblem] = []
    if len(request.media) > MAX_FILES:
        problems.append(ContentProblem("media", f"has {len(request.media)} files; a Discord message takes "
                                                f"{MAX_FILES}"))
    for index, item in enumerate(request.media):
        if item.mime not in MEDIA_TYPES:
            problems.append(ContentProblem(f"media.{index}", f"{item.mime} is not a kind Herald sends to Discord"))
        if len(item.alt) > MAX_ALT:
            problems.append(ContentProblem(f"media.{index}", f"has a description longer than the {MAX_ALT} "
                                                             "characters Discord takes"))
    sizes = [item.size or 0 for item in request.media]
    if sum(sizes) > MAX_REQUEST_BYTES:
        problems.append(ContentProblem("media", "is larger than the 25 MiB Discord takes in one message"))
    return problems


# -- errors ----------------------------------------------------------------------------------------------------

def explain_error(response: Any) -> ErrorDetail:
    """`{"code", "message", "errors"?}`; 429: `{"message", "retry_after" (seconds), "global"}` with
    Retry-After and X-RateLimit-* headers."""
    body = read_json(response)
    body = body if isinstance(body, Mapping) else {}
    code = body.get("code")
    text = str(body.get("message") or "")
    status = response.status_code
    if status == 429:
        return ErrorDetail(text=text or "rate limited", rate_limited=True, retry_after_s=_wait(body, response))
    if code in (UNKNOWN_WEBHOOK, INVALID_WEBHOOK_TOKEN) or (status == 404 and code is None):
        return ErrorDetail(text=text, auth=True,
                           sentence="Discord says this webhook no longer exists (it was deleted or its token "
                                    "reset); create a new webhook and reconnect the channel")
    if code in MISSING_ACCESS:
        return ErrorDetail(text=text, auth=True,
                           sentence=f"Discord refused the webhook access to its channel ({text}); reconnect the "
                                    "channel with a new webhook")
    if code in FORUM_NEEDS_THREAD:
        return ErrorDetail(text=text, not_auth=True,
                           sentence="this Discord webhook posts to a forum channel: set the post's Discord "
                                    "option thread_name")
    if status == 413 or code == 40005:
        return ErrorDetail(text=text, not_auth=True,
                           sentence="Discord refused the files: the message is larger than the 25 MiB it takes")
    detail = _form_errors(body.get("errors"))
    return ErrorDetail(text=f"{text} ({detail})" if detail else text, not_auth=True)


def _wait(body: Mapping[str, Any], response: Any) -> float | None:
    wait = body.get("retry_after")
    if isinstance(wait, int | float) and not isinstance(wait, bool):
        return float(wait)
    headers = {k.lower(): v for k, v in (getattr(response, "headers", None) or {}).items()}
    try:
        return float(headers["x-ratelimit-reset-after"])
    except (KeyError, ValueError):
        return None


def _form_errors(errors: Any, path: str = "") -> str:
    """Discord's nested `errors` of a 50035 Invalid Form Body, as `field: message` pairs."""
    if not isinstance(errors, Mapping):
        return ""
    found = []
    for key, value in errors.items():
        if key == "_errors" and isinstance(value, list):
            found += [f"{path or 'body'}: {item.get('message')}" for item in value if isinstance(item, Mapping)]
        elif isinstance(value, Mapping):
            inner = _form_errors(value, f"{path}.{key}" if path else str(key))
            if inner:
                found.append(inner)
    return "; ".join(found)


# -- the adapter -----------------------------------------------------------------------------------------------

class DiscordAdapter:
    """Credentials: `webhook_url`. Settings (from Discord on connect): webhook_id, channel_id, guild_id."""

    network = "discord"
    limits = LIMITS
    # Brand consistency: a webhook is not an account; what a message shows is the `username` and `avatar_url`
    # Herald sends with it (options), and the server's name and icon belong to the server.
    no_profile = ("Discord has no public profile for a webhook channel: each message shows the name and avatar "
                  "it is sent with.")
    idempotent_publish = False

    def __init__(self, http: Any = None, clock: Clock | None = None, *, base_url: str | None = None,
                 policy: OutboundPolicy | None = None) -> None:
        self._http = http
        self._clock = clock or SystemClock()
        redact.install()  # the token is in the URL path: urllib3's DEBUG lines print paths
        # HERALD_DISCORD_API_URL: the host a webhook URL must be on, and where its requests go.
        self.api_url = (base_url or API_URL).rstrip("/")
        self._policy = policy or OutboundPolicy()

    @property
    def http(self) -> Any:
        if self._http is None:
            self._http = self._policy.session()
        return self._http

    # -- connecting -------------------------------------------------------------------------------------------

    def describe_account(self, channel: ChannelContext) -> dict[str, str]:
        """`GET {webhook}`: the webhook's id, name, channel and guild. Its answer holds the token again; only
        the fields below are kept."""
        webhook_id, _token = self._webhook(channel, connecting=True)
        body = self._json(self._send(channel, "GET", ""))
        if str(body.get("id")) != webhook_id or not body.get("channel_id"):
            raise PermanentError("Discord answered for another webhook than the URL names")
        name = str(body.get("name") or webhook_id)
        return {"account_id": webhook_id, "handle": name, "webhook_id": webhook_id,
                "channel_id": str(body["channel_id"]), "guild_id": str(body.get("guild_id") or "")}

    def content_problems(self, request: PublishRequest) -> list[ContentProblem]:
        return content_problems(request)

    # -- publishing -------------------------------------------------------------------------------------------

    def publish(self, channel: ChannelContext, request: PublishRequest) -> PublishResult:
        recorded = request.progress.get("message_id") if isinstance(request.progress, Mapping) else None
        if recorded:  # an earlier attempt posted it; its result was not stored
            return self._result(channel, dict(request.progress))
        options = options_of(request)
        payload = self._payload(request, options)
        if request.media:
            payload["attachments"] = [{"id": i, "filename": f"media{i}", **({"description": item.alt}
                                                                          if item.alt else {})}
                                      for i, item in enumerate(request.media)]
            files = [media_part(f"files[{i}]", item, i, NETWORK) for i, item in enumerate(request.media)]
            for entry, part in zip(payload["attachments"], files, strict=True):
                entry["filename"] = part.filename
            body = MultipartBody([("payload_json", json.dumps(payload))], files)
            response = self._send(channel, "POST", "", params={"wait": "true"}, data=body,
                                  headers={"Content-Type": body.content_type}, publishes=True)
        else:
            response = self._send(channel, "POST", "", params={"wait": "true"}, json=payload, publishes=True)
        message = self._json(response)
        if not message.get("id"):
            raise AmbiguousError("Discord accepted the message but answered no id")
        progress = {"message_id": str(message["id"]), "channel_id": str(message.get("channel_id") or ""),
                    "timestamp": str(message.get("timestamp") or "")}
        request.record_progress(progress)
        return self._result(channel, progress)

    @staticmethod
    def _payload(request: PublishRequest, options: DiscordOptions) -> dict[str, Any]:
        payload: dict[str, Any] = {"allowed_mentions": {"parse": []}}
        content = post_content(request)
        if content:
            payload["content"] = content
        if options.username:
            payload["username"] = options.username
        if options.avatar_url:
            payload["avatar_url"] = options.avatar_url
        if options.embeds:
            payload["embeds"] = [embed.model_dump(exclude_none=True, exclude_defaults=True)
                                 for embed in options.embeds]
        if options.suppress_embeds:
            payload["flags"] = SUPPRESS_EMBEDS
        if options.thread_name:
            payload["thread_name"] = options.thread_name
        return payload

    def _result(self, channel: ChannelContext, progress: Mapping[str, Any]) -> PublishResult:
        message_id = str(progress["message_id"])
        guild = str(channel.settings.get("guild_id") or "")
        channel_id = str(progress.get("channel_id") or channel.settings.get("channel_id") or "")
        link = MESSAGE_LINK.format(guild=guild, channel=channel_id, message=message_id) if guild and channel_id \
            else None
        return PublishResult(remote_id=message_id, remote_url=link, published_at=_moment(progress.get("timestamp")))

    # -- looking before a retry -------------------------------------------------------------------------------

    def find_published(self, channel: ChannelContext, request: PublishRequest) -> PublishResult | None:
        """With a message id recorded by an earlier attempt, `GET {webhook}/messages/{id}` confirms it (a
        message deleted since is still reported published: it went out once). Without an id Herald cannot
        tell: a webhook cannot list its channel's messages, so the engine settles the delivery `unknown`."""
        progress = dict(request.progress) if isinstance(request.progress, Mapping) else {}
        message_id = str(progress.get("message_id") or "")
        if not message_id:
            raise AmbiguousError("a Discord webhook cannot read its channel's messages, so Herald cannot tell "
                                 "whether this post went out; check the channel")
        params = {"thread_id": progress["channel_id"]} if progress.get("channel_id") and \
            progress.get("channel_id") != channel.settings.get("channel_id") else None
        try:
            message = self._json(self._send(channel, "GET", f"/messages/{message_id}", params=params))
        except PermanentError as error:
            if error.status == 404:
                return self._result(channel, progress)
            raise
        return self._result(channel, {**progress, "timestamp": message.get("timestamp") or progress.get("timestamp")})

    # -- what a webhook cannot do ----------------------------------------------------------------------------

    def reply(self, channel: ChannelContext, request: ReplyRequest) -> PublishResult:
        raise PermanentError("a Discord webhook only posts; Herald does not answer Discord messages")

    def fetch_insights(self, channel: ChannelContext, remote_ids: list[str]) -> ChannelInsights:
        raise PermanentError("a Discord webhook gives no insights")

    def poll_inbox(self, channel: ChannelContext, cursor: str | None) -> PollResult:
        raise PermanentError("a Discord webhook reads no inbox")

    # -- HTTP -------------------------------------------------------------------------------------------------

    def _webhook(self, channel: ChannelContext, *, connecting: bool = False) -> tuple[str, str]:
        url = str(channel.credentials.get("webhook_url") or "")
        if not url:
            raise AuthError("this Discord channel has no webhook URL; reconnect it")
        try:
            return parse_webhook(url, self.api_url, self._policy)
        except PermanentError as error:
            if connecting:
                from chalicelib.core.errors import ValidationFailed

                raise ValidationFailed.field("credentials.webhook_url", error.message) from None
            raise AuthError(f"{error.message}; reconnect the channel") from None

    def _send(self, channel: ChannelContext, method: str, path: str, *, publishes: bool = False,
              **kwargs: Any) -> Any:
        webhook_id, token = self._webhook(channel)
        url = f"{self.api_url}/{API_VERSION}/webhooks/{webhook_id}/{token}{path}"
        try:
            http = self.http  # a write broken after sending is ambiguous (http_failures.send)
            return send(http, method, url, network=NETWORK, explain=explain_error, now=self._clock.now, **kwargs)
        except OutboundRefused as refused:
            if refused.sent and publishes:
                raise AmbiguousError(f"Discord's answer was refused ({refused.reason}); the message may have "
                                     "been posted") from None
            raise PermanentError(f"Discord was not contacted: {refused.reason}") from None

    @staticmethod
    def _json(response: Any) -> dict[str, Any]:
        body = read_json(response)
        return body if isinstance(body, dict) else {}


def _moment(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def make_adapter(http: Any = None, clock: Clock | None = None, *, base_url: str | None = None,
                 policy: OutboundPolicy | None = None) -> DiscordAdapter:
    return DiscordAdapter(http=http, clock=clock, base_url=base_url, policy=policy)
