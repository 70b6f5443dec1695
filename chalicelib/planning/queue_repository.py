"""Each channel's queue in the planning table: its schedule item and the slot claims of its posts.

pk `<workspace>#<channel>`; sk `queue` for the schedule, `slot#<UTC time>` for each slot a post holds. A claim
is put only if absent (two posts queued at once never share a slot); moving posts between slots is one
transaction conditioned on who held each slot when it was read.
"""
from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta

from pynamodb.connection import Connection
from pynamodb.exceptions import DeleteError, PutError, TransactWriteError
from pynamodb.transactions import TransactWrite

from chalicelib.core.errors import Conflict
from chalicelib.planning.slots import WEEKDAYS, Slot
from chalicelib.planning.tables import PlanningRecord, QueueScheduleRecord, SlotClaimRecord

SCHEDULE_SK = "queue"
SLOT_SK = "slot#"
# A claim is kept this long after its slot went by (the table's TTL removes it): a queue resumed after a
# longer pause no longer finds the posts whose slot went by before that.
CLAIM_KEPT = timedelta(days=90)
TRANSACTION_ITEMS = 100


def slot_key(moment: datetime) -> str:
    """Fixed-width UTC time: sorts as text in time order."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def queue_pk(workspace_id: str, channel_id: str) -> str:
    return f"{workspace_id}#{channel_id}"


@dataclass
class QueueSchedule:
    workspace_id: str
    channel_id: str
    slots: list[Slot] = field(default_factory=list)
    paused: bool = False
    version: int = 0  # 0: never saved
    updated_at: datetime | None = None


@dataclass(frozen=True)
class Claim:
    slot_at: datetime
    post_id: str


@dataclass(frozen=True)
class Move:
    """One slot's new holder: `before` is who held it when read (None: free), `after` who holds it now
    (None: it is freed)."""

    slot_at: datetime
    before: str | None
    after: str | None


def _slots_json(slots: list[Slot]) -> str:
    return json.dumps([slot.label for slot in slots])


def _slots_from(text: str) -> list[Slot]:
    return [Slot(WEEKDAYS.index(s["weekday"]), time.fromisoformat(s["time"])) for s in json.loads(text or "[]")]


class QueueRepository:
    def __init__(self, connection: Connection | None = None) -> None:
        self._connection = connection

    @property
    def connection(self) -> Connection:
        if self._connection is None:
            self._connection = PlanningRecord._get_connection().connection
        return self._connection

    # -- the schedule --------------------------------------------------------

    def get_schedule(self, workspace_id: str, channel_id: str) -> QueueSchedule:
        try:
            record = QueueScheduleRecord.get(queue_pk(workspace_id, channel_id), SCHEDULE_SK, consistent_read=True)
        except QueueScheduleRecord.DoesNotExist:
            return QueueSchedule(workspace_id, channel_id)
        return QueueSchedule(workspace_id, channel_id, _slots_from(record.slots), bool(record.paused),
                             int(record.version), _parse(record.updated_at))

    def save_schedule(self, schedule: QueueSchedule, now: datetime) -> QueueSchedule:
        """Saves at the next version, only if nobody saved it since it was read."""
        record = QueueScheduleRecord(queue_pk(schedule.workspace_id, schedule.channel_id), SCHEDULE_SK,
                                     workspace_id=schedule.workspace_id, channel_id=schedule.channel_id,
                                     slots=_slots_json(schedule.slots), paused=schedule.paused,
                                     version=schedule.version + 1, updated_at=slot_key(now))
        condition = (QueueScheduleRecord.pk.does_not_exist() if schedule.version == 0
                     else QueueScheduleRecord.version == schedule.version)
        try:
            record.save(condition=condition)
        except PutError as exc:
            raise Conflict("The queue's schedule changed meanwhile; read it again and retry.",
                           code="version_conflict") from exc
        return QueueSchedule(schedule.workspace_id, schedule.channel_id, list(schedule.slots), schedule.paused,
                             schedule.version + 1, now)

    # -- slot claims ---------------------------------------------------------

    def claims(self, workspace_id: str, channel_id: str, after: datetime) -> list[Claim]:
        """The slots held after `after`, in time order (one Query on the channel's queue)."""
        records = SlotClaimRecord.query(queue_pk(workspace_id, channel_id),
                                        SlotClaimRecord.sk.between(SLOT_SK + slot_key(after), SLOT_SK + "~"),
                                        consistent_read=True)
        return [Claim(_parse(r.slot_at), r.post_id) for r in records
                if isinstance(r, SlotClaimRecord) and _parse(r.slot_at) > after]

    def _claim_record(self, workspace_id: str, channel_id: str, slot_at: datetime, post_id: str) -> SlotClaimRecord:
        return SlotClaimRecord(queue_pk(workspace_id, channel_id), SLOT_SK + slot_key(slot_at),
                               workspace_id=workspace_id, channel_id=channel_id, post_id=post_id,
                               slot_at=slot_key(slot_at), expires_at_epoch=slot_at + CLAIM_KEPT)

    def claim(self, workspace_id: str, channel_id: str, slot_at: datetime, post_id: str) -> bool:
        """Takes a free slot; False when another post holds it."""
        try:
            self._claim_record(workspace_id, channel_id, slot_at, post_id).save(
                condition=SlotClaimRecord.pk.does_not_exist())
        except PutError:
            return False
        return True

    def release(self, workspace_id: str, channel_id: str, slot_at: datetime, post_id: str) -> None:
        """Frees the slot if `post_id` still holds it."""
        record = SlotClaimRecord(queue_pk(workspace_id, channel_id), SLOT_SK + slot_key(slot_at))
        with contextlib.suppress(DeleteError):  # another post holds it now, or nobody: nothing to free
            record.delete(condition=SlotClaimRecord.post_id == post_id)

    def move(self, workspace_id: str, channel_id: str, moves: list[Move]) -> None:
        """Gives each slot its new holder, each conditioned on the holder it had when read; a queue changed
        meanwhile is a conflict (in chunks of 100 slots: a longer reshuffle is not one transaction)."""
        changed = [m for m in moves if m.before != m.after]
        for start in range(0, len(changed), TRANSACTION_ITEMS):
            try:
                with TransactWrite(connection=self.connection) as tx:
                    for move in changed[start:start + TRANSACTION_ITEMS]:
                        self._move_one(tx, workspace_id, channel_id, move)
            except TransactWriteError as exc:
                raise Conflict("The queue changed meanwhile (a post was added or moved); read it again and "
                               "retry.", code="queue_conflict") from exc

    def _move_one(self, tx: TransactWrite, workspace_id: str, channel_id: str, move: Move) -> None:
        held = (SlotClaimRecord.pk.does_not_exist() if move.before is None
                else SlotClaimRecord.post_id == move.before)
        if move.after is None:
            tx.delete(SlotClaimRecord(queue_pk(workspace_id, channel_id), SLOT_SK + slot_key(move.slot_at)),
                      condition=held)
        else:
            tx.save(self._claim_record(workspace_id, channel_id, move.slot_at, move.after), condition=held)
