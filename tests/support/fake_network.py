"""A network adapter answering from memory, injected with `Container(adapter_overrides=...)`:
it records the replies the inbox sent and serves polls from a list of notifications."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from chalicelib.networks.base import (
    ChannelContext,
    ChannelInsights,
    InboundEvent,
    NetworkLimits,
    PermanentError,
    PollResult,
    PublishRequest,
    PublishResult,
    ReplyRequest,
)
from tests.support.fixtures import START

ACCOUNT = "did:plc:heraldcoffee"


def inbound(message_id: str, *, network: str = "bluesky", account_id: str = ACCOUNT, kind: str = "comment",
            thread: str = "at://herald/post/1", text: str = "hello", direction: str = "inbound",
            action: Literal["created", "edited", "deleted"] = "created", parent: str | None = None,
            author: str = "did:plc:ada", name: str = "Ada Lovelace", handle: str = "ada.example",
            at: datetime = START, event_id: str | None = None,
            context: dict[str, Any] | None = None) -> InboundEvent:
    return InboundEvent(
        network=network, account_id=account_id, event_id=event_id or f"{message_id}:{action}",
        kind=kind, action=action, thread_key=thread, message_id=message_id,  # type: ignore[arg-type]
        direction=direction, text=text, occurred_at=at, author_id=author,  # type: ignore[arg-type]
        author_name=name, author_handle=handle, parent_id=parent,
        reply_context=context if context is not None else {"uri": message_id, "root": thread},
    )


@dataclass
class FakeNetwork:
    network: str = "bluesky"
    account_id: str = ACCOUNT
    handle: str = "heraldcoffee.example"
    limits: NetworkLimits = field(
        default_factory=lambda: NetworkLimits(max_text=300, text_counting="graphemes"))
    idempotent_publish: bool = True
    replies: list[ReplyRequest] = field(default_factory=list)
    reply_error: Exception | None = None
    # Each poll is answered by this, given the cursor; default: nothing new.
    poll: Callable[[str | None], PollResult] = lambda cursor: PollResult(events=[], cursor=cursor)
    polled_with: list[str | None] = field(default_factory=list)

    def describe_account(self, channel: ChannelContext) -> dict[str, str]:
        return {"handle": self.handle, "account_id": self.account_id}

    def reply(self, channel: ChannelContext, request: ReplyRequest) -> PublishResult:
        if self.reply_error is not None:
            raise self.reply_error
        self.replies.append(request)
        return PublishResult(remote_id=f"at://{self.account_id}/reply/{len(self.replies)}")

    def poll_inbox(self, channel: ChannelContext, cursor: str | None) -> PollResult:
        self.polled_with.append(cursor)
        return self.poll(cursor)

    def publish(self, channel: ChannelContext, request: PublishRequest) -> PublishResult:
        raise PermanentError("the fake network does not publish")

    def fetch_insights(self, channel: ChannelContext, remote_ids: list[str]) -> ChannelInsights:
        return ChannelInsights(followers=None)
