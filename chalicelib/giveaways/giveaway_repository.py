"""Reads and writes giveaways and their frozen entrant lists (tables.py has the keys)."""
from __future__ import annotations

import builtins
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pynamodb.exceptions import DoesNotExist, PutError, UpdateError

from chalicelib.core.clock import parse_rfc3339, to_rfc3339
from chalicelib.core.pages import decode_cursor, encode_cursor
from chalicelib.giveaways.tables import EntrantRecord, GiveawayRecord

GIVEAWAY = "giveaway#"
ENTRANT = "entrant#"


@dataclass(frozen=True)
class Entrant:
    entrant_id: str
    handle: str
    name: str
    message_id: str
    channel_id: str
    commented_at: datetime


class AlreadyChanged(Exception):
    """Another request froze or drew the giveaway first."""


@dataclass
class Giveaway:
    workspace_id: str
    giveaway_id: str
    name: str
    posts: list[dict[str, Any]]
    rules: dict[str, Any]
    starts_at: str
    ends_at: str
    winners_count: int
    alternates_count: int
    status: str
    created_at: str
    updated_at: str
    frozen_at: str | None = None
    freeze_id: str | None = None
    entrant_count: int | None = None
    entrants_sha256: str | None = None
    seed_sha256: str | None = None
    seed_sealed: bytes | None = None
    seed: str | None = None
    stats: dict[str, int] = field(default_factory=dict)
    drawn_at: str | None = None
    draw: dict[str, Any] = field(default_factory=dict)


def _loads(text: str | None, default: Any) -> Any:
    return json.loads(text) if text else default


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, sort_keys=True)


def _giveaway(r: GiveawayRecord) -> Giveaway:
    return Giveaway(r.workspace_id, r.giveaway_id, r.name, _loads(r.posts, []), _loads(r.rules, {}), r.starts_at,
                    r.ends_at, int(r.winners_count), int(r.alternates_count), r.status, r.created_at, r.updated_at,
                    r.frozen_at, r.freeze_id, None if r.entrant_count is None else int(r.entrant_count),
                    r.entrants_sha256, r.seed_sha256, r.seed_sealed, r.seed, _loads(r.stats, {}), r.drawn_at,
                    _loads(r.draw, {}))


def _record(g: Giveaway) -> GiveawayRecord:
    return GiveawayRecord(
        g.workspace_id, GIVEAWAY + g.giveaway_id, giveaway_id=g.giveaway_id, name=g.name, posts=_dumps(g.posts),
        rules=_dumps(g.rules), starts_at=g.starts_at, ends_at=g.ends_at, winners_count=g.winners_count,
        alternates_count=g.alternates_count, status=g.status, created_at=g.created_at, updated_at=g.updated_at,
        frozen_at=g.frozen_at, freeze_id=g.freeze_id, entrant_count=g.entrant_count, entrants_sha256=g.entrants_sha256,
        seed_sha256=g.seed_sha256, seed_sealed=g.seed_sealed, seed=g.seed,
        stats=_dumps(g.stats) if g.stats else None, drawn_at=g.drawn_at, draw=_dumps(g.draw) if g.draw else None)


def _entrant(r: EntrantRecord) -> Entrant:
    return Entrant(r.entrant_id, r.handle, r.display_name, r.message_id, r.channel_id, parse_rfc3339(r.commented_at))


class GiveawayRepository:
    def get(self, workspace_id: str, giveaway_id: str) -> Giveaway | None:
        try:
            return _giveaway(GiveawayRecord.get(workspace_id, GIVEAWAY + giveaway_id, consistent_read=True))
        except DoesNotExist:
            return None

    def create(self, giveaway: Giveaway) -> None:
        _record(giveaway).save(condition=GiveawayRecord.item_key.does_not_exist())

    def list(self, workspace_id: str, limit: int,
             cursor: str | None) -> tuple[builtins.list[Giveaway], str | None]:
        start = decode_cursor(cursor, {"workspace_id": workspace_id}, ("workspace_id", "item_key"))
        found = GiveawayRecord.query(workspace_id, GiveawayRecord.item_key.startswith(GIVEAWAY), limit=limit,
                                     last_evaluated_key=start, scan_index_forward=False)
        return [_giveaway(r) for r in found], encode_cursor(found.last_evaluated_key)

    def replace_if(self, giveaway: Giveaway, expected_status: str) -> None:
        """Writes the giveaway only while it still has `expected_status` (a freeze or a draw happens once)."""
        try:
            _record(giveaway).save(condition=GiveawayRecord.status == expected_status)
        except (PutError, UpdateError) as exc:
            if getattr(exc, "cause_response_code", "") == "ConditionalCheckFailedException":
                raise AlreadyChanged() from None
            raise

    def put_entrants(self, workspace_id: str, giveaway_id: str, freeze_id: str,
                     entrants: builtins.list[Entrant]) -> None:
        with EntrantRecord.batch_write() as batch:
            for position, e in enumerate(entrants):
                batch.save(EntrantRecord(workspace_id, f"{ENTRANT}{giveaway_id}#{freeze_id}#{position:06d}",
                                         entrant_id=e.entrant_id, handle=e.handle, display_name=e.name,
                                         message_id=e.message_id, channel_id=e.channel_id,
                                         commented_at=to_rfc3339(e.commented_at) or ""))

    def entrants(self, workspace_id: str, giveaway_id: str, freeze_id: str) -> builtins.list[Entrant]:
        return [_entrant(r) for r in EntrantRecord.query(
            workspace_id, EntrantRecord.item_key.startswith(f"{ENTRANT}{giveaway_id}#{freeze_id}#"),
            consistent_read=True)]
