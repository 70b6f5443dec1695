"""A post as each of its networks will show it, for a reviewer: the channel's text (its variant's, or the
post's), its length in that network's own units against its limit (networks/registry.py, what the composer
checks when a post is saved), the media and whether that network takes each item, the thread and first
comment."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalicelib.core.clock import to_rfc3339
from chalicelib.networks.registry import limits_for, text_length

if TYPE_CHECKING:
    from chalicelib.accounts.channel_repository import ChannelRow
    from chalicelib.publishing.post_repository import PostRow

UNITS = {"characters": "characters", "graphemes": "graphemes", "utf16": "UTF-16 code units",
         "mastodon": "characters (a link counts 23)", "x_weighted": "weighted characters (a link counts 23)",
         "threads": "characters"}


def _length(network: str, text: str, settings: dict[str, Any]) -> dict[str, Any]:
    limits = limits_for(network, settings)
    length = text_length(network, text, settings)
    return {"length": length, "limit": limits.max_text, "unit": UNITS.get(limits.text_counting, "characters"),
            "fits": length <= limits.max_text}


def network_view(post: PostRow, channel: ChannelRow) -> dict[str, Any]:
    limits = limits_for(channel.network, channel.settings)
    text = post.text_for(channel.channel_id)
    media = [{**item, "accepted": not item.get("mime") or item["mime"] in limits.media_types}
             for item in post.media[:limits.max_media]]
    return {
        "channel_id": channel.channel_id, "network": channel.network, "channel_name": channel.name,
        "handle": channel.handle, "text": text, **_length(channel.network, text, channel.settings),
        "media": media, "media_left_out": max(0, len(post.media) - limits.max_media),
        "thread": [{"text": str(part.get("text") or ""), "media": list(part.get("media") or []),
                    **_length(channel.network, str(part.get("text") or ""), channel.settings)}
                   for part in post.thread],
        "first_comment": post.first_comment,
        "options": dict((post.variants.get(channel.channel_id) or {}).get(channel.network) or {}),
    }


def preview(post: PostRow, channels: dict[str, ChannelRow]) -> dict[str, Any]:
    return {"post_id": post.post_id, "version": post.version, "status": post.status,
            "publish_at": to_rfc3339(post.publish_at),
            "approval": {k: v for k, v in post.approval.items() if k != "seq"} if post.approval else None,
            "networks": [network_view(post, channels[cid]) for cid in post.channel_ids if cid in channels]}
