from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import pytest

from chalicelib.publishing.delivery_repository import LostClaim, Outcome
from chalicelib.publishing.post_repository import DeliveryRow
from chalicelib.publishing.publish_queue import PublishMessage
from chalicelib.publishing.sibling_outcomes import SiblingOutcomes


class RecordingDeliveries:
    """What the outcomes writer was asked to write: one transaction per call."""

    def __init__(self, lose: set[str] | None = None) -> None:
        self.together: list[list[str]] = []
        self.alone: list[str] = []
        self.lose = lose or set()
        self._lock = threading.Lock()

    def finish(self, row: DeliveryRow, token: str, outcome: Outcome, read: Any = None) -> DeliveryRow:
        with self._lock:
            self.alone.append(row.channel_id)
        if row.channel_id in self.lose:
            raise LostClaim("the claim was lost")
        return DeliveryRow(**{**row.__dict__, "status": outcome.status})

    def finish_together(self, finishing: list[tuple[DeliveryRow, str, Outcome]]) -> list[DeliveryRow] | None:
        with self._lock:
            self.together.append(sorted(row.channel_id for row, _token, _outcome in finishing))
        if any(row.channel_id in self.lose for row, _token, _outcome in finishing):
            return None
        return [DeliveryRow(**{**row.__dict__, "status": outcome.status}) for row, _token, outcome in finishing]


def message(post_id: str, channel_id: str) -> PublishMessage:
    return PublishMessage("ws", post_id, channel_id, 1, "2026-12-06T12:00:00Z", send_token="t")


def row(m: PublishMessage) -> DeliveryRow:
    return DeliveryRow(m.workspace_id, m.post_id, m.channel_id, "sandbox", "publishing", post_version=1)


PUBLISHED = Outcome("published", remote_id="1")


def finish_all(siblings: SiblingOutcomes, messages: list[PublishMessage]) -> list[Any]:
    def one(m: PublishMessage) -> Any:
        try:
            return siblings.finish(m, row(m), "claim", PUBLISHED, None).status
        except LostClaim:
            return "lost"

    with ThreadPoolExecutor(max_workers=len(messages)) as pool:
        return list(pool.map(one, messages))


def test_a_posts_finished_deliveries_are_written_in_one_transaction_and_other_posts_alone() -> None:
    deliveries = RecordingDeliveries()
    messages = [message("p1", f"c{i}") for i in range(3)] + [message("p2", "c0")]
    said = finish_all(SiblingOutcomes(deliveries, messages), messages)  # type: ignore[arg-type]
    assert said == ["published"] * 4
    assert (deliveries.together, deliveries.alone) == ([["c0", "c1", "c2"]], ["c0"])


def test_a_sibling_that_leaves_lets_the_others_be_written_without_it() -> None:
    deliveries = RecordingDeliveries()
    messages = [message("p1", f"c{i}") for i in range(3)]
    siblings = SiblingOutcomes(deliveries, messages)  # type: ignore[arg-type]
    with ThreadPoolExecutor(max_workers=2) as pool:
        done = [pool.submit(siblings.finish, m, row(m), "claim", PUBLISHED, None) for m in messages[:2]]
        siblings.leave(messages[2])  # it will retry, or it claimed nothing
        assert [future.result(timeout=5).status for future in done] == ["published"] * 2
    assert deliveries.together == [["c0", "c1"]]


def test_an_outcome_that_is_not_final_is_written_at_once_and_is_not_waited_for() -> None:
    deliveries = RecordingDeliveries()
    messages = [message("p1", "c0"), message("p1", "c1")]
    siblings = SiblingOutcomes(deliveries, messages)  # type: ignore[arg-type]
    retrying = Outcome("queued", next_due=datetime(2026, 12, 6, 12, 1, tzinfo=UTC))
    assert siblings.finish(messages[0], row(messages[0]), "claim", retrying, None).status == "queued"
    assert siblings.finish(messages[1], row(messages[1]), "claim", PUBLISHED, None).status == "published"
    assert (deliveries.together, deliveries.alone) == ([], ["c0", "c1"])


def test_a_sibling_that_never_comes_back_holds_the_others_only_as_long_as_the_wait() -> None:
    deliveries = RecordingDeliveries()
    messages = [message("p1", f"c{i}") for i in range(3)]
    siblings = SiblingOutcomes(deliveries, messages, wait_s=1.0)  # type: ignore[arg-type]
    said = finish_all(siblings, messages[:2])  # the third one's worker is still out
    assert said == ["published"] * 2
    assert deliveries.together == [["c0", "c1"]]
    assert siblings.finish(messages[2], row(messages[2]), "claim", PUBLISHED, None).status == "published"
    assert deliveries.alone == ["c2"]


def test_when_one_claim_was_lost_each_is_written_alone_and_only_the_lost_one_hears_it() -> None:
    deliveries = RecordingDeliveries(lose={"c1"})
    messages = [message("p1", f"c{i}") for i in range(3)]
    said = finish_all(SiblingOutcomes(deliveries, messages), messages)  # type: ignore[arg-type]
    assert said == ["published", "lost", "published"]
    assert deliveries.together == [["c0", "c1", "c2"]] and sorted(deliveries.alone) == ["c0", "c1", "c2"]


def test_an_error_writing_the_transaction_reaches_every_sibling() -> None:
    class Failing(RecordingDeliveries):
        def finish_together(self, finishing: Any) -> Any:
            raise RuntimeError("DynamoDB is down")

    messages = [message("p1", f"c{i}") for i in range(2)]
    siblings = SiblingOutcomes(Failing(), messages)  # type: ignore[arg-type]
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = [pool.submit(siblings.finish, m, row(m), "claim", PUBLISHED, None) for m in messages]
        for future in futures:
            with pytest.raises(RuntimeError, match="down"):
                future.result(timeout=5)
