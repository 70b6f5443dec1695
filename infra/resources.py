"""Every table, queue, key and bucket Herald needs, as CloudFormation resources.

`make package` merges these into the Chalice template; the local stack
(`infra/local`) creates the very same definitions in the AWS emulation. Key
layouts are documented in docs/data-model.md.
"""
from __future__ import annotations

from typing import Any

from chalicelib.core.settings import QUEUES, TABLES, resource_name
from chalicelib.publishing.projections import DELIVERY_POST, DUE_WORK, POST_LISTING

Resource = dict[str, Any]


def _gsi(name: str, hash_key: str, range_key: str | None = None,
         projection: str = "ALL", include: tuple[str, ...] = ()) -> Resource:
    schema = [{"AttributeName": hash_key, "KeyType": "HASH"}]
    if range_key:
        schema.append({"AttributeName": range_key, "KeyType": "RANGE"})
    if include:
        return {"IndexName": name, "KeySchema": schema,
                "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": list(include)}}
    return {"IndexName": name, "KeySchema": schema, "Projection": {"ProjectionType": projection}}


# logical name -> (hash key, range key, global secondary indexes, TTL attribute)
TABLE_LAYOUTS: dict[str, dict[str, Any]] = {
    "workspaces": {
        "keys": ("workspace_id", None),
        "indexes": [_gsi("by_feed_token", "feed_token_id"),
                    # An agency's client workspaces (chalicelib/people/agencies.py): its fan-out list.
                    _gsi("by_agency", "agency_id", "workspace_id")],
    },
    "api_keys": {
        "keys": ("key_id", None),
        "indexes": [_gsi("by_workspace", "workspace_id", "created_at")],
    },
    "channels": {
        "keys": ("workspace_id", "channel_id"),
        "indexes": [
            _gsi("by_account", "account_key"),
            # Sparse: only channels of networks without webhooks, which the poller reads.
            _gsi("pollable", "poll_key", "channel_id"),
            # Every channel, spread over a few shards: the daily channel_health job's way to all of them.
            _gsi("by_health", "health_key", "channel_id"),
            # Channels by the user who granted them (Meta's deauthorize callback names that user).
            _gsi("by_grant", "grant_key"),
        ],
    },
    "posts": {
        "keys": ("pk", "sk"),
        "indexes": [
            # Each projects only what its readers use (chalicelib/publishing/projections.py).
            _gsi("by_workspace", "post_workspace_id", "publish_key", include=POST_LISTING),
            _gsi("by_status", "post_workspace_status", "publish_key", include=POST_LISTING),
            _gsi("by_channel", "delivery_workspace_channel", "publish_key", include=DELIVERY_POST),
            _gsi("due", "due_shard", "due_key", include=DUE_WORK),
            # Sparse: unsent deliveries whose channel is not healthy (GET /posts?at_risk=true).
            _gsi("at_risk", "risk_workspace", "publish_key", include=DELIVERY_POST),
        ],
        # Feeds the counter consumer (count_outcomes): outcomes are counted off the publish path.
        "stream": "NEW_AND_OLD_IMAGES",
    },
    "media": {
        "keys": ("workspace_id", "media_id"),
        "indexes": [],
    },
    "sandbox_posts": {
        "keys": ("channel_key", "received_key"),
        "indexes": [],
    },
    # Counters and daily rows per `<workspace>#<channel>` (sk `<local day>#counts|daily`), and the
    # registry of workspaces the nightly roll-up visits (`registry#<shard>`, sk the workspace id).
    "metrics": {
        "keys": ("pk", "sk"),
        "indexes": [],
        # The counter consumer's markers (`counted#...`): a stream record counted once, kept a week.
        "ttl": "expires_at_epoch",
    },
    # Conversations and their messages share an item collection; see docs/inbox.md.
    "inbox": {
        "keys": ("pk", "sk"),
        "indexes": [
            _gsi("by_workspace", "conv_workspace", "activity_key"),
            _gsi("by_status", "conv_status", "activity_key"),
            _gsi("by_channel", "conv_channel", "activity_key"),
            _gsi("by_assignee", "conv_assignee", "activity_key"),
            _gsi("by_message", "message_ref", projection="KEYS_ONLY"),
        ],
        # Feeds the inbox's stream consumer (thread_messages): conversations, listening, counters and
        # webhook events follow from each stored message, off the ingest path.
        "stream": "NEW_AND_OLD_IMAGES",
    },
    # Each network event once per channel, kept past the longest retry window.
    "webhook_events": {
        "keys": ("event_key", None),
        "indexes": [],
        "ttl": "expires_at_epoch",
    },
    # Saved replies, listening rules, mentions, poll cursors, webhook counters.
    "inbox_config": {
        "keys": ("pk", "sk"),
        "indexes": [],
    },
    # Brand profiles and the latest consistency findings per workspace; `brand#profiles` lists the
    # workspaces with a profile for the daily check (chalicelib/brand/tables.py).
    "brand": {
        "keys": ("pk", "sk"),
        "indexes": [],
    },
    # OAuth connections in progress, by the SHA-256 of their state; gone after their ten minutes.
    "connect_states": {
        "keys": ("state_hash", None),
        "indexes": [],
        "ttl": "expires_at_epoch",
    },
    # Outbound webhook endpoints of each workspace.
    "webhook_endpoints": {
        "keys": ("workspace_id", "endpoint_id"),
        "indexes": [],
    },
    # Every write made through the API; append-only (no Update/Delete in any function's policy), TTL from
    # the workspace's retention.
    "audit_log": {
        "keys": ("workspace_id", "entry_key"),
        "indexes": [_gsi("by_actor", "actor_key", "entry_key"), _gsi("by_object", "object_key", "entry_key")],
        "ttl": "expires_at_epoch",
    },
    # Each message's delivery to each endpoint (the delivery log), kept 30 days; sparse `pending` index:
    # the deliveries waiting for an attempt, which the sweeper reads when due.
    "webhook_deliveries": {
        "keys": ("endpoint_key", "message_id"),
        "indexes": [_gsi("pending", "pending_shard", "next_attempt_at", include=("attempts",))],
        "ttl": "expires_at_epoch",
    },
    # CSV imports of posts, one item each with its progress; read by id only.
    "post_imports": {
        "keys": ("workspace_id", "import_id"),
        "indexes": [],
    },
    # Feeds of each workspace; sparse `due_fetch` index: the active feeds by when they are next read.
    "feeds": {
        "keys": ("workspace_id", "feed_id"),
        "indexes": [_gsi("due_fetch", "fetch_shard", "next_fetch_at")],
    },
    # Each feed's items, once each (`<workspace_id>#<feed_id>` / the item's key, a hash of its guid or link).
    "feed_items": {
        "keys": ("feed_key", "item_key"),
        "indexes": [],
    },
    # Each channel's queue (`<workspace>#<channel>`: sk `queue`, and `slot#<time>` per slot a post holds),
    # recurring series (`<workspace>`, sk `series#<id>`) and their occurrences (`<workspace>#series#<id>`),
    # evergreen posts (`<workspace>`, sk `recycle#<post>`). Sparse `job_items`: what the daily job visits.
    "planning": {
        "keys": ("pk", "sk"),
        "indexes": [_gsi("job_items", "job_shard", "job_key")],
        "ttl": "expires_at_epoch",
    },
    # Approval steps per workspace, comments on posts, client reviewers' magic links and sessions (by the
    # SHA-256 of the token), gone after they expire. See chalicelib/approval/tables.py.
    "approval": {
        "keys": ("pk", "sk"),
        "indexes": [],
        "ttl": "expires_at_epoch",
    },
    # People (chalicelib/people/): a user by id (their Cognito username) or by sign-in email.
    "users": {
        "keys": ("user_id", None),
        "indexes": [_gsi("by_email", "email")],
    },
    # A person's role in a workspace or an agency; `by_scope`: the members of one.
    "memberships": {
        "keys": ("user_id", "scope_id"),
        "indexes": [_gsi("by_scope", "scope_id", "user_id")],
    },
    # Invitations by id (the token's secret hashed); `by_scope`: a workspace's or agency's, newest last.
    "invitations": {
        "keys": ("invitation_id", None),
        "indexes": [_gsi("by_scope", "scope_id", "created_at")],
        "ttl": "expires_at_epoch",
    },
    "password_resets": {
        "keys": ("reset_id", None),
        "indexes": [],
        "ttl": "expires_at_epoch",
    },
    "agencies": {
        "keys": ("agency_id", None),
        "indexes": [],
    },
    # Short links by `l#<code>` (GET /l/{code} reads one by key), each day's unique-visitor markers
    # (`v#<salted hash>`, gone with TTL after their day) and conversions by `c#<workspace>#<id>` (idempotency).
    "links": {
        "keys": ("link_key", None),
        "indexes": [],
        "ttl": "expires_at_epoch",
    },
    # Each workspace's goals (chalicelib/goals/).
    "goals": {
        "keys": ("workspace_id", "goal_id"),
        "indexes": [],
    },
    # Ad campaigns and each campaign's results per day; sparse `live`: the campaigns the daily ads job reads.
    "ads": {
        "keys": ("workspace_id", "item_key"),
        "indexes": [_gsi("live", "live_shard", "campaign_ref", projection="KEYS_ONLY")],
    },
    # Giveaways, their frozen entrant lists and draws (chalicelib/giveaways/tables.py).
    "giveaways": {
        "keys": ("workspace_id", "item_key"),
        "indexes": [],
    },
}


def table_resource(stage: str, logical: str) -> Resource:
    layout = TABLE_LAYOUTS[logical]
    hash_key, range_key = layout["keys"]
    key_names = {hash_key, *([range_key] if range_key else [])}
    schema = [{"AttributeName": hash_key, "KeyType": "HASH"}]
    if range_key:
        schema.append({"AttributeName": range_key, "KeyType": "RANGE"})
    for index in layout["indexes"]:
        key_names.update(part["AttributeName"] for part in index["KeySchema"])
    props: Resource = {
        "TableName": resource_name(stage, logical),
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [
            {"AttributeName": name, "AttributeType": "S"} for name in sorted(key_names)
        ],
        "KeySchema": schema,
        "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
        "SSESpecification": {"SSEEnabled": True},
    }
    if layout["indexes"]:
        props["GlobalSecondaryIndexes"] = layout["indexes"]
    if layout.get("stream"):
        props["StreamSpecification"] = {"StreamViewType": layout["stream"]}
    if layout.get("ttl"):
        props["TimeToLiveSpecification"] = {"AttributeName": layout["ttl"], "Enabled": True}
    return {"Type": "AWS::DynamoDB::Table", "Properties": props}


def _logical_id(name: str, suffix: str) -> str:
    return "".join(part.capitalize() for part in name.split("_")) + suffix


def table_id(logical: str) -> str:
    return _logical_id(logical, "Table")


def queue_id(logical: str) -> str:
    return _logical_id(logical, "Queue")


def dead_letter_queue_id(logical: str) -> str:
    return _logical_id(logical, "DeadLetterQueue")


def resources(stage: str) -> dict[str, Resource]:
    out: dict[str, Resource] = {}
    for logical in TABLES:
        out[table_id(logical)] = table_resource(stage, logical)
    for logical in QUEUES:
        dlq_id = dead_letter_queue_id(logical)
        out[dlq_id] = {
            "Type": "AWS::SQS::Queue",
            "Properties": {
                "QueueName": resource_name(stage, logical + "_dlq"),
                "MessageRetentionPeriod": 1209600,
                "SqsManagedSseEnabled": True,
            },
        }
        out[queue_id(logical)] = {
            "Type": "AWS::SQS::Queue",
            "Properties": {
                "QueueName": resource_name(stage, logical),
                # At least the consumer's timeout (AWS refuses the event source otherwise); tested.
                "VisibilityTimeout": 120,
                "SqsManagedSseEnabled": True,
                "RedrivePolicy": {
                    "deadLetterTargetArn": {"Fn::GetAtt": [dlq_id, "Arn"]},
                    "maxReceiveCount": 5,
                },
            },
        }
    out["SecretsKey"] = {
        "Type": "AWS::KMS::Key",
        "Properties": {
            "Description": f"Herald {stage}: encrypts channel credentials",
            "EnableKeyRotation": True,
            "KeyPolicy": {
                "Version": "2012-10-17",
                "Statement": [{
                    "Sid": "AccountAdmin",
                    "Effect": "Allow",
                    "Principal": {"AWS": {"Fn::Sub": "arn:aws:iam::${AWS::AccountId}:root"}},
                    "Action": "kms:*",
                    "Resource": "*",
                }],
            },
        },
    }
    out["SecretsKeyAlias"] = {
        "Type": "AWS::KMS::Alias",
        "Properties": {"AliasName": f"alias/herald-{stage}", "TargetKeyId": {"Ref": "SecretsKey"}},
    }
    out["MediaBucket"] = {
        "Type": "AWS::S3::Bucket",
        "Properties": {
            "BucketName": resource_name(stage, "media"),
            "PublicAccessBlockConfiguration": {
                "BlockPublicAcls": True, "BlockPublicPolicy": True,
                "IgnorePublicAcls": True, "RestrictPublicBuckets": True,
            },
            "BucketEncryption": {"ServerSideEncryptionConfiguration": [
                {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]},
            # The web console uploads from the browser to the presigned PUT URL (its signature is the
            # credential; the console's own address is not known here).
            "CorsConfiguration": {"CorsRules": [{"AllowedMethods": ["PUT"], "AllowedOrigins": ["*"],
                                                 "AllowedHeaders": ["*"], "MaxAge": 3600}]},
        },
    }
    out.update(user_pool_resources(stage))
    return out


USER_POOL = "UserPool"
USER_POOL_CLIENT = "UserPoolClient"


def user_pool_resources(stage: str) -> dict[str, Resource]:
    """The Cognito user pool people sign in to, and Herald's app client (no secret: the API signs in with
    USER_PASSWORD_AUTH on the person's behalf). Users are made by the admin calls only (invitations)."""
    return {
        USER_POOL: {
            "Type": "AWS::Cognito::UserPool",
            "Properties": {
                "UserPoolName": resource_name(stage, "users"),
                "AdminCreateUserConfig": {"AllowAdminCreateUserOnly": True},
                "Policies": {"PasswordPolicy": {"MinimumLength": 12, "RequireLowercase": True,
                                                "RequireUppercase": True, "RequireNumbers": True,
                                                "RequireSymbols": False}},
                "Schema": [{"Name": "email", "AttributeDataType": "String", "Required": True, "Mutable": True}],
                "AccountRecoverySetting": {"RecoveryMechanisms": [{"Name": "admin_only", "Priority": 1}]},
            },
        },
        USER_POOL_CLIENT: {
            "Type": "AWS::Cognito::UserPoolClient",
            "Properties": {
                "ClientName": resource_name(stage, "web"),
                "UserPoolId": {"Ref": USER_POOL},
                "GenerateSecret": False,
                "ExplicitAuthFlows": ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
                "EnableTokenRevocation": True,
                "PreventUserExistenceErrors": "ENABLED",
                "AccessTokenValidity": 60, "IdTokenValidity": 60, "RefreshTokenValidity": 30,
                "TokenValidityUnits": {"AccessToken": "minutes", "IdToken": "minutes", "RefreshToken": "days"},
            },
        },
    }
