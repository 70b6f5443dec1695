"""TikTok: publishing through the Content Posting API (Direct Post), webhook verification, OAuth.

Publishing (video, or photo posts) is a multi-step flow: creator info, init, the chunked upload (or TikTok's pull
from a link), then the post status until it settles; the rules, options and the flow's pieces are in
`tiktok_publish.py`, the OAuth side in `tiktok_oauth.py`. Every step that created something at TikTok is recorded
in the delivery's progress first, so the next attempt continues and never initialises a second post.

None of the documented webhook events (authorization.removed, video.upload.failed, video.publish.completed,
portability.download.ready, post.publish.*) is a comment, a message or a mention, and the API has no endpoint
to answer one: every well-formed event is counted as ignored and replies are refused.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from chalicelib.core.clock import Clock
from chalicelib.networks import tiktok_publish as rules
from chalicelib.networks.base import (
    AmbiguousError,
    AuthError,
    ChannelContext,
    ContentProblem,
    MediaItem,
    PermanentError,
    PollResult,
    PublicProfile,
    PublishRequest,
    PublishResult,
    ReplyRequest,
    RetryableError,
    SignatureError,
    StillProcessing,
)
from chalicelib.networks.http_failures import object_at, read_json, send
from chalicelib.networks.tiktok_oauth import make_oauth  # noqa: F401 (Container.oauth finds it here)
from chalicelib.networks.tiktok_publish import BUDGET, LIMITS, explain_error  # noqa: F401 (the module's face)
from chalicelib.networks.webhook import (
    InboxNetworkAdapter,
    Malformed,
    ParsedWebhook,
    hex_digest_bytes,
    hmac_sha256,
    moment_from_epoch,
    optional_text,
    require_secret,
    required_header,
    text_field,
)

API_URL = "https://open.tiktokapis.com/v2"
SIGNATURE_HEADER = "TikTok-Signature"
# What read_profile asks of GET /v2/user/info/ (brand consistency).
PROFILE_FIELDS = "display_name,bio_description,profile_deep_link,avatar_url,username"
REPLAY_WINDOW_S = 300
# What a channel's answer can show: until TikTok audits the app, everything it posts is private.
UNAUDITED_NOTE = ("TikTok has not audited Herald's app (HERALD_TIKTOK_APP_AUDITED is not set): posts can only be "
                  "private (SELF_ONLY) until it does")


def verify_signature(
    raw_body: bytes,
    headers: Mapping[str, str],
    secret: str,
    now: datetime | None = None,
    window_s: int = REPLAY_WINDOW_S,
) -> None:
    """`TikTok-Signature: t=<unix>,s=<hex HMAC-SHA256(client secret, "<t>.<raw body>")>`.

    A timestamp more than `window_s` away from `now`, in either direction, is
    refused: an old one is a replay, one from the future cannot be real.
    """
    require_secret(secret)
    value = required_header(headers, SIGNATURE_HEADER)
    timestamp: str | None = None
    signatures: list[bytes] = []
    for element in value.split(","):
        prefix, _, part = element.strip().partition("=")
        if prefix == "t":
            timestamp = part
        elif prefix == "s":
            signatures.append(hex_digest_bytes(part))
    if timestamp is None or not timestamp.isdigit() or not signatures:
        raise SignatureError(f"malformed {SIGNATURE_HEADER} header")
    expected = hmac_sha256(secret, timestamp.encode("ascii") + b"." + raw_body)
    # Check every candidate so the time taken does not say which one matched.
    matched = False
    for candidate in signatures:
        matched = hmac.compare_digest(expected, candidate) or matched
    if not matched:
        raise SignatureError("signature does not match")
    moment = (now or datetime.now(UTC)).timestamp()
    age = moment - int(timestamp)
    if age > window_s:
        raise SignatureError("signature timestamp is too old")
    if age < -window_s:
        raise SignatureError("signature timestamp is in the future")


def parse_webhook(payload: dict[str, Any]) -> ParsedWebhook:
    """TikTok sends one event per request; none of the documented ones is kept."""
    parsed = ParsedWebhook()
    try:
        event = text_field(payload, "event")
        open_id = text_field(payload, "user_openid")
        moment_from_epoch(payload.get("create_time"), "create_time")
        content = payload.get("content")
        if not isinstance(content, str):
            raise Malformed("content is not a string")
        try:
            json.loads(content)
        except ValueError:
            raise Malformed("content is not serialized JSON") from None
    except Malformed as exc:
        parsed.errors.append(str(exc))
        return parsed
    parsed.ignored = 1
    if event == "authorization.removed":  # the user removed Herald: its channel is disabled (accounts/health)
        parsed.revoked.append(("tiktok", open_id))
    return parsed




def app_audited_from_settings() -> bool:
    """HERALD_TIKTOK_APP_AUDITED (settings.py `tiktok_app_audited`), for adapters built without it."""
    from chalicelib.core.settings import get_settings

    return get_settings().tiktok_app_audited


def _sent_without_answer(exc: RetryableError) -> AmbiguousError:
    """A connection that failed on a call that creates something (an init, a chunk) may have reached TikTok:
    never repeated blindly, it is looked for first (find_published)."""
    return AmbiguousError(f"{exc.message}; TikTok may have received the request")


class TikTokAdapter(InboxNetworkAdapter):
    """Credentials: `access_token` (scopes user.info.basic, video.publish, video.upload), `refresh_token`,
    `expires_at`. Settings: `open_id`. `app_audited`: whether TikTok audited Herald's app (else SELF_ONLY only)."""

    network = "tiktok"
    limits = LIMITS

    def __init__(self, http: Any = None, clock: Clock | None = None, *, base_url: str | None = None,
                 app_audited: bool | None = None, chunk_bytes: int = rules.CHUNK_BYTES) -> None:
        super().__init__(http, clock)
        # HERALD_TIKTOK_API_URL (settings.py): the API host; v2 lives under /v2.
        self.api_url = f"{base_url.rstrip('/')}/v2" if base_url else API_URL
        self.app_audited = app_audited_from_settings() if app_audited is None else app_audited
        self.chunk_bytes = chunk_bytes

    def reply(self, channel: ChannelContext, request: ReplyRequest) -> PublishResult:
        raise PermanentError(
            "TikTok's API has no way to reply to comments or messages; answer in the TikTok app"
        )

    def poll_inbox(self, channel: ChannelContext, cursor: str | None) -> PollResult:
        raise PermanentError("TikTok's API does not expose comments or messages to read")

    def describe_account(self, channel: ChannelContext) -> dict[str, str]:
        body = self._call(channel, "GET", "/user/info/", params={"fields": "open_id,display_name"})
        user = object_at(object_at(body, "data"), "user")
        open_id = user.get("open_id")
        if not isinstance(open_id, str) or not open_id or len(open_id) > 128 or not open_id.isprintable():
            raise PermanentError("TikTok returned no open_id for this account")
        return {"handle": str(user.get("display_name") or open_id), "account_id": open_id}

    def read_profile(self, channel: ChannelContext) -> PublicProfile:
        """`GET /v2/user/info/` with display_name, bio_description, avatar_url (scope user.info.basic) and
        username, profile_deep_link (user.info.profile). profile_deep_link is the TikTok profile itself, and the
        User object has no website field: the link is not available."""
        body = self._call(channel, "GET", "/user/info/", params={"fields": PROFILE_FIELDS})
        user = object_at(object_at(body, "data"), "user")
        return PublicProfile(display_name=optional_text(user, "display_name"),
                             bio=optional_text(user, "bio_description"), link=None,
                             avatar_url=optional_text(user, "avatar_url"), handle=optional_text(user, "username"),
                             unavailable=frozenset({"link"}))

    def account_notes(self) -> tuple[str, ...]:
        """What a TikTok channel's answer should say about this deployment (see the report: a hook for it)."""
        return () if self.app_audited else (UNAUDITED_NOTE,)

    def content_problems(self, request: PublishRequest) -> list[ContentProblem]:
        return rules.content_problems(request, app_audited=self.app_audited)

    # -- publishing -----------------------------------------------------------------------------------------

    def publish(self, channel: ChannelContext, request: PublishRequest) -> PublishResult:
        state: dict[str, Any] = dict(request.progress or {})
        if not state.get("publish_id"):
            self._initialise(channel, request, state)
        if state.get("source") == "FILE_UPLOAD" and int(state.get("uploaded_chunks") or 0) < int(
                state["total_chunk_count"]):
            self._upload(channel, request, state)
        return self._settle(channel, request, state)

    def _initialise(self, channel: ChannelContext, request: PublishRequest, state: dict[str, Any]) -> None:
        kind = rules.kind_of(request.media)
        if kind is None:
            raise PermanentError("A TikTok post is one video or 1 to 35 photos")
        try:
            options = rules.parse_options(request.options)
        except ValidationError:
            raise PermanentError("The post's TikTok options are not valid (a privacy level is required)") from None
        if not self.app_audited and options.privacy_level != rules.PRIVATE:
            raise PermanentError(rules.ERROR_SENTENCES["unaudited_client_can_only_post_to_private_accounts"])
        creator = self._creator_info(channel)
        warnings = _check_creator(creator, options, request.media, kind)
        if kind == "video":
            body, source = self._video_init(request, options, creator)
            path = "/post/publish/video/init/"
        else:
            body, source = self._photo_init(request, options), "PULL_FROM_URL"
            path = "/post/publish/content/init/"
        try:
            answer = self._call(channel, "POST", path, json=body)
        except RetryableError as exc:
            if exc.status is not None:
                raise
            raise _sent_without_answer(exc) from None
        data = object_at(answer, "data")
        publish_id = str(data.get("publish_id") or "")
        if not publish_id:
            raise AmbiguousError("TikTok accepted the post but answered no publish_id")
        state.update({"publish_id": publish_id, "kind": kind, "source": source,
                      "privacy_level": options.privacy_level, "username": creator.get("creator_username"),
                      "initiated_at": self._clock.now().isoformat(), "warnings": warnings})
        if source == "FILE_UPLOAD":
            plan = rules.plan_chunks(int(request.media[0].size or 0), self.chunk_bytes)
            state.update({"upload_url": str(data.get("upload_url") or ""), "video_size": plan.video_size,
                          "chunk_size": plan.chunk_size, "total_chunk_count": plan.total_chunk_count,
                          "uploaded_chunks": 0})
            if not state["upload_url"]:
                raise PermanentError("TikTok answered the upload without an upload_url")
        request.record_progress(dict(state))

    def _creator_info(self, channel: ChannelContext) -> dict[str, Any]:
        answer = self._call(channel, "POST", "/post/publish/creator_info/query/", json={})
        data = answer.get("data")
        return dict(data) if isinstance(data, Mapping) else {}

    def _video_init(self, request: PublishRequest, options: rules.TikTokOptions,
                    creator: Mapping[str, Any]) -> tuple[dict[str, Any], str]:
        item = request.media[0]
        post_info: dict[str, Any] = {
            "privacy_level": options.privacy_level, "title": request.text,
            "disable_comment": options.disable_comment or bool(creator.get("comment_disabled")),
            "disable_duet": options.disable_duet or bool(creator.get("duet_disabled")),
            "disable_stitch": options.disable_stitch or bool(creator.get("stitch_disabled")),
            "brand_content_toggle": options.brand_content_toggle,
            "brand_organic_toggle": options.brand_organic_toggle, "is_aigc": options.is_aigc,
        }
        if options.video_cover_timestamp_ms is not None:
            post_info["video_cover_timestamp_ms"] = options.video_cover_timestamp_ms
        if item.stream is not None and item.size:
            plan = rules.plan_chunks(item.size, self.chunk_bytes)
            source_info: dict[str, Any] = {"source": "FILE_UPLOAD", "video_size": plan.video_size,
                                           "chunk_size": plan.chunk_size,
                                           "total_chunk_count": plan.total_chunk_count}
        else:
            source_info = {"source": "PULL_FROM_URL", "video_url": _link(item)}
        return {"post_info": post_info, "source_info": source_info}, source_info["source"]

    @staticmethod
    def _photo_init(request: PublishRequest, options: rules.TikTokOptions) -> dict[str, Any]:
        post_info: dict[str, Any] = {
            "privacy_level": options.privacy_level, "description": request.text,
            "disable_comment": options.disable_comment, "auto_add_music": options.auto_add_music,
            "brand_content_toggle": options.brand_content_toggle,
            "brand_organic_toggle": options.brand_organic_toggle,
        }
        if options.title:
            post_info["title"] = options.title
        source_info = {"source": "PULL_FROM_URL", "photo_cover_index": options.photo_cover_index or 0,
                       "photo_images": [_link(item) for item in request.media]}
        return {"post_info": post_info, "source_info": source_info, "post_mode": "DIRECT_POST",
                "media_type": "PHOTO"}

    def _upload(self, channel: ChannelContext, request: PublishRequest, state: dict[str, Any]) -> None:
        """The chunks not yet sent, in order, each recorded once TikTok took it. A chunk whose answer was lost
        is not sent twice: the status's `uploaded_bytes` says how far TikTok got."""
        item = request.media[0]
        if item.stream is None:
            raise PermanentError("The video can no longer be read to upload it to TikTok")
        plan = rules.ChunkPlan(int(state["video_size"]), int(state["chunk_size"]), int(state["total_chunk_count"]))
        done = int(state.get("uploaded_chunks") or 0)
        if state.get("upload_started"):
            done = max(done, self._chunks_received(channel, state, plan))
            if done >= plan.total_chunk_count:
                state["uploaded_chunks"] = done
                request.record_progress(dict(state))
                return
        if not state.get("upload_started"):
            state["upload_started"] = True  # from here a chunk may reach TikTok without its answer reaching us
            request.record_progress(dict(state))
        for index, piece in rules.chunks_from(item.stream(plan.chunk_size), plan, done):
            first, last = plan.byte_range(index)
            if len(piece) != last - first + 1:
                raise PermanentError("The video's size changed since the post was saved; upload it again")
            try:
                send(self.http, "PUT", str(state["upload_url"]), network=rules.NETWORK, explain=explain_error,
                     headers={"Content-Type": item.mime,
                              "Content-Range": f"bytes {first}-{last}/{plan.video_size}"},
                     data=piece, now=self._clock.now, timeout=(5.0, 120.0))
            except RetryableError as exc:
                if exc.status is not None:
                    raise
                raise _sent_without_answer(exc) from None
            state["uploaded_chunks"] = index + 1
            request.record_progress(dict(state))

    def _chunks_received(self, channel: ChannelContext, state: Mapping[str, Any], plan: rules.ChunkPlan) -> int:
        data = self._status(channel, str(state["publish_id"]))
        uploaded = data.get("uploaded_bytes")
        if not isinstance(uploaded, int) or isinstance(uploaded, bool):
            return 0
        if uploaded >= plan.video_size:
            return plan.total_chunk_count
        return min(uploaded // plan.chunk_size, plan.total_chunk_count - 1)

    def _status(self, channel: ChannelContext, publish_id: str) -> dict[str, Any]:
        answer = self._call(channel, "POST", "/post/publish/status/fetch/", json={"publish_id": publish_id})
        data = answer.get("data")
        return dict(data) if isinstance(data, Mapping) else {}

    def _settle(self, channel: ChannelContext, request: PublishRequest, state: dict[str, Any]) -> PublishResult:
        data = self._status(channel, str(state["publish_id"]))
        status = str(data.get("status") or "")
        if status == "FAILED":
            raise PermanentError(rules.failure_sentence(str(data.get("fail_reason") or "")))
        ids = [str(i) for i in data.get("publicaly_available_post_id") or [] if isinstance(i, (str, int))]
        elapsed = self._elapsed(state)
        if status == "PUBLISH_COMPLETE" and ids:
            return self._result(state, ids[0])
        if status == "PUBLISH_COMPLETE" and (state.get("privacy_level") == rules.PRIVATE
                                             or elapsed > rules.SLOW_AFTER_S):
            # A private post has no public id: TikTok names it only by its publish_id.
            return self._result(state, None)
        if status == "SEND_TO_USER_INBOX":
            return PublishResult(remote_id=str(state["publish_id"]), published_at=self._clock.now(),
                                 warnings=("TikTok sent the post to the creator's inbox to finish in the app",))
        if elapsed > rules.GIVE_UP_S:
            raise PermanentError("TikTok had not settled the post a day after it was sent; look for it in the "
                                 "TikTok app before posting it again")
        checks = int(state.get("checks") or 0)
        state["checks"] = checks + 1
        wait = rules.FIRST_CHECK_S if checks == 0 else (
            rules.SLOW_CHECK_S if elapsed > rules.SLOW_AFTER_S else rules.NEXT_CHECK_S)
        raise StillProcessing(f"TikTok is processing the post ({status or 'no status yet'})", progress=state,
                              check_after_s=wait)

    def _elapsed(self, state: Mapping[str, Any]) -> float:
        started = rules.moment(state.get("initiated_at")) or self._clock.now()
        return (self._clock.now() - started).total_seconds()

    def _result(self, state: Mapping[str, Any], post_id: str | None) -> PublishResult:
        remote_id = post_id or str(state["publish_id"])
        url = rules.post_url(state.get("username"), post_id, str(state.get("kind"))) if post_id else None
        return PublishResult(remote_id=remote_id, remote_url=url, published_at=self._clock.now(),
                             warnings=tuple(state.get("warnings") or ()))

    # -- looking before a retry -----------------------------------------------------------------------------

    def find_published(self, channel: ChannelContext, request: PublishRequest) -> PublishResult | None:
        """TikTok cannot list an account's posts with the publishing scopes, and nothing marks a post as
        Herald's. What can be told: with a `publish_id` recorded, the status says whether it is out (published;
        otherwise None, and publishing again continues from the progress: the status, the chunks left, never a
        second init). Without one, a lost FILE_UPLOAD init posts nothing (TikTok waits for bytes nobody sends,
        and drops the upload after an hour): None. A lost PULL_FROM_URL init (photos, or a video without a
        stream) may have made TikTok fetch and post the media: AmbiguousError, and the engine settles unknown."""
        progress = request.progress or {}
        if progress.get("publish_id"):
            data = self._status(channel, str(progress["publish_id"]))
            ids = [str(i) for i in data.get("publicaly_available_post_id") or [] if isinstance(i, (str, int))]
            if data.get("status") == "PUBLISH_COMPLETE":
                return self._result(progress, ids[0] if ids else None)
            return None
        kind = rules.kind_of(request.media)
        item = request.media[0] if request.media else None
        if kind == "video" and item is not None and item.stream is not None and item.size:
            return None
        raise AmbiguousError("TikTok cannot tell whether the lost request created a post, and Herald cannot list "
                             "the account's posts; look in the TikTok app")

    # -- HTTP -----------------------------------------------------------------------------------------------

    def _call(self, channel: ChannelContext, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        """One API call; an expired token is refreshed once (TikTok's last 24 hours)."""
        try:
            return self._send(channel, method, path, **kwargs)
        except AuthError as exc:
            if exc.status != 401 or channel.refresh_credentials is None:
                raise
        channel.credentials = dict(channel.refresh_credentials())
        return self._send(channel, method, path, **kwargs)

    def _send(self, channel: ChannelContext, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        token = channel.credentials.get("access_token")
        if not token:
            raise AuthError("the TikTok channel has no access token; connect it again")
        headers = {"Authorization": f"Bearer {token}"}
        if "json" in kwargs:
            headers["Content-Type"] = "application/json; charset=UTF-8"
        response = send(self.http, method, f"{self.api_url}{path}", network=rules.NETWORK, explain=explain_error,
                        headers=headers, now=self._clock.now, **kwargs)
        body = read_json(response)
        return body if isinstance(body, dict) else {}


def _check_creator(creator: Mapping[str, Any], options: rules.TikTokOptions, media: tuple[MediaItem, ...],
                   kind: str) -> list[str]:
    """What the creator's info allows right now (it changes: a creator may turn comments off or make the account
    private): a privacy level it does not offer or a video longer than theirs fails before anything is sent;
    an interaction the creator turned off is posted off, and said."""
    offered = [str(level) for level in creator.get("privacy_level_options") or []]
    if options.privacy_level not in offered:
        raise PermanentError(f"This TikTok account does not offer the privacy level {options.privacy_level} now "
                             f"(it offers {', '.join(offered) or 'none'}); choose one of those")
    longest = creator.get("max_video_post_duration_sec")
    duration = media[0].duration_s if kind == "video" else None
    if isinstance(longest, int) and duration is not None and duration > longest:
        raise PermanentError(f"The video lasts {duration:.0f} seconds; this TikTok account may post videos of at "
                             f"most {longest} seconds")
    warnings = []
    names = {"comment": options.disable_comment} if kind == "photo" else {
        "comment": options.disable_comment, "duet": options.disable_duet, "stitch": options.disable_stitch}
    for name, disabled in names.items():
        if not disabled and creator.get(f"{name}_disabled"):
            warnings.append(f"the creator has turned off {name}s in TikTok, so the post was published without them")
    return warnings


def _link(item: MediaItem) -> str:
    url = item.public_url(rules.MEDIA_URL_TTL_S) if item.public_url else item.url
    if not url:
        raise PermanentError("TikTok pulls this media from a link, and the media has none")
    return url


def make_adapter(http: Any = None, clock: Clock | None = None, *, base_url: str | None = None,
                 app_audited: bool | None = None) -> TikTokAdapter:
    return TikTokAdapter(http=http, clock=clock, base_url=base_url, app_audited=app_audited)
