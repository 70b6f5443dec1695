"""The step logic alone: who approves a step, what each decision does to the round, and that an edit's new
round starts at step 1 keeping the earlier decisions as history."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest

from chalicelib.approval.steps import (
    Actor,
    Step,
    current_step,
    decide,
    may_approve,
    open_round,
    post_status_after,
    reviewers_of,
)
from chalicelib.core.errors import Conflict, Forbidden

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
INTERNAL = Step("Internal review", role="admin")
CLIENT = Step("Client", reviewers=("client@brand.example",))
ADMIN = Actor("key:a1", "admin")
OWNER = Actor("key:o1", "owner")
EDITOR = Actor("key:e1", "editor")
REVIEWER = Actor("reviewer:client@brand.example", "client", "client@brand.example")


def two_steps(version: int = 3) -> dict:
    return open_round([INTERNAL, CLIENT], version, NOW, None)


def test_a_role_step_takes_that_role_or_higher_and_never_a_client() -> None:
    assert may_approve(INTERNAL, ADMIN) and may_approve(INTERNAL, OWNER)
    assert not may_approve(INTERNAL, EDITOR)
    assert not may_approve(INTERNAL, Actor("reviewer:x@y.z", "client", "x@y.z"))


def test_a_client_step_takes_its_reviewers_by_email_whatever_their_case_and_no_member() -> None:
    assert may_approve(CLIENT, REVIEWER)
    assert may_approve(CLIENT, Actor("user:u1", "client", "Client@Brand.Example"))
    assert not may_approve(CLIENT, OWNER)
    assert not may_approve(CLIENT, Actor("reviewer:other@brand.example", "client", "other@brand.example"))


def test_each_approval_moves_to_the_next_step_and_the_last_completes_the_round() -> None:
    round_ = two_steps()
    assert (round_["current_step"], current_step(round_)) == (1, INTERNAL)
    round_ = decide(round_, 3, ADMIN, "approved", 3, "ok", NOW)
    assert (round_["status"], round_["current_step"], post_status_after(round_)) == ("pending", 2, "pending_approval")
    round_ = decide(round_, 3, REVIEWER, "approved", 3, None, NOW)
    assert (round_["status"], round_["current_step"], post_status_after(round_)) == ("approved", None, "scheduled")
    assert [(d["step"], d["by"], d["version"]) for d in round_["decisions"]] == [
        (1, "key:a1", 3), (2, "reviewer:client@brand.example", 3)]
    assert round_["seq"] == 3  # opened, then two decisions: each write names the count it read


def test_a_rejection_ends_the_round_at_its_step_and_returns_the_post_to_draft() -> None:
    round_ = decide(two_steps(), 3, ADMIN, "rejected", 3, "Off brand", NOW)
    assert (round_["status"], round_["current_step"], post_status_after(round_)) == ("rejected", None, "draft")
    with pytest.raises(Conflict) as refused:
        decide(round_, 3, ADMIN, "approved", 3, None, NOW)
    assert refused.value.code == "not_pending_approval"


def test_a_decision_on_another_version_is_a_conflict() -> None:
    with pytest.raises(Conflict) as stale:
        decide(two_steps(3), 4, ADMIN, "approved", 3, None, NOW)  # the post was edited to version 4
    assert stale.value.code == "version_conflict"
    with pytest.raises(Conflict):
        decide(two_steps(3), 3, ADMIN, "approved", 2, None, NOW)


def test_only_the_current_steps_approver_decides() -> None:
    with pytest.raises(Forbidden) as refused:
        decide(two_steps(), 3, REVIEWER, "approved", 3, None, NOW)  # step 1 is internal
    assert refused.value.code == "not_your_step"
    after_one = decide(two_steps(), 3, ADMIN, "approved", 3, None, NOW)
    with pytest.raises(Forbidden):
        decide(after_one, 3, OWNER, "approved", 3, None, NOW)  # step 2 is the client's


def test_an_edit_opens_a_new_round_at_step_one_with_the_old_decisions_as_history() -> None:
    approved_once = decide(two_steps(3), 3, ADMIN, "approved", 3, None, NOW)
    reopened = open_round([INTERNAL, CLIENT], 4, NOW, approved_once)
    assert (reopened["version"], reopened["current_step"], reopened["decisions"]) == (4, 1, [])
    assert [d["version"] for d in reopened["history"]] == [3]
    assert reopened["seq"] == approved_once["seq"] + 1


def test_reviewers_of_a_round_are_every_steps_reviewers() -> None:
    assert reviewers_of(two_steps()) == {"client@brand.example"}
    assert reviewers_of(None) == set()
