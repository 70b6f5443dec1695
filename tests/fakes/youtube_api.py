"""A local HTTP fake of the YouTube Data API v3, the parts Herald calls, with the documented shapes.

On the real paths (base URLs: `{url}/youtube/v3`, `{url}/upload/youtube/v3`, token `{url}/token`):
- `POST /upload/youtube/v3/videos?uploadType=resumable&part=snippet,status&notifySubscribers=` with the
  snippet/status JSON and `X-Upload-Content-Length`/`X-Upload-Content-Type`: a session, answered in `Location`
  (`...?uploadType=resumable&upload_id=`). Checks the title (1..100, no < >), the description (5,000 bytes),
  privacyStatus, a numeric categoryId, and charges the quota (1,600 units of 10,000: `quotaExceeded` when spent;
  `upload_limit` videos a channel may upload before `uploadLimitExceeded`).
- `PUT` to the session: `Content-Range: bytes a-b/total` (a must be what the session holds, b-a+1 the body's
  length, chunks multiples of 256 KiB but the last) answers `308` with `Range: bytes=0-n` until the last byte,
  then `200` with the video resource; `Content-Range: bytes */total` asks the session what it holds.
- `GET /youtube/v3/videos?part=status,processingDetails&id=`: `uploadStatus` "uploaded" for `processing`
  reads, then "processed" (or "failed"/"rejected" as scripted).
- `GET /youtube/v3/channels?part=snippet|contentDetails&mine=true` (the parts asked for; the snippet as in
  tests/events/youtube/channels_list_snippet.json: title, description, customUrl, thumbnails default, medium,
  high), `GET /youtube/v3/playlistItems?playlistId=`
  (the channel's uploads), `POST /youtube/v3/commentThreads?part=snippet` (only on a processed video of the
  channel), `GET /youtube/v3/commentThreads?videoId=`.
What Herald sent wrong is in `violations`. Sources: tests/events/youtube/README.md.
"""
from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field
from typing import Any

from chalicelib.core.clock import Clock, to_rfc3339
from tests.fakes.google_oauth_server import GoogleFake, google_error
from tests.fakes.local_http import Answer, Request, Route
from tests.support.events import load_event

UPLOAD_CHUNK = 256 * 1024
DAILY_QUOTA = 10_000
COSTS = {"videos.insert": 1600, "commentThreads.insert": 50}
PRIVACY = ("public", "unlisted", "private")


@dataclass
class Channel:
    channel_id: str
    title: str
    custom_url: str
    uploads: int = 0
    description: str = ""
    avatar_url: str | None = None  # the high (800px) thumbnail; None: the fake's own address per size

    def snippet(self) -> dict[str, Any]:
        """The channel's snippet in the documented shape (channels_list_snippet.json) with its values."""
        snippet = load_event("youtube", "channels_list_snippet.json")["items"][0]["snippet"]
        snippet.update(title=self.title, description=self.description, customUrl=self.custom_url)
        snippet["localized"] = {"title": self.title, "description": self.description}
        for size, pixels in (("default", 88), ("medium", 240), ("high", 800)):
            url = self.avatar_url if self.avatar_url and size == "high" else \
                f"https://yt3.ggpht.example/{self.channel_id}=s{pixels}"
            snippet["thumbnails"][size] = {"url": url, "width": pixels, "height": pixels}
        return snippet

    @property
    def uploads_playlist(self) -> str:
        return "UU" + self.channel_id[2:]


@dataclass
class Session:
    upload_id: str
    channel_id: str
    total: int
    mime: str
    metadata: dict[str, Any]
    notify: str
    received: bytearray = field(default_factory=bytearray)
    video_id: str | None = None


@dataclass
class Video:
    video_id: str
    channel_id: str
    metadata: dict[str, Any]
    body: bytes
    published_at: str
    notify: str
    reads_processing: int
    outcome: tuple[str, str] = ("processed", "")  # uploadStatus, reason

    def resource(self) -> dict[str, Any]:
        status, reason = ("uploaded", "") if self.reads_processing > 0 else self.outcome
        snippet = {**self.metadata.get("snippet", {}), "channelId": self.channel_id, "publishedAt": self.published_at}
        resource_status = {**self.metadata.get("status", {}), "uploadStatus": status}
        if status == "failed":
            resource_status["failureReason"] = reason
        if status == "rejected":
            resource_status["rejectionReason"] = reason
        processing = "processing" if status == "uploaded" else ("succeeded" if status == "processed" else "failed")
        return {"kind": "youtube#video", "etag": "fake-etag", "id": self.video_id, "snippet": snippet,
                "status": resource_status, "processingDetails": {"processingStatus": processing}}


class YouTubeApi(GoogleFake):
    name = "youtube-api-fake"

    def __init__(self, clock: Clock, *, processing: int = 1, **kwargs: Any) -> None:
        super().__init__(clock, **kwargs)
        self.processing = processing  # videos.list reads a new video stays "uploaded"
        self.channels: dict[str, Channel] = {}
        self.sessions: dict[str, Session] = {}
        self.videos: dict[str, Video] = {}
        self.comments: list[dict[str, Any]] = []
        self.quota_used = 0
        self.upload_limit = 100
        self.next_outcome: tuple[str, str] | None = None
        self._ids = itertools.count(1)

    @property
    def api_url(self) -> str:
        return f"{self.url}/youtube/v3"

    @property
    def upload_url(self) -> str:
        return f"{self.url}/upload/youtube/v3"

    @property
    def token_url(self) -> str:
        return f"{self.url}/token"

    # -- the world ---------------------------------------------------------------------------------------------

    def channel(self, channel_id: str, title: str, custom_url: str) -> Channel:
        with self.lock:
            return self.channels.setdefault(channel_id, Channel(channel_id, title, custom_url))

    def settle(self) -> None:
        with self.lock:
            for video in self.videos.values():
                video.reads_processing = 0

    def end_next_video(self, status: str, reason: str) -> None:
        """The next uploaded video ends `failed` or `rejected` with this documented reason."""
        self.next_outcome = (status, reason)

    # -- routes ------------------------------------------------------------------------------------------------

    def routes(self) -> list[Route]:
        return self.oauth_routes() + [
            ("POST", r"/upload/youtube/v3/videos", self._open),
            ("PUT", r"/upload/youtube/v3/videos", self._put),
            ("GET", r"/youtube/v3/videos", self._videos),
            ("GET", r"/youtube/v3/channels", self._channels),
            ("GET", r"/youtube/v3/playlistItems", self._playlist_items),
            ("POST", r"/youtube/v3/commentThreads", self._comment),
            ("GET", r"/youtube/v3/commentThreads", self._comment_threads),
        ]

    def _charge(self, method: str) -> None:
        if self.quota_used + COSTS[method] > DAILY_QUOTA:
            raise Answer(403, google_error(403, "quotaExceeded", "The request cannot be completed because you have "
                                           "exceeded your <a href=\"/youtube/v3/getting-started#quota\">quota</a>.",
                                           "PERMISSION_DENIED", domain="youtube.quota"))
        self.quota_used += COSTS[method]

    def _open(self, request: Request) -> Answer:
        channel = self.channels[self.user_of(request)]
        if request.arg("uploadType") != "resumable" or set((request.arg("part") or "").split(",")) != {"snippet",
                                                                                                       "status"}:
            return self.violation("videos.insert without uploadType=resumable&part=snippet,status")
        total = request.headers.get("x-upload-content-length", "")
        mime = request.headers.get("x-upload-content-type", "")
        if not total.isdigit() or not mime.startswith("video/"):
            return self.violation("videos.insert without X-Upload-Content-Length / X-Upload-Content-Type")
        metadata = request.json()
        self._check_metadata(metadata)
        self._charge("videos.insert")
        if channel.uploads >= self.upload_limit:
            raise Answer(400, google_error(400, "uploadLimitExceeded", "The user has exceeded the number of videos "
                                           "they may upload.", "INVALID_ARGUMENT", domain="youtube.video"))
        upload_id = f"AEnB2Uq-fake-{next(self._ids)}"
        self.sessions[upload_id] = Session(upload_id, channel.channel_id, int(total), mime, metadata,
                                           request.arg("notifySubscribers") or "true")
        location = f"{self.upload_url}/videos?uploadType=resumable&part=snippet,status&upload_id={upload_id}"
        return Answer(200, raw=b"", headers={"Location": location, "X-GUploader-UploadID": upload_id})

    def _check_metadata(self, metadata: Any) -> None:
        snippet = metadata.get("snippet") if isinstance(metadata, dict) else None
        status = metadata.get("status") if isinstance(metadata, dict) else None
        if not isinstance(snippet, dict) or not isinstance(status, dict):
            raise self.violation("videos.insert without snippet and status")
        title = snippet.get("title")
        if not isinstance(title, str) or not 1 <= len(title) <= 100 or "<" in title or ">" in title:
            raise Answer(400, google_error(400, "invalidTitle", "The request metadata specifies an invalid or "
                                           "empty video title.", "INVALID_ARGUMENT", domain="youtube.video"))
        if len(str(snippet.get("description") or "").encode()) > 5000:
            raise Answer(400, google_error(400, "invalidDescription", "The request metadata specifies an invalid "
                                           "video description.", "INVALID_ARGUMENT", domain="youtube.video"))
        if not str(snippet.get("categoryId") or "").isdigit():
            raise Answer(400, google_error(400, "invalidCategoryId", "The snippet.categoryId property specifies an"
                                           " invalid category ID.", "INVALID_ARGUMENT", domain="youtube.video"))
        if status.get("privacyStatus") not in PRIVACY:
            raise self.violation(f"privacyStatus {status.get('privacyStatus')!r}")

    def _put(self, request: Request) -> Answer:
        user = self.user_of(request)
        session = self.sessions.get(request.arg("upload_id") or "")
        if session is None:
            return Answer(404, google_error(404, "notFound", "Upload session not found.", "NOT_FOUND"))
        if session.channel_id != user:
            return self.violation("a PUT to another channel's session")
        span = request.headers.get("content-range", "").removeprefix("bytes ")
        if span == f"*/{session.total}":
            if request.body:
                return self.violation("a status query with a body")
            return self._session_answer(session)
        if session.video_id:
            return self.violation("bytes sent to a finished session")
        return self._chunk(session, span, request.body)

    def _chunk(self, session: Session, span: str, body: bytes) -> Answer:
        try:
            first_last, total = span.split("/")
            first, last = (int(part) for part in first_last.split("-"))
        except ValueError:
            return self.violation(f"Content-Range {span!r}")
        if int(total) != session.total or first != len(session.received) or last - first + 1 != len(body):
            return self.violation(f"Content-Range {span!r} while the session holds {len(session.received)} bytes "
                                  f"and the body is {len(body)}")
        if last + 1 < session.total and len(body) % UPLOAD_CHUNK:
            return self.violation("a chunk that is not a multiple of 256 KiB before the last")
        session.received += body
        if len(session.received) == session.total:
            self._make_video(session)
        return self._session_answer(session)

    def _session_answer(self, session: Session) -> Answer:
        if session.video_id:
            resource = self.videos[session.video_id].resource()
            return Answer(200, resource)
        headers = {"Range": f"bytes=0-{len(session.received) - 1}"} if session.received else {}
        return Answer(308, raw=b"", headers={**headers, "Content-Type": "text/plain"})

    def _make_video(self, session: Session) -> None:
        video_id = f"vid{next(self._ids):08d}"[:11]
        outcome, self.next_outcome = self.next_outcome or ("processed", ""), None
        self.videos[video_id] = Video(video_id, session.channel_id, session.metadata, bytes(session.received),
                                      to_rfc3339(self.clock.now()) or "", session.notify, self.processing, outcome)
        self.channels[session.channel_id].uploads += 1
        session.video_id = video_id

    def _videos(self, request: Request) -> Answer:
        self.user_of(request)
        items = []
        for video_id in (request.arg("id") or "").split(","):
            video = self.videos.get(video_id)
            if video is not None:
                items.append(video.resource())
                video.reads_processing = max(0, video.reads_processing - 1)
        return Answer(200, {"kind": "youtube#videoListResponse", "items": items,
                            "pageInfo": {"totalResults": len(items), "resultsPerPage": len(items)}})

    def _channels(self, request: Request) -> Answer:
        channel = self.channels.get(self.user_of(request))
        if request.arg("mine") != "true":
            return self.violation("channels.list without mine=true")
        parts = set((request.arg("part") or "").split(","))
        if not parts & {"snippet", "contentDetails"}:
            return self.violation(f"channels.list with part={request.arg('part')}")
        items = []
        if channel is not None:
            item: dict[str, Any] = {"kind": "youtube#channel", "etag": "fake-etag", "id": channel.channel_id}
            if "snippet" in parts:
                item["snippet"] = channel.snippet()
            if "contentDetails" in parts:
                item["contentDetails"] = {"relatedPlaylists": {"likes": "", "uploads": channel.uploads_playlist}}
            items.append(item)
        return Answer(200, {"kind": "youtube#channelListResponse", "items": items,
                            "pageInfo": {"totalResults": len(items), "resultsPerPage": 5}})

    def _playlist_items(self, request: Request) -> Answer:
        user = self.user_of(request)
        channel = self.channels[user]
        if request.arg("playlistId") != channel.uploads_playlist:
            return Answer(404, google_error(404, "playlistNotFound", "The playlist could not be found.", "NOT_FOUND"))
        videos = sorted((v for v in self.videos.values() if v.channel_id == user), key=lambda v: v.published_at,
                        reverse=True)
        items = [{"kind": "youtube#playlistItem", "id": f"item-{v.video_id}",
                  "snippet": {"publishedAt": v.published_at, "channelId": user, "title": v.metadata["snippet"]["title"],
                              "description": v.metadata["snippet"].get("description", ""),
                              "playlistId": channel.uploads_playlist,
                              "resourceId": {"kind": "youtube#video", "videoId": v.video_id}}} for v in videos]
        return Answer(200, {"kind": "youtube#playlistItemListResponse", "items": items[:50]})

    def _comment(self, request: Request) -> Answer:
        user = self.user_of(request)
        body = request.json()
        snippet = body.get("snippet") or {}
        video = self.videos.get(str(snippet.get("videoId")))
        text = ((snippet.get("topLevelComment") or {}).get("snippet") or {}).get("textOriginal")
        if video is None or snippet.get("channelId") != user or not text:
            return self.violation(f"commentThreads.insert {json.dumps(body)[:200]}")
        if video.resource()["status"]["uploadStatus"] != "processed":
            return self.violation("a first comment before the video was processed")
        self._charge("commentThreads.insert")
        thread = {"kind": "youtube#commentThread", "id": f"Ugz-fake-{next(self._ids)}",
                  "snippet": {"channelId": user, "videoId": video.video_id, "topLevelComment": {
                      "kind": "youtube#comment", "id": f"Ugz-comment-{next(self._ids)}",
                      "snippet": {"textOriginal": text, "textDisplay": text, "authorChannelId": {"value": user},
                                  "videoId": video.video_id}}}}
        self.comments.append(thread)
        return Answer(200, thread)

    def _comment_threads(self, request: Request) -> Answer:
        self.user_of(request)
        items = [t for t in self.comments if t["snippet"]["videoId"] == request.arg("videoId")]
        return Answer(200, {"kind": "youtube#commentThreadListResponse", "items": items})

    def published(self, channel_id: str) -> list[Video]:
        with self.lock:
            return [v for v in self.videos.values() if v.channel_id == channel_id]
