"""The ads section of the monthly and quarterly reports: each campaign that ran in the period (by start date),
its spend and results in the period, CTR, CPC, CPM and cost per conversion (ad_figures.py), and totals per
currency (money in different currencies is never added up).

The section is plain data with a `table` (columns and rows) the report's CSV and HTML show as they are."""
from __future__ import annotations

from datetime import date
from typing import Any

from chalicelib.ads.ad_figures import money, totals
from chalicelib.ads.ad_repository import AdRepository, DayResult

COLUMNS = ("Campaign", "Network", "Currency", "Budget", "Spend", "Impressions", "Clicks", "Conversions",
           "CTR (%)", "CPC", "CPM", "Cost per conversion")


def _row(name: str, network: str, currency: str, budget: float | None, figures: dict[str, Any]) -> list[Any]:
    return [name, network, currency, budget, figures["spend"], figures["impressions"], figures["clicks"],
            figures["conversions"], figures["ctr"], figures["cpc"], figures["cpm"], figures["cost_per_conversion"]]


class AdsReport:
    def __init__(self, repository: AdRepository) -> None:
        self.repository = repository

    def section(self, workspace_id: str, first: date, last: date) -> dict[str, Any]:
        campaigns, rows = [], []
        by_currency: dict[str, list[DayResult]] = {}
        ran = self.repository.all_of(workspace_id)
        for c in sorted(ran, key=lambda c: (c.start_date, c.name, c.campaign_id)):
            if c.end_date < first.isoformat() or c.start_date > last.isoformat():
                continue
            days = self.repository.days(workspace_id, c.campaign_id, first.isoformat(), last.isoformat())
            figures = totals(days).figures()
            by_currency.setdefault(c.currency, []).extend(days)
            campaigns.append({"id": c.campaign_id, "name": c.name, "source": c.source, "network": c.network,
                              "objective": c.objective or None, "currency": c.currency,
                              "budget_total": money(c.total_budget), "start_date": c.start_date,
                              "end_date": c.end_date, **figures})
            rows.append(_row(c.name, c.network, c.currency, money(c.total_budget), figures))
        currency_totals = [{"currency": cur, **totals(days).figures()} for cur, days in sorted(by_currency.items())]
        rows += [_row(f"All campaigns ({t['currency']})", "", t["currency"], None, t) for t in currency_totals]
        return {"title": "Ads", "campaigns": campaigns, "totals": currency_totals,
                "table": {"columns": list(COLUMNS), "rows": rows}}
