"""Google Business Profile: local posts on a location (what's new, events, offers), and the OAuth side.

A post is one call, `POST {v4}/accounts/{account}/locations/{location}/localPosts` (mybusiness.googleapis.com/v4):
`summary` (at most 1,500 characters), `topicType` STANDARD ("what's new"), EVENT (`event.title` and
`event.schedule`) or OFFER (an event's title and schedule plus `offer.couponCode`, `redeemOnlineUrl`,
`termsConditions`), an optional `callToAction` (`actionType` BOOK, ORDER, SHOP, LEARN_MORE, SIGN_UP with a
`url`, or CALL, which dials the location's phone and takes none), and one photo Google fetches itself
(`media: [{"mediaFormat": "PHOTO", "sourceUrl"}]`, Herald's `MediaItem.public_url`). Google answers the LocalPost
with its `name`, `state` (LIVE, PROCESSING, REJECTED) and `searchUrl`, the post's public link. The post's name is
recorded at once; PROCESSING is a StillProcessing re-read with `GET {v4}/{name}`.

The accounts a grant can post to are its locations: the Account Management API's `accounts.list`, then the
Business Information API's `accounts.locations.list` for each. Sources: tests/events/google_business/README.md.
"""
from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import date, timedelta
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from chalicelib.core.clock import Clock, SystemClock, to_rfc3339
from chalicelib.networks.base import (
    AmbiguousError,
    ChannelContext,
    ChannelInsights,
    ContentProblem,
    GrantedAccount,
    MediaItem,
    NetworkLimits,
    OAuthApp,
    PermanentError,
    PollResult,
    PublicProfile,
    PublishRequest,
    PublishResult,
    RateBudget,
    ReplyRequest,
    StillProcessing,
    TokenGrant,
)
from chalicelib.networks.google_oauth import GoogleCall, GoogleOAuth, credentials_of, google_error, moment_of
from chalicelib.networks.http_failures import ErrorDetail, object_at, read_json
from chalicelib.networks.webhook import optional_text

NETWORK = "Google Business Profile"
API_URL = "https://mybusiness.googleapis.com/v4"
ACCOUNT_MANAGEMENT_URL = "https://mybusinessaccountmanagement.googleapis.com/v1"
BUSINESS_INFORMATION_URL = "https://mybusinessbusinessinformation.googleapis.com/v1"
SCOPES = ("https://www.googleapis.com/auth/business.manage",)

MAX_SUMMARY = 1500
IMAGE_TYPES = ("image/jpeg", "image/png")
MIN_IMAGE_BYTES = 10 * 1024
MAX_IMAGE_BYTES = 5 * 1024 * 1024
MIN_IMAGE_SIDE = 250
TOPIC_TYPES = ("STANDARD", "EVENT", "OFFER")
ACTION_TYPES = ("BOOK", "ORDER", "SHOP", "LEARN_MORE", "SIGN_UP", "CALL")
OPTIONS = ("topic_type", "event", "offer", "call_to_action")
MEDIA_URL_TTL_S = 24 * 3600  # Google fetches the photo when the post is created, and may again while it processes

LIMITS = NetworkLimits(max_text=MAX_SUMMARY, max_media=1, media_types=IMAGE_TYPES, max_media_bytes=MAX_IMAGE_BYTES)

# The Business Profile APIs allow a project 300 requests a minute; a location gets few posts, and one at a time
# keeps two posts of the same location from racing. Five at once across locations stays far below the minute's.
BUDGET = RateBudget(per_account_concurrency=1, per_network_concurrency=5)

CHECK_AFTER_S = 30.0
GIVE_UP_PROCESSING_S = 3600
LOOK_BACK = timedelta(minutes=5)
MAX_PAGES = 10
NOT_OURS_STATUSES = ("INVALID_ARGUMENT", "FAILED_PRECONDITION", "NOT_FOUND", "ALREADY_EXISTS")
OPERATOR_REASONS = ("SERVICE_DISABLED", "accessNotConfigured", "API_KEY_SERVICE_BLOCKED")


# -- options and rules -------------------------------------------------------------------------------------------

def _text(max_length: int) -> Any:
    return Annotated[str, Field(strict=True, min_length=1, max_length=max_length)]


class EventOption(BaseModel):
    """An event (or an offer's period): a title and a schedule; times of day are the location's local time."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    title: _text(300)  # type: ignore[valid-type]
    start_date: date
    end_date: date
    start_time: Annotated[str, Field(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")] | None = None
    end_time: Annotated[str, Field(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")] | None = None

    @model_validator(mode="after")
    def _ends_after_start(self) -> EventOption:
        if (self.end_date, self.end_time or "23:59") < (self.start_date, self.start_time or "00:00"):
            raise ValueError("the event ends before it starts")
        return self


class OfferOption(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    coupon_code: _text(58) | None = None  # type: ignore[valid-type]
    redeem_online_url: Annotated[str, Field(strict=True, pattern=r"^https?://", max_length=2048)] | None = None
    terms_conditions: _text(5000) | None = None  # type: ignore[valid-type]


class CallToActionOption(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    action_type: Literal["BOOK", "ORDER", "SHOP", "LEARN_MORE", "SIGN_UP", "CALL"]
    url: Annotated[str, Field(strict=True, pattern=r"^https?://", max_length=2048)] | None = None

    @model_validator(mode="after")
    def _url_matches_action(self) -> CallToActionOption:
        if self.action_type == "CALL" and self.url:
            raise ValueError("a CALL button dials the location's phone number and takes no url")
        if self.action_type != "CALL" and not self.url:
            raise ValueError(f"a {self.action_type} button needs a url")
        return self


class GoogleBusinessOptions(BaseModel):
    """`variants[channel].google_business`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    topic_type: Literal["STANDARD", "EVENT", "OFFER"] = "STANDARD"
    event: EventOption | None = None
    offer: OfferOption | None = None
    call_to_action: CallToActionOption | None = None

    @model_validator(mode="after")
    def _fits_topic(self) -> GoogleBusinessOptions:
        if self.topic_type in ("EVENT", "OFFER") and self.event is None:
            raise ValueError(f"a Google Business Profile {self.topic_type.lower()} post needs `event` "
                             "(a title, a start and an end)")
        if self.topic_type == "STANDARD" and self.event is not None:
            raise ValueError("`event` belongs to an EVENT or OFFER post; set topic_type")
        if self.topic_type != "OFFER" and self.offer is not None:
            raise ValueError("`offer` belongs to an OFFER post; set topic_type to OFFER")
        return self


def options_of(request: PublishRequest) -> GoogleBusinessOptions:
    try:
        return GoogleBusinessOptions.model_validate(dict(request.options))
    except ValidationError:
        return GoogleBusinessOptions()


def content_problems(request: PublishRequest) -> list[ContentProblem]:
    problems: list[ContentProblem] = []
    try:
        options = GoogleBusinessOptions.model_validate(dict(request.options))
    except ValidationError as exc:
        problems += [_option_problem(error) for error in exc.errors()]
        options = GoogleBusinessOptions()
    if len(request.text) > MAX_SUMMARY:
        problems.append(ContentProblem("text", f"is {len(request.text)} characters; a Google Business Profile post "
                                               f"allows {MAX_SUMMARY}"))
    if options.topic_type == "STANDARD" and not request.text.strip() and not request.media:
        problems.append(ContentProblem("text", "a Google Business Profile update needs text or a photo"))
    problems += _media_problems(request.media)
    if request.thread:
        problems.append(ContentProblem("thread", "Google Business Profile has no threads; publish one post"))
    if request.first_comment:
        problems.append(ContentProblem("first_comment", "Google Business Profile posts take no comments"))
    if request.link and options.call_to_action is not None:
        problems.append(ContentProblem("link", "a Google Business Profile post has one button: the link or "
                                               "call_to_action, not both"))
    return problems


def _option_problem(error: Mapping[str, Any]) -> ContentProblem:
    where = ".".join(str(part) for part in error.get("loc") or ())
    if error.get("type") == "extra_forbidden":
        message = "is not a Google Business Profile option" + ("" if "." in where else f" ({', '.join(OPTIONS)})")
    elif where.endswith("action_type"):
        message = f"must be one of {', '.join(ACTION_TYPES)}"
    elif where == "topic_type":
        message = f"must be one of {', '.join(TOPIC_TYPES)}"
    else:
        message = f"Google Business Profile: {str(error.get('msg') or 'is not valid').removeprefix('Value error, ')}"
    return ContentProblem("options" + (f".{where}" if where else ""), message)


def _media_problems(media: tuple[MediaItem, ...]) -> list[ContentProblem]:
    if len(media) > 1:
        return [ContentProblem("media", "a Google Business Profile post takes one photo")]
    problems = []
    for item in media:
        if item.mime not in IMAGE_TYPES:
            problems.append(ContentProblem("media.0", "Google Business Profile posts take a JPEG or PNG photo "
                                                      "(no video)"))
            continue
        if item.size is not None and not MIN_IMAGE_BYTES <= item.size <= MAX_IMAGE_BYTES:
            problems.append(ContentProblem("media.0", "a Google Business Profile photo is 10 KB to 5 MB"))
        if item.width and item.height and min(item.width, item.height) < MIN_IMAGE_SIDE:
            problems.append(ContentProblem("media.0", f"a Google Business Profile photo is at least {MIN_IMAGE_SIDE}"
                                                      f" x {MIN_IMAGE_SIDE} pixels"))
    return problems


def local_post_body(request: PublishRequest, options: GoogleBusinessOptions, photo_url: str | None) -> dict[str, Any]:
    body: dict[str, Any] = {"topicType": options.topic_type}
    if request.text:
        body["summary"] = request.text
    if options.event is not None:
        body["event"] = _event(options.event)
    if options.offer is not None:
        offer = {"couponCode": options.offer.coupon_code, "redeemOnlineUrl": options.offer.redeem_online_url,
                 "termsConditions": options.offer.terms_conditions}
        body["offer"] = {key: value for key, value in offer.items() if value}
    action = options.call_to_action
    if action is not None:
        body["callToAction"] = {"actionType": action.action_type, **({"url": action.url} if action.url else {})}
    elif request.link:
        body["callToAction"] = {"actionType": "LEARN_MORE", "url": request.link}
    if photo_url:
        body["media"] = [{"mediaFormat": "PHOTO", "sourceUrl": photo_url}]
    return body


def _event(event: EventOption) -> dict[str, Any]:
    schedule: dict[str, Any] = {"startDate": _date(event.start_date), "endDate": _date(event.end_date)}
    if event.start_time:
        schedule["startTime"] = _time(event.start_time)
    if event.end_time:
        schedule["endTime"] = _time(event.end_time)
    return {"title": event.title, "schedule": schedule}


def _date(value: date) -> dict[str, int]:
    return {"year": value.year, "month": value.month, "day": value.day}


def _time(value: str) -> dict[str, int]:
    hours, minutes = value.split(":")
    return {"hours": int(hours), "minutes": int(minutes), "seconds": 0, "nanos": 0}


# -- errors ------------------------------------------------------------------------------------------------------

def explain_error(response: Any) -> ErrorDetail:
    """Google's errors: `status` UNAUTHENTICATED (the token), PERMISSION_DENIED (no longer a manager of the
    location), RESOURCE_EXHAUSTED (throttled), INVALID_ARGUMENT with `google.mybusiness.v4.ValidationError`
    details naming the field."""
    code, reason, status, message = google_error(response)
    if reason in OPERATOR_REASONS:
        return ErrorDetail(text=message, not_auth=True, sentence="the Business Profile APIs are not enabled (or "
                                                                 "approved) for Herald's Google project")
    if status == "RESOURCE_EXHAUSTED" or code == 429:
        return ErrorDetail(text=message, rate_limited=True)
    if status == "UNAUTHENTICATED" or code == 401:
        return ErrorDetail(text=message, auth=True)
    if status == "PERMISSION_DENIED":
        return ErrorDetail(text=message, auth=True,
                           sentence=f"Google says this account does not manage the location ({message})"[:300])
    detail = _validation_detail(response)
    if status in NOT_OURS_STATUSES or code in (400, 404, 409):
        said = f"{message} ({detail})" if detail else message
        return ErrorDetail(text=said, not_auth=True,
                           sentence=f"Google Business Profile refused the post: {said}"[:300])
    return ErrorDetail(text=message, not_auth=code == 403)


def _validation_detail(response: Any) -> str:
    body = read_json(response)
    error = body.get("error") if isinstance(body, Mapping) else None
    details = error.get("details") if isinstance(error, Mapping) else None
    for detail in details if isinstance(details, list) else []:
        for item in (detail.get("errorDetails") or []) if isinstance(detail, Mapping) else []:
            if isinstance(item, Mapping) and item.get("message"):
                field = f"{item['field']}: " if item.get("field") else ""
                return f"{field}{item['message']}"
    return ""


# -- the adapter -------------------------------------------------------------------------------------------------

class GoogleBusinessAdapter:
    """Credentials: `access_token`, `refresh_token`, `expires_at`. Settings: `google_account_id`, `location_id`."""

    network = "google_business"
    limits = LIMITS
    idempotent_publish = False

    def __init__(self, http: Any = None, clock: Clock | None = None, *, base_url: str | None = None,
                 business_information_url: str | None = None) -> None:
        self._http = http
        self._clock = clock or SystemClock()
        self.api_url = (base_url or API_URL).rstrip("/")  # HERALD_GOOGLE_BUSINESS_API_URL
        self.information_url = (business_information_url or BUSINESS_INFORMATION_URL).rstrip("/")
        self.call = GoogleCall(lambda: self.http, self._clock.now, NETWORK, explain_error)

    @property
    def http(self) -> Any:
        if self._http is None:
            import requests

            self._http = requests.Session()
        return self._http

    def describe_account(self, channel: ChannelContext) -> dict[str, str]:
        location = _location_id(channel)
        body = _json(self.call(channel, "GET", f"{self.information_url}/locations/{location}",
                               params={"readMask": "name,title"}))
        return {"handle": str(body.get("title") or location), "account_id": location}

    def read_profile(self, channel: ChannelContext) -> PublicProfile:
        """`GET {information}/locations/{l}?readMask=title,profile,websiteUri`: title, profile.description,
        websiteUri. The logo is a LOGO media item of the v4 media list, not in the Location: not available."""
        body = _json(self.call(channel, "GET", f"{self.information_url}/locations/{_location_id(channel)}",
                               params={"readMask": "title,profile,websiteUri"}))
        return PublicProfile(display_name=optional_text(body, "title"),
                             bio=optional_text(object_at(body, "profile"), "description"),
                             link=optional_text(body, "websiteUri"), avatar_url=None,
                             unavailable=frozenset({"avatar_url"}))

    def content_problems(self, request: PublishRequest) -> list[ContentProblem]:
        return content_problems(request)

    def _posts_path(self, channel: ChannelContext) -> str:
        account = str(channel.settings.get("google_account_id") or "")
        if not (account.isascii() and account.isdigit()):
            raise PermanentError("this Google Business Profile channel does not know its Google account id")
        return f"{self.api_url}/accounts/{account}/locations/{_location_id(channel)}/localPosts"

    def publish(self, channel: ChannelContext, request: PublishRequest) -> PublishResult:
        progress = dict(request.progress) if isinstance(request.progress, Mapping) else {}
        if progress.get("name"):
            post = _json(self.call(channel, "GET", f"{self.api_url}/{progress['name']}"))
        else:
            post = self._create(channel, request)
            progress = {"name": post["name"], "created_at": to_rfc3339(self._clock.now())}
            request.record_progress(progress)
        return self._settled(post, progress)

    def _create(self, channel: ChannelContext, request: PublishRequest) -> dict[str, Any]:
        photo = request.media[0] if request.media else None
        photo_url = None
        if photo is not None:
            photo_url = photo.public_url(MEDIA_URL_TTL_S) if photo.public_url else photo.url
            if not photo_url:
                raise PermanentError("Google fetches the photo from a public link, and this photo has none")
        body = local_post_body(request, options_of(request), photo_url)
        post = _json(self.call(channel, "POST", self._posts_path(channel), json=body))
        if not str(post.get("name") or "").startswith("accounts/"):
            raise PermanentError("Google Business Profile accepted the post but answered no post name")
        return post

    def _settled(self, post: Mapping[str, Any], progress: dict[str, Any]) -> PublishResult:
        state = str(post.get("state") or "LIVE")
        if state == "REJECTED":
            raise PermanentError("Google rejected the post for its content policies (phone numbers, links to other "
                                 "businesses or off-topic content are common reasons)")
        if state == "PROCESSING":
            created = moment_of(progress.get("created_at")) or self._clock.now()
            if (self._clock.now() - created).total_seconds() > GIVE_UP_PROCESSING_S:
                raise PermanentError("Google was still processing the post after an hour")
            raise StillProcessing("Google is processing the post", progress=progress, check_after_s=CHECK_AFTER_S)
        return PublishResult(remote_id=str(post.get("name") or progress["name"]),
                             remote_url=str(post["searchUrl"]) if post.get("searchUrl") else None,
                             published_at=moment_of(post.get("createTime")) or moment_of(progress.get("created_at")))

    def find_published(self, channel: ChannelContext, request: PublishRequest) -> PublishResult | None:
        """The recorded post, or the location's post with this exact summary and topic made since the first
        attempt. None when absent; AmbiguousError (from the listing) when Google cannot be asked."""
        progress = dict(request.progress) if isinstance(request.progress, Mapping) else {}
        if progress.get("name"):
            return self.publish(channel, request)
        since = (request.first_attempt_at or self._clock.now() - timedelta(days=1)) - LOOK_BACK
        topic = options_of(request).topic_type
        matches = [post for post in self._posts(channel)
                   if str(post.get("summary") or "") == request.text and post.get("topicType", topic) == topic
                   and (moment_of(post.get("createTime")) or since) >= since]
        if len(matches) > 1:
            raise AmbiguousError("the location has more than one post with this exact text; Herald cannot tell")
        if not matches:
            return None
        found = {"name": str(matches[0]["name"]), "created_at": to_rfc3339(self._clock.now())}
        request.record_progress(found)
        return self._settled(matches[0], found)

    def _posts(self, channel: ChannelContext) -> Iterator[Mapping[str, Any]]:
        token = None
        for _ in range(MAX_PAGES):
            params = {"pageSize": "100", **({"pageToken": token} if token else {})}
            body = _json(self.call(channel, "GET", self._posts_path(channel), params=params))
            yield from (post for post in body.get("localPosts") or [] if isinstance(post, Mapping))
            token = body.get("nextPageToken")
            if not token:
                return

    def reply(self, channel: ChannelContext, request: ReplyRequest) -> PublishResult:
        raise PermanentError("answering Google reviews from the inbox is not supported yet")

    def poll_inbox(self, channel: ChannelContext, cursor: str | None) -> PollResult:
        raise PermanentError("Google Business Profile reviews do not reach Herald's inbox yet")

    def fetch_insights(self, channel: ChannelContext, remote_ids: list[str]) -> ChannelInsights:
        raise PermanentError("insights from Google Business Profile are not supported yet")


def _location_id(channel: ChannelContext) -> str:
    location = str(channel.settings.get("location_id") or "")
    if not (location.isascii() and location.isdigit()):
        raise PermanentError("this Google Business Profile channel does not know its location id")
    return location


def _json(response: Any) -> dict[str, Any]:
    body = read_json(response)
    return body if isinstance(body, dict) else {}


def make_adapter(http: Any = None, clock: Clock | None = None, *, base_url: str | None = None,
                 business_information_url: str | None = None) -> GoogleBusinessAdapter:
    return GoogleBusinessAdapter(http=http, clock=clock, base_url=base_url,
                                 business_information_url=business_information_url)


# -- connecting by OAuth -------------------------------------------------------------------------------------

class GoogleBusinessOAuth(GoogleOAuth):
    """Google's OAuth with `business.manage`; the grant's accounts are the locations of every Business Profile
    account (personal, location group, organization) the person manages."""

    def __init__(self, http: Any = None, *, now: Any, account_management_url: str | None = None,
                 business_information_url: str | None = None, authorize_url: str | None = None,
                 token_url: str | None = None) -> None:
        super().__init__(http, now=now, network=NETWORK, scopes=SCOPES, authorize_url=authorize_url,
                         token_url=token_url)
        self.accounts_url = (account_management_url or ACCOUNT_MANAGEMENT_URL).rstrip("/")
        self.information_url = (business_information_url or BUSINESS_INFORMATION_URL).rstrip("/")

    def granted_accounts(self, app: OAuthApp, grant: TokenGrant) -> list[GrantedAccount]:
        channel = ChannelContext("", "", "google_business", {}, {"access_token": grant.access_token})
        call = GoogleCall(lambda: self.http, self._now, NETWORK, explain_error)
        found: dict[str, GrantedAccount] = {}
        for account in _paged(call, channel, f"{self.accounts_url}/accounts", "accounts", {}):
            account_id = str(account.get("name") or "").removeprefix("accounts/")
            if not (account_id.isascii() and account_id.isdigit()):
                continue
            for location in _paged(call, channel, f"{self.information_url}/accounts/{account_id}/locations",
                                   "locations", {"readMask": "name,title,storefrontAddress,metadata"}):
                granted = _granted_location(account_id, location, grant)
                if granted is not None:
                    found.setdefault(granted.account_id, granted)
        return list(found.values())


def _paged(call: GoogleCall, channel: ChannelContext, url: str, key: str,
           params: Mapping[str, str]) -> Iterator[Mapping[str, Any]]:
    token = None
    for _ in range(MAX_PAGES):
        query = {**params, "pageSize": "100", **({"pageToken": token} if token else {})}
        body = _json(call(channel, "GET", url, params=query))
        yield from (item for item in body.get(key) or [] if isinstance(item, Mapping))
        token = body.get("nextPageToken")
        if not token:
            return


def _granted_location(account_id: str, location: Mapping[str, Any], grant: TokenGrant) -> GrantedAccount | None:
    location_id = str(location.get("name") or "").removeprefix("locations/")
    if not (location_id.isascii() and location_id.isdigit()):
        return None
    title = str(location.get("title") or location_id)
    address = object_at(location, "storefrontAddress")
    city = str(address.get("locality") or "")
    return GrantedAccount(network="google_business", account_id=location_id, handle=title,
                          name=f"{title} ({city})" if city else title, credentials=credentials_of(grant),
                          settings={"google_account_id": account_id, "location_id": location_id})


def make_oauth(http: Any = None, clock: Clock | None = None, *, account_management_url: str | None = None,
               business_information_url: str | None = None, authorize_url: str | None = None,
               token_url: str | None = None) -> GoogleBusinessOAuth:
    return GoogleBusinessOAuth(http, now=(clock or SystemClock()).now, account_management_url=account_management_url,
                               business_information_url=business_information_url, authorize_url=authorize_url,
                               token_url=token_url)
