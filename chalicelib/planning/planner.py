"""What PostService hands over to planning (publishing/posts.py Planner): queued and recurring posts, and
what a post's edit means for its slots and its recycling."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from chalicelib.planning.queues import QueueService
    from chalicelib.planning.series import SeriesService
    from chalicelib.publishing.post_repository import DeliveryRow, PostRow
    from chalicelib.publishing.posts import PostDraft


class Planning:
    def __init__(self, queues: QueueService, series: SeriesService) -> None:
        self.queues = queues
        self.series = series

    def queue_post(self, workspace_id: str, draft: PostDraft, *, post_id: str | None = None
                   ) -> tuple[PostRow, list[DeliveryRow]]:
        return self.queues.queue_post(workspace_id, draft, post_id=post_id)

    def start_series(self, workspace_id: str, draft: PostDraft) -> tuple[PostRow, list[DeliveryRow]]:
        return self.series.start_series(workspace_id, draft)

    def post_saved(self, post: PostRow, plan_before: dict[str, Any]) -> None:
        self.queues.post_saved(post, plan_before)
        self.series.post_saved(post, plan_before)
