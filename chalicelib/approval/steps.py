"""Approval steps and rounds: who approves each step, and what a decision does to the round.

Pure (no AWS, no HTTP), so the rules are tested on their own. A round is a plain dict kept on the post item
(`PostRow.approval`), bound to the post version it was opened for; an edit opens a new round at step 1.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from chalicelib.core.clock import to_rfc3339
from chalicelib.core.errors import Conflict, Forbidden
from chalicelib.core.principal import ROLE_RANK

MAX_STEPS = 5
# Earlier rounds' decisions kept on the post (newest last), so an edit does not erase who said what.
HISTORY_KEPT = 50


@dataclass(frozen=True)
class Step:
    """One step: a member of at least `role` approves it, or one of the client `reviewers` (by email)."""

    name: str
    role: str | None = None
    reviewers: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        found: dict[str, Any] = {"name": self.name, "reviewers": list(self.reviewers)}
        if self.role:
            found["role"] = self.role
        return found

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Step:
        return cls(str(data.get("name") or ""), data.get("role") or None,
                   tuple(str(e).lower() for e in data.get("reviewers") or ()))


@dataclass(frozen=True)
class Actor:
    """Who acts, as the approval sees them: `id` is what the audit log names (`key:<id>`, `reviewer:<email>`,
    later `user:<id>`); `email` is known for reviewers (and, later, signed-in users)."""

    id: str
    role: str
    email: str | None = None
    name: str | None = None


def may_approve(step: Step, actor: Actor) -> bool:
    if step.role is not None:
        rank = ROLE_RANK.get(actor.role, -1)
        return actor.role != "client" and rank >= ROLE_RANK[step.role]
    return actor.email is not None and actor.email.lower() in step.reviewers


def approver_label(step: Step) -> str:
    if step.role:
        return f"a member with the {step.role} role or higher"
    return "one of " + ", ".join(step.reviewers)


def open_round(steps: list[Step], version: int, now: datetime, previous: dict[str, Any] | None) -> dict[str, Any]:
    """A new round at step 1 for this version; the earlier round's decisions go to `history`."""
    previous = previous or {}
    history = list(previous.get("history") or []) + list(previous.get("decisions") or [])
    return {"seq": int(previous.get("seq") or 0) + 1, "version": version, "status": "pending", "current_step": 1,
            "steps": [step.as_dict() for step in steps], "decisions": [], "history": history[-HISTORY_KEPT:],
            "submitted_at": to_rfc3339(now)}


def current_step(round_: dict[str, Any]) -> Step | None:
    number = round_.get("current_step")
    if round_.get("status") != "pending" or not number:
        return None
    return Step.from_dict(round_["steps"][int(number) - 1])


def decide(round_: dict[str, Any], post_version: int, actor: Actor, verdict: str, named_version: int,
           comment: str | None, now: datetime) -> dict[str, Any]:
    """The round after `actor` approved or rejected (`verdict`) the version they read (`named_version`).

    409 when that version is not the post's (it was edited since: the decision would be about other content)
    or the round is not waiting; 403 when the actor is not the current step's approver."""
    if named_version != post_version or int(round_.get("version") or 0) != post_version:
        raise Conflict(f"You decided on version {named_version}, but the post is at version {post_version}; "
                       "read it again (an edit sends it back to the first step).", code="version_conflict")
    step = current_step(round_)
    if step is None:
        raise Conflict(f"The post's approval is {round_.get('status')}: nothing waits for a decision.",
                       code="not_pending_approval")
    if not may_approve(step, actor):
        raise Forbidden(f"Step {round_['current_step']} ({step.name}) is approved by {approver_label(step)}.",
                        code="not_your_step")
    number = int(round_["current_step"])
    decision = {"step": number, "step_name": step.name, "decision": verdict, "by": actor.id, "role": actor.role,
                "at": to_rfc3339(now), "version": post_version, "comment": comment or ""}
    decision.update({k: v for k, v in (("by_name", actor.name), ("by_email", actor.email)) if v})
    after = {**round_, "seq": int(round_.get("seq") or 0) + 1,
             "decisions": [*round_.get("decisions", []), decision]}
    if verdict == "rejected":
        return {**after, "status": "rejected", "current_step": None}
    if number >= len(round_["steps"]):
        return {**after, "status": "approved", "current_step": None}
    return {**after, "current_step": number + 1}


def post_status_after(round_: dict[str, Any]) -> str:
    """approved: scheduled (due at publish_at, or at once if it has passed); rejected: back to draft."""
    return {"approved": "scheduled", "rejected": "draft"}.get(str(round_.get("status")), "pending_approval")


def reviewers_of(round_: dict[str, Any] | None) -> set[str]:
    """Every client reviewer the round names, at any step."""
    return {email for step in (round_ or {}).get("steps", []) for email in Step.from_dict(step).reviewers}
