"""What each Lambda function may touch. The functions' IAM policies are built from this map alone.

A function gets only what is listed here, plus what its kind needs and the template already knows:
its own log group; for a queue consumer, receiving from its queue; for a scheduled function, sending
its failed events to the failed-jobs queue. A test fails when app.py has a function this map does
not name, and another proves the functional flows work under these policies.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

TableAccess = Literal["read", "append", "read_write"]
BucketAccess = Literal["read", "read_write"]

# No Scan: every access is GetItem/Query on a designed key or index, so the policy can say so.
# TransactWriteItems has no action of its own: IAM checks each item as PutItem, UpdateItem,
# DeleteItem or ConditionCheckItem on that item's table.
TABLE_READ = ("dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query", "dynamodb:ConditionCheckItem")
TABLE_WRITE = ("dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem")
# `append`: new items only (the audit log): no UpdateItem, DeleteItem or BatchWriteItem (which can delete).
TABLE_ACTIONS: dict[str, tuple[str, ...]] = {"read": TABLE_READ, "append": TABLE_READ + ("dynamodb:PutItem",),
                                             "read_write": TABLE_READ + TABLE_WRITE}
# GetQueueUrl: the code addresses queues by name. SendMessageBatch is authorised as SendMessage.
QUEUE_SEND_ACTIONS = ("sqs:GetQueueUrl", "sqs:SendMessage")
QUEUE_CONSUME_ACTIONS = ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes")
QUEUE_DEPTH_ACTIONS = ("sqs:GetQueueAttributes",)
# Envelope encryption (chalicelib/core/crypto.py): a data key per secret, unwrapped to open it.
KEY_ACTIONS = ("kms:GenerateDataKey", "kms:Decrypt")
OBJECT_ACTIONS: dict[str, tuple[str, ...]] = {
    "read": ("s3:GetObject",),
    # PutObject: the presigned upload URL acts with the signer's permissions.
    "read_write": ("s3:GetObject", "s3:PutObject"),
}
LOG_ACTIONS = ("logs:CreateLogStream", "logs:PutLogEvents")
# A stream consumer's event source mapping reads the stream with the function's role.
STREAM_READ_ACTIONS = ("dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator",
                       "dynamodb:ListStreams")


@dataclass(frozen=True)
class Access:
    tables: dict[str, TableAccess] = field(default_factory=dict)
    sends_to: tuple[str, ...] = ()
    # Queues whose depth it reads.
    reads_depth_of: tuple[str, ...] = ()
    secrets_key: bool = False
    media_bucket: BucketAccess | None = None
    # Without ListBucket S3 answers a missing key with 403 rather than 404 (NoSuchKey), which the worker
    # needs to fail a delivery whose media was never uploaded instead of retrying it.
    lists_media_bucket: bool = False
    # The Cognito user pool's admin calls (make users, set passwords, sign them out) and sign-in.
    user_pool: bool = False
    # SES SendEmail from the configured sender (invitations, password resets).
    sends_mail: bool = False


# A function that emits outbound webhook events (report.ready, message.received...): it reads the workspace's
# endpoints, writes each delivery (and the event's dedupe marker) and queues it for the sender.
NOTIFIES: dict[str, TableAccess] = {"webhook_endpoints": "read", "webhook_deliveries": "read_write"}

FUNCTIONS: dict[str, Access] = {
    # Every route: the API reads and writes what its routes serve, and queues a publish-now.
    "api_handler": Access(
        tables={"workspaces": "read_write", "api_keys": "read_write", "channels": "read_write",
                "posts": "read_write", "media": "read_write",
                # a reply through a sandbox channel is recorded there
                "sandbox_posts": "read_write",
                # reports and daily figures; a new workspace enrols in the roll-up registry; reply counters
                "metrics": "read_write",
                # webhooks store each event once; the inbox, saved replies, listening rules and mentions
                "webhook_events": "read_write", "inbox": "read_write", "inbox_config": "read_write",
                # OAuth connections in progress (POST /channels/connect, the callback, choosing accounts)
                "connect_states": "read_write",
                # outbound webhook endpoints (their sealed secrets) and replays of their deliveries
                "webhook_endpoints": "read_write", "webhook_deliveries": "read_write",
                # every write a caller makes is appended to the audit log, which no function may change
                "audit_log": "append",
                # CSV imports (the import row; the file goes through the media bucket); feeds and their items
                "post_imports": "read_write", "feeds": "read_write", "feed_items": "read",
                # queues, recurring series and evergreen posts (chalicelib/planning/)
                "planning": "read_write",
                # approval steps, comments, reviewers' magic links and sessions
                "approval": "read_write",
                # people: users, their memberships, invitations, password resets, agencies
                "users": "read_write", "memberships": "read_write", "invitations": "read_write",
                "password_resets": "read_write", "agencies": "read_write",
                # short links (made when a post is saved, read and counted by GET /l/{code}), conversions, goals
                "links": "read_write", "goals": "read_write",
                # ad campaigns and results; giveaways (their sealed seeds) read from the inbox's comments
                "ads": "read_write", "giveaways": "read_write",
                # the brand profile, and its consistency checked on demand (reports read the findings)
                "brand": "read_write"},
        sends_to=("publish", "inbox_events", "webhook_deliveries", "post_imports"), secrets_key=True,
        media_bucket="read_write", user_pool=True, sends_mail=True),
    # Fans the minute's work out: one unit per due shard on the tick queue, nothing else.
    "tick": Access(sends_to=("tick",)),
    # One unit: queues a shard's due deliveries and recovers expired claims (the posts table, the publish queue),
    # and hands what is left of its shard to a new unit on the tick queue.
    # It reads how many messages wait in the publish queue before sending a late one again (engine.py).
    "tick_worker": Access(tables={"posts": "read_write"}, sends_to=("publish", "tick"), reads_depth_of=("publish",)),
    # Publishes one delivery: reads the post, the channel's sealed credentials and the media; writes
    # the outcome, refreshed credentials, a channel that needs re-authorisation, a retry message.
    "publish_worker": Access(
        tables={"posts": "read_write", "channels": "read_write", "media": "read",
                "sandbox_posts": "read_write", "metrics": "read_write", **NOTIFIES},
        sends_to=("publish", "webhook_deliveries"), secrets_key=True, media_bucket="read", lists_media_bucket=True),
    # Writes each stored event into its message (the message's conversation found by `by_message`).
    "inbox_worker": Access(tables={"inbox": "read_write"}),
    # The inbox table's stream: threads each written event into its conversation, reads the listening rules
    # and writes mentions, counts them once (markers; the workspace's time zone decides the day), tells
    # webhook endpoints.
    "thread_messages": Access(tables={"inbox": "read_write", "inbox_config": "read_write",
                                      "metrics": "read_write", "workspaces": "read", **NOTIFIES},
                              sends_to=("webhook_deliveries",)),
    # Polls the networks without webhooks: the pollable channels (sealed credentials, refreshed sessions
    # saved back, revoked ones flagged), their cursors, and the ingest path (store once, queue).
    # A revoked channel's scheduled posts are flagged at risk (posts: `by_channel`, deliveries).
    # (inbox: whether an event seen before was written into its message.)
    "poll_inbox": Access(tables={"channels": "read_write", "inbox_config": "read_write",
                                 "webhook_events": "read_write", "inbox": "read", "posts": "read_write",
                                 **NOTIFIES},
                         sends_to=("inbox_events", "webhook_deliveries"), secrets_key=True),
    # Searches the networks for the listening rules that ask (the `listening#search` partition, the rules,
    # their mentions and search state), with each workspace's channels (sealed credentials, refreshed
    # sessions saved back, revoked ones flagged) and its language.
    "search_listening": Access(tables={"channels": "read_write", "inbox_config": "read_write",
                                       "workspaces": "read", "posts": "read_write", **NOTIFIES},
                               sends_to=("webhook_deliveries",), secrets_key=True),
    # Reads each channel's public profile (sealed credentials, refreshed sessions saved back), the logo from
    # the media library, and keeps the findings; the workspace's language folds names and bios.
    "brand_consistency": Access(tables={"brand": "read_write", "channels": "read_write", "media": "read",
                                        "workspaces": "read"},
                                secrets_key=True, media_bucket="read", lists_media_bucket=True),
    # Rolls up each workspace's finished local day: its counters and rows, the registry, and what the
    # networks report (channels' sealed credentials, refreshed tokens saved back).
    # Checks every channel daily (the `by_health` index), refreshes tokens ahead of expiry (sealed credentials
    # read and written back), and flags the posts scheduled on an unhealthy channel (`by_channel`, deliveries).
    "channel_health": Access(tables={"channels": "read_write", "posts": "read_write", **NOTIFIES},
                             sends_to=("webhook_deliveries",), secrets_key=True),
    # (posts: a channel found revoked has its scheduled posts flagged at risk.)
    "nightly_metrics": Access(tables={"metrics": "read_write", "channels": "read_write", "workspaces": "read",
                                      "posts": "read_write", **NOTIFIES},
                              sends_to=("webhook_deliveries",), secrets_key=True),
    # One attempt per message: the delivery (claimed, settled), its endpoint (sealed secrets, failing since,
    # disabled), a retry message.
    "webhook_sender": Access(tables={"webhook_endpoints": "read_write", "webhook_deliveries": "read_write"},
                             sends_to=("webhook_deliveries",), secrets_key=True),
    # The posts table's stream: counts each final outcome once (metrics: the marker, the counter, a published
    # post's item), reads the post for its text and time zone, and tells webhook endpoints.
    "count_outcomes": Access(tables={"posts": "read", "metrics": "read_write", **NOTIFIES},
                             sends_to=("webhook_deliveries",)),
    # Reads each live ad campaign's Meta results with its channel's sealed token (a refreshed one saved back),
    # writes the days and the campaign, and sends pacing alerts.
    "ads_daily": Access(tables={"ads": "read_write", "channels": "read_write", **NOTIFIES},
                        sends_to=("webhook_deliveries",), secrets_key=True),
    # Sends the deliveries that are due and that no message carries.
    "sweep_webhook_deliveries": Access(tables={"webhook_deliveries": "read"}, sends_to=("webhook_deliveries",)),
    # A chunk of a CSV import: the import's progress, the uploaded file, the workspace's channels and time
    # zone, the media a row names (checked as POST /posts checks it), the posts it makes; its next message.
    "import_worker": Access(tables={"post_imports": "read_write", "posts": "read_write", "channels": "read",
                                    "workspaces": "read", "media": "read"},
                            sends_to=("post_imports", "publish"), media_bucket="read"),
    # Reads the feeds due (`due_fetch`), records each item once, makes its post as POST /posts would.
    "fetch_feeds": Access(tables={"feeds": "read_write", "feed_items": "read_write", "posts": "read_write",
                                  "channels": "read", "workspaces": "read", "media": "read"},
                       sends_to=("publish",)),
    # Makes the coming occurrences of each recurring series and the copies of evergreen posts: the series and
    # queues (planning), the posts it writes through PostService (which reads the workspace's time zone, the
    # channels and the media it checks), and the publish queue for one due within the minute.
    "plan_ahead": Access(tables={"planning": "read_write", "posts": "read_write", "workspaces": "read",
                                 "channels": "read", "media": "read"}, sends_to=("publish",)),
}
