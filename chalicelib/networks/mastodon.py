"""Mastodon over its REST API (docs.joinmastodon.org).

Credentials are `{instance_url, access_token}`. Every instance is its own
server with its own limits, so the character limit is read from the instance
(`instance_config`) rather than fixed. Mastodon has no webhooks for a user's
notifications: the inbox is polled (`poll_inbox`).
"""
from __future__ import annotations

import mimetypes
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qs, urlsplit

from chalicelib.core.clock import Clock, SystemClock, parse_rfc3339
from chalicelib.core.errors import ValidationFailed
from chalicelib.core.outbound import AnswerTooLarge, OutboundPolicy, OutboundRefused, clean_reason
from chalicelib.networks.base import (
    FIRST_URL,
    AmbiguousError,
    AuthError,
    ChannelContext,
    ChannelInsights,
    EventKind,
    FoundPost,
    InboundEvent,
    MediaItem,
    NetworkError,
    NetworkLimits,
    PermanentError,
    PollResult,
    PostInsights,
    PublicProfile,
    PublishRequest,
    PublishResult,
    ReplyRequest,
    RetryableError,
    SearchRefused,
    SearchResult,
)

NETWORK = "mastodon"
DEFAULT_MAX_CHARACTERS = 500
DEFAULT_CHARACTERS_PER_URL = 23
DEFAULT_TIMEOUT_S = (5.0, 20.0)  # (connect, read)
INSTANCE_CACHE_TTL = timedelta(hours=6)
# A failed instance lookup falls back to the defaults only briefly, so that an
# outage does not pin a 5000-character instance to 500 for hours.
INSTANCE_FALLBACK_TTL = timedelta(minutes=5)
NOTIFICATIONS_PAGE = 80  # the documented maximum of GET /api/v1/notifications
MAX_NOTIFICATION_PAGES = 10
SEARCH_PAGE = 40  # the documented maximum of GET /api/v2/search
# Seconds between GET /api/v1/media/:id while a file is processed (about 28 s in all).
MEDIA_POLL_DELAYS_S = (0.5, 1, 1, 2, 2, 3, 3, 5, 5, 5)
VISIBILITIES = ("public", "unlisted", "private", "direct")

# Mastodon's StatusLengthValidator: URLs (with a protocol) count as
# characters_reserved_per_url, a mention `@user@domain` counts as `@user`, and
# the rest is counted in grapheme clusters. The URL pattern follows Mastodon's
# twitter-text overrides (config/initializers/twitter_regex.rb) in simplified form.
_URL_RE = re.compile(
    r"(?<![A-Za-z0-9@$#＠＃])(?:https?|dat|dweb|ipfs|ipns|ssb|gopher|gemini)://"
    r"(?:[^\W_](?:[\w-]*[^\W_])?\.)+[^\W\d_]{2,}(?::\d+)?(?:[/?#][^\s<>]*)?",
    re.IGNORECASE,
)
_URL_END_EXCLUDED = "?!*\"'「」<>;:=,.$%[]~&|@("
_MENTION_RE = re.compile(r"(?<![=/\w])@([a-z0-9_]+(?:[a-z0-9_.-]+[a-z0-9_]+)?)(?:@[\w.-]+\w)?", re.IGNORECASE)
_LINK_RE = re.compile(r'<([^>]*)>\s*;\s*rel="?([^",;]+)"?')


def count_text(text: str, max_chars_per_url: int = DEFAULT_CHARACTERS_PER_URL) -> int:
    """The length Mastodon checks against `max_characters`."""
    import regex  # only needed where text is measured

    entities = [(m.start(), _url_end(m.group(0), m.start()), "x" * max_chars_per_url)
                for m in _URL_RE.finditer(text)]
    entities += [(m.start(), m.end(), "@" + m.group(1)) for m in _MENTION_RE.finditer(text)]
    countable, position = [], 0
    for start, end, replacement in sorted(entities):
        if start < position:
            continue  # overlaps an earlier entity, e.g. an @ inside a URL
        countable += [text[position:start], replacement]
        position = end
    countable.append(text[position:])
    return len(regex.findall(r"\X", "".join(countable)))


def _url_end(url: str, start: int) -> int:
    """Where a matched URL really ends: trailing punctuation is not part of it."""
    while url:
        last = url[-1]
        if last in _URL_END_EXCLUDED or (last == ")" and url.count("(") < url.count(")")):
            url = url[:-1]
        else:
            break
    return start + len(url)


@dataclass(frozen=True)
class InstanceConfig:
    """An instance's own limits, from `configuration` in GET /api/v2/instance."""

    max_characters: int = DEFAULT_MAX_CHARACTERS
    characters_reserved_per_url: int = DEFAULT_CHARACTERS_PER_URL
    max_media_attachments: int = 4
    supported_mime_types: tuple[str, ...] = ("image/jpeg", "image/png", "image/gif", "image/webp")
    image_size_limit: int = 16 * 1024 * 1024
    video_size_limit: int = 99 * 1024 * 1024
    description_limit: int = 1500

    def limits(self) -> NetworkLimits:
        return NetworkLimits(max_text=self.max_characters, text_counting="mastodon",
                             max_media=self.max_media_attachments, media_types=self.supported_mime_types,
                             max_media_bytes=self.image_size_limit)

    def count_text(self, text: str) -> int:
        return count_text(text, self.characters_reserved_per_url)

    @classmethod
    def from_instance(cls, instance: Mapping[str, Any]) -> InstanceConfig:
        """Reads v2 and v1 instance entities alike; absent values keep the defaults."""
        configuration = instance.get("configuration") or {}
        statuses = configuration.get("statuses") or {}
        media = configuration.get("media_attachments") or {}
        defaults = cls()
        return cls(
            max_characters=_positive(statuses.get("max_characters") or instance.get("max_toot_chars"),
                                     defaults.max_characters),
            characters_reserved_per_url=_positive(statuses.get("characters_reserved_per_url"),
                                                  defaults.characters_reserved_per_url),
            max_media_attachments=_positive(statuses.get("max_media_attachments"), defaults.max_media_attachments),
            supported_mime_types=tuple(media.get("supported_mime_types") or defaults.supported_mime_types),
            image_size_limit=_positive(media.get("image_size_limit"), defaults.image_size_limit),
            video_size_limit=_positive(media.get("video_size_limit"), defaults.video_size_limit),
            description_limit=_positive(media.get("description_limit"), defaults.description_limit),
        )


LIMITS = InstanceConfig().limits()


class MastodonAdapter:
    network = NETWORK
    limits = InstanceConfig().limits()
    # POST /api/v1/statuses carries Idempotency-Key = delivery_id: a retry
    # within the hour Mastodon keeps the key returns the first status. A retry
    # later than `idempotency_window` after the first attempt could post twice.
    idempotent_publish = True
    idempotency_window = timedelta(hours=1)

    def __init__(self, http: Any = None, clock: Clock | None = None, *,
                 sleep: Callable[[float], None] | None = None,
                 timeout: tuple[float, float] = DEFAULT_TIMEOUT_S, policy: OutboundPolicy | None = None) -> None:
        # The instance is whatever address the client typed: every request goes through the outbound policy.
        self._policy = policy or OutboundPolicy()
        self._http = http
        self._clock = clock or SystemClock()
        self._sleep = sleep or time.sleep
        self._timeout = timeout
        self._instances: dict[str, tuple[datetime, InstanceConfig]] = {}

    @property
    def http(self) -> Any:
        if self._http is None:
            self._http = self._policy.session()
        return self._http

    # -- limits ----------------------------------------------------------------

    def instance_config(self, instance_url: str) -> InstanceConfig:
        """The instance's limits, cached per instance for a while."""
        base = normalize_instance_url(instance_url, self._policy)
        now = self._clock.now()
        cached = self._instances.get(base)
        if cached is not None and cached[0] > now:
            return cached[1]
        try:
            config, ttl = InstanceConfig.from_instance(self._instance(base)), INSTANCE_CACHE_TTL
        except NetworkError:
            config, ttl = InstanceConfig(), INSTANCE_FALLBACK_TTL
        self._instances[base] = (now + ttl, config)
        return config

    def instance_limits(self, instance_url: str) -> NetworkLimits:
        return self.instance_config(instance_url).limits()

    def _instance(self, base: str) -> Mapping[str, Any]:
        try:
            return self._json(self._request("GET", base, "/api/v2/instance"))
        except PermanentError as error:
            if error.status not in (404, 410):
                raise
        return self._json(self._request("GET", base, "/api/v1/instance"))  # Mastodon before 4.0

    # -- publishing ------------------------------------------------------------

    def publish(self, channel: ChannelContext, request: PublishRequest) -> PublishResult:
        base, token = _credentials(channel, self._policy)
        text = request.text
        if request.link and request.link not in text:
            text = f"{text}\n\n{request.link}" if text else request.link
        body: dict[str, Any] = {"status": text}
        media_ids = [self._upload(base, token, item) for item in request.media]
        if media_ids:
            body["media_ids"] = media_ids
        visibility = channel.settings.get("visibility")
        if visibility in VISIBILITIES:
            body["visibility"] = visibility
        return self._post_status(base, token, body, idempotency_key=request.delivery_id)

    def reply(self, channel: ChannelContext, request: ReplyRequest) -> PublishResult:
        base, token = _credentials(channel, self._policy)
        author = str(request.thread.get("author_acct") or "")
        if request.kind == "message" and not author:
            raise PermanentError("Cannot answer a Mastodon private mention without knowing who sent it.")
        # Mastodon threads by in_reply_to_id but notifies people by mention; the
        # web app starts every reply with the author's handle, and a private
        # mention without one reaches nobody.
        text = request.text if not author or _mentions(request.text, author) else f"@{author} {request.text}"
        body: dict[str, Any] = {"status": text, "in_reply_to_id": request.in_reply_to}
        visibility = "direct" if request.kind == "message" else request.thread.get("visibility")
        if visibility in ("unlisted", "private", "direct"):
            body["visibility"] = visibility
        return self._post_status(base, token, body, idempotency_key=f"reply-{request.reply_id}")

    def _post_status(self, base: str, token: str, body: dict[str, Any], *, idempotency_key: str) -> PublishResult:
        response = self._request("POST", base, "/api/v1/statuses", token, json=body,
                                 headers={"Idempotency-Key": idempotency_key}, publishes=True)
        status = self._json(response, publishes=True)
        return PublishResult(remote_id=str(status["id"]), remote_url=status.get("url") or status.get("uri"),
                             published_at=_time(status.get("created_at")))

    def _upload(self, base: str, token: str, item: MediaItem) -> str:
        content = self._media_bytes(item)
        extension = mimetypes.guess_extension(item.mime) or ""
        response = self._request("POST", base, "/api/v2/media", token,
                                 files={"file": (f"media{extension}", content, item.mime)},
                                 data={"description": item.alt} if item.alt else None)
        media = self._json(response)
        if response.status_code == 202 or not media.get("url"):
            self._wait_until_processed(base, token, str(media["id"]))
        return str(media["id"])

    def _media_bytes(self, item: MediaItem) -> bytes:
        if item.load is not None:
            return item.load()
        if not item.url:
            raise PermanentError("A media item has neither content nor a URL to fetch it from.")
        host = urlsplit(item.url).netloc
        try:
            self._policy.check_url(item.url)
            response = self.http.request("GET", item.url, timeout=self._timeout)
        except OutboundRefused as refused:
            raise PermanentError(f"The media file at {host} was not fetched: {refused.reason}.") from None
        except Exception as exc:
            if _transport_error(exc, host, publishes=False) is None:
                raise
            raise RetryableError(f"Could not fetch the media file from {host}.") from exc
        if response.status_code >= 500:
            raise RetryableError(f"Could not fetch the media file from {host} ({response.status_code}).",
                                 status=response.status_code)
        if response.status_code >= 400:
            raise PermanentError(f"The media file at {host} could not be fetched ({response.status_code}).",
                                 status=response.status_code)
        return response.content

    def _wait_until_processed(self, base: str, token: str, media_id: str) -> None:
        """POST /api/v2/media answers 202 while processing; GET /api/v1/media/:id is 206 until done."""
        for delay in MEDIA_POLL_DELAYS_S:
            self._sleep(delay)
            response = self._request("GET", base, f"/api/v1/media/{media_id}", token)
            if response.status_code == 200:
                return
        raise RetryableError(f"Mastodon ({_host(base)}) is still processing an uploaded file; try again later.")

    # -- inbox -----------------------------------------------------------------

    def poll_inbox(self, channel: ChannelContext, cursor: str | None) -> PollResult:
        """Mentions since `cursor` (the newest notification id seen), oldest first.

        With a cursor, pages forward with `min_id` so nothing between two polls is
        skipped; without one, only the newest page is read (no backfill of history).
        """
        base, token = _credentials(channel, self._policy)
        account_id = self._account_id(channel, base, token)
        notifications: list[Mapping[str, Any]] = []
        newest, min_id = cursor, cursor
        for _ in range(MAX_NOTIFICATION_PAGES):
            params: dict[str, Any] = {"types[]": ["mention"], "limit": NOTIFICATIONS_PAGE}
            if min_id:
                params["min_id"] = min_id
            response = self._request("GET", base, "/api/v1/notifications", token, params=params)
            page = self._json(response)
            if not page:
                break
            # Only what is newer than the cursor, even from a server that ignores min_id.
            notifications += [n for n in page if newest is None or _id_order(str(n["id"])) > _id_order(newest)]
            page_newest = max((str(n["id"]) for n in page), key=_id_order)
            if newest is not None and _id_order(page_newest) <= _id_order(newest):
                break  # the server ignored min_id; stop rather than loop
            newest = page_newest
            if cursor is None or len(page) < NOTIFICATIONS_PAGE:
                break
            min_id = _link_param(response, "prev", "min_id") or newest
        notifications.sort(key=lambda n: _id_order(str(n["id"])))
        now = self._clock.now()
        events = [event for n in notifications if (event := _event(n, account_id, _hostname(base), now))]
        return PollResult(events=events, cursor=newest)

    def search_posts(self, channel: ChannelContext, terms: list[str], cursor: str | None) -> SearchResult:
        """GET /api/v2/search?type=statuses&q=... (api/methods/search#v2), newer than `min_id`.

        Full-text search of statuses exists only where the instance runs Elasticsearch/OpenSearch, and then
        covers only posts whose authors opted in: elsewhere the answer is a 200 with no statuses, said as a
        note (not a failure). An answer that refuses the search (403, 422, or 404 from an old instance) is a
        SearchRefused.
        """
        base, token = _credentials(channel, self._policy)
        found: dict[str, FoundPost] = {}
        for term in terms:
            params: dict[str, Any] = {"q": term, "type": "statuses", "resolve": "false", "limit": SEARCH_PAGE}
            if cursor:
                params["min_id"] = cursor
            try:
                page = self._json(self._request("GET", base, "/api/v2/search", token, params=params))
            except PermanentError as error:
                raise SearchRefused(f"This Mastodon instance refused the search: {error.message}",
                                    status=error.status) from None
            for status in (page or {}).get("statuses") or []:
                post = _found_status(status, _hostname(base), self._clock.now())
                if post and (cursor is None or _id_order(post.remote_id) > _id_order(cursor)):
                    found.setdefault(post.remote_id, post)
        newest = max([cursor, *found] if cursor else list(found), key=_id_order, default=None)
        note = None if found or cursor else (
            f"{_host(base)} found nothing: it may not offer full-text search (Mastodon searches posts only "
            "with Elasticsearch, and only those of authors who opted in)")
        return SearchResult(posts=sorted(found.values(), key=lambda p: _id_order(p.remote_id)), cursor=newest,
                            note=note)

    def read_profile(self, channel: ChannelContext) -> PublicProfile:
        """verify_credentials: display_name, note (HTML), the profile fields (the first one holding an
        address is the link, else one in the note), avatar_static (never an animated GIF)."""
        base, token = _credentials(channel, self._policy)
        account = self._verify_credentials(base, token)
        bio = html_to_text(str(account.get("note") or ""))
        places = [html_to_text(str(f.get("value") or "")) for f in account.get("fields") or [] if isinstance(f, dict)]
        link = next((m.group(0) for text in [*places, bio] if (m := re.search(FIRST_URL, text))), None)
        return PublicProfile(display_name=account.get("display_name") or account.get("username"), bio=bio or None,
                             link=link, avatar_url=account.get("avatar_static") or account.get("avatar"),
                             handle=account.get("acct") or account.get("username"))

    def _account_id(self, channel: ChannelContext, base: str, token: str) -> str:
        known = channel.settings.get("account_id") or channel.credentials.get("account_id")
        if known:
            return str(known)
        return str(self._verify_credentials(base, token)["id"])

    # -- insights and account ----------------------------------------------------

    def fetch_insights(self, channel: ChannelContext, remote_ids: list[str]) -> ChannelInsights:
        base, token = _credentials(channel, self._policy)
        account = self._verify_credentials(base, token)
        posts = []
        for remote_id in remote_ids:
            try:
                status = self._json(self._request("GET", base, f"/api/v1/statuses/{remote_id}", token))
            except PermanentError as error:
                if error.status in (404, 410):
                    continue  # deleted since it was published
                raise
            posts.append(PostInsights(remote_id=remote_id, likes=status.get("favourites_count"),
                                      reposts=status.get("reblogs_count"), replies=status.get("replies_count")))
        return ChannelInsights(followers=account.get("followers_count"), posts=posts)

    def describe_account(self, channel: ChannelContext) -> dict[str, Any]:
        check_given_credentials(channel.credentials, self._policy)
        base, token = _credentials(channel, self._policy)
        account = self._verify_credentials(base, token)
        config = self.instance_config(base)
        # Kept in the channel's settings so that validation counts as this instance does.
        return {"handle": _full_acct(str(account["acct"]), _hostname(base)), "account_id": str(account["id"]),
                "display_name": account.get("display_name") or account.get("username") or "",
                "url": account.get("url") or "", "max_characters": config.max_characters,
                "characters_reserved_per_url": config.characters_reserved_per_url}

    def _verify_credentials(self, base: str, token: str) -> Mapping[str, Any]:
        return self._json(self._request("GET", base, "/api/v1/accounts/verify_credentials", token))

    # -- HTTP --------------------------------------------------------------------

    def _request(self, method: str, base: str, path: str, token: str | None = None, *,
                 params: Mapping[str, Any] | None = None, json: Any = None, data: Any = None,
                 files: Any = None, headers: Mapping[str, str] | None = None, publishes: bool = False) -> Any:
        """One HTTP call; any failure comes out as a NetworkError.

        `publishes` marks the call that makes a post visible: only there is a
        failure after sending ambiguous. A lost answer to a media upload or a
        read leaves nothing anyone can see, so it is simply retryable.
        """
        sent_headers = dict(headers or {})
        if token:
            sent_headers["Authorization"] = f"Bearer {token}"
        try:
            response = self.http.request(method, base + path, params=params, json=json, data=data, files=files,
                                         headers=sent_headers, timeout=self._timeout)
        except OutboundRefused as refused:
            if publishes and isinstance(refused, AnswerTooLarge):
                raise AmbiguousError(f"Mastodon ({_host(base)}) answered the post with {refused.reason}; "
                                     "it may have been published.") from None
            raise PermanentError(f"Mastodon ({_host(base)}) was not contacted: {refused.reason}.") from None
        except Exception as exc:
            error = _transport_error(exc, _host(base), publishes)
            if error is None:
                raise
            raise error from exc
        if response.status_code >= 400:
            raise self._status_error(response, _host(base))
        return response

    def _json(self, response: Any, *, publishes: bool = False) -> Any:
        try:
            return response.json()
        except ValueError as exc:
            message = f"Mastodon answered {response.status_code} with a body that is not JSON."
            raise (AmbiguousError if publishes else RetryableError)(message, status=response.status_code) from exc

    def _status_error(self, response: Any, host: str) -> NetworkError:
        status = response.status_code
        detail = _error_text(response)
        if status == 401:
            return AuthError(f"Mastodon ({host}) refused the access token: {detail}. Reconnect the channel.",
                             status=status)
        if status == 403:
            if re.search(r"token|scope|login|account|suspended|disabled", detail, re.IGNORECASE):
                return AuthError(f"Mastodon ({host}) refused this account: {detail}. Reconnect the channel.",
                                 status=status)
            return PermanentError(f"Mastodon ({host}) does not allow this: {detail}", status=status)
        if status == 429:
            return RetryableError(f"Mastodon ({host}) is rate limiting requests: {detail}", status=status,
                                  retry_after_s=self._retry_after(response))
        if status >= 500:
            return RetryableError(f"Mastodon ({host}) had a server error ({status}): {detail}", status=status,
                                  retry_after_s=self._retry_after(response))
        if status == 422:
            return PermanentError(f"Mastodon ({host}) refused it: {detail}", status=status)
        if status == 404:
            return PermanentError(f"Mastodon ({host}) could not find it: {detail}", status=status)
        return PermanentError(f"Mastodon ({host}) answered {status}: {detail}", status=status)

    def _retry_after(self, response: Any) -> float | None:
        """Seconds to wait: Retry-After when a proxy sends one, else Mastodon's X-RateLimit-Reset."""
        now = self._clock.now()
        retry_after = (response.headers.get("Retry-After") or "").strip()
        if retry_after:
            try:
                return max(0.0, float(retry_after))
            except ValueError:
                pass
            try:
                return max(0.0, (parsedate_to_datetime(retry_after) - now).total_seconds())
            except (TypeError, ValueError):
                pass
        reset = (response.headers.get("X-RateLimit-Reset") or "").strip()
        if reset:
            moment: datetime | None
            try:  # Mastodon sends an ISO 8601 time; some other servers a Unix time
                moment = datetime.fromtimestamp(float(reset), now.tzinfo)
            except ValueError:
                moment = _time(reset)
            if moment is not None:
                return max(0.0, (moment - now).total_seconds())
        return None


def make_adapter(http: Any = None, clock: Clock | None = None, *, sleep: Callable[[float], None] | None = None,
                 timeout: tuple[float, float] = DEFAULT_TIMEOUT_S,
                 policy: OutboundPolicy | None = None) -> MastodonAdapter:
    return MastodonAdapter(http, clock, sleep=sleep, timeout=timeout, policy=policy)


# -- credentials and URLs ----------------------------------------------------------


def normalize_instance_url(instance_url: str, policy: OutboundPolicy | None = None) -> str:
    """`mastodon.social` or `https://mastodon.social/` → `https://mastodon.social`.

    The address must pass the outbound policy (https, no loopback or private literal address; the
    addresses it resolves to are checked again when Herald connects).
    """
    raw = (instance_url or "").strip()
    parts = urlsplit(raw if "://" in raw else f"https://{raw}")
    if not parts.hostname:
        raise PermanentError("That is not a Mastodon instance address.")
    try:
        (policy or OutboundPolicy()).check_url(f"{parts.scheme}://{parts.netloc}")
    except OutboundRefused as refused:
        raise PermanentError(f"The Mastodon instance address was refused: {refused.reason}.") from None
    return f"{parts.scheme}://{parts.netloc}"


def check_given_credentials(credentials: Mapping[str, Any], policy: OutboundPolicy) -> None:
    """Refuses, before anything is fetched or stored, an instance address the policy would refuse."""
    try:
        normalize_instance_url(str(credentials.get("instance_url") or ""), policy)
    except PermanentError as error:
        raise ValidationFailed.field("credentials.instance_url", error.message) from None


def _credentials(channel: ChannelContext, policy: OutboundPolicy) -> tuple[str, str]:
    instance_url = channel.credentials.get("instance_url")
    token = channel.credentials.get("access_token")
    if not instance_url or not token:
        raise AuthError("This Mastodon channel has no instance address or access token; reconnect it.")
    return normalize_instance_url(str(instance_url), policy), str(token)


def _host(base: str) -> str:
    return urlsplit(base).netloc


def _hostname(base: str) -> str:
    return urlsplit(base).hostname or ""


def _full_acct(acct: str, hostname: str) -> str:
    """`acct` is bare for accounts on the same instance; make it `user@domain` everywhere."""
    return acct if "@" in acct else f"{acct}@{hostname}"


def _mentions(text: str, acct: str) -> bool:
    pattern = rf"(?<![=/\w])@{re.escape(acct)}(?![\w@]|[.-]\w)"
    return re.search(pattern, text, re.IGNORECASE) is not None


# -- answers -----------------------------------------------------------------------


def _transport_error(exc: Exception, host: str, publishes: bool) -> NetworkError | None:
    """None when `exc` is not an HTTP transport failure (a bug should surface as itself)."""
    from requests import exceptions as http_errors

    if isinstance(exc, http_errors.ConnectTimeout):
        return RetryableError(f"Could not connect to Mastodon ({host}) in time.")
    if isinstance(exc, http_errors.ReadTimeout):
        if publishes:
            return AmbiguousError(f"Mastodon ({host}) did not answer in time after the post was sent; "
                                  "it may have been published.")
        return RetryableError(f"Mastodon ({host}) did not answer in time.")
    if isinstance(exc, http_errors.ConnectionError):
        if publishes and not _failed_before_sending(exc):
            return AmbiguousError(f"The connection to Mastodon ({host}) broke after the post was sent; "
                                  "it may have been published.")
        return RetryableError(f"Could not reach Mastodon ({host}).")
    if isinstance(exc, http_errors.RequestException):
        return RetryableError(f"The request to Mastodon ({host}) failed: {type(exc).__name__}.")
    return None


def _failed_before_sending(exc: BaseException) -> bool:
    """True when the connection was never made (refused, DNS), so nothing was sent."""
    from urllib3.exceptions import ConnectTimeoutError, NewConnectionError

    pending: list[Any] = [exc]
    seen: set[int] = set()
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, (NewConnectionError, ConnectTimeoutError, ConnectionRefusedError)):
            return True
        if isinstance(current, BaseException):
            pending += [*current.args, getattr(current, "reason", None), current.__cause__, current.__context__]
    return False


def _error_text(response: Any) -> str:
    """Mastodon's own `error` (and `error_description`) text, cleaned and cut short; else the status.

    Never the body itself: whatever answers at the address (an internal service, a proxy's page) would be
    echoed to the client.
    """
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, Mapping) and isinstance(body.get("error"), str) and body["error"].strip():
        text = str(body["error"])
        description = body.get("error_description")
        if isinstance(description, str) and description and description != text:
            text = f"{text} ({description})"
        return clean_reason(text)
    return f"HTTP {response.status_code}"


def _link_param(response: Any, rel: str, name: str) -> str | None:
    """A query parameter of one relation in the Link header (api/guidelines#pagination)."""
    for url, relation in _LINK_RE.findall(response.headers.get("Link") or ""):
        if relation == rel:
            values = parse_qs(urlsplit(url).query).get(name)
            return values[0] if values else None
    return None


def _id_order(entity_id: str) -> tuple[int, str]:
    """Mastodon ids are numeric strings: longer is newer, then lexical (api/guidelines#id)."""
    return len(entity_id), entity_id


def _time(text: Any) -> datetime | None:
    try:
        return parse_rfc3339(str(text)) if text else None
    except ValueError:
        return None


def _positive(value: Any, default: int) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return default
    return number if number > 0 else default


def _found_status(status: Mapping[str, Any], hostname: str, now: datetime) -> FoundPost | None:
    if not status.get("id") or (status.get("visibility") or "public") not in ("public", "unlisted"):
        return None
    author = status.get("account") or {}
    acct = str(author.get("acct") or "")
    return FoundPost(remote_id=str(status["id"]), text=html_to_text(status.get("content") or ""),
                     occurred_at=_time(status.get("created_at")) or now, author_id=str(author.get("id", "")),
                     author_name=str(author.get("display_name") or author.get("username") or ""),
                     author_handle=_full_acct(acct, hostname) if acct else "", url=status.get("url"))


def _event(notification: Mapping[str, Any], account_id: str, hostname: str,
           now: datetime) -> InboundEvent | None:
    """A `mention` notification as an inbox event.

    Private mentions (visibility `direct`) are messages keyed by the other
    account; a reply to one of our statuses is a comment keyed by the status
    it answers; anything else that mentions us is a mention.
    """
    status = notification.get("status")
    if notification.get("type") != "mention" or not status:
        return None
    author = status.get("account") or notification.get("account") or {}
    status_id = str(status["id"])
    in_reply_to = status.get("in_reply_to_id")
    visibility = status.get("visibility") or "public"
    kind: EventKind
    if visibility == "direct":
        kind, thread_key = "message", str(author.get("id", ""))
    elif in_reply_to and str(status.get("in_reply_to_account_id")) == account_id:
        kind, thread_key = "comment", str(in_reply_to)
    else:
        kind, thread_key = "mention", status_id
    acct = str(author.get("acct") or "")
    return InboundEvent(
        network=NETWORK,
        account_id=account_id,
        event_id=str(notification["id"]),
        kind=kind,
        action="created",
        thread_key=thread_key,
        message_id=status_id,
        direction="inbound",
        text=html_to_text(status.get("content") or ""),
        occurred_at=_time(status.get("created_at")) or _time(notification.get("created_at")) or now,
        author_id=str(author.get("id", "")),
        author_name=str(author.get("display_name") or author.get("username") or ""),
        author_handle=_full_acct(acct, hostname) if acct else "",
        parent_id=str(in_reply_to) if in_reply_to else None,
        reply_context={"status_id": status_id, "author_acct": acct, "visibility": visibility,
                       "in_reply_to_id": in_reply_to, "url": status.get("url"),
                       "spoiler_text": status.get("spoiler_text") or ""},
    )


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            self.parts.append("\n")
        elif tag == "p" and self.parts:
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def html_to_text(content: str) -> str:
    """Mastodon's sanitized status HTML (<p>, <br>, <span>, <a>) as plain text.

    Links keep their full address: the `invisible` spans are part of the text.
    """
    extractor = _TextExtractor()
    extractor.feed(content)
    extractor.close()
    return "".join(extractor.parts).strip()
