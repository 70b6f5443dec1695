"""Approval settings, sending a post for approval, decisions, the reviewer's magic link, comments."""
from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib.approval.schemas import (
    ApprovalSettings,
    ApprovalSettingsIn,
    ApproveRequest,
    CommentCreate,
    CommentOut,
    CommentPage,
    PostPreview,
    RejectRequest,
    ReviewSessionOut,
    SubmitRequest,
)
from chalicelib.core.api import Call, route
from chalicelib.core.clock import to_rfc3339
from chalicelib.core.schemas import PageQuery
from chalicelib.publishing.schemas import Post
from chalicelib.wiring import Container

bp = Blueprint(__name__)
TAG = "approval"


def _steps_view(steps: list[Any]) -> dict[str, Any]:
    return {"steps": [step.as_dict() for step in steps]}


def _post(found: tuple[Any, Any]) -> dict[str, Any]:
    from chalicelib.publishing.views import post_view

    return post_view(*found)


@route(bp, "/workspace/approval", "GET", summary="The workspace's approval steps", tag=TAG,
       response=ApprovalSettings)
def get_approval(call: Call[Container]) -> dict[str, Any]:
    return _steps_view(call.deps.approval.steps(call.workspace_id))


@route(bp, "/workspace/approval", "PUT", summary="Set the approval steps (in order; [] for none)", tag=TAG,
       role="admin", body=ApprovalSettingsIn, response=ApprovalSettings)
def put_approval(call: Call[Container]) -> dict[str, Any]:
    from chalicelib.approval.steps import Step

    body: ApprovalSettingsIn = call.body
    steps = [Step(s.name, s.role, tuple(e.lower() for e in s.reviewers or ())) for s in body.steps]
    return _steps_view(call.deps.approval.set_steps(call.workspace_id, steps))


@route(bp, "/posts/{post_id}/submit", "POST", summary="Send a post for approval (step 1)", tag=TAG,
       role="editor", body=SubmitRequest, response=Post)
def submit_post(call: Call[Container], post_id: str) -> dict[str, Any]:
    assert call.principal is not None
    return _post(call.deps.approval.submit(call.principal, post_id, call.body.version))


@route(bp, "/posts/{post_id}/approve", "POST", summary="Approve the post's current step", tag=TAG,
       role="client", body=ApproveRequest, response=Post)
def approve_post(call: Call[Container], post_id: str) -> dict[str, Any]:
    assert call.principal is not None
    body: ApproveRequest = call.body
    return _post(call.deps.approval.approve(call.principal, post_id, body.version, body.comment))


@route(bp, "/posts/{post_id}/reject", "POST", summary="Reject the post at its current step", tag=TAG,
       role="client", body=RejectRequest, response=Post)
def reject_post(call: Call[Container], post_id: str) -> dict[str, Any]:
    assert call.principal is not None
    body: RejectRequest = call.body
    return _post(call.deps.approval.reject(call.principal, post_id, body.version, body.comment))


@route(bp, "/posts/{post_id}/preview", "GET", summary="The post as each network will show it", tag=TAG,
       role="client", response=PostPreview)
def preview_post(call: Call[Container], post_id: str) -> dict[str, Any]:
    assert call.principal is not None
    return call.deps.approval.preview(call.principal, post_id)


@route(bp, "/posts/{post_id}/comments", "GET", summary="The post's comments, oldest first", tag=TAG,
       role="client", query=PageQuery, response=CommentPage)
def list_comments(call: Call[Container], post_id: str) -> dict[str, Any]:
    from chalicelib.approval.comments import comment_view

    assert call.principal is not None
    rows, cursor = call.deps.comments.list(call.principal, post_id, call.query.limit, call.query.cursor)
    return {"items": [comment_view(row) for row in rows], "next_cursor": cursor}


@route(bp, "/posts/{post_id}/comments", "POST", summary="Comment on a post (@mention members)", tag=TAG,
       role="client", body=CommentCreate, response=CommentOut, status=201)
def add_comment(call: Call[Container], post_id: str) -> dict[str, Any]:
    from chalicelib.approval.comments import comment_view

    assert call.principal is not None
    body: CommentCreate = call.body
    comment, unknown = call.deps.comments.add(call.principal, post_id, body.text, body.visibility)
    return {**comment_view(comment), "unresolved_mentions": unknown}


@route(bp, "/review/{token}", "GET", summary="Open a review link: a reviewer credential for that one post",
       tag=TAG, role=None, response=ReviewSessionOut, errors=(400, 404))
def open_review_link(call: Call[Container], token: str) -> dict[str, Any]:
    session = call.deps.review_links.exchange(token)
    post = f"/posts/{session.grant.post_id}"
    return {"credential": session.credential, "token_type": "Bearer", "expires_at": to_rfc3339(session.expires_at),
            "post_id": session.grant.post_id, "reviewer": session.grant.email,
            "links": {"preview": f"{post}/preview", "comments": f"{post}/comments", "approve": f"{post}/approve",
                      "reject": f"{post}/reject"}}
