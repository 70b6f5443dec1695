"""Giveaways on published posts: entries read from the inbox's comments on them, frozen with a published
commitment, drawn verifiably (draw.py), certified.

The comments of one post on one channel are one inbox conversation whose id is derived from the post's
network id (inbox/conversations.py): Herald reads exactly those conversations, no Scan.
"""
from __future__ import annotations

import builtins
import csv
import io
from datetime import datetime
from typing import Any

from chalicelib.accounts.channels import ChannelService
from chalicelib.core.clock import Clock, parse_rfc3339, to_rfc3339
from chalicelib.core.crypto import SecretBox
from chalicelib.core.errors import Conflict, NotFound, ValidationFailed
from chalicelib.core.ids import new_id
from chalicelib.giveaways import draw
from chalicelib.giveaways.entries import Comment, entrants
from chalicelib.giveaways.giveaway_repository import AlreadyChanged, Entrant, Giveaway, GiveawayRepository
from chalicelib.giveaways.rules import rules_of
from chalicelib.inbox.conversation_repository import InboxRepository
from chalicelib.inbox.conversations import conversation_id_for
from chalicelib.publishing.posts import PostService

ENTRY_COLUMNS = ("position", "entrant_id", "handle", "name", "commented_at", "message_id", "channel_id")


def seed_context(workspace_id: str, giveaway_id: str) -> dict[str, str]:
    return {"workspace_id": workspace_id, "purpose": "giveaway-seed", "giveaway_id": giveaway_id}


class GiveawayService:
    def __init__(self, repository: GiveawayRepository, posts: PostService, channels: ChannelService,
                 inbox: InboxRepository, secrets: SecretBox, clock: Clock) -> None:
        self.repository = repository
        self.posts = posts
        self.channels = channels
        self.inbox = inbox
        self.secrets = secrets
        self.clock = clock

    def _now(self) -> str:
        return to_rfc3339(self.clock.now()) or ""

    def get(self, workspace_id: str, giveaway_id: str) -> Giveaway:
        row = self.repository.get(workspace_id, giveaway_id)
        if row is None:
            raise NotFound(f"No giveaway {giveaway_id} in this workspace.")
        return row

    def list(self, workspace_id: str, limit: int, cursor: str | None) -> tuple[builtins.list[Giveaway], str | None]:
        return self.repository.list(workspace_id, limit, cursor)

    def create(self, workspace_id: str, body: Any) -> Giveaway:
        now = self._now()
        row = Giveaway(workspace_id, new_id("gvw", self.clock.now()), body.name,
                       self._published(workspace_id, body.post_ids), body.rules.model_dump(),
                       to_rfc3339(body.starts_at) or "", to_rfc3339(body.ends_at) or "", body.winners,
                       body.alternates, "open", now, now)
        self.repository.create(row)
        return row

    def _published(self, workspace_id: str, post_ids: builtins.list[str]) -> builtins.list[dict[str, Any]]:
        found = []
        for index, post_id in enumerate(dict.fromkeys(post_ids)):
            try:
                _post, deliveries = self.posts.get(workspace_id, post_id)
            except NotFound:
                raise ValidationFailed.field(f"post_ids.{index}", f"no post {post_id} in this workspace") from None
            published = [d for d in deliveries if d.status == "published" and d.remote_id]
            if not published:
                raise ValidationFailed.field(f"post_ids.{index}", f"{post_id} is not published on any channel")
            found += [{"post_id": post_id, "channel_id": d.channel_id, "network": d.network,
                       "remote_id": d.remote_id, "remote_url": d.remote_url} for d in published]
        return found

    # -- entries -----------------------------------------------------------------------

    def collect(self, giveaway: Giveaway) -> tuple[builtins.list[Entrant], dict[str, int]]:
        """Who enters now, from the inbox's comments on the giveaway's posts."""
        comments: builtins.list[Comment] = []
        brand: set[str] = set()
        for ref in giveaway.posts:
            channel = self.channels.find(giveaway.workspace_id, ref["channel_id"])
            if channel is not None:
                brand |= _brand_of(channel)
            comments += self._comments_on(giveaway.workspace_id, ref)
        return entrants(comments, rules_of(giveaway), brand)

    def _comments_on(self, workspace_id: str, ref: dict[str, Any]) -> builtins.list[Comment]:
        conversation = conversation_id_for(workspace_id, ref["channel_id"], "comment", ref["remote_id"])
        return [Comment(ref["network"], ref["channel_id"], m.message_id, m.author_id, m.author_handle,
                        m.author_name, m.text, m.occurred_at, m.deleted_at is not None,
                        from_brand=m.direction != "inbound")
                for m in self.inbox.messages(workspace_id, conversation) if m.kind != "message" and m.message_id]

    def freeze(self, workspace_id: str, giveaway_id: str) -> Giveaway:
        row = self.get(workspace_id, giveaway_id)
        if row.status != "open":
            raise Conflict(f"The giveaway's entrant list was frozen at {row.frozen_at}.", code="already_frozen")
        if self.clock.now() < parse_rfc3339(row.ends_at):
            raise Conflict(f"The entry window is open until {row.ends_at}; freeze it after that.",
                           code="window_open")
        chosen, stats = self.collect(row)
        seed = draw.new_seed()
        freeze_id = new_id("frz", self.clock.now())
        self.repository.put_entrants(workspace_id, giveaway_id, freeze_id, chosen)
        row.status, row.frozen_at, row.freeze_id, row.updated_at = "frozen", self._now(), freeze_id, self._now()
        row.entrant_count, row.stats = len(chosen), stats
        row.entrants_sha256 = draw.entrants_sha256([e.entrant_id for e in chosen])
        row.seed_sha256 = draw.seed_sha256(seed)
        row.seed_sealed = self.secrets.seal({"seed": seed}, seed_context(workspace_id, giveaway_id))
        self._write(row, "open")
        return row

    def draw(self, workspace_id: str, giveaway_id: str) -> Giveaway:
        row = self.get(workspace_id, giveaway_id)
        if row.status == "drawn":
            raise Conflict(f"The giveaway was drawn at {row.drawn_at}; a draw happens once.", code="already_drawn")
        if row.status != "frozen" or row.seed_sealed is None:
            raise Conflict("Freeze the entrant list first (POST /giveaways/{id}/freeze): the commitment is "
                           "published before the draw.", code="not_frozen")
        listed = self.repository.entrants(workspace_id, giveaway_id, row.freeze_id or "")
        seed = str(self.secrets.open(row.seed_sealed, seed_context(workspace_id, giveaway_id))["seed"])
        handles = {e.entrant_id: e.handle for e in listed}
        picked = draw.pick(seed, [e.entrant_id for e in listed], row.winners_count + row.alternates_count)
        picks = [{"position": i + 1, "entrant_id": e, "handle": handles.get(e, "")} for i, e in enumerate(picked)]
        row.draw = {"winners": picks[:row.winners_count], "alternates": picks[row.winners_count:]}
        row.status, row.seed, row.drawn_at, row.updated_at = "drawn", seed, self._now(), self._now()
        self._write(row, "frozen")
        return row

    def _write(self, row: Giveaway, expected_status: str) -> None:
        try:
            self.repository.replace_if(row, expected_status)
        except AlreadyChanged:
            raise Conflict("Another request changed this giveaway first; read it again.",
                           code="already_changed") from None

    # -- exports -----------------------------------------------------------------------

    def entries_csv(self, workspace_id: str, giveaway_id: str) -> str:
        row = self.get(workspace_id, giveaway_id)
        if row.freeze_id is None:
            raise Conflict("The entrant list is exported once it is frozen (POST /giveaways/{id}/freeze).",
                           code="not_frozen")
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(ENTRY_COLUMNS)
        for position, e in enumerate(self.repository.entrants(workspace_id, giveaway_id, row.freeze_id), start=1):
            writer.writerow([position, e.entrant_id, _cell(e.handle), _cell(e.name),
                             to_rfc3339(e.commented_at), e.message_id, e.channel_id])
        return out.getvalue()

    def preview(self, row: Giveaway) -> tuple[int, dict[str, int]]:
        """The entrant count and what was left out: frozen figures once frozen, else as of now."""
        if row.entrant_count is not None:
            return row.entrant_count, dict(row.stats)
        chosen, stats = self.collect(row)
        return len(chosen), stats


def _brand_of(channel: Any) -> set[str]:
    """The brand's own identities on a channel: its handle, its account id, its Page and Instagram ids."""
    parts = [channel.handle or "", (channel.account_key or "#").split("#", 1)[1],
             *(str(channel.settings.get(k) or "") for k in ("page_id", "ig_user_id"))]
    return {part.casefold() for part in parts if part}


def _cell(value: str) -> str:
    """Text a spreadsheet shows as text: never a formula (CSV injection). Entrant ids are never changed."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def moment(text: str | None) -> datetime | None:
    return parse_rfc3339(text) if text else None
