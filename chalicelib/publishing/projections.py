"""What each index of the `posts` table holds besides its keys: only what its readers use.

DynamoDB rewrites an index entry when the item's index key or one of its projected attributes
changes, and bills that write; an update that touches neither costs the index nothing. So every
attribute listed here is one that a reader of the index needs. The models (tables.py) and the table
definitions (infra/resources.py) both take these lists, so they cannot disagree.

`kind` is in every list: PynamoDB filters every query of the posts table on it (`kind IN (...)`) and
instantiates the item's class from it, and DynamoDB evaluates a filter on an index's entries only.
"""
from __future__ import annotations

# `by_workspace`, `by_status`: what `post_row` reads, so a listed post is the post. Not `outcome_seq`,
# which every final delivery outcome bumps and only the engine reads (strongly, from the table).
POST_LISTING = ("kind", "workspace_id", "post_id", "text", "status", "publish_at", "channel_ids", "variants",
                "media", "thread", "first_comment", "version", "created_at", "updated_at", "timezone",
                # the queue slots and series the calendar shows (chalicelib/planning/)
                "plan")

# `by_channel`: the posts are read by id afterwards. Neither attribute ever changes, so the engine's
# writes to a delivery never rewrite its entry, exactly as with KEYS_ONLY.
DELIVERY_POST = ("kind", "post_id")

# `due`: what the tick reads to queue a delivery, send its message again, or take back an expired claim.
# Not what the network answered (`remote_id`, `remote_url`, `published_at`, `last_error`).
DUE_WORK = ("kind", "workspace_id", "post_id", "channel_id", "network", "status", "post_version", "attempts",
            "due_at", "lease_until", "claim_token")
