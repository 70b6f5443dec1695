"""Publishing to a Facebook Page and to an Instagram professional account through the Graph API.

Both are multi-step: each step that creates something remote (an unpublished photo, a video, a container, the
post, the first comment) is recorded with `request.record_progress` before the next is taken, and a later call
with that progress continues where the last one stopped. Waiting for Meta (a container or a video still being
processed) is `StillProcessing`, never a sleep. Meta fetches the media itself from `MediaItem.public_url`
(a short-lived presigned URL), so no bytes pass through Herald.

The documents each step follows are cited in tests/events/meta/README.md ("Publishing").
"""
from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from chalicelib.networks.base import (
    AmbiguousError,
    AuthError,
    ContentProblem,
    MediaItem,
    NetworkError,
    PermanentError,
    PublishRequest,
    PublishResult,
    RetryableError,
    StillProcessing,
)
from chalicelib.networks.http_failures import object_at

# How long Meta has to fetch a medium from its presigned URL (Instagram fetches at container creation, video
# processing may fetch later): an hour covers both without leaving a URL alive for days.
MEDIA_URL_LIFETIME_S = 3600
IMAGE_CHECK_AFTER_S = 5.0
VIDEO_CHECK_AFTER_S = 30.0
# A post's time on the network and Herald's clock may differ a little; look this far before the first attempt.
CLOCK_SKEW = timedelta(minutes=5)
RECENT_POSTS = 25
QUOTA_FALLBACK_WAIT_S = 3600.0

MIB = 1024 * 1024
FACEBOOK_MAX_TEXT = 63206
FACEBOOK_MAX_PHOTOS = 10
FACEBOOK_PHOTO_TYPES = ("image/jpeg", "image/png", "image/gif", "image/bmp", "image/tiff")
FACEBOOK_PHOTO_BYTES = 4 * MIB
FACEBOOK_VIDEO_TYPES = ("video/mp4", "video/quicktime")
FACEBOOK_VIDEO_BYTES = 1024 * MIB
FACEBOOK_VIDEO_MAX_S = 20 * 60
FACEBOOK_COMMENT_MAX = 8000

INSTAGRAM_MAX_TEXT = 2200
INSTAGRAM_MAX_HASHTAGS = 30
INSTAGRAM_MAX_MENTIONS = 20
INSTAGRAM_CAROUSEL = (2, 10)
INSTAGRAM_IMAGE_TYPES = ("image/jpeg",)
INSTAGRAM_IMAGE_BYTES = 8 * MIB
INSTAGRAM_IMAGE_RATIO = (4 / 5, 1.91)
INSTAGRAM_VIDEO_TYPES = ("video/mp4", "video/quicktime")
INSTAGRAM_REEL_BYTES = 300 * MIB
INSTAGRAM_REEL_SECONDS = (3.0, 15 * 60.0)
INSTAGRAM_CAROUSEL_VIDEO_SECONDS = (3.0, 60.0)
INSTAGRAM_COMMENT_MAX = 2200

HASHTAG = re.compile(r"(?<![\w&])#\w+")
MENTION = re.compile(r"(?<![\w])@[\w.]+")


class Graph(Protocol):
    """One Graph call with the channel's token; the body of a 2xx answer, or a NetworkError."""

    def __call__(self, method: str, path: str, *, params: Mapping[str, Any] | None = None,
                 json: Mapping[str, Any] | None = None) -> dict[str, Any]: ...


@dataclass
class Steps:
    """The progress of one delivery: what earlier attempts recorded, extended and persisted step by step."""

    request: PublishRequest

    def __post_init__(self) -> None:
        self.done: dict[str, Any] = dict(self.request.progress)

    def get(self, key: str, default: Any = None) -> Any:
        return self.done.get(key, default)

    def record(self, **facts: Any) -> None:
        # Lists are copied: what was persisted must not change when the next step appends to them.
        self.done.update({key: list(value) if isinstance(value, list) else value for key, value in facts.items()})
        self.request.record_progress({key: list(v) if isinstance(v, list) else v for key, v in self.done.items()})


def media_url(item: MediaItem) -> str:
    if item.public_url is not None:
        return item.public_url(MEDIA_URL_LIFETIME_S)
    if item.url:
        return item.url
    raise PermanentError("a medium has no URL Meta could fetch it from")


def is_video(item: MediaItem) -> bool:
    return item.mime.startswith("video/")


def graph_id(body: Mapping[str, Any], key: str = "id") -> str:
    value = body.get(key)
    text = str(value) if isinstance(value, (str, int)) and not isinstance(value, bool) else ""
    if not text or not all(ch.isdigit() or ch == "_" for ch in text):
        raise PermanentError(f"Meta answered without a usable {key}")
    return text


def parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def with_first_comment(graph: Graph, steps: Steps, object_id: str, text: str | None,
                       network: str) -> tuple[str, ...]:
    """The first comment under the post once it is out, at most once. A refusal does not undo a published
    post: it comes back as a warning; only a transient failure is raised, for the engine to retry."""
    if not text or steps.get("first_comment_id"):
        return ()
    try:
        body = graph("POST", f"{object_id}/comments", json={"message": text})
    except RetryableError:
        raise
    except (PermanentError, AuthError, AmbiguousError) as exc:
        return (f"the post is out but {network} did not take its first comment: {exc.message}",)
    steps.record(first_comment_id=graph_id(body))
    return ()


# -- Facebook Pages --------------------------------------------------------------------------------------------


class FacebookPublisher:
    """A Page post: text, a link, one photo, many photos (unpublished uploads attached to one feed post),
    or a video fetched by Meta from `file_url`; then the first comment."""

    def __init__(self, graph: Graph, page_id: str, now: Callable[[], datetime]) -> None:
        self.graph = graph
        self.page_id = page_id
        self.now = now

    def publish(self, request: PublishRequest) -> PublishResult:
        steps = Steps(request)
        post_id = steps.get("post_id") or self._post(request, steps)
        warnings = with_first_comment(self.graph, steps, post_id, request.first_comment, "Facebook")
        return self._result(post_id, steps, warnings)

    def _post(self, request: PublishRequest, steps: Steps) -> str:
        media = request.media
        if media and is_video(media[0]):
            return self._video(request, steps)
        if len(media) == 1:
            body = self.graph("POST", f"{self.page_id}/photos", json=_photo(media[0], request.text, published=True))
            post_id = graph_id(body, "post_id") if body.get("post_id") else graph_id(body)
        elif media:
            post_id = self._photos_post(request, steps)
        else:
            fields: dict[str, Any] = {"message": request.text}
            if request.link:
                fields["link"] = request.link
            post_id = graph_id(self.graph("POST", f"{self.page_id}/feed", json=fields))
        steps.record(post_id=post_id)
        return post_id

    def _photos_post(self, request: PublishRequest, steps: Steps) -> str:
        photo_ids = list(steps.get("photo_ids", []))
        for item in request.media[len(photo_ids):]:
            body = self.graph("POST", f"{self.page_id}/photos", json=_photo(item, None, published=False))
            photo_ids.append(graph_id(body))
            steps.record(photo_ids=photo_ids)
        attached = [{"media_fbid": photo_id} for photo_id in photo_ids]
        body = self.graph("POST", f"{self.page_id}/feed", json={"message": request.text, "attached_media": attached})
        return graph_id(body)

    def _video(self, request: PublishRequest, steps: Steps) -> str:
        video_id = steps.get("video_id")
        if not video_id:
            body = self.graph("POST", f"{self.page_id}/videos",
                              json={"file_url": media_url(request.media[0]), "description": request.text})
            video_id = graph_id(body)
            steps.record(video_id=video_id)
        status = self.graph("GET", video_id, params={"fields": "status"}).get("status")
        status = status if isinstance(status, Mapping) else {}
        state = status.get("video_status")
        if state == "error":
            raise PermanentError(f"Facebook could not process the video ({_video_error(status)})")
        if state != "ready":
            raise StillProcessing("Facebook is processing the video", progress=steps.done,
                                  check_after_s=VIDEO_CHECK_AFTER_S)
        steps.record(post_id=video_id)
        return video_id

    def _result(self, post_id: str, steps: Steps, warnings: tuple[str, ...]) -> PublishResult:
        if steps.get("video_id") == post_id:
            url = f"https://www.facebook.com/{self.page_id}/videos/{post_id}"
        else:
            url = f"https://www.facebook.com/{post_id}"
        return PublishResult(remote_id=post_id, remote_url=url, published_at=self.now(), warnings=warnings)

    def find_published(self, request: PublishRequest) -> PublishResult | None:
        steps = Steps(request)
        known = steps.get("post_id") or steps.get("video_id")
        if known:  # a video is on the Page from its upload on, even while Meta processes it
            return self._result(known, steps, ())
        since = request.first_attempt_at
        params = {"fields": "id,message,created_time", "limit": str(RECENT_POSTS)}
        if since is not None:
            params["since"] = str(int((since - CLOCK_SKEW).timestamp()))
        posts = [p for p in _data(self.graph("GET", f"{self.page_id}/feed", params=params))
                 if _after(p.get("created_time"), since)]
        text = request.text.strip()
        for post in posts:
            if text and str(post.get("message") or "").strip() == text:
                return self._result(graph_id(post), steps, ())
        if since is None or (not text and posts):
            raise AmbiguousError("Facebook cannot tell whether this post went out: nothing marks it apart")
        return None


def _photo(item: MediaItem, message: str | None, *, published: bool) -> dict[str, Any]:
    fields: dict[str, Any] = {"url": media_url(item), "published": published}
    if message:
        fields["message"] = message
    if item.alt:
        fields["alt_text_custom"] = item.alt
    return fields


def _video_error(status: Mapping[str, Any]) -> str:
    phase = status.get("processing_phase")
    errors = phase.get("errors") if isinstance(phase, Mapping) else None
    if isinstance(errors, list) and errors and isinstance(errors[0], Mapping):
        return str(errors[0].get("message") or "no reason given")
    return "no reason given"


def _data(body: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    data = body.get("data")
    return [item for item in data if isinstance(item, Mapping)] if isinstance(data, list) else []


def _after(value: Any, since: datetime | None) -> bool:
    when = parse_time(value)
    return since is None or (when is not None and when >= since - CLOCK_SKEW)


# -- Instagram -------------------------------------------------------------------------------------------------


class InstagramPublisher:
    """An image, a carousel (child containers, then a CAROUSEL container) or a reel: create the container,
    wait for FINISHED, check the 24-hour publishing limit, `media_publish`, then the first comment."""

    def __init__(self, graph: Graph, ig_user_id: str, now: Callable[[], datetime]) -> None:
        self.graph = graph
        self.ig_user_id = ig_user_id
        self.now = now

    def publish(self, request: PublishRequest) -> PublishResult:
        steps = Steps(request)
        media_id = steps.get("media_id") or self._publish_container(request, steps)
        warnings = with_first_comment(self.graph, steps, media_id, request.first_comment, "Instagram")
        return PublishResult(remote_id=media_id, remote_url=self._permalink(media_id), published_at=self.now(),
                             warnings=warnings)

    def _publish_container(self, request: PublishRequest, steps: Steps) -> str:
        quota_checked = False
        container_id = steps.get("container_id")
        if not container_id:
            if not steps.get("children"):  # nothing made yet: do not make containers that would wait a day
                self._check_quota()
                quota_checked = True
            container_id = self._create_container(request, steps)
        status = self.graph("GET", container_id, params={"fields": "status_code,status"})
        code = status.get("status_code")
        if code == "PUBLISHED":  # an earlier attempt published it and stopped before recording the media id
            found = self._find_media(request)
            if found is None:
                raise AmbiguousError("Instagram published this post but Herald cannot find it among the account's")
            steps.record(media_id=found)
            return found
        if code == "ERROR":
            raise PermanentError(f"Instagram could not process the media of this post ({status.get('status')})")
        if code == "EXPIRED":
            raise PermanentError("The Instagram media container expired: it was not published within 24 hours")
        if code != "FINISHED":
            check_after = VIDEO_CHECK_AFTER_S if any(map(is_video, request.media)) else IMAGE_CHECK_AFTER_S
            raise StillProcessing("Instagram is processing the media", progress=steps.done, check_after_s=check_after)
        if not quota_checked:
            self._check_quota()
        media_id = graph_id(self.graph("POST", f"{self.ig_user_id}/media_publish", json={"creation_id": container_id}))
        steps.record(media_id=media_id)
        return media_id

    def _create_container(self, request: PublishRequest, steps: Steps) -> str:
        media = request.media
        if not media:
            raise PermanentError("Instagram posts need an image or a video")
        if len(media) == 1:
            fields = _instagram_item(media[0], reel=True)
        else:
            fields = {"media_type": "CAROUSEL", "children": ",".join(self._children(media, steps))}
        if request.text:
            fields["caption"] = request.text
        container_id = graph_id(self.graph("POST", f"{self.ig_user_id}/media", json=fields))
        steps.record(container_id=container_id)
        return container_id

    def _children(self, media: tuple[MediaItem, ...], steps: Steps) -> list[str]:
        children = list(steps.get("children", []))
        for item in media[len(children):]:
            fields = {**_instagram_item(item, reel=False), "is_carousel_item": True}
            children.append(graph_id(self.graph("POST", f"{self.ig_user_id}/media", json=fields)))
            steps.record(children=children)
        # A carousel container takes only finished items; videos take a while, images are fetched at creation.
        for child_id, item in zip(children, media, strict=True):
            if not is_video(item):
                continue
            status = self.graph("GET", child_id, params={"fields": "status_code,status"})
            if status.get("status_code") in ("ERROR", "EXPIRED"):
                raise PermanentError(f"Instagram could not process a video of this carousel ({status.get('status')})")
            if status.get("status_code") != "FINISHED":
                raise StillProcessing("Instagram is processing a video of the carousel", progress=steps.done,
                                      check_after_s=VIDEO_CHECK_AFTER_S)
        return children

    def _check_quota(self) -> None:
        body = self.graph("GET", f"{self.ig_user_id}/content_publishing_limit", params={"fields": "quota_usage,config"})
        limits = _data(body)
        if not limits:
            return
        usage = limits[0].get("quota_usage")
        config = object_at(limits[0], "config")
        total, duration = config.get("quota_total"), config.get("quota_duration")
        if not isinstance(usage, int) or not isinstance(total, int) or usage < total:
            return
        window = float(duration) if isinstance(duration, (int, float)) and duration > 0 else 86400.0
        raise RetryableError(
            f"Instagram's publishing limit of {total} posts in {window / 3600:g} hours is used up for this account; "
            "the post waits until the window frees",
            retry_after_s=self._quota_wait(total, window),
        )

    def _quota_wait(self, total: int, window: float) -> float:
        """The window is rolling: a place frees when the oldest post inside it is `window` old. The account's
        media include posts not made through the API, so this may be early; the next check waits again."""
        body = self.graph("GET", f"{self.ig_user_id}/media", params={"fields": "id,timestamp", "limit": str(total)})
        now = self.now()
        start = now - timedelta(seconds=window)
        times = [t for t in (parse_time(m.get("timestamp")) for m in _data(body)) if t is not None and t > start]
        if not times:
            return QUOTA_FALLBACK_WAIT_S
        return max(60.0, (min(times) + timedelta(seconds=window) - now).total_seconds() + 60.0)

    def _find_media(self, request: PublishRequest) -> str | None:
        params = {"fields": "id,caption,timestamp", "limit": str(RECENT_POSTS)}
        text = request.text.strip()
        for media in _data(self.graph("GET", f"{self.ig_user_id}/media", params=params)):
            if _after(media.get("timestamp"), request.first_attempt_at) and \
                    str(media.get("caption") or "").strip() == text:
                return graph_id(media)
        return None

    def _permalink(self, media_id: str) -> str | None:
        try:
            body = self.graph("GET", media_id, params={"fields": "permalink"})
        except NetworkError:  # the post is out; a missing link must not fail it
            return None
        link = body.get("permalink")
        return link if isinstance(link, str) and link.startswith("https://") else None

    def find_published(self, request: PublishRequest) -> PublishResult | None:
        steps = Steps(request)
        media_id = steps.get("media_id")
        if not media_id:
            container_id = steps.get("container_id")
            if not container_id:
                return None  # no container, nothing could have been published
            status = self.graph("GET", container_id, params={"fields": "status_code,status"})
            if status.get("status_code") != "PUBLISHED":
                return None  # only media_publish publishes, and this container is not
            media_id = self._find_media(request)
            if media_id is None:
                raise AmbiguousError("Instagram published this post but Herald cannot find it among the account's")
        return PublishResult(remote_id=media_id, remote_url=self._permalink(media_id), published_at=self.now())


def _instagram_item(item: MediaItem, *, reel: bool) -> dict[str, Any]:
    if is_video(item):
        return {"media_type": "REELS" if reel else "VIDEO", "video_url": media_url(item)}
    fields: dict[str, Any] = {"image_url": media_url(item)}
    if item.alt:
        fields["alt_text"] = item.alt
    return fields


# -- the rules each network documents --------------------------------------------------------------------------


def facebook_problems(request: PublishRequest) -> list[ContentProblem]:
    problems = _common_problems(request, "Facebook", FACEBOOK_COMMENT_MAX)
    if len(request.text) > FACEBOOK_MAX_TEXT:
        problems.append(ContentProblem("text", f"Facebook posts are limited to {FACEBOOK_MAX_TEXT} characters; "
                                               f"this one has {len(request.text)}"))
    media = request.media
    videos = [i for i, item in enumerate(media) if is_video(item)]
    if not request.text.strip() and not media and not request.link:
        problems.append(ContentProblem("text", "a Facebook post needs text, a link, photos or a video"))
    if request.link and media:
        problems.append(ContentProblem("link", "a Facebook link post cannot also carry photos or a video; "
                                               "put the link in the text"))
    if videos and len(media) > 1:
        problems.append(ContentProblem("media", "a Facebook post carries one video on its own, not with other media"))
    if not videos and len(media) > FACEBOOK_MAX_PHOTOS:
        problems.append(ContentProblem("media", f"a Facebook post carries at most {FACEBOOK_MAX_PHOTOS} photos"))
    for i, item in enumerate(media):
        if is_video(item):
            problems += _file_problems(i, item, "Facebook", "video", FACEBOOK_VIDEO_TYPES, FACEBOOK_VIDEO_BYTES)
            if item.duration_s is not None and item.duration_s > FACEBOOK_VIDEO_MAX_S:
                problems.append(ContentProblem(f"media.{i}", f"Facebook takes videos of up to "
                                                             f"{FACEBOOK_VIDEO_MAX_S // 60} minutes this way"))
        else:
            problems += _file_problems(i, item, "Facebook", "photo", FACEBOOK_PHOTO_TYPES, FACEBOOK_PHOTO_BYTES)
    return problems


def instagram_problems(request: PublishRequest) -> list[ContentProblem]:
    problems = _common_problems(request, "Instagram", INSTAGRAM_COMMENT_MAX)
    text, media = request.text, request.media
    if len(text) > INSTAGRAM_MAX_TEXT:
        problems.append(ContentProblem("text", f"Instagram captions are limited to {INSTAGRAM_MAX_TEXT} characters; "
                                               f"this one has {len(text)}"))
    if len(HASHTAG.findall(text)) > INSTAGRAM_MAX_HASHTAGS:
        problems.append(ContentProblem("text", f"Instagram captions take at most {INSTAGRAM_MAX_HASHTAGS} hashtags"))
    if len(MENTION.findall(text)) > INSTAGRAM_MAX_MENTIONS:
        problems.append(ContentProblem("text", f"Instagram captions take at most {INSTAGRAM_MAX_MENTIONS} @mentions"))
    if request.link:
        problems.append(ContentProblem("link", "Instagram posts cannot carry a link; put it in the caption "
                                               "(Instagram does not make it clickable)"))
    low, high = INSTAGRAM_CAROUSEL
    if not media:
        problems.append(ContentProblem("media", "an Instagram post needs an image, a video (reel) or a carousel"))
    elif len(media) > high:
        problems.append(ContentProblem("media", f"an Instagram carousel takes {low} to {high} images or videos"))
    carousel = len(media) > 1
    for i, item in enumerate(media):
        if is_video(item):
            limit = INSTAGRAM_CAROUSEL_VIDEO_SECONDS if carousel else INSTAGRAM_REEL_SECONDS
            kind = "carousel videos" if carousel else "reels"
            problems += _file_problems(i, item, "Instagram", "video", INSTAGRAM_VIDEO_TYPES, INSTAGRAM_REEL_BYTES)
            if item.duration_s is not None and not limit[0] <= item.duration_s <= limit[1]:
                problems.append(ContentProblem(f"media.{i}", f"Instagram {kind} last {limit[0]:g} to {limit[1]:g} "
                                                             f"seconds; this video lasts {item.duration_s:g}"))
        else:
            problems += _file_problems(i, item, "Instagram", "image", INSTAGRAM_IMAGE_TYPES, INSTAGRAM_IMAGE_BYTES)
            if item.width and item.height and not (
                    INSTAGRAM_IMAGE_RATIO[0] - 0.005 <= item.width / item.height <= INSTAGRAM_IMAGE_RATIO[1] + 0.005):
                problems.append(ContentProblem(f"media.{i}", "Instagram images must have an aspect ratio between 4:5 "
                                                             f"and 1.91:1; this one is {item.width}x{item.height}"))
    return problems


def _common_problems(request: PublishRequest, network: str, comment_max: int) -> list[ContentProblem]:
    problems = []
    if request.thread:
        problems.append(ContentProblem("thread", f"{network} does not thread posts; publish the parts separately"))
    if request.first_comment is not None and not request.first_comment.strip():
        problems.append(ContentProblem("first_comment", f"the {network} first comment is empty"))
    elif request.first_comment and len(request.first_comment) > comment_max:
        problems.append(ContentProblem("first_comment", f"{network} comments are limited to {comment_max} characters"))
    for key in request.options:
        problems.append(ContentProblem(f"options.{key}", f"{network} has no option {key!r} in Herald"))
    return problems


def _file_problems(i: int, item: MediaItem, network: str, kind: str, types: tuple[str, ...],
                   max_bytes: int) -> list[ContentProblem]:
    if item.mime not in types:
        names = ", ".join(t.split("/")[1].upper() for t in types)
        return [ContentProblem(f"media.{i}", f"{network} takes {kind}s as {names}, not {item.mime}")]
    if item.size is not None and item.size > max_bytes:
        return [ContentProblem(f"media.{i}", f"{network} takes {kind}s of up to {max_bytes // MIB} MB; "
                                             f"this one has {item.size / MIB:.1f} MB")]
    return []
