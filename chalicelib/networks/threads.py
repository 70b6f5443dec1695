"""Threads (Meta's Threads API): publishing through media containers, inbox replies, insights, and OAuth.

Every post is two steps: create a container (`POST /{user-id}/threads`), wait until Threads has fetched and
processed its media (`status` FINISHED), then publish it (`POST /{user-id}/threads_publish`). A carousel first
creates one container per item (`is_carousel_item`), then the CAROUSEL container naming them. The parts of a
thread after the first are posts with `reply_to_id` = the previous part's published id. Each container and
each published id is recorded in the delivery's progress before the next step, so a retry continues where the
last attempt stopped and never publishes a part twice; the wait is a `StillProcessing`, never a sleep.

Threads fetches media itself, from `MediaItem.public_url`. Sources are cited in tests/events/threads/README.md.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from chalicelib.core.clock import Clock, SystemClock
from chalicelib.networks.base import (
    FIRST_URL,
    AmbiguousError,
    AuthError,
    ChannelContext,
    ChannelInsights,
    ContentProblem,
    GrantedAccount,
    MediaItem,
    NetworkError,
    NetworkLimits,
    OAuthApp,
    PermanentError,
    PollResult,
    PostInsights,
    PublicProfile,
    PublishRequest,
    PublishResult,
    RateBudget,
    ReplyRequest,
    RetryableError,
    StillProcessing,
    TokenGrant,
)
from chalicelib.networks.http_failures import ErrorDetail, array_at, object_at, read_json, send
from chalicelib.networks.webhook import InboxNetworkAdapter

NETWORK = "Threads"
API_URL = "https://graph.threads.net/v1.0"
AUTHORIZE_URL = "https://threads.net/oauth/authorize"
# Publishing and the inbox's replies, reading replies, and the insights fetch_insights reads.
SCOPES = ("threads_basic", "threads_content_publish", "threads_manage_replies", "threads_read_replies",
          "threads_manage_insights")

MAX_TEXT = 500
MIN_CAROUSEL, MAX_CAROUSEL = 2, 20
MAX_LINKS = 5
IMAGE_TYPES = ("image/jpeg", "image/png")
VIDEO_TYPES = ("video/mp4", "video/quicktime")
MAX_IMAGE_BYTES = 8 * 1024 * 1024
MAX_VIDEO_BYTES = 1024 * 1024 * 1024
MAX_VIDEO_SECONDS = 300
MAX_ASPECT = 10.0  # images: at most 10:1; videos: between 0.01:1 and 10:1 (width:height)
MIN_VIDEO_ASPECT = 0.01
MAX_VIDEO_WIDTH = 1920
REPLY_CONTROLS = ("everyone", "accounts_you_follow", "mentioned_only", "parent_post_author_only", "followers_only")
MAX_TOPIC_TAG = 50
OPTIONS = ("reply_control", "topic_tag")

LIMITS = NetworkLimits(
    max_text=MAX_TEXT,
    text_counting="threads",
    max_media=MAX_CAROUSEL,
    media_types=IMAGE_TYPES + VIDEO_TYPES,
    max_media_bytes=MAX_VIDEO_BYTES,  # images are held to 8 MB by content_problems
)

# A profile may publish 250 posts and 1,000 replies in a moving 24 hours, and the app's calls per user scale
# with the account's impressions (4,800 x impressions a day). One account publishes one container flow at a
# time: two at once would race for the same publishing quota and interleave thread parts. Across accounts the
# limits are per app-and-user, so a wide network budget only protects Herald's own workers.
BUDGET = RateBudget(per_account_concurrency=1, per_network_concurrency=20)

# Threads recommends about 30 seconds before publishing a media container, then reading its status once a
# minute; a container left unpublished for 24 hours expires.
FIRST_CHECK_S = 30.0
NEXT_CHECK_S = 60.0
GIVE_UP_PROCESSING_S = 20 * 60
# When the 24-hour publishing quota is used up the post waits: a slot frees as the oldest post leaves the window.
QUOTA_RETRY_S = 3600.0
MEDIA_URL_TTL_S = 6 * 3600  # Threads may fetch the media any time before the container is published
LOOK_BACK = timedelta(minutes=5)
LONG_LIVED_S = 60 * 24 * 3600
MIN_TOKEN_AGE = timedelta(hours=24)  # a long-lived token younger than a day cannot be refreshed

TOKEN_ERROR_CODES = {102, 190}
PERMISSION_ERROR_CODES = {10}
RATE_LIMIT_ERROR_CODES = {4, 17, 32, 613}
TRANSIENT_ERROR_CODES = {1, 2}
DUPLICATE_ERROR_CODE = 506
POLICY_BLOCK_CODE = 368
LINK_LIMIT = "THREADS_API__LINK_LIMIT_EXCEEDED"

# The container errors Threads documents (troubleshooting), said for a person.
CONTAINER_ERRORS = {
    "FAILED_DOWNLOADING_VIDEO": "Threads could not download the video from Herald's link",
    "FAILED_PROCESSING_AUDIO": "Threads could not process the video's audio",
    "FAILED_PROCESSING_VIDEO": "Threads could not process the video",
    "INVALID_ASPEC_RATIO": "the video's aspect ratio is not one Threads accepts (0.01:1 to 10:1)",
    "INVALID_ASPECT_RATIO": "the video's aspect ratio is not one Threads accepts (0.01:1 to 10:1)",
    "INVALID_BIT_RATE": "the video's bit rate is above what Threads accepts (25 Mbps)",
    "INVALID_DURATION": "the video is longer than Threads accepts (5 minutes)",
    "INVALID_FRAME_RATE": "the video's frame rate is not one Threads accepts (23 to 60 FPS)",
    "INVALID_AUDIO_CHANNELS": "the video's audio has more channels than Threads accepts (mono or stereo)",
    "INVALID_AUDIO_CHANNEL_LAYOUT": "the video's audio channel layout is not one Threads accepts",
    "UNKNOWN": "Threads could not process the media",
}

URL_PATTERN = re.compile(r"(?:https?://|www\.)[^\s]+", re.IGNORECASE)
TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%S%z"  # "2023-10-17T05:42:03+0000"


# -- counting and rules ----------------------------------------------------------------------------------------

def count_text(text: str) -> int:
    """Threads' 500: characters (grapheme clusters), but an emoji counts as its number of UTF-8 bytes."""
    import regex

    total = 0
    for cluster in regex.findall(r"\X", text):
        if regex.search(r"[\p{Extended_Pictographic}\p{Regional_Indicator}]", cluster):
            total += len(cluster.encode("utf-8"))
        else:
            total += 1
    return total


def links_in(text: str, link: str | None = None) -> set[str]:
    """The unique links Threads counts: every URL of the text, and a link attachment that is not among them."""
    found = {match.rstrip(".,;:!?)") for match in URL_PATTERN.findall(text)}
    if link:
        found.add(link)
    return found


def content_problems(request: PublishRequest) -> list[ContentProblem]:
    problems = _post_problems("", request.text, request.media, request.link)
    for index, part in enumerate(request.thread):  # `thread.N` as the post names it (X's too)
        problems += _post_problems(f"thread.{index}.", part.text, part.media, None)
    if request.first_comment:
        problems.append(ContentProblem("first_comment", "Threads has no first comment; add a thread part instead"))
    problems += _option_problems(request.options)
    return problems


def _post_problems(prefix: str, text: str, media: Sequence[MediaItem], link: str | None) -> list[ContentProblem]:
    problems: list[ContentProblem] = []
    length = count_text(text)
    if length > MAX_TEXT:
        problems.append(ContentProblem(f"{prefix}text", f"is {length} characters long; Threads allows {MAX_TEXT} "
                                                        "(an emoji counts as its UTF-8 bytes, up to 4 each)"))
    if not text.strip() and not media:
        problems.append(ContentProblem(f"{prefix}text", "Threads needs text, an image or a video"))
    if len(links_in(text, link)) > MAX_LINKS:
        problems.append(ContentProblem(f"{prefix}text", f"Threads refuses a post with more than {MAX_LINKS} links"))
    if link and media:
        problems.append(ContentProblem(f"{prefix}link", "Threads attaches a link only to a post without images "
                                                        "or video; put the link in the text instead"))
    if len(media) > MAX_CAROUSEL:
        problems.append(ContentProblem(f"{prefix}media", f"has {len(media)} items; a Threads carousel takes "
                                                         f"{MIN_CAROUSEL} to {MAX_CAROUSEL}"))
    for index, item in enumerate(media):
        problems += [ContentProblem(f"{prefix}media.{index}", message) for message in _media_problems(item)]
    return problems


def _media_problems(item: MediaItem) -> list[str]:
    if item.mime in IMAGE_TYPES:
        return _image_problems(item)
    if item.mime in VIDEO_TYPES:
        return _video_problems(item)
    return [f"{item.mime} is not accepted by Threads (JPEG or PNG images, MP4 or MOV videos)"]


def _image_problems(item: MediaItem) -> list[str]:
    problems = []
    if item.size is not None and item.size > MAX_IMAGE_BYTES:
        problems.append("is larger than the 8 MB Threads accepts for an image")
    ratio = _aspect(item)
    if ratio is not None and max(ratio, 1 / ratio) > MAX_ASPECT:
        problems.append("has an aspect ratio beyond the 10:1 Threads accepts for an image")
    return problems


def _video_problems(item: MediaItem) -> list[str]:
    problems = []
    if item.size is not None and item.size > MAX_VIDEO_BYTES:
        problems.append("is larger than the 1 GB Threads accepts for a video")
    if item.duration_s is not None and not 0 < item.duration_s <= MAX_VIDEO_SECONDS:
        problems.append("lasts longer than the 5 minutes Threads accepts for a video (or has no length)")
    ratio = _aspect(item)
    if ratio is not None and not MIN_VIDEO_ASPECT <= ratio <= MAX_ASPECT:
        problems.append("has an aspect ratio outside the 0.01:1 to 10:1 Threads accepts for a video")
    if item.width is not None and item.width > MAX_VIDEO_WIDTH:
        problems.append(f"is wider than the {MAX_VIDEO_WIDTH} pixels Threads accepts for a video")
    return problems


def _aspect(item: MediaItem) -> float | None:
    if item.width and item.height:
        return item.width / item.height
    return None


def _option_problems(options: Mapping[str, Any]) -> list[ContentProblem]:
    problems = [ContentProblem(f"options.{key}", f"is not a Threads option ({', '.join(OPTIONS)})")
                for key in options if key not in OPTIONS]
    control = options.get("reply_control")
    if control is not None and control not in REPLY_CONTROLS:
        problems.append(ContentProblem("options.reply_control", f"must be one of {', '.join(REPLY_CONTROLS)}"))
    tag = options.get("topic_tag")
    if tag is not None and (not isinstance(tag, str) or not 1 <= len(tag) <= MAX_TOPIC_TAG
                            or "." in tag or "&" in tag):
        problems.append(ContentProblem("options.topic_tag", f"a Threads topic is 1 to {MAX_TOPIC_TAG} characters "
                                                            "without periods or ampersands"))
    return problems


# -- errors ----------------------------------------------------------------------------------------------------

def explain_error(response: Any) -> ErrorDetail:
    """Threads answers Graph API errors: `{"error": {"message", "type", "code", "error_subcode", ...}}`."""
    body = read_json(response)
    error = body.get("error") if isinstance(body, Mapping) else None
    if not isinstance(error, Mapping):
        return ErrorDetail(text=(getattr(response, "text", "") or "")[:300])
    code = error.get("code")
    text = str(error.get("error_user_msg") or error.get("message") or "")
    if code in TOKEN_ERROR_CODES or code in PERMISSION_ERROR_CODES or (isinstance(code, int) and 200 <= code < 300):
        return ErrorDetail(text=text, auth=True)
    if code in RATE_LIMIT_ERROR_CODES or code in TRANSIENT_ERROR_CODES or error.get("is_transient") is True:
        return ErrorDetail(text=text, rate_limited=True)
    if LINK_LIMIT in json.dumps(error):
        return ErrorDetail(text=f"Threads refuses a post with more than {MAX_LINKS} links", not_auth=True)
    if code == DUPLICATE_ERROR_CODE:
        return ErrorDetail(text=f"Threads refused a duplicate of a post already published ({text})", not_auth=True)
    if code == POLICY_BLOCK_CODE:
        return ErrorDetail(text=f"Threads has blocked this account from posting for now ({text})", not_auth=True)
    return ErrorDetail(text=text, not_auth=True)


def _explain_refresh_error(response: Any) -> ErrorDetail:
    """Only an invalid or expired token (190) means the channel must be reconnected; anything else is retried."""
    detail = explain_error(response)
    body = read_json(response)
    error = body.get("error") if isinstance(body, Mapping) else None
    code = error.get("code") if isinstance(error, Mapping) else None
    if code in TOKEN_ERROR_CODES:
        return ErrorDetail(text=detail.text, auth=True)
    return ErrorDetail(text=detail.text, rate_limited=True)


# -- the publishing flow ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Post:
    """The root (index 0) or a later part of a thread."""

    index: int
    text: str
    media: tuple[MediaItem, ...]
    link: str | None


class _Publishing:
    """One call of `publish`: the progress it continues and records, and the quota it read."""

    def __init__(self, adapter: ThreadsAdapter, channel: ChannelContext, request: PublishRequest) -> None:
        self.adapter = adapter
        self.channel = channel
        self.request = request
        self.user_id = adapter.user_id(channel)
        recorded = request.progress.get("posts") if isinstance(request.progress, Mapping) else None
        self.state: dict[str, Any] = {"posts": [dict(step) for step in recorded] if isinstance(recorded, list) else []}
        self.quota: dict[str, int] | None = None

    def step(self, index: int) -> dict[str, Any]:
        posts: list[dict[str, Any]] = self.state["posts"]
        while len(posts) <= index:
            posts.append({})
        return posts[index]

    def record(self) -> None:
        self.request.record_progress(self.snapshot())

    def snapshot(self) -> dict[str, Any]:
        return {"posts": [dict(step) for step in self.state["posts"]]}

    def call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        return self.adapter.call(self.channel, method, path, **kwargs)


class ThreadsAdapter(InboxNetworkAdapter):
    """Credentials: `access_token` (a long-lived Threads user token). Settings: `threads_user_id`."""

    network = "threads"
    limits = LIMITS

    def __init__(self, http: Any = None, clock: Clock | None = None, *, base_url: str | None = None) -> None:
        super().__init__(http, clock or SystemClock())
        # HERALD_THREADS_API_URL (settings.py): the Graph host with its version.
        self.api_url = (base_url or API_URL).rstrip("/")

    # -- the account ------------------------------------------------------------------------------------------

    def describe_account(self, channel: ChannelContext) -> dict[str, str]:
        body = self.call(channel, "GET", "/me", params={"fields": "id,username"})
        user_id = _graph_id(body.get("id"))
        if not user_id:
            raise PermanentError("Threads returned no user id for this token")
        return {"handle": str(body.get("username") or user_id), "account_id": user_id}

    def read_profile(self, channel: ChannelContext) -> PublicProfile:
        """GET /me with `name`, `threads_biography`, `threads_profile_picture_url` (Threads profiles have no
        link field: the first address in the biography stands for it)."""
        body = self.call(channel, "GET", "/me",
                         params={"fields": "id,username,name,threads_biography,threads_profile_picture_url"})
        bio = str(body.get("threads_biography") or "")
        link = re.search(FIRST_URL, bio)
        return PublicProfile(display_name=body.get("name") or body.get("username"), bio=bio or None,
                             link=link.group(0) if link else None,
                             avatar_url=body.get("threads_profile_picture_url"), handle=body.get("username"))

    def user_id(self, channel: ChannelContext) -> str:
        return _graph_id(channel.settings.get("threads_user_id")) or "me"

    def content_problems(self, request: PublishRequest) -> list[ContentProblem]:
        return content_problems(request)

    # -- publishing -------------------------------------------------------------------------------------------

    def publish(self, channel: ChannelContext, request: PublishRequest) -> PublishResult:
        run = _Publishing(self, channel, request)
        posts = [_Post(0, request.text, tuple(request.media), request.link)]
        posts += [_Post(i, part.text, tuple(part.media), None) for i, part in enumerate(request.thread, start=1)]
        reply_to: str | None = None
        for post in posts:
            step = run.step(post.index)
            if not step.get("id"):
                self._publish_post(run, post, reply_to)
            reply_to = str(step["id"])
        return _result(run.step(0))

    def _publish_post(self, run: _Publishing, post: _Post, reply_to: str | None) -> None:
        step = run.step(post.index)
        step.setdefault("started_at", self._clock.now().isoformat())
        if len(post.media) > 1:
            self._carousel_items(run, post)
        if not step.get("container"):
            step["container"] = self._create_container(run, post, reply_to)
            step["created_at"] = self._clock.now().isoformat()
            run.record()
        status = self._ready(run, step, str(step["container"]))
        if status == "PUBLISHED":  # an earlier attempt published it and its answer was lost
            found = self._locate(run, post.text, reply_to, _moment(step.get("created_at")))
            if found is None:
                raise AmbiguousError("Threads says this post was published but does not list it yet")
            self._keep_published(run, step, found)
            return
        self._take_quota(run, is_reply=reply_to is not None)
        body = run.call("POST", f"/{run.user_id}/threads_publish", data={"creation_id": step["container"]})
        published_id = _graph_id(body.get("id"))
        if not published_id:
            raise AmbiguousError("Threads accepted the publish but returned no post id")
        self._keep_published(run, step, {"id": published_id})

    def _keep_published(self, run: _Publishing, step: dict[str, Any], found: Mapping[str, Any]) -> None:
        step["id"] = str(found["id"])
        step["published_at"] = self._clock.now().isoformat()
        if found.get("permalink"):
            step["permalink"] = str(found["permalink"])
        run.record()  # before anything else: the next part replies to this id, and a retry must not repeat it
        if "permalink" not in step and step is run.step(0):
            step["permalink"] = self._permalink(run, step["id"])
            if step["permalink"]:
                run.record()

    def _permalink(self, run: _Publishing, media_id: str) -> str | None:
        try:
            body = run.call("GET", f"/{media_id}", params={"fields": "permalink"})
        except NetworkError:
            return None  # the post is out; its link is only a convenience
        return str(body["permalink"]) if body.get("permalink") else None

    def _carousel_items(self, run: _Publishing, post: _Post) -> None:
        step = run.step(post.index)
        items: list[str] = list(step.get("items") or [])
        for item in post.media[len(items):]:
            fields = {"is_carousel_item": "true", **self._media_fields(item)}
            items.append(self._container_id(run.call("POST", f"/{run.user_id}/threads", data=fields)))
            step["items"] = list(items)
            run.record()
        ready: list[str] = list(step.get("items_ready") or [])
        for item_id in items:
            if item_id in ready:
                continue
            status = self._ready(run, step, item_id)
            if status != "FINISHED":
                raise PermanentError(f"Threads says carousel item {item_id} is {status.lower()}, not ready")
            ready.append(item_id)
            step["items_ready"] = list(ready)

    def _create_container(self, run: _Publishing, post: _Post, reply_to: str | None) -> str:
        fields: dict[str, str] = {}
        if len(post.media) > 1:
            fields = {"media_type": "CAROUSEL", "children": ",".join(run.step(post.index)["items"])}
        elif post.media:
            fields = self._media_fields(post.media[0])
        else:
            if not post.text.strip():
                raise PermanentError("Threads needs text, an image or a video")
            fields = {"media_type": "TEXT"}
            if post.link:
                fields["link_attachment"] = post.link
        if post.text:
            fields["text"] = post.text
        if reply_to:
            fields["reply_to_id"] = reply_to
        fields |= self._options(run.request.options, root=post.index == 0)
        return self._container_id(run.call("POST", f"/{run.user_id}/threads", data=fields))

    def _media_fields(self, item: MediaItem) -> dict[str, str]:
        url = item.public_url(MEDIA_URL_TTL_S) if item.public_url else item.url
        if not url:
            raise PermanentError("Threads fetches media from a public link, and this media has none")
        if item.mime in VIDEO_TYPES:
            fields = {"media_type": "VIDEO", "video_url": url}
        elif item.mime in IMAGE_TYPES:
            fields = {"media_type": "IMAGE", "image_url": url}
        else:
            raise PermanentError(f"Threads does not accept {item.mime} media")
        if item.alt:
            fields["alt_text"] = item.alt
        return fields

    @staticmethod
    def _options(options: Mapping[str, Any], *, root: bool) -> dict[str, str]:
        fields = {}
        if options.get("reply_control"):
            fields["reply_control"] = str(options["reply_control"])
        if root and options.get("topic_tag"):
            fields["topic_tag"] = str(options["topic_tag"])
        return fields

    @staticmethod
    def _container_id(body: Mapping[str, Any]) -> str:
        container = _graph_id(body.get("id"))
        if not container:
            raise PermanentError("Threads accepted the media but returned no container id")
        return container

    def _ready(self, run: _Publishing, step: dict[str, Any], container: str) -> str:
        """FINISHED or PUBLISHED; StillProcessing while Threads works on it; a clear failure when it cannot."""
        body = run.call("GET", f"/{container}", params={"fields": "status,error_message"})
        status = str(body.get("status") or "")
        if status in ("FINISHED", "PUBLISHED"):
            return status
        if status == "ERROR":
            code = str(body.get("error_message") or "UNKNOWN")
            reason = CONTAINER_ERRORS.get(code, CONTAINER_ERRORS["UNKNOWN"])
            raise PermanentError(f"Threads refused the media: {reason} ({code})")
        if status == "EXPIRED":
            raise PermanentError("Threads let the media expire: it was not published within 24 hours")
        started = _moment(step.get("started_at")) or self._clock.now()
        if (self._clock.now() - started).total_seconds() > GIVE_UP_PROCESSING_S:
            raise PermanentError(f"Threads was still processing the media after {GIVE_UP_PROCESSING_S // 60} "
                                 "minutes; try a shorter or smaller video")
        checks = int(step.get("checks") or 0)
        step["checks"] = checks + 1
        raise StillProcessing(f"Threads is processing the media ({status or 'no status yet'})",
                              progress=run.snapshot(), check_after_s=FIRST_CHECK_S if checks == 0 else NEXT_CHECK_S)

    def _take_quota(self, run: _Publishing, *, is_reply: bool) -> None:
        """Threads enforces 250 posts and 1,000 replies a moving day on threads_publish: a used-up quota
        defers the post (RetryableError) instead of failing it."""
        if run.quota is None:
            body = run.call("GET", f"/{run.user_id}/threads_publishing_limit",
                            params={"fields": "quota_usage,config,reply_quota_usage,reply_config"})
            run.quota = _quota_left(body)
        kind = "replies" if is_reply else "posts"
        if run.quota[kind] <= 0:
            raise RetryableError(f"this Threads profile has used its publishing limit for the last 24 hours "
                                 f"({kind}); the post waits until it frees up", retry_after_s=QUOTA_RETRY_S)
        run.quota[kind] -= 1

    # -- looking before a retry -------------------------------------------------------------------------------

    def find_published(self, channel: ChannelContext, request: PublishRequest) -> PublishResult | None:
        """The root is found from its container's status (PUBLISHED or not) and, when published or when no
        container was recorded, by its exact text in the account's recent posts. When the root is out but
        thread parts are not, None: publishing again continues the thread from the progress and repeats
        nothing (a part whose container says PUBLISHED is looked up, never published twice)."""
        run = _Publishing(self, channel, request)
        root = run.step(0)
        since = request.first_attempt_at or _moment(root.get("created_at"))
        if not root.get("id"):
            if root.get("container"):
                body = run.call("GET", f"/{root['container']}", params={"fields": "status"})
                if body.get("status") != "PUBLISHED":
                    return None  # a container only reaches the account through threads_publish
            # Without a container nothing of ours can be out; an exact text is still looked for, in case the
            # progress was lost (a post without text has no marker to look for).
            found = self._locate(run, request.text, None, since) if request.text else None
            if found is None:
                if root.get("container"):
                    raise AmbiguousError("Threads says the post was published but does not list it yet")
                return None
            self._keep_published(run, root, found)
        parts_done = all(run.step(i).get("id") for i in range(1, len(request.thread) + 1))
        return _result(root) if parts_done else None

    def _locate(self, run: _Publishing, text: str, reply_to: str | None,
                since: datetime | None) -> dict[str, Any] | None:
        """The account's post (or reply to `reply_to`) with exactly this text, published since `since`."""
        start = (since or self._clock.now() - timedelta(days=1)) - LOOK_BACK
        edge = "replies" if reply_to else "threads"
        fields = "id,text,timestamp,permalink" + (",replied_to" if reply_to else "")
        body = run.call("GET", f"/{run.user_id}/{edge}",
                        params={"fields": fields, "since": str(int(start.timestamp())), "limit": "100"})
        items = array_at(body, "data")
        matches = [item for item in items if isinstance(item, Mapping) and _same_post(item, text, reply_to, start)]
        if len(matches) > 1:
            raise AmbiguousError("Threads lists more than one post with this exact text; Herald cannot tell which")
        if matches:
            return dict(matches[0])
        if (body.get("paging") or {}).get("next"):
            raise AmbiguousError("Threads lists more recent posts than Herald read; it cannot tell")
        return None

    # -- the inbox and insights -------------------------------------------------------------------------------

    def reply(self, channel: ChannelContext, request: ReplyRequest) -> PublishResult:
        """A reply is a text post with `reply_to_id`, published like any other (text needs no processing)."""
        if request.kind == "message":
            raise PermanentError("Threads has no direct messages Herald can answer")
        user_id = self.user_id(channel)
        target = str(request.thread.get("reply_to_id") or request.in_reply_to)
        created = self.call(channel, "POST", f"/{user_id}/threads",
                            data={"media_type": "TEXT", "text": request.text, "reply_to_id": target})
        body = self.call(channel, "POST", f"/{user_id}/threads_publish",
                         data={"creation_id": self._container_id(created)})
        reply_id = _graph_id(body.get("id"))
        if not reply_id:
            raise AmbiguousError("Threads accepted the reply but returned no id")
        return PublishResult(remote_id=reply_id, published_at=self._clock.now())

    def poll_inbox(self, channel: ChannelContext, cursor: str | None) -> PollResult:
        raise PermanentError("Threads replies reach Herald by webhook (not wired yet); there is nothing to poll")

    def fetch_insights(self, channel: ChannelContext, remote_ids: list[str]) -> ChannelInsights:
        user_id = self.user_id(channel)
        followers = _metric(self.call(channel, "GET", f"/{user_id}/threads_insights",
                                      params={"metric": "followers_count"}), "followers_count")
        posts = []
        for remote_id in remote_ids:
            try:
                body = self.call(channel, "GET", f"/{remote_id}/insights",
                                 params={"metric": "likes,replies,reposts,views"})
            except PermanentError:
                continue  # deleted since, or not ours: the others still count
            posts.append(PostInsights(remote_id=remote_id, likes=_metric(body, "likes"),
                                      reposts=_metric(body, "reposts"), replies=_metric(body, "replies"),
                                      impressions=_metric(body, "views")))
        return ChannelInsights(followers=followers, posts=posts)

    # -- HTTP -------------------------------------------------------------------------------------------------

    def call(self, channel: ChannelContext, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        token = channel.credentials.get("access_token")
        if not token:
            raise AuthError("the Threads channel has no access token")
        response = send(self.http, method, f"{self.api_url}{path}", network=NETWORK, explain=explain_error,
                        headers={"Authorization": f"Bearer {token}"}, now=self._clock.now, **kwargs)
        body = read_json(response)
        return body if isinstance(body, dict) else {}


def _result(root: Mapping[str, Any]) -> PublishResult:
    return PublishResult(remote_id=str(root["id"]), remote_url=root.get("permalink"),
                         published_at=_moment(root.get("published_at")))


def _same_post(item: Mapping[str, Any], text: str, reply_to: str | None, start: datetime) -> bool:
    if str(item.get("text") or "") != text:
        return False
    moment = _timestamp(item.get("timestamp"))
    if moment is not None and moment < start:
        return False
    if reply_to:
        replied_to = item.get("replied_to")
        if isinstance(replied_to, Mapping) and str(replied_to.get("id")) != reply_to:
            return False
    return True


def _quota_left(body: Mapping[str, Any]) -> dict[str, int]:
    data = body.get("data")
    entry = data[0] if isinstance(data, list) and data and isinstance(data[0], Mapping) else {}

    def left(usage_key: str, config_key: str, default_total: int) -> int:
        config = object_at(entry, config_key)
        total = _whole(config.get("quota_total"), default_total)
        return total - _whole(entry.get(usage_key), 0)

    return {"posts": left("quota_usage", "config", 250), "replies": left("reply_quota_usage", "reply_config", 1000)}


def _metric(body: Mapping[str, Any], name: str) -> int | None:
    """A metric of `{"data": [{"name", "values": [{"value"}]}]}` or `{"total_value": {"value"}}`."""
    for entry in body.get("data") or []:
        if not isinstance(entry, Mapping) or entry.get("name") != name:
            continue
        total = entry.get("total_value")
        if isinstance(total, Mapping):
            return _whole(total.get("value"), None)
        values = entry.get("values")
        if isinstance(values, list) and values and isinstance(values[-1], Mapping):
            return _whole(values[-1].get("value"), None)
    return None


def _whole(value: Any, default: Any) -> Any:
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def _graph_id(value: Any) -> str:
    """A Threads id: digits only, so nothing else can become a channel's account key or a path."""
    text = str(value) if isinstance(value, (str, int)) and not isinstance(value, bool) else ""
    return text if text.isascii() and text.isdigit() else ""


def _moment(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _timestamp(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.strptime(value, TIMESTAMP_FORMAT)
    except ValueError:
        return _moment(value)


def make_adapter(http: Any = None, clock: Clock | None = None, *, base_url: str | None = None) -> ThreadsAdapter:
    return ThreadsAdapter(http=http, clock=clock, base_url=base_url)


# -- connecting by OAuth ---------------------------------------------------------------------------------------

class ThreadsOAuth:
    """The Authorization Window, the code exchange (a short-lived token, at once exchanged for a 60-day one) and
    the refresh of that long-lived token. Threads documents no PKCE: `code_challenge` is not sent, and there is
    no refresh token: the access token itself is refreshed while valid and at least a day old."""

    supports_pkce = False

    def __init__(self, http: Any = None, clock: Clock | None = None, *, api_url: str | None = None,
                 authorize_url: str | None = None) -> None:
        self._http = http
        self._clock = clock or SystemClock()
        self.api_url = (api_url or API_URL).rstrip("/")
        # The token endpoints are on the Graph host without the version: graph.threads.net/oauth/access_token.
        self.oauth_url = re.sub(r"/v\d+(\.\d+)?$", "", self.api_url)
        self.authorize_endpoint = authorize_url or AUTHORIZE_URL

    @property
    def http(self) -> Any:
        if self._http is None:
            import requests

            self._http = requests.Session()
        return self._http

    def authorize_url(self, app: OAuthApp, redirect_uri: str, state: str, code_challenge: str | None = None) -> str:
        query = {"client_id": app.client_id, "redirect_uri": redirect_uri, "scope": ",".join(SCOPES),
                 "response_type": "code", "state": state}
        return f"{self.authorize_endpoint}?{urlencode(query)}"

    def exchange_code(self, app: OAuthApp, code: str, redirect_uri: str,
                      code_verifier: str | None = None) -> TokenGrant:
        short = self._json(send(self.http, "POST", f"{self.oauth_url}/oauth/access_token", network=NETWORK,
                                explain=explain_error, now=self._clock.now,
                                data={"client_id": app.client_id, "client_secret": app.client_secret,
                                      "grant_type": "authorization_code", "redirect_uri": redirect_uri,
                                      "code": code}))
        short_token = str(short.get("access_token") or "")
        if not short_token:
            raise PermanentError("Threads answered the code exchange without an access token")
        long = self._json(send(self.http, "GET", f"{self.oauth_url}/access_token", network=NETWORK,
                               explain=explain_error, now=self._clock.now,
                               params={"grant_type": "th_exchange_token", "client_secret": app.client_secret,
                                       "access_token": short_token}))
        extra = {"user_id": str(short["user_id"])} if short.get("user_id") is not None else {}
        return self._grant(long, extra)

    def refresh(self, app: OAuthApp, credentials: Mapping[str, Any]) -> TokenGrant:
        token = str(credentials.get("access_token") or "")
        if not token:
            raise AuthError("the Threads channel has no access token to refresh")
        expires_at = _moment(credentials.get("expires_at"))
        if expires_at is not None:
            age = timedelta(seconds=LONG_LIVED_S) - (expires_at - self._clock.now())
            if age < MIN_TOKEN_AGE:
                raise RetryableError("a Threads token can be refreshed once it is a day old",
                                     retry_after_s=(MIN_TOKEN_AGE - age).total_seconds())
        body = self._json(send(self.http, "GET", f"{self.oauth_url}/refresh_access_token", network=NETWORK,
                               explain=_explain_refresh_error, now=self._clock.now,
                               params={"grant_type": "th_refresh_token", "access_token": token}))
        return self._grant(body, {})

    def granted_accounts(self, app: OAuthApp, grant: TokenGrant) -> list[GrantedAccount]:
        body = self._json(send(self.http, "GET", f"{self.api_url}/me", network=NETWORK, explain=explain_error,
                               now=self._clock.now, headers={"Authorization": f"Bearer {grant.access_token}"},
                               params={"fields": "id,username,name,threads_profile_picture_url"}))
        user_id = _graph_id(body.get("id"))
        if not user_id:
            raise PermanentError("Threads returned no user id for this grant")
        handle = str(body.get("username") or user_id)
        credentials: dict[str, Any] = {"access_token": grant.access_token}
        if grant.expires_at is not None:
            credentials["expires_at"] = grant.expires_at.isoformat()
        return [GrantedAccount(network="threads", account_id=user_id, handle=handle,
                               name=str(body.get("name") or handle), credentials=credentials,
                               settings={"threads_user_id": user_id},
                               avatar_url=body.get("threads_profile_picture_url") or None)]

    def _grant(self, body: Mapping[str, Any], extra: Mapping[str, Any]) -> TokenGrant:
        token = str(body.get("access_token") or "")
        if not token:
            raise RetryableError("Threads answered without an access token")
        expires_in = _whole(body.get("expires_in"), None)
        expires_at = self._clock.now() + timedelta(seconds=expires_in) if expires_in else None
        return TokenGrant(access_token=token, expires_at=expires_at, scopes=SCOPES,
                          extra={"token_type": body.get("token_type") or "bearer", **extra})

    @staticmethod
    def _json(response: Any) -> dict[str, Any]:
        body = read_json(response)
        return body if isinstance(body, dict) else {}


def make_oauth(http: Any = None, clock: Clock | None = None, *, api_url: str | None = None,
               authorize_url: str | None = None) -> ThreadsOAuth:
    return ThreadsOAuth(http=http, clock=clock, api_url=api_url, authorize_url=authorize_url)
