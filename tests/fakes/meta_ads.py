"""Meta's Marketing API, read side, on 127.0.0.1 (tests/events/meta_ads/README.md cites the pages it follows):
ad accounts a token may read, campaigns of them, and their daily insights with cursor paging. It also answers
`GET /me` for a Page token, so a Facebook channel can be connected against it.

A request Meta would answer differently (insights without `time_increment=1`, a missing field, no token) is
recorded in `violations`; a test asserts there are none.
"""
from __future__ import annotations

import base64
import copy
import json
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from tests.fakes.local_http import Answer, LocalHttpFake, Request, Route
from tests.support.events import load_event

VERSION = "v25.0"
WANTED_FIELDS = {"impressions", "reach", "clicks", "spend", "actions"}


@dataclass
class _Account:
    body: dict[str, Any]
    tokens: set[str]
    campaigns: dict[str, dict[str, Any]] = field(default_factory=dict)
    insights: dict[str, dict[date, dict[str, Any]]] = field(default_factory=dict)  # node -> day -> row


class MetaAdsFake(LocalHttpFake):
    name = "meta-ads-fake"

    def __init__(self, page_size: int = 25) -> None:
        super().__init__()
        self.page_size = page_size
        self.pages: dict[str, dict[str, str]] = {}  # Page token -> {id, name}
        self.accounts: dict[str, _Account] = {}  # digits -> account

    @property
    def graph_url(self) -> str:
        return f"{self.url}/{VERSION}"

    # -- what Meta knows --------------------------------------------------------------------------------------

    def page(self, token: str, page_id: str, name: str) -> None:
        self.pages[token] = {"id": page_id, "name": name}

    def ad_account(self, digits: str, *, tokens: set[str], currency: str = "EUR",
                   timezone: str = "Europe/Istanbul", name: str = "Herald Coffee Ads") -> None:
        body = {**load_event("meta_ads", "ad_account.json"), "id": f"act_{digits}", "account_id": digits,
                "currency": currency, "timezone_name": timezone, "name": name}
        self.accounts[digits] = _Account(body, set(tokens))

    def campaign(self, digits: str, campaign_id: str, name: str = "Spring launch") -> None:
        self.accounts[digits].campaigns[campaign_id] = {**load_event("meta_ads", "campaign.json"),
                                                        "id": campaign_id, "name": name, "account_id": digits}

    def day(self, node: str, day: date, *, impressions: int, reach: int, clicks: int, spend: str,
            actions: dict[str, int]) -> None:
        """One day of insights of `node` (act_<id> or a campaign id), in the documented row shape."""
        row = copy.deepcopy(load_event("meta_ads", "insights_daily_page.json")["data"][0])
        row.update(impressions=str(impressions), reach=str(reach), clicks=str(clicks), spend=spend,
                   actions=[{"action_type": k, "value": str(v)} for k, v in actions.items()],
                   date_start=day.isoformat(), date_stop=day.isoformat())
        self._owner(node).insights.setdefault(node, {})[day] = row

    def _owner(self, node: str) -> _Account:
        digits = node.removeprefix("act_")
        if digits in self.accounts:
            return self.accounts[digits]
        return next(a for a in self.accounts.values() if node in a.campaigns)

    # -- the API ----------------------------------------------------------------------------------------------

    def routes(self) -> list[Route]:
        v = VERSION
        return [("GET", f"/{v}/me", self._me),
                ("GET", f"/{v}/(act_[0-9]+|[0-9]+)/insights", self._insights),
                ("GET", f"/{v}/act_([0-9]+)", self._read_account),
                ("GET", f"/{v}/([0-9]+)", self._read_campaign)]

    def _token(self, request: Request) -> str:
        header = request.headers.get("authorization", "")
        if not header.startswith("Bearer "):
            raise self.violation("no bearer token", Answer(400, _error(190, "An access token is required.")))
        return header.removeprefix("Bearer ")

    def _unreadable(self, node: str) -> Answer:
        body = load_event("meta_ads", "error_unknown_object.json")
        body["error"]["message"] = body["error"]["message"].replace("act_999", node)
        return Answer(400, body)

    def _me(self, request: Request) -> Answer:
        page = self.pages.get(self._token(request))
        if page is None:
            return Answer(400, _error(190, "Invalid OAuth access token - Cannot parse access token"))
        return Answer(200, dict(page))

    def _account_for(self, request: Request, node: str) -> _Account:
        token = self._token(request)
        try:
            account = self._owner(node)
        except StopIteration:
            raise self._unreadable(node) from None
        if token not in account.tokens:
            raise self._unreadable(node)
        return account

    def _read_account(self, request: Request, digits: str) -> Answer:
        account = self._account_for(request, f"act_{digits}")
        return Answer(200, _fields(account.body, request.arg("fields")))

    def _read_campaign(self, request: Request, campaign_id: str) -> Answer:
        account = self._account_for(request, campaign_id)
        return Answer(200, _fields(account.campaigns[campaign_id], request.arg("fields")))

    def _insights(self, request: Request, node: str) -> Answer:
        account = self._account_for(request, node)
        if request.arg("time_increment") != "1":
            raise self.violation("insights without time_increment=1 are not one row per day")
        asked = set((request.arg("fields") or "").split(","))
        if not asked >= WANTED_FIELDS:
            raise self.violation(f"insights fields lack {sorted(WANTED_FIELDS - asked)}")
        window = json.loads(request.arg("time_range") or "{}")
        since, until = date.fromisoformat(window["since"]), date.fromisoformat(window["until"])
        days = account.insights.get(node, {})
        rows = [days[d] for d in sorted(days) if since <= d <= until]
        size = min(int(request.arg("limit") or 25), self.page_size)
        start = int(base64.b64decode(request.arg("after") or "MA==").decode())
        page = rows[start:start + size]
        after = base64.b64encode(str(start + size).encode()).decode()
        paging: dict[str, Any] = {"cursors": {"before": "MAZDZD", "after": after}}
        if start + size < len(rows):
            paging["next"] = f"https://graph.facebook.com/{VERSION}/{node}/insights?after={after}"
        return Answer(200, {"data": page, "paging": paging})


def _fields(body: dict[str, Any], fields: str | None) -> dict[str, Any]:
    wanted = (fields or "id").split(",")
    return {k: v for k, v in body.items() if k in wanted or k == "id"}


def _error(code: int, message: str) -> dict[str, Any]:
    return {"error": {"message": message, "type": "OAuthException", "code": code, "fbtrace_id": "AbCdEfGh123"}}
