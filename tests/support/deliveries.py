"""What the publishing engine would do to deliveries, and what it would see,
for tests of the API around it (the engine itself is tested elsewhere)."""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from chalicelib.publishing.post_repository import due_shard
from chalicelib.wiring import Container


def set_delivery_status(deps: Container, workspace_id: str, post_id: str, channel_id: str, status: str,
                        published_at: datetime | None = None) -> None:
    post, old = deps.post_repository.get(workspace_id, post_id)
    deliveries = [replace(d, status=status, published_at=published_at) if d.channel_id == channel_id else d
                  for d in old]
    deps.post_repository.replace(post, deliveries, expected_version=post.version, expected_statuses=(post.status,),
                                 old_deliveries=old)


def due_times(deps: Container, aws: dict[str, Any], post_id: str, channel_ids: list[str]) -> dict[str, str]:
    """When the engine's `due` index says each of the post's deliveries is next due."""
    table = deps.settings.table("posts")
    found = {}
    for channel_id in channel_ids:
        shard = due_shard(post_id, deps.settings.due_shards)
        items = aws["dynamodb"].query(
            TableName=table, IndexName="due", KeyConditionExpression="due_shard = :s",
            ExpressionAttributeValues={":s": {"S": shard}})["Items"]
        for item in items:
            _, item_post, item_channel = item["due_key"]["S"].split("#")
            if (item_post, item_channel) == (post_id, channel_id):
                found[channel_id] = item["due_key"]["S"].split("#")[0]
    return found

