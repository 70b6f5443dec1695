"""When a channel is unhealthy, and why a post scheduled on it is at risk: in sentences a person acts on.

Pure rules on a channel row (no table, no network), shared by the health checks and by the post service,
which flags a new delivery at risk when it is scheduled on such a channel.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from chalicelib.accounts.tokens import moment

if TYPE_CHECKING:
    from chalicelib.accounts.channel_repository import ChannelRow

WARN_BEFORE = timedelta(days=7)  # an expiry that cannot be refreshed is warned about this long before
NETWORK_NAMES = {"x": "X", "linkedin": "LinkedIn", "facebook": "Facebook", "instagram": "Instagram",
                 "threads": "Threads", "tiktok": "TikTok", "bluesky": "Bluesky", "mastodon": "Mastodon",
                 "sandbox": "Sandbox"}


def network_name(network: str) -> str:
    return NETWORK_NAMES.get(network, network)


def day(moment_: datetime) -> str:
    return moment_.strftime("%Y-%m-%d %H:%M UTC")


def expiry_problem(network: str, expires: datetime, now: datetime) -> str:
    if expires <= now:
        return (f"The {network_name(network)} authorization expired on {day(expires)} and cannot be renewed "
                "automatically: reconnect the channel.")
    days = max(0, (expires - now).days)
    return (f"The {network_name(network)} authorization expires on {day(expires)} (in {days} day"
            f"{'' if days == 1 else 's'}) and cannot be renewed automatically: reconnect the channel before then.")


def health(status: str, checked_at: str | None, expires_at: str | None, problem: str | None) -> dict[str, Any]:
    return {"status": status, "checked_at": checked_at, "expires_at": expires_at, "problem": problem}


def risk_for(channel: ChannelRow, publish_at: datetime | None) -> str | None:
    """Why a delivery on this channel at `publish_at` may not go out, or None."""
    name = network_name(channel.network)
    if channel.status == "needs_reauth":
        return f"The {name} channel needs to be reconnected: {name} no longer accepts its authorization."
    if channel.status == "disabled":
        problem = (channel.health or {}).get("problem")
        return problem or f"The {name} channel is disabled: enable or reconnect it to publish."
    if (channel.health or {}).get("status") == "failing":
        return str((channel.health or {}).get("problem") or f"The {name} channel failed its last check.")
    expires = moment(channel.grant_expires_at)
    if expires is not None and publish_at is not None and expires <= publish_at:
        return (f"The {name} authorization expires on {day(expires)}, before this post's time, and cannot be "
                "renewed automatically: reconnect the channel first.")
    return None
