"""Listening beyond the inbox: rules with `search: true` search the networks that offer a post search.

Every 15 minutes (`search_listening`), for each rule listed in the `listening#search` partition (written
when a rule is saved: no Scan), the workspace's first active channel on each searching network (Bluesky
app.bsky.feed.searchPosts, Mastodon /api/v2/search, X /2/tweets/search/recent) asks its network with its own
credentials for posts with the rule's terms newer than the rule's cursor for that network. Each post found
is matched with the same `Rule.match` as inbox mentions and becomes a mention once: its id is derived from
(rule, network, remote id) and its key from the post's own time, written only when new, so overlapping
search windows and repeated runs store it once; a post the inbox already listed for that rule gets
`search` added to that mention's `found_by` instead (config_repository.put_mention). Each match is
counted as a listening match of the workspace (not of the searching channel) on the day it was found, once
per rule and post: a post the inbox already counted for that rule is not counted again
(inbox_counts.match_key). How each network's search went (ok,
refused with the network's words, failed) is kept on the rule and shown in `GET /listening/rules`.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from chalicelib.accounts.channel_repository import ChannelRow
from chalicelib.core.clock import Clock, to_rfc3339
from chalicelib.inbox.config_repository import InboxConfigRepository, MentionRow, RuleRow
from chalicelib.inbox.listening import ListeningService, Rule
from chalicelib.networks.base import AuthError, FoundPost, NetworkError, SearchRefused, SearchResult

log = logging.getLogger("herald.listening")

SEARCH_NETWORKS = ("bluesky", "mastodon", "x")


@dataclass
class SearchReport:
    rules: int = 0
    searches: int = 0
    mentions: int = 0
    refused: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


def mention_id(rule_id: str, network: str, remote_id: str) -> str:
    digest = hashlib.sha256(f"search\n{network}\n{remote_id}\n{rule_id}".encode()).hexdigest()[:20]
    return f"mn_{digest}"


class ListeningSearcher:
    def __init__(
        self,
        config: InboxConfigRepository,
        listening: ListeningService,
        channels: Any,
        channel_repository: Any,
        adapters: Callable[[str], Any],
        clock: Clock,
        count_match: Callable[[MentionRow, datetime, str | None], None] | None = None,
    ) -> None:
        self.config = config
        self.count_match = count_match
        self.listening = listening
        self.channels = channels
        self.channel_repository = channel_repository
        self.adapters = adapters
        self.clock = clock

    def search_all(self) -> SearchReport:
        report = SearchReport()
        by_workspace: dict[str, list[str]] = {}
        for workspace_id, rule_id in self.config.searching_rules():
            by_workspace.setdefault(workspace_id, []).append(rule_id)
        for workspace_id, rule_ids in by_workspace.items():
            try:
                self.search_workspace(workspace_id, rule_ids, report)
            except Exception as exc:  # one workspace's trouble must not stop the others
                log.exception("Listening searches of workspace %s failed", workspace_id)
                report.failed.append(f"{workspace_id}: {exc}")
        return report

    def search_workspace(self, workspace_id: str, rule_ids: list[str], report: SearchReport) -> None:
        language = self.listening.language_of(workspace_id)
        searchers = self._search_channels(workspace_id)
        for rule_id in rule_ids:
            row = self.config.get_rule(workspace_id, rule_id)
            if row is None or not (row.search and row.enabled):
                continue
            report.rules += 1
            rule = Rule.from_row(row, language)
            state = dict(row.search_state)
            for network, channel in searchers.items():
                if row.channel_ids and channel.channel_id not in row.channel_ids:
                    continue
                state[network] = self._search_one(row, rule, channel, state.get(network) or {}, report)
            self.config.save_search_state(workspace_id, rule_id, state)

    def _search_channels(self, workspace_id: str) -> dict[str, ChannelRow]:
        """The first active channel of each network that searches (in the order the workspace has them)."""
        chosen: dict[str, ChannelRow] = {}
        for channel in self.channel_repository.list_all(workspace_id):
            if (
                channel.status == "active"
                and channel.network in SEARCH_NETWORKS
                and hasattr(self.adapters(channel.network), "search_posts")
            ):
                chosen.setdefault(channel.network, channel)
        return chosen

    def _search_one(
        self, row: RuleRow, rule: Rule, channel: ChannelRow, previous: dict[str, Any], report: SearchReport
    ) -> dict[str, Any]:
        now = to_rfc3339(self.clock.now())
        cursor = previous.get("cursor")
        report.searches += 1
        try:
            result: SearchResult = self.adapters(channel.network).search_posts(
                self.channels.context_for(channel), rule.search_terms(), cursor
            )
        except SearchRefused as refused:
            report.refused.append(f"{row.rule_id}/{channel.network}: {refused.message}")
            return {"cursor": cursor, "status": "refused", "message": refused.message, "found": 0, "checked_at": now}
        except NetworkError as error:
            if isinstance(error, AuthError):
                self.channels.mark_needs_reauth(channel.workspace_id, channel.channel_id)
            report.failed.append(f"{row.rule_id}/{channel.network}: {error.message}")
            return {"cursor": cursor, "status": "failed", "message": error.message, "found": 0, "checked_at": now}
        found = sum(self._record(row, rule, channel, post) for post in result.posts)
        report.mentions += found
        return {
            "cursor": result.cursor or cursor,
            "status": "ok",
            "message": result.note,
            "found": found,
            "checked_at": now,
        }

    def _record(self, row: RuleRow, rule: Rule, channel: ChannelRow, post: FoundPost) -> bool:
        terms = rule.match(post.text, channel.channel_id)
        if terms is None:
            return False
        mention = MentionRow(
            row.workspace_id,
            mention_id(row.rule_id, channel.network, post.remote_id),
            row.rule_id,
            row.name,
            "",
            channel.channel_id,
            channel.network,
            post.remote_id,
            "mention",
            post.text,
            post.occurred_at,
            post.occurred_at,
            post.author_id,
            post.author_name,
            post.author_handle,
            terms,
            "search",
            post.url,
        )
        # Keyed by the post's own time, not the run's: a post found again later lands on the same item.
        new = self.config.put_mention(mention, post.occurred_at)
        if self.count_match is not None:  # every time: a run that died between the two writes is made good
            self.count_match(mention, self.clock.now(), None)
        return new
