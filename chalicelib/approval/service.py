"""Approval that blocks: the workspace's steps, the gate every post write passes, and the decisions.

A post meant to be scheduled in a workspace with steps is written `pending_approval` with a new round at
step 1 bound to its version (PostService calls `WorkspaceApproval.gate` on every write, so any edit starts
again at step 1). Its deliveries then have no due time: the engine never sees them. Each decision names the
version it was made on; the last approval makes the post `scheduled` (due at publish_at, or at once when
that has passed), a rejection makes it a draft. The decision and the status it sets are one conditional
write on the post (PostService.settle_approval).
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from chalicelib.approval.approval_repository import ApprovalStore
from chalicelib.approval.directory import MemberDirectory
from chalicelib.approval.notify import ApprovalNotifier
from chalicelib.approval.steps import Actor, Step, decide, open_round, post_status_after, reviewers_of
from chalicelib.core.clock import Clock
from chalicelib.core.errors import Conflict, NotFound
from chalicelib.core.principal import Principal

if TYPE_CHECKING:
    from chalicelib.publishing.post_repository import DeliveryRow, PostRow
    from chalicelib.publishing.posts import PostService

log = logging.getLogger("herald.approval")
MEANT_TO_GO_OUT = ("scheduled", "pending_approval")
PostRead = tuple["PostRow", list["DeliveryRow"]]


class WorkspaceApproval:
    """The gate PostService asks on every write (publishing/posts.py ApprovalGate)."""

    def __init__(self, store: ApprovalStore, notifier: ApprovalNotifier, clock: Clock) -> None:
        self.store = store
        self.notifier = notifier
        self.clock = clock

    def gate(self, post: PostRow) -> None:
        if post.status not in MEANT_TO_GO_OUT:
            if (post.approval or {}).get("status") == "pending":  # taken back to draft: nothing waits now
                post.approval = {**(post.approval or {}), "status": "withdrawn", "current_step": None}
            return
        steps = [Step.from_dict(step) for step in self.store.steps(post.workspace_id)]
        if not steps:  # nothing to approve: a post sent for approval is simply scheduled
            post.status = "scheduled"
            return
        post.status = "pending_approval"
        post.approval = open_round(steps, post.version, self.clock.now(), post.approval)

    def written(self, post: PostRow) -> None:
        if post.status == "pending_approval" and (post.approval or {}).get("version") == post.version:
            self.notifier.requested(post)


def actor_of(principal: Principal, directory: MemberDirectory | None = None) -> Actor:
    if principal.role == "client" or ":" in principal.key_id:
        return Actor(principal.key_id, principal.role, principal.email)
    actor_id = f"key:{principal.key_id}"
    name = None
    if directory is not None:
        name = next((m.name for m in directory.members(principal.workspace_id) if m.id == actor_id), None)
    return Actor(actor_id, principal.role, principal.email, name)


class ApprovalService:
    def __init__(self, store: ApprovalStore, posts: PostService, notifier: ApprovalNotifier,
                 directory: MemberDirectory, clock: Clock,
                 channels_of: Callable[[str, list[str]], dict[str, Any]] | None = None) -> None:
        self.store = store
        # (workspace_id, channel_ids) -> {channel_id: ChannelRow}: what the preview shows each network as.
        self.channels_of = channels_of or (lambda _workspace_id, _ids: {})
        self.posts = posts
        self.notifier = notifier
        self.directory = directory
        self.clock = clock

    # -- settings ----------------------------------------------------------------

    def steps(self, workspace_id: str) -> list[Step]:
        return [Step.from_dict(step) for step in self.store.steps(workspace_id)]

    def set_steps(self, workspace_id: str, steps: list[Step]) -> list[Step]:
        """New steps apply to posts sent for approval from now on; a round under way keeps its own."""
        self.store.put_steps(workspace_id, [step.as_dict() for step in steps], self.clock.now())
        return steps

    # -- posts -------------------------------------------------------------------

    def reachable(self, principal: Principal, post_id: str) -> PostRead:
        """The post, if this caller may see it: a member sees every post of the workspace; a client reviewer
        only the post its session is for (or, signed in, the posts whose approval names its email)."""
        post, deliveries = self.posts.get(principal.workspace_id, post_id)
        if principal.role == "client":
            allowed = (principal.scope == f"post:{post_id}" if principal.scope is not None
                       else bool(principal.email) and (principal.email or "").lower() in reviewers_of(post.approval))
            if not allowed:
                raise NotFound(f"No post {post_id} in this workspace.")
        return post, deliveries

    def preview(self, principal: Principal, post_id: str) -> dict[str, Any]:
        from chalicelib.approval.preview import preview

        post, _ = self.reachable(principal, post_id)
        return preview(post, self.channels_of(principal.workspace_id, post.channel_ids))

    def submit(self, principal: Principal, post_id: str, version: int | None) -> PostRead:
        post, _ = self.posts.get(principal.workspace_id, post_id)
        if post.status == "pending_approval":
            raise Conflict("The post is already waiting for approval.", code="already_pending_approval")
        if not self.store.steps(principal.workspace_id):
            raise Conflict("This workspace has no approval steps: set them with PUT /workspace/approval, or "
                           "schedule the post.", code="no_approval_steps")
        return self.posts.update(principal.workspace_id, post_id, {"status": "pending_approval"}, version)

    def approve(self, principal: Principal, post_id: str, version: int, comment: str | None) -> PostRead:
        return self._decide(principal, post_id, "approved", version, comment)

    def reject(self, principal: Principal, post_id: str, version: int, comment: str) -> PostRead:
        return self._decide(principal, post_id, "rejected", version, comment)

    def _decide(self, principal: Principal, post_id: str, verdict: str, version: int,
                comment: str | None) -> PostRead:
        post, deliveries = self.reachable(principal, post_id)
        if post.status != "pending_approval" or not post.approval:
            if version != post.version:
                raise Conflict(f"You decided on version {version}, but the post is at version {post.version}.",
                               code="version_conflict")
            raise Conflict(f"The post is {post.status}: it is not waiting for approval.",
                           code="not_pending_approval")
        round_ = decide(post.approval, post.version, actor_of(principal, self.directory), verdict, version,
                        comment, self.clock.now())
        post, deliveries = self.posts.settle_approval(post, deliveries, round_, post_status_after(round_))
        self._tell(lambda: self.notifier.decided(post, round_))
        return post, deliveries

    @staticmethod
    def _tell(notify: Callable[[], Any]) -> None:
        try:
            notify()
        except Exception:  # the decision is written: a notification that failed must not undo it
            log.exception("Telling about an approval decision failed")
