"""YouTube (Data API v3): a video uploaded with `videos.insert` over the resumable upload protocol, its
processing awaited, then a first comment; and the OAuth side (Google's, in google_oauth.py).

The steps, each recorded in the delivery's progress before the next, so a retry never repeats one:
1. open an upload session: `POST {upload}/videos?uploadType=resumable&part=snippet,status&notifySubscribers=`
   with the snippet/status JSON and `X-Upload-Content-Length`/`X-Upload-Content-Type`; YouTube answers the
   session URI in `Location` (recorded: `session`). No video exists until every byte has arrived, so a lost
   answer here is simply retried (an unused session lapses on its own).
2. `PUT` the bytes to the session in chunks (multiples of 256 KiB) streamed from `MediaItem.stream`, each with
   `Content-Range: bytes a-b/total`; YouTube answers `308 Resume Incomplete` with `Range: bytes=0-b` until the
   last one, which answers the video resource (recorded: `video_id`). A broken upload is resumed by asking the
   session what it has (`PUT` with `Content-Range: bytes */total`, no body). One attempt uploads at most
   `max_bytes_per_attempt`, then hands over to the next by `StillProcessing`, so no Lambda holds a long upload.
3. `videos.list?part=status,processingDetails` until `status.uploadStatus` is `processed` (StillProcessing
   meanwhile); `failed`, `rejected` or `deleted` is a failure said in words.
4. the first comment: `commentThreads.insert` (recorded: `comment_id`); a refusal is a warning, the video is out.

Shorts: the API has no Shorts flag. YouTube makes a Short of a square or vertical video of up to three minutes.
Herald links such a video as `youtube.com/shorts/{id}` when it knows the dimensions and length; the option
`short: true` makes those rules checked when the post is saved (a Short that would not be one is refused).

Quota: Herald's Google project has 10,000 units a day (videos.insert: 1,600; commentThreads.insert: 50;
a list: 1), reset at midnight Pacific time. A used-up quota (`quotaExceeded`) never fails a delivery: it
waits (RetryableError) until the quota day turns. A channel's own daily upload limit (`uploadLimitExceeded`)
waits 24 hours, as YouTube advises. Sources: tests/events/youtube/README.md.
"""
from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError

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
    RetryableError,
    StillProcessing,
    TokenGrant,
)
from chalicelib.networks.google_oauth import GoogleCall, GoogleOAuth, credentials_of, google_error, moment_of
from chalicelib.networks.http_failures import ErrorDetail, object_at, read_json

NETWORK = "YouTube"
API_URL = "https://www.googleapis.com/youtube/v3"
UPLOAD_URL = "https://www.googleapis.com/upload/youtube/v3"
# Uploading, and reading the channel and commenting (youtube.force-ssl: commentThreads.insert needs it).
SCOPES = ("https://www.googleapis.com/auth/youtube.upload", "https://www.googleapis.com/auth/youtube.readonly",
          "https://www.googleapis.com/auth/youtube.force-ssl")

MAX_TITLE = 100
MAX_DESCRIPTION_BYTES = 5000
MAX_TAGS_CHARS = 500
MAX_COMMENT = 10_000
MAX_VIDEO_BYTES = 256 * 1024 ** 3
MAX_VIDEO_SECONDS = 12 * 3600
SHORT_MAX_SECONDS = 180
VIDEO_TYPES = ("video/mp4", "video/quicktime", "video/x-msvideo", "video/webm", "video/mpeg", "video/x-flv",
               "video/3gpp", "video/x-ms-wmv", "video/x-matroska")
PRIVACY_STATUSES = ("public", "unlisted", "private")
DEFAULT_CATEGORY = "22"  # People & Blogs
ANGLE_BRACKETS = ("<", ">")
OPTIONS = ("title", "privacy_status", "notify_subscribers", "tags", "category_id", "made_for_kids", "short")

# Quota units per call (determine_quota_cost): what one delivery costs Herald's project.
QUOTA_UNITS = {"videos.insert": 1600, "commentThreads.insert": 50, "videos.list": 1, "channels.list": 1,
               "playlistItems.list": 1}
DAILY_QUOTA_UNITS = 10_000

LIMITS = NetworkLimits(max_text=MAX_DESCRIPTION_BYTES, max_media=1, media_types=VIDEO_TYPES,
                       max_media_bytes=MAX_VIDEO_BYTES, requires_media=True)

# One upload per channel at a time: a channel's uploads count against its own daily limit and two sessions
# would only compete for it. Across channels, the project's 10,000 daily units pay for about six uploads:
# more at once would only spend the day's quota faster, so a few suffice.
BUDGET = RateBudget(per_account_concurrency=1, per_network_concurrency=4)

UPLOAD_CHUNK = 256 * 1024  # resumable chunks must be multiples of 256 KiB (except the last)
DEFAULT_CHUNK_BYTES = 32 * UPLOAD_CHUNK  # 8 MiB
DEFAULT_BYTES_PER_ATTEMPT = 1024 ** 3  # then the next attempt (a delayed message) continues the session
FIRST_CHECK_S = 30.0
NEXT_CHECK_S = 60.0
CONTINUE_UPLOAD_S = 1.0
UPLOAD_TIMEOUT = (5.0, 120.0)  # a chunk of 8 MiB may take a while to be acknowledged
GIVE_UP_PROCESSING_S = 12 * 3600
UPLOAD_LIMIT_WAIT_S = 24 * 3600.0
SESSION_LIFETIME = timedelta(days=7)
LOOK_BACK = timedelta(minutes=5)

FAILURE_REASONS = {
    "codec": "YouTube could not read the video's codec",
    "conversion": "YouTube could not convert the video",
    "emptyFile": "the video file is empty",
    "invalidFile": "the file is not a video YouTube can read",
    "tooSmall": "the video file is too small",
    "uploadAborted": "the upload was aborted",
}
REJECTION_REASONS = {
    "claim": "a claim on its content", "copyright": "copyright", "duplicate": "it duplicates a video already "
    "uploaded", "inappropriate": "inappropriate content", "legal": "legal reasons", "length": "its length (longer "
    "than the channel may upload; verify the channel to upload more than 15 minutes)", "termsOfUse": "YouTube's "
    "terms of use", "trademark": "trademark", "uploaderAccountClosed": "the channel is closed",
    "uploaderAccountSuspended": "the channel is suspended",
}
# Refusals said for a person (videos.insert and commentThreads.insert errors).
SENTENCES = {
    "invalidTitle": "YouTube refused the video's title (at most 100 characters, no < or >)",
    "invalidDescription": "YouTube refused the description (at most 5,000 bytes, no < or >)",
    "invalidTags": "YouTube refused the tags (at most 500 characters in all)",
    "invalidCategoryId": "YouTube has no such video category for this channel's region",
    "defaultLanguageNotSet": "YouTube needs the video's default language to accept localized metadata",
    "mediaBodyRequired": "YouTube received no video bytes",
    "invalidVideoMetadata": "YouTube refused the video's metadata",
    "forbiddenPrivacySetting": "YouTube does not allow this privacy setting for this channel",
    "forbiddenLicenseSetting": "YouTube does not allow this license for this channel",
    "authenticatedUserAccountClosed": "the YouTube channel is closed",
    "authenticatedUserAccountSuspended": "the YouTube channel is suspended",
    "commentsDisabled": "comments are turned off for this video",
    "processingFailure": "YouTube could not post the comment",
}
AUTH_REASONS = ("authError", "unauthorized", "insufficientPermissions", "youtubeSignupRequired", "forbidden")
RATE_REASONS = ("rateLimitExceeded", "userRateLimitExceeded", "backendError", "servingLimitExceeded")
QUOTA_REASONS = ("quotaExceeded", "dailyLimitExceeded")


# -- the quota day -----------------------------------------------------------------------------------------------

def seconds_until_quota_reset(now: datetime) -> float:
    """YouTube's daily quotas reset at midnight Pacific time (PST or PDT)."""
    pacific = _pacific(now)
    local = now.astimezone(pacific)
    midnight = datetime(local.year, local.month, local.day, tzinfo=pacific) + timedelta(days=1)
    return max(60.0, (midnight.astimezone(UTC) - now.astimezone(UTC)).total_seconds())


def _pacific(now: datetime) -> Any:
    try:
        from zoneinfo import ZoneInfo

        return ZoneInfo("America/Los_Angeles")
    except Exception:  # no tz database on this host: the US rule (second Sunday of March to first of November)
        from datetime import timezone

        year = now.year
        march = datetime(year, 3, 8 + (6 - datetime(year, 3, 8).weekday()) % 7, 10, tzinfo=UTC)
        november = datetime(year, 11, 1 + (6 - datetime(year, 11, 1).weekday()) % 7, 9, tzinfo=UTC)
        return timezone(timedelta(hours=-7 if march <= now.astimezone(UTC) < november else -8))


# -- options and rules -------------------------------------------------------------------------------------------

class YouTubeOptions(BaseModel):
    """`variants[channel].youtube`: what YouTube lets an uploader choose per video."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    title: Annotated[str, Field(strict=True, min_length=1, max_length=MAX_TITLE)] | None = None
    privacy_status: Literal["public", "unlisted", "private"] | None = None
    notify_subscribers: Annotated[bool, Field(strict=True)] | None = None
    tags: list[Annotated[str, Field(strict=True, min_length=1, max_length=MAX_TAGS_CHARS)]] | None = None
    category_id: Annotated[str, Field(strict=True, pattern=r"^[0-9]{1,3}$")] | None = None
    made_for_kids: Annotated[bool, Field(strict=True)] | None = None
    short: Annotated[bool, Field(strict=True)] | None = None


def options_of(request: PublishRequest) -> YouTubeOptions:
    try:
        return YouTubeOptions.model_validate(dict(request.options))
    except ValidationError:
        return YouTubeOptions()


def title_of(request: PublishRequest, options: YouTubeOptions) -> str:
    """The option's title, else the text's first line."""
    if options.title:
        return options.title
    return next((line.strip() for line in request.text.splitlines() if line.strip()), "")


def description_of(request: PublishRequest) -> str:
    if request.link and request.link not in request.text:
        return f"{request.text}\n\n{request.link}".strip()
    return request.text


def tags_length(tags: list[str]) -> int:
    """YouTube's 500: the tags and the commas between them; a tag with a space counts its quotes too."""
    return sum(len(tag) + (2 if " " in tag else 0) for tag in tags) + max(0, len(tags) - 1)


def is_short(item: MediaItem) -> bool:
    return bool(item.width and item.height and item.height >= item.width
                and item.duration_s is not None and 0 < item.duration_s <= SHORT_MAX_SECONDS)


def content_problems(request: PublishRequest) -> list[ContentProblem]:
    problems, options = _option_problems(request.options)
    title = title_of(request, options)
    if not title:
        problems.append(ContentProblem("options.title", "YouTube needs a title: set variants[].youtube.title or "
                                                        "start the text with a line"))
    elif len(title) > MAX_TITLE:
        problems.append(ContentProblem("options.title" if options.title else "text",
                                       f"the title is {len(title)} characters; YouTube allows {MAX_TITLE} (set "
                                       "variants[].youtube.title, or shorten the text's first line)"))
    if any(ch in title for ch in ANGLE_BRACKETS):
        problems.append(ContentProblem("options.title", "YouTube refuses < and > in a title"))
    description = description_of(request)
    size = len(description.encode("utf-8"))
    if size > MAX_DESCRIPTION_BYTES:
        problems.append(ContentProblem("text", f"is {size} bytes (UTF-8); YouTube allows {MAX_DESCRIPTION_BYTES} "
                                               "in a description"))
    if any(ch in description for ch in ANGLE_BRACKETS):
        problems.append(ContentProblem("text", "YouTube refuses < and > in a description"))
    problems += _media_problems(request.media, options)
    if request.thread:
        problems.append(ContentProblem("thread", "YouTube has no threads; publish one video"))
    if request.first_comment is not None and not 0 < len(request.first_comment) <= MAX_COMMENT:
        problems.append(ContentProblem("first_comment", f"a YouTube comment is 1 to {MAX_COMMENT} characters"))
    return problems


def _option_problems(raw: Mapping[str, Any]) -> tuple[list[ContentProblem], YouTubeOptions]:
    try:
        options = YouTubeOptions.model_validate(dict(raw))
    except ValidationError as exc:
        return [ContentProblem("options." + ".".join(str(p) for p in error["loc"]), _option_message(error))
                for error in exc.errors()], YouTubeOptions()
    problems = []
    if options.tags is not None and tags_length(options.tags) > MAX_TAGS_CHARS:
        problems.append(ContentProblem("options.tags", f"YouTube allows {MAX_TAGS_CHARS} characters of tags in all "
                                                       "(commas count, and quotes around a tag with a space)"))
    if options.tags and any(ch in tag for tag in options.tags for ch in ANGLE_BRACKETS + (",",)):
        problems.append(ContentProblem("options.tags", "a YouTube tag may not contain <, > or a comma"))
    return problems, options


def _option_message(error: Mapping[str, Any]) -> str:
    field = str(error["loc"][0]) if error.get("loc") else ""
    if error.get("type") == "extra_forbidden":
        return f"is not a YouTube option ({', '.join(OPTIONS)})"
    explained = {"privacy_status": f"must be one of {', '.join(PRIVACY_STATUSES)}",
                 "category_id": "must be a YouTube video category id such as 22 (People & Blogs)",
                 "title": f"a YouTube title is 1 to {MAX_TITLE} characters"}
    return explained.get(field) or f"YouTube option: {error.get('msg', 'is not valid')}"


def _media_problems(media: tuple[MediaItem, ...], options: YouTubeOptions) -> list[ContentProblem]:
    videos = [item for item in media if item.mime in VIDEO_TYPES]
    if len(media) != 1 or len(videos) != 1:
        return [ContentProblem("media", "YouTube publishes exactly one video (MP4, MOV, WebM, AVI...) per post")]
    item = videos[0]
    problems = []
    if item.size is not None and item.size > MAX_VIDEO_BYTES:
        problems.append(ContentProblem("media.0", "is larger than the 256 GB YouTube accepts"))
    if item.duration_s is not None and item.duration_s > MAX_VIDEO_SECONDS:
        problems.append(ContentProblem("media.0", "lasts longer than the 12 hours YouTube accepts"))
    if options.short:
        if item.width and item.height and item.width > item.height:
            problems.append(ContentProblem("media.0", "a YouTube Short is square or vertical; this video is "
                                                      "horizontal"))
        if item.duration_s is not None and item.duration_s > SHORT_MAX_SECONDS:
            problems.append(ContentProblem("media.0", f"a YouTube Short lasts at most {SHORT_MAX_SECONDS // 60} "
                                                      "minutes"))
    return problems


# -- errors ------------------------------------------------------------------------------------------------------

def explain_error(response: Any, *, now: datetime | None = None) -> ErrorDetail:
    status, reason, _, message = google_error(response)
    if reason in QUOTA_REASONS:
        return ErrorDetail(text=message, rate_limited=True, retry_after_s=seconds_until_quota_reset(
            now or datetime.now(UTC)), sentence="Herald's YouTube API quota for today is used up (an upload costs "
                                                "1,600 of the 10,000 daily units); the video waits until the "
                                                "quota resets at midnight Pacific time")
    if reason == "uploadLimitExceeded":
        return ErrorDetail(text=message, rate_limited=True, retry_after_s=UPLOAD_LIMIT_WAIT_S,
                           sentence="this YouTube channel has reached its daily upload limit (YouTube limits "
                                    "how many videos a channel uploads in 24 hours); the video waits a day")
    if reason in RATE_REASONS:
        return ErrorDetail(text=message, rate_limited=True)
    if reason in SENTENCES:
        return ErrorDetail(text=message, not_auth=True, sentence=f"{SENTENCES[reason]} ({message})"[:300])
    if status == 401 or reason in AUTH_REASONS:
        return ErrorDetail(text=message, auth=True)
    return ErrorDetail(text=message, not_auth=status == 403)


class _Quota:
    """`explain` with the adapter's clock, so the wait for the quota day is computed from injected time."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock

    def __call__(self, response: Any) -> ErrorDetail:
        return explain_error(response, now=self.clock.now())


# -- the adapter -------------------------------------------------------------------------------------------------

class YouTubeAdapter:
    """Credentials: `access_token`, `refresh_token`, `expires_at`. Settings: `youtube_channel_id`."""

    network = "youtube"
    limits = LIMITS
    idempotent_publish = False

    def __init__(self, http: Any = None, clock: Clock | None = None, *, base_url: str | None = None,
                 upload_url: str | None = None, chunk_bytes: int = DEFAULT_CHUNK_BYTES,
                 max_bytes_per_attempt: int = DEFAULT_BYTES_PER_ATTEMPT) -> None:
        if chunk_bytes <= 0 or chunk_bytes % UPLOAD_CHUNK:
            raise ValueError("YouTube upload chunks are multiples of 256 KiB")
        self._http = http
        self._clock = clock or SystemClock()
        self.api_url = (base_url or API_URL).rstrip("/")  # HERALD_YOUTUBE_API_URL
        self.upload_url = (upload_url or UPLOAD_URL).rstrip("/")  # HERALD_YOUTUBE_UPLOAD_URL
        self.chunk_bytes = chunk_bytes
        self.max_bytes_per_attempt = max(chunk_bytes, max_bytes_per_attempt)
        self.call = GoogleCall(lambda: self.http, self._clock.now, NETWORK, _Quota(self._clock))

    @property
    def http(self) -> Any:
        if self._http is None:
            import requests

            self._http = requests.Session()
        return self._http

    # -- the account ---------------------------------------------------------------------------------------------

    def describe_account(self, channel: ChannelContext) -> dict[str, str]:
        found = self._my_channel(channel, "snippet")
        snippet = found.get("snippet") or {}
        return {"handle": str(snippet.get("customUrl") or snippet.get("title") or found["id"]),
                "account_id": str(found["id"])}

    def read_profile(self, channel: ChannelContext) -> PublicProfile:
        """`channels.list?part=snippet&mine=true`: title, description, the largest thumbnail (high 800px, else
        medium, else default 88px), customUrl as the handle. The links a channel shows on its page are not in
        any part of the channel resource, so the link is not available."""
        snippet = object_at(self._my_channel(channel, "snippet"), "snippet")
        thumbnails = object_at(snippet, "thumbnails")
        avatar = next((object_at(thumbnails, size).get("url") for size in ("high", "medium", "default")
                       if object_at(thumbnails, size).get("url")), None)
        return PublicProfile(display_name=snippet.get("title") or None, bio=snippet.get("description") or None,
                             link=None, avatar_url=avatar, handle=snippet.get("customUrl") or None,
                             unavailable=frozenset({"link"}))

    def _my_channel(self, channel: ChannelContext, part: str) -> dict[str, Any]:
        body = self._json(self.call(channel, "GET", f"{self.api_url}/channels", params={"part": part, "mine": "true"}))
        return my_channel(body)

    def content_problems(self, request: PublishRequest) -> list[ContentProblem]:
        return content_problems(request)

    # -- publishing ----------------------------------------------------------------------------------------------

    def publish(self, channel: ChannelContext, request: PublishRequest) -> PublishResult:
        run = _Upload(self, channel, request)
        if not run.state.get("video_id"):
            self._upload(run)
        if run.state.get("upload_status") != "processed":
            self._await_processing(run)
        warnings = self._first_comment(run)
        return run.result(warnings)

    def _upload(self, run: _Upload) -> None:
        item = run.video()
        if run.state.get("session") and not run.session_fresh():
            run.forget_session()
        offset = 0
        if run.state.get("session"):
            offset = self._ask_session(run)
            if run.state.get("video_id"):
                return
        if not run.state.get("session"):
            self._open_session(run, item)
        self._send_bytes(run, item, offset)

    def _open_session(self, run: _Upload, item: MediaItem) -> None:
        options = run.options
        snippet: dict[str, Any] = {"title": title_of(run.request, options),
                                   "description": description_of(run.request),
                                   "categoryId": options.category_id or DEFAULT_CATEGORY}
        if options.tags:
            snippet["tags"] = list(options.tags)
        status: dict[str, Any] = {"privacyStatus": options.privacy_status or "public", "embeddable": True}
        if options.made_for_kids is not None:
            status["selfDeclaredMadeForKids"] = options.made_for_kids
        notify = "false" if options.notify_subscribers is False else "true"
        try:
            response = self.call(run.channel, "POST", f"{self.upload_url}/videos",
                                 params={"uploadType": "resumable", "part": "snippet,status",
                                         "notifySubscribers": notify},
                                 json={"snippet": snippet, "status": status},
                                 headers={"X-Upload-Content-Length": str(run.total),
                                          "X-Upload-Content-Type": item.mime,
                                          "Content-Type": "application/json; charset=UTF-8"})
        except AmbiguousError:
            # A session holds no video until its last byte: opening another one repeats nothing.
            raise RetryableError("YouTube did not answer when Herald opened the upload; it will try again") from None
        location = str(response.headers.get("Location") or response.headers.get("location") or "")
        if not self._ours(location):
            raise RetryableError("YouTube opened no upload session Herald can use (no session URI on its host)")
        run.state.update({"session": location, "session_opened_at": to_rfc3339(self._clock.now()),
                          "bytes_total": run.total})
        run.record()

    def _ours(self, location: str) -> bool:
        """The session URI must be on YouTube's upload host: the bearer token goes with every PUT."""
        ours, theirs = urlsplit(self.upload_url), urlsplit(location)
        return bool(location) and (theirs.scheme, theirs.netloc) == (ours.scheme, ours.netloc)

    def _ask_session(self, run: _Upload) -> int:
        """How many bytes the session holds (or the video, when it has them all); a lapsed session is forgotten."""
        response = self._put(run, {"Content-Range": f"bytes */{run.total}", "Content-Length": "0"}, b"")
        if response is None:
            run.forget_session()
            return 0
        if response.status_code == 308:
            return _received(response)
        self._keep_video(run, read_json(response))
        return run.total

    def _send_bytes(self, run: _Upload, item: MediaItem, offset: int) -> None:
        sent = 0
        for chunk in rechunked(item, self.chunk_bytes, offset):
            if sent >= self.max_bytes_per_attempt:
                run.state["offset"] = offset
                raise StillProcessing(f"YouTube has {offset} of {run.total} bytes; the upload continues",
                                      progress=run.snapshot(), check_after_s=CONTINUE_UPLOAD_S)
            end = offset + len(chunk) - 1
            response = self._put(run, {"Content-Range": f"bytes {offset}-{end}/{run.total}",
                                       "Content-Length": str(len(chunk))}, chunk)
            if response is None:
                run.forget_session()
                raise RetryableError("YouTube's upload session lapsed; the upload starts again")
            if response.status_code != 308:
                self._keep_video(run, read_json(response))
                return
            sent += len(chunk)
            offset = _received(response)
        if not run.state.get("video_id"):
            raise AmbiguousError("YouTube took every byte but answered no video; Herald asks the session next")

    def _put(self, run: _Upload, headers: dict[str, str], body: bytes) -> Any:
        """One PUT to the session: the response when 2xx or 308, None when the session is gone (404/410)."""
        try:
            return self.call(run.channel, "PUT", str(run.state["session"]), headers=headers, data=body,
                             accept=(308,), timeout=UPLOAD_TIMEOUT)
        except PermanentError as exc:
            if exc.status in (404, 410):
                return None
            raise

    def _keep_video(self, run: _Upload, body: Any) -> None:
        video_id = str(body.get("id") or "") if isinstance(body, Mapping) else ""
        if not video_id:
            raise AmbiguousError("YouTube finished the upload but answered no video id")
        status = body.get("status") if isinstance(body.get("status"), Mapping) else {}
        run.state.update({"video_id": video_id, "uploaded_at": to_rfc3339(self._clock.now()),
                          "upload_status": str(status.get("uploadStatus") or "uploaded")})
        run.state.pop("offset", None)
        run.record()

    def _await_processing(self, run: _Upload) -> None:
        video = self._video(run.channel, str(run.state["video_id"]))
        status = _upload_status(video)
        if status == "processed":
            run.state["upload_status"] = "processed"
            run.record()
            return
        problem = _processing_problem(video, status)
        if problem:
            raise PermanentError(problem)
        started = moment_of(run.state.get("uploaded_at")) or self._clock.now()
        if (self._clock.now() - started).total_seconds() > GIVE_UP_PROCESSING_S:
            raise PermanentError("YouTube was still processing the video after 12 hours")
        checks = int(run.state.get("checks") or 0)
        run.state["checks"] = checks + 1
        raise StillProcessing(f"YouTube is processing the video ({status or 'not listed yet'})",
                              progress=run.snapshot(), check_after_s=FIRST_CHECK_S if checks == 0 else NEXT_CHECK_S)

    def _video(self, channel: ChannelContext, video_id: str) -> dict[str, Any]:
        body = self._json(self.call(channel, "GET", f"{self.api_url}/videos",
                                    params={"part": "status,processingDetails,snippet", "id": video_id}))
        items = body.get("items") if isinstance(body.get("items"), list) else []
        return dict(items[0]) if items and isinstance(items[0], Mapping) else {}

    def _first_comment(self, run: _Upload) -> tuple[str, ...]:
        text = run.request.first_comment
        if not text or run.state.get("comment_id") or run.state.get("comment_refused"):
            return tuple(w for w in [run.state.get("comment_refused")] if w)
        if run.state.get("comment_attempted"):
            found = self._find_comment(run, text)
            if found:
                run.state["comment_id"] = found
                run.record()
                return ()
        run.state["comment_attempted"] = True
        run.record()
        body = {"snippet": {"channelId": run.channel_id(), "videoId": run.state["video_id"],
                            "topLevelComment": {"snippet": {"textOriginal": text}}}}
        try:
            answer = self._json(self.call(run.channel, "POST", f"{self.api_url}/commentThreads",
                                          params={"part": "snippet"}, json=body))
        except PermanentError as exc:
            run.state["comment_refused"] = f"the video is out, but YouTube refused its first comment: {exc.message}"
            run.record()
            return (run.state["comment_refused"],)
        run.state["comment_id"] = str(answer.get("id") or "")
        run.record()
        return ()

    def _find_comment(self, run: _Upload, text: str) -> str | None:
        body = self._json(self.call(run.channel, "GET", f"{self.api_url}/commentThreads",
                                    params={"part": "snippet", "videoId": str(run.state["video_id"]),
                                            "maxResults": "100"}))
        for thread in body.get("items") or []:
            top = ((thread.get("snippet") or {}).get("topLevelComment") or {}).get("snippet") or {}
            author = (top.get("authorChannelId") or {}).get("value")
            if top.get("textOriginal") == text and author in (None, run.channel_id()):
                return str(thread.get("id"))
        return None

    # -- looking before a retry ------------------------------------------------------------------------------

    def find_published(self, channel: ChannelContext, request: PublishRequest) -> PublishResult | None:
        """From the progress: the video, or the session (complete: the video; not: certainly no video yet, and
        publishing again resumes it). Without progress: the channel's uploads for this exact title and
        description since the first attempt. A video found but not processed (or its comment not out) is None:
        publishing again continues from the progress and repeats nothing."""
        run = _Upload(self, channel, request)
        session_open = not run.state.get("video_id") and run.state.get("session") and run.session_fresh()
        if session_open and (self._ask_session(run) < run.total or not run.state.get("video_id")):
            return None  # the session holds no video yet: publishing again resumes it
        if not run.state.get("video_id"):
            found = self._find_upload(run)
            if found is None:
                return None
            run.state.update({"video_id": found, "uploaded_at": to_rfc3339(self._clock.now())})
            run.record()
        video = self._video(channel, str(run.state["video_id"]))
        if _upload_status(video) != "processed":
            return None
        if request.first_comment and not run.state.get("comment_id"):
            return None
        return run.result(())

    def _find_upload(self, run: _Upload) -> str | None:
        uploads = ((self._my_channel(run.channel, "contentDetails").get("contentDetails") or {})
                   .get("relatedPlaylists") or {}).get("uploads")
        if not uploads:
            raise AmbiguousError("YouTube shows no uploads playlist for this channel; Herald cannot tell")
        body = self._json(self.call(run.channel, "GET", f"{self.api_url}/playlistItems",
                                    params={"part": "snippet", "playlistId": str(uploads), "maxResults": "50"}))
        since = (run.request.first_attempt_at or self._clock.now() - timedelta(days=1)) - LOOK_BACK
        title, description = title_of(run.request, run.options), description_of(run.request)
        matches = []
        for item in body.get("items") or []:
            snippet = item.get("snippet") or {}
            published = moment_of(snippet.get("publishedAt"))
            if (snippet.get("title") == title and snippet.get("description") == description
                    and (published is None or published >= since)):
                matches.append(str((snippet.get("resourceId") or {}).get("videoId") or ""))
        if len(matches) > 1:
            raise AmbiguousError("YouTube lists more than one upload with this title and description")
        return matches[0] or None if matches else None

    # -- what YouTube does not offer here ----------------------------------------------------------------------

    def reply(self, channel: ChannelContext, request: ReplyRequest) -> PublishResult:
        raise PermanentError("answering YouTube comments from the inbox is not supported yet")

    def poll_inbox(self, channel: ChannelContext, cursor: str | None) -> PollResult:
        raise PermanentError("YouTube comments do not reach Herald's inbox yet")

    def fetch_insights(self, channel: ChannelContext, remote_ids: list[str]) -> ChannelInsights:
        raise PermanentError("insights from YouTube are not supported yet")

    @staticmethod
    def _json(response: Any) -> dict[str, Any]:
        body = read_json(response)
        return body if isinstance(body, dict) else {}


class _Upload:
    """One call of `publish` (or `find_published`): the progress it continues and records."""

    def __init__(self, adapter: YouTubeAdapter, channel: ChannelContext, request: PublishRequest) -> None:
        self.adapter = adapter
        self.channel = channel
        self.request = request
        self.options = options_of(request)
        self.state: dict[str, Any] = dict(request.progress) if isinstance(request.progress, Mapping) else {}
        item = request.media[0] if request.media else None
        self.total = int(self.state.get("bytes_total") or (item.size if item and item.size else 0))

    def video(self) -> MediaItem:
        if len(self.request.media) != 1 or self.request.media[0].mime not in VIDEO_TYPES:
            raise PermanentError("YouTube publishes exactly one video per post")
        item = self.request.media[0]
        if item.stream is None or not self.total:
            raise PermanentError("Herald cannot stream this video to YouTube (its bytes or size are unknown)")
        return item

    def channel_id(self) -> str:
        return str(self.channel.settings.get("youtube_channel_id") or "")

    def session_fresh(self) -> bool:
        opened = moment_of(self.state.get("session_opened_at"))
        return opened is None or self.adapter._clock.now() - opened < SESSION_LIFETIME

    def forget_session(self) -> None:
        for key in ("session", "session_opened_at", "offset"):
            self.state.pop(key, None)
        self.record()

    def record(self) -> None:
        self.request.record_progress(self.snapshot())

    def snapshot(self) -> dict[str, Any]:
        return dict(self.state)

    def result(self, warnings: tuple[str, ...]) -> PublishResult:
        video_id = str(self.state["video_id"])
        item = self.request.media[0] if self.request.media else None
        short = self.options.short if self.options.short is not None else bool(item and is_short(item))
        url = f"https://www.youtube.com/shorts/{video_id}" if short else f"https://www.youtube.com/watch?v={video_id}"
        return PublishResult(remote_id=video_id, remote_url=url, published_at=moment_of(self.state.get("uploaded_at")),
                             warnings=warnings)


def rechunked(item: MediaItem, size: int, offset: int) -> Iterator[bytes]:
    """The bytes from `offset` on, in pieces of exactly `size` (the last may be shorter), holding at most one
    piece and one of the stream's chunks in memory."""
    assert item.stream is not None
    skip, buffer = offset, b""
    for part in item.stream(size):
        if skip:
            dropped = min(skip, len(part))
            part, skip = part[dropped:], skip - dropped
        buffer += part
        while len(buffer) >= size:
            yield buffer[:size]
            buffer = buffer[size:]
    if buffer:
        yield buffer


def _received(response: Any) -> int:
    """A 308's `Range: bytes=0-N` is N + 1 bytes held; no Range, none."""
    value = str(response.headers.get("Range") or response.headers.get("range") or "")
    if not value.startswith("bytes=0-"):
        return 0
    try:
        return int(value.removeprefix("bytes=0-")) + 1
    except ValueError:
        return 0


def _upload_status(video: Mapping[str, Any]) -> str:
    status = object_at(video, "status")
    return str(status.get("uploadStatus") or "")


def _processing_problem(video: Mapping[str, Any], status: str) -> str | None:
    details = object_at(video, "status")
    if status == "failed":
        reason = str(details.get("failureReason") or "")
        return f"YouTube could not process the video: {FAILURE_REASONS.get(reason, 'it failed')} ({reason})"
    if status == "rejected":
        reason = str(details.get("rejectionReason") or "")
        return f"YouTube rejected the video because of {REJECTION_REASONS.get(reason, 'its policies')} ({reason})"
    if status == "deleted":
        return "the video was deleted on YouTube before it was processed"
    processing = object_at(video, "processingDetails")
    if processing.get("processingStatus") in ("failed", "terminated"):
        return f"YouTube stopped processing the video ({processing.get('processingFailureReason') or 'failed'})"
    return None


def my_channel(body: Mapping[str, Any]) -> dict[str, Any]:
    items = body.get("items") if isinstance(body.get("items"), list) else []
    found = items[0] if items and isinstance(items[0], Mapping) else {}
    channel_id = str(found.get("id") or "")
    if not (channel_id.startswith("UC") and channel_id.replace("-", "").replace("_", "").isalnum()):
        raise PermanentError("this Google account has no YouTube channel; create one on YouTube first")
    return dict(found)


def make_adapter(http: Any = None, clock: Clock | None = None, *, base_url: str | None = None,
                 upload_url: str | None = None, **kwargs: Any) -> YouTubeAdapter:
    return YouTubeAdapter(http=http, clock=clock, base_url=base_url, upload_url=upload_url, **kwargs)


# -- connecting by OAuth -------------------------------------------------------------------------------------

class YouTubeOAuth(GoogleOAuth):
    """Google's OAuth with YouTube's scopes; the grant's account is the channel `channels.list?mine=true`
    answers (the person picks a brand account's channel on Google's consent screen)."""

    def __init__(self, http: Any = None, *, now: Any, api_url: str | None = None,
                 authorize_url: str | None = None, token_url: str | None = None) -> None:
        super().__init__(http, now=now, network=NETWORK, scopes=SCOPES, authorize_url=authorize_url,
                         token_url=token_url)
        self.api_url = (api_url or API_URL).rstrip("/")

    def granted_accounts(self, app: OAuthApp, grant: TokenGrant) -> list[GrantedAccount]:
        channel = ChannelContext("", "", "youtube", {}, {"access_token": grant.access_token})
        call = GoogleCall(lambda: self.http, self._now, NETWORK, explain_error)
        found = my_channel(YouTubeAdapter._json(call(channel, "GET", f"{self.api_url}/channels",
                                                     params={"part": "snippet", "mine": "true"})))
        snippet = found.get("snippet") or {}
        thumbnails = snippet.get("thumbnails") or {}
        avatar = (thumbnails.get("default") or {}).get("url")
        channel_id = str(found["id"])
        return [GrantedAccount(network="youtube", account_id=channel_id,
                               handle=str(snippet.get("customUrl") or channel_id),
                               name=str(snippet.get("title") or channel_id), credentials=credentials_of(grant),
                               settings={"youtube_channel_id": channel_id}, avatar_url=str(avatar) if avatar else None)]


def make_oauth(http: Any = None, clock: Clock | None = None, *, api_url: str | None = None,
               authorize_url: str | None = None, token_url: str | None = None) -> YouTubeOAuth:
    return YouTubeOAuth(http, now=(clock or SystemClock()).now, api_url=api_url, authorize_url=authorize_url,
                        token_url=token_url)

