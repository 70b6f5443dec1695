"""The built-in `sandbox` network: a place to try Herald and to test it.

It records every request it receives (duplicates included) with the time it
arrived. Channel settings inject trouble:
`latency_ms`, `fail` (none|429|500|timeout|auth|refused|invalid) and `fail_times`
(the first N attempts fail, then it works; absent: every attempt fails).
`timeout` records the post and then loses the answer, like a real network
that published but never replied.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from chalicelib.core.clock import Clock, SystemClock
from chalicelib.networks.base import (
    AmbiguousError,
    AuthError,
    ChannelContext,
    ChannelInsights,
    NetworkLimits,
    PermanentError,
    PollResult,
    PostInsights,
    PublishRequest,
    PublishResult,
    ReplyRequest,
    RetryableError,
)

LIMITS = NetworkLimits(max_text=5000, text_counting="characters", max_media=10,
                       media_types=("image/jpeg", "image/png", "image/gif", "image/webp", "video/mp4"),
                       max_media_bytes=50 * 1024 * 1024)
FAILURES = ("none", "429", "500", "timeout", "auth", "refused", "invalid")


class SandboxAdapter:
    network = "sandbox"
    limits = LIMITS
    no_profile = "The sandbox is Herald's own test channel: it has no public profile to compare."
    idempotent_publish = False

    def __init__(self, store: Any, clock: Clock | None = None, base_url: str = "",
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self._store = store
        self._clock = clock or SystemClock()
        self._base_url = base_url
        self._sleep = sleep

    def _trouble(self, channel: ChannelContext) -> str:
        settings = channel.settings
        latency = float(settings.get("latency_ms", 0) or 0)
        if latency > 0:
            self._sleep(latency / 1000)
        fail = str(settings.get("fail", "none") or "none")
        if fail == "none":
            return "none"
        fail_times = settings.get("fail_times")
        attempt = self._store.count_attempt(channel.workspace_id, channel.channel_id)
        if fail_times is not None and attempt > int(fail_times):
            return "none"
        return fail

    def _raise_for(self, fail: str) -> None:
        if fail == "429":
            raise RetryableError("sandbox: 429 Too Many Requests", status=429, retry_after_s=1)
        if fail == "500":
            raise RetryableError("sandbox: 500 Internal Server Error", status=500)
        if fail == "refused":
            raise RetryableError("sandbox: connection refused before the request was sent")
        if fail == "auth":
            raise AuthError("sandbox: the access token was revoked", status=401)
        if fail == "invalid":
            raise PermanentError("sandbox: the network refused this content", status=422)

    def publish(self, channel: ChannelContext, request: PublishRequest) -> PublishResult:
        fail = self._trouble(channel)
        self._raise_for(fail)
        now = self._clock.now()
        media = [{"alt": m.alt, "mime": m.mime, "url": m.url, "media_id": m.media_id} for m in request.media]
        remote_id = self._store.record(channel.workspace_id, channel.channel_id,
                                       delivery_id=request.delivery_id, text=request.text,
                                       received_at=now, media=media)
        if fail == "timeout":
            raise AmbiguousError("sandbox: the request timed out after it was sent")
        url = f"{self._base_url}/channels/{channel.channel_id}/sandbox/posts#{remote_id}"
        return PublishResult(remote_id=remote_id, remote_url=url, published_at=now)

    def reply(self, channel: ChannelContext, request: ReplyRequest) -> PublishResult:
        fail = self._trouble(channel)
        self._raise_for(fail)
        now = self._clock.now()
        remote_id = self._store.record(channel.workspace_id, channel.channel_id, delivery_id=request.reply_id,
                                       text=request.text, received_at=now, media=[], kind="reply",
                                       in_reply_to=request.in_reply_to)
        if fail == "timeout":
            raise AmbiguousError("sandbox: the request timed out after it was sent")
        return PublishResult(remote_id=remote_id, published_at=now)

    def fetch_insights(self, channel: ChannelContext, remote_ids: list[str]) -> ChannelInsights:
        """Deterministic figures, so that reports can be tested exactly."""
        posts = []
        for remote_id in remote_ids:
            seed = sum(remote_id.encode())
            posts.append(PostInsights(remote_id=remote_id, likes=seed % 17, reposts=seed % 5,
                                      replies=seed % 3, impressions=100 + seed % 400))
        followers = int(channel.settings.get("followers", 1000))
        return ChannelInsights(followers=followers, posts=posts)

    def poll_inbox(self, channel: ChannelContext, cursor: str | None) -> PollResult:
        return PollResult(events=[], cursor=cursor)

    def describe_account(self, channel: ChannelContext) -> dict[str, str]:
        handle = str(channel.settings.get("handle") or channel.channel_id)
        return {"handle": handle, "account_id": handle}
