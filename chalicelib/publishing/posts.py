"""The post lifecycle before publishing: drafts, scheduling, edits, cancelation."""
from __future__ import annotations

import builtins
import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Protocol

from pynamodb.exceptions import TransactWriteError

from chalicelib.accounts.channel_repository import ChannelRepository, ChannelRow
from chalicelib.accounts.health_rules import risk_for
from chalicelib.core.clock import Clock, parse_rfc3339, to_rfc3339
from chalicelib.core.errors import Conflict, NotFound, ValidationFailed
from chalicelib.core.ids import new_id
from chalicelib.networks.base import MediaItem, PublishRequest
from chalicelib.networks.registry import NETWORKS, limits_for, text_length
from chalicelib.publishing.post_repository import UNSENT_STATUSES, DeliveryRow, PostRepository, PostRow
from chalicelib.publishing.post_status import derive_post_status

log = logging.getLogger("herald.posts")

EDITABLE = ("draft", "scheduled", "pending_approval")
# Statuses that need a publish_at: the post is meant to go out.
DATED = ("scheduled", "pending_approval")
# Statuses a person sees that the engine does not store: the stored status they are found under.
STORED_AS = {"publishing": "scheduled"}
SHOWN_FILTERED = ("publishing", "scheduled")
PAST_TOLERANCE = timedelta(seconds=60)


class Dispatcher(Protocol):
    def queue_due_soon(self, deliveries: list[DeliveryRow]) -> list[DeliveryRow]: ...


class Planner(Protocol):
    """Queues, recurring series and recycling (chalicelib/planning/), which PostService hands over to."""

    def queue_post(self, workspace_id: str, draft: PostDraft, *, post_id: str | None = None
                   ) -> tuple[PostRow, list[DeliveryRow]]: ...

    def start_series(self, workspace_id: str, draft: PostDraft) -> tuple[PostRow, list[DeliveryRow]]: ...

    def post_saved(self, post: PostRow, plan_before: dict[str, Any]) -> None: ...


class LinkShortener(Protocol):
    def short_links(self, post: PostRow, channels: dict[str, ChannelRow],
                    previous: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
        """{channel id: {url: short url}} for the post's text on each channel; `previous` is what the
        deliveries had before an edit (a link shortened before keeps its code)."""
        ...


class MediaLookup(Protocol):
    def describe(self, workspace_id: str, media_id: str) -> dict[str, Any] | None: ...

    def reference_problem(self, workspace_id: str, item: dict[str, Any]) -> tuple[str, str] | None: ...


class ApprovalGate(Protocol):
    """The workspace's approval (chalicelib/approval): asked about every post written."""

    def gate(self, post: PostRow) -> None:
        """Before a write (its version already counted): a post meant to be scheduled in a workspace that
        approves posts becomes `pending_approval`, at step 1 of a new round bound to this version."""

    def written(self, post: PostRow) -> None:
        """After the write: tells whoever must act (nothing may raise from here)."""


@dataclass
class PostDraft:
    """What a person asked for, before it is checked."""

    text: str
    channel_ids: list[str]
    variants: dict[str, dict[str, Any]]
    media: list[dict[str, Any]]
    publish_at: datetime | None
    status: str | None
    # The parts after the first (`[{text, media}]`) and the comment added under the post once it is out.
    thread: list[dict[str, Any]] = field(default_factory=list)
    first_comment: str | None = None
    # Planning (chalicelib/planning/): `queue` "next" (the next free slot) or "front" (the first slot, the
    # queue shifts) instead of publish_at; `queue_slot` "each" (every channel its own next slot) or "common"
    # (the first slot free on all of them); an RRULE made into a series; copied to the queue N days after
    # it went out.
    queue: str | None = None
    queue_slot: str = "each"
    recurrence: str | None = None
    recycle_after_days: int | None = None


class PostService:
    def __init__(self, posts: PostRepository, channels: ChannelRepository, clock: Clock,
                 engine: Dispatcher | None = None, media: MediaLookup | None = None,
                 workspace_timezone: Callable[[str], str] | None = None,
                 adapters: Callable[[str], Any] | None = None,
                 planner: Callable[[], Planner] | None = None, approval: ApprovalGate | None = None,
                 links: LinkShortener | None = None) -> None:
        self.posts = posts
        self.channels = channels
        self.clock = clock
        self.engine = engine
        self.media = media
        # Kept on the post so that the engine counts outcomes on the local day without a read.
        self.workspace_timezone = workspace_timezone or (lambda _workspace_id: "UTC")
        # The network adapters, asked for their own rules (content_problems) when a post is saved.
        self.adapters = adapters
        self.planner = planner
        self.approval = approval
        # Shortens the links of each channel's text when the workspace says so (chalicelib/links/).
        self.links = links

    # -- reads -------------------------------------------------------------------

    def get(self, workspace_id: str, post_id: str) -> tuple[PostRow, list[DeliveryRow]]:
        found = self.posts.get(workspace_id, post_id)
        if found is None:
            raise NotFound(f"No post {post_id} in this workspace.")
        return found

    def list(self, workspace_id: str, *, status: str | None, channel_id: str | None, start: datetime | None,
             end: datetime | None, limit: int, cursor: str | None
             ) -> tuple[list[tuple[PostRow, list[DeliveryRow]]], str | None]:
        """Posts by the status a person sees. The engine stores a post's status only when it ends
        (3 writes a delivery), so a post going out is stored `scheduled`: `publishing` is read from
        the scheduled posts already due, and `scheduled` leaves those out. A page can then hold
        fewer than `limit` posts; `next_cursor` still leads on."""
        if channel_id and self.channels.get(workspace_id, channel_id) is None:
            raise NotFound(f"No channel {channel_id} in this workspace.")
        stored = STORED_AS.get(status or "", status)
        if status == "publishing":
            now = self.clock.now()
            end = min(end, now) if end else now
        rows, next_cursor = self.posts.list_posts(workspace_id, status=stored, channel_id=channel_id,
                                                  start=start, end=end, limit=limit, cursor=cursor)
        deliveries = self.posts.deliveries_of(rows)
        out = []
        for row in rows:
            order = {cid: i for i, cid in enumerate(row.channel_ids)}
            found = sorted(deliveries.get(row.post_id, []), key=lambda d: order.get(d.channel_id, 0))
            shown = derive_post_status(row.status, [d.status for d in found])
            if status in SHOWN_FILTERED and shown != status:
                continue
            out.append((row, found))
        return out, next_cursor

    def list_at_risk(self, workspace_id: str, *, limit: int, cursor: str | None
                     ) -> tuple[builtins.list[tuple[PostRow, builtins.list[DeliveryRow]]], str | None]:
        """Posts with a delivery not yet out on a channel that is not healthy, by time (a page may hold fewer
        than `limit`: a delivery that went out since is left out)."""
        rows, next_cursor = self.posts.list_at_risk(workspace_id, limit, cursor)
        deliveries = self.posts.deliveries_of(rows)
        out = []
        for row in rows:
            order = {cid: i for i, cid in enumerate(row.channel_ids)}
            found = sorted(deliveries.get(row.post_id, []), key=lambda d: order.get(d.channel_id, 0))
            if any(d.at_risk and d.status in UNSENT_STATUSES for d in found):
                out.append((row, found))
        return out, next_cursor

    # -- writes ------------------------------------------------------------------

    def check(self, workspace_id: str, draft: PostDraft) -> None:
        """Every rule `create` applies, nothing saved: raises ValidationFailed as `create` would."""
        self._resolve_status(draft)
        self._validate(workspace_id, draft, self.clock.now())

    def create(self, workspace_id: str, draft: PostDraft,
               post_id: str | None = None) -> tuple[PostRow, builtins.list[DeliveryRow]]:
        """A post as asked; one with `queue` or `recurrence` is placed by the planner, which makes it
        through `create_planned`. `post_id`: an id derived from the source (an import's line, a feed's item),
        so a second try is a Conflict (`post_exists`) and never a second post."""
        if draft.queue or draft.recurrence:
            if self.planner is None:
                raise ValidationFailed.field("queue" if draft.queue else "recurrence", "planning is not set up here")
            planner = self.planner()
            if draft.queue:
                return planner.queue_post(workspace_id, draft, post_id=post_id)
            return planner.start_series(workspace_id, draft)
        plan = {"recycle_after_days": draft.recycle_after_days} if draft.recycle_after_days else {}
        return self.create_planned(workspace_id, draft, plan, post_id=post_id)

    def create_planned(self, workspace_id: str, draft: PostDraft, plan: dict[str, Any], *,
                       post_id: str | None = None) -> tuple[PostRow, builtins.list[DeliveryRow]]:
        """A post with its planning facts (queue slots, series, recycling): checked like any other. A given
        `post_id` that exists already is a conflict (`post_exists`): the planner's way to make it once."""
        now = self.clock.now()
        status = self._resolve_status(draft)
        channels = self._validate(workspace_id, draft, now)
        post = PostRow(workspace_id, post_id or new_id("pst"), draft.text, status,
                       list(dict.fromkeys(draft.channel_ids)), now, now, draft.publish_at, draft.variants,
                       self._media(workspace_id, draft.media), thread=self._thread(workspace_id, draft.thread),
                       first_comment=draft.first_comment or None, timezone=self.workspace_timezone(workspace_id),
                       plan={k: v for k, v in plan.items() if v not in (None, {}, [])})
        self._gate(post)
        short = self._short_links(post, channels, {})
        deliveries = [self._new_delivery(post, channels[cid], short.get(cid)) for cid in post.channel_ids]
        try:
            self.posts.create(post, deliveries)
        except TransactWriteError as exc:
            raise Conflict(f"A post {post.post_id} exists already.", code="post_exists") from exc
        self._saved(post, {})
        self._written(post)
        return post, self._queue_due_soon(deliveries)

    def reslot(self, workspace_id: str, post_id: str, slots: dict[str, datetime | None],
               hold: bool | None = None) -> PostRow:
        """Moves a queued post to other slots (a channel given None leaves the queue); `hold` True holds
        those channels' deliveries (their queue is paused), False lets them go again. Only while the post is
        scheduled and nothing of it is out."""
        post, old = self.get(workspace_id, post_id)
        self._check_editable(post, old, None)
        queue = dict(post.plan.get("queue") or {})
        held = set(post.plan.get("held") or [])
        for channel_id, slot in slots.items():
            if slot is None:
                queue.pop(channel_id, None)
            else:
                queue[channel_id] = to_rfc3339(slot)
        if hold is not None:
            held = held | set(slots) if hold else held - set(slots)
        expected_version = post.version
        post.plan = _tidy({**post.plan, "queue": queue, "held": sorted(held & set(queue))})
        post.publish_at = min((parse_rfc3339(t) for t in queue.values()), default=post.publish_at)
        post.version += 1
        post.updated_at = self.clock.now()
        deliveries = [replace(d, post_version=post.version, due_at=post.due_for(d.channel_id)) for d in old]
        self.posts.replace(post, deliveries, expected_version=expected_version, expected_statuses=("scheduled",),
                           old_deliveries=old)
        self._queue_due_soon(deliveries)
        return post

    def problems_of(self, workspace_id: str, draft: PostDraft) -> builtins.list[dict[str, Any]]:
        """The problems `create` would refuse this draft for, each `{field, message, ...}`; nothing is saved
        (the console's live validation runs the very same rules as a save)."""
        try:
            self.check(workspace_id, draft)
        except ValidationFailed as failed:
            return failed.details
        return []

    def previews_of(self, workspace_id: str, draft: PostDraft) -> builtins.list[dict[str, Any]]:
        """How each of the draft's channels (those in this workspace) will show it: the composer's preview,
        as GET /posts/{id}/preview shows a saved post (chalicelib/networks/appearance.py)."""
        from chalicelib.networks.appearance import shown

        channels = self.channels.get_many(workspace_id, list(dict.fromkeys(draft.channel_ids)))
        out = []
        for channel_id in dict.fromkeys(draft.channel_ids):
            channel = channels.get(channel_id)
            if channel is None:
                continue  # a problem of the draft's (no such channel here), said by problems_of
            own = _channel_draft(draft, channel_id)
            variant = draft.variants.get(channel_id) or {}
            text = variant["text"] if variant.get("text") is not None else draft.text
            out.append({"channel_id": channel_id, "channel_name": channel.name, "handle": channel.handle,
                        **shown(channel.network, channel.settings, text, self._media(workspace_id, own.media),
                                own.thread, draft.first_comment, dict(variant.get(channel.network) or {}))})
        return out

    def update(self, workspace_id: str, post_id: str, changes: dict[str, Any],
               expected_version: int | None, *, as_series: bool = False) -> tuple[PostRow, builtins.list[DeliveryRow]]:
        """An edit names the version it was made from: a stale one is a conflict, never an overwrite
        (None: a change of our own, made whatever the version). An occurrence edited alone leaves its
        series' edits (`as_series`: the series' own edit); a queued post given a time or made a draft
        leaves the queue."""
        post, old = self.get(workspace_id, post_id)
        self._check_editable(post, old, expected_version)
        plan_before = dict(post.plan)
        post.plan = _planned_after_edit(post.plan, changes, as_series)
        draft = PostDraft(
            text=changes.get("text", post.text),
            channel_ids=changes.get("channel_ids", post.channel_ids),
            variants=changes.get("variants", post.variants),
            media=changes.get("media", post.media),
            publish_at=changes.get("publish_at", post.publish_at),
            status=changes.get("status", post.status),
            thread=changes.get("thread", post.thread),
            first_comment=changes.get("first_comment", post.first_comment),
        )
        # A scheduled post must stay in the future; a draft's planned date may lie in the past; a post already
        # waiting for approval may wait past its time (it goes out once approved).
        check_past = "publish_at" in changes or draft.status == "scheduled" or (
            draft.status == "pending_approval" and post.status != "pending_approval")
        written = self._rewrite(post, old, draft, check_past)
        self._saved(written[0], plan_before)
        return written

    def schedule(self, workspace_id: str, post_id: str,
                 publish_at: datetime) -> tuple[PostRow, builtins.list[DeliveryRow]]:
        return self.update(workspace_id, post_id, {"publish_at": publish_at, "status": "scheduled"}, None)

    def publish_now(self, workspace_id: str, post_id: str) -> tuple[PostRow, builtins.list[DeliveryRow]]:
        """Due now: queued at once by the rewrite, like any post due before the next tick."""
        self.update(workspace_id, post_id, {"publish_at": self.clock.now(), "status": "scheduled"}, None)
        return self.get(workspace_id, post_id)

    def cancel(self, workspace_id: str, post_id: str) -> tuple[PostRow, builtins.list[DeliveryRow]]:
        post, old = self.get(workspace_id, post_id)
        unsent = [d for d in old if d.status in UNSENT_STATUSES]
        if post.status == "canceled":
            return post, old
        if not unsent and post.status != "draft":
            raise Conflict("Nothing left to cancel: every delivery has already gone out or ended.",
                           code="not_cancelable")
        now = self.clock.now()
        deliveries = []
        for delivery in old:
            if delivery.status in UNSENT_STATUSES or post.status == "draft":
                delivery = _canceled(delivery)
            deliveries.append(delivery)
        expected_version, expected_status = post.version, post.status
        post.status = derive_post_status("canceled" if post.status in ("draft", "pending_approval") else post.status,
                                         [d.status for d in deliveries])
        post.version += 1
        post.updated_at = now
        self.posts.replace(post, deliveries, expected_version=expected_version,
                           expected_statuses=(expected_status,),
                           old_deliveries=old)
        self._saved(post, post.plan)
        return post, deliveries

    def _saved(self, post: PostRow, plan_before: dict[str, Any]) -> None:
        """The planner frees the slots a post left (a canceled one leaves them all) and notes recycling."""
        if self.planner is not None and (post.plan or plan_before):
            self.planner().post_saved(post, plan_before)

    # -- helpers -----------------------------------------------------------------

    def _rewrite(self, post: PostRow, old: builtins.list[DeliveryRow], draft: PostDraft,
                 check_past: bool) -> tuple[PostRow, builtins.list[DeliveryRow]]:
        now = self.clock.now()
        status = self._resolve_status(draft)
        channels = self._validate(post.workspace_id, draft, now, check_past)
        expected_version, expected_status = post.version, post.status
        post.text, post.channel_ids = draft.text, list(dict.fromkeys(draft.channel_ids))
        post.variants, post.media = draft.variants, self._media(post.workspace_id, draft.media)
        post.thread = self._thread(post.workspace_id, draft.thread)
        post.first_comment = draft.first_comment or None
        post.publish_at, post.status = draft.publish_at, status
        post.timezone = self.workspace_timezone(post.workspace_id)
        post.version += 1
        post.updated_at = now
        self._gate(post)
        short = self._short_links(post, channels, {d.channel_id: d.short_links for d in old})
        deliveries = [self._new_delivery(post, channels[cid], short.get(cid)) for cid in post.channel_ids]
        self.posts.replace(post, deliveries, expected_version=expected_version,
                           expected_statuses=(expected_status,), old_deliveries=old)
        self._written(post)
        return post, self._queue_due_soon(deliveries)

    def settle_approval(self, post: PostRow, old: builtins.list[DeliveryRow], approval: dict[str, Any],
                        status: str) -> tuple[PostRow, builtins.list[DeliveryRow]]:
        """Writes an approval decision on a post pending approval, its version unchanged (the decision is
        about that version). `scheduled`: approved, its deliveries due at publish_at, or at once when that has
        passed; `draft`: rejected; `pending_approval`: a later step must act. A decision on a version or a
        round that changed meanwhile is a conflict."""
        expected_seq = int((post.approval or {}).get("seq", 0))
        post.approval, post.status, post.updated_at = approval, status, self.clock.now()
        deliveries = old
        if status == "scheduled":
            channels = self.channels.get_many(post.workspace_id, post.channel_ids)
            deliveries = [self._new_delivery(post, channels[d.channel_id]) if d.channel_id in channels
                          else replace(d, due_at=post.publish_at) for d in old]
        self.posts.replace(post, deliveries, expected_version=post.version, expected_statuses=("pending_approval",),
                           old_deliveries=old, expected_approval_seq=expected_seq)
        return post, self._queue_due_soon(deliveries)

    def _gate(self, post: PostRow) -> None:
        if self.approval is not None:
            self.approval.gate(post)

    def _written(self, post: PostRow) -> None:
        if self.approval is None:
            return
        try:
            self.approval.written(post)
        except Exception:  # the post is saved: a notification that failed must not undo it
            log.exception("Telling the approvers of post %s failed", post.post_id)

    def _queue_due_soon(self, deliveries: builtins.list[DeliveryRow]) -> builtins.list[DeliveryRow]:
        """A post due before the next tick is queued now, or it would wait for that tick.
        The post is saved either way: if queuing fails, the tick (or the lease) brings it back."""
        if self.engine is None:
            return deliveries
        try:
            return self.engine.queue_due_soon(deliveries)
        except Exception:
            log.exception("Could not queue %d deliveries due soon; the tick will", len(deliveries))
            return deliveries

    def _check_editable(self, post: PostRow, deliveries: builtins.list[DeliveryRow],
                        expected_version: int | None) -> None:
        if expected_version is not None and expected_version != post.version:
            raise Conflict(f"You edited version {expected_version}, but the post is at version {post.version}; "
                           "read it again and retry.", code="version_conflict")
        shown = derive_post_status(post.status, [d.status for d in deliveries])
        if post.status not in EDITABLE or shown not in EDITABLE:
            raise Conflict(f"A {shown} post cannot be changed; only drafts and scheduled posts can.",
                           code="not_editable")
        started = [d for d in deliveries if d.progress]
        if started:  # a step is out on the network (a thread part, a container): an edit would repeat it
            raise Conflict(f"The post is already partly out on {started[0].network} (channel "
                           f"{started[0].channel_id}); it cannot be changed now.", code="not_editable")
        tried = [d for d in deliveries if d.attempts > 0 and d.status in UNSENT_STATUSES]
        if tried:  # an edit would start its attempts afresh, and the network may hold the first text
            raise Conflict(f"An attempt to publish this post to {tried[0].network} (channel {tried[0].channel_id}) "
                           "has not been settled: it may already be on "
                           f"{tried[0].network}, and Herald retries or checks it. The post cannot be changed until "
                           "that attempt ends; cancel it instead.", code="attempt_unresolved")

    def _resolve_status(self, draft: PostDraft) -> str:
        status = draft.status or ("scheduled" if draft.publish_at else "draft")
        if status in DATED and draft.publish_at is None:
            raise ValidationFailed.field("publish_at", "required to schedule a post or send it for approval")
        return status

    def _short_links(self, post: PostRow, channels: dict[str, ChannelRow],
                     previous: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
        if self.links is None:
            return {}
        return self.links.short_links(post, {cid: channels[cid] for cid in post.channel_ids}, previous)

    def _new_delivery(self, post: PostRow, channel: ChannelRow,
                      short_links: dict[str, str] | None = None) -> DeliveryRow:
        due = post.due_for(channel.channel_id) if post.status == "scheduled" else None
        return DeliveryRow(post.workspace_id, post.post_id, channel.channel_id, channel.network, "scheduled",
                           post_version=post.version, due_at=due,
                           at_risk=risk_for(channel, due) if due is not None else None,
                           short_links=dict(short_links or {}))

    def _media(self, workspace_id: str, media: builtins.list[dict[str, Any]]) -> builtins.list[dict[str, Any]]:
        out = []
        for item in media:
            entry = {k: v for k, v in item.items() if v not in (None, "")}
            entry.setdefault("alt", "")
            if item.get("media_id") and self.media is not None:
                described = self.media.describe(workspace_id, item["media_id"]) or {}
                entry.update({k: described[k] for k in ("mime", "size") if k in described})
            out.append(entry)
        return out

    def _thread(self, workspace_id: str, thread: builtins.list[dict[str, Any]]) -> builtins.list[dict[str, Any]]:
        return [{"text": str(part.get("text") or ""), "media": self._media(workspace_id, list(part.get("media") or []))}
                for part in thread]

    def _validate(self, workspace_id: str, draft: PostDraft, now: datetime,
                  check_past: bool = True) -> dict[str, ChannelRow]:
        channels = self.channels.get_many(workspace_id, list(dict.fromkeys(draft.channel_ids)))
        problems = self._channel_problems(draft, channels) + self._media_problems(workspace_id, draft)
        if draft.publish_at is not None and check_past and draft.publish_at < now - PAST_TOLERANCE:
            problems.append({"field": "publish_at",
                             "message": "is more than 60 seconds in the past; give a future time (RFC 3339)"})
        media = self._media_facts(workspace_id, draft.media)
        for channel in channels.values():
            if NETWORKS[channel.network].can_publish:  # the others are already refused above
                own = _channel_draft(draft, channel.channel_id)
                facts = media if own.media is draft.media else self._media_facts(workspace_id, own.media)
                variant = draft.variants.get(channel.channel_id) or {}
                found = self._content_problems(channel, own, facts) + self._network_problems(workspace_id, channel, own)
                problems.extend({**p, "field": _api_field(p["field"], channel, variant)} for p in found)
        if problems:
            summary = "; ".join(f"{p['field']}: {p['message']}" for p in problems[:3])
            raise ValidationFailed(f"The post is not valid: {summary}", details=problems)
        return channels

    @staticmethod
    def _channel_problems(draft: PostDraft, channels: dict[str, ChannelRow]) -> builtins.list[dict[str, Any]]:
        problems = []
        for i, cid in enumerate(draft.channel_ids):
            channel = channels.get(cid)
            if channel is None:
                problems.append({"field": f"channel_ids.{i}", "message": f"no channel {cid} in this workspace"})
            elif channel.status == "disabled":
                problems.append({"field": f"channel_ids.{i}", "message": f"channel {cid} is disabled"})
            elif not NETWORKS[channel.network].can_publish:
                problems.append({"field": f"channel_ids.{i}",
                                 "message": f"Herald cannot publish to {channel.network} yet "
                                            "(its channels are for the inbox)"})
        for cid in draft.variants:
            if cid not in draft.channel_ids:
                problems.append({"field": f"variants.{cid}", "message": "is not one of channel_ids"})
        return problems

    def _media_problems(self, workspace_id: str, draft: PostDraft) -> builtins.list[dict[str, Any]]:
        problems = []
        for i, item in enumerate(draft.media):
            if not item.get("media_id") and not item.get("url"):
                problems.append({"field": f"media.{i}", "message": "give media_id or url"})
            elif self.media is not None and (problem := self.media.reference_problem(workspace_id, item)):
                problems.append({"field": f"media.{i}.{problem[0]}", "message": problem[1]})
        for n, part in enumerate(draft.thread):
            inner = PostDraft("", [], {}, list(part.get("media") or []), None, None)
            problems += [{**p, "field": f"thread.{n}.{p['field']}"} for p in self._media_problems(workspace_id, inner)]
        for cid, variant in draft.variants.items():
            inner = PostDraft("", [], {}, list(variant.get("media") or []), None, None,
                              thread=list(variant.get("thread") or []))
            found = self._media_problems(workspace_id, inner)
            problems += [{**p, "field": f"variants.{cid}.{p['field']}"} for p in found]
        return problems

    def _media_facts(self, workspace_id: str, media: builtins.list[dict[str, Any]]) -> builtins.list[dict[str, Any]]:
        from chalicelib.publishing.media import guess_mime

        facts = []
        for item in media:
            described = (self.media.describe(workspace_id, item["media_id"])
                         if item.get("media_id") and self.media is not None else None)
            facts.append(described or {"mime": guess_mime(str(item.get("url") or "")), "size": None})
        return facts

    def _content_problems(self, channel: ChannelRow, draft: PostDraft,
                          media: builtins.list[dict[str, Any]]) -> builtins.list[dict[str, Any]]:
        variant = draft.variants.get(channel.channel_id) or {}
        text: str = variant["text"] if variant.get("text") is not None else draft.text
        field = f"variants.{channel.channel_id}.text" if variant.get("text") is not None else "text"
        limits = limits_for(channel.network, channel.settings)
        problems: builtins.list[dict[str, Any]] = []
        if not text.strip() and not draft.media:
            problems.append({"field": field, "message": "is empty and the post has no media"})
        length = text_length(channel.network, text, channel.settings)
        if length > limits.max_text:
            problems.append({
                "field": field, "network": channel.network, "limit": limits.max_text, "length": length,
                "message": f"is {length} {_unit(limits.text_counting)} long; {channel.network} allows "
                           f"{limits.max_text} (channel {channel.name})",
            })
        if len(draft.media) > limits.max_media:
            problems.append({"field": "media", "network": channel.network, "limit": limits.max_media,
                             "message": f"has {len(draft.media)} items; {channel.network} allows {limits.max_media}"})
        for i, fact in enumerate(media):
            if fact["mime"] and fact["mime"] not in limits.media_types:
                problems.append({"field": f"media.{i}", "network": channel.network,
                                 "message": f"{fact['mime']} is not accepted by {channel.network} "
                                            f"({', '.join(limits.media_types)})"})
            elif fact["size"] and fact["size"] > limits.max_media_bytes:
                problems.append({"field": f"media.{i}", "network": channel.network, "limit": limits.max_media_bytes,
                                 "message": f"is {fact['size']} bytes; {channel.network} allows "
                                            f"{limits.max_media_bytes}"})
        if limits.requires_media and not draft.media:
            problems.append({"field": "media", "network": channel.network,
                             "message": f"{channel.network} needs at least one image or video"})
        return problems


    def _network_problems(self, workspace_id: str, channel: ChannelRow,
                          draft: PostDraft) -> builtins.list[dict[str, Any]]:
        """The network's own rules (ChecksContent), asked with the PublishRequest the engine will send; a
        network without them takes no thread, first comment or options."""
        variant = draft.variants.get(channel.channel_id) or {}
        where = f"variants.{channel.channel_id}"
        problems = [{"field": f"{where}.{name}", "network": channel.network,
                     "message": f"channel {channel.channel_id} is on {channel.network}, not {name}"}
                    for name in NETWORKS if name != channel.network and variant.get(name) is not None]
        adapter = self.adapters(channel.network) if self.adapters else None
        checks = getattr(adapter, "content_problems", None)
        if not callable(checks):
            return problems + _unchecked_problems(channel, draft, variant.get(channel.network))
        request = self._request_for(workspace_id, channel, draft)
        for problem in checks(request):
            problems.append({"field": problem.field, "network": channel.network,
                             "message": f"{problem.message} ({channel.network}, channel {channel.name})"})
        return problems

    def _request_for(self, workspace_id: str, channel: ChannelRow, draft: PostDraft) -> PublishRequest:
        from chalicelib.publishing.engine import build_request

        post = PostRow(workspace_id, "new", draft.text, "draft", draft.channel_ids, self.clock.now(),
                       self.clock.now(), variants=draft.variants, media=draft.media, thread=draft.thread,
                       first_comment=draft.first_comment or None)
        return build_request(post, channel.channel_id, channel.network,
                             lambda item: self._described(workspace_id, item))

    def _described(self, workspace_id: str, item: dict[str, Any]) -> MediaItem:
        """A media item as the network's rules see it: what the media service knows (no bytes read)."""
        from chalicelib.publishing.media import guess_mime

        described = (self.media.describe(workspace_id, item["media_id"])
                     if item.get("media_id") and self.media is not None else None) or {}
        url = item.get("url")
        return MediaItem(mime=str(described.get("mime") or item.get("mime") or guess_mime(str(url or ""))),
                         alt=str(item.get("alt") or ""), url=url, media_id=item.get("media_id"),
                         size=described.get("size"), duration_s=described.get("duration_s"),
                         width=described.get("width"), height=described.get("height"))


def _tidy(plan: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in plan.items() if v not in (None, {}, [], False)}


def _planned_after_edit(plan: dict[str, Any], changes: dict[str, Any], as_series: bool) -> dict[str, Any]:
    """The post's planning facts after a person's edit (PostRow.plan)."""
    plan = dict(plan)
    if plan.get("series_id") and not as_series:
        plan["detached"] = True
    if "recycle_after_days" in changes:
        plan["recycle_after_days"] = changes.pop("recycle_after_days")
    if "recurrence" in changes:  # the series' new rule (as_series only)
        plan["recurrence"] = changes.pop("recurrence")
    queue = dict(plan.get("queue") or {})
    if "publish_at" in changes or changes.get("status") == "draft":
        queue = {}
    elif "channel_ids" in changes:
        queue = {cid: slot for cid, slot in queue.items() if cid in changes["channel_ids"]}
    plan["queue"] = queue
    plan["held"] = [cid for cid in plan.get("held") or [] if cid in queue]
    return _tidy(plan)


def _unchecked_problems(channel: ChannelRow, draft: PostDraft, options: Any) -> list[dict[str, Any]]:
    problems = []
    if draft.thread:
        problems.append({"field": "thread", "network": channel.network,
                         "message": f"Herald does not publish threads to {channel.network} (channel {channel.name})"})
    if draft.first_comment:
        problems.append({"field": "first_comment", "network": channel.network,
                         "message": f"{channel.network} has no first comment in Herald (channel {channel.name})"})
    if options:
        problems.append({"field": f"variants.{channel.channel_id}.{channel.network}", "network": channel.network,
                         "message": f"Herald takes no {channel.network} options"})
    return problems


def _channel_draft(draft: PostDraft, channel_id: str) -> PostDraft:
    """What one channel publishes: the post with its variant's media and thread where the variant gives them."""
    variant = draft.variants.get(channel_id) or {}
    media, thread = variant.get("media"), variant.get("thread")
    if media is None and thread is None:
        return draft
    return replace(draft, media=draft.media if media is None else list(media),
                   thread=draft.thread if thread is None else list(thread))


def _api_field(field_name: str, channel: ChannelRow, variant: dict[str, Any]) -> str:
    """A field of one channel's post (an adapter's, relative to the delivery) as the request named it."""
    head, _, rest = field_name.partition(".")
    if head == "options":
        return f"variants.{channel.channel_id}.{channel.network}" + (f".{rest}" if rest else "")
    if head in ("text", "media", "thread") and variant.get(head) is not None:
        return f"variants.{channel.channel_id}.{field_name}"
    return field_name


def _unit(counting: str) -> str:
    return {"graphemes": "graphemes", "x_weighted": "weighted characters"}.get(counting, "characters")


def _canceled(delivery: DeliveryRow) -> DeliveryRow:
    """No further attempt. One whose last attempt may have reached the network (`look_first`) ends
    `unknown`, not `canceled`: the post may be out there, and saying it never went would be false."""
    if delivery.look_first:
        return replace(delivery, status="unknown", lease_until=None, claim_token=None, look_first=False,
                       last_error=f"Canceled after an attempt whose outcome {delivery.network} did not confirm: "
                                  f"check the channel; Herald will not try again.")
    return replace(delivery, status="canceled", lease_until=None, claim_token=None)
