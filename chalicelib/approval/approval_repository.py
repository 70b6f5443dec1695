"""The approval table's reads and writes: settings, comments, magic links and reviewer sessions.
Only hashes of link tokens and credentials are stored; a link is used once (a conditional write)."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from pynamodb.exceptions import UpdateError

from chalicelib.approval.tables import (
    ApprovalSettingsRecord,
    CommentRecord,
    ReviewLinkRecord,
    ReviewSessionRecord,
)
from chalicelib.core.clock import parse_rfc3339, to_rfc3339
from chalicelib.core.pages import decode_cursor, encode_cursor

SETTINGS_SK = "settings"


@dataclass(frozen=True)
class Comment:
    workspace_id: str
    post_id: str
    comment_id: str
    author_id: str
    author_role: str
    text: str
    visibility: str
    created_at: str
    author_name: str | None = None
    mentions: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class ReviewGrant:
    """What a magic link or a reviewer session grants: one reviewer, one post, until `expires_at`."""

    workspace_id: str
    post_id: str
    email: str
    expires_at: datetime
    used_at: datetime | None = None


class ApprovalStore(Protocol):
    def steps(self, workspace_id: str) -> list[dict[str, Any]]: ...
    def put_steps(self, workspace_id: str, steps: list[dict[str, Any]], now: datetime) -> None: ...
    def add_comment(self, comment: Comment) -> None: ...
    def comments(self, workspace_id: str, post_id: str, limit: int,
                 cursor: str | None) -> tuple[list[Comment], str | None]: ...
    def put_link(self, token_hash: str, grant: ReviewGrant) -> None: ...
    def use_link(self, token_hash: str, now: datetime) -> ReviewGrant | None: ...
    def link(self, token_hash: str) -> ReviewGrant | None: ...
    def put_session(self, credential_hash: str, grant: ReviewGrant) -> None: ...
    def session(self, credential_hash: str) -> ReviewGrant | None: ...


def _comments_pk(workspace_id: str, post_id: str) -> str:
    return f"comments#{workspace_id}#{post_id}"


def _epoch(moment: datetime) -> int:
    return int(moment.timestamp())


def _grant(record: ReviewLinkRecord | ReviewSessionRecord) -> ReviewGrant:
    used = getattr(record, "used_at", None)
    return ReviewGrant(record.workspace_id, record.post_id, record.email, parse_rfc3339(record.expires_at),
                       parse_rfc3339(used) if used else None)


class ApprovalRepository:
    """The DynamoDB ApprovalStore."""

    def steps(self, workspace_id: str) -> list[dict[str, Any]]:
        """The steps as stored: [{name, role?, reviewers[]}] (approval/steps.py Step.from_dict reads them)."""
        try:
            record = ApprovalSettingsRecord.get(f"settings#{workspace_id}", SETTINGS_SK, consistent_read=True)
        except ApprovalSettingsRecord.DoesNotExist:
            return []
        return list(json.loads(record.steps))

    def put_steps(self, workspace_id: str, steps: list[dict[str, Any]], now: datetime) -> None:
        ApprovalSettingsRecord(f"settings#{workspace_id}", SETTINGS_SK, steps=json.dumps(steps),
                               updated_at=to_rfc3339(now)).save()

    def add_comment(self, comment: Comment) -> None:
        CommentRecord(_comments_pk(comment.workspace_id, comment.post_id),
                      comment.comment_id, workspace_id=comment.workspace_id,
                      post_id=comment.post_id, comment_id=comment.comment_id, author_id=comment.author_id,
                      author_role=comment.author_role, author_name=comment.author_name, text=comment.text,
                      visibility=comment.visibility, mentions=json.dumps(comment.mentions) if comment.mentions
                      else None, created_at=comment.created_at).save(condition=CommentRecord.pk.does_not_exist())

    def comments(self, workspace_id: str, post_id: str, limit: int,
                 cursor: str | None) -> tuple[list[Comment], str | None]:
        pk = _comments_pk(workspace_id, post_id)
        result = CommentRecord.query(pk, limit=limit, last_evaluated_key=decode_cursor(cursor, {"pk": pk},
                                                                                      ("pk", "sk")))
        found = [Comment(r.workspace_id, r.post_id, r.comment_id, r.author_id, r.author_role, r.text,
                         r.visibility, r.created_at, r.author_name, json.loads(r.mentions) if r.mentions else [])
                 for r in result]
        return found, encode_cursor(result.last_evaluated_key)

    def put_link(self, token_hash: str, grant: ReviewGrant) -> None:
        ReviewLinkRecord(f"link#{token_hash}", "link", workspace_id=grant.workspace_id, post_id=grant.post_id,
                         email=grant.email, expires_at=to_rfc3339(grant.expires_at),
                         expires_at_epoch=_epoch(grant.expires_at)).save(
            condition=ReviewLinkRecord.pk.does_not_exist())

    def link(self, token_hash: str) -> ReviewGrant | None:
        try:
            return _grant(ReviewLinkRecord.get(f"link#{token_hash}", "link", consistent_read=True))
        except ReviewLinkRecord.DoesNotExist:
            return None

    def use_link(self, token_hash: str, now: datetime) -> ReviewGrant | None:
        """Marks the link used, once: None when it does not exist, was used, or has expired."""
        record = ReviewLinkRecord(f"link#{token_hash}", "link")
        try:
            record.update(actions=[ReviewLinkRecord.used_at.set(to_rfc3339(now))],
                          condition=ReviewLinkRecord.pk.exists() & ReviewLinkRecord.used_at.does_not_exist()
                          & (ReviewLinkRecord.expires_at_epoch > _epoch(now)))
        except UpdateError:
            return None
        return _grant(record)

    def put_session(self, credential_hash: str, grant: ReviewGrant) -> None:
        ReviewSessionRecord(f"session#{credential_hash}", "session", workspace_id=grant.workspace_id,
                            post_id=grant.post_id, email=grant.email,
                            expires_at=to_rfc3339(grant.expires_at),
                            expires_at_epoch=_epoch(grant.expires_at)).save(
            condition=ReviewSessionRecord.pk.does_not_exist())

    def session(self, credential_hash: str) -> ReviewGrant | None:
        try:
            return _grant(ReviewSessionRecord.get(f"session#{credential_hash}", "session", consistent_read=True))
        except ReviewSessionRecord.DoesNotExist:
            return None
