"""What the inbox keeps besides conversations, one partition per workspace and kind:

- `<workspace_id>#saved_reply` / `<saved_reply_id>`
- `<workspace_id>#rule` / `<rule_id>`
- `<workspace_id>#mention` / `<received time>#<mention_id>` (newest last): one per rule and post, listed
  by whichever path found the post first (the inbox or a network search)
- `<workspace_id>#mention_post` / `<rule_id>#<network>#<remote post id>`: which mention item lists that
  post for that rule and which paths found it, so the other path adds itself to that item
- `<workspace_id>#poll_cursor` / `<channel_id>`
- `listening#search` / `<workspace_id>#<rule_id>`: the rules that search the networks (the search job
  queries this one partition instead of scanning for them).
- `network#<network>#webhooks` / `<YYYY-MM-DD>`: what receivers answered 200 to without
  storing (no workspace is known for those).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from pynamodb.attributes import BooleanAttribute, NumberAttribute, UnicodeAttribute, UnicodeSetAttribute
from pynamodb.exceptions import DoesNotExist, PutError, UpdateError
from pynamodb.models import Model

from chalicelib.core.pages import decode_cursor, encode_cursor
from chalicelib.core.tables import string_list, table_meta
from chalicelib.publishing.post_repository import key_time

SEARCHING_PK = "listening#search"


class SavedReplyRecord(Model):
    Meta = table_meta("inbox_config")
    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    name = UnicodeAttribute()
    text = UnicodeAttribute()
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()
    # What may be sent outside a messaging window (WhatsApp template, Messenger message tag); optional.
    template_name = UnicodeAttribute(null=True)
    template_language = UnicodeAttribute(null=True)
    message_tag = UnicodeAttribute(null=True)


class ListeningRuleRecord(Model):
    Meta = table_meta("inbox_config")
    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    name = UnicodeAttribute()
    any_of = string_list(default=list)
    all_of = string_list(default=list)
    exclude = string_list(default=list)
    channel_ids = string_list(default=list)
    enabled = BooleanAttribute(default=True)
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()
    kind = UnicodeAttribute(default="brand")
    competitor_name = UnicodeAttribute(null=True)
    competitor_handles = string_list(default=list)
    search = BooleanAttribute(default=False)
    # JSON {network: {cursor, status, message, found, checked_at}}, written only by the search job.
    search_state = UnicodeAttribute(null=True)


class SearchingRuleRecord(Model):
    Meta = table_meta("inbox_config")
    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)


class MentionRecord(Model):
    Meta = table_meta("inbox_config")
    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    mention_id = UnicodeAttribute()
    rule_id = UnicodeAttribute()
    rule_name = UnicodeAttribute(default="")
    conversation_id = UnicodeAttribute()
    channel_id = UnicodeAttribute()
    network = UnicodeAttribute()
    message_id = UnicodeAttribute()
    kind = UnicodeAttribute()
    text = UnicodeAttribute(default="")
    author_id = UnicodeAttribute(default="")
    author_name = UnicodeAttribute(default="")
    author_handle = UnicodeAttribute(default="")
    matched_terms = string_list(default=list)
    occurred_at = UnicodeAttribute()
    created_at = UnicodeAttribute()
    source = UnicodeAttribute(default="inbox")
    url = UnicodeAttribute(null=True)
    found_by = UnicodeSetAttribute(null=True)  # missing on items written before it: {source}


class MentionClaimRecord(Model):
    """The post a rule matched (network + remote post id): the sk of the mention item that lists it, and the
    paths (inbox, search) that found it."""

    Meta = table_meta("inbox_config")
    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    listed = UnicodeAttribute()
    found_by = UnicodeSetAttribute()


class PollCursorRecord(Model):
    Meta = table_meta("inbox_config")
    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    cursor = UnicodeAttribute(null=True)
    updated_at = UnicodeAttribute()


class WebhookStatsRecord(Model):
    Meta = table_meta("inbox_config")
    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    ignored = NumberAttribute(default=0)
    unrouted = NumberAttribute(default=0)
    rejected = NumberAttribute(default=0)


@dataclass
class SavedReplyRow:
    workspace_id: str
    saved_reply_id: str
    name: str
    text: str
    created_at: str
    updated_at: str
    template_name: str | None = None
    template_language: str | None = None
    message_tag: str | None = None


@dataclass
class RuleRow:
    workspace_id: str
    rule_id: str
    name: str
    created_at: str
    updated_at: str
    any_of: list[str] = field(default_factory=list)
    all_of: list[str] = field(default_factory=list)
    exclude: list[str] = field(default_factory=list)
    channel_ids: list[str] = field(default_factory=list)
    enabled: bool = True
    kind: str = "brand"
    competitor_name: str | None = None
    competitor_handles: list[str] = field(default_factory=list)
    search: bool = False
    search_state: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass
class MentionRow:
    workspace_id: str
    mention_id: str
    rule_id: str
    rule_name: str
    conversation_id: str
    channel_id: str
    network: str
    message_id: str
    kind: str
    text: str
    occurred_at: datetime
    created_at: datetime
    author_id: str = ""
    author_name: str = ""
    author_handle: str = ""
    matched_terms: list[str] = field(default_factory=list)
    source: str = "inbox"
    url: str | None = None
    found_by: list[str] = field(default_factory=list)


def _pk(workspace_id: str, kind: str) -> str:
    return f"{workspace_id}#{kind}"


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _saved_row(workspace_id: str, r: SavedReplyRecord) -> SavedReplyRow:
    return SavedReplyRow(
        workspace_id,
        r.sk,
        r.name,
        r.text,
        r.created_at,
        r.updated_at,
        r.template_name,
        r.template_language,
        r.message_tag,
    )


def _rule_row(workspace_id: str, r: ListeningRuleRecord) -> RuleRow:
    return RuleRow(
        workspace_id,
        r.sk,
        r.name,
        r.created_at,
        r.updated_at,
        list(r.any_of or []),
        list(r.all_of or []),
        list(r.exclude or []),
        list(r.channel_ids or []),
        bool(r.enabled),
        r.kind or "brand",
        r.competitor_name,
        list(r.competitor_handles or []),
        bool(r.search),
        json.loads(r.search_state) if r.search_state else {},
    )


def _mention_row(workspace_id: str, r: MentionRecord) -> MentionRow:
    return MentionRow(
        workspace_id,
        r.mention_id,
        r.rule_id,
        r.rule_name,
        r.conversation_id,
        r.channel_id,
        r.network,
        r.message_id,
        r.kind,
        r.text,
        _time(r.occurred_at),
        _time(r.created_at),
        r.author_id,
        r.author_name,
        r.author_handle,
        list(r.matched_terms or []),
        r.source or "inbox",
        r.url,
        sorted(set(r.found_by or ()) | {r.source or "inbox"}),
    )


class InboxConfigRepository:
    # -- saved replies -------------------------------------------------------------

    def put_saved_reply(self, row: SavedReplyRow) -> None:
        SavedReplyRecord(
            _pk(row.workspace_id, "saved_reply"),
            row.saved_reply_id,
            name=row.name,
            text=row.text,
            created_at=row.created_at,
            updated_at=row.updated_at,
            template_name=row.template_name,
            template_language=row.template_language,
            message_tag=row.message_tag,
        ).save()

    def get_saved_reply(self, workspace_id: str, saved_reply_id: str) -> SavedReplyRow | None:
        try:
            record = SavedReplyRecord.get(_pk(workspace_id, "saved_reply"), saved_reply_id, consistent_read=True)
        except DoesNotExist:
            return None
        return _saved_row(workspace_id, record)

    def list_saved_replies(
        self, workspace_id: str, limit: int, cursor: str | None
    ) -> tuple[list[SavedReplyRow], str | None]:
        pk = _pk(workspace_id, "saved_reply")
        result = SavedReplyRecord.query(pk, limit=limit, last_evaluated_key=decode_cursor(cursor, {"pk": pk}))
        rows = [_saved_row(workspace_id, r) for r in result]
        return rows, encode_cursor(result.last_evaluated_key)

    def delete_saved_reply(self, workspace_id: str, saved_reply_id: str) -> None:
        SavedReplyRecord(_pk(workspace_id, "saved_reply"), saved_reply_id).delete()

    # -- listening rules -------------------------------------------------------------

    def put_rule(self, row: RuleRow) -> None:
        ListeningRuleRecord(
            _pk(row.workspace_id, "rule"),
            row.rule_id,
            name=row.name,
            any_of=row.any_of,
            all_of=row.all_of,
            exclude=row.exclude,
            channel_ids=row.channel_ids,
            enabled=row.enabled,
            created_at=row.created_at,
            updated_at=row.updated_at,
            kind=row.kind,
            competitor_name=row.competitor_name,
            competitor_handles=row.competitor_handles,
            search=row.search,
            search_state=json.dumps(row.search_state) if row.search_state else None,
        ).save()
        self._list_searching(row.workspace_id, row.rule_id, row.search and row.enabled)

    def _list_searching(self, workspace_id: str, rule_id: str, searching: bool) -> None:
        entry = SearchingRuleRecord(SEARCHING_PK, f"{workspace_id}#{rule_id}")
        if searching:
            entry.save()
        else:
            entry.delete()

    def searching_rules(self) -> list[tuple[str, str]]:
        """(workspace_id, rule_id) of every enabled rule that searches the networks."""
        found = []
        for record in SearchingRuleRecord.query(SEARCHING_PK):
            workspace_id, _, rule_id = record.sk.partition("#")
            found.append((workspace_id, rule_id))
        return found

    def save_search_state(self, workspace_id: str, rule_id: str, state: dict[str, dict[str, Any]]) -> bool:
        """Writes only the search job's attribute, on a rule that still exists."""
        try:
            ListeningRuleRecord(_pk(workspace_id, "rule"), rule_id).update(
                actions=[ListeningRuleRecord.search_state.set(json.dumps(state))],
                condition=ListeningRuleRecord.pk.exists(),
            )
        except UpdateError as exc:
            if getattr(exc, "cause_response_code", "") == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def get_rule(self, workspace_id: str, rule_id: str) -> RuleRow | None:
        try:
            record = ListeningRuleRecord.get(_pk(workspace_id, "rule"), rule_id, consistent_read=True)
        except DoesNotExist:
            return None
        return _rule_row(workspace_id, record)

    def list_rules(self, workspace_id: str, limit: int, cursor: str | None) -> tuple[list[RuleRow], str | None]:
        pk = _pk(workspace_id, "rule")
        result = ListeningRuleRecord.query(pk, limit=limit, last_evaluated_key=decode_cursor(cursor, {"pk": pk}))
        rows = [_rule_row(workspace_id, r) for r in result]
        return rows, encode_cursor(result.last_evaluated_key)

    def all_rules(self, workspace_id: str) -> list[RuleRow]:
        return [_rule_row(workspace_id, r) for r in ListeningRuleRecord.query(_pk(workspace_id, "rule"))]

    def delete_rule(self, workspace_id: str, rule_id: str) -> None:
        ListeningRuleRecord(_pk(workspace_id, "rule"), rule_id).delete()
        self._list_searching(workspace_id, rule_id, False)

    # -- mentions ----------------------------------------------------------------------

    def put_mention(self, row: MentionRow, found_at: datetime) -> bool:
        """Lists the post once per rule (by network and remote post id) whichever path finds it first, the
        inbox or a search (`row.source`), keyed by `found_at`; a later path adds itself to the item's
        `found_by` (the inbox also gives it the conversation). Idempotent. True when this path had not found
        the post for this rule before. Writes: the claim, then the item (a put if new, else an update)."""
        claim = MentionClaimRecord(
            _pk(row.workspace_id, "mention_post"), f"{row.rule_id}#{row.network}#{row.message_id}"
        )
        claim.update(
            actions=[
                MentionClaimRecord.listed.set(MentionClaimRecord.listed | f"{key_time(found_at)}#{row.mention_id}"),
                MentionClaimRecord.found_by.add({row.source}),
            ]
        )
        listed_at, _, listed_id = claim.listed.partition("#")
        # Not there yet only when the path that claimed it first has not written it (a race, or a crash it
        # will make good on its retry): this path writes it then, under that path's key.
        if self._put_new(replace(row, mention_id=listed_id, found_by=sorted(claim.found_by)), listed_at):
            return True
        return self._add_finder(row, claim.listed)

    def _put_new(self, row: MentionRow, listed_at: str) -> bool:
        try:
            self._mention_record(row, listed_at).save(condition=MentionRecord.sk.does_not_exist())
        except PutError as exc:
            if getattr(exc, "cause_response_code", "") == "ConditionalCheckFailedException":
                return False
            raise
        return True

    @staticmethod
    def _add_finder(row: MentionRow, listed_sk: str) -> bool:
        actions: list[Any] = [MentionRecord.found_by.add({row.source})]
        if row.conversation_id:  # the inbox has it: the mention leads to its conversation
            actions += [
                MentionRecord.conversation_id.set(row.conversation_id),
                MentionRecord.channel_id.set(row.channel_id),
                MentionRecord.kind.set(row.kind),
            ]
        try:
            MentionRecord(_pk(row.workspace_id, "mention"), listed_sk).update(
                actions=actions, condition=~MentionRecord.found_by.contains(row.source)
            )
        except UpdateError as exc:
            if getattr(exc, "cause_response_code", "") == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def mentions_between(self, workspace_id: str, start: datetime, end: datetime) -> list[MentionRow]:
        """Mentions received in [start, end): the monthly report's share of voice."""
        pk = _pk(workspace_id, "mention")
        result = MentionRecord.query(pk, MentionRecord.sk.between(key_time(start), key_time(end)))
        return [row for row in (_mention_row(workspace_id, r) for r in result) if row.created_at < end]

    @staticmethod
    def _mention_record(row: MentionRow, listed_at: str) -> MentionRecord:
        return MentionRecord(
            _pk(row.workspace_id, "mention"),
            f"{listed_at}#{row.mention_id}",
            mention_id=row.mention_id,
            rule_id=row.rule_id,
            rule_name=row.rule_name,
            conversation_id=row.conversation_id,
            channel_id=row.channel_id,
            network=row.network,
            message_id=row.message_id,
            kind=row.kind,
            text=row.text,
            author_id=row.author_id,
            author_name=row.author_name,
            author_handle=row.author_handle,
            matched_terms=row.matched_terms,
            occurred_at=key_time(row.occurred_at),
            created_at=key_time(row.created_at),
            source=row.source,
            url=row.url,
            found_by=set(row.found_by) | {row.source},
        )

    def list_mentions(
        self, workspace_id: str, rule_id: str | None, limit: int, cursor: str | None
    ) -> tuple[list[MentionRow], str | None]:
        pk = _pk(workspace_id, "mention")
        result = MentionRecord.query(
            pk,
            filter_condition=(MentionRecord.rule_id == rule_id) if rule_id else None,
            scan_index_forward=False,
            limit=limit,
            page_size=max(limit, 100) if rule_id else None,
            last_evaluated_key=decode_cursor(cursor, {"pk": pk}),
        )
        rows = [_mention_row(workspace_id, r) for r in result]
        return rows, encode_cursor(result.last_evaluated_key) if len(rows) == limit else None

    # -- poll cursors ------------------------------------------------------------------

    def poll_cursor(self, workspace_id: str, channel_id: str) -> tuple[bool, str | None]:
        """(known, cursor): a channel never polled has no item at all."""
        try:
            record = PollCursorRecord.get(_pk(workspace_id, "poll_cursor"), channel_id, consistent_read=True)
        except DoesNotExist:
            return False, None
        return True, record.cursor

    def save_poll_cursor(
        self, workspace_id: str, channel_id: str, cursor: str | None, *, known: bool, previous: str | None, at: datetime
    ) -> bool:
        """Moves the cursor only from where this run found it, so an overlapping run cannot move it back."""
        if known:
            condition: Any = (
                (PollCursorRecord.cursor == previous)
                if previous is not None
                else PollCursorRecord.cursor.does_not_exist()
            )
        else:
            condition = PollCursorRecord.pk.does_not_exist()
        try:
            PollCursorRecord(_pk(workspace_id, "poll_cursor"), channel_id, cursor=cursor, updated_at=key_time(at)).save(
                condition=condition
            )
        except PutError as exc:
            if getattr(exc, "cause_response_code", "") == "ConditionalCheckFailedException":
                return False
            raise
        return True

    # -- webhook counters ---------------------------------------------------------------

    def count_webhook_outcomes(self, network: str, day: str, *, ignored: int, unrouted: int, rejected: int) -> None:
        actions = [
            getattr(WebhookStatsRecord, name).add(value)
            for name, value in (("ignored", ignored), ("unrouted", unrouted), ("rejected", rejected))
            if value
        ]
        if actions:
            WebhookStatsRecord(f"network#{network}#webhooks", day).update(actions=actions)

    def webhook_outcomes(self, network: str, day: str) -> dict[str, int]:
        try:
            record = WebhookStatsRecord.get(f"network#{network}#webhooks", day, consistent_read=True)
        except DoesNotExist:
            return {"ignored": 0, "unrouted": 0, "rejected": 0}
        return {
            "ignored": int(record.ignored or 0),
            "unrouted": int(record.unrouted or 0),
            "rejected": int(record.rejected or 0),
        }
