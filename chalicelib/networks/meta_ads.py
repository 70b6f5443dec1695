"""Meta's Marketing API, read only: an ad account (is it reachable with this token?), a campaign of it, and
daily insights (impressions, reach, clicks, spend, actions) of either, page by page.

The documented shapes (tests/events/meta_ads/README.md cites each page):
- `GET /act_{id}?fields=id,account_id,name,currency,account_status,timezone_name`: the Ad Account node; a
  token that cannot read it gets error 100 (subcode 33, "does not exist, cannot be loaded due to missing
  permissions") or 200/10 (permissions).
- `GET /{campaign_id}?fields=id,name,account_id`: the Campaign node.
- `GET /{act_id|campaign_id}/insights?fields=...&time_increment=1&time_range={"since","until"}&level=...`:
  `{"data": [{"date_start", "date_stop", "impressions", "reach", "clicks", "spend", "actions": [{"action_type",
  "value"}]}], "paging": {"cursors": {"after"}, "next"}}`; numbers come as strings.
"""
from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import partial
from typing import Any

from chalicelib.core.clock import Clock, SystemClock
from chalicelib.networks.base import PermanentError
from chalicelib.networks.http_failures import read_json, send
from chalicelib.networks.meta_errors import GRAPH_URL, explain_error

ACCOUNT_FIELDS = "id,account_id,name,currency,account_status,timezone_name"
INSIGHT_FIELDS = "impressions,reach,clicks,spend,actions"
ACCOUNT_ACTIVE = 1  # account_status: 1 ACTIVE, 2 DISABLED, 3 UNSETTLED, 7 PENDING_RISK_REVIEW, ...
PAGE_SIZE = 100
MAX_PAGES = 50  # a year of daily rows is four pages: more is a loop


@dataclass(frozen=True)
class AdAccount:
    account_id: str  # act_<digits>
    name: str
    currency: str
    status: int
    timezone: str


@dataclass(frozen=True)
class InsightDay:
    day: date
    impressions: int
    reach: int
    clicks: int
    spend: Decimal
    actions: dict[str, int] = field(default_factory=dict)


def _digits(value: Any) -> str:
    text = str(value) if isinstance(value, (str, int)) and not isinstance(value, bool) else ""
    return text if text.isascii() and text.isdigit() else ""


def _count(value: Any) -> int:
    try:
        return max(0, int(Decimal(str(value or 0))))
    except (InvalidOperation, ValueError):
        return 0


def _money(value: Any) -> Decimal:
    try:
        return max(Decimal(0), Decimal(str(value or 0))).quantize(Decimal("0.01"))
    except InvalidOperation:
        return Decimal(0)


def insight_day(row: Mapping[str, Any]) -> InsightDay | None:
    """One daily row; None for a row that is not one day (time_increment was not honoured)."""
    try:
        first, last = date.fromisoformat(str(row.get("date_start"))), date.fromisoformat(str(row.get("date_stop")))
    except ValueError:
        return None
    if first != last:
        return None
    actions: dict[str, int] = {}
    for action in row.get("actions") or []:
        if isinstance(action, Mapping) and isinstance(action.get("action_type"), str):
            actions[action["action_type"][:100]] = actions.get(action["action_type"][:100], 0) + _count(
                action.get("value"))
    return InsightDay(first, _count(row.get("impressions")), _count(row.get("reach")), _count(row.get("clicks")),
                      _money(row.get("spend")), actions)


class MetaAds:
    def __init__(self, http: Any = None, clock: Clock | None = None, *, graph_url: str | None = None) -> None:
        self._http = http
        self.clock = clock or SystemClock()
        self.graph_url = (graph_url or GRAPH_URL).rstrip("/")

    @property
    def http(self) -> Any:
        if self._http is None:
            import requests

            self._http = requests.Session()
        return self._http

    def _get(self, token: str, path: str, params: Mapping[str, str]) -> dict[str, Any]:
        response = send(self.http, "GET", f"{self.graph_url}/{path}", network="Meta Marketing API",
                        explain=partial(explain_error, network="Meta"),
                        headers={"Authorization": f"Bearer {token}"}, params=params, now=self.clock.now)
        body = read_json(response)
        return body if isinstance(body, dict) else {}

    def ad_account(self, token: str, account_id: str) -> AdAccount:
        """The ad account as Meta shows it to this token (raises the NetworkError Meta's answer means)."""
        digits = _digits(account_id.removeprefix("act_"))
        if not digits:
            raise PermanentError("an ad account id is act_ followed by digits")
        body = self._get(token, f"act_{digits}", {"fields": ACCOUNT_FIELDS})
        if _digits(body.get("account_id")) != digits:
            raise PermanentError(f"Meta answered for another account than act_{digits}")
        return AdAccount(f"act_{digits}", str(body.get("name") or ""), str(body.get("currency") or ""),
                         _count(body.get("account_status")), str(body.get("timezone_name") or "UTC"))

    def campaign_account(self, token: str, campaign_id: str) -> str:
        """The ad account (act_<id>) a Meta campaign belongs to."""
        digits = _digits(campaign_id)
        if not digits:
            raise PermanentError("a Meta campaign id is digits")
        body = self._get(token, digits, {"fields": "id,name,account_id"})
        return f"act_{_digits(body.get('account_id'))}"

    def daily_insights(self, token: str, node: str, since: date, until: date) -> list[InsightDay]:
        """One row per day from `since` to `until` (days without delivery are absent, as Meta leaves them)."""
        level = "account" if node.startswith("act_") else "campaign"
        params = {"fields": INSIGHT_FIELDS, "time_increment": "1", "level": level, "limit": str(PAGE_SIZE),
                  "time_range": json.dumps({"since": since.isoformat(), "until": until.isoformat()})}
        days: dict[date, InsightDay] = {}
        for row in self._pages(token, f"{node}/insights", params):
            parsed = insight_day(row)
            if parsed is not None and since <= parsed.day <= until:
                days[parsed.day] = parsed
        return [days[d] for d in sorted(days)]

    def _pages(self, token: str, path: str, params: dict[str, str]) -> Iterator[Mapping[str, Any]]:
        after: str | None = None
        for _ in range(MAX_PAGES):
            body = self._get(token, path, {**params, **({"after": after} if after else {})})
            yield from (row for row in body.get("data") or [] if isinstance(row, Mapping))
            after = _next_cursor(body)
            if after is None:
                return


def _next_cursor(body: Mapping[str, Any]) -> str | None:
    """The `after` cursor while Graph says there is a next page (`paging.next`), else None."""
    paging = body.get("paging")
    if not isinstance(paging, Mapping) or not paging.get("next"):
        return None
    cursors = paging.get("cursors")
    after = cursors.get("after") if isinstance(cursors, Mapping) else None
    return after if isinstance(after, str) and after else None
