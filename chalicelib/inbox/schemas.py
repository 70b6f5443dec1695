"""Request and answer shapes of the inbox, saved replies, listening and webhooks."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field, model_validator

from chalicelib.core.fields import MultiLine, SingleLine
from chalicelib.core.schemas import Limit, RequestModel

ConversationStatus = Literal["open", "pending", "closed"]
ConversationKind = Literal["comment", "message", "mention"]
Priority = Literal["normal", "high"]
DeliveryStatus = Literal["received", "sending", "sent", "failed", "unknown"]
Tag = Annotated[str, SingleLine(50)]
Term = Annotated[str, SingleLine(200)]
Name = Annotated[str, SingleLine(100)]
Assignee = Annotated[str, SingleLine(200)]
ReplyText = Annotated[str, MultiLine(max_length=10000, min_length=1)]
VariableValue = Annotated[str, MultiLine(max_length=1000)]


class Person(BaseModel):
    id: str | None = None
    name: str | None = None
    handle: str | None = None


class Conversation(BaseModel):
    id: str
    channel_id: str
    network: str
    kind: ConversationKind
    status: ConversationStatus
    assignee: str | None
    tags: list[str]
    priority: Priority
    participant: Person
    last_message_at: datetime | None
    last_message_preview: str
    first_inbound_at: datetime | None
    first_response_at: datetime | None
    first_response_s: int | None = Field(
        description="Seconds from the first inbound message reaching Herald to the first answer."
    )
    created_at: datetime
    updated_at: datetime


class Message(BaseModel):
    id: str = Field(description="The network's id; a reply the network never took has its reply_id here.")
    conversation_id: str
    direction: Literal["inbound", "outbound"]
    kind: ConversationKind
    text: str
    author: Person
    occurred_at: datetime
    parent_id: str | None
    edited_at: datetime | None
    deleted: bool
    deleted_at: datetime | None
    delivery_status: DeliveryStatus
    error: str | None
    reply_id: str | None


class ConversationDetail(BaseModel):
    conversation: Conversation
    messages: list[Message]


class ConversationPage(BaseModel):
    items: list[Conversation]
    next_cursor: str | None


class ConversationQuery(RequestModel):
    status: ConversationStatus | None = None
    channel_id: str | None = None
    kind: ConversationKind | None = None
    assignee: Assignee | None = None
    tag: Tag | None = None
    limit: Limit = 50
    cursor: str | None = None


class ConversationPatch(RequestModel):
    status: ConversationStatus | None = None
    assignee: Assignee | None = Field(default=None, description="null unassigns.")
    tags: Annotated[list[Tag], Field(max_length=20)] | None = None
    priority: Priority | None = None


class ReplyCreate(RequestModel):
    text: ReplyText | None = None
    saved_reply_id: str | None = None
    variables: dict[str, VariableValue] = Field(default_factory=dict)
    in_reply_to: str | None = Field(
        default=None, description="A message id of this conversation; the newest inbound message when absent."
    )

    @model_validator(mode="after")
    def _one_source(self) -> ReplyCreate:
        if (self.text is None) == (self.saved_reply_id is None):
            raise ValueError("give either text or saved_reply_id")
        return self


class ReplyResult(BaseModel):
    message: Message
    conversation: Conversation


# What a saved reply may carry for a messaging network's closed window: an approved WhatsApp template (its
# name and language code, as approved in WhatsApp Manager) or a Messenger message tag.
TemplateName = Annotated[
    str,
    Field(pattern=r"^[a-z0-9_]{1,512}$", description="An approved WhatsApp template, sent outside the 24-hour window."),
]
TemplateLanguage = Annotated[str, Field(pattern=r"^[a-z]{2,3}(_[A-Z]{2})?$", description="e.g. en_US")]
MessageTag = Literal["HUMAN_AGENT", "CONFIRMED_EVENT_UPDATE", "POST_PURCHASE_UPDATE", "ACCOUNT_UPDATE"]


class SavedReplyCreate(RequestModel):
    name: Name
    text: ReplyText
    template_name: TemplateName | None = None
    template_language: TemplateLanguage | None = None
    message_tag: MessageTag | None = Field(default=None, description="Messenger: sent outside the 24-hour window.")


class SavedReplyPatch(RequestModel):
    name: Name | None = None
    text: ReplyText | None = None
    template_name: TemplateName | None = None
    template_language: TemplateLanguage | None = None
    message_tag: MessageTag | None = None


class SavedReply(BaseModel):
    id: str
    name: str
    text: str
    placeholders: list[str]
    created_at: datetime
    updated_at: datetime
    template_name: str | None = None
    template_language: str | None = None
    message_tag: str | None = None


class SavedReplyPage(BaseModel):
    items: list[SavedReply]
    next_cursor: str | None


RuleKind = Literal["brand", "competitor"]


class Competitor(RequestModel):
    name: Name
    handles: Annotated[list[Annotated[str, SingleLine(100)]], Field(max_length=20)] = Field(
        default_factory=list, description="Its accounts, e.g. @rival or rival.bsky.social."
    )


class RuleCreate(RequestModel):
    name: Name
    any_of: Annotated[list[Term], Field(max_length=50)] = Field(default_factory=list)
    all_of: Annotated[list[Term], Field(max_length=20)] = Field(default_factory=list)
    exclude: Annotated[list[Term], Field(max_length=50)] = Field(default_factory=list)
    channel_ids: Annotated[list[str], Field(max_length=50)] = Field(
        default_factory=list, description="Empty: every channel."
    )
    enabled: bool = True
    kind: RuleKind = "brand"
    competitor: Competitor | None = Field(
        default=None, description="kind competitor: whose mentions these are (its name and handles are terms too)."
    )
    search: bool = Field(
        default=False,
        description=(
            "Also search the networks that offer a post search (Bluesky, Mastodon, X) every 15 minutes with the "
            "workspace's channels there, beyond what reaches the inbox."
        ),
    )


class RulePatch(RequestModel):
    name: Name | None = None
    any_of: Annotated[list[Term], Field(max_length=50)] | None = None
    all_of: Annotated[list[Term], Field(max_length=20)] | None = None
    exclude: Annotated[list[Term], Field(max_length=50)] | None = None
    channel_ids: Annotated[list[str], Field(max_length=50)] | None = None
    enabled: bool | None = None
    kind: RuleKind | None = None
    competitor: Competitor | None = None
    search: bool | None = None


class SearchState(BaseModel):
    status: Literal["ok", "refused", "failed"]
    message: str | None = Field(
        description="What the network said when it refused or failed; "
        "for ok with nothing found, whether the server searches at all."
    )
    found: int = Field(description="Posts the last run found that the rule matched.")
    checked_at: datetime


class Rule(BaseModel):
    id: str
    name: str
    any_of: list[str]
    all_of: list[str]
    exclude: list[str]
    channel_ids: list[str]
    enabled: bool
    kind: RuleKind
    competitor: Competitor | None
    search: bool
    searches: dict[str, SearchState] = Field(description="Per network searched: how its last search went.")
    created_at: datetime
    updated_at: datetime


class RulePage(BaseModel):
    items: list[Rule]
    next_cursor: str | None


class MentionQuery(RequestModel):
    rule_id: str | None = None
    limit: Limit = 50
    cursor: str | None = None


class Mention(BaseModel):
    id: str
    rule_id: str
    rule_name: str
    conversation_id: str
    channel_id: str
    network: str
    message_id: str
    kind: ConversationKind
    text: str
    author: Person
    matched_terms: list[str]
    occurred_at: datetime
    created_at: datetime
    source: Literal["inbox", "search"] = Field(
        description="Where the post was found first; search: by the rule's network search."
    )
    url: str | None = None
    found_by: list[Literal["inbox", "search"]] = Field(
        description="Every path that found the post (network + message_id): one mention per rule and post. "
        "conversation_id is empty while only a search found it."
    )


class MentionPage(BaseModel):
    items: list[Mention]
    next_cursor: str | None


class WebhookReceipt(BaseModel):
    received: int
    stored: int
    requeued: int
    duplicates: int
    unrouted: int
    ignored: int
    rejected: int


class SandboxMessageCreate(RequestModel):
    """What a fan writes to a sandbox channel: how to try the inbox (and test it) without a network."""

    text: ReplyText
    kind: Literal["comment", "message"] = "comment"
    author_name: Name = "Sam Sandbox"
    author_handle: Name = "sam.sandbox"


class SandboxMessageReceipt(BaseModel):
    stored: int = Field(description="1 when the message was taken; it reaches the inbox through its queue.")
