"""LinkedIn: organization social action notifications in, comments out, member and organization posts
published through the versioned Posts API, and connecting by OAuth 2.0.

Signature: LinkedIn's docs say the X-LI-Signature value is "the HMACSHA256 hash
of the JSON-encoded string representation of the POST body prefixed by
`hmacsha256=`"; the string that is signed is `hmacsha256=` + raw body and the
header carries the lowercase hex digest. A header that repeats the prefix in
front of the digest is accepted too.

Publishing (tests/events/linkedin/README.md cites the pages): images go through the Images API, videos through
the Videos API (multipart, finalized, then processed), PDF carousels through the Documents API, each upload a
step recorded in the delivery's progress before the next; then `POST /rest/posts`, whose urn comes back in
`x-restli-id`; then the first comment. The commentary is LinkedIn's "little" text format: its reserved
characters are escaped, or LinkedIn cuts the post at the first of them.
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any, Literal
from urllib.parse import quote, urlencode

from chalicelib.core.clock import Clock, to_rfc3339
from chalicelib.networks.base import (
    AmbiguousError,
    AuthError,
    ChannelContext,
    ContentProblem,
    GrantedAccount,
    InboundEvent,
    MediaItem,
    NetworkError,
    NetworkLimits,
    OAuthApp,
    PermanentError,
    PublicProfile,
    PublishRequest,
    PublishResult,
    RateBudget,
    ReplyRequest,
    RetryableError,
    StillProcessing,
    TokenGrant,
)
from chalicelib.networks.http_failures import DEFAULT_TIMEOUT, ErrorDetail, object_at, read_json, send
from chalicelib.networks.webhook import (
    TOKEN_CHARS,
    InboxNetworkAdapter,
    Malformed,
    ParsedWebhook,
    challenge_token,
    header_value,
    hex_digest_bytes,
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

API_HOST = "https://api.linkedin.com"
API_URL = f"{API_HOST}/rest"
AUTHORIZE_URL = "https://www.linkedin.com/oauth/v2/authorization"
TOKEN_URL = "https://www.linkedin.com/oauth/v2/accessToken"
POST_URL = "https://www.linkedin.com/feed/update/{urn}"
LINKEDIN_VERSION = "202601"  # YYYYMM; LinkedIn keeps each version for about a year
RESTLI_PROTOCOL_VERSION = "2.0.0"
SIGNATURE_HEADER = "X-LI-Signature"
SIGNED_PREFIX = b"hmacsha256="
NOTIFICATION_TYPE = "ORGANIZATION_SOCIAL_ACTION_NOTIFICATIONS"
ORGANIZATION_URN = re.compile(r"urn:li:organization(Brand)?:[0-9]{1,20}")
PERSON_URN = re.compile(r"urn:li:person:[A-Za-z0-9_-]{1,64}")
ACL_PAGE = 100  # organizations read in one call; a member administering more names the one to connect

# What Herald asks for (3-legged OAuth): the member's identity (OpenID) and the right to post as them; with
# the Community Management API product, the right to post as, read and list the organizations they administer.
MEMBER_SCOPES = ("openid", "profile", "w_member_social")
ORGANIZATION_SCOPES = ("w_organization_social", "r_organization_social", "rw_organization_admin")
SCOPES = MEMBER_SCOPES + ORGANIZATION_SCOPES

# -- what LinkedIn accepts (Posts, MultiImage, Images, Videos and Documents API pages) ----------------------
MAX_COMMENTARY = 3000
MAX_COMMENT = 1250
MAX_ALT_TEXT = 4086
MAX_DOCUMENT_TITLE = 400
MIN_IMAGES_TOGETHER, MAX_IMAGES = 2, 20
MAX_IMAGE_PIXELS = 36_152_320  # "less than", the Images API says
IMAGE_TYPES = ("image/jpeg", "image/png", "image/gif")
VIDEO_TYPES = ("video/mp4",)
MIN_VIDEO_BYTES, MAX_VIDEO_BYTES = 75 * 1024, 500 * 1024 * 1024
MIN_VIDEO_S, MAX_VIDEO_S = 3.0, 30 * 60.0
DOCUMENT_TYPES = (
    "application/pdf",
    "application/vnd.ms-powerpoint",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "application/msword",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
)
MAX_DOCUMENT_BYTES = 100 * 1024 * 1024  # and 300 pages, which LinkedIn checks when it processes the file
VISIBILITIES = ("PUBLIC", "CONNECTIONS", "LOGGED_IN")
VIDEO_PART_BYTES = 4 * 1024 * 1024  # the part size LinkedIn's uploadInstructions use

LIMITS = NetworkLimits(
    max_text=MAX_COMMENTARY,
    max_media=MAX_IMAGES,
    media_types=IMAGE_TYPES + VIDEO_TYPES + DOCUMENT_TYPES,
    max_media_bytes=MAX_VIDEO_BYTES,  # the largest kind's; each kind's own is checked in content_problems
)

# LinkedIn's limits are per day (application and member), reset at midnight UTC, and its 429s carry no
# Retry-After; a burst still meets its infrastructure protection, so Herald keeps 2 calls at once per account
# (as its rivals do) and 20 across the app, whose daily quota every account shares.
BUDGET = RateBudget(per_account_concurrency=2, per_network_concurrency=20)
# A 429 without Retry-After: LinkedIn says infrastructure throttling clears by itself and daily limits reset at
# midnight UTC, so wait this long, or until just after midnight UTC when that comes sooner.
RATE_LIMIT_BACKOFF_S = 15 * 60.0
VIDEO_CHECK_AFTER_S = 15.0
DOCUMENT_CHECK_AFTER_S = 10.0
# Looking before a retry: a post created up to this long before the first attempt is not ours.
CLOCK_SKEW = timedelta(minutes=2)
FIND_PAGE = 10

COMMENT_ACTIONS: dict[str, tuple[Literal["created", "edited", "deleted"], Literal["inbound", "outbound"]]] = {
    "COMMENT": ("created", "inbound"),
    "ADMIN_COMMENT": ("created", "outbound"),
    "COMMENT_EDIT": ("edited", "inbound"),
    "COMMENT_DELETE": ("deleted", "inbound"),
}
MENTION_ACTIONS = {"SHARE_MENTION", "COMMENT_MENTION", "MENTION"}



def verify_signature(
    raw_body: bytes, headers: Mapping[str, str], secret: str, now: datetime | None = None
) -> None:
    require_secret(secret)
    value = required_header(headers, SIGNATURE_HEADER)
    if value.lower().startswith(SIGNED_PREFIX.decode()):
        value = value[len(SIGNED_PREFIX) :]
    same_digest(hmac_sha256(secret, SIGNED_PREFIX + raw_body), hex_digest_bytes(value))


def challenge_response(challenge_code: str, client_secret: str) -> dict[str, str]:
    """The answer to LinkedIn's GET `?challengeCode=` endpoint validation.

    LinkedIn sends a type-4 UUID. It signs a POST as `hmacsha256=` + body with the same client secret, so a
    code of any text would yield POST signatures: only letters, digits, `-` and `_` are signed, and with no
    `=` no code can even start with the signed prefix (see `challenge_token`).
    """
    require_secret(client_secret)
    challenge_code = challenge_token(challenge_code, "challengeCode", TOKEN_CHARS)
    digest = hmac.new(client_secret.encode("utf-8"), challenge_code.encode("utf-8"), "sha256").hexdigest()
    return {"challengeCode": challenge_code, "challengeResponse": digest}


def answer_handshake(query: Mapping[str, Any], client_secret: str) -> dict[str, str]:
    return challenge_response(query_value(query, "challengeCode") or "", client_secret)


def parse_webhook(payload: dict[str, Any]) -> ParsedWebhook:
    parsed = ParsedWebhook()
    if not isinstance(payload, dict):
        parsed.errors.append("payload is not an object")
        return parsed
    try:
        notifications = items_of(payload, "notifications")
    except Malformed as exc:
        parsed.errors.append(str(exc))
        return parsed
    if payload.get("type") != NOTIFICATION_TYPE:
        parsed.ignored += max(1, len(notifications))  # lead notifications and other families
        return parsed
    for index, notification in enumerate(notifications):
        try:
            event = _notification_event(notification)
        except Malformed as exc:
            parsed.errors.append(f"notifications[{index}]: {exc}")
            continue
        if event is None:
            parsed.ignored += 1
        else:
            parsed.events.append(event)
    return parsed


def _notification_event(notification: Any) -> InboundEvent | None:
    notification_id = text_field(notification, "notificationId")
    organization = text_field(notification, "organizationalEntity")
    action = text_field(notification, "action")
    if action not in COMMENT_ACTIONS and action not in MENTION_ACTIONS:
        return None  # LIKE, SHARE: counters, not conversation
    occurred_at = moment_from_epoch(notification.get("lastModifiedAt"), "lastModifiedAt")
    decorated = notification.get("decoratedGeneratedActivity")
    decorated = decorated if isinstance(decorated, Mapping) else {}
    generated = optional_text(notification, "generatedActivity")
    source_post = optional_text(notification, "sourcePost")
    if action in COMMENT_ACTIONS:
        comment = object_at(decorated, "comment")
        # decorated entity is the full urn:li:comment:(urn:li:activity:..,..) form the API takes
        comment_urn = optional_text(comment, "entity") or generated
        if not comment_urn:
            raise Malformed("missing generatedActivity")
        post_urn = source_post or optional_text(comment, "object")
        if not post_urn:
            raise Malformed("missing sourcePost")
        lifecycle, direction = COMMENT_ACTIONS[action]
        author = optional_text(comment, "owner") or optional_text(comment, "actor") or ""
        return InboundEvent(
            network="linkedin",
            account_id=organization,
            event_id=notification_id,
            kind="comment",
            action=lifecycle,
            thread_key=post_urn,
            message_id=comment_urn,
            direction="outbound" if author == organization else direction,
            text=_comment_text(comment),
            occurred_at=occurred_at,
            author_id=author,
            parent_id=optional_text(comment, "parentComment"),
            reply_context={
                "organization_urn": organization,
                "object_urn": post_urn,
                "comment_urn": comment_urn,
            },
        )
    share = decorated.get("share") if isinstance(decorated.get("share"), Mapping) else {}
    mention_urn = optional_text(share, "entity") or generated or source_post
    if not mention_urn:
        raise Malformed("missing generatedActivity")
    author = optional_text(share, "owner") or ""
    return InboundEvent(
        network="linkedin",
        account_id=organization,
        event_id=notification_id,
        kind="mention",
        action="created",
        thread_key=mention_urn,
        message_id=mention_urn,
        direction="inbound",
        text=optional_text(share, "text") or "",
        occurred_at=occurred_at,
        author_id=author,
        reply_context={"organization_urn": organization, "object_urn": mention_urn},
    )


def _comment_text(comment: Mapping[str, Any]) -> str:
    text = optional_text(comment, "text")
    if text:
        return text
    message = comment.get("message")
    return optional_text(message, "text") or ""


# -- the "little" text format ---------------------------------------------------------------------------------

LITTLE_RESERVED = frozenset("\\|{}@[]()<>#*_~")


def little_text(text: str) -> str:
    """`text` as plain "little" text: every reserved character escaped with a backslash ("even if those
    characters are not used in one of the supported elements", the format's page says), except the `#` that
    starts a hashtag (`#word`), which stays a HashtagElement so that it links as in LinkedIn's own composer."""
    escaped: list[str] = []
    for index, char in enumerate(text):
        if char in LITTLE_RESERVED and not _starts_hashtag(text, index):
            escaped.append("\\")
        escaped.append(char)
    return "".join(escaped)


def _starts_hashtag(text: str, index: int) -> bool:
    if text[index] != "#" or index + 1 >= len(text) or not text[index + 1].isalnum():
        return False
    return index == 0 or not (text[index - 1].isalnum() or text[index - 1] == "\\")


def plain_from_little(commentary: str) -> str:
    """What a little text shows, for comparing a post read back with the text Herald sent."""
    shown: list[str] = []
    escaping = False
    for char in commentary:
        if escaping or char != "\\":
            shown.append(char)
            escaping = False
        else:
            escaping = True
    return "".join(shown)


# -- what a post may hold ---------------------------------------------------------------------------------------

MediaKind = Literal["image", "video", "document"]


def media_kind(mime: str) -> MediaKind | None:
    mime = (mime or "").lower()
    if mime in IMAGE_TYPES:
        return "image"
    if mime in VIDEO_TYPES:
        return "video"
    if mime in DOCUMENT_TYPES:
        return "document"
    return None


def commentary_of(request: PublishRequest) -> str:
    """The post's text as a person reads it: the link goes into the text, where LinkedIn makes it clickable
    (the Posts API does not scrape a link into a preview)."""
    text = request.text
    if request.link and request.link not in text:
        text = f"{text}\n\n{request.link}" if text else request.link
    return text


def content_problems(request: PublishRequest) -> list[ContentProblem]:
    """The rules LinkedIn documents for an organic post, each named with its field."""
    problems: list[ContentProblem] = []
    commentary = commentary_of(request)
    if len(commentary) > MAX_COMMENTARY:
        problems.append(ContentProblem("text", f"LinkedIn posts hold at most {MAX_COMMENTARY} characters; "
                                               f"this one has {len(commentary)}"))
    if request.thread:
        problems.append(ContentProblem("thread", "LinkedIn has no threads: publish the parts as separate posts"))
    if request.first_comment is not None:
        if not request.first_comment.strip():
            problems.append(ContentProblem("first_comment", "a LinkedIn first comment cannot be empty"))
        elif len(request.first_comment) > MAX_COMMENT:
            problems.append(ContentProblem("first_comment", f"LinkedIn comments hold at most {MAX_COMMENT} "
                                                            "characters"))
    problems.extend(_media_problems(request.media))
    problems.extend(_option_problems(request))
    return problems


def _media_problems(media: tuple[MediaItem, ...]) -> list[ContentProblem]:
    problems: list[ContentProblem] = []
    kinds = [media_kind(item.mime) for item in media]
    for index, (item, kind) in enumerate(zip(media, kinds, strict=True)):
        if kind is None:
            problems.append(ContentProblem(f"media.{index}", f"LinkedIn does not take {item.mime or 'this file'}: "
                                           "images are JPEG, PNG or GIF, videos MP4, documents PDF, PowerPoint "
                                           "or Word"))
        else:
            problems.extend(_item_problems(index, item, kind))
    known = {kind for kind in kinds if kind}
    if len(known) > 1:
        problems.append(ContentProblem("media", "a LinkedIn post holds images, or one video, or one document, "
                                                "never a mix"))
    elif known == {"image"} and len(media) > MAX_IMAGES:
        problems.append(ContentProblem("media", f"a LinkedIn post holds at most {MAX_IMAGES} images"))
    elif known == {"video"} and len(media) > 1:
        problems.append(ContentProblem("media", "a LinkedIn post holds one video"))
    elif known == {"document"} and len(media) > 1:
        problems.append(ContentProblem("media", "a LinkedIn post holds one document"))
    return problems


def _item_problems(index: int, item: MediaItem, kind: MediaKind) -> list[ContentProblem]:
    where = f"media.{index}"
    problems: list[ContentProblem] = []
    if len(item.alt) > MAX_ALT_TEXT:
        problems.append(ContentProblem(where, f"LinkedIn alt text holds at most {MAX_ALT_TEXT} characters"))
    if kind == "image" and item.width and item.height and item.width * item.height >= MAX_IMAGE_PIXELS:
        problems.append(ContentProblem(where, f"LinkedIn takes images of fewer than {MAX_IMAGE_PIXELS:,} pixels; "
                                              f"this one has {item.width * item.height:,}"))
    if kind == "video" and item.size is not None and not MIN_VIDEO_BYTES <= item.size <= MAX_VIDEO_BYTES:
        problems.append(ContentProblem(where, "LinkedIn takes videos of 75 KB to 500 MB"))
    if kind == "video" and item.duration_s is not None and not MIN_VIDEO_S <= item.duration_s <= MAX_VIDEO_S:
        problems.append(ContentProblem(where, "LinkedIn takes videos of 3 seconds to 30 minutes"))
    if kind == "document" and item.size is not None and item.size > MAX_DOCUMENT_BYTES:
        problems.append(ContentProblem(where, "LinkedIn takes documents of at most 100 MB (and 300 pages)"))
    return problems


def _option_problems(request: PublishRequest) -> list[ContentProblem]:
    problems: list[ContentProblem] = []
    visibility = request.options.get("visibility")
    if visibility is not None and visibility not in VISIBILITIES:
        problems.append(ContentProblem("options.visibility", "LinkedIn visibility is one of "
                                                             f"{', '.join(VISIBILITIES)}"))
    title = request.options.get("document_title")
    if title is not None and (not isinstance(title, str) or not title.strip() or len(title) > MAX_DOCUMENT_TITLE):
        problems.append(ContentProblem("options.document_title", "a LinkedIn document title is a text of 1 to "
                                                                 f"{MAX_DOCUMENT_TITLE} characters"))
    for name in request.options:
        if name not in ("visibility", "document_title"):
            problems.append(ContentProblem(f"options.{name}", "LinkedIn takes the options visibility and "
                                                              "document_title only"))
    return problems


# -- errors ---------------------------------------------------------------------------------------------------

def explain_error(response: Any, *, permission: str | None = None,
                  now: Callable[[], datetime] | None = None) -> ErrorDetail:
    """LinkedIn's error body (`{"status", "serviceErrorCode", "code", "message", "errorDetails"}`) read for a
    person. `permission` is what the call needs, named when LinkedIn answers ACCESS_DENIED."""
    body = read_json(response)
    body = body if isinstance(body, Mapping) else {}
    status = response.status_code
    text = str(body.get("message") or body.get("code") or "") or (getattr(response, "text", "") or "")[:300]
    codes = {str(body.get("code") or "")} | _input_error_codes(body)
    if "DUPLICATE_POST" in codes or (status == 422 and "duplicate" in text.lower()):
        return ErrorDetail(text=text, sentence="LinkedIn refused a duplicate of a recent post")
    if status == 429:
        return ErrorDetail(text=text, rate_limited=True, retry_after_s=rate_limit_wait(now))
    if status == 403:
        # 403 is about what the member may do here; a token LinkedIn no longer takes is a 401.
        needed = f" the {permission} permission" if permission else " a permission this call needs"
        return ErrorDetail(text=text, not_auth=True, sentence=(
            f"LinkedIn denied access ({body.get('code') or 'ACCESS_DENIED'}): the connected member lacks{needed} "
            f"or the role it requires; reconnect granting it. LinkedIn said: {text}"))
    if status in (400, 426) and "version" in text.lower():
        return ErrorDetail(text=text, sentence=f"LinkedIn no longer serves API version {LINKEDIN_VERSION}: "
                                              f"Herald must move to a newer one ({text})")
    if status == 422 and _input_error_descriptions(body):
        return ErrorDetail(text="; ".join(_input_error_descriptions(body)))
    return ErrorDetail(text=text)


def _input_errors(body: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    details = body.get("errorDetails")
    errors = details.get("inputErrors") if isinstance(details, Mapping) else None
    return [error for error in errors if isinstance(error, Mapping)] if isinstance(errors, list) else []


def _input_error_codes(body: Mapping[str, Any]) -> set[str]:
    return {str(error.get("code")) for error in _input_errors(body) if error.get("code")}


def _input_error_descriptions(body: Mapping[str, Any]) -> list[str]:
    return [str(error.get("description")) for error in _input_errors(body) if error.get("description")]


def rate_limit_wait(now: Callable[[], datetime] | None) -> float:
    """RATE_LIMIT_BACKOFF_S, or until a minute after midnight UTC (when LinkedIn's daily limits reset) if
    that comes sooner."""
    if now is None:
        return RATE_LIMIT_BACKOFF_S
    moment = now().astimezone(UTC)
    midnight = datetime(moment.year, moment.month, moment.day, tzinfo=UTC) + timedelta(days=1, minutes=1)
    return min(RATE_LIMIT_BACKOFF_S, (midnight - moment).total_seconds())


# -- bytes ----------------------------------------------------------------------------------------------------

class _ByteReader:
    """Exact-size reads over an iterator of chunks of any size: a video's parts cut from its stream without
    holding more than one part."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._buffer = bytearray()

    def read(self, size: int) -> bytes:
        while len(self._buffer) < size:
            chunk = next(self._chunks, None)
            if chunk is None:
                break
            self._buffer.extend(chunk)
        part = bytes(self._buffer[:size])
        del self._buffer[:size]
        return part


def _whole(item: MediaItem) -> bytes:
    if item.load is not None:
        return item.load()
    if item.stream is not None:
        return b"".join(item.stream(VIDEO_PART_BYTES))
    raise PermanentError("this media item has no bytes Herald can upload to LinkedIn")


def _chunks(item: MediaItem) -> Iterator[bytes]:
    if item.stream is not None:
        return iter(item.stream(VIDEO_PART_BYTES))
    return iter((_whole(item),))


def _size(item: MediaItem) -> int:
    if item.size is not None:
        return item.size
    if item.stream is not None:
        return sum(len(chunk) for chunk in item.stream(VIDEO_PART_BYTES))
    return len(_whole(item))


def _encoded(urn: str) -> str:
    return quote(urn, safe="")


def _created_id(response: Any) -> str | None:
    """The id LinkedIn gives what a POST created: the `x-restli-id` header, or the body's urn."""
    created = read_json(response)
    created = created if isinstance(created, Mapping) else {}
    return (
        header_value(response.headers or {}, "x-restli-id")
        or optional_text(created, "commentUrn")
        or optional_text(created, "$URN")
        or optional_text(created, "id")
    )

def _comment_id(response: Any) -> str | None:
    created = read_json(response)
    created = created if isinstance(created, Mapping) else {}
    return (
        optional_text(created, "commentUrn")
        or optional_text(created, "$URN")
        or header_value(response.headers or {}, "x-restli-id")
        or optional_text(created, "id")
    )


class LinkedInAdapter(InboxNetworkAdapter):
    """Posts as a member or an organization; comments as an organization.

    Credentials: `access_token` of the member (w_member_social; for an organization, an administrator's with
    w_organization_social, r_organization_social, rw_organization_admin).
    Settings: `organization_urn` (urn:li:organization:123), one of the organizations the member administers
    as LinkedIn lists them, or `person_urn` (urn:li:person:<OpenID sub>) for the member's own posts.
    """

    network = "linkedin"
    limits = LIMITS
    budget = BUDGET

    def __init__(self, http: Any = None, clock: Clock | None = None, *, base_url: str | None = None) -> None:
        super().__init__(http, clock)
        # HERALD_LINKEDIN_API_URL (settings.py): the API host; versioned APIs live under /rest.
        self.api_host = base_url.rstrip("/") if base_url else API_HOST
        self.api_url = f"{self.api_host}/rest"

    # -- connecting -------------------------------------------------------------------------------------

    def describe_account(self, channel: ChannelContext) -> dict[str, Any]:
        """Every organization the token's member administers (approved), as LinkedIn's ACLs say; for a member
        channel (`person_urn`), the member as OpenID's userinfo says.

        A member may administer several: the channel service picks the one the client named.
        """
        if channel.settings.get("person_urn"):
            member = _member(self._call(channel, "GET", f"{self.api_host}/v2/userinfo", permission="openid"))
            return {"handle": member["name"] or member["urn"], "account_id": member["urn"]}
        response = self._call(
            channel,
            "GET",
            f"{self.api_url}/organizationAcls",
            params={"q": "roleAssignee", "role": "ADMINISTRATOR", "state": "APPROVED", "count": str(ACL_PAGE)},
        )
        organizations = _administered_organizations(read_json(response))
        if not organizations:
            raise PermanentError("this LinkedIn member administers no organization")
        return {"accounts": [{"account_id": urn, "handle": urn} for urn in organizations]}

    # -- the public profile (brand consistency) ----------------------------------------------------------

    def read_profile(self, channel: ChannelContext) -> PublicProfile:
        """An organization's page: `GET /rest/organizations/{id}` (`organizationBrands` for a brand page):
        localizedName, localizedDescription, localizedWebsite, vanityName, and the logo: `logoV2.cropped` (what
        the page shows; else `original`), an image urn the Images API turns into a `downloadUrl`.

        A member: OpenID's userinfo (name, picture). LinkedIn gives apps no member headline, summary or website
        (the Profile API that had them is closed to new apps), so bio and link are not available."""
        author = _author(channel)
        if author.startswith("urn:li:person:"):
            member = _member(self._call(channel, "GET", f"{self.api_host}/v2/userinfo", permission="openid"))
            return PublicProfile(display_name=member["name"] or None, bio=None, link=None,
                                 avatar_url=member["picture"] or None, unavailable=frozenset({"bio", "link"}))
        kind, _, number = author.removeprefix("urn:li:").partition(":")
        if not ORGANIZATION_URN.fullmatch(author):
            raise PermanentError(f"{author} is not a LinkedIn organization urn")
        collection = "organizationBrands" if kind == "organizationBrand" else "organizations"
        body = read_json(self._call(channel, "GET", f"{self.api_url}/{collection}/{number}",
                                    permission="rw_organization_admin"))
        return PublicProfile(display_name=optional_text(body, "localizedName"),
                             bio=optional_text(body, "localizedDescription"),
                             link=optional_text(body, "localizedWebsite"),
                             avatar_url=self._logo_url(channel, _logo_urn(object_at(body, "logoV2"))),
                             handle=optional_text(body, "vanityName"))

    def _logo_url(self, channel: ChannelContext, urn: str | None) -> str | None:
        """The Images API's `downloadUrl` of the logo (signed, short-lived: fetched at once by the check)."""
        if urn is None:
            return None
        image = read_json(self._call(channel, "GET", f"{self.api_url}/images/{_encoded(urn)}"))
        return optional_text(image, "downloadUrl")

    # -- publishing -------------------------------------------------------------------------------------

    def content_problems(self, request: PublishRequest) -> list[ContentProblem]:
        return content_problems(request)

    def publish(self, channel: ChannelContext, request: PublishRequest) -> PublishResult:
        problems = content_problems(request)
        if problems:
            raise PermanentError(problems[0].message)
        progress: dict[str, Any] = _copy(request.progress)
        author = progress.get("author") or _author(channel)
        if "author" not in progress:
            progress["author"] = author
        record = _Recorder(request, progress)
        media = self._upload_all(channel, request, record)
        post_urn = progress.get("post_urn")
        if not post_urn:
            post_urn = self._create_post(channel, request, record, media)
        if request.first_comment and not progress.get("comment_urn") and not progress.get("comment_refused"):
            self._first_comment(channel, request, record, post_urn)
        return PublishResult(remote_id=post_urn, remote_url=POST_URL.format(urn=post_urn),
                             published_at=self._clock.now())

    def _upload_all(self, channel: ChannelContext, request: PublishRequest, record: _Recorder) -> list[str]:
        """The urns of the post's media, each uploaded (and processed) once."""
        steps: list[dict[str, Any]] = record.progress.setdefault("media", [{} for _ in request.media])
        urns: list[str] = []
        for index, item in enumerate(request.media):
            step = steps[index]
            kind = media_kind(item.mime)
            if kind == "image":
                self._upload_image(channel, item, step, record)
            elif kind == "video":
                self._upload_video(channel, item, step, record)
            else:
                self._upload_document(channel, item, step, record)
            urns.append(step["urn"])
        return urns

    def _initialize(self, channel: ChannelContext, api: str, step: dict[str, Any], record: _Recorder,
                    extra: Mapping[str, Any] | None = None) -> Mapping[str, Any]:
        owner = record.progress["author"]
        response = self._call(
            channel, "POST", f"{self.api_url}/{api}", params={"action": "initializeUpload"},
            json={"initializeUploadRequest": {"owner": owner, **(extra or {})}}, permission=_post_permission(owner),
        )
        body = read_json(response)
        value = body.get("value") if isinstance(body, Mapping) else None
        if not isinstance(value, Mapping):
            raise PermanentError(f"LinkedIn's {api} initializeUpload answered without a value")
        return value

    def _upload_image(self, channel: ChannelContext, item: MediaItem, step: dict[str, Any],
                      record: _Recorder) -> None:
        if "urn" not in step:
            value = self._initialize(channel, "images", step, record)
            step.update(urn=_required(value, "image"), upload_url=_required(value, "uploadUrl"))
            record.save()
        if not step.get("uploaded"):
            self._put(channel, step["upload_url"], _whole(item), item.mime)
            step["uploaded"] = True
            record.save()

    def _upload_document(self, channel: ChannelContext, item: MediaItem, step: dict[str, Any],
                         record: _Recorder) -> None:
        if "urn" not in step:
            value = self._initialize(channel, "documents", step, record)
            step.update(urn=_required(value, "document"), upload_url=_required(value, "uploadUrl"))
            record.save()
        if not step.get("uploaded"):
            self._put(channel, step["upload_url"], _whole(item), item.mime)
            step["uploaded"] = True
            record.save()
        if not step.get("ready"):
            self._wait_until_available(channel, "documents", step, record, DOCUMENT_CHECK_AFTER_S)

    def _upload_video(self, channel: ChannelContext, item: MediaItem, step: dict[str, Any],
                      record: _Recorder) -> None:
        if "urn" not in step:
            value = self._initialize(channel, "videos", step, record, {
                "fileSizeBytes": _size(item), "uploadCaptions": False, "uploadThumbnail": False,
            })
            instructions = value.get("uploadInstructions")
            if not isinstance(instructions, list) or not instructions:
                raise PermanentError("LinkedIn's videos initializeUpload answered without uploadInstructions")
            ordered = sorted(instructions, key=lambda part: int(part["firstByte"]))
            parts = [[str(part["uploadUrl"]), int(part["firstByte"]), int(part["lastByte"])] for part in ordered]
            step.update(urn=_required(value, "video"), upload_token=str(value.get("uploadToken") or ""),
                        parts=parts, etags=[])
            record.save()
        if len(step["etags"]) < len(step["parts"]):
            self._upload_parts(item, step, record)
        if not step.get("finalized"):
            self._call(channel, "POST", f"{self.api_url}/videos", params={"action": "finalizeUpload"}, json={
                "finalizeUploadRequest": {"video": step["urn"], "uploadToken": step["upload_token"],
                                          "uploadedPartIds": step["etags"]},
            }, permission=_post_permission(record.progress["author"]))
            step["finalized"] = True
            record.save()
        if not step.get("ready"):
            self._wait_until_available(channel, "videos", step, record, VIDEO_CHECK_AFTER_S)

    def _upload_parts(self, item: MediaItem, step: dict[str, Any], record: _Recorder) -> None:
        """Each part's bytes to its upload URL, in order, its ETag recorded before the next; a continued upload
        reads past the parts already sent."""
        reader = _ByteReader(_chunks(item))
        for number, (url, first, last) in enumerate(step["parts"]):
            data = reader.read(last - first + 1)
            if number < len(step["etags"]):
                continue
            if len(data) != last - first + 1:
                raise PermanentError("the video is shorter than the size LinkedIn was told")
            response = self._send_upload("PUT", url, data, "application/octet-stream", None)
            etag = header_value(response.headers or {}, "etag")
            if not etag:
                raise PermanentError("LinkedIn took a video part but answered no ETag")
            step["etags"].append(etag)
            record.save()

    def _wait_until_available(self, channel: ChannelContext, api: str, step: dict[str, Any], record: _Recorder,
                              check_after_s: float) -> None:
        response = self._call(channel, "GET", f"{self.api_url}/{api}/{_encoded(step['urn'])}",
                              permission=_post_permission(record.progress["author"]))
        body = read_json(response)
        status = str(body.get("status") or "") if isinstance(body, Mapping) else ""
        if status == "AVAILABLE":
            step["ready"] = True
            record.save()
            return
        if status == "PROCESSING_FAILED":
            reason = body.get("processingFailureReason") if isinstance(body, Mapping) else None
            what = "video" if api == "videos" else "document"
            raise PermanentError(f"LinkedIn could not process the {what}" + (f": {reason}" if reason else ""))
        raise StillProcessing(f"LinkedIn is processing the {api[:-1]} ({status or 'no status yet'})",
                              progress=record.progress, check_after_s=check_after_s)

    def _create_post(self, channel: ChannelContext, request: PublishRequest, record: _Recorder,
                     media: list[str]) -> str:
        if record.progress.get("post_sending"):
            # An earlier attempt sent the post and may have died before its urn was saved: look first.
            found = self.find_published(channel, replace(request, progress=_copy(record.progress)))
            if found is not None:
                record.progress["post_urn"] = found.remote_id
                record.save()
                return found.remote_id
        author = record.progress["author"]
        record.progress["post_sending"] = True
        record.save()
        response = self._call(channel, "POST", f"{self.api_url}/posts", json=_post_body(request, author, media),
                              permission=_post_permission(author))
        post_urn = _created_id(response)
        if not post_urn:
            raise AmbiguousError("LinkedIn accepted the post but answered no id")
        record.progress["post_urn"] = post_urn
        record.save()
        return post_urn

    def _first_comment(self, channel: ChannelContext, request: PublishRequest, record: _Recorder,
                       post_urn: str) -> None:
        author = record.progress["author"]
        text = str(request.first_comment)
        if record.progress.get("comment_sending"):
            try:
                found = self._find_comment(channel, post_urn, author, text)
            except PermanentError as unreadable:
                # Never a second comment: when LinkedIn will not show the comments, the first may be out.
                record.progress["comment_refused"] = f"Herald could not check whether the first comment went " \
                                                     f"out: {unreadable.message}"
                record.save()
                return
            if found:
                record.progress["comment_urn"] = found
                record.save()
                return
        record.progress["comment_sending"] = True
        record.save()
        try:
            response = self._call(channel, "POST", f"{self.api_url}/socialActions/{_encoded(post_urn)}/comments",
                                  json={"actor": author, "object": post_urn, "message": {"text": text}},
                                  permission=_post_permission(author))
        except PermanentError as refused:
            # The post is out: it stays published, and the refusal is kept where the delivery shows it.
            record.progress["comment_refused"] = refused.message
            record.save()
            return
        record.progress["comment_urn"] = _comment_id(response) or "unknown"
        record.save()

    def _find_comment(self, channel: ChannelContext, post_urn: str, author: str, text: str) -> str | None:
        response = self._call(channel, "GET", f"{self.api_url}/socialActions/{_encoded(post_urn)}/comments",
                              permission=_read_permission(author))
        body = read_json(response)
        elements = body.get("elements") if isinstance(body, Mapping) else None
        for comment in elements if isinstance(elements, list) else []:
            message = comment.get("message") if isinstance(comment, Mapping) else None
            if comment.get("actor") == author and isinstance(message, Mapping) and message.get("text") == text:
                return optional_text(comment, "commentUrn") or optional_text(comment, "$URN") \
                    or optional_text(comment, "id") or "unknown"
        return None

    # -- looking before a retry -------------------------------------------------------------------------

    def find_published(self, channel: ChannelContext, request: PublishRequest) -> PublishResult | None:
        """The delivery's post among the author's 10 latest: its recorded urn, a post carrying the media this
        delivery uploaded, or the exact commentary created after the first attempt (less clock skew). None when
        the page reaches back past the first attempt without it; AmbiguousError when LinkedIn cannot tell."""
        recorded = request.progress.get("post_urn")
        if recorded:
            return self._result(str(recorded), None)
        author = request.progress.get("author") or _author(channel)
        try:
            response = self._call(
                channel, "GET", f"{self.api_url}/posts",
                params={"author": author, "q": "author", "count": str(FIND_PAGE), "sortBy": "LAST_MODIFIED"},
                headers={"X-RestLi-Method": "FINDER"}, permission=_read_permission(author),
            )
        except PermanentError as refused:
            raise AmbiguousError(f"Herald cannot read this account's LinkedIn posts to see whether the post went "
                                 f"out: {refused.message}") from None
        body = read_json(response)
        elements = body.get("elements") if isinstance(body, Mapping) else None
        posts = [post for post in elements if isinstance(post, Mapping)] if isinstance(elements, list) else []
        match = _matching_post(posts, request)
        if match is not None:
            return self._result(str(match["id"]), match.get("publishedAt") or match.get("createdAt"))
        if len(posts) < FIND_PAGE or _reaches_before(posts, request.first_attempt_at):
            return None
        raise AmbiguousError("the account posted more than 10 times since the attempt; Herald cannot tell "
                             "whether the post went out")

    def _result(self, urn: str, epoch_ms: Any) -> PublishResult:
        published = datetime.fromtimestamp(epoch_ms / 1000, UTC) if isinstance(epoch_ms, int) else None
        return PublishResult(remote_id=urn, remote_url=POST_URL.format(urn=urn), published_at=published)

    # -- replies ----------------------------------------------------------------------------------------

    def reply(self, channel: ChannelContext, request: ReplyRequest) -> PublishResult:
        if request.kind == "message":
            raise PermanentError("linkedin does not let organizations answer direct messages through its API")
        actor = request.thread.get("organization_urn") or channel.settings.get("organization_urn")
        post_urn = request.thread.get("object_urn")
        if not actor or not post_urn:
            raise PermanentError("this linkedin conversation lacks the organization or post to answer on")
        body: dict[str, Any] = {"actor": actor, "object": post_urn, "message": {"text": request.text}}
        target = post_urn
        comment_urn = request.thread.get("comment_urn")
        if request.kind == "comment" and comment_urn:
            body["parentComment"] = comment_urn
            target = comment_urn
        response = self._call(
            channel, "POST", f"{self.api_url}/socialActions/{quote(str(target), safe='')}/comments", json=body,
            permission="w_organization_social",
        )
        remote_id = _comment_id(response)
        if not remote_id:
            raise PermanentError("linkedin accepted the comment but returned no id")
        return PublishResult(remote_id=remote_id, published_at=self._clock.now())

    # -- HTTP -------------------------------------------------------------------------------------------

    def _call(self, channel: ChannelContext, method: str, url: str, *, permission: str | None = None,
              headers: Mapping[str, str] | None = None, **kwargs: Any) -> Any:
        token = channel.credentials.get("access_token")
        if not token:
            raise PermanentError("the linkedin channel has no access token")
        sent = {
            "Authorization": f"Bearer {token}",
            "LinkedIn-Version": LINKEDIN_VERSION,
            "X-Restli-Protocol-Version": RESTLI_PROTOCOL_VERSION,
            **(headers or {}),
        }
        now = self._clock.now
        return send(
            self.http,
            method,
            url,
            network="LinkedIn",
            explain=lambda response: explain_error(response, permission=permission, now=now),
            headers=sent,
            now=now,
            **kwargs,
        )

    def _put(self, channel: ChannelContext, url: str, data: bytes, mime: str) -> Any:
        # The Images and Documents API pages upload with the member's bearer token.
        return self._send_upload("PUT", url, data, mime, channel.credentials.get("access_token"))

    def _send_upload(self, method: str, url: str, data: bytes, mime: str, token: str | None) -> Any:
        headers = {"Content-Type": mime}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        now = self._clock.now
        return send(self.http, method, url, network="LinkedIn", headers=headers, data=data, now=now,
                    explain=lambda response: explain_error(response, now=now))


class _Recorder:
    """The delivery's progress, persisted whole after each remote step."""

    def __init__(self, request: PublishRequest, progress: dict[str, Any]) -> None:
        self._request = request
        self.progress = progress

    def save(self) -> None:
        self._request.record_progress(_copy(self.progress))


def _copy(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {key: _copy(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_copy(item) for item in value]
    return value


def _author(channel: ChannelContext) -> str:
    author = channel.settings.get("organization_urn") or channel.settings.get("person_urn")
    if not author:
        raise PermanentError("this LinkedIn channel names neither the organization nor the member it posts as")
    return str(author)


def _logo_urn(logo: Mapping[str, Any]) -> str | None:
    """The image urn of an organization's logo. Older pages answer a digitalmediaAsset urn, which names the
    same asset as the image urn with its id (the Images API replaced the Assets API)."""
    urn = optional_text(logo, "cropped") or optional_text(logo, "original")
    if urn and urn.startswith("urn:li:digitalmediaAsset:"):
        urn = "urn:li:image:" + urn.removeprefix("urn:li:digitalmediaAsset:")
    return urn if urn and urn.startswith("urn:li:image:") else None


def _post_permission(author: str) -> str:
    return "w_member_social" if author.startswith("urn:li:person:") else "w_organization_social"


def _read_permission(author: str) -> str:
    # r_member_social is a restricted permission LinkedIn grants to few apps: member posts usually cannot be read.
    return "r_member_social" if author.startswith("urn:li:person:") else "r_organization_social"


def _required(value: Mapping[str, Any], key: str) -> str:
    found = value.get(key)
    if not isinstance(found, str) or not found:
        raise PermanentError(f"LinkedIn's initializeUpload answered without {key}")
    return found


def _post_body(request: PublishRequest, author: str, media: list[str]) -> dict[str, Any]:
    body: dict[str, Any] = {
        "author": author,
        "commentary": little_text(commentary_of(request)),
        "visibility": request.options.get("visibility") or "PUBLIC",
        "distribution": {"feedDistribution": "MAIN_FEED", "targetEntities": [], "thirdPartyDistributionChannels": []},
        "lifecycleState": "PUBLISHED",
        "isReshareDisabledByAuthor": False,
    }
    content = _post_content(request, media)
    if content:
        body["content"] = content
    return body


def _post_content(request: PublishRequest, media: list[str]) -> dict[str, Any] | None:
    if not media:
        return None
    kind = media_kind(request.media[0].mime)
    if kind == "image" and len(media) >= MIN_IMAGES_TOGETHER:
        return {"multiImage": {"images": [{"id": urn, "altText": item.alt}
                                          for urn, item in zip(media, request.media, strict=True)]}}
    item = request.media[0]
    if kind == "image":
        return {"media": {"id": media[0], "altText": item.alt}}
    if kind == "document":
        title = request.options.get("document_title") or item.alt or "Document"
        return {"media": {"id": media[0], "title": title}}
    video: dict[str, Any] = {"id": media[0]}
    if item.alt:
        video["title"] = item.alt
    return {"media": video}


def _matching_post(posts: list[Mapping[str, Any]], request: PublishRequest) -> Mapping[str, Any] | None:
    uploaded = {step.get("urn") for step in request.progress.get("media") or [] if isinstance(step, Mapping)}
    uploaded.discard(None)
    wanted = commentary_of(request)
    for post in posts:
        if not isinstance(post.get("id"), str):
            continue
        if uploaded and uploaded & _post_media(post):
            return post
        commentary = post.get("commentary")
        same_text = isinstance(commentary, str) and (commentary == little_text(wanted)
                                                     or plain_from_little(commentary) == wanted)
        if same_text and _created_since(post, request.first_attempt_at):
            return post
    return None


def _post_media(post: Mapping[str, Any]) -> set[str]:
    content = post.get("content")
    if not isinstance(content, Mapping):
        return set()
    found: set[str] = set()
    media = content.get("media")
    if isinstance(media, Mapping) and isinstance(media.get("id"), str):
        found.add(media["id"])
    multi = content.get("multiImage")
    images = multi.get("images") if isinstance(multi, Mapping) else None
    for image in images if isinstance(images, list) else []:
        if isinstance(image, Mapping) and isinstance(image.get("id"), str):
            found.add(image["id"])
    return found


def _created_since(post: Mapping[str, Any], moment: datetime | None) -> bool:
    if moment is None:
        return True
    created = post.get("createdAt")
    if not isinstance(created, int):
        return False
    return created >= (moment - CLOCK_SKEW).timestamp() * 1000


def _reaches_before(posts: list[Mapping[str, Any]], moment: datetime | None) -> bool:
    """Whether the page (latest first) holds a post older than the attempt: then all newer ones are in it."""
    if moment is None:
        return False
    limit = (moment - CLOCK_SKEW).timestamp() * 1000
    return any(isinstance(post.get("lastModifiedAt"), int) and post["lastModifiedAt"] < limit for post in posts)


def _administered_organizations(body: Any) -> list[str]:
    elements = body.get("elements") if isinstance(body, Mapping) else None
    organizations: list[str] = []
    for acl in elements if isinstance(elements, list) else []:
        urn = _administered(acl)
        if urn and urn not in organizations:
            organizations.append(urn)
    return organizations


def _member(response: Any) -> dict[str, str]:
    """The member OpenID's userinfo describes: `sub` makes the person urn."""
    body = read_json(response)
    sub = body.get("sub") if isinstance(body, Mapping) else None
    if not isinstance(sub, str) or not PERSON_URN.fullmatch(f"urn:li:person:{sub}"):
        raise PermanentError("LinkedIn's userinfo answered without the member's id (sub)")
    return {
        "urn": f"urn:li:person:{sub}",
        "name": str(body.get("name") or ""),
        "picture": str(body.get("picture") or ""),
    }

# -- connecting by OAuth 2.0 ----------------------------------------------------------------------------------

class LinkedInOAuth:
    """LinkedIn's 3-legged OAuth (authorization code flow) and what a grant reaches.

    PKCE: LinkedIn documents it only for native clients it enables one by one; Herald is a web app with a
    client secret, so a code challenge is not sent (the single-use `state` binds the callback).
    Access tokens last 60 days; refresh tokens, which LinkedIn issues only to approved apps, 365 days from the
    first grant, not renewed by a refresh (it answers the same refresh token with its remaining lifetime).
    """

    network = "linkedin"
    supports_pkce = False  # see above: the connect service keeps no verifier for LinkedIn

    def __init__(self, http: Any = None, clock: Clock | None = None, *, api_url: str | None = None,
                 authorize_url: str | None = None, token_url: str | None = None,
                 scopes: tuple[str, ...] = SCOPES) -> None:
        self._adapter = LinkedInAdapter(http, clock, base_url=api_url)
        self.authorize_endpoint = authorize_url or AUTHORIZE_URL
        self.token_endpoint = token_url or TOKEN_URL
        self.scopes = scopes

    @property
    def _clock(self) -> Clock:
        return self._adapter._clock

    def authorize_url(self, app: OAuthApp, redirect_uri: str, state: str, code_challenge: str | None) -> str:
        query = {"response_type": "code", "client_id": app.client_id, "redirect_uri": redirect_uri,
                 "state": state, "scope": " ".join(self.scopes)}
        return f"{self.authorize_endpoint}?{urlencode(query)}"

    def exchange_code(self, app: OAuthApp, code: str, redirect_uri: str, code_verifier: str | None) -> TokenGrant:
        answer = self._token_request(app, {"grant_type": "authorization_code", "code": code,
                                           "redirect_uri": redirect_uri}, refreshing=False)
        return self._grant(answer, previous={})

    def refresh(self, app: OAuthApp, credentials: Mapping[str, Any]) -> TokenGrant:
        refresh_token = credentials.get("refresh_token")
        if not refresh_token:
            raise PermanentError("LinkedIn gave this channel no refresh token (it grants them to approved apps "
                                 "only): reconnect it before its access token expires")
        answer = self._token_request(app, {"grant_type": "refresh_token", "refresh_token": str(refresh_token)},
                                     refreshing=True)
        return self._grant(answer, previous=credentials)

    def granted_accounts(self, app: OAuthApp, grant: TokenGrant) -> list[GrantedAccount]:
        """The member (userinfo), then each organization they administer (organizationAcls, names from
        `GET /rest/organizations/{id}`) when the grant carries rw_organization_admin."""
        context = ChannelContext("", "", "linkedin", {}, {"access_token": grant.access_token})
        adapter = self._adapter
        member = _member(adapter._call(context, "GET", f"{adapter.api_host}/v2/userinfo", permission="openid"))
        credentials = _channel_credentials(grant)
        accounts = [GrantedAccount(
            network="linkedin", account_id=member["urn"], handle=member["name"] or member["urn"],
            name=member["name"] or member["urn"], credentials=credentials, settings={"person_urn": member["urn"]},
            avatar_url=member["picture"] or None,
        )]
        if grant.scopes and "rw_organization_admin" not in grant.scopes:
            return accounts
        for urn in self._organizations(context):
            name, handle = self._organization_names(context, urn)
            accounts.append(GrantedAccount(network="linkedin", account_id=urn, handle=handle, name=name,
                                           credentials=credentials, settings={"organization_urn": urn}))
        return accounts

    def _organizations(self, context: ChannelContext) -> list[str]:
        adapter = self._adapter
        try:
            response = adapter._call(
                context, "GET", f"{adapter.api_url}/organizationAcls", permission="rw_organization_admin",
                params={"q": "roleAssignee", "role": "ADMINISTRATOR", "state": "APPROVED", "count": str(ACL_PAGE)},
            )
        except PermanentError:
            return []  # the app lacks the Community Management product: the member alone
        return _administered_organizations(read_json(response))

    def _organization_names(self, context: ChannelContext, urn: str) -> tuple[str, str]:
        adapter = self._adapter
        if not urn.startswith("urn:li:organization:"):
            return urn, urn
        try:
            response = adapter._call(context, "GET", f"{adapter.api_url}/organizations/{urn.rsplit(':', 1)[1]}",
                                     permission="rw_organization_admin")
        except PermanentError:
            return urn, urn
        body = read_json(response)
        body = body if isinstance(body, Mapping) else {}
        name = str(body.get("localizedName") or urn)
        return name, str(body.get("vanityName") or name)

    def _token_request(self, app: OAuthApp, form: dict[str, str], *, refreshing: bool) -> Mapping[str, Any]:
        import requests  # lazily, as http_failures does

        form = {**form, "client_id": app.client_id, "client_secret": app.client_secret}
        try:
            response = self._adapter.http.request(
                "POST", self.token_endpoint, data=form, timeout=DEFAULT_TIMEOUT,
                headers={"Content-Type": "application/x-www-form-urlencoded"},
            )
        except requests.RequestException:
            raise RetryableError("could not reach LinkedIn's token endpoint") from None
        body = read_json(response)
        body = body if isinstance(body, Mapping) else {}
        if 200 <= response.status_code < 300 and isinstance(body.get("access_token"), str):
            return body
        raise _token_error(response.status_code, body, refreshing)

    def _grant(self, answer: Mapping[str, Any], previous: Mapping[str, Any]) -> TokenGrant:
        now = self._clock.now()
        refresh_token = answer.get("refresh_token") or previous.get("refresh_token")
        refresh_expires_at = _expiry(now, answer.get("refresh_token_expires_in"))
        if refresh_expires_at is None and previous.get("refresh_expires_at"):
            refresh_expires_at = datetime.fromisoformat(str(previous["refresh_expires_at"]).replace("Z", "+00:00"))
        scope = str(answer.get("scope") or "")
        return TokenGrant(
            access_token=str(answer["access_token"]),
            refresh_token=str(refresh_token) if refresh_token else None,
            expires_at=_expiry(now, answer.get("expires_in")),
            refresh_expires_at=refresh_expires_at,
            scopes=tuple(part for part in re.split(r"[ ,]+", scope) if part),
            extra={"token_type": answer.get("token_type") or "Bearer"},
        )


def _token_error(status: int, body: Mapping[str, Any], refreshing: bool) -> NetworkError:
    error = str(body.get("error") or "")
    description = str(body.get("error_description") or "")
    said = f"LinkedIn's token endpoint answered {status}: {error or 'an error'}" + (
        f" ({description})" if description else "")
    revoked = error == "invalid_grant" or (
        error == "invalid_request" and re.search(r"expired|revoked", description, re.IGNORECASE) is not None)
    if status == 429 or status >= 500:
        return RetryableError(said, status=status)
    if revoked:
        return AuthError(said, status=status) if refreshing else PermanentError(
            f"{said}: the authorization expired or was used already, connect again", status=status)
    if refreshing:
        # Not a documented revocation (a wrong client secret, a malformed request): Herald's side to fix, and
        # the channel's grant still good, so it must not be marked needs_reauth.
        return RetryableError(said, status=status)
    return PermanentError(said, status=status)


def _expiry(now: datetime, seconds: Any) -> datetime | None:
    if isinstance(seconds, bool) or not isinstance(seconds, int | float) or seconds <= 0:
        return None
    return now + timedelta(seconds=seconds)


def _channel_credentials(grant: TokenGrant) -> dict[str, Any]:
    credentials: dict[str, Any] = {"access_token": grant.access_token}
    if grant.refresh_token:
        credentials["refresh_token"] = grant.refresh_token
    if grant.expires_at:
        credentials["expires_at"] = to_rfc3339(grant.expires_at)
    if grant.refresh_expires_at:
        credentials["refresh_expires_at"] = to_rfc3339(grant.refresh_expires_at)
    return credentials


def _administered(acl: Any) -> str | None:
    """The organization URN of an approved ADMINISTRATOR ACL (older versions call it organizationalTarget)."""
    if not isinstance(acl, Mapping) or acl.get("role") != "ADMINISTRATOR" or acl.get("state") != "APPROVED":
        return None
    urn = optional_text(acl, "organization") or optional_text(acl, "organizationalTarget")
    return urn if urn and ORGANIZATION_URN.fullmatch(urn) else None


def make_adapter(http: Any = None, clock: Clock | None = None, *, base_url: str | None = None) -> LinkedInAdapter:
    return LinkedInAdapter(http=http, clock=clock, base_url=base_url)


def make_oauth(http: Any = None, clock: Clock | None = None, *, api_url: str | None = None,
               authorize_url: str | None = None, token_url: str | None = None) -> LinkedInOAuth:
    """The OAuth side, at HERALD_LINKEDIN_API_URL, HERALD_LINKEDIN_AUTHORIZE_URL and HERALD_LINKEDIN_TOKEN_URL."""
    return LinkedInOAuth(http, clock, api_url=api_url, authorize_url=authorize_url, token_url=token_url)
