"""What each Lambda function may touch. The functions' IAM policies are built from this map alone.

A function gets only what is listed here, plus what its kind needs and the template already knows:
its own log group; for a queue consumer, receiving from its queue; for a scheduled function, sending
its failed events to the failed-jobs queue. A test fails when app.py has a function this map does
not name, and another proves the functional flows work under these policies.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

TableAccess = Literal["read", "read_write"]
BucketAccess = Literal["read", "read_write"]

# No Scan: every access is GetItem/Query on a designed key or index, so the policy can say so.
# TransactWriteItems has no action of its own: IAM checks each item as PutItem, UpdateItem,
# DeleteItem or ConditionCheckItem on that item's table.
TABLE_READ = ("dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query", "dynamodb:ConditionCheckItem")
TABLE_WRITE = ("dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem")
TABLE_ACTIONS: dict[str, tuple[str, ...]] = {"read": TABLE_READ, "read_write": TABLE_READ + TABLE_WRITE}
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


@dataclass(frozen=True)
class Access:
    tables: dict[str, TableAccess] = field(default_factory=dict)
    sends_to: tuple[str, ...] = ()
    # Queues whose depth it reads (the tick: a late message behind a backlog is not lost).
    reads_depth_of: tuple[str, ...] = ()
    secrets_key: bool = False
    media_bucket: BucketAccess | None = None
    # Without ListBucket S3 answers a missing key with 403 rather than 404 (NoSuchKey), which the worker
    # needs to fail a delivery whose media was never uploaded instead of retrying it.
    lists_media_bucket: bool = False


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
                "connect_states": "read_write"},
        sends_to=("publish", "inbox_events"), secrets_key=True, media_bucket="read_write"),
    # Queues due deliveries and recovers expired claims: the posts table and the publish queue only.
    "tick": Access(tables={"posts": "read_write"}, sends_to=("publish",), reads_depth_of=("publish",)),
    # Publishes one delivery: reads the post, the channel's sealed credentials and the media; writes
    # the outcome, refreshed credentials, a channel that needs re-authorisation, a retry message.
    "publish_worker": Access(
        tables={"posts": "read_write", "channels": "read_write", "media": "read",
                "sandbox_posts": "read_write", "metrics": "read_write"},
        sends_to=("publish",), secrets_key=True, media_bucket="read", lists_media_bucket=True),
    # Threads stored events into conversations: marks them applied, reads the listening rules and writes
    # mentions, counts them (the workspace's time zone decides the day).
    "inbox_worker": Access(tables={"webhook_events": "read_write", "inbox": "read_write",
                                   "inbox_config": "read_write", "metrics": "read_write",
                                   "workspaces": "read"}),
    # Polls the networks without webhooks: the pollable channels (sealed credentials, refreshed sessions
    # saved back, revoked ones flagged), their cursors, and the ingest path (store once, queue).
    "poll_inbox": Access(tables={"channels": "read_write", "inbox_config": "read_write",
                                 "webhook_events": "read_write"},
                         sends_to=("inbox_events",), secrets_key=True),
    # Rolls up each workspace's finished local day: its counters and rows, the registry, and what the
    # networks report (channels' sealed credentials, refreshed tokens saved back).
    "nightly_metrics": Access(tables={"metrics": "read_write", "channels": "read_write", "workspaces": "read"},
                              secrets_key=True),
}
