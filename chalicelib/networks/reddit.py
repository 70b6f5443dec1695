"""Reddit: text (self) and link submissions to a subreddit, and connecting by OAuth 2.0.

- A submission is `POST /api/submit` on oauth.reddit.com (form fields `sr`, `kind` self|link, `title`, `text` or
  `url`, `flair_id`/`flair_text`, `nsfw`, `spoiler`, `sendreplies`, `api_type=json`). Reddit answers 200 even
  when it refuses: `{"json": {"errors": [[CODE, message, field], ...], "data": {...}}}`; each code is mapped.
- Before submitting, the subreddit's rules are read: `GET /r/{sr}/about` (`submission_type`: any, link or self)
  and, when the post names a flair, `GET /r/{sr}/api/link_flair_v2` (the flair must be one of its templates; a
  custom `flair_text` only where the template is editable).
- Every call carries Reddit's required descriptive User-Agent, `<platform>:<app id>:<version> (by /u/<name>)`
  (HERALD_REDDIT_USER_AGENT); Reddit throttles default agents. Its `X-Ratelimit-Remaining/Used/Reset` headers
  are respected: with nothing left, the delivery waits `X-Ratelimit-Reset` seconds (RetryableError).
- Reddit keeps no idempotency key: after a lost answer, `find_published` reads the user's recent submissions.

Sources are cited in tests/events/reddit/README.md.
"""
from __future__ import annotations

import base64
import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from chalicelib.core.clock import Clock, SystemClock
from chalicelib.networks.base import (
    AmbiguousError,
    AuthError,
    ChannelContext,
    ContentProblem,
    GrantedAccount,
    NetworkLimits,
    OAuthApp,
    PermanentError,
    PublicProfile,
    PublishRequest,
    PublishResult,
    RateBudget,
    RetryableError,
    TokenGrant,
)
from chalicelib.networks.http_failures import ErrorDetail, object_at, read_json, send
from chalicelib.networks.webhook import InboxNetworkAdapter, optional_text

NETWORK = "Reddit"
API_URL = "https://oauth.reddit.com"
AUTH_URL = "https://www.reddit.com"
WEB_URL = "https://www.reddit.com"
# Who the user is, submitting, reading the subreddit's rules and the user's submissions, and choosing flair.
SCOPES = ("identity", "submit", "read", "flair")
USER_AGENT_PATTERN = re.compile(r"^[^:\s]+:[^:\s]+:[^:\s]+ \(by /u/[A-Za-z0-9_-]{3,20}\)$")

MAX_TITLE = 300
MAX_TEXT = 40_000
MAX_FLAIR_ID = 36
MAX_FLAIR_TEXT = 64
SUBREDDIT_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_]{1,20}$"
LOOK_BACK = timedelta(minutes=5)
TOKEN_EXPIRY_MARGIN = timedelta(minutes=5)
SUBMITTED_PAGE = 25
DEFAULT_WAIT_S = 60.0

LIMITS = NetworkLimits(max_text=MAX_TEXT, max_media=0, media_types=(), max_media_bytes=0)

# OAuth clients may make 60 requests a minute per user-and-client (X-Ratelimit-* over a 10-minute window), and
# Reddit's anti-spam limits new submissions per account much more tightly (RATELIMIT "try again in N minutes").
# One submission at a time per account; a publish is at most four calls.
BUDGET = RateBudget(per_account_concurrency=1, per_network_concurrency=10)

Subreddit = Annotated[str, Field(strict=True, pattern=SUBREDDIT_PATTERN)]


class RedditOptions(BaseModel):
    """`variants[ch].reddit`: where the submission goes and how it is marked."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    subreddit: Subreddit | None = None
    title: Annotated[str, Field(strict=True, min_length=1, max_length=MAX_TITLE)] | None = None
    flair_id: Annotated[str, Field(strict=True, min_length=1, max_length=MAX_FLAIR_ID)] | None = None
    flair_text: Annotated[str, Field(strict=True, min_length=1, max_length=MAX_FLAIR_TEXT)] | None = None
    nsfw: Annotated[bool, Field(strict=True)] = False
    spoiler: Annotated[bool, Field(strict=True)] = False


OPTION_RULES = {
    "subreddit": "a subreddit name (letters, digits and _, 2 to 21 characters, without r/)",
    "title": f"1 to {MAX_TITLE} characters",
    "flair_id": f"a flair template id of at most {MAX_FLAIR_ID} characters",
    "flair_text": f"1 to {MAX_FLAIR_TEXT} characters",
    "nsfw": "true or false",
    "spoiler": "true or false",
}

# `json.errors` codes Reddit documents for /api/submit, said for a person. RATELIMIT and auth are handled apart.
SUBMIT_ERRORS = {
    "SUBREDDIT_NOEXIST": "the subreddit r/{sr} does not exist",
    "SUBREDDIT_NOTALLOWED": "this account is not allowed to post in r/{sr} (private, restricted or banned)",
    "SUBREDDIT_REQUIRED": "a Reddit submission needs a subreddit",
    "BAD_SR_NAME": "r/{sr} is not a valid subreddit name",
    "NO_SELFS": "r/{sr} does not allow text posts; submit a link instead",
    "NO_LINKS": "r/{sr} does not allow link posts; submit a text post instead",
    "ALREADY_SUB": "this link has already been posted to r/{sr}, which does not allow a link twice",
    "NO_TEXT": "a Reddit submission needs a title",
    "NO_URL": "the link is missing or not one Reddit reads",
    "BAD_URL": "the link is not one Reddit accepts",
    "TOO_LONG": "the title or text is longer than Reddit allows (300 characters for a title)",
    "INVALID_OPTION": "Reddit refused the kind of submission",
    "BAD_FLAIR_TEMPLATE_ID": "the flair is not one of r/{sr}'s flairs",
    "SUBMIT_VALIDATION_TITLE_REQUIRED_STRINGS": "r/{sr} requires the title to contain certain words",
    "SUBMIT_VALIDATION_BODY_BLACKLISTED_STRING": "r/{sr} does not allow some of the words in the text",
    "SUBMIT_VALIDATION_TITLE_BLACKLISTED_STRING": "r/{sr} does not allow some of the words in the title",
}
WAIT_PATTERN = re.compile(r"(\d+)\s*(millisecond|second|minute|hour)", re.IGNORECASE)
UNIT_SECONDS = {"millisecond": 0.001, "second": 1.0, "minute": 60.0, "hour": 3600.0}


def parse_options(options: Mapping[str, Any]) -> RedditOptions:
    return RedditOptions.model_validate(dict(options))


def submission_title(request: PublishRequest, options: RedditOptions) -> str | None:
    """The option's title, or the post's text when it is short enough to be the title (and nothing else)."""
    if options.title:
        return options.title
    text = request.text.strip()
    if text and len(text) <= MAX_TITLE and "\n" not in text:
        return text
    return None


def submission_body(request: PublishRequest, options: RedditOptions) -> str:
    """A self post's body: the text, unless the text itself became the title."""
    return request.text if options.title else ""


# -- rules -----------------------------------------------------------------------------------------------------

def content_problems(request: PublishRequest) -> list[ContentProblem]:
    try:
        options = parse_options(request.options)
    except ValidationError as exc:
        return _option_errors(exc)
    problems: list[ContentProblem] = []
    if len(request.text) > MAX_TEXT:
        problems.append(ContentProblem("text", f"is {len(request.text)} characters long; a Reddit text post "
                                               f"takes {MAX_TEXT:,}"))
    if submission_title(request, options) is None:
        problems.append(ContentProblem("options.title", "a Reddit submission needs a title (at most 300 "
                                                        "characters): set variants[ch].reddit.title, or make the "
                                                        "text one short line"))
    if request.link and options.title and request.text.strip():
        problems.append(ContentProblem("text", "a Reddit link post has no body: put the words in the title, or "
                                               "drop the link to make a text post"))
    if request.link and not re.match(r"^https?://", request.link):
        problems.append(ContentProblem("link", "Reddit links must be http(s)"))
    if request.media:
        problems.append(ContentProblem("media", "Herald publishes text and link submissions to Reddit; link to the "
                                                "image or video instead of attaching it"))
    if request.thread:
        problems.append(ContentProblem("thread", "Reddit has no threads; a submission is one post"))
    if request.first_comment:
        problems.append(ContentProblem("first_comment", "Herald cannot add a first comment on Reddit"))
    if options.flair_text and not options.flair_id:
        problems.append(ContentProblem("options.flair_text", "a custom Reddit flair text needs its flair_id"))
    return problems


def _option_errors(exc: ValidationError) -> list[ContentProblem]:
    problems = []
    for error in exc.errors():
        key = str(error["loc"][0]) if error["loc"] else "options"
        rule = OPTION_RULES.get(key)
        problems.append(ContentProblem(f"options.{key}", f"must be {rule}" if rule
                                       else f"is not a Reddit option ({', '.join(OPTION_RULES)})"))
    return problems


# -- errors ----------------------------------------------------------------------------------------------------

def ratelimit_wait(headers: Mapping[str, str] | None) -> float | None:
    """The seconds until Reddit's window resets when nothing is left of it (X-Ratelimit-Remaining < 1)."""
    if not headers:
        return None
    lowered = {key.lower(): value for key, value in headers.items()}
    try:
        remaining = float(lowered.get("x-ratelimit-remaining", "nan"))
        reset = float(lowered.get("x-ratelimit-reset", "nan"))
    except ValueError:
        return None
    if remaining != remaining or remaining >= 1:  # NaN: no header
        return None
    return max(1.0, reset) if reset == reset else DEFAULT_WAIT_S


def explain_error(response: Any) -> ErrorDetail:
    """Reddit's HTTP errors: `{"message": "Unauthorized", "error": 401}`, `{"reason": "private", ...}`."""
    status = getattr(response, "status_code", 0)
    headers = {k.lower(): v for k, v in (getattr(response, "headers", None) or {}).items()}
    text = _error_text(response)
    if status == 429:
        wait = ratelimit_wait(headers) or _float(headers.get("x-ratelimit-reset"))
        return ErrorDetail(text=text or "too many requests", rate_limited=True, retry_after_s=wait or DEFAULT_WAIT_S)
    authenticate = str(headers.get("www-authenticate") or "")
    if status == 401 or "invalid_token" in authenticate or "insufficient_scope" in authenticate:
        return ErrorDetail(text=text or "unauthorized", auth=True)
    if status == 403:
        return ErrorDetail(text=text, not_auth=True, sentence=f"Reddit refused: this account may not post there "
                                                              f"({text or 'forbidden'})")
    if status == 404:
        return ErrorDetail(text=text, sentence="Reddit does not know this subreddit (or it is private or banned)")
    return ErrorDetail(text=text)


def _error_text(response: Any) -> str:
    body = read_json(response)
    if isinstance(body, Mapping):
        return str(body.get("explanation") or body.get("reason") or body.get("message") or "")
    return (getattr(response, "text", "") or "")[:300]


def submit_failure(errors: list[Any], subreddit: str) -> Exception:
    """The exception for the first of `json.errors` (`[CODE, message, field]`)."""
    entry = errors[0] if isinstance(errors[0], (list, tuple)) else [errors[0]]
    code = str(entry[0]) if entry else ""
    message = str(entry[1]) if len(entry) > 1 else ""
    if code == "RATELIMIT":
        return RetryableError(f"Reddit says this account is posting too often ({message})", status=200,
                              retry_after_s=wait_in(message))
    if code == "USER_REQUIRED":
        return AuthError("Reddit no longer accepts this channel's login; connect it again", status=200)
    if code in ("SUBMIT_VALIDATION_FLAIR_REQUIRED",):
        return PermanentError(f"r/{subreddit} requires a flair: set variants[ch].reddit.flair_id", status=200)
    sentence = SUBMIT_ERRORS.get(code)
    if sentence:
        return PermanentError(f"Reddit refused the submission: {sentence.format(sr=subreddit)} ({code})", status=200)
    return PermanentError(f"Reddit refused the submission: {message or code} ({code})", status=200)


def wait_in(message: str) -> float:
    """`you are doing that too much. try again in 9 minutes.` → 540 seconds (a minute when it says none)."""
    match = WAIT_PATTERN.search(message)
    if not match:
        return DEFAULT_WAIT_S
    return max(1.0, int(match.group(1)) * UNIT_SECONDS[match.group(2).lower()])


def _float(value: Any) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


# -- the adapter -----------------------------------------------------------------------------------------------

class RedditAdapter(InboxNetworkAdapter):
    """Credentials: `access_token`, `refresh_token`, `expires_at`. Settings: `user_id`, `username`, `subreddit`."""

    network = "reddit"
    limits = LIMITS

    def __init__(self, http: Any = None, clock: Clock | None = None, *, base_url: str | None = None,
                 user_agent: str | None = None) -> None:
        super().__init__(http, clock or SystemClock())
        # HERALD_REDDIT_API_URL and HERALD_REDDIT_USER_AGENT (settings.py).
        self.api_url = (base_url or API_URL).rstrip("/")
        self.user_agent = user_agent if user_agent is not None else _configured_user_agent()

    # -- the account ------------------------------------------------------------------------------------------

    def describe_account(self, channel: ChannelContext) -> dict[str, str]:
        body = self.call(channel, "GET", "/api/v1/me")
        name = str(body.get("name") or "")
        if not name:
            raise PermanentError("Reddit returned no user for this token")
        subreddit = channel.settings.get("subreddit")
        if subreddit:
            self.subreddit_rules(channel, str(subreddit))
        return {"handle": name, "account_id": str(body.get("id") or name)}

    def read_profile(self, channel: ChannelContext) -> PublicProfile:
        """`GET /api/v1/me`: the profile subreddit's title (else the name) and public_description, icon_img (else
        snoovatar_img). The social links a profile shows are not in the answer and `subreddit.url` is the Reddit
        profile's own address, so the link is not available."""
        body = self.call(channel, "GET", "/api/v1/me", params={"raw_json": "1"})
        name = optional_text(body, "name")
        profile = object_at(body, "subreddit")
        return PublicProfile(display_name=optional_text(profile, "title") or name,
                             bio=optional_text(profile, "public_description"), link=None,
                             avatar_url=optional_text(body, "icon_img") or optional_text(body, "snoovatar_img"),
                             handle=f"u/{name}" if name else None, unavailable=frozenset({"link"}))

    def subreddit_rules(self, channel: ChannelContext, subreddit: str) -> dict[str, Any]:
        body = self.call(channel, "GET", f"/r/{subreddit}/about", params={"raw_json": "1"})
        data = body.get("data") if body.get("kind") == "t5" else None
        if not isinstance(data, Mapping):
            raise PermanentError(f"Reddit does not know the subreddit r/{subreddit}")
        return dict(data)

    def content_problems(self, request: PublishRequest) -> list[ContentProblem]:
        return content_problems(request)

    # -- publishing -------------------------------------------------------------------------------------------

    def publish(self, channel: ChannelContext, request: PublishRequest) -> PublishResult:
        problems = content_problems(request)
        if problems:
            raise PermanentError(f"Reddit: {problems[0].field} {problems[0].message}")
        progress = dict(request.progress or {})
        if progress.get("name"):
            return _result(progress)
        options = parse_options(request.options)
        subreddit = self._subreddit(channel, options)
        kind = "link" if request.link else "self"
        self._check_rules(channel, subreddit, kind, options)
        form = self._form(request, options, subreddit, kind)
        progress["submitted_at"] = self._clock.now().isoformat()
        request.record_progress(progress)
        body = self.call(channel, "POST", "/api/submit", data=form, last=True)
        answer = object_at(body, "json")
        errors = answer.get("errors") or []
        if errors:
            raise submit_failure(list(errors), subreddit)
        data = object_at(answer, "data")
        name = str(data.get("name") or (f"t3_{data['id']}" if data.get("id") else ""))
        if not name:
            raise AmbiguousError("Reddit accepted the submission but returned no id")
        progress.update(name=name, url=str(data.get("url") or ""), published_at=self._clock.now().isoformat())
        request.record_progress(progress)
        return _result(progress)

    @staticmethod
    def _subreddit(channel: ChannelContext, options: RedditOptions) -> str:
        subreddit = options.subreddit or channel.settings.get("subreddit")
        if not subreddit or not re.match(SUBREDDIT_PATTERN, str(subreddit)):
            raise PermanentError("choose a subreddit: set subreddit on the channel or in "
                                 "variants[ch].reddit.subreddit")
        return str(subreddit)

    def _check_rules(self, channel: ChannelContext, subreddit: str, kind: str, options: RedditOptions) -> None:
        rules = self.subreddit_rules(channel, subreddit)
        allowed = str(rules.get("submission_type") or "any")
        if allowed not in ("any", kind):
            other = "link" if kind == "self" else "text"
            raise PermanentError(f"r/{subreddit} only takes {other} posts; this post is a "
                                 f"{'text' if kind == 'self' else 'link'} post")
        if options.flair_id:
            self._check_flair(channel, subreddit, options)

    def _check_flair(self, channel: ChannelContext, subreddit: str, options: RedditOptions) -> None:
        flairs = self.flairs(channel, subreddit)
        chosen = next((f for f in flairs if f.get("id") == options.flair_id), None)
        if chosen is None:
            names = ", ".join(f"{f.get('text')!s} ({f.get('id')})" for f in flairs[:10]) or "none"
            raise PermanentError(f"flair {options.flair_id} is not one of r/{subreddit}'s flairs: {names}")
        if options.flair_text and not chosen.get("text_editable"):
            raise PermanentError(f"r/{subreddit}'s flair '{chosen.get('text')}' does not take a custom text")

    def flairs(self, channel: ChannelContext, subreddit: str) -> list[dict[str, Any]]:
        response = self._authenticated(channel, "GET", f"/r/{subreddit}/api/link_flair_v2")
        body = read_json(response)
        return [dict(item) for item in body if isinstance(item, Mapping)] if isinstance(body, list) else []

    @staticmethod
    def _form(request: PublishRequest, options: RedditOptions, subreddit: str, kind: str) -> dict[str, str]:
        form = {"api_type": "json", "sr": subreddit, "kind": kind,
                "title": submission_title(request, options) or "", "sendreplies": "true",
                "nsfw": str(options.nsfw).lower(), "spoiler": str(options.spoiler).lower()}
        if kind == "link":
            form["url"] = request.link or ""
        else:
            form["text"] = submission_body(request, options)
        if options.flair_id:
            form["flair_id"] = options.flair_id
        if options.flair_text:
            form["flair_text"] = options.flair_text
        return form

    # -- looking before a retry -------------------------------------------------------------------------------

    def find_published(self, channel: ChannelContext, request: PublishRequest) -> PublishResult | None:
        """The submission by the id in progress, or among the user's recent submissions: the same title in the
        same subreddit, created since the first attempt."""
        progress = dict(request.progress or {})
        if progress.get("name"):
            return _result(progress)
        options = parse_options(request.options)
        username = str(channel.settings.get("username") or "")
        if not username:
            raise AmbiguousError("the Reddit channel has no username to list its submissions")
        subreddit = self._subreddit(channel, options).lower()
        title = submission_title(request, options) or ""
        since = (request.first_attempt_at or _moment(progress.get("submitted_at"))
                 or self._clock.now() - timedelta(days=1)) - LOOK_BACK
        body = self.call(channel, "GET", f"/user/{username}/submitted",
                         params={"sort": "new", "limit": str(SUBMITTED_PAGE), "raw_json": "1"})
        return _matching_submission(body, title, subreddit, since)

    # -- HTTP -------------------------------------------------------------------------------------------------

    def call(self, channel: ChannelContext, method: str, path: str, *, last: bool = False,
             **kwargs: Any) -> dict[str, Any]:
        """One authenticated call (refreshing an expired token once). With Reddit's window used up, a call that
        is not the last of a publish stops the publish until the window resets."""
        response = self._authenticated(channel, method, path, **kwargs)
        wait = ratelimit_wait(response.headers)
        if wait is not None and not last:
            raise RetryableError(f"Reddit's rate limit for this account is used up; it resets in {wait:.0f} s",
                                 retry_after_s=wait)
        body = read_json(response)
        return body if isinstance(body, dict) else {}

    def _authenticated(self, channel: ChannelContext, method: str, path: str, **kwargs: Any) -> Any:
        if self._expired(channel):
            self._refresh(channel)
        try:
            return self._send(channel, method, path, **kwargs)
        except AuthError as exc:
            if exc.status != 401 or channel.refresh_credentials is None:
                raise
        self._refresh(channel)
        return self._send(channel, method, path, **kwargs)

    def _send(self, channel: ChannelContext, method: str, path: str, *, http: Any = None, **kwargs: Any) -> Any:
        token = channel.credentials.get("access_token")
        if not token:
            raise AuthError("the Reddit channel has no access token")
        response = send(http or self.http, method, f"{self.api_url}{path}", network=NETWORK, explain=explain_error,
                        headers={"Authorization": f"bearer {token}", "User-Agent": self._agent()},
                        now=self._clock.now, **kwargs)
        return response

    def _agent(self) -> str:
        return checked_user_agent(self.user_agent)

    def _expired(self, channel: ChannelContext) -> bool:
        expires_at = _moment(channel.credentials.get("expires_at"))
        return (channel.refresh_credentials is not None and expires_at is not None
                and expires_at - TOKEN_EXPIRY_MARGIN <= self._clock.now())

    @staticmethod
    def _refresh(channel: ChannelContext) -> None:
        if channel.refresh_credentials is None:
            raise AuthError("Reddit refused this channel's token and it cannot be refreshed", status=401)
        channel.credentials = dict(channel.refresh_credentials())


def checked_user_agent(user_agent: str) -> str:
    """Reddit's rule: `<platform>:<app id>:<version> (by /u/<username>)`; generic agents are throttled hard."""
    if not USER_AGENT_PATTERN.match(user_agent or ""):
        raise PermanentError("Reddit requires a descriptive User-Agent: the operator must set "
                             "HERALD_REDDIT_USER_AGENT to '<platform>:<app id>:<version> (by /u/<username>)'")
    return user_agent


def _configured_user_agent() -> str:
    from chalicelib.core.settings import get_settings

    return get_settings().reddit_user_agent


def _matching_submission(body: Mapping[str, Any], title: str, subreddit: str,
                         since: datetime) -> PublishResult | None:
    listing = object_at(body, "data")
    items = [child["data"] for child in listing.get("children") or []
             if isinstance(child, Mapping) and isinstance(child.get("data"), Mapping)]
    matches = [item for item in items if str(item.get("title") or "") == title
               and str(item.get("subreddit") or "").lower() == subreddit
               and _epoch(item.get("created_utc")) >= since]
    if len(matches) > 1:
        raise AmbiguousError("Reddit lists more than one submission with this title; Herald cannot tell which")
    if matches:
        found = matches[0]
        return PublishResult(remote_id=str(found.get("name") or f"t3_{found.get('id')}"),
                             remote_url=f"{WEB_URL}{found.get('permalink') or ''}",
                             published_at=_epoch(found.get("created_utc")))
    oldest = min((_epoch(item.get("created_utc")) for item in items), default=None)
    if listing.get("after") and oldest is not None and oldest >= since:
        raise AmbiguousError("Reddit lists more recent submissions than Herald read; it cannot tell")
    return None


def _result(progress: Mapping[str, Any]) -> PublishResult:
    return PublishResult(remote_id=str(progress["name"]), remote_url=str(progress.get("url") or "") or None,
                         published_at=_moment(progress.get("published_at")))


def _moment(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _epoch(value: Any) -> datetime:
    try:
        return datetime.fromtimestamp(float(value), tz=UTC)
    except (TypeError, ValueError, OverflowError):
        return datetime.min.replace(tzinfo=UTC)


def make_adapter(http: Any = None, clock: Clock | None = None, *, base_url: str | None = None,
                 user_agent: str | None = None) -> RedditAdapter:
    return RedditAdapter(http=http, clock=clock, base_url=base_url, user_agent=user_agent)


# -- connecting by OAuth ---------------------------------------------------------------------------------------

def explain_token_error(response: Any) -> ErrorDetail:
    """Only `invalid_grant` (a refresh token revoked or a code spent) means connecting again."""
    body = read_json(response)
    error = str(body.get("error") or "") if isinstance(body, Mapping) else ""
    if error == "invalid_grant":
        return ErrorDetail(text=error, auth=True)
    if getattr(response, "status_code", 0) == 401:  # Reddit refuses the client's own credentials this way
        return ErrorDetail(text="Reddit refused Herald's app credentials", not_auth=True, rate_limited=True)
    return ErrorDetail(text=error or (getattr(response, "text", "") or "")[:300], rate_limited=True)


class RedditOAuth:
    """`www.reddit.com/api/v1/authorize` with `duration=permanent` (a refresh token), then
    `POST /api/v1/access_token` with HTTP Basic client authentication. Access tokens last an hour. No PKCE."""

    network = "reddit"
    supports_pkce = False

    def __init__(self, http: Any = None, clock: Clock | None = None, *, auth_url: str | None = None,
                 api_url: str | None = None, user_agent: str | None = None) -> None:
        self._http = http
        self._clock = clock or SystemClock()
        # HERALD_REDDIT_AUTH_URL: the host of the authorization page and the token endpoint.
        self.auth_url = (auth_url or AUTH_URL).rstrip("/")
        self.api_url = (api_url or API_URL).rstrip("/")
        self.user_agent = user_agent if user_agent is not None else _configured_user_agent()

    @property
    def http(self) -> Any:
        if self._http is None:
            import requests

            self._http = requests.Session()
        return self._http

    def authorize_url(self, app: OAuthApp, redirect_uri: str, state: str, code_challenge: str | None = None) -> str:
        query = {"client_id": app.client_id, "response_type": "code", "state": state, "redirect_uri": redirect_uri,
                 "duration": "permanent", "scope": " ".join(SCOPES)}
        return f"{self.auth_url}/api/v1/authorize?{urlencode(query)}"

    def exchange_code(self, app: OAuthApp, code: str, redirect_uri: str,
                      code_verifier: str | None = None) -> TokenGrant:
        grant = self._token(app, {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri})
        if grant is None:
            raise PermanentError("Reddit refused the authorization code (spent or expired)")
        return grant

    def refresh(self, app: OAuthApp, credentials: Mapping[str, Any]) -> TokenGrant:
        token = str(credentials.get("refresh_token") or "")
        if not token:
            raise AuthError("the Reddit channel has no refresh token; connect it again")
        grant = self._token(app, {"grant_type": "refresh_token", "refresh_token": token})
        if grant is None:
            raise AuthError("Reddit says this channel's refresh token is revoked; connect it again")
        return grant

    def granted_accounts(self, app: OAuthApp, grant: TokenGrant) -> list[GrantedAccount]:
        adapter = RedditAdapter(self.http, self._clock, base_url=self.api_url, user_agent=self.user_agent)
        channel = ChannelContext("", "", "reddit", {}, {"access_token": grant.access_token})
        body = adapter.call(channel, "GET", "/api/v1/me", last=True)
        name = str(body.get("name") or "")
        user_id = str(body.get("id") or "")
        if not name or not user_id:
            raise PermanentError("Reddit returned no user for this grant")
        credentials: dict[str, Any] = {"access_token": grant.access_token}
        if grant.refresh_token:
            credentials["refresh_token"] = grant.refresh_token
        if grant.expires_at is not None:
            credentials["expires_at"] = grant.expires_at.isoformat()
        icon = str(body.get("icon_img") or "").split("?")[0] or None
        return [GrantedAccount(network="reddit", account_id=user_id, handle=f"u/{name}", name=name,
                               credentials=credentials, settings={"user_id": user_id, "username": name},
                               avatar_url=icon)]

    def _token(self, app: OAuthApp, form: dict[str, str]) -> TokenGrant | None:
        """The grant; None when Reddit answers `invalid_grant` (it may do so with a 200)."""
        user_agent = checked_user_agent(self.user_agent)
        basic = base64.b64encode(f"{app.client_id}:{app.client_secret}".encode()).decode()
        try:
            response = send(self.http, "POST", f"{self.auth_url}/api/v1/access_token", network=NETWORK,
                            explain=explain_token_error, data=form, now=self._clock.now,
                            headers={"Authorization": f"Basic {basic}", "User-Agent": user_agent})
        except AuthError:
            return None
        body = read_json(response)
        body = body if isinstance(body, dict) else {}
        if body.get("error") == "invalid_grant":
            return None
        token = str(body.get("access_token") or "")
        if not token:
            raise RetryableError(f"Reddit answered without an access token ({body.get('error') or 'no error'})")
        expires_in = body.get("expires_in")
        return TokenGrant(
            access_token=token, refresh_token=body.get("refresh_token") or None,
            expires_at=self._clock.now() + timedelta(seconds=int(expires_in)) if isinstance(expires_in, int)
            else None,
            scopes=tuple(str(body.get("scope") or "").split()) or SCOPES,
            extra={"token_type": body.get("token_type") or "bearer"})


def make_oauth(http: Any = None, clock: Clock | None = None, *, auth_url: str | None = None,
               api_url: str | None = None, user_agent: str | None = None) -> RedditOAuth:
    return RedditOAuth(http=http, clock=clock, auth_url=auth_url, api_url=api_url, user_agent=user_agent)
