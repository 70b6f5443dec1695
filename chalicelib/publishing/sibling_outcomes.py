"""The final outcomes of one worker batch's deliveries of a post, written in one transaction.

A post's deliveries share a due shard and sit side by side in it, so the tick sends them in one message
batch and they usually reach one worker batch, published at once. Written one by one, siblings that finish
at the same moment collide on the post item (each takes itself off `open_deliveries`, the last sets the
post's status): the loser's transaction is refused, a write request, and it reads and writes again. Here
each sibling with a final outcome waits for the batch's other deliveries of its post to finish or to leave
(an outcome that is not final, a message that claimed nothing, an error), and the last to arrive writes all
of them in one request (`DeliveryRepository.finish_together`)."""
from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from chalicelib.publishing.delivery_repository import DeliveryRepository, Outcome, PostRead
from chalicelib.publishing.post_repository import DeliveryRow
from chalicelib.publishing.publish_queue import PublishMessage

# A finished sibling waits at most this long for the others (well inside the claim's lease) before it writes
# what has arrived so far; the slower ones are written when they arrive.
SIBLING_WAIT_S = 20.0


@dataclass(eq=False)
class _Arrival:
    message: PublishMessage
    row: DeliveryRow
    token: str
    outcome: Outcome
    read: PostRead | None
    done: threading.Event = field(default_factory=threading.Event)
    result: DeliveryRow | None = None
    error: BaseException | None = None


@dataclass
class _Group:
    pending: set[int]  # id() of the messages not yet arrived or gone
    arrived: list[_Arrival] = field(default_factory=list)


class SiblingOutcomes:
    """One per worker batch: `finish` for a final outcome, `leave` (always, at the end) for every message."""

    def __init__(self, deliveries: DeliveryRepository, messages: Iterable[PublishMessage],
                 wait_s: float = SIBLING_WAIT_S) -> None:
        self.deliveries = deliveries
        self.wait_s = wait_s
        self._lock = threading.Lock()
        messages = list(messages)
        counts = Counter(_post_of(message) for message in messages)
        self._groups: dict[int, _Group] = {}
        for post in (post for post, count in counts.items() if count > 1):
            group = _Group({id(message) for message in messages if _post_of(message) == post})
            self._groups.update({member: group for member in group.pending})

    def finish(self, message: PublishMessage, row: DeliveryRow, token: str, outcome: Outcome,
               read: PostRead | None) -> DeliveryRow:
        """Writes a final outcome, with its siblings' when they finish too; raises LostClaim as `finish` does."""
        group = self._groups.get(id(message))
        if group is None or outcome.next_due is not None:
            self.leave(message)
            return self.deliveries.finish(row, token, outcome, read)
        arrival = _Arrival(message, row, token, outcome, read)
        with self._lock:
            group.pending.discard(id(message))
            group.arrived.append(arrival)
            ready = self._take(group, everyone_in=True)
        if ready:
            self._write(ready)
        elif not arrival.done.wait(self.wait_s):
            with self._lock:
                late = self._take(group, everyone_in=False) if arrival in group.arrived else []
            if late:
                self._write(late)
            arrival.done.wait()  # taken by another: it is being written now
        if arrival.error is not None:
            raise arrival.error
        assert arrival.result is not None
        return arrival.result

    def leave(self, message: PublishMessage) -> None:
        """This message writes no final outcome through its group (or already has): no sibling waits for it."""
        group = self._groups.get(id(message))
        if group is None:
            return
        with self._lock:
            if id(message) not in group.pending:
                return
            group.pending.discard(id(message))
            ready = self._take(group, everyone_in=True)
        if ready:
            self._write(ready)

    @staticmethod
    def _take(group: _Group, *, everyone_in: bool) -> list[_Arrival]:
        """The arrivals to write now: all of them once nobody else is expected (or when told not to wait)."""
        if not group.arrived or (everyone_in and group.pending):
            return []
        taken, group.arrived = group.arrived, []
        return taken

    def _write(self, arrivals: list[_Arrival]) -> None:
        try:
            rows = (self.deliveries.finish_together([(a.row, a.token, a.outcome) for a in arrivals])
                    if len(arrivals) > 1 else None)
            if rows is not None:
                for arrival, row in zip(arrivals, rows, strict=True):
                    arrival.result = row
                return
            for arrival in arrivals:  # alone, or a claim was lost: each on its own (the lost one raises)
                try:
                    arrival.result = self.deliveries.finish(arrival.row, arrival.token, arrival.outcome,
                                                            arrival.read)
                except Exception as exc:
                    arrival.error = exc
        except Exception as exc:
            for arrival in arrivals:
                arrival.error = arrival.error or exc
        finally:
            for arrival in arrivals:
                arrival.done.set()


def _post_of(message: PublishMessage) -> tuple[str, str]:
    return message.workspace_id, message.post_id
