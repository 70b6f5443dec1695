"""The unified inbox, saved replies and listening."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from chalice import Blueprint, Response

from chalicelib.core.api import Call, route
from chalicelib.core.clock import to_rfc3339
from chalicelib.core.errors import NotFound, ValidationFailed
from chalicelib.core.schemas import PageQuery
from chalicelib.inbox.conversation_filter import ConversationFilter
from chalicelib.inbox.schemas import (
    Conversation,
    ConversationDetail,
    ConversationPage,
    ConversationPatch,
    ConversationQuery,
    MentionPage,
    MentionQuery,
    ReplyCreate,
    ReplyResult,
    Rule,
    RuleCreate,
    RulePage,
    RulePatch,
    SandboxMessageCreate,
    SandboxMessageReceipt,
    SavedReply,
    SavedReplyCreate,
    SavedReplyPage,
    SavedReplyPatch,
)
from chalicelib.wiring import Container

if TYPE_CHECKING:  # the rows' modules load PynamoDB: only when a handler reads a table
    from chalicelib.inbox.config_repository import MentionRow, RuleRow, SavedReplyRow
    from chalicelib.inbox.conversation_repository import ConversationRow, MessageRow

bp = Blueprint(__name__)


def conversation_view(row: ConversationRow) -> dict[str, Any]:
    return {
        "id": row.conversation_id,
        "channel_id": row.channel_id,
        "network": row.network,
        "kind": row.kind,
        "status": row.status,
        "assignee": row.assignee,
        "tags": row.tags,
        "priority": row.priority,
        "participant": row.participant,
        "last_message_at": to_rfc3339(row.last_message_at),
        "last_message_preview": row.last_message_preview,
        "first_inbound_at": to_rfc3339(row.first_inbound_at),
        "first_response_at": to_rfc3339(row.first_response_at),
        "first_response_s": row.first_response_s,
        "created_at": to_rfc3339(row.created_at),
        "updated_at": to_rfc3339(row.updated_at),
    }


def message_view(row: MessageRow) -> dict[str, Any]:
    return {
        "id": row.message_id or row.reply_id,
        "conversation_id": row.conversation_id,
        "direction": row.direction,
        "kind": row.kind,
        "text": row.text,
        "author": {"id": row.author_id or None, "name": row.author_name or None, "handle": row.author_handle or None},
        "occurred_at": to_rfc3339(row.occurred_at),
        "parent_id": row.parent_id,
        "edited_at": to_rfc3339(row.edited_at),
        "deleted": row.deleted_at is not None,
        "deleted_at": to_rfc3339(row.deleted_at),
        "delivery_status": row.delivery_status,
        "error": row.error,
        "reply_id": row.reply_id,
    }


def saved_reply_view(row: SavedReplyRow) -> dict[str, Any]:
    from chalicelib.inbox.saved_replies import placeholders

    return {
        "id": row.saved_reply_id,
        "name": row.name,
        "text": row.text,
        "placeholders": placeholders(row.text),
        "created_at": row.created_at,
        "updated_at": row.updated_at,
        "template_name": row.template_name,
        "template_language": row.template_language,
        "message_tag": row.message_tag,
    }


def rule_view(row: RuleRow) -> dict[str, Any]:
    competitor = {"name": row.competitor_name, "handles": row.competitor_handles} if row.competitor_name else None
    searches = {
        network: {key: state.get(key) for key in ("status", "message", "found", "checked_at")}
        for network, state in sorted(row.search_state.items())
    }
    return {
        "id": row.rule_id,
        "name": row.name,
        "any_of": row.any_of,
        "all_of": row.all_of,
        "exclude": row.exclude,
        "channel_ids": row.channel_ids,
        "enabled": row.enabled,
        "kind": row.kind,
        "competitor": competitor,
        "search": row.search,
        "searches": searches,
        "created_at": row.created_at,
        "updated_at": row.updated_at,
    }


def mention_view(row: MentionRow) -> dict[str, Any]:
    return {
        "id": row.mention_id,
        "rule_id": row.rule_id,
        "rule_name": row.rule_name,
        "conversation_id": row.conversation_id,
        "channel_id": row.channel_id,
        "network": row.network,
        "message_id": row.message_id,
        "kind": row.kind,
        "text": row.text,
        "author": {"id": row.author_id or None, "name": row.author_name or None, "handle": row.author_handle or None},
        "matched_terms": row.matched_terms,
        "occurred_at": to_rfc3339(row.occurred_at),
        "created_at": to_rfc3339(row.created_at),
        "source": row.source,
        "url": row.url,
        "found_by": row.found_by or [row.source],
    }


def _no_content() -> Response:
    return Response(body="", status_code=204)


# -- conversations ------------------------------------------------------------------------


@route(
    bp,
    "/inbox/conversations",
    "GET",
    summary="List conversations, newest activity first",
    tag="inbox",
    query=ConversationQuery,
    response=ConversationPage,
)
def list_conversations(call: Call[Container]) -> dict[str, Any]:
    q: ConversationQuery = call.query
    wanted = ConversationFilter(q.status, q.channel_id, q.kind, q.assignee, q.tag)
    rows, cursor = call.deps.inbox.list(call.workspace_id, wanted, q.limit, q.cursor)
    return {"items": [conversation_view(r) for r in rows], "next_cursor": cursor}


@route(
    bp,
    "/inbox/conversations/{conversation_id}",
    "GET",
    summary="Read a conversation with its messages",
    tag="inbox",
    response=ConversationDetail,
)
def get_conversation(call: Call[Container], conversation_id: str) -> dict[str, Any]:
    conversation, messages = call.deps.inbox.get(call.workspace_id, conversation_id)
    return {"conversation": conversation_view(conversation), "messages": [message_view(m) for m in messages]}


@route(
    bp,
    "/inbox/conversations/{conversation_id}",
    "PATCH",
    summary="Set status, assignee, tags or priority",
    tag="inbox",
    role="editor",
    body=ConversationPatch,
    response=Conversation,
)
def update_conversation(call: Call[Container], conversation_id: str) -> dict[str, Any]:
    body: ConversationPatch = call.body
    changes = {name: getattr(body, name) for name in body.model_fields_set}
    for name in ("status", "tags", "priority"):
        if name in changes and changes[name] is None:
            del changes[name]
    return conversation_view(call.deps.inbox.update(call.workspace_id, conversation_id, changes))


@route(
    bp,
    "/inbox/conversations/{conversation_id}/reply",
    "POST",
    summary="Answer through the network",
    tag="inbox",
    role="editor",
    body=ReplyCreate,
    response=ReplyResult,
    status=201,
    request_headers={
        "Idempotency-Key": {
            "type": "string",
            "pattern": "^[!-~]{1,255}$",
            "description": "Repeat it to get the first reply back",
        }
    },
)
def reply(call: Call[Container], conversation_id: str) -> dict[str, Any]:
    """An `Idempotency-Key` header makes a repeated request answer with the first one's reply."""
    body: ReplyCreate = call.body
    message, conversation = call.deps.inbox.reply(
        call.workspace_id,
        conversation_id,
        text=body.text,
        saved_reply_id=body.saved_reply_id,
        variables=body.variables,
        in_reply_to=body.in_reply_to,
        idempotency_key=idempotency_key(call.headers),
    )
    return {"message": message_view(message), "conversation": conversation_view(conversation)}


IDEMPOTENCY_KEY = re.compile(r"[\x21-\x7e]{1,255}")


def idempotency_key(headers: dict[str, str]) -> str | None:
    key = headers.get("idempotency-key")
    if key is None:
        return None
    if not IDEMPOTENCY_KEY.fullmatch(key):
        raise ValidationFailed.field("headers.Idempotency-Key", "1 to 255 visible ASCII characters, no spaces")
    return key


# -- saved replies ---------------------------------------------------------------------------


@route(
    bp,
    "/saved-replies",
    "GET",
    summary="List saved replies",
    tag="saved-replies",
    query=PageQuery,
    response=SavedReplyPage,
)
def list_saved_replies(call: Call[Container]) -> dict[str, Any]:
    rows, cursor = call.deps.saved_replies.list(call.workspace_id, call.query.limit, call.query.cursor)
    return {"items": [saved_reply_view(r) for r in rows], "next_cursor": cursor}


@route(
    bp,
    "/saved-replies",
    "POST",
    summary="Save a reply with {placeholders}",
    tag="saved-replies",
    role="editor",
    body=SavedReplyCreate,
    response=SavedReply,
    status=201,
)
def create_saved_reply(call: Call[Container]) -> dict[str, Any]:
    body: SavedReplyCreate = call.body
    return saved_reply_view(
        call.deps.saved_replies.create(call.workspace_id, body.name, body.text, outside_window(body))
    )


@route(
    bp,
    "/saved-replies/{saved_reply_id}",
    "PATCH",
    summary="Edit a saved reply",
    tag="saved-replies",
    role="editor",
    body=SavedReplyPatch,
    response=SavedReply,
)
def update_saved_reply(call: Call[Container], saved_reply_id: str) -> dict[str, Any]:
    body: SavedReplyPatch = call.body
    return saved_reply_view(
        call.deps.saved_replies.update(call.workspace_id, saved_reply_id, body.name, body.text, outside_window(body))
    )


def outside_window(body: SavedReplyCreate | SavedReplyPatch) -> dict[str, str]:
    """The fields given for a closed messaging window (absent ones are left as they are)."""
    fields = ("template_name", "template_language", "message_tag")
    return {name: getattr(body, name) for name in fields if name in body.model_fields_set}


@route(
    bp,
    "/saved-replies/{saved_reply_id}",
    "DELETE",
    summary="Delete a saved reply",
    tag="saved-replies",
    role="editor",
    status=204,
)
def delete_saved_reply(call: Call[Container], saved_reply_id: str) -> Response:
    call.deps.saved_replies.delete(call.workspace_id, saved_reply_id)
    return _no_content()


# -- listening ------------------------------------------------------------------------------


@route(
    bp, "/listening/rules", "GET", summary="List listening rules", tag="listening", query=PageQuery, response=RulePage
)
def list_rules(call: Call[Container]) -> dict[str, Any]:
    rows, cursor = call.deps.listening.list_rules(call.workspace_id, call.query.limit, call.query.cursor)
    return {"items": [rule_view(r) for r in rows], "next_cursor": cursor}


@route(
    bp,
    "/listening/rules",
    "POST",
    summary="Watch inbound text for terms",
    tag="listening",
    role="editor",
    body=RuleCreate,
    response=Rule,
    status=201,
)
def create_rule(call: Call[Container]) -> dict[str, Any]:
    body: RuleCreate = call.body
    row = call.deps.listening.create_rule(
        call.workspace_id,
        body.name,
        body.any_of,
        body.all_of,
        body.exclude,
        body.channel_ids,
        body.enabled,
        kind=body.kind,
        search=body.search,
        competitor=body.competitor.model_dump() if body.competitor else None,
    )
    return rule_view(row)


@route(
    bp,
    "/listening/rules/{rule_id}",
    "PATCH",
    summary="Change a listening rule",
    tag="listening",
    role="editor",
    body=RulePatch,
    response=Rule,
)
def update_rule(call: Call[Container], rule_id: str) -> dict[str, Any]:
    body: RulePatch = call.body
    changes = {name: getattr(body, name) for name in body.model_fields_set}
    if body.competitor is not None:
        changes["competitor"] = body.competitor.model_dump()
    return rule_view(call.deps.listening.update_rule(call.workspace_id, rule_id, changes))


@route(
    bp,
    "/listening/rules/{rule_id}",
    "DELETE",
    summary="Delete a listening rule",
    tag="listening",
    role="editor",
    status=204,
)
def delete_rule(call: Call[Container], rule_id: str) -> Response:
    call.deps.listening.delete_rule(call.workspace_id, rule_id)
    return _no_content()


@route(
    bp,
    "/listening/mentions",
    "GET",
    summary="What the listening rules matched, newest first",
    tag="listening",
    query=MentionQuery,
    response=MentionPage,
)
def list_mentions(call: Call[Container]) -> dict[str, Any]:
    q: MentionQuery = call.query
    rows, cursor = call.deps.listening.list_mentions(call.workspace_id, q.rule_id, q.limit, q.cursor)
    return {"items": [mention_view(r) for r in rows], "next_cursor": cursor}


@route(
    bp,
    "/channels/{channel_id}/sandbox/messages",
    "POST",
    summary="A fan writes to a sandbox channel",
    tag="channels",
    role="editor",
    body=SandboxMessageCreate,
    response=SandboxMessageReceipt,
    status=202,
)
def sandbox_message(call: Call[Container], channel_id: str) -> dict[str, Any]:
    """A comment (under the channel's newest post) or direct message arriving at a sandbox channel, as a webhook's
    would: try the inbox here."""
    body: SandboxMessageCreate = call.body
    channel = call.deps.channels.get(call.workspace_id, channel_id)
    if channel.network != "sandbox":
        raise NotFound("Only sandbox channels take messages made up here.")
    newest = call.deps.sandbox_store.newest_post(call.workspace_id, channel_id) if body.kind == "comment" else None
    report = call.deps.ingest.sandbox_message(
        channel, body.text, body.kind, body.author_name, body.author_handle, newest
    )
    return {"stored": report.stored}
