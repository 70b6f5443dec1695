"""Telling whoever must act: an outbound webhook event for every request and decision, and an email to the
step's approvers (client reviewers get their magic link in it; members with an email, a link that opens the
post in the web console). Nothing here raises into the decision or the write that caused it."""
from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Protocol

from chalicelib.approval.directory import MemberDirectory
from chalicelib.approval.outbox import MailSender
from chalicelib.approval.reviews import ReviewLinks
from chalicelib.approval.steps import Actor, Step, current_step, may_approve
from chalicelib.core.clock import to_rfc3339

if TYPE_CHECKING:
    from chalicelib.publishing.post_repository import PostRow

log = logging.getLogger("herald.approval")
PREVIEW_CHARS = 280


class Emitter(Protocol):
    def emit(self, workspace_id: str, event_type: str, data: dict[str, Any],
             event_key: str | None = None) -> str | None: ...


def _post_data(post: PostRow) -> dict[str, Any]:
    return {"post_id": post.post_id, "version": post.version, "publish_at": to_rfc3339(post.publish_at),
            "channel_ids": list(post.channel_ids), "text_preview": post.text[:PREVIEW_CHARS]}


def _step_data(round_: dict[str, Any], number: int) -> dict[str, Any]:
    return {"number": number, "of": len(round_["steps"]), **round_["steps"][number - 1]}


class ApprovalNotifier:
    def __init__(self, emitter: Emitter, mail: MailSender, links: ReviewLinks, directory: MemberDirectory,
                 public_base_url: str, console_url: str | None = None) -> None:
        self.emitter = emitter
        self.mail = mail
        self.links = links
        self.directory = directory
        self.base_url = public_base_url.rstrip("/")
        # The reviewer's link opens the console's page, which exchanges the token at the API's GET /review/{token};
        # a member's opens the post on the console's calendar.
        self.console_url = (console_url or public_base_url).rstrip("/")

    def post_link(self, post_id: str) -> str:
        """The console's calendar with this post open (console/app.js routes `#/calendar/post/<id>`)."""
        return f"{self.console_url}/#/calendar/post/{post_id}"

    def requested(self, post: PostRow) -> None:
        """The round's current step waits: `post.approval_requested`, and an email to each approver."""
        round_ = post.approval or {}
        step = current_step(round_)
        if step is None:
            return
        number = int(round_["current_step"])
        self.emitter.emit(post.workspace_id, "post.approval_requested",
                          {**_post_data(post), "step": _step_data(round_, number)},
                          event_key=f"{post.post_id}:{round_['seq']}")
        for address, link in self._approvers(post, step):
            self._send(address, f"Approval requested: step {number} ({step.name})",
                       f"A post waits for your approval (step {number} of {len(round_['steps'])}: {step.name}).\n\n"
                       f"{post.text[:PREVIEW_CHARS]}\n\nPublishing at: {to_rfc3339(post.publish_at)}\n"
                       f"Review it here: {link}\n")

    def decided(self, post: PostRow, round_: dict[str, Any]) -> None:
        decision = round_["decisions"][-1]
        event = "post.rejected" if decision["decision"] == "rejected" else "post.approved"
        self.emitter.emit(post.workspace_id, event, {
            **_post_data(post), "step": _step_data(round_, int(decision["step"])),
            "decision": {k: decision.get(k) for k in ("by", "by_name", "by_email", "role", "at", "comment")},
            "approval_status": round_["status"], "complete": round_["status"] == "approved"},
            event_key=f"{post.post_id}:{round_['seq']}")
        if round_["status"] == "pending":
            self.requested(post)

    def mentioned(self, workspace_id: str, post_id: str, comment: dict[str, Any], member: Any) -> None:
        self.emitter.emit(workspace_id, "comment.mentioned", {
            "post_id": post_id, "comment": comment,
            "mentioned": {"id": member.id, "name": member.name, "email": member.email}},
            event_key=f"{comment['id']}:{member.id}")
        if member.email:
            self._send(member.email, "You were mentioned on a post",
                       f"{comment['author']['name'] or comment['author']['id']} wrote:\n\n{comment['text']}\n\n"
                       f"Open the post: {self.post_link(post_id)}\n")

    def _approvers(self, post: PostRow, step: Step) -> list[tuple[str, str]]:
        if step.reviewers:  # each client reviewer gets a link of their own
            return [(email, f"{self.console_url}/#/review/{self.links.issue(post.workspace_id, post.post_id, email)}")
                    for email in step.reviewers]
        return [(m.email, self.post_link(post.post_id)) for m in self.directory.members(post.workspace_id)
                if m.email and may_approve(step, Actor(m.id, m.role, m.email, m.name))]

    def _send(self, to: str, subject: str, text: str) -> None:
        try:
            self.mail.send(to, subject, text)
        except Exception:
            log.exception("Sending an approval email failed")
