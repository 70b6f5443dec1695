"""The interface every network adapter implements, and the shapes it speaks.

An adapter is the only code that knows a platform's API. Services call it with
plain data and get plain data back; failures are reported as the exception
classes below so that the publishing engine can decide what to do without
knowing the platform.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol

# What an inbound event is, and so what a reply answers: a comment, a direct message or a mention.
EventKind = Literal["comment", "message", "mention"]


@dataclass(frozen=True)
class NetworkLimits:
    """What a network accepts; checked before anything is queued."""

    max_text: int
    text_counting: Literal["characters", "graphemes", "utf16", "mastodon", "x_weighted", "threads"] = "characters"
    max_media: int = 4
    media_types: tuple[str, ...] = ("image/jpeg", "image/png", "image/gif", "image/webp")
    max_media_bytes: int = 5 * 1024 * 1024
    requires_media: bool = False


@dataclass(frozen=True)
class RateBudget:
    """How much of a network Herald may use at once, so that a burst waits its turn instead of meeting 429s."""

    per_account_concurrency: int = 4
    per_network_concurrency: int = 50


@dataclass(frozen=True)
class ContentProblem:
    """A rule the network documents that a post breaks. `field` is relative to the delivery's content:
    `text`, `media`, `media.0`, `thread.1.text`, `first_comment`, `options.privacy_level`..."""

    field: str
    message: str


@dataclass
class ChannelContext:
    """A connected account as an adapter sees it: decrypted credentials included.

    `save_credentials` persists refreshed tokens (encrypted) when an adapter
    rotates them, for example a Bluesky session refresh.
    """

    workspace_id: str
    channel_id: str
    network: str
    settings: dict[str, Any]
    credentials: dict[str, Any]
    save_credentials: Callable[[dict[str, Any]], None] = lambda _creds: None
    # The engine's atomic refresh of an OAuth token (a conditional write on the token version; when another
    # worker refreshed first, the credentials it stored): an adapter whose call is refused for an expired token
    # asks it once and retries. It raises AuthError when the network says the grant is revoked. None: no refresh.
    refresh_credentials: Callable[[], Mapping[str, Any]] | None = None


@dataclass(frozen=True)
class MediaItem:
    mime: str
    alt: str = ""
    url: str | None = None
    media_id: str | None = None
    size: int | None = None
    # Returns the bytes; injected by the caller (S3 read or an HTTP GET).
    load: Callable[[], bytes] | None = None
    # The bytes in chunks, for uploads that must not hold a video in memory (chunked, resumable).
    stream: Callable[[int], Iterator[bytes]] | None = None
    # A short-lived https URL of the bytes, for networks that fetch media themselves (Meta, Threads, TikTok
    # pull): argument is the lifetime in seconds.
    public_url: Callable[[int], str] | None = None
    # Seconds, for video: what the network's duration rules are checked against when known.
    duration_s: float | None = None
    width: int | None = None
    height: int | None = None


@dataclass(frozen=True)
class ThreadPart:
    """A part after the first of a thread (X, Threads, Bluesky, Mastodon): its own text and media."""

    text: str
    media: tuple[MediaItem, ...] = ()


@dataclass(frozen=True)
class PublishRequest:
    """One delivery of one post to one channel.

    `delivery_id` is stable across retries: adapters derive their idempotency
    key (Mastodon `Idempotency-Key`, Bluesky record key) from it.
    """

    delivery_id: str
    text: str
    media: tuple[MediaItem, ...] = ()
    link: str | None = None
    # Parts after the first: published in order, each as a reply to the one before.
    thread: tuple[ThreadPart, ...] = ()
    # A comment the account adds under its own post once it is out (Instagram, Facebook, LinkedIn, YouTube).
    first_comment: str | None = None
    # The network's own per-post options from the post's variant (`variants[ch].<network>`), validated.
    options: Mapping[str, Any] = field(default_factory=dict)
    # What earlier attempts of this delivery recorded with `record_progress` (container ids, the remote ids of
    # thread parts already out): a multi-step publish continues from here and never repeats a finished step.
    progress: Mapping[str, Any] = field(default_factory=dict)
    # Persists `progress` before the next step is taken (a write conditioned on the delivery's claim).
    record_progress: Callable[[Mapping[str, Any]], None] = lambda _progress: None
    # When the first attempt was made: an adapter whose network keeps an idempotency key for a window
    # knows whether a retry is still inside it.
    first_attempt_at: datetime | None = None


@dataclass(frozen=True)
class ReplyRequest:
    """A reply from the inbox. `in_reply_to` is the platform id of the message
    answered; `thread` carries whatever else the network needs (a root uri, a
    recipient id), as the adapter put it on the inbound event."""

    reply_id: str
    text: str
    in_reply_to: str
    thread: Mapping[str, Any] = field(default_factory=dict)
    kind: EventKind = "comment"
    # Outside a messaging network's customer-service window (WhatsApp, Messenger: 24 hours after the person's
    # last message) only these may be sent: an approved WhatsApp template (its name and language code), or a
    # Messenger message tag (HUMAN_AGENT...). They come from the saved reply the reply names.
    template_name: str | None = None
    template_language: str = "en_US"
    message_tag: str | None = None


@dataclass(frozen=True)
class PublishResult:
    remote_id: str
    remote_url: str | None = None
    published_at: datetime | None = None
    # What went wrong after the post was out and cannot undo it (a first comment the network refused).
    warnings: tuple[str, ...] = ()


class NetworkError(Exception):
    """Base of what an adapter raises. `message` is for a person."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


class RetryableError(NetworkError):
    """429, 5xx, or a connection refused before the request was sent."""

    def __init__(self, message: str, *, status: int | None = None,
                 retry_after_s: float | None = None) -> None:
        super().__init__(message, status=status)
        self.retry_after_s = retry_after_s


class PermanentError(NetworkError):
    """The network refused the content (validation, policy): retrying won't help."""


class AuthError(NetworkError):
    """Credentials are invalid or revoked: the channel needs to be reconnected."""


class AmbiguousError(NetworkError):
    """The request may have reached the network (a timeout after sending)."""


class StillProcessing(NetworkError):
    """The network took a step and is still working on it (a Meta container, an uploaded video, a TikTok
    publish): nothing failed. The engine records `progress`, keeps the delivery, and calls `publish` again
    with that progress after `check_after_s`, from a delayed message, never by sleeping."""

    def __init__(self, message: str, *, progress: Mapping[str, Any], check_after_s: float = 10.0) -> None:
        super().__init__(message)
        self.progress = dict(progress)
        self.check_after_s = check_after_s


class SignatureError(Exception):
    """A webhook request whose signature, timestamp or handshake is not valid."""


@dataclass(frozen=True)
class InboundEvent:
    """A comment, direct message or mention, normalised from a webhook or a poll.

    - `account_id`: the platform id of *our* connected account (page id, IG user
      id, X user id, organization URN, TikTok open_id, Bluesky DID, Mastodon
      account id); it finds the workspace and channel.
    - `event_id`: the platform's own unique id for this event; stored at most once.
    - `thread_key`: comments: the platform id of the post commented on; direct
      messages: the other party's id. One thread key is one conversation.
    - `reply_context`: whatever the adapter needs later to answer (root/parent
      uris, recipient ids, comment ids).
    """

    network: str
    account_id: str
    event_id: str
    kind: EventKind
    action: Literal["created", "edited", "deleted"]
    thread_key: str
    message_id: str
    direction: Literal["inbound", "outbound"]
    text: str
    occurred_at: datetime
    author_id: str = ""
    author_name: str = ""
    author_handle: str = ""
    parent_id: str | None = None
    reply_context: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class PollResult:
    events: list[InboundEvent]
    cursor: str | None


@dataclass(frozen=True)
class PostInsights:
    remote_id: str
    likes: int | None = None
    reposts: int | None = None
    replies: int | None = None
    impressions: int | None = None


@dataclass(frozen=True)
class ChannelInsights:
    followers: int | None
    posts: list[PostInsights] = field(default_factory=list)


class NetworkAdapter(Protocol):
    """What every network module's `make_adapter(...)` returns (docs/networks.md).

    Methods a network cannot do raise `PermanentError` with a clear message.
    """

    network: str
    limits: NetworkLimits
    # True when a publish that timed out after sending may be retried because
    # the network deduplicates it (Mastodon Idempotency-Key, Bluesky rkey).
    idempotent_publish: bool

    def publish(self, channel: ChannelContext, request: PublishRequest) -> PublishResult: ...

    def reply(self, channel: ChannelContext, request: ReplyRequest) -> PublishResult: ...

    def fetch_insights(self, channel: ChannelContext, remote_ids: list[str]) -> ChannelInsights: ...

    def poll_inbox(self, channel: ChannelContext, cursor: str | None) -> PollResult: ...

    def describe_account(self, channel: ChannelContext) -> dict[str, Any]:
        """`{"handle": ..., "account_id": ...}` for a newly connected channel, with the settings the network
        gave (Mastodon's text limits) or `"accounts"`: those the credentials reach, to choose among."""
        ...


class ChecksContent(Protocol):
    """An adapter whose network has rules beyond `NetworkLimits` (media kinds and mixes, durations, aspect
    ratios, option values) checks them here; the post is refused with a 422 when it is saved."""

    def content_problems(self, request: PublishRequest) -> list[ContentProblem]: ...


class LooksBeforeRetry(Protocol):
    """An adapter whose network does not deduplicate a repeated publish may offer this: after an
    ambiguous attempt the engine asks it before retrying."""

    def find_published(self, channel: ChannelContext, request: PublishRequest) -> PublishResult | None:
        """The delivery's post if the account has it (found by its marker: the exact text near the attempt's
        time, or the container id), None when it is certainly absent. Raises `AmbiguousError` when the
        network cannot tell."""
        ...


# -- connecting by OAuth 2.0 ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class OAuthApp:
    """Herald's app on a network, from settings (never from a request)."""

    client_id: str
    client_secret: str = field(repr=False)


@dataclass(frozen=True)
class TokenGrant:
    """What a code exchange or a refresh answered. Tokens never appear in a repr or a log line."""

    access_token: str = field(repr=False)
    refresh_token: str | None = field(default=None, repr=False)
    expires_at: datetime | None = None
    refresh_expires_at: datetime | None = None
    scopes: tuple[str, ...] = ()
    # The network's other fields worth keeping (a user id that came with the token, the token type).
    extra: Mapping[str, Any] = field(default_factory=dict, repr=False)


@dataclass(frozen=True)
class GrantedAccount:
    """One account a grant can publish to (a Facebook Page, its Instagram account, a LinkedIn organization or
    the member, an X user, a Threads profile), read from the network with the grant's token.
    `credentials` are what that account's channel keeps (a Page's own token, the user token and its refresh
    token, their expiry as RFC 3339 `expires_at`); `settings` its account id field and what publishing needs."""

    network: str
    account_id: str
    handle: str
    name: str
    credentials: Mapping[str, Any] = field(repr=False)
    settings: Mapping[str, Any] = field(default_factory=dict)
    avatar_url: str | None = None


class ConnectsByOAuth(Protocol):
    """A network module's OAuth side (authorization code flow; PKCE S256 where the network takes it).

    `refresh` raises `AuthError` only for what the network documents as revoked or expired (invalid_grant...),
    `RetryableError` for anything transient: a transient failure must never mark a channel needs_reauth."""

    def authorize_url(self, app: OAuthApp, redirect_uri: str, state: str, code_challenge: str | None) -> str: ...

    def exchange_code(self, app: OAuthApp, code: str, redirect_uri: str, code_verifier: str | None) -> TokenGrant:
        ...

    def refresh(self, app: OAuthApp, credentials: Mapping[str, Any]) -> TokenGrant: ...

    def granted_accounts(self, app: OAuthApp, grant: TokenGrant) -> list[GrantedAccount]: ...


# -- listening searches and public profiles (issue 17) -------------------------------------------------

@dataclass(frozen=True)
class FoundPost:
    """A public post a network's search returned; `remote_id` is the network's own id (uri, status id)."""

    remote_id: str
    text: str
    occurred_at: datetime
    author_id: str = ""
    author_name: str = ""
    author_handle: str = ""
    url: str | None = None


@dataclass(frozen=True)
class SearchResult:
    posts: list[FoundPost]
    cursor: str | None  # opaque to callers: where the next search starts (since_id, newest time seen)
    note: str | None = None  # e.g. "the instance found nothing: it may not offer full-text search"


class SearchRefused(NetworkError):
    """The network will not search for this channel (the plan, the instance): said on the rule, not retried."""


class SearchesPosts(Protocol):
    def search_posts(self, channel: ChannelContext, terms: list[str], cursor: str | None) -> SearchResult:
        """Posts containing any of the terms, newer than the cursor (the first search: the latest page)."""
        ...


# The fields of a public profile brand consistency compares (PublicProfile's attributes of these names).
ProfileField = Literal["display_name", "bio", "link", "avatar_url"]
PROFILE_FIELDS: tuple[ProfileField, ...] = ("display_name", "bio", "link", "avatar_url")


@dataclass(frozen=True)
class PublicProfile:
    """What the public sees of a channel's account: for brand consistency.

    A field that is None is empty on the profile (no bio, no link): a finding. A field named in `unavailable`
    is one this network's API does not give for this kind of account (a YouTube channel's links, a LinkedIn
    member's headline): it is never compared and is shown as "not_available". `handle` is shown, not compared.
    """

    display_name: str | None
    bio: str | None
    link: str | None
    avatar_url: str | None
    handle: str | None = None
    unavailable: frozenset[ProfileField] = frozenset()

    def offers(self, name: ProfileField) -> bool:
        return name not in self.unavailable


FIRST_URL = r"https?://[^\s<>\"')]+"


class ReadsProfile(Protocol):
    def read_profile(self, channel: ChannelContext) -> PublicProfile: ...


class HasNoProfile(Protocol):
    """An adapter whose network has no public profile to read says why, in a sentence for a person; brand
    consistency shows the channel as not available with it."""

    no_profile: str
