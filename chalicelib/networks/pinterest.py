"""Pinterest (API v5): pins with an image or a video on a board, and connecting by OAuth 2.0.

- An image pin is one call: `POST /v5/pins` with `media_source` `image_url` (Pinterest fetches
  `MediaItem.public_url`) or, for a small image Herald holds only as bytes, `image_base64`.
- A video pin is the media registration flow: `POST /v5/media {"media_type": "video"}` answers `media_id`,
  `upload_url` and `upload_parameters`; the bytes go to `upload_url` as a multipart form (the parameters, then
  `file`), streamed from `MediaItem.stream`; `GET /v5/media/{media_id}` is read until `status` is `succeeded`
  (a `StillProcessing` meanwhile, never a sleep); then `POST /v5/pins` with `media_source` `video_id` and a
  cover (`cover_image_url` from an image after the video, or `cover_image_key_frame_time`). The media id, the
  end of its upload and the pin id are recorded in the delivery's progress before the next step.
- The board is the post's option `board_id` (with `board_section_id`) or the channel's setting `board_id`,
  which connecting checks against the account's boards (`GET /v5/boards`).

Sources are cited in tests/events/pinterest/README.md.
"""
from __future__ import annotations

import base64
import secrets
from collections.abc import Iterator, Mapping
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
    MediaItem,
    NetworkLimits,
    OAuthApp,
    PermanentError,
    PublicProfile,
    PublishRequest,
    PublishResult,
    RateBudget,
    RetryableError,
    StillProcessing,
    TokenGrant,
)
from chalicelib.networks.http_failures import ErrorDetail, read_json, send
from chalicelib.networks.webhook import InboxNetworkAdapter, optional_text

NETWORK = "Pinterest"
API_URL = "https://api.pinterest.com/v5"
AUTHORIZE_URL = "https://www.pinterest.com/oauth/"
# Reading the boards a pin may go to, creating pins, reading them back (look before retry), and the account.
SCOPES = ("boards:read", "pins:read", "pins:write", "user_accounts:read")

MAX_DESCRIPTION = 800
MAX_TITLE = 100
MAX_ALT_TEXT = 500
MAX_LINK = 2048
IMAGE_TYPES = ("image/jpeg", "image/png", "image/gif", "image/webp", "image/bmp", "image/tiff")
COVER_TYPES = ("image/jpeg", "image/png")
VIDEO_TYPES = ("video/mp4", "video/quicktime", "video/x-m4v")
MAX_IMAGE_BYTES = 20 * 1024 * 1024
MAX_VIDEO_BYTES = 2 * 1024 * 1024 * 1024
MIN_VIDEO_SECONDS, MAX_VIDEO_SECONDS = 4, 15 * 60
# An image Herald can only read as bytes is sent inline (`image_base64`) up to this size; larger ones need a URL.
MAX_INLINE_BYTES = 2 * 1024 * 1024
UPLOAD_CHUNK = 1024 * 1024
MEDIA_URL_TTL_S = 3600
FIRST_CHECK_S = 15.0
NEXT_CHECK_S = 30.0
GIVE_UP_PROCESSING_S = 30 * 60
LOOK_BACK = timedelta(minutes=5)
TOKEN_EXPIRY_MARGIN = timedelta(minutes=5)
BOARD_PAGE = 250
PINS_PAGE = 50

LIMITS = NetworkLimits(
    max_text=MAX_DESCRIPTION,
    max_media=2,  # one image, or one video and its cover image
    media_types=IMAGE_TYPES + VIDEO_TYPES,
    max_media_bytes=MAX_VIDEO_BYTES,  # images are held to 20 MB by content_problems
    requires_media=True,
)

# Standard access allows 100 requests a second per user per app overall, and the pins write category a few
# hundred a minute per user; a video pin is four calls and a processing wait. One account publishes one pin at a
# time (its category budget is per user); across accounts the limits are per user too, so the network-wide
# number only protects Herald's own workers.
BUDGET = RateBudget(per_account_concurrency=1, per_network_concurrency=20)

Digits = Annotated[str, Field(strict=True, pattern=r"^[0-9]{1,32}$")]


class PinterestOptions(BaseModel):
    """`variants[ch].pinterest`: where the pin goes and what it shows besides the description (the post's text)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    board_id: Digits | None = None
    board_section_id: Digits | None = None
    title: Annotated[str, Field(strict=True, min_length=1, max_length=MAX_TITLE)] | None = None
    link: Annotated[str, Field(strict=True, pattern=r"^https?://", max_length=MAX_LINK)] | None = None
    alt_text: Annotated[str, Field(strict=True, min_length=1, max_length=MAX_ALT_TEXT)] | None = None
    # For a video without a cover image: the second of the video Pinterest takes as its cover.
    cover_image_key_frame_time: Annotated[float, Field(ge=0)] | None = None


OPTION_RULES = {
    "board_id": "a Pinterest board id (digits)",
    "board_section_id": "a Pinterest board section id (digits), with a board_id",
    "title": f"1 to {MAX_TITLE} characters",
    "link": f"an http(s) link of at most {MAX_LINK} characters",
    "alt_text": f"1 to {MAX_ALT_TEXT} characters",
    "cover_image_key_frame_time": "a number of seconds into the video, 0 or more",
}


def parse_options(options: Mapping[str, Any]) -> PinterestOptions:
    return PinterestOptions.model_validate(dict(options))


# -- rules -----------------------------------------------------------------------------------------------------

def content_problems(request: PublishRequest) -> list[ContentProblem]:
    problems: list[ContentProblem] = []
    if len(request.text) > MAX_DESCRIPTION:
        problems.append(ContentProblem("text", f"is {len(request.text)} characters long; a Pinterest pin's "
                                               f"description takes {MAX_DESCRIPTION}"))
    if request.link and len(request.link) > MAX_LINK:
        problems.append(ContentProblem("link", f"is longer than the {MAX_LINK} characters Pinterest accepts"))
    if request.thread:
        problems.append(ContentProblem("thread", "Pinterest has no threads; a pin is one image or one video"))
    if request.first_comment:
        problems.append(ContentProblem("first_comment", "Herald cannot add a first comment on Pinterest"))
    problems += _media_rules(request.media)
    problems += _option_problems(request)
    return problems


def _media_rules(media: tuple[MediaItem, ...]) -> list[ContentProblem]:
    if not media:
        return [ContentProblem("media", "a Pinterest pin needs an image or a video")]
    videos = [i for i, item in enumerate(media) if item.mime in VIDEO_TYPES]
    if videos and (videos[0] != 0 or len(media) > 2 or (len(media) == 2 and media[1].mime not in COVER_TYPES)):
        return [ContentProblem("media", "a Pinterest video pin is one video, optionally followed by its cover "
                                        "image (JPEG or PNG)")]
    if not videos and len(media) > 1:
        return [ContentProblem("media", f"has {len(media)} images; Herald publishes one image per Pinterest pin")]
    problems = []
    for index, item in enumerate(media):
        problems += [ContentProblem(f"media.{index}", message) for message in _item_problems(item)]
    return problems


def _item_problems(item: MediaItem) -> list[str]:
    if item.mime in VIDEO_TYPES:
        problems = []
        if item.size is not None and item.size > MAX_VIDEO_BYTES:
            problems.append("is larger than the 2 GB Pinterest accepts for a video")
        if item.duration_s is not None and not MIN_VIDEO_SECONDS <= item.duration_s <= MAX_VIDEO_SECONDS:
            problems.append(f"lasts {item.duration_s:g} s; a Pinterest video lasts {MIN_VIDEO_SECONDS} seconds "
                            f"to {MAX_VIDEO_SECONDS // 60} minutes")
        return problems
    if item.mime in IMAGE_TYPES:
        problems = []
        if item.size is not None and item.size > MAX_IMAGE_BYTES:
            problems.append("is larger than the 20 MB Pinterest accepts for an image")
        if len(item.alt) > MAX_ALT_TEXT:
            problems.append(f"has alt text longer than the {MAX_ALT_TEXT} characters Pinterest accepts")
        return problems
    return [f"{item.mime} is not accepted by Pinterest (JPEG, PNG, GIF, WEBP, BMP or TIFF images; MP4, MOV or "
            "M4V videos)"]


def _option_problems(request: PublishRequest) -> list[ContentProblem]:
    try:
        options = parse_options(request.options)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            key = str(error["loc"][0]) if error["loc"] else "options"
            rule = OPTION_RULES.get(key)
            problems.append(ContentProblem(f"options.{key}", f"must be {rule}" if rule
                                           else f"is not a Pinterest option ({', '.join(OPTION_RULES)})"))
        return problems
    problems = []
    if options.board_section_id and not options.board_id:
        problems.append(ContentProblem("options.board_section_id", "a Pinterest board section needs its board_id"))
    media = request.media
    if (media and media[0].mime in VIDEO_TYPES and len(media) == 1
            and options.cover_image_key_frame_time is None):
        problems.append(ContentProblem("media", "a Pinterest video pin needs a cover: add a JPEG or PNG image "
                                                "after the video, or set options.cover_image_key_frame_time"))
    return problems


# -- errors ----------------------------------------------------------------------------------------------------

def explain_error(response: Any) -> ErrorDetail:
    """Pinterest answers `{"code": <int>, "message": "..."}`; 401 is the token, 429 a rate limit."""
    body = read_json(response)
    status = getattr(response, "status_code", 0)
    text = ""
    if isinstance(body, Mapping):
        text = str(body.get("message") or body.get("error_description") or body.get("error") or "")
    else:
        text = (getattr(response, "text", "") or "")[:300]
    wait = reset_seconds(getattr(response, "headers", None))
    if status == 429:
        return ErrorDetail(text=text or "rate limit exceeded", rate_limited=True, retry_after_s=wait)
    if status == 401:
        return ErrorDetail(text=text, auth=True)
    if status == 403:
        return ErrorDetail(text=text, not_auth=True,
                           sentence=f"Pinterest refused: this account may not pin there ({text or 'forbidden'})")
    if status == 404:
        return ErrorDetail(text=text, sentence=f"Pinterest does not know this board, board section or media for "
                                               f"this account ({text or 'not found'})")
    return ErrorDetail(text=text)


def reset_seconds(headers: Mapping[str, str] | None) -> float | None:
    """`x-ratelimit-reset`: the seconds until the window resets (an epoch is read as one too)."""
    if not headers:
        return None
    lowered = {key.lower(): value for key, value in headers.items()}
    value = lowered.get("x-ratelimit-reset")
    try:
        seconds = float(value) if value is not None else None
    except ValueError:
        return None
    if seconds is None:
        return None
    if seconds > 1e9:
        seconds -= datetime.now(UTC).timestamp()
    return max(0.0, seconds)


# -- the streamed multipart upload -----------------------------------------------------------------------------

class MultipartStream:
    """The multipart form Pinterest's `upload_url` takes: its `upload_parameters`, then `file`, streamed from
    `MediaItem.stream` with a known length (the upload host wants a Content-Length, not chunked encoding)."""

    def __init__(self, fields: Mapping[str, str], media: MediaItem, filename: str = "video") -> None:
        if media.stream is None or media.size is None:
            raise PermanentError("Herald cannot stream this video to Pinterest (no stream or no size)")
        self.boundary = f"herald-{secrets.token_hex(16)}"
        head = b"".join(self._field(name, str(value)) for name, value in fields.items())
        head += (f"--{self.boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{filename}\"\r\n"
                 f"Content-Type: {media.mime}\r\n\r\n").encode()
        self._head = head
        self._tail = f"\r\n--{self.boundary}--\r\n".encode()
        self._media = media
        self._size = media.size

    @property
    def content_type(self) -> str:
        return f"multipart/form-data; boundary={self.boundary}"

    def _field(self, name: str, value: str) -> bytes:
        return (f"--{self.boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n"
                f"{value}\r\n").encode()

    def __len__(self) -> int:
        return len(self._head) + self._size + len(self._tail)

    def __iter__(self) -> Iterator[bytes]:
        yield self._head
        sent = 0
        assert self._media.stream is not None
        for chunk in self._media.stream(UPLOAD_CHUNK):
            sent += len(chunk)
            yield chunk
        if sent != self._size:
            raise PermanentError(f"the video had {sent} bytes, not the {self._size} Herald announced")
        yield self._tail


# -- the adapter -----------------------------------------------------------------------------------------------

class PinterestAdapter(InboxNetworkAdapter):
    """Credentials: `access_token`, `refresh_token`, `expires_at`. Settings: `user_id`, `board_id`."""

    network = "pinterest"
    limits = LIMITS

    def __init__(self, http: Any = None, clock: Clock | None = None, *, base_url: str | None = None) -> None:
        super().__init__(http, clock or SystemClock())
        # HERALD_PINTEREST_API_URL (settings.py): the API host with its version.
        self.api_url = (base_url or API_URL).rstrip("/")

    # -- the account ------------------------------------------------------------------------------------------

    def describe_account(self, channel: ChannelContext) -> dict[str, str]:
        """Who the token belongs to; a channel's `board_id` must be one of the account's boards."""
        body = self.call(channel, "GET", "/user_account")
        username = str(body.get("username") or "")
        account_id = str(body.get("id") or username)
        if not account_id:
            raise PermanentError("Pinterest returned no account for this token")
        board_id = channel.settings.get("board_id")
        if board_id and str(board_id) not in {b["id"] for b in self.boards(channel)}:
            raise PermanentError(f"board {board_id} is not one of this Pinterest account's boards")
        return {"handle": username or account_id, "account_id": account_id}

    def read_profile(self, channel: ChannelContext) -> PublicProfile:
        """`GET /v5/user_account`: business_name (a business account's name; else the username), about,
        website_url, profile_image; the username as the handle."""
        body = self.call(channel, "GET", "/user_account")
        username = optional_text(body, "username")
        return PublicProfile(display_name=optional_text(body, "business_name") or username,
                             bio=optional_text(body, "about"), link=optional_text(body, "website_url"),
                             avatar_url=optional_text(body, "profile_image"), handle=username)

    def boards(self, channel: ChannelContext) -> list[dict[str, str]]:
        """The account's boards (`GET /v5/boards`, every page)."""
        found: list[dict[str, str]] = []
        bookmark: str | None = None
        for _ in range(20):
            params = {"page_size": str(BOARD_PAGE)} | ({"bookmark": bookmark} if bookmark else {})
            body = self.call(channel, "GET", "/boards", params=params)
            for item in body.get("items") or []:
                if isinstance(item, Mapping) and item.get("id"):
                    found.append({"id": str(item["id"]), "name": str(item.get("name") or "")})
            bookmark = body.get("bookmark") or None
            if not bookmark:
                break
        return found

    def content_problems(self, request: PublishRequest) -> list[ContentProblem]:
        return content_problems(request)

    # -- publishing -------------------------------------------------------------------------------------------

    def publish(self, channel: ChannelContext, request: PublishRequest) -> PublishResult:
        problems = content_problems(request)
        if problems:
            raise PermanentError(f"Pinterest: {problems[0].field} {problems[0].message}")
        progress: dict[str, Any] = dict(request.progress or {})
        if progress.get("pin_id"):
            return _result(progress)
        options = parse_options(request.options)
        board_id = options.board_id or _digits(channel.settings.get("board_id"))
        if not board_id:
            raise PermanentError("choose a Pinterest board: set board_id on the channel or in "
                                 "variants[ch].pinterest.board_id")
        media_source = self._media_source(channel, request, progress, options)
        body: dict[str, Any] = {"board_id": board_id, "media_source": media_source,
                                "description": request.text}
        body |= _pin_fields(request, options)
        progress.setdefault("pin_requested_at", self._clock.now().isoformat())
        request.record_progress(progress)
        created = self.call(channel, "POST", "/pins", json=body, creates=True)
        pin_id = str(created.get("id") or "")
        if not pin_id:
            raise AmbiguousError("Pinterest accepted the pin but returned no id")
        progress.update(pin_id=pin_id, published_at=self._clock.now().isoformat())
        request.record_progress(progress)
        return _result(progress)

    def _media_source(self, channel: ChannelContext, request: PublishRequest, progress: dict[str, Any],
                      options: PinterestOptions) -> dict[str, Any]:
        first = request.media[0]
        if first.mime in VIDEO_TYPES:
            media_id = self._video(channel, request, progress)
            source: dict[str, Any] = {"source_type": "video_id", "media_id": media_id}
            if len(request.media) > 1:
                source["cover_image_url"] = _url_of(request.media[1])
            else:
                source["cover_image_key_frame_time"] = options.cover_image_key_frame_time
            return source
        if first.public_url is not None or first.url:
            return {"source_type": "image_url", "url": _url_of(first)}
        if first.load is not None and (first.size or 0) <= MAX_INLINE_BYTES:
            data = first.load()
            if len(data) > MAX_INLINE_BYTES:
                raise PermanentError("this image is too large to send inline to Pinterest and has no link")
            return {"source_type": "image_base64", "content_type": first.mime,
                    "data": base64.b64encode(data).decode()}
        raise PermanentError("Pinterest needs a link to this image (or its bytes, when small)")

    def _video(self, channel: ChannelContext, request: PublishRequest, progress: dict[str, Any]) -> str:
        """Register, upload (streamed), then wait for `succeeded`: each step recorded, none repeated."""
        if not progress.get("media_id") or not progress.get("uploaded"):
            # A registration whose upload did not finish is abandoned (its presigned form is not kept): a new
            # one is cheap, and an unused registration never becomes a pin.
            registered = self.call(channel, "POST", "/media", json={"media_type": "video"})
            media_id = str(registered.get("media_id") or "")
            upload_url = str(registered.get("upload_url") or "")
            if not media_id or not upload_url:
                raise RetryableError("Pinterest registered the video without a media id or upload link")
            progress.update(media_id=media_id, uploaded=False, started_at=self._clock.now().isoformat())
            request.record_progress(progress)
            self._upload(upload_url, registered.get("upload_parameters") or {}, request.media[0])
            progress["uploaded"] = True
            request.record_progress(progress)
        media_id = str(progress["media_id"])
        status = self.call(channel, "GET", f"/media/{media_id}")
        state = str(status.get("status") or "")
        if state == "succeeded":
            return media_id
        if state == "failed":
            raise PermanentError("Pinterest could not process the video (its status is failed); check its format, "
                                 "length (4 s to 15 min) and size")
        started = _moment(progress.get("started_at")) or self._clock.now()
        if (self._clock.now() - started).total_seconds() > GIVE_UP_PROCESSING_S:
            raise PermanentError(f"Pinterest was still processing the video after "
                                 f"{GIVE_UP_PROCESSING_S // 60} minutes")
        checks = int(progress.get("checks") or 0)
        progress["checks"] = checks + 1
        raise StillProcessing(f"Pinterest is processing the video ({state or 'no status yet'})", progress=progress,
                              check_after_s=FIRST_CHECK_S if checks == 0 else NEXT_CHECK_S)

    def _upload(self, upload_url: str, parameters: Mapping[str, Any], media: MediaItem) -> None:
        fields = {str(k): str(v) for k, v in parameters.items()}
        stream = MultipartStream(fields, media)
        # The upload host's own credentials are in the form: no Authorization header goes there.
        send(self.http, "POST", upload_url, network=NETWORK, explain=_explain_upload_error, data=stream,
             headers={"Content-Type": stream.content_type, "Content-Length": str(len(stream))},
             now=self._clock.now, timeout=(5.0, 120.0))

    # -- looking before a retry -------------------------------------------------------------------------------

    def find_published(self, channel: ChannelContext, request: PublishRequest) -> PublishResult | None:
        """The pin by the id in progress, or among the board's recent pins: same title, description and link,
        created since the first attempt. None when no pin call can have been made or none matches."""
        progress = dict(request.progress or {})
        if progress.get("pin_id"):
            return _result(progress)
        options = parse_options(request.options)
        board_id = options.board_id or _digits(channel.settings.get("board_id"))
        if not board_id:
            return None
        since = (request.first_attempt_at or _moment(progress.get("pin_requested_at"))
                 or self._clock.now() - timedelta(days=1)) - LOOK_BACK
        path = (f"/boards/{board_id}/sections/{options.board_section_id}/pins" if options.board_section_id
                else f"/boards/{board_id}/pins")
        body = self.call(channel, "GET", path, params={"page_size": str(PINS_PAGE)})
        wanted = _pin_fields(request, options) | {"description": request.text}
        return _matching_pin(body, wanted, since)

    # -- HTTP -------------------------------------------------------------------------------------------------

    def call(self, channel: ChannelContext, method: str, path: str, *, creates: bool = False,
             **kwargs: Any) -> dict[str, Any]:
        """One authenticated call; a token Pinterest refuses (401) is refreshed once and the call repeated.
        `creates`: the call makes the pin (a connection broken after sending it is ambiguous: http_failures)."""
        if self._expired(channel):
            self._refresh(channel)
        try:
            return self._send(channel, method, path, **kwargs)
        except AuthError as exc:
            if exc.status != 401 or channel.refresh_credentials is None:
                raise
        self._refresh(channel)
        return self._send(channel, method, path, **kwargs)

    def _send(self, channel: ChannelContext, method: str, path: str, *, http: Any = None,
              **kwargs: Any) -> dict[str, Any]:
        token = channel.credentials.get("access_token")
        if not token:
            raise AuthError("the Pinterest channel has no access token")
        response = send(http or self.http, method, f"{self.api_url}{path}", network=NETWORK, explain=explain_error,
                        headers={"Authorization": f"Bearer {token}"}, now=self._clock.now, **kwargs)
        body = read_json(response)
        return body if isinstance(body, dict) else {}

    def _expired(self, channel: ChannelContext) -> bool:
        expires_at = _moment(channel.credentials.get("expires_at"))
        return (channel.refresh_credentials is not None and expires_at is not None
                and expires_at - TOKEN_EXPIRY_MARGIN <= self._clock.now())

    @staticmethod
    def _refresh(channel: ChannelContext) -> None:
        if channel.refresh_credentials is None:
            raise AuthError("Pinterest refused this channel's token and it cannot be refreshed", status=401)
        channel.credentials = dict(channel.refresh_credentials())


def _explain_upload_error(response: Any) -> ErrorDetail:
    """The upload host answers XML (S3's POST form); a refused form is worth a new registration, so retried."""
    text = (getattr(response, "text", "") or "")[:300]
    return ErrorDetail(text=text, rate_limited=True, not_auth=True,
                       sentence="Pinterest's upload host refused the video upload; Herald will register it again")


def _pin_fields(request: PublishRequest, options: PinterestOptions) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    if options.board_section_id:
        fields["board_section_id"] = options.board_section_id
    if options.title:
        fields["title"] = options.title
    link = options.link or request.link
    if link:
        fields["link"] = link
    alt = options.alt_text or (request.media[0].alt if request.media else "")
    if alt:
        fields["alt_text"] = alt[:MAX_ALT_TEXT]
    return fields


def _matching_pin(body: Mapping[str, Any], wanted: Mapping[str, Any], since: datetime) -> PublishResult | None:
    items = [item for item in body.get("items") or [] if isinstance(item, Mapping)]
    matches = [item for item in items if _same_pin(item, wanted, since)]
    if len(matches) > 1:
        raise AmbiguousError("the Pinterest board has more than one pin like this one; Herald cannot tell which")
    if matches:
        found = matches[0]
        return PublishResult(remote_id=str(found["id"]), remote_url=_pin_url(str(found["id"])),
                             published_at=_moment(found.get("created_at")))
    recent = [moment for moment in (_moment(item.get("created_at")) for item in items) if moment]
    if body.get("bookmark") and recent and min(recent) >= since:
        raise AmbiguousError("the Pinterest board has more recent pins than Herald read; it cannot tell")
    return None


def _same_pin(item: Mapping[str, Any], wanted: Mapping[str, Any], since: datetime) -> bool:
    for key in ("title", "description", "link"):
        if str(item.get(key) or "") != str(wanted.get(key) or ""):
            return False
    moment = _moment(item.get("created_at"))
    return moment is None or moment >= since


def _url_of(item: MediaItem) -> str:
    url = item.public_url(MEDIA_URL_TTL_S) if item.public_url else item.url
    if not url:
        raise PermanentError("Pinterest fetches this image from a link, and it has none")
    return url


def _result(progress: Mapping[str, Any]) -> PublishResult:
    pin_id = str(progress["pin_id"])
    return PublishResult(remote_id=pin_id, remote_url=_pin_url(pin_id),
                         published_at=_moment(progress.get("published_at")))


def _pin_url(pin_id: str) -> str:
    return f"https://www.pinterest.com/pin/{pin_id}/"


def _digits(value: Any) -> str | None:
    text = str(value) if isinstance(value, (str, int)) and not isinstance(value, bool) else ""
    return text if text.isascii() and text.isdigit() else None


def _moment(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def make_adapter(http: Any = None, clock: Clock | None = None, *, base_url: str | None = None) -> PinterestAdapter:
    return PinterestAdapter(http=http, clock=clock, base_url=base_url)


# -- connecting by OAuth ---------------------------------------------------------------------------------------

def explain_token_error(response: Any) -> ErrorDetail:
    """Only a refused grant (invalid_grant, or 401 from the token endpoint) means connecting again."""
    body = read_json(response)
    status = getattr(response, "status_code", 0)
    text = ""
    error = ""
    if isinstance(body, Mapping):
        error = str(body.get("error") or "")
        text = str(body.get("error_description") or body.get("message") or error)
    if error == "invalid_grant" or status == 401:
        return ErrorDetail(text=text or "the grant was refused", auth=True)
    return ErrorDetail(text=text, rate_limited=True)


class PinterestOAuth:
    """Authorization code grant: `www.pinterest.com/oauth/`, then `POST {api}/oauth/token` with HTTP Basic
    client authentication (form fields). Access tokens last 30 days, refresh tokens a year. No PKCE."""

    network = "pinterest"
    supports_pkce = False

    def __init__(self, http: Any = None, clock: Clock | None = None, *, api_url: str | None = None,
                 authorize_url: str | None = None) -> None:
        self._http = http
        self._clock = clock or SystemClock()
        self.api_url = (api_url or API_URL).rstrip("/")
        self.authorize_endpoint = authorize_url or AUTHORIZE_URL

    @property
    def http(self) -> Any:
        if self._http is None:
            import requests

            self._http = requests.Session()
        return self._http

    def authorize_url(self, app: OAuthApp, redirect_uri: str, state: str, code_challenge: str | None = None) -> str:
        query = {"client_id": app.client_id, "redirect_uri": redirect_uri, "response_type": "code",
                 "scope": ",".join(SCOPES), "state": state}
        return f"{self.authorize_endpoint}?{urlencode(query)}"

    def exchange_code(self, app: OAuthApp, code: str, redirect_uri: str,
                      code_verifier: str | None = None) -> TokenGrant:
        return self._token(app, {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri},
                           explain=explain_error)

    def refresh(self, app: OAuthApp, credentials: Mapping[str, Any]) -> TokenGrant:
        token = str(credentials.get("refresh_token") or "")
        if not token:
            raise AuthError("the Pinterest channel has no refresh token; connect it again")
        return self._token(app, {"grant_type": "refresh_token", "refresh_token": token},
                           explain=explain_token_error)

    def granted_accounts(self, app: OAuthApp, grant: TokenGrant) -> list[GrantedAccount]:
        adapter = PinterestAdapter(self.http, self._clock, base_url=self.api_url)
        channel = ChannelContext("", "", "pinterest", {}, {"access_token": grant.access_token})
        body = adapter.call(channel, "GET", "/user_account")
        username = str(body.get("username") or "")
        account_id = str(body.get("id") or username)
        if not account_id:
            raise PermanentError("Pinterest returned no account for this grant")
        boards = adapter.boards(channel)
        settings: dict[str, Any] = {"user_id": account_id} if _digits(account_id) else {}
        if len(boards) == 1:  # the only board is the obvious default; with several, the channel names one
            settings["board_id"] = boards[0]["id"]
        credentials: dict[str, Any] = {"access_token": grant.access_token}
        if grant.refresh_token:
            credentials["refresh_token"] = grant.refresh_token
        if grant.expires_at is not None:
            credentials["expires_at"] = grant.expires_at.isoformat()
        return [GrantedAccount(network="pinterest", account_id=account_id, handle=username or account_id,
                               name=str(body.get("business_name") or username or account_id),
                               credentials=credentials, settings=settings,
                               avatar_url=body.get("profile_image") or None)]

    def _token(self, app: OAuthApp, form: dict[str, str], *, explain: Any) -> TokenGrant:
        basic = base64.b64encode(f"{app.client_id}:{app.client_secret}".encode()).decode()
        response = send(self.http, "POST", f"{self.api_url}/oauth/token", network=NETWORK, explain=explain,
                        headers={"Authorization": f"Basic {basic}",
                                 "Content-Type": "application/x-www-form-urlencoded"},
                        data=form, now=self._clock.now)
        body = read_json(response)
        body = body if isinstance(body, dict) else {}
        token = str(body.get("access_token") or "")
        if not token:
            raise RetryableError("Pinterest answered without an access token")
        now = self._clock.now()
        expires_in = body.get("expires_in")
        refresh_in = body.get("refresh_token_expires_in")
        scopes = tuple(str(body.get("scope") or "").replace(",", " ").split()) or SCOPES
        return TokenGrant(
            access_token=token, refresh_token=body.get("refresh_token") or None,
            expires_at=now + timedelta(seconds=int(expires_in)) if isinstance(expires_in, int) else None,
            refresh_expires_at=now + timedelta(seconds=int(refresh_in)) if isinstance(refresh_in, int) else None,
            scopes=scopes, extra={"token_type": body.get("token_type") or "bearer"})


def make_oauth(http: Any = None, clock: Clock | None = None, *, api_url: str | None = None,
               authorize_url: str | None = None) -> PinterestOAuth:
    return PinterestOAuth(http=http, clock=clock, api_url=api_url, authorize_url=authorize_url)
