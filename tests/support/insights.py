"""A sandbox network whose insights the test scripts: follower counts per
channel, figures per post text, and nights on which the network fails."""
from __future__ import annotations

from typing import Any

from chalicelib.networks.base import ChannelInsights, PostInsights, RetryableError
from chalicelib.networks.sandbox import SandboxAdapter


class ScriptedInsights(SandboxAdapter):
    def __init__(self, store: Any, clock: Any) -> None:
        super().__init__(store, clock, "http://herald.test", sleep=lambda _s: None)
        self.texts: dict[str, str] = {}
        self.figures: dict[str, dict[str, int]] = {}
        self.followers: dict[str, int | None] = {}
        self.failing: set[str] = set()
        self.asked: list[tuple[str, list[str]]] = []

    def publish(self, channel, request):
        result = super().publish(channel, request)
        self.texts[result.remote_id] = request.text
        return result

    def fetch_insights(self, channel, remote_ids):
        self.asked.append((channel.channel_id, list(remote_ids)))
        if channel.channel_id in self.failing:
            raise RetryableError("sandbox: 503 Service Unavailable", status=503)
        posts = [PostInsights(remote_id, **self.figures[self.texts[remote_id]]) for remote_id in remote_ids
                 if self.texts.get(remote_id) in self.figures]
        return ChannelInsights(self.followers.get(channel.channel_id), posts)
