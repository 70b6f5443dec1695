"""TikTok's Content Posting API, Direct Post: the rules, the per-post options, and the publishing flow.

A post is a video (one MP4/MOV/WebM) or a photo post (1 to 35 JPEG/WebP images); TikTok has no text posts.
Every publish is:
1. `POST /v2/post/publish/creator_info/query/`: the privacy levels this creator may use right now, whether they
   turned off comments, duets or stitches, the longest video they may post. TikTok requires a tool to ask it
   before each post, and to refuse what it does not offer (never a default privacy level).
2. `POST /v2/post/publish/video/init/` (or `/content/init/` for photos): TikTok answers a `publish_id` (and,
   for FILE_UPLOAD, an `upload_url`). Recorded in progress at once: the next attempt never initialises again.
3. FILE_UPLOAD: the video streamed from `MediaItem.stream` in the documented chunks (`PUT upload_url` with
   `Content-Range`), each chunk recorded before the next. PULL_FROM_URL: TikTok fetches `MediaItem.public_url`
   (its domain must be verified in TikTok's developer portal); photos are always pulled.
4. `POST /v2/post/publish/status/fetch/`: PROCESSING_* is a `StillProcessing` (the engine asks again by a
   delayed message), PUBLISH_COMPLETE is published with the public post id, FAILED is a PermanentError saying
   the documented `fail_reason` in words.

Unaudited apps can only post privately (SELF_ONLY): `content_problems` refuses any other level when the operator
has not said TikTok audited Herald's app (HERALD_TIKTOK_APP_AUDITED=1). Sources: tests/events/tiktok/README.md.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from chalicelib.networks.base import (
    ContentProblem,
    MediaItem,
    NetworkLimits,
    PublishRequest,
    RateBudget,
)
from chalicelib.networks.http_failures import ErrorDetail, read_json
from chalicelib.networks.text import COUNTERS

NETWORK = "TikTok"

PRIVACY_LEVELS = ("PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "FOLLOWER_OF_CREATOR", "SELF_ONLY")
PRIVATE = "SELF_ONLY"
VIDEO_TYPES = ("video/mp4", "video/quicktime", "video/webm")
PHOTO_TYPES = ("image/jpeg", "image/webp")
MAX_CAPTION = 2200  # a video's caption (`post_info.title`), in UTF-16 code units
MAX_PHOTO_DESCRIPTION = 4000  # a photo post's `description`, UTF-16
MAX_PHOTO_TITLE = 90  # a photo post's `title`
MAX_PHOTOS = 35
MAX_VIDEO_BYTES = 4 * 1024 ** 3
MAX_PHOTO_BYTES = 20 * 1024 ** 2
MAX_API_VIDEO_SECONDS = 600  # the longest video the API takes; the creator's own limit is read before posting
MIN_VIDEO_SIDE, MAX_VIDEO_SIDE = 360, 4096
MAX_PHOTO_SIDE = 1080

LIMITS = NetworkLimits(
    max_text=MAX_PHOTO_DESCRIPTION,  # a video's caption is held to 2,200 by content_problems
    text_counting="utf16",
    max_media=MAX_PHOTOS,
    media_types=VIDEO_TYPES + PHOTO_TYPES,
    max_media_bytes=MAX_VIDEO_BYTES,  # photos are held to 20 MB by content_problems
    requires_media=True,
)

# Each user token may init 6 posts a minute, read creator info 20 times and post status 30 times a minute; a
# creator may post about 15 times a day through the API. One post at a time per account keeps a burst inside the
# 6-a-minute init limit (a post takes at least a minute to upload and settle); across accounts the limits are
# per token, so the network-wide budget only protects Herald's workers and the upload bandwidth.
BUDGET = RateBudget(per_account_concurrency=1, per_network_concurrency=20)

# Chunks (Media Transfer Guide): 5 to 64 MB each, the last up to 128 MB with the trailing bytes, 1 to 1,000 of
# them, sent in order; a video under 5 MB goes whole. 10 MB chunks: at most two held in memory, 410 for 4 GB.
MIN_CHUNK_BYTES = 5 * 1024 ** 2
CHUNK_BYTES = 10 * 1024 ** 2
MAX_CHUNK_BYTES = 64 * 1024 ** 2
MAX_CHUNKS = 1000

# TikTok's processing takes under 30 s for 512 MB and a few minutes for 4 GB; a public post's moderation usually
# a minute, sometimes hours. Status may be read 30 times a minute per token.
FIRST_CHECK_S = 15.0
NEXT_CHECK_S = 30.0
SLOW_CHECK_S = 300.0
SLOW_AFTER_S = 10 * 60
GIVE_UP_S = 24 * 3600
MEDIA_URL_TTL_S = 6 * 3600  # TikTok pulls the media some time after init; the link must outlive that
# A daily cap (spam_risk_too_many_posts, reached_active_user_cap): the post waits instead of failing.
DAILY_CAP_RETRY_S = 3600.0
RATE_LIMIT_RETRY_S = 60.0  # the per-minute windows

# -- per-post options (`variants[ch].tiktok`) -----------------------------------------------------------------


class TikTokOptions(BaseModel):
    """What TikTok requires a tool to let the person choose. `privacy_level` has no default: it must be one the
    creator's info offers at the time of posting. The interaction toggles are off unless chosen: TikTok's UX
    rules say none is turned on for the person, so Herald disables comments, duets and stitches unless the
    option says otherwise (`disable_comment: false` allows comments)."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    privacy_level: Literal[PRIVACY_LEVELS]  # type: ignore[valid-type]
    disable_comment: bool = True
    disable_duet: bool = True
    disable_stitch: bool = True
    # Commercial content disclosure: a paid partnership ("Branded content") / promoting the creator's own
    # business ("Your brand"). Branded content cannot be private.
    brand_content_toggle: bool = False
    brand_organic_toggle: bool = False
    # AI-generated content label (videos).
    is_aigc: bool = False
    # Videos: the frame used as cover, in milliseconds from the start.
    video_cover_timestamp_ms: Annotated[int, Field(ge=0)] | None = None
    # Photo posts: a title (the post's text is the description), the cover photo, music TikTok adds.
    title: Annotated[str, Field(min_length=1, max_length=MAX_PHOTO_TITLE)] | None = None
    photo_cover_index: Annotated[int, Field(ge=0, lt=MAX_PHOTOS)] | None = None
    auto_add_music: bool = False


OPTION_NAMES = tuple(TikTokOptions.model_fields)


def parse_options(options: Mapping[str, Any]) -> TikTokOptions:
    """The options, validated; raises ValidationError."""
    return TikTokOptions.model_validate(dict(options))


# -- the rules ------------------------------------------------------------------------------------------------

Kind = Literal["video", "photo"]


def kind_of(media: Sequence[MediaItem]) -> Kind | None:
    if len(media) == 1 and media[0].mime in VIDEO_TYPES:
        return "video"
    if media and all(item.mime in PHOTO_TYPES for item in media):
        return "photo"
    return None


def content_problems(request: PublishRequest, *, app_audited: bool) -> list[ContentProblem]:
    problems = _media_problems(request.media)
    kind = kind_of(request.media)
    problems += _text_problems(request.text, kind)
    if request.thread:
        problems.append(ContentProblem("thread", "TikTok has no threads of posts; publish each part as its own post"))
    if request.first_comment:
        problems.append(ContentProblem("first_comment", "TikTok's API cannot add a comment under a post"))
    if request.link:
        problems.append(ContentProblem("link", "TikTok posts carry no link attachment; put the link in the text"))
    problems += _option_problems(request.options, kind, len(request.media), app_audited=app_audited)
    return problems


def _media_problems(media: Sequence[MediaItem]) -> list[ContentProblem]:
    if not media:
        return [ContentProblem("media", "TikTok needs a video or 1 to 35 photos: it has no text-only posts")]
    videos = [item for item in media if item.mime in VIDEO_TYPES]
    if videos and len(media) > 1:
        return [ContentProblem("media", "a TikTok post is one video, or 1 to 35 photos; it cannot mix them or "
                                        "carry several videos")]
    if len(media) > MAX_PHOTOS:
        return [ContentProblem("media", f"has {len(media)} photos; a TikTok photo post takes 1 to {MAX_PHOTOS}")]
    problems = []
    for index, item in enumerate(media):
        if item.mime in VIDEO_TYPES:
            messages = _video_problems(item)
        elif item.mime in PHOTO_TYPES:
            messages = _photo_problems(item)
        else:
            messages = [f"{item.mime} is not accepted by TikTok (MP4, MOV or WebM videos; JPEG or WebP photos)"]
        problems += [ContentProblem(f"media.{index}", message) for message in messages]
    return problems


def _video_problems(item: MediaItem) -> list[str]:
    problems = []
    if item.size is not None and item.size > MAX_VIDEO_BYTES:
        problems.append("is larger than the 4 GB TikTok accepts for a video")
    if item.duration_s is not None and not 0 < item.duration_s <= MAX_API_VIDEO_SECONDS:
        problems.append("lasts longer than the 10 minutes TikTok's API accepts (the creator's own limit, often "
                        "3 minutes, is checked when it is posted)")
    for side in (item.width, item.height):
        if side is not None and not MIN_VIDEO_SIDE <= side <= MAX_VIDEO_SIDE:
            problems.append(f"has a side of {side} pixels; TikTok takes videos {MIN_VIDEO_SIDE} to "
                            f"{MAX_VIDEO_SIDE} pixels wide and high")
            break
    return problems


def _photo_problems(item: MediaItem) -> list[str]:
    problems = []
    if item.size is not None and item.size > MAX_PHOTO_BYTES:
        problems.append("is larger than the 20 MB TikTok accepts for a photo")
    if any(side is not None and side > MAX_PHOTO_SIDE for side in (item.width, item.height)):
        problems.append(f"is larger than the 1080p ({MAX_PHOTO_SIDE} pixels a side) TikTok accepts for a photo")
    return problems


def _text_problems(text: str, kind: Kind | None) -> list[ContentProblem]:
    length = COUNTERS["utf16"](text, {})
    limit = MAX_CAPTION if kind != "photo" else MAX_PHOTO_DESCRIPTION
    if length > limit:
        what = "a video's caption" if kind != "photo" else "a photo post's description"
        return [ContentProblem("text", f"is {length} characters long; TikTok allows {limit} for {what} "
                                       "(counted in UTF-16 units: an emoji counts 2)")]
    return []


def _option_problems(options: Mapping[str, Any], kind: Kind | None, count: int, *,
                     app_audited: bool) -> list[ContentProblem]:
    try:
        chosen = parse_options(options)
    except ValidationError as exc:
        return [_option_problem(error) for error in exc.errors()]
    problems = []
    if not app_audited and chosen.privacy_level != PRIVATE:
        problems.append(ContentProblem(
            "options.privacy_level",
            f"is {chosen.privacy_level}, but TikTok lets an app it has not audited post only privately "
            "(SELF_ONLY); choose SELF_ONLY, or have the operator set HERALD_TIKTOK_APP_AUDITED=1 once TikTok "
            "has audited Herald's app"))
    if chosen.brand_content_toggle and chosen.privacy_level == PRIVATE:
        problems.append(ContentProblem("options.brand_content_toggle",
                                       "TikTok does not allow branded content (a paid partnership) to be private "
                                       "(SELF_ONLY); choose another privacy level"))
    problems += _kind_option_problems(chosen, options, kind, count)
    return problems


def _kind_option_problems(chosen: TikTokOptions, given: Mapping[str, Any], kind: Kind | None,
                          count: int) -> list[ContentProblem]:
    only_photo = ("title", "photo_cover_index", "auto_add_music")
    only_video = ("disable_duet", "disable_stitch", "is_aigc", "video_cover_timestamp_ms")
    problems = []
    if kind == "video":
        problems += [ContentProblem(f"options.{name}", "is an option of TikTok photo posts; a video's caption is "
                                                       "the post's text" if name == "title" else
                                    "is an option of TikTok photo posts, not videos")
                     for name in only_photo if name in given]
    if kind == "photo":
        problems += [ContentProblem(f"options.{name}", "is an option of TikTok videos, not photo posts")
                     for name in only_video if name in given]
        if chosen.photo_cover_index is not None and chosen.photo_cover_index >= count:
            problems.append(ContentProblem("options.photo_cover_index",
                                           f"is {chosen.photo_cover_index}; the post has {count} photos "
                                           "(counted from 0)"))
    return problems


def _option_problem(error: Mapping[str, Any]) -> ContentProblem:
    location = ".".join(str(part) for part in error.get("loc", ()))
    kind = error.get("type")
    if kind == "missing" and location == "privacy_level":
        return ContentProblem("options.privacy_level",
                              "TikTok requires a privacy level chosen for each post (no default): one of "
                              f"{', '.join(PRIVACY_LEVELS)} that the creator's account offers")
    if kind == "extra_forbidden":
        return ContentProblem(f"options.{location}", f"is not a TikTok option ({', '.join(OPTION_NAMES)})")
    if location == "privacy_level":
        return ContentProblem("options.privacy_level", f"must be one of {', '.join(PRIVACY_LEVELS)}")
    return ContentProblem(f"options.{location}", f"is not a valid TikTok option value: {error.get('msg')}")


# -- chunks ---------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ChunkPlan:
    video_size: int
    chunk_size: int
    total_chunk_count: int

    def byte_range(self, index: int) -> tuple[int, int]:
        """First and last byte of chunk `index`: the last chunk takes the trailing bytes."""
        first = index * self.chunk_size
        last = self.video_size - 1 if index == self.total_chunk_count - 1 else first + self.chunk_size - 1
        return first, last


def plan_chunks(video_size: int, chunk_bytes: int = CHUNK_BYTES) -> ChunkPlan:
    """Whole under `chunk_bytes`; otherwise chunks of `chunk_bytes`, the count rounded down (the last one
    carries the remainder), as the Media Transfer Guide documents."""
    if video_size <= chunk_bytes:
        return ChunkPlan(video_size, video_size, 1)
    return ChunkPlan(video_size, chunk_bytes, min(video_size // chunk_bytes, MAX_CHUNKS))


def chunks_from(stream: Iterator[bytes], plan: ChunkPlan, start: int) -> Iterator[tuple[int, bytes]]:
    """(index, bytes) of each chunk from `start`, read from a stream of any block size; the ones before `start`
    are read and dropped (a stream starts at byte 0). At most two chunks are held at once."""
    buffer = bytearray()
    index = 0
    for block in stream:
        buffer += block
        while index < plan.total_chunk_count - 1 and len(buffer) >= plan.chunk_size:
            piece = bytes(buffer[:plan.chunk_size])
            del buffer[:plan.chunk_size]
            if index >= start:
                yield index, piece
            index += 1
    if index == plan.total_chunk_count - 1 and index >= start:
        yield index, bytes(buffer)


# -- errors ---------------------------------------------------------------------------------------------------

# The documented error codes, said for a person (Direct Post and Get Post Status references).
ERROR_SENTENCES = {
    "spam_risk_user_banned_from_posting": "TikTok has banned this account from posting for now",
    "unaudited_client_can_only_post_to_private_accounts":
        "TikTok accepts posts from an app it has not audited only for private accounts: make the TikTok account "
        "private, or have the operator set HERALD_TIKTOK_APP_AUDITED=1 once TikTok has audited Herald's app",
    "privacy_level_option_mismatch":
        "The chosen privacy level is not one this TikTok account offers; choose one of the account's options",
    "url_ownership_unverified":
        "TikTok pulls media only from a domain verified in its developer portal, and Herald's media domain is not; "
        "the operator must verify it (or let Herald upload the file)",
    "spam_risk_text": "TikTok refused the text of this post as spam",
    "spam_risk": "TikTok refused this post as spam",
    "invalid_file_upload": "TikTok refused the uploaded file (format, size or chunks)",
    "duration_check_failed": "The video is longer than this TikTok account may post",
}
DAILY_CAPS = {
    "spam_risk_too_many_posts": "This TikTok account has reached its daily number of posts through apps; the "
                                "post waits until TikTok accepts more",
    "spam_risk_too_many_pending_share": "This TikTok account has too many posts pending; the post waits",
    "reached_active_user_cap": "Herald's TikTok app has reached its daily number of posting users; the post waits",
}
AUTH_CODES = ("access_token_invalid", "scope_not_authorized", "scope_permission_missed")

# FAILED posts' `fail_reason` (Get Post Status), said for a person.
FAIL_REASONS = {
    "file_format_check_failed": "TikTok does not accept the file's format (MP4, MOV or WebM videos; JPEG or WebP "
                                "photos)",
    "duration_check_failed": "The video is longer than this TikTok account may post (or too short)",
    "frame_rate_check_failed": "The video's frame rate is outside the 23 to 60 FPS TikTok accepts",
    "picture_size_check_failed": "The picture size is outside what TikTok accepts (360 to 4096 pixels a side for "
                                 "videos, at most 1080p for photos)",
    "internal": "TikTok failed to process the post on its side; publish it again",
    "video_pull_failed": "TikTok could not download the video from Herald's link",
    "photo_pull_failed": "TikTok could not download a photo from Herald's link",
    "publish_cancelled": "The post was cancelled in TikTok",
    "auth_removed": "The TikTok account removed Herald's access before the post was out; connect it again",
    "spam_risk_too_many_posts": "This TikTok account had reached its daily number of posts",
    "spam_risk_user_banned_from_posting": "TikTok has banned this account from posting for now",
    "spam_risk_text": "TikTok refused the text of this post as spam",
    "spam_risk": "TikTok refused this post as spam",
}


def error_code(body: Any) -> str:
    error = body.get("error") if isinstance(body, Mapping) else None
    return str(error.get("code") or "") if isinstance(error, Mapping) else ""


def explain_error(response: Any) -> ErrorDetail:
    """TikTok answers `{"data": {}, "error": {"code", "message", "log_id"}}` on every endpoint."""
    body = read_json(response)
    error = body.get("error") if isinstance(body, Mapping) else None
    if not isinstance(error, Mapping):
        return ErrorDetail(text=(getattr(response, "text", "") or "")[:300])
    code = str(error.get("code") or "")
    text = str(error.get("message") or code)
    if code in AUTH_CODES:
        return ErrorDetail(text=f"{text} ({code})", auth=True)
    if code == "rate_limit_exceeded":
        return ErrorDetail(text=text, rate_limited=True, retry_after_s=RATE_LIMIT_RETRY_S)
    if code in DAILY_CAPS:
        return ErrorDetail(text=text, rate_limited=True, sentence=DAILY_CAPS[code], retry_after_s=DAILY_CAP_RETRY_S)
    if code in ERROR_SENTENCES:
        return ErrorDetail(text=text, not_auth=True, sentence=f"{ERROR_SENTENCES[code]} ({code})")
    return ErrorDetail(text=f"{text} ({code})" if code and code != text else text, not_auth=True)


def failure_sentence(fail_reason: str) -> str:
    reason = FAIL_REASONS.get(fail_reason)
    if reason is None:
        return f"TikTok could not publish the post ({fail_reason or 'no reason given'})"
    return f"TikTok could not publish the post: {reason} ({fail_reason})"


# -- helpers --------------------------------------------------------------------------------------------------

def moment(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def post_url(username: str | None, post_id: str, kind: str) -> str | None:
    """The public link: `https://www.tiktok.com/@<username>/video/<id>` (or `/photo/<id>`)."""
    if not username:
        return None
    return f"https://www.tiktok.com/@{username}/{'photo' if kind == 'photo' else 'video'}/{post_id}"
