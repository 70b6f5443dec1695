"""The events an outbound webhook endpoint can subscribe to, and the Standard Webhooks payload around them."""
from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from chalicelib.core.clock import to_rfc3339

EVENT_TYPES = (
    "post.published", "post.failed", "delivery.unknown",
    "post.approval_requested", "post.approved", "post.rejected", "comment.mentioned",
    "conversation.created", "message.received", "mention.matched",
    "channel.needs_reauth", "report.ready",
    "ads.pacing_alert",
)
# Svix's schedule: the first attempt at once, then these waits after each failure; failed after the last.
RETRY_DELAYS_S = (5, 300, 1800, 7200, 18000, 36000, 36000)
# An endpoint whose every delivery failed for this long is disabled, and says why.
DISABLE_AFTER_S = 5 * 24 * 3600


def payload(event_type: str, data: dict[str, Any], at: datetime) -> str:
    return json.dumps({"type": event_type, "timestamp": to_rfc3339(at), "data": data},
                      separators=(",", ":"), ensure_ascii=False)
