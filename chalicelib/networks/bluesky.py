"""Bluesky (AT Protocol): posts are `app.bsky.feed.post` records in the account's repository on its PDS.

Credentials: `{service_url, handle, app_password}`; the adapter adds `access_jwt`, `refresh_jwt` and `did`
after com.atproto.server.createSession and keeps them fresh through `ChannelContext.save_credentials`.

Idempotency: a post's record key is derived from the delivery id, so a retried createRecord cannot make a
second post. The PDS refuses a second record at the same key (the reference PDS answers 500); when a create
fails that way, the record already there is read back and reported as the publish.

The app.bsky.* reads (notifications, profile, post counts) are answered by the AppView behind the PDS.
"""
from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlsplit

from chalicelib.core.clock import Clock, SystemClock, parse_rfc3339, to_rfc3339
from chalicelib.core.errors import ValidationFailed
from chalicelib.core.outbound import AnswerTooLarge, OutboundPolicy, OutboundRefused, clean_reason
from chalicelib.networks.base import (
    FIRST_URL,
    AmbiguousError,
    AuthError,
    ChannelContext,
    ChannelInsights,
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

if TYPE_CHECKING:
    import regex

NETWORK = "bluesky"
DEFAULT_SERVICE_URL = "https://bsky.social"
POST_COLLECTION = "app.bsky.feed.post"
# app.bsky.feed.post text: maxGraphemes 300, maxLength 3000 (bytes); app.bsky.embed.images: at most 4
# images, each blob at most 1,000,000 bytes.
MAX_POST_BYTES = 3000
LIMITS = NetworkLimits(max_text=300, text_counting="graphemes", max_media=4, max_media_bytes=1_000_000)

TIMEOUT_S = (5.0, 30.0)
INBOX_REASONS = ("reply", "mention", "quote")
SEARCH_PAGE = 100
INBOX_PAGE_SIZE = 100
INBOX_MAX_PAGES = 10
GET_POSTS_BATCH = 25
# Answers that mean "this session's token is no good": refresh it or log in again.
SESSION_ERRORS = frozenset({"ExpiredToken", "InvalidToken"})

TID_ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"
# Deterministic record keys carry a made-up time: keep it inside a window in the past, so that the key
# never claims a date in the future (2023-01-01 plus up to ~407 days).
TID_WINDOW_START_US = 1_672_531_200_000_000
TID_WINDOW_US = 1 << 45


class Http(Protocol):
    def request(self, method: str, url: str, **kwargs: Any) -> Any: ...


@lru_cache(maxsize=1)
def _grapheme_pattern() -> regex.Pattern[str]:
    import regex  # third-party `regex`: \X follows current Unicode, as Bluesky's Intl.Segmenter does

    return regex.compile(r"\X")


def count_text(text: str) -> int:
    """Length as Bluesky counts it: extended grapheme clusters."""
    return len(_grapheme_pattern().findall(text))


def record_key(idempotency_key: str) -> str:
    """A valid TID (the PDS requires one for app.bsky.feed.post) derived only from `idempotency_key`."""
    value = int.from_bytes(hashlib.sha256(idempotency_key.encode("utf-8")).digest()[:8], "big")
    micros = TID_WINDOW_START_US + (value >> 10) % TID_WINDOW_US
    tid = (micros << 10) | (value & 0x3FF)
    return "".join(TID_ALPHABET[(tid >> shift) & 31] for shift in range(60, -1, -5))


def post_url(handle: str, uri: str) -> str:
    return f"https://bsky.app/profile/{handle}/post/{uri.rsplit('/', 1)[-1]}"


# ---------------------------------------------------------------------------------------------- rich text

_BEFORE_ENTITY = r"(?:^|(?<=[\s(]))"
_HANDLE = r"(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+[a-zA-Z](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?"
MENTION_PATTERN = re.compile(_BEFORE_ENTITY + r"@(" + _HANDLE + r")(?![a-zA-Z0-9.-]*[a-zA-Z0-9])")
LINK_PATTERN = re.compile(_BEFORE_ENTITY + r"https?://\S+")
# Hashtag: '#' (or the full-width '＃') after a space or at the start, not the keycap emoji '#️⃣'.
TAG_PATTERN = re.compile(r"(?:^|(?<=\s))[#＃](?!\ufe0f|\u20e3)[^\s\u00ad\u2060\u200a\u200b\u200c\u200d\u20e2]+")
LINK_TRAILING = ".,;:!?\"'"
MAX_TAG_GRAPHEMES = 64
MAX_TAG_BYTES = 640


@dataclass(frozen=True)
class Span:
    """A piece of the text to decorate, in character offsets of the Python string."""

    start: int
    end: int
    kind: str  # "link", "mention" or "tag"
    value: str  # the uri, the handle, or the tag without '#'


def find_spans(text: str) -> list[Span]:
    """Links, @mentions and #hashtags in `text`, in order, never overlapping (links win, then mentions)."""
    spans: list[Span] = []
    for match in LINK_PATTERN.finditer(text):
        uri = _trim_link(match.group(0))
        if urlsplit(uri).netloc:
            spans.append(Span(match.start(), match.start() + len(uri), "link", uri))
    for match in MENTION_PATTERN.finditer(text):
        spans.append(Span(match.start(), match.end(), "mention", match.group(1).lower()))
    for match in TAG_PATTERN.finditer(text):
        tag = match.group(0)[1:]
        while tag and unicodedata.category(tag[-1]).startswith("P"):
            tag = tag[:-1]
        if not tag or tag.isdigit():
            continue
        if count_text(tag) > MAX_TAG_GRAPHEMES or len(tag.encode("utf-8")) > MAX_TAG_BYTES:
            continue
        spans.append(Span(match.start(), match.start() + 1 + len(tag), "tag", tag))
    kept: list[Span] = []
    for span in spans:  # in priority order: links, mentions, tags
        if all(span.end <= other.start or span.start >= other.end for other in kept):
            kept.append(span)
    return sorted(kept, key=lambda span: span.start)


def _trim_link(uri: str) -> str:
    while True:
        if (uri and uri[-1] in LINK_TRAILING) or (uri.endswith(")") and uri.count(")") > uri.count("(")):
            uri = uri[:-1]
        else:
            return uri


def build_facets(text: str, spans: Iterable[Span], dids: dict[str, str]) -> list[dict[str, Any]]:
    """app.bsky.richtext.facet objects; offsets count UTF-8 bytes. Mentions without a DID stay plain text."""
    facets = []
    for span in spans:
        if span.kind == "link":
            feature = {"$type": "app.bsky.richtext.facet#link", "uri": span.value}
        elif span.kind == "tag":
            feature = {"$type": "app.bsky.richtext.facet#tag", "tag": span.value}
        elif span.value in dids:
            feature = {"$type": "app.bsky.richtext.facet#mention", "did": dids[span.value]}
        else:
            continue
        byte_start = len(text[: span.start].encode("utf-8"))
        byte_end = byte_start + len(text[span.start: span.end].encode("utf-8"))
        facets.append({"index": {"byteStart": byte_start, "byteEnd": byte_end}, "features": [feature]})
    return facets


# ---------------------------------------------------------------------------------------------- inbox cursor

@dataclass(frozen=True)
class InboxCursor:
    """The newest notification time seen, and which notifications had exactly that time."""

    indexed_at: datetime
    uris: frozenset[str]

    @classmethod
    def parse(cls, cursor: str | None) -> InboxCursor | None:
        if not cursor:
            return None
        try:
            data = json.loads(cursor)
            return cls(parse_rfc3339(data["t"]), frozenset(data["uris"]))
        except (ValueError, KeyError, TypeError) as error:
            raise PermanentError(f"Bluesky inbox cursor is not one this adapter wrote: {cursor!r}") from error

    def dump(self) -> str:
        moment = self.indexed_at.astimezone(UTC).isoformat().replace("+00:00", "Z")
        return json.dumps({"t": moment, "uris": sorted(self.uris)}, separators=(",", ":"))

    def has_seen(self, indexed_at: datetime, uri: str) -> bool:
        return indexed_at < self.indexed_at or (indexed_at == self.indexed_at and uri in self.uris)


def _advance_cursor(cursor: InboxCursor | None, seen: list[tuple[datetime, str]]) -> InboxCursor | None:
    moments = [moment for moment, _ in seen] + ([cursor.indexed_at] if cursor else [])
    if not moments:
        return None
    newest = max(moments)
    uris = {uri for moment, uri in seen if moment == newest}
    if cursor and cursor.indexed_at == newest:
        uris |= cursor.uris
    return InboxCursor(newest, frozenset(uris))


# ---------------------------------------------------------------------------------------------- adapter

class BlueskyAdapter:
    network = NETWORK
    limits = LIMITS
    idempotent_publish = True

    def __init__(self, http: Http | None = None, clock: Clock | None = None,
                 policy: OutboundPolicy | None = None) -> None:
        self._http = http
        self._clock = clock or SystemClock()
        # The PDS is whatever address the client typed: every request goes through the outbound policy.
        self._policy = policy or OutboundPolicy()

    # -- publishing

    def publish(self, channel: ChannelContext, request: PublishRequest) -> PublishResult:
        text = request.text
        if request.link and request.link not in text:
            text = f"{text}\n\n{request.link}" if text else request.link
        record = self._post_record(channel, text, request.media)
        return self._create_post(channel, record_key(f"delivery:{request.delivery_id}"), record)

    def reply(self, channel: ChannelContext, request: ReplyRequest) -> PublishResult:
        if request.kind == "message":
            raise PermanentError("Bluesky direct messages are not supported; only replies to posts are.")
        parent = _strong_ref(request.thread.get("parent"))
        root = _strong_ref(request.thread.get("root"))
        if parent is None:
            parent, parent_root = self._reference_post(channel, request.in_reply_to)
            root = root or parent_root
        record = self._post_record(channel, request.text, ())
        record["reply"] = {"root": root or parent, "parent": parent}
        return self._create_post(channel, record_key(f"reply:{request.reply_id}"), record)

    def _post_record(self, channel: ChannelContext, text: str, media: tuple[MediaItem, ...]) -> dict[str, Any]:
        length = count_text(text)
        if length > LIMITS.max_text:
            raise PermanentError(f"Bluesky posts are limited to {LIMITS.max_text} characters; this one has {length}.")
        if len(text.encode("utf-8")) > MAX_POST_BYTES:
            raise PermanentError(f"Bluesky posts are limited to {MAX_POST_BYTES} bytes of text.")
        if not text and not media:
            raise PermanentError("A Bluesky post needs text or an image.")
        images = _load_images(media)  # refused media fails here, before anything is sent
        record: dict[str, Any] = {"$type": POST_COLLECTION, "text": text, "createdAt": to_rfc3339(self._clock.now())}
        spans = find_spans(text)
        facets = build_facets(text, spans, self._resolve_mentions(channel, spans))
        if facets:
            record["facets"] = facets
        if images:
            record["embed"] = {"$type": "app.bsky.embed.images", "images": [
                {"alt": item.alt, "image": self._upload_blob(channel, item.mime, data)} for item, data in images
            ]}
        return record

    def _resolve_mentions(self, channel: ChannelContext, spans: list[Span]) -> dict[str, str]:
        dids: dict[str, str] = {}
        for handle in dict.fromkeys(span.value for span in spans if span.kind == "mention"):
            try:
                body = self._call(channel, "GET", "com.atproto.identity.resolveHandle", params={"handle": handle})
            except PermanentError:
                continue  # no such account: the mention stays plain text
            if isinstance(body.get("did"), str):
                dids[handle] = body["did"]
        return dids

    def _upload_blob(self, channel: ChannelContext, mime: str, data: bytes) -> dict[str, Any]:
        body = self._call(channel, "POST", "com.atproto.repo.uploadBlob", data=data, headers={"Content-Type": mime})
        return body["blob"]

    def _create_post(self, channel: ChannelContext, rkey: str, record: dict[str, Any]) -> PublishResult:
        did = self._session(channel)["did"]
        body = {"repo": did, "collection": POST_COLLECTION, "rkey": rkey, "record": record}
        try:
            created = self._call(channel, "POST", "com.atproto.repo.createRecord", json=body, sent_is_ambiguous=True)
        except (RetryableError, PermanentError) as error:
            existing = self._existing_record(channel, did, rkey) if _may_already_exist(error) else None
            if existing is None:
                raise
            created, record = existing, existing.get("value", {})
        published_at = _created_at(record) or self._clock.now()
        uri = created["uri"]
        return PublishResult(remote_id=uri, remote_url=post_url(self._session(channel)["handle"], uri),
                             published_at=published_at)

    def _existing_record(self, channel: ChannelContext, did: str, rkey: str) -> dict[str, Any] | None:
        params = {"repo": did, "collection": POST_COLLECTION, "rkey": rkey}
        try:
            return self._call(channel, "GET", "com.atproto.repo.getRecord", params=params)
        except PermanentError:
            return None

    def _reference_post(self, channel: ChannelContext, uri: str) -> tuple[dict[str, str], dict[str, str] | None]:
        """A strong reference to the post at `uri`, and its thread root when it is itself a reply."""
        repo, collection, rkey = _split_at_uri(uri)
        params = {"repo": repo, "collection": collection, "rkey": rkey}
        found = self._call(channel, "GET", "com.atproto.repo.getRecord", params=params)
        root = _strong_ref(found.get("value", {}).get("reply", {}).get("root"))
        return {"uri": found["uri"], "cid": found["cid"]}, root

    # -- reading

    def fetch_insights(self, channel: ChannelContext, remote_ids: list[str]) -> ChannelInsights:
        did = self._session(channel)["did"]
        profile = self._call(channel, "GET", "app.bsky.actor.getProfile", params={"actor": did})
        found: dict[str, PostInsights] = {}
        for start in range(0, len(remote_ids), GET_POSTS_BATCH):
            batch = remote_ids[start: start + GET_POSTS_BATCH]
            body = self._call(channel, "GET", "app.bsky.feed.getPosts", params={"uris": batch})
            for post in body.get("posts", []):
                found[post["uri"]] = PostInsights(
                    remote_id=post["uri"], likes=post.get("likeCount"),
                    reposts=post.get("repostCount"), replies=post.get("replyCount"),
                )
        # Deleted posts are simply absent from getPosts.
        posts = [found[uri] for uri in remote_ids if uri in found]
        return ChannelInsights(followers=profile.get("followersCount"), posts=posts)

    def poll_inbox(self, channel: ChannelContext, cursor: str | None) -> PollResult:
        since = InboxCursor.parse(cursor)
        account_did = self._session(channel)["did"]
        fresh: list[dict[str, Any]] = []
        seen: list[tuple[datetime, str]] = []
        page_cursor: str | None = None
        for _ in range(INBOX_MAX_PAGES):
            params: dict[str, Any] = {"limit": INBOX_PAGE_SIZE, "reasons": list(INBOX_REASONS)}
            if page_cursor:
                params["cursor"] = page_cursor
            body = self._call(channel, "GET", "app.bsky.notification.listNotifications", params=params)
            notifications = body.get("notifications", [])
            reached_cursor = False
            for notification in notifications:  # newest first
                indexed_at = parse_rfc3339(notification["indexedAt"])
                if since and since.has_seen(indexed_at, notification["uri"]):
                    reached_cursor = reached_cursor or indexed_at < since.indexed_at
                    continue
                seen.append((indexed_at, notification["uri"]))
                fresh.append(notification)
            page_cursor = body.get("cursor")
            if reached_cursor or not notifications or not page_cursor:
                break
        events = [event for event in (_inbound_event(account_did, n) for n in reversed(fresh)) if event]
        advanced = _advance_cursor(since, seen)
        return PollResult(events=events, cursor=advanced.dump() if advanced else cursor)

    def search_posts(self, channel: ChannelContext, terms: list[str], cursor: str | None) -> SearchResult:
        """app.bsky.feed.searchPosts (lexicons/app/bsky/feed/searchPosts.json): `q`, `sort=latest`, `since`
        (inclusive, a datetime), `limit` 1..100; answers `{posts: [postView], cursor?, hitsTotal?}`.

        One query per term (the lexicon leaves boolean syntax unspecified). The cursor is the newest
        `indexedAt` seen: the next search asks `since` it, so the newest post comes again and the caller
        stores it once. A server that does not offer the method (a PDS without an AppView answers
        MethodNotImplemented / 501) is a SearchRefused.
        """
        newest = parse_rfc3339(cursor) if cursor else None
        posts: dict[str, FoundPost] = {}
        for term in terms:
            params: dict[str, Any] = {"q": _search_term(term), "sort": "latest", "limit": SEARCH_PAGE}
            if cursor:
                params["since"] = cursor
            try:
                body = self._call(channel, "GET", "app.bsky.feed.searchPosts", params=params)
            except (PermanentError, RetryableError) as error:
                if error.status in (400, 404, 501) or "MethodNotImplemented" in error.message:
                    raise SearchRefused(f"This Bluesky server does not search posts: {error.message}",
                                        status=error.status) from None
                raise
            for view in body.get("posts") or []:
                found = _found_post(view)
                if found and (newest is None or found.occurred_at >= newest):
                    posts.setdefault(found.remote_id, found)
        seen = [post.occurred_at for post in posts.values()]
        latest = max([*seen, *([newest] if newest else [])], default=None)
        return SearchResult(posts=sorted(posts.values(), key=lambda p: p.occurred_at),
                            cursor=to_rfc3339(latest) if latest else cursor)

    def read_profile(self, channel: ChannelContext) -> PublicProfile:
        """app.bsky.actor.getProfile: displayName, description, avatar. A Bluesky profile has no link
        field: the first address in the description stands for it."""
        did = self._session(channel)["did"]
        profile = self._call(channel, "GET", "app.bsky.actor.getProfile", params={"actor": did})
        bio = str(profile.get("description") or "")
        link = re.search(FIRST_URL, bio)
        return PublicProfile(display_name=profile.get("displayName") or profile.get("handle"), bio=bio or None,
                             link=link.group(0) if link else None, avatar_url=profile.get("avatar"),
                            handle=profile.get("handle"))

    def describe_account(self, channel: ChannelContext) -> dict[str, str]:
        check_given_credentials(channel.credentials, self._policy)
        session = self._call(channel, "GET", "com.atproto.server.getSession")
        return {"handle": session["handle"], "account_id": session["did"]}

    # -- sessions

    def _session(self, channel: ChannelContext) -> dict[str, Any]:
        credentials = channel.credentials
        if credentials.get("access_jwt") and credentials.get("did"):
            return credentials
        return self._log_in(channel)

    def _log_in(self, channel: ChannelContext) -> dict[str, Any]:
        credentials = channel.credentials
        handle = str(credentials.get("handle") or "").lstrip("@")
        password = credentials.get("app_password")
        if not handle or not password:
            raise AuthError("The Bluesky channel needs a handle and an app password.")
        response = self._send("POST", self._url(channel, "com.atproto.server.createSession"),
                              json={"identifier": handle, "password": password})
        if response.status_code in (400, 401, 403):
            raise AuthError(f"Bluesky refused the handle or app password: {_error_text(response)}",
                            status=response.status_code)
        return self._store_session(channel, self._answer(response))

    def _renew_session(self, channel: ChannelContext) -> dict[str, Any]:
        refresh_jwt = channel.credentials.get("refresh_jwt")
        if refresh_jwt:
            response = self._send("POST", self._url(channel, "com.atproto.server.refreshSession"),
                                  headers={"Authorization": f"Bearer {refresh_jwt}"})
            if response.status_code < 300:
                return self._store_session(channel, self._answer(response))
            if response.status_code not in (400, 401, 403):
                self._answer(response)  # raises: 429 or 5xx
        return self._log_in(channel)

    def _store_session(self, channel: ChannelContext, session: dict[str, Any]) -> dict[str, Any]:
        credentials = {
            **channel.credentials,
            "access_jwt": session["accessJwt"],
            "refresh_jwt": session["refreshJwt"],
            "did": session["did"],
            "handle": session.get("handle") or channel.credentials.get("handle"),
        }
        credentials.setdefault("service_url", DEFAULT_SERVICE_URL)
        channel.credentials = credentials
        channel.save_credentials(credentials)
        return credentials

    # -- HTTP

    def _call(self, channel: ChannelContext, method: str, nsid: str, *, sent_is_ambiguous: bool = False,
              headers: dict[str, str] | None = None, **kwargs: Any) -> dict[str, Any]:
        """An authenticated XRPC call; an expired or rejected token is renewed once."""
        url = self._url(channel, nsid)
        for attempt in range(2):
            token = self._session(channel)["access_jwt"]
            response = self._send(method, url, sent_is_ambiguous=sent_is_ambiguous,
                                  headers={**(headers or {}), "Authorization": f"Bearer {token}"}, **kwargs)
            if not _session_rejected(response):
                return self._answer(response)
            if attempt == 0:
                self._renew_session(channel)
        raise AuthError(f"Bluesky rejected a fresh session: {_error_text(response)}", status=response.status_code)

    def _url(self, channel: ChannelContext, nsid: str) -> str:
        return f"{service_url(channel.credentials)}/xrpc/{nsid}"

    def _send(self, method: str, url: str, *, sent_is_ambiguous: bool = False, **kwargs: Any) -> Any:
        import requests

        if self._http is None:
            self._http = self._policy.session()
        try:
            self._policy.check_url(url)
            return self._http.request(method, url, timeout=TIMEOUT_S, **kwargs)
        except OutboundRefused as refused:
            if sent_is_ambiguous and isinstance(refused, AnswerTooLarge):
                raise AmbiguousError(f"Bluesky answered with {refused.reason}; the post may exist.") from None
            raise PermanentError(f"The Bluesky server was not contacted: {refused.reason}.") from None
        except requests.ConnectionError as error:
            # Includes ConnectTimeout. A connection dropped after sending is retryable here too: the
            # deterministic record key makes a repeated createRecord harmless.
            raise RetryableError(f"Could not reach Bluesky ({_host(url)}).") from error
        except requests.RequestException as error:
            if sent_is_ambiguous:
                raise AmbiguousError("Bluesky did not answer in time; the post may exist.") from error
            raise RetryableError("Bluesky did not answer in time.") from error

    def _answer(self, response: Any) -> dict[str, Any]:
        status = response.status_code
        if status < 300:
            return _json(response)
        text = _error_text(response)
        if status == 429:
            raise RetryableError(f"Bluesky rate limit reached: {text}", status=status,
                                 retry_after_s=_retry_after(response, self._clock.now()))
        if status >= 500:
            raise RetryableError(f"Bluesky had a server error ({status}): {text}", status=status)
        if status in (401, 403):
            raise AuthError(f"Bluesky refused the channel's credentials: {text}", status=status)
        raise PermanentError(f"Bluesky refused the request: {text}", status=status)


def make_adapter(http: Http | None = None, clock: Clock | None = None,
                 policy: OutboundPolicy | None = None) -> BlueskyAdapter:
    return BlueskyAdapter(http=http, clock=clock, policy=policy)




# ---------------------------------------------------------------------------------------------- helpers
def _search_term(term: str) -> str:
    """A phrase is quoted (Lucene syntax, which the lexicon recommends)."""
    cleaned = term.replace('"', "")
    return f'"{cleaned}"' if " " in cleaned else cleaned


def _found_post(view: dict[str, Any]) -> FoundPost | None:
    record = view.get("record") or {}
    uri = view.get("uri")
    if not uri or record.get("$type", POST_COLLECTION) != POST_COLLECTION:
        return None
    try:
        indexed_at = parse_rfc3339(str(view.get("indexedAt") or record.get("createdAt")))
    except (TypeError, ValueError):
        return None
    author = view.get("author") or {}
    handle = str(author.get("handle") or "")
    return FoundPost(remote_id=str(uri), text=str(record.get("text", "")), occurred_at=indexed_at,
                     author_id=str(author.get("did") or ""),
                     author_name=str(author.get("displayName") or handle), author_handle=handle,
                     url=post_url(handle, str(uri)) if handle else None)



def service_url(credentials: dict[str, Any]) -> str:
    return str(credentials.get("service_url") or DEFAULT_SERVICE_URL).strip().rstrip("/")


def check_given_credentials(credentials: dict[str, Any], policy: OutboundPolicy) -> None:
    """Refuses, before anything is fetched or stored, a PDS address the policy would refuse."""
    try:
        policy.check_url(service_url(credentials))
    except OutboundRefused as refused:
        raise ValidationFailed.field("credentials.service_url", f"refused: {refused.reason}") from None


def _host(url: str) -> str:
    return urlsplit(url).netloc

def _json(response: Any) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _error_text(response: Any) -> str:
    """XRPC's documented `error` name and `message`, cleaned and cut short; never the raw body."""
    body = _json(response)
    name, message = body.get("error"), body.get("message")
    name = clean_reason(name, 60) if isinstance(name, str) else ""
    message = clean_reason(message) if isinstance(message, str) else ""
    if name and message:
        return f"{message} ({name})"
    return message or name or f"HTTP {response.status_code}"


def _session_rejected(response: Any) -> bool:
    return response.status_code == 401 or (
        response.status_code == 400 and _json(response).get("error") in SESSION_ERRORS
    )


def _may_already_exist(error: NetworkError) -> bool:
    """Whether a failed createRecord could be the record key already being taken."""
    if error.status is None:
        return False
    return error.status >= 500 or error.status == 409 or (error.status == 400 and "exist" in error.message.lower())


def _retry_after(response: Any, now: datetime) -> float | None:
    headers = response.headers
    raw = headers.get("Retry-After")
    if raw:
        try:
            return max(0.0, float(raw))
        except ValueError:
            try:
                return max(0.0, (parsedate_to_datetime(raw) - now).total_seconds())
            except (TypeError, ValueError):
                pass
    reset = headers.get("RateLimit-Reset")  # Bluesky's own header: a Unix time in seconds
    if reset:
        try:
            return max(0.0, float(reset) - now.timestamp())
        except ValueError:
            return None
    return None


def _load_images(media: tuple[MediaItem, ...]) -> list[tuple[MediaItem, bytes]]:
    if len(media) > LIMITS.max_media:
        raise PermanentError(f"Bluesky posts take at most {LIMITS.max_media} images; this one has {len(media)}.")
    images = []
    for item in media:
        if not item.mime.startswith("image/"):
            raise PermanentError(f"Bluesky posts take images only, not {item.mime}.")
        if item.load is None:
            raise PermanentError("An image for Bluesky has no content to upload.")
        data = item.load()
        if len(data) > LIMITS.max_media_bytes:
            raise PermanentError(
                f"Bluesky images are limited to {LIMITS.max_media_bytes:,} bytes; this one has {len(data):,}."
            )
        images.append((item, data))
    return images


def _strong_ref(value: Any) -> dict[str, str] | None:
    if isinstance(value, dict) and value.get("uri") and value.get("cid"):
        return {"uri": str(value["uri"]), "cid": str(value["cid"])}
    return None


def _split_at_uri(uri: str) -> tuple[str, str, str]:
    parts = uri.removeprefix("at://").split("/")
    if not uri.startswith("at://") or len(parts) != 3:
        raise PermanentError(f"Not a Bluesky post address: {uri!r}")
    return parts[0], parts[1], parts[2]


def _created_at(record: dict[str, Any]) -> datetime | None:
    try:
        return parse_rfc3339(record["createdAt"])
    except (KeyError, TypeError, ValueError):
        return None


def _inbound_event(account_did: str, notification: dict[str, Any]) -> InboundEvent | None:
    reason = notification.get("reason")
    record = notification.get("record") or {}
    if reason not in INBOX_REASONS or record.get("$type", POST_COLLECTION) != POST_COLLECTION:
        return None
    uri, cid = notification["uri"], notification["cid"]
    reply = record.get("reply") or {}
    root = _strong_ref(reply.get("root")) or {"uri": uri, "cid": cid}
    parent_id = (reply.get("parent") or {}).get("uri")
    if reason == "quote" and parent_id is None:
        parent_id = notification.get("reasonSubject")
    author = notification.get("author") or {}
    return InboundEvent(
        network=NETWORK,
        account_id=account_did,
        event_id=uri,
        kind="comment" if reason == "reply" else "mention",
        action="created",
        thread_key=root["uri"],
        message_id=uri,
        direction="inbound",
        text=str(record.get("text", "")),
        occurred_at=parse_rfc3339(notification["indexedAt"]),
        author_id=author.get("did", ""),
        author_name=author.get("displayName") or author.get("handle", ""),
        author_handle=author.get("handle", ""),
        parent_id=parent_id,
        reply_context={"root": root, "parent": {"uri": uri, "cid": cid}},
    )
