"""Share of voice for the monthly report: the brand's mentions against each competitor's, per network.

A mention counts once per post (its network and the network's post id): a post two brand rules both
matched is one brand mention; a post that matched the brand and a competitor counts for both. Mentions from
the inbox and from network searches count alike, and a post that reached both is one. Which side a mention
is on comes from its rule's current kind (a deleted rule's mentions are left out). Shares are percentages of
all brand + competitor mentions on that network, one decimal.
"""
from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from chalicelib.inbox.config_repository import InboxConfigRepository, RuleRow


def _share(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


def _side(rule: RuleRow) -> str:
    return f"competitor:{rule.competitor_name}" if rule.kind == "competitor" and rule.competitor_name else "brand"


class ShareOfVoice:
    def __init__(self, config: InboxConfigRepository) -> None:
        self.config = config

    def section(self, workspace_id: str, start: datetime, end: datetime) -> dict[str, Any]:
        rules = {row.rule_id: row for row in self.config.all_rules(workspace_id)}
        posts: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))  # side → network → ids
        for mention in self.config.mentions_between(workspace_id, start, end):
            rule = rules.get(mention.rule_id)
            if rule is not None:
                posts[_side(rule)][mention.network].add(mention.message_id)
        competitors = sorted(side for side in posts if side != "brand")
        networks = sorted({network for by_network in posts.values() for network in by_network})
        counts = {side: {n: len(posts[side].get(n, ())) for n in networks} for side in ["brand", *competitors]}
        rows = []
        for network in networks:
            whole = sum(counts[side][network] for side in counts)
            rows.append({"network": network, "brand": counts["brand"][network],
                         "brand_share": _share(counts["brand"][network], whole),
                         "competitors": [{"name": side.split(":", 1)[1], "mentions": counts[side][network],
                                          "share": _share(counts[side][network], whole)} for side in competitors]})
        total = sum(sum(by_network.values()) for by_network in counts.values())
        brand_total = sum(counts["brand"].values())
        return {
            "brand": {"mentions": brand_total, "share": _share(brand_total, total)},
            "competitors": [{"name": side.split(":", 1)[1], "mentions": sum(counts[side].values()),
                             "share": _share(sum(counts[side].values()), total)} for side in competitors],
            "by_network": rows,
        }
