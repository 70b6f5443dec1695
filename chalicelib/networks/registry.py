"""The networks Herald knows: what each needs to connect and what it accepts.

Each network declares the credentials and the settings a client may send, as
pydantic models that refuse unknown keys, and how Herald learns the account:
never from what the client typed, always from the network, asked with the
channel's own credentials (`describe_account`).

Adapter modules are imported only when a network is used, so a handler pays
only for the networks it touches.
"""
from __future__ import annotations

import importlib
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated, Any, Literal, get_args

from annotated_types import GroupedMetadata
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from chalicelib.networks.base import NetworkLimits
from chalicelib.networks.text import COUNTERS

# The same as sandbox.FAILURES and mastodon.VISIBILITIES (a unit test holds them equal): written out
# here so that validating a request loads no adapter module.
SandboxFailure = Literal["none", "429", "500", "timeout", "auth", "refused", "invalid"]
MastodonVisibility = Literal["public", "unlisted", "private", "direct"]
SANDBOX_FAILURES: tuple[str, ...] = get_args(SandboxFailure)
MASTODON_VISIBILITIES: tuple[str, ...] = get_args(MastodonVisibility)
MAX_SECRET_CHARS = 4096  # Meta and LinkedIn tokens run to a few hundred characters, Bluesky JWTs to ~1 KB
MAX_URL_CHARS = 2048


def no_control_characters(value: str) -> str:
    """Refuses C0/C1 controls (NUL, ESC, CR, LF, tab...) and lone surrogates: nothing a name or token needs."""
    if any(unicodedata.category(ch) in ("Cc", "Cs") for ch in value):
        raise ValueError("must not contain control characters")
    return value


@dataclass(frozen=True)
class PlainText(GroupedMetadata):
    """A string as sent (no coercion), 1..max_length characters, no control characters:
    `Annotated[str, PlainText(100)]`."""

    max_length: int

    def __iter__(self) -> Iterator[object]:
        yield Field(strict=True, min_length=1, max_length=self.max_length)
        yield AfterValidator(no_control_characters)


Secret = Annotated[str, PlainText(MAX_SECRET_CHARS)]
Url = Annotated[str, PlainText(MAX_URL_CHARS)]
Instant = Annotated[str, PlainText(40)]  # RFC 3339
NumericId = Annotated[str, Field(strict=True, pattern=r"^[0-9]{1,32}$")]


class _Schema(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ChannelSettings(_Schema):
    """What every network's channel may set: a lower text limit (1..the network's own)."""

    max_characters: Annotated[int, Field(strict=True, ge=1)] | None = None

    @field_validator("max_characters")
    @classmethod
    def _within_network_limit(cls, value: int | None, info: ValidationInfo) -> int | None:
        limit = (info.context or {}).get("max_text")
        if value is not None and limit is not None and value > limit:
            raise ValueError(f"must be at most {limit}, this network's own limit")
        return value


class SandboxSettings(ChannelSettings):
    handle: Annotated[str, PlainText(100)] | None = None
    latency_ms: Annotated[int, Field(strict=True, ge=0, le=60_000)] | None = None
    fail: SandboxFailure | None = None
    fail_times: Annotated[int, Field(strict=True, ge=0, le=100)] | None = None
    followers: Annotated[int, Field(strict=True, ge=0, le=1_000_000_000)] | None = None


class MastodonSettings(ChannelSettings):
    visibility: MastodonVisibility | None = None


# The account id a client may name is only a choice among the accounts the network
# says the credentials reach (or a check of the one it names); it is never used as typed.
class FacebookSettings(ChannelSettings):
    page_id: NumericId | None = None


class InstagramSettings(ChannelSettings):
    ig_user_id: NumericId | None = None


class XSettings(ChannelSettings):
    user_id: NumericId | None = None


class LinkedInSettings(ChannelSettings):
    organization_urn: Annotated[str, Field(strict=True, pattern=r"^urn:li:organization(Brand)?:[0-9]{1,20}$")] \
        | None = None
    # A member channel (connected by OAuth) posts as the member: urn:li:person:<OpenID userinfo sub>.
    person_urn: Annotated[str, Field(strict=True, pattern=r"^urn:li:person:[A-Za-z0-9_-]{1,64}$")] | None = None


class TikTokSettings(ChannelSettings):
    open_id: Annotated[str, PlainText(128)] | None = None


class ThreadsSettings(ChannelSettings):
    threads_user_id: NumericId | None = None


class PinterestSettings(ChannelSettings):
    user_id: NumericId | None = None
    # The board pins go to unless a post names one (variants[ch].pinterest.board_id); checked against the
    # account's boards (GET /v5/boards) when the channel is connected.
    board_id: NumericId | None = None


class RedditSettings(ChannelSettings):
    user_id: Annotated[str, Field(strict=True, pattern=r"^[a-z0-9]{1,16}$")] | None = None
    username: Annotated[str, Field(strict=True, pattern=r"^[A-Za-z0-9_-]{3,20}$")] | None = None
    # The subreddit submissions go to unless a post names one (variants[ch].reddit.subreddit).
    subreddit: Annotated[str, Field(strict=True, pattern=r"^[A-Za-z0-9][A-Za-z0-9_]{1,20}$")] | None = None


class TelegramSettings(ChannelSettings):
    # The chat a bot posts to: its id (-100... for channels and supergroups) or a public channel's @username
    # when connecting; Telegram's numeric id replaces it once getChat has answered.
    chat_id: Annotated[str, Field(strict=True, pattern=r"^(-?[0-9]{1,20}|@[A-Za-z][A-Za-z0-9_]{3,31})$")] \
        | None = None


class WhatsAppSettings(ChannelSettings):
    # The business phone number's id in the Cloud API (not the phone number itself).
    phone_number_id: NumericId | None = None


class YouTubeSettings(ChannelSettings):
    youtube_channel_id: Annotated[str, Field(strict=True, pattern=r"^UC[A-Za-z0-9_-]{22}$")] | None = None


class GoogleBusinessSettings(ChannelSettings):
    # The location posts go to, and the Business Profile account it belongs to (the v4 path names both).
    google_account_id: NumericId | None = None
    location_id: NumericId | None = None


class SandboxCredentials(_Schema):
    token: Secret | None = None


class BlueskyCredentials(_Schema):
    service_url: Url
    handle: Annotated[str, PlainText(253)]
    app_password: Secret


class MastodonCredentials(_Schema):
    instance_url: Url
    access_token: Secret


class FacebookCredentials(_Schema):
    page_access_token: Secret


class AccessTokenCredentials(_Schema):
    access_token: Secret


class ThreadsCredentials(_Schema):
    """A long-lived Threads user token (60 days). Threads has no refresh token: the token itself is
    refreshed (`th_refresh_token`) while it is valid and at least a day old."""

    access_token: Secret
    expires_at: Instant | None = None


class TikTokCredentials(_Schema):
    """A TikTok user token (24 hours) and its refresh token (a year); RFC 3339 expiries."""

    access_token: Secret
    refresh_token: Secret | None = None
    expires_at: Instant | None = None
    refresh_expires_at: Instant | None = None


class TelegramCredentials(_Schema):
    """The bot token @BotFather gives: `<bot id>:<secret>`. It is part of every Bot API URL."""

    bot_token: Annotated[str, Field(strict=True, pattern=r"^[0-9]{1,20}:[A-Za-z0-9_-]{20,100}$")]


class DiscordCredentials(_Schema):
    """A channel webhook URL (https://discord.com/api/webhooks/<id>/<token>); the adapter checks its host
    against HERALD_DISCORD_API_URL and the outbound policy before anything is sent."""

    webhook_url: Url


class XCredentials(_Schema):
    access_token: Secret
    refresh_token: Secret
    # RFC 3339: when the access token lapses (X's last two hours); the adapter refreshes before it.
    expires_at: Instant | None = None


class RefreshableCredentials(_Schema):
    """An OAuth 2.0 access token, the refresh token that renews it, and when it lapses (RFC 3339)."""

    access_token: Secret
    refresh_token: Secret | None = None
    expires_at: Instant | None = None


class GoogleCredentials(_Schema):
    """Google's OAuth 2.0 grant (YouTube, Business Profile): an access token of an hour, the refresh token
    (offline access) that renews it, and when the access token lapses (RFC 3339)."""

    access_token: Secret
    refresh_token: Secret
    expires_at: Instant | None = None


@dataclass(frozen=True)
class NetworkSpec:
    name: str
    module: str
    credentials_model: type[BaseModel]
    settings_model: type[ChannelSettings]
    # The settings field naming the network's id of the account (webhooks find the channel by it).
    # The client may name one; the network decides (services/channels.py).
    account_setting: str | None = None
    # Connecting asks the network who the credentials belong to (all but the sandbox).
    verify_on_connect: bool = True
    can_publish: bool = True
    # No webhooks: the inbox poller asks the network for new notifications.
    polls_inbox: bool = False
    # What Herald asks the network on connect, for the README and error messages.
    verified_by: str = ""

    @property
    def credential_fields(self) -> tuple[str, ...]:
        """The credentials a channel must have, in the order they are asked for."""
        return tuple(name for name, field in self.credentials_model.model_fields.items() if field.is_required())


NETWORKS: dict[str, NetworkSpec] = {
    spec.name: spec for spec in (
        NetworkSpec("sandbox", "chalicelib.networks.sandbox", SandboxCredentials, SandboxSettings,
                    verify_on_connect=False),
        NetworkSpec("bluesky", "chalicelib.networks.bluesky", BlueskyCredentials, ChannelSettings,
                    polls_inbox=True, verified_by="com.atproto.server.createSession"),
        NetworkSpec("mastodon", "chalicelib.networks.mastodon", MastodonCredentials, MastodonSettings,
                    polls_inbox=True, verified_by="GET /api/v1/accounts/verify_credentials"),
        NetworkSpec("facebook", "chalicelib.networks.meta", FacebookCredentials, FacebookSettings, "page_id",
                    verified_by="GET /me?fields=id,name"),
        NetworkSpec("instagram", "chalicelib.networks.meta", AccessTokenCredentials, InstagramSettings,
                    "ig_user_id",
                    verified_by="GET /me?fields=instagram_business_account{id,username}"),
        NetworkSpec("x", "chalicelib.networks.x", XCredentials, XSettings, "user_id",
                    verified_by="GET /2/users/me"),
        NetworkSpec("linkedin", "chalicelib.networks.linkedin", AccessTokenCredentials, LinkedInSettings,
                    "organization_urn",
                    verified_by="GET /rest/organizationAcls?q=roleAssignee&role=ADMINISTRATOR&state=APPROVED"),
        NetworkSpec("tiktok", "chalicelib.networks.tiktok", TikTokCredentials, TikTokSettings, "open_id",
                    verified_by="GET /v2/user/info/?fields=open_id,display_name"),
        NetworkSpec("threads", "chalicelib.networks.threads", ThreadsCredentials, ThreadsSettings,
                    "threads_user_id", verified_by="GET /me?fields=id,username"),
        NetworkSpec("pinterest", "chalicelib.networks.pinterest", RefreshableCredentials, PinterestSettings,
                    "user_id", verified_by="GET /v5/user_account (and GET /v5/boards for a board_id)"),
        NetworkSpec("reddit", "chalicelib.networks.reddit", RefreshableCredentials, RedditSettings, "user_id",
                    verified_by="GET /api/v1/me (and GET /r/{subreddit}/about for a subreddit)"),
        NetworkSpec("telegram", "chalicelib.networks.telegram", TelegramCredentials, TelegramSettings,
                    verified_by="getMe, getChat, getChatMember (the bot administers the chat and may post)"),
        NetworkSpec("discord", "chalicelib.networks.discord", DiscordCredentials, ChannelSettings,
                    verified_by="GET {webhook_url} (the webhook's channel and guild)"),
        # WhatsApp Business (Cloud API): the inbox only; messages come by the Meta webhook.
        NetworkSpec("whatsapp", "chalicelib.networks.whatsapp", AccessTokenCredentials, WhatsAppSettings,
                    "phone_number_id", can_publish=False,
                    verified_by="GET /{phone_number_id}?fields=display_phone_number,verified_name"),
        NetworkSpec("youtube", "chalicelib.networks.youtube", GoogleCredentials, YouTubeSettings,
                    "youtube_channel_id", verified_by="GET /youtube/v3/channels?part=snippet&mine=true"),
        NetworkSpec("google_business", "chalicelib.networks.google_business", GoogleCredentials,
                    GoogleBusinessSettings, "location_id",
                    verified_by="GET mybusinessbusinessinformation /v1/locations/{location_id}?readMask=name,title"),
    )
}


def get_spec(network: str) -> NetworkSpec | None:
    return NETWORKS.get(network)


def network_module(network: str) -> Any:
    return importlib.import_module(NETWORKS[network].module)


def default_limits(network: str) -> NetworkLimits:
    module = network_module(network)
    limits: NetworkLimits = getattr(module, "LIMITS_BY_NETWORK", {}).get(network) or module.LIMITS
    return limits


def limits_for(network: str, settings: dict[str, Any] | None = None) -> NetworkLimits:
    limits = default_limits(network)
    override = (settings or {}).get("max_characters")
    if override:
        from dataclasses import replace

        limits = replace(limits, max_text=int(override))
    return limits


def text_length(network: str, text: str, settings: dict[str, Any] | None = None) -> int:
    limits = limits_for(network, settings)
    return COUNTERS[limits.text_counting](text, settings or {})
