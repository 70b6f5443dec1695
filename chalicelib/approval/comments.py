"""Comments on posts: members' notes (internal: a client reviewer never sees them) and the notes shared with
reviewers (a reviewer's own comments are always shared). An @mention names a member (directory.py); each
one mentioned is told (`comment.mentioned`, and an email when the member has an address)."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chalicelib.approval.approval_repository import ApprovalStore, Comment
from chalicelib.approval.directory import MemberDirectory, mentioned
from chalicelib.approval.notify import ApprovalNotifier
from chalicelib.approval.service import actor_of
from chalicelib.core.clock import Clock, to_rfc3339
from chalicelib.core.errors import Forbidden
from chalicelib.core.ids import new_id
from chalicelib.core.principal import ROLE_RANK, Principal

SHARED = "reviewers"


def comment_view(comment: Comment) -> dict[str, Any]:
    return {"id": comment.comment_id, "post_id": comment.post_id, "text": comment.text,
            "visibility": comment.visibility, "created_at": comment.created_at,
            "author": {"id": comment.author_id, "name": comment.author_name, "role": comment.author_role},
            "mentions": comment.mentions}


class CommentService:
    def __init__(self, store: ApprovalStore, reachable: Callable[[Principal, str], Any],
                 directory: MemberDirectory, notifier: ApprovalNotifier, clock: Clock) -> None:
        self.store = store
        self.reachable = reachable  # ApprovalService.reachable: 404 for a post the caller may not see
        self.directory = directory
        self.notifier = notifier
        self.clock = clock

    def add(self, principal: Principal, post_id: str, text: str, visibility: str) -> tuple[Comment, list[str]]:
        """The comment and the @mentions that named nobody."""
        self.reachable(principal, post_id)
        client = principal.role == "client"
        if not client and ROLE_RANK[principal.role] < ROLE_RANK["editor"]:
            raise Forbidden(f"Commenting needs the editor role or higher; your key is {principal.role}.")
        members = self.directory.members(principal.workspace_id)
        found, unknown = ([], []) if client else mentioned(text, members)
        actor = actor_of(principal, self.directory)
        now = self.clock.now()
        comment = Comment(principal.workspace_id, post_id, new_id("cmt", now), actor.id, actor.role, text,
                          SHARED if client else visibility, to_rfc3339(now), actor.name or actor.email,
                          [{"id": m.id, "name": m.name, **({"email": m.email} if m.email else {})} for m in found])
        self.store.add_comment(comment)
        for member in found:
            self.notifier.mentioned(principal.workspace_id, post_id, comment_view(comment), member)
        return comment, unknown

    def list(self, principal: Principal, post_id: str, limit: int,
             cursor: str | None) -> tuple[list[Comment], str | None]:
        self.reachable(principal, post_id)
        rows, next_cursor = self.store.comments(principal.workspace_id, post_id, limit, cursor)
        if principal.role == "client":
            rows = [row for row in rows if row.visibility == SHARED]
        return rows, next_cursor
