"""The approval table (keys as in infra/resources.py; layout in docs/data-model.md).

- `settings#<workspace_id>` / `settings`: the workspace's approval steps.
- `comments#<workspace_id>#<post_id>` / `<created_at>#<comment_id>`: a post's comments, oldest first.
- `link#<sha256 of the token>` / `link`: a client reviewer's magic link (single use), gone after it expires.
- `session#<sha256 of the credential>` / `session`: the reviewer credential a link was exchanged for.

The post's approval round itself is on the post item (publishing's `PostRecord.approval`).
"""
from __future__ import annotations

from pynamodb.attributes import DiscriminatorAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.models import Model

from chalicelib.core.tables import table_meta


class ApprovalTableRecord(Model):
    Meta = table_meta("approval")
    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    kind = DiscriminatorAttribute()
    # DynamoDB's TTL: links and sessions are deleted some time after they expire (they are refused from
    # `expires_at` on, whatever TTL has done).
    expires_at_epoch = NumberAttribute(null=True)


class ApprovalSettingsRecord(ApprovalTableRecord, discriminator="settings"):
    steps = UnicodeAttribute()  # JSON: [{name, role?, reviewers[]}]
    updated_at = UnicodeAttribute()


class CommentRecord(ApprovalTableRecord, discriminator="comment"):
    workspace_id = UnicodeAttribute()
    post_id = UnicodeAttribute()
    comment_id = UnicodeAttribute()
    author_id = UnicodeAttribute()
    author_role = UnicodeAttribute()
    author_name = UnicodeAttribute(null=True)
    text = UnicodeAttribute()
    visibility = UnicodeAttribute()  # internal | reviewers
    mentions = UnicodeAttribute(null=True)  # JSON: [{id, name, email?}]
    created_at = UnicodeAttribute()


class ReviewLinkRecord(ApprovalTableRecord, discriminator="link"):
    workspace_id = UnicodeAttribute()
    post_id = UnicodeAttribute()
    email = UnicodeAttribute()
    expires_at = UnicodeAttribute()
    used_at = UnicodeAttribute(null=True)


class ReviewSessionRecord(ApprovalTableRecord, discriminator="session"):
    workspace_id = UnicodeAttribute()
    post_id = UnicodeAttribute()
    email = UnicodeAttribute()
    expires_at = UnicodeAttribute()
