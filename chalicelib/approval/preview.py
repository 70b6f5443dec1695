"""A post as each of its networks will show it, for a reviewer: the channel's text (its variant's, or the
post's), its length in that network's own units against its limit (networks/appearance.py, the rules the
composer checks when a post is saved), the text cut at that limit, the media and whether that network takes
each item, its link card, the thread and first comment."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalicelib.core.clock import to_rfc3339
from chalicelib.networks.appearance import shown

if TYPE_CHECKING:
    from chalicelib.accounts.channel_repository import ChannelRow
    from chalicelib.publishing.post_repository import PostRow


def network_view(post: PostRow, channel: ChannelRow) -> dict[str, Any]:
    options = dict((post.variants.get(channel.channel_id) or {}).get(channel.network) or {})
    return {
        "channel_id": channel.channel_id,
        "channel_name": channel.name,
        "handle": channel.handle,
        **shown(
            channel.network,
            channel.settings,
            post.text_for(channel.channel_id),
            post.media_for(channel.channel_id),
            post.thread,
            post.first_comment,
            options,
        ),
    }


def preview(post: PostRow, channels: dict[str, ChannelRow]) -> dict[str, Any]:
    return {
        "post_id": post.post_id,
        "version": post.version,
        "status": post.status,
        "publish_at": to_rfc3339(post.publish_at),
        "approval": {k: v for k, v in post.approval.items() if k != "seq"} if post.approval else None,
        "networks": [network_view(post, channels[cid]) for cid in post.channel_ids if cid in channels],
    }
