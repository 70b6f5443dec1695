"""X: Account Activity webhooks in; posts, threads and media, replies and direct messages out through API v2.

Publishing lives in x_publish.py (the steps, the rules, looking before a retry) and connecting in x_oauth.py;
this module is the adapter the engine holds: one authenticated call, its errors in plain words, and a token
refreshed once (through the engine's atomic refresh) when X says it has expired.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any, Literal

from chalicelib.core.clock import Clock
from chalicelib.networks import x_publish
from chalicelib.networks.base import (
    AuthError,
    ChannelContext,
    ContentProblem,
    FoundPost,
    InboundEvent,
    NetworkError,
    NetworkLimits,
    PermanentError,
    PublicProfile,
    PublishRequest,
    PublishResult,
    RateBudget,
    ReplyRequest,
    SearchRefused,
    SearchResult,
    SignatureError,
)
from chalicelib.networks.http_failures import object_at, read_json, send
from chalicelib.networks.webhook import (
    BASE64_CHARS,
    InboxNetworkAdapter,
    Malformed,
    ParsedWebhook,
    challenge_token,
    hmac_sha256,
    items_of,
    moment_from_epoch,
    optional_text,
    query_value,
    require_secret,
    required_header,
    same_digest,
    text_field,
)
from chalicelib.networks.x_errors import PLAN_PROBLEMS, explain_error
from chalicelib.networks.x_oauth import XOAuth

API_URL = "https://api.x.com/2"
SIGNATURE_HEADER = "x-twitter-webhooks-signature"

LIMITS = NetworkLimits(
    max_text=280,
    text_counting="x_weighted",
    max_media=x_publish.MAX_IMAGES,
    media_types=tuple(x_publish.KIND_OF_MIME),
    # The largest any kind may be (a video); images (5 MB) and GIFs (15 MB) are held to theirs in content_problems.
    max_media_bytes=x_publish.MAX_BYTES["video"],
)
# POST /2/tweets allows a user 100 posts per 15 minutes and media uploads far more, so an account's limit is a
# rate, not a concurrency; 10 at once (as our rivals keep X) lets a burst of threads and uploads proceed without
# one account's deliveries crowding out the others. X's per-app caps count per 24 hours (and by plan), so the
# network-wide bound is only the workers' own.
BUDGET = RateBudget(per_account_concurrency=10, per_network_concurrency=50)
# Refresh a token this long before X says it expires, rather than have a call refused.
TOKEN_EXPIRY_MARGIN = timedelta(seconds=60)

CREATED_AT_FORMAT = "%a %b %d %H:%M:%S %z %Y"  # "Thu Dec 19 11:27:49 +0000 2019"


def verify_signature(
    raw_body: bytes, headers: Mapping[str, str], secret: str, now: datetime | None = None
) -> None:
    """`x-twitter-webhooks-signature: sha256=<base64 HMAC-SHA256(consumer secret, raw body)>`."""
    require_secret(secret)
    value = required_header(headers, SIGNATURE_HEADER)
    scheme, _, encoded = value.partition("=")
    if scheme.lower() != "sha256" or not encoded:
        raise SignatureError(f"malformed {SIGNATURE_HEADER} header")
    try:
        received = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise SignatureError(f"malformed {SIGNATURE_HEADER} header: not base64") from None
    if len(received) != 32:
        raise SignatureError(f"malformed {SIGNATURE_HEADER} header: not a SHA-256 digest")
    same_digest(hmac_sha256(secret, raw_body), received)


def crc_response(crc_token: str, consumer_secret: str) -> dict[str, str]:
    """The answer to X's GET challenge-response check.

    X signs a POST's raw body alone with the same consumer secret, so a CRC over any text would be the
    signature of a POST of that text: only a short token of base64 and URL-safe characters is signed, and no
    such token is a JSON object (see `challenge_token`).
    """
    require_secret(consumer_secret)
    crc_token = challenge_token(crc_token, "crc_token", BASE64_CHARS)
    digest = hmac_sha256(consumer_secret, crc_token.encode("utf-8"))
    return {"response_token": "sha256=" + base64.b64encode(digest).decode("ascii")}


def answer_handshake(query: Mapping[str, Any], consumer_secret: str) -> dict[str, str]:
    return crc_response(query_value(query, "crc_token") or "", consumer_secret)


def parse_webhook(payload: dict[str, Any]) -> ParsedWebhook:
    parsed = ParsedWebhook()
    try:
        for_user_id = text_field(payload, "for_user_id")
    except Malformed as exc:
        parsed.errors.append(str(exc))
        return parsed
    users = object_at(payload, "users")
    for key, value in payload.items():
        if key == "tweet_create_events":
            _each(parsed, key, value, lambda tweet: _tweet_event(for_user_id, tweet))
        elif key == "direct_message_events":
            _each(parsed, key, value, lambda dm: _dm_event(for_user_id, dm, users))
        elif key.endswith("_events"):
            parsed.ignored += len(value) if isinstance(value, list) else 1
    return parsed


def _each(parsed: ParsedWebhook, key: str, value: Any, convert: Any) -> None:
    try:
        items = items_of({key: value}, key)
    except Malformed as exc:
        parsed.errors.append(str(exc))
        return
    for index, item in enumerate(items):
        try:
            event = convert(item)
        except Malformed as exc:
            parsed.errors.append(f"{key}[{index}]: {exc}")
            continue
        if event is None:
            parsed.ignored += 1
        else:
            parsed.events.append(event)


def _tweet_event(for_user_id: str, tweet: Any) -> InboundEvent | None:
    if not isinstance(tweet, Mapping):
        raise Malformed("tweet is not an object")
    tweet_id = optional_text(tweet, "id_str") or text_field(tweet, "id")
    user = tweet.get("user")
    author_id = optional_text(user, "id_str") or text_field(user, "id", "user")
    if "retweeted_status" in tweet:
        return None  # a repost carries no words of its own to answer
    replied_user = _id_of(tweet, "in_reply_to_user_id")
    replied_tweet = _id_of(tweet, "in_reply_to_status_id")
    conversation_id = _id_of(tweet, "conversation_id")
    ours = author_id == for_user_id
    kind = _tweet_kind(tweet, for_user_id, ours, replied_user, replied_tweet)
    if kind is None:
        return None
    return InboundEvent(
        network="x",
        account_id=for_user_id,
        event_id=tweet_id,
        kind=kind,
        action="created",
        thread_key=_thread_key(kind, tweet_id, conversation_id, replied_tweet),
        message_id=tweet_id,
        direction="outbound" if ours else "inbound",
        text=_tweet_text(tweet),
        occurred_at=_tweet_time(tweet),
        author_id=author_id,
        author_name=optional_text(user, "name") or "",
        author_handle=optional_text(user, "screen_name") or "",
        parent_id=replied_tweet,
        reply_context={
            "tweet_id": tweet_id,
            "author_id": author_id,
            **({"conversation_id": conversation_id} if conversation_id else {}),
        },
    )


def _id_of(tweet: Mapping[str, Any], key: str) -> str | None:
    """The id from its `_str` twin when there is one (a JSON number above 2**53 loses digits), else the number."""
    return optional_text(tweet, f"{key}_str") or optional_text(tweet, key)


TweetKind = Literal["comment", "mention"]


def _tweet_kind(tweet: Mapping[str, Any], for_user_id: str, ours: bool, replied_user: str | None,
                replied_tweet: str | None) -> TweetKind | None:
    """A comment (a reply in one of our threads), a mention, or None: not for the inbox."""
    if ours:
        if not replied_tweet or replied_user == for_user_id:
            return None  # our own post, or a thread of our own posts: publishing, not the inbox
        return "comment"
    if replied_user == for_user_id and replied_tweet:
        return "comment"
    if _mentions(tweet, for_user_id):
        return "mention"
    return None


def _thread_key(kind: str, tweet_id: str, conversation_id: str | None, replied_tweet: str | None) -> str:
    if kind == "comment":
        return conversation_id or replied_tweet or tweet_id
    return conversation_id or tweet_id


def _mentions(tweet: Mapping[str, Any], user_id: str) -> bool:
    for source in (tweet, tweet.get("extended_tweet")):
        entities = source.get("entities") if isinstance(source, Mapping) else None
        mentions = entities.get("user_mentions") if isinstance(entities, Mapping) else None
        for mention in mentions if isinstance(mentions, list) else []:
            if (optional_text(mention, "id_str") or optional_text(mention, "id")) == user_id:
                return True
    return False


def _tweet_text(tweet: Mapping[str, Any]) -> str:
    extended = tweet.get("extended_tweet")
    if isinstance(extended, Mapping) and optional_text(extended, "full_text"):
        return str(extended["full_text"])
    return optional_text(tweet, "full_text") or optional_text(tweet, "text") or ""


def _tweet_time(tweet: Mapping[str, Any]) -> datetime:
    if tweet.get("timestamp_ms") is not None:
        return moment_from_epoch(tweet["timestamp_ms"], "timestamp_ms")
    created_at = tweet.get("created_at")
    try:
        return datetime.strptime(str(created_at), CREATED_AT_FORMAT)
    except ValueError:
        raise Malformed("created_at is not a time") from None


def _dm_event(for_user_id: str, dm: Any, users: Mapping[str, Any]) -> InboundEvent | None:
    if not isinstance(dm, Mapping):
        raise Malformed("direct message event is not an object")
    if dm.get("type") != "message_create":
        return None
    dm_id = text_field(dm, "id")
    created = dm.get("message_create")
    if not isinstance(created, Mapping):
        raise Malformed("message_create is not an object")
    sender_id = text_field(created, "sender_id", "message_create")
    recipient_id = text_field(created.get("target"), "recipient_id", "message_create.target")
    outbound = sender_id == for_user_id
    other = recipient_id if outbound else sender_id
    data = created.get("message_data")
    sender = object_at(users, sender_id)
    return InboundEvent(
        network="x",
        account_id=for_user_id,
        event_id=dm_id,
        kind="message",
        action="created",
        thread_key=other,
        message_id=dm_id,
        direction="outbound" if outbound else "inbound",
        text=optional_text(data, "text") or "",
        occurred_at=moment_from_epoch(dm.get("created_timestamp"), "created_timestamp"),
        author_id=sender_id,
        author_name=optional_text(sender, "name") or "",
        author_handle=optional_text(sender, "screen_name") or "",
        reply_context={"participant_id": other, "dm_event_id": dm_id},
    )


class XAdapter(InboxNetworkAdapter):
    """Credentials: `access_token` (OAuth 2.0 user context), `refresh_token`, `expires_at` (RFC 3339).
    Settings: `user_id` (the account), `username` (for the post's link)."""

    network = "x"
    limits = LIMITS
    budget = BUDGET

    def __init__(self, http: Any = None, clock: Clock | None = None, *, base_url: str | None = None) -> None:
        super().__init__(http, clock)
        # HERALD_X_API_URL (settings.py): the API host; v2 lives under /2.
        self.api_url = f"{base_url.rstrip('/')}/2" if base_url else API_URL

    def describe_account(self, channel: ChannelContext) -> dict[str, str]:
        """The user the token acts for (`GET /2/users/me`): its id is the webhooks' for_user_id."""
        body = self._call(channel, "GET", f"{self.api_url}/users/me")
        data = object_at(body, "data")
        user_id = str(data.get("id") or "")
        if not (user_id.isascii() and user_id.isdigit()):
            raise PermanentError("X returned no user id for this token")
        username = str(data.get("username") or user_id)
        return {"handle": username, "account_id": user_id, "username": username}

    # -- publishing ----------------------------------------------------------------------------------------

    def content_problems(self, request: PublishRequest) -> list[ContentProblem]:
        return x_publish.content_problems(request)

    def publish(self, channel: ChannelContext, request: PublishRequest) -> PublishResult:
        """The post and its thread, media first; continues from `request.progress` (see x_publish)."""
        def look(part: x_publish.Part, previous: str | None, since: Any) -> str | None:
            posts = x_publish.recent_posts(self._api(channel), self._user_id(channel), since - x_publish.LOOK_SLACK)
            return x_publish.matching_post(posts, part, previous, since - x_publish.LOOK_SLACK, set())

        return x_publish.ThreadPublish(self._api(channel), request, channel.settings, self._clock.now, look).run()

    def find_published(self, channel: ChannelContext, request: PublishRequest) -> PublishResult | None:
        """The delivery's post when every part of it is on X (found by its words, its time and the part it
        answers); None when the next part is certainly not there (a retry continues the thread from there,
        recording the parts found); AmbiguousError when X cannot tell."""
        parts = x_publish.parts_of(request)
        tweets = [str(tweet_id) for tweet_id in request.progress.get("tweets") or []]
        if len(tweets) < len(parts):
            since = x_publish.look_since(request, self._clock.now())
            posts = x_publish.recent_posts(self._api(channel), self._user_id(channel), since)
            found = self._found_parts(posts, parts, tweets, since)
            if found:
                progress = {k: v for k, v in request.progress.items() if k != "sending"}
                request.record_progress({**progress, "tweets": tweets + found})
            tweets += found
        if len(tweets) < len(parts):
            return None
        return PublishResult(remote_id=tweets[0], remote_url=x_publish.permalink(channel.settings, tweets[0]),
                             published_at=self._clock.now())

    @staticmethod
    def _found_parts(posts: list[Mapping[str, Any]], parts: list[x_publish.Part], tweets: list[str],
                     since: datetime) -> list[str]:
        found: list[str] = []
        for part in parts[len(tweets):]:
            previous = (tweets + found)[-1] if tweets or found else None
            match = x_publish.matching_post(posts, part, previous, since, set(tweets + found))
            if match is None:
                break
            found.append(match)
        return found

    def _user_id(self, channel: ChannelContext) -> str:
        user_id = str(channel.settings.get("user_id") or "")
        return user_id or self.describe_account(channel)["account_id"]

    # -- replies ---------------------------------------------------------------------------------------------

    def reply(self, channel: ChannelContext, request: ReplyRequest) -> PublishResult:
        if request.kind == "message":
            participant = request.thread.get("participant_id")
            if not participant:
                raise PermanentError("this conversation has no participant to answer")
            body = self._call(
                channel,
                "POST",
                f"{self.api_url}/dm_conversations/with/{participant}/messages",
                json={"text": request.text},
            )
            remote_id = str((body.get("data") or {}).get("dm_event_id", ""))
            return self._result(remote_id, None)
        tweet_id = str(request.thread.get("tweet_id") or request.in_reply_to)
        body = self._call(
            channel,
            "POST",
            f"{self.api_url}/tweets",
            json={"text": request.text, "reply": {"in_reply_to_tweet_id": tweet_id}},
        )
        remote_id = str((body.get("data") or {}).get("id", ""))
        return self._result(remote_id, f"https://x.com/i/web/status/{remote_id}")

    def _result(self, remote_id: str, url: str | None) -> PublishResult:
        if not remote_id:
            raise PermanentError("x accepted the reply but returned no id")
        return PublishResult(remote_id=remote_id, remote_url=url, published_at=self._clock.now())

    # -- one call ----------------------------------------------------------------------------------------------

    def _api(self, channel: ChannelContext) -> x_publish.Call:
        def call(method: str, path: str, **kwargs: Any) -> dict[str, Any]:
            try:
                return self._call(channel, method, f"{self.api_url}{path}", **kwargs)
            except PermanentError as exc:
                raise plain_refusal(exc) from None

        return call

    def _call(self, channel: ChannelContext, method: str, url: str, **kwargs: Any) -> dict[str, Any]:
        """One authenticated call; a token X refuses as expired (401) is refreshed once and the call repeated."""
        if self._expired(channel):
            self._refresh(channel)
        try:
            return self._send(channel, method, url, **kwargs)
        except AuthError as exc:
            if exc.status != 401 or channel.refresh_credentials is None:
                raise
        self._refresh(channel)
        return self._send(channel, method, url, **kwargs)

    def _send(self, channel: ChannelContext, method: str, url: str, *, headers: Mapping[str, str] | None = None,
              **kwargs: Any) -> dict[str, Any]:
        token = channel.credentials.get("access_token")
        if not token:
            raise PermanentError("the x channel has no access token")
        response = send(
            self.http,
            method,
            url,
            network="X",
            explain=explain_error,
            headers={**(headers or {}), "Authorization": f"Bearer {token}"},
            now=self._clock.now,
            **kwargs,
        )
        body = read_json(response)
        return body if isinstance(body, dict) else {}

    def _expired(self, channel: ChannelContext) -> bool:
        if channel.refresh_credentials is None:
            return False
        expires_at = x_publish.moment_of(channel.credentials.get("expires_at"))
        return expires_at is not None and expires_at - TOKEN_EXPIRY_MARGIN <= self._clock.now()

    @staticmethod
    def _refresh(channel: ChannelContext) -> None:
        if channel.refresh_credentials is None:
            raise AuthError("X refused this channel's token and it cannot be refreshed", status=401)
        channel.credentials = dict(channel.refresh_credentials())


    def read_profile(self, channel: ChannelContext) -> PublicProfile:
        """GET /2/users/me with name, description, url, entities and profile_image_url; the link is the
        expanded form of X's t.co `url`, the avatar the 400x400 variant of the `_normal` one."""
        body = self._call(channel, "GET", f"{self.api_url}/users/me",
                          params={"user.fields": "name,description,url,entities,profile_image_url"})
        data = object_at(body, "data")
        urls = (((data.get("entities") or {}).get("url") or {}).get("urls") or [{}])
        link = urls[0].get("expanded_url") or data.get("url") or None
        avatar = data.get("profile_image_url")
        return PublicProfile(display_name=data.get("name"), bio=data.get("description") or None, link=link,
                             avatar_url=str(avatar).replace("_normal.", "_400x400.") if avatar else None,
                             handle=data.get("username"))

    # -- listening search ---------------------------------------------------------------------------------

    def search_posts(self, channel: ChannelContext, terms: list[str], cursor: str | None) -> SearchResult:
        """GET /2/tweets/search/recent (the last 7 days) for any of the terms, newer than `since_id`.

        The Free plan and apps outside a Project cannot search: X's 403 `client-not-enrolled` and its
        `usage-capped` answer are a SearchRefused the rule shows, not a failure to retry.
        """
        params = {"query": search_query(terms), "max_results": str(SEARCH_PAGE),
                  "tweet.fields": "created_at,author_id", "expansions": "author_id", "user.fields": "username,name"}
        if cursor:
            params["since_id"] = cursor
        try:
            body = self._call(channel, "GET", f"{self.api_url}/tweets/search/recent", params=params)
        except NetworkError as exc:
            if any(problem in exc.message for problem in PLAN_PROBLEMS):
                raise SearchRefused(f"X does not allow this app to search: {exc.message}", status=exc.status) \
                    from None
            raise
        users = {str(u.get("id")): u for u in body.get("includes", {}).get("users", []) if isinstance(u, dict)}
        now = self._clock.now()
        posts = [_found_tweet(t, users, now) for t in body.get("data") or [] if isinstance(t, dict) and t.get("id")]
        newest = (body.get("meta") or {}).get("newest_id")
        return SearchResult(posts=posts, cursor=str(newest) if newest else cursor)


SEARCH_PAGE = 100  # search/recent: max_results 10..100


def search_query(terms: list[str]) -> str:
    """X's query language: phrases quoted, joined with OR; retweets left out (their text is someone else's)."""
    quoted = [f'"{term.replace(chr(34), "")}"' for term in terms]
    return f"({' OR '.join(quoted)}) -is:retweet"


def _found_tweet(tweet: Mapping[str, Any], users: Mapping[str, Mapping[str, Any]], now: datetime) -> FoundPost:
    author = users.get(str(tweet.get("author_id")), {})
    username = str(author.get("username") or "")
    return FoundPost(
        remote_id=str(tweet["id"]), text=_tweet_text(tweet),
        occurred_at=x_publish.moment_of(tweet.get("created_at")) or now,
        author_id=str(tweet.get("author_id") or ""), author_name=str(author.get("name") or ""),
        author_handle=username,
        url=f"https://x.com/{username or 'i/web'}/status/{tweet['id']}",
    )


DUPLICATE_WORDS = ("duplicate",)


def plain_refusal(exc: PermanentError) -> PermanentError:
    """What X refused, in words a person acts on (the network's own words kept after them)."""
    said = exc.message.split(": ", 1)[1] if ": " in exc.message else ""
    lowered = said.lower()
    if any(word in lowered for word in DUPLICATE_WORDS):
        return PermanentError("X refused a duplicate of a recent post: change its words to publish it again",
                              status=exc.status)
    if exc.status == 403:
        return PermanentError("X refused this post under its rules" + (f" (X said: {said})" if said else ""),
                              status=exc.status)
    if exc.status == 400 and "media" in lowered:
        return PermanentError(f"X refused this post's media (X said: {said})", status=exc.status)
    return exc


def make_adapter(http: Any = None, clock: Clock | None = None, *, base_url: str | None = None) -> XAdapter:
    return XAdapter(http=http, clock=clock, base_url=base_url)


def make_oauth(http: Any = None, clock: Clock | None = None, *, authorize_url: str | None = None,
               api_url: str | None = None) -> XOAuth:
    """X's OAuth side: `make_oauth(authorize_url=settings.x_authorize_url, api_url=settings.x_api_url)`, with
    `OAuthApp(settings.x_client_id, settings.x_client_secret)`."""
    from chalicelib.core.clock import SystemClock

    return XOAuth(http, now=(clock or SystemClock()).now, authorize_url=authorize_url, api_url=api_url)
