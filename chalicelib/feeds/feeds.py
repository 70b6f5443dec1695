"""RSS and Atom feeds that make posts: drafts for review, or straight to the queue.

The fetch job reads each feed that is due with a conditional GET (If-None-Match / If-Modified-Since from the
last answer's ETag / Last-Modified), through the outbound policy (the URL is a client's). Each item is taken
once: a conditional put of its key (a hash of its guid / Atom id, else its link), so an item the feed edits or
moves is never taken again. A taken item's post is the body of `POST /posts`, checked by the same request model
and PostService (chalicelib/publishing/post_requests.py), with an id derived from the feed and the item: a run
that dies between taking an item and making its post makes it on the next run, and never twice. A post the
API refuses (too long for a network even shortened, a disabled channel) is recorded on the item with why.

A feed that fails (an HTTP error, a timeout, a document that is not a feed, a refused address) says why on the
feed (`last_error`, `failing_since`) and is read again later; its items are keyed as before, so coming back
makes no duplicates. The first read of a new feed takes its items as `skipped` (they were there before it was
added) unless the feed was made with `take_existing`.
"""
from __future__ import annotations

import builtins
import hashlib
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from chalicelib.core.clock import Clock, to_rfc3339
from chalicelib.core.errors import Conflict, NotFound, ValidationFailed
from chalicelib.core.ids import new_id
from chalicelib.core.outbound import OutboundPolicy, OutboundRefused, clean_reason
from chalicelib.feeds.feed_repository import FETCH_SHARDS, Feed, FeedItemRow, FeedRepository
from chalicelib.feeds.parsing import FeedError, FeedItem, parse_feed
from chalicelib.publishing.post_requests import queue_available, queue_fields, request_problems

if TYPE_CHECKING:
    from chalicelib.publishing.posts import PostDraft, PostService

log = logging.getLogger("herald.feeds")

FETCH_EVERY = timedelta(minutes=15)
MAX_BACKOFF = timedelta(hours=6)
MAX_FEED_BYTES = 5 * 1024 * 1024
# Feeds are read one after the other until the budget is spent; a read already begun ends within its deadline.
RUN_BUDGET_S = 30.0
FEED_DEADLINE_S = 20.0
PLACEHOLDERS = ("title", "link", "summary")
PLACEHOLDER = re.compile(r"\{(\w*)\}")
ACCEPT = "application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.8, */*;q=0.1"
USER_AGENT = "Herald-Feeds/1 (+https://herald.example/feeds)"
ELLIPSIS = "…"


@dataclass(frozen=True)
class FetchReport:
    feeds: int = 0
    not_modified: int = 0
    failed: int = 0
    items_taken: int = 0


def template_problem(template: str) -> str | None:
    unknown = sorted({name for name in PLACEHOLDER.findall(template) if name not in PLACEHOLDERS})
    if unknown:
        return f"unknown placeholder(s) {', '.join('{' + n + '}' for n in unknown)}; use {{title}}, {{link}}, " \
               "{summary}"
    return None


def render(template: str, item: FeedItem, hashtags: list[str], *, shorten_by: int = 0) -> str:
    """The post's text: the template filled in, then the hashtags. `shorten_by` characters come off the title
    and summary (the link never: a cut link leads nowhere)."""
    title, summary = item.title, item.summary
    if shorten_by:
        cut = shorten_by + len(ELLIPSIS)
        summary_cut = min(len(summary), cut) if "{summary}" in template else 0
        summary = _shortened(summary, summary_cut)
        title = _shortened(title, cut - summary_cut if "{title}" in template else 0)
    values = {"title": title, "link": item.link or "", "summary": summary}
    text = PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), template).strip()
    tags = " ".join(tag if tag.startswith("#") else f"#{tag}" for tag in hashtags)
    return f"{text} {tags}".strip() if tags else text


def _shortened(text: str, by: int) -> str:
    if by <= 0 or not text:
        return text
    kept = text[: max(0, len(text) - by)].rstrip()
    return kept + ELLIPSIS if kept else ""


def fetch_time(moment: datetime) -> str:
    """The `due_fetch` index's sort key: one fixed width (to_rfc3339 drops zero milliseconds, which would
    sort "09:15:00Z" after "09:15:00.500Z")."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def item_key(item: FeedItem) -> str:
    return hashlib.sha256(item.identity.encode()).hexdigest()[:40]


class FeedService:
    def __init__(self, feeds: FeedRepository, posts: PostService, policy: OutboundPolicy, clock: Clock,
                 http: Any = None, *, budget_s: float = RUN_BUDGET_S,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.budget_s = budget_s
        self.monotonic = monotonic
        self.feeds = feeds
        self.posts = posts
        self.policy = policy
        self.clock = clock
        self._http = http

    @property
    def http(self) -> Any:
        if self._http is None:
            self._http = self.policy.session()
        return self._http

    # -- the routes ----------------------------------------------------------------

    def create(self, workspace_id: str, fields: dict[str, Any]) -> Feed:
        now = to_rfc3339(self.clock.now())
        feed = Feed(workspace_id, new_id("fd"), fields["url"], fields["template"], list(fields["channel_ids"]),
                    fields["mode"], now, now, list(fields.get("hashtags") or []),
                    take_existing=bool(fields.get("take_existing")), next_fetch_at=fetch_time(self.clock.now()))
        self._check(feed)
        self.feeds.create(feed)
        return feed

    def get(self, workspace_id: str, feed_id: str) -> Feed:
        feed = self.feeds.get(workspace_id, feed_id)
        if feed is None:
            raise NotFound(f"No feed {feed_id} in this workspace.")
        return feed

    def list(self, workspace_id: str, limit: int, cursor: str | None) -> tuple[list[Feed], str | None]:
        return self.feeds.list(workspace_id, limit, cursor)

    def update(self, workspace_id: str, feed_id: str, changes: dict[str, Any]) -> Feed:
        feed = self.get(workspace_id, feed_id)
        updated = replace(feed, **changes, updated_at=to_rfc3339(self.clock.now()))
        if "url" in changes and changes["url"] != feed.url:  # another document: its validators are not ours
            updated = replace(updated, etag=None, last_modified=None, last_error=None, failing_since=None,
                              failures=0)
        if updated.status == "active" and feed.status != "active":
            updated = replace(updated, next_fetch_at=fetch_time(self.clock.now()))
        self._check(updated)
        self.feeds.save(updated)
        return updated

    def delete(self, workspace_id: str, feed_id: str) -> None:
        self.feeds.delete(self.get(workspace_id, feed_id))

    def items(self, workspace_id: str, feed_id: str, limit: int, cursor: str | None
              ) -> tuple[builtins.list[FeedItemRow], str | None]:
        return self.feeds.items(self.get(workspace_id, feed_id).key, limit, cursor)

    def _check(self, feed: Feed) -> None:
        """The feed's own fields, then a sample post of it as POST /posts would judge it (its channels)."""
        try:
            self.policy.check_url(feed.url)
        except OutboundRefused as refused:
            raise ValidationFailed.field("url", f"refused: {refused.reason}") from None
        problem = template_problem(feed.template)
        if problem:
            raise ValidationFailed.field("template", problem)
        if feed.mode == "queue" and not queue_available():
            raise ValidationFailed.field("mode", "the posting queue is not available yet; use draft")
        sample = FeedItem("sample", "https://example.com/a", "A title", "A summary", None)
        _draft, problems = request_problems(self.posts, feed.workspace_id, self._body(feed, sample, 0))
        channel_problems = [p for p in problems if str(p.get("field", "")).startswith("channel_ids")]
        if channel_problems:
            raise ValidationFailed("The feed's channels cannot take its posts: " + channel_problems[0]["message"],
                                   details=channel_problems)

    # -- the job -------------------------------------------------------------------

    def fetch_due(self) -> FetchReport:
        """The feeds due, until the run's budget is spent (the function's timeout is 60 s): those left are still
        due, and the next run reads them."""
        report = FetchReport()
        now = fetch_time(self.clock.now())
        stop_at = self.monotonic() + self.budget_s
        for shard in range(FETCH_SHARDS):
            for feed in self.feeds.due(shard, now):
                if self.monotonic() >= stop_at:
                    log.warning("Feed run out of time; the feeds left are read by the next run")
                    return report
                report = _added(report, self.fetch(feed))
        return report

    def fetch(self, feed: Feed) -> FetchReport:
        """Reads one feed once and takes its new items; every outcome is recorded on the feed."""
        import requests

        try:
            response = self.http.request("GET", feed.url, headers=self._conditional_headers(feed),
                                         max_bytes=MAX_FEED_BYTES)
        except OutboundRefused as refused:
            return self._failed(feed, f"refused: {refused.reason}")
        except requests.Timeout:
            return self._failed(feed, "the feed did not answer in time")
        except requests.RequestException:
            return self._failed(feed, "could not connect to the feed's server")
        if response.status_code == 304:
            self._succeeded(feed, response)
            return FetchReport(feeds=1, not_modified=1)
        if response.status_code != 200:
            return self._failed(feed, f"the feed answered HTTP {response.status_code}")
        try:
            items = parse_feed(response.content, str(response.url or feed.url))
        except FeedError as error:
            return self._failed(feed, clean_reason(str(error), 300))
        taken = sum(self._take(feed, item) for item in reversed(items))  # oldest first, as feeds list newest first
        self._succeeded(feed, response, taken)
        return FetchReport(feeds=1, items_taken=taken)

    @staticmethod
    def _conditional_headers(feed: Feed) -> dict[str, str]:
        headers = {"Accept": ACCEPT, "User-Agent": USER_AGENT}
        if feed.etag:
            headers["If-None-Match"] = feed.etag
        if feed.last_modified:
            headers["If-Modified-Since"] = feed.last_modified
        return headers

    def _succeeded(self, feed: Feed, response: Any, taken: int = 0) -> None:
        now = self.clock.now()
        feed.etag = response.headers.get("ETag") or feed.etag
        feed.last_modified = response.headers.get("Last-Modified") or feed.last_modified
        feed.fetched_once = True
        feed.last_fetched_at = feed.updated_at = to_rfc3339(now)
        feed.last_error = feed.failing_since = None
        feed.failures = 0
        feed.items_taken += taken
        feed.next_fetch_at = fetch_time(now + FETCH_EVERY)
        self._save_outcome(feed)

    def _failed(self, feed: Feed, reason: str) -> FetchReport:
        now = self.clock.now()
        feed.last_error = reason
        feed.failing_since = feed.failing_since or to_rfc3339(now)
        feed.failures += 1
        feed.last_fetched_at = feed.updated_at = to_rfc3339(now)
        feed.next_fetch_at = fetch_time(now + min(MAX_BACKOFF, FETCH_EVERY * 2 ** min(feed.failures - 1, 5)))
        self._save_outcome(feed)
        log.info("Feed %s failed: %s", feed.feed_id, reason)
        return FetchReport(feeds=1, failed=1)

    def _save_outcome(self, feed: Feed) -> None:
        """A feed deleted or changed while it was read keeps what the person did."""
        current = self.feeds.get(feed.workspace_id, feed.feed_id)
        if current is None:
            return
        fetched = {name: getattr(feed, name) for name in (
            "etag", "last_modified", "fetched_once", "last_fetched_at", "last_error", "failing_since", "failures",
            "items_taken", "next_fetch_at")}
        if current.url != feed.url:
            fetched.update(etag=current.etag, last_modified=current.last_modified)
        self.feeds.save(replace(current, **fetched))

    # -- items ---------------------------------------------------------------------

    def _take(self, feed: Feed, item: FeedItem) -> int:
        """1 when the item was new (or taken before without its post), else 0."""
        key = item_key(item)
        row = FeedItemRow(feed.key, key, to_rfc3339(self.clock.now()), item.guid, item.link, item.title[:500],
                          to_rfc3339(item.published) if item.published else None)
        stored = self.feeds.take_item(row)
        if stored is not None and stored.status != "new":
            return 0  # seen before: edited, moved or just still there
        row = stored or row
        if not feed.fetched_once and not feed.take_existing:
            row.status, row.reason = "skipped", "in the feed when it was added"
        else:
            self._post(feed, item, row)
        self.feeds.set_item_outcome(row)
        return 1

    def _post(self, feed: Feed, item: FeedItem, row: FeedItemRow) -> None:
        draft, problems = self._draft(feed, item)
        if draft is None:
            row.status, row.reason = "invalid", _reasons(problems)
            return
        post_id = "pst_" + hashlib.sha256(f"{feed.key}\n{row.item_key}".encode()).hexdigest()[:22]
        try:
            self.posts.create(feed.workspace_id, draft, post_id)
        except Conflict as conflict:
            if conflict.code != "post_exists":
                raise
        except ValidationFailed as failed:
            row.status, row.reason = "invalid", _reasons(failed.details)
            return
        row.status, row.post_id, row.reason = "posted", post_id, None

    def _draft(self, feed: Feed, item: FeedItem) -> tuple[PostDraft | None, builtins.list[dict[str, Any]]]:
        """The item's post, shortened once to the tightest network limit the API names when it is too long."""
        draft, problems = request_problems(self.posts, feed.workspace_id, self._body(feed, item, 0))
        excess = max((int(p["length"]) - int(p["limit"]) for p in problems if "length" in p and "limit" in p),
                     default=0)
        if draft is None and excess > 0:
            draft, problems = request_problems(self.posts, feed.workspace_id, self._body(feed, item, excess))
        return draft, problems

    def _body(self, feed: Feed, item: FeedItem, shorten_by: int) -> dict[str, Any]:
        body: dict[str, Any] = {"text": render(feed.template, item, feed.hashtags, shorten_by=shorten_by),
                                "channel_ids": feed.channel_ids}
        return {**body, **queue_fields()} if feed.mode == "queue" else {**body, "status": "draft"}


def _reasons(problems: builtins.list[dict[str, Any]]) -> str:
    return clean_reason("; ".join(f"{p.get('field', '')}: {p.get('message', '')}" for p in problems[:3]), 500)


def _added(total: FetchReport, one: FetchReport) -> FetchReport:
    return FetchReport(total.feeds + one.feeds, total.not_modified + one.not_modified, total.failed + one.failed,
                       total.items_taken + one.items_taken)

