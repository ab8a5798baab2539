"""The offline writer: the summary and recommendations written from the facts by fixed rules.

Used when no AI provider is chosen, no key is set, or the provider fails. It
is deterministic (the same facts give the same words) and every number it
writes is a figure of the facts, formatted the way the pages format it, so
its text always passes :func:`analytics.insights.grounding.check`.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from analytics.formatting import format_count, format_money, format_percent

MODEL = "rules-v1"
KPI_WORDS = {
    "total_sales": "Total sales", "net_sales": "Net sales", "orders": "Orders", "aov": "Average order value",
    "units_sold": "Units sold", "customers": "Customers", "new_customers": "New customers",
    "returning_customer_rate": "Returning customer rate", "discounts": "Discounts", "returns": "Returns",
    "refund_rate": "Refund rate",
}
RATIO_KPIS = {"returning_customer_rate", "refund_rate"}
COUNT_KPIS = {"orders", "units_sold", "customers", "new_customers"}
# Changes smaller than this (relative) are "about the same".
STEADY = Decimal("0.02")


def write_offline(facts: dict[str, Any]) -> str:
    """The summary in Markdown: Summary, What changed and why, Recommendations, Anomalies."""
    writer = _Writer(facts)
    return "\n\n".join([
        "### Summary\n\n" + writer.summary(),
        "### What changed and why\n\n" + "\n".join(f"- {line}" for line in writer.changes()),
        "### Recommendations\n\n" + "\n".join(f"- {line}" for line in writer.recommendations()),
        "### Anomalies\n\n" + "\n".join(f"- {line}" for line in writer.anomalies()),
    ]) + "\n"


def day_words(iso: str) -> str:
    day = dt.date.fromisoformat(iso)
    return f"{day:%a} {day.day} {day:%b %Y}"


def range_words(period: dict[str, str]) -> str:
    start, end = dt.date.fromisoformat(period["start"]), dt.date.fromisoformat(period["end"])
    if start == end:
        return f"{start.day} {start:%b %Y}"
    if (start.year, start.month) == (end.year, end.month):
        return f"{start.day}–{end.day} {end:%b %Y}"
    return f"{start.day} {start:%b %Y} – {end.day} {end:%b %Y}"


class _Writer:
    def __init__(self, facts: dict[str, Any]) -> None:
        self.facts = facts
        self.currency = facts["currency"]
        self.kpis = facts["kpis"]

    # -- formatting ------------------------------------------------------------------------
    def money(self, value: str | None) -> str:
        return format_money(Decimal(value), self.currency) if value is not None else "–"

    def value(self, name: str, side: str = "current") -> str:
        raw = self.kpis[name][side]
        if name in RATIO_KPIS:
            return format_percent(Decimal(raw))
        if name in COUNT_KPIS:
            return format_count(raw)
        return self.money(raw)

    def relative(self, name: str) -> Decimal | None:
        raw = self.kpis[name]["relative_change"]
        return None if raw is None else Decimal(raw)

    def change(self, name: str) -> str:
        """``up 12.3%``, ``down 1.2 pts`` (ratios), ``about the same``, or ``new`` (nothing before)."""
        entry = self.kpis[name]
        if name in RATIO_KPIS:
            points = Decimal(entry["change"])
            if abs(points) < Decimal("0.0005"):
                return "about the same"
            return f"{'up' if points > 0 else 'down'} {format_percent(abs(points))[:-1]} pts"
        relative = self.relative(name)
        if relative is None:
            return "new this period" if Decimal(str(entry["current"])) != 0 else "none in either period"
        if abs(relative) < STEADY:
            return f"about the same ({format_percent(relative, signed=True)})"
        return f"{'up' if relative > 0 else 'down'} {format_percent(abs(relative))}"

    def compared(self) -> str:
        return f"against {range_words(self.facts['comparison'])}"

    # -- sections ----------------------------------------------------------------------------
    def summary(self) -> str:
        period = range_words(self.facts["period"])
        if self.kpis["orders"]["current"] == 0 and self.kpis["returns"]["current"] in ("0.00", 0):
            return (f"No orders or refunds in {period}, {self.compared()} "
                    f"({self.value('orders', 'previous')} orders). Widen the dates or check the store's sync.")
        parts = [
            f"In {period} the store made {self.value('net_sales')} of net sales "
            f"({self.change('net_sales')} {self.compared()}) from {self.value('orders')} orders "
            f"({self.change('orders')}).",
            f"Average order value was {self.value('aov')} ({self.change('aov')}), "
            f"{self.value('new_customers')} customers ordered for the first time ({self.change('new_customers')}), "
            f"and the refund rate was {self.value('refund_rate')} ({self.change('refund_rate')}).",
        ]
        return " ".join(parts)

    def changes(self) -> list[str]:
        lines = []
        for name in ("total_sales", "units_sold", "customers", "returning_customer_rate", "discounts", "returns"):
            lines.append(f"{KPI_WORDS[name]}: {self.value(name)}, {self.change(name)} "
                         f"(was {self.value(name, 'previous')}).")
        movers = self.facts["movers"]
        for key, noun in (("channels", "Channel"), ("countries", "Country")):
            for row in movers[key][:2]:
                lines.append(f"{noun} {_name(row['name'])}: {self.money(row['net_sales'])} of net sales, "
                             f"{self._mover_change(row)}.")
        for key, verb in (("products_rising", "rose"), ("products_falling", "fell")):
            for row in movers[key][:2]:
                lines.append(f"{row['name']} {verb} to {self.money(row['net_sales'])} of net sales, "
                             f"{self._mover_change(row)}.")
        shifts = self.facts["segment_shifts"]
        for row in shifts.get("segments", [])[:2]:
            if "change" in row and row["change"] != 0:
                lines.append(f"Customer segment {row['segment']}: {format_count(row['customers'])} customers, "
                             f"{'up' if row['change'] > 0 else 'down'} {format_count(abs(row['change']))} "
                             f"since the scores of {day_words(shifts['previous_as_of'])}.")
        return lines

    def _mover_change(self, row: dict[str, Any]) -> str:
        change = Decimal(row["net_sales_change"])
        if row["relative_change"] is None:
            return f"new this period (up {self.money(row['net_sales_change'])})"
        direction = "up" if change > 0 else "down" if change < 0 else "unchanged"
        if direction == "unchanged":
            return "unchanged"
        return (f"{direction} {self.money(str(abs(change)))} "
                f"({format_percent(Decimal(row['relative_change']), signed=True)})")

    def recommendations(self) -> list[str]:
        lines = []
        # Marketing: the channel that fell the most, else new customers.
        falling = [r for r in self.facts["movers"]["channels"] if Decimal(r["net_sales_change"]) < 0]
        if falling:
            row = falling[0]
            lines.append(f"Marketing: net sales through {_name(row['name'])} fell "
                         f"{self.money(str(abs(Decimal(row['net_sales_change']))))}; check its campaigns, "
                         "listings and tracking before spending more elsewhere.")
        elif (self.relative("new_customers") or 0) < 0:
            lines.append(f"Marketing: new customers went {self.change('new_customers')}; put budget behind the "
                         "channels that bring first orders.")
        else:
            lines.append("Marketing: no channel lost sales; keep the current mix and thank returning customers "
                         "with an early offer.")
        # Inventory: the stock risks.
        stock = self.facts["stock_risks"]
        if stock["items"]:
            first = stock["items"][0]
            lines.append(f"Inventory: {format_count(stock['at_risk'])} variants may run out before a reorder "
                         f"arrives; start with {first['variant']} ({format_count(first['available'])} available, "
                         f"{first['days_of_cover']} days of cover against a lead time of "
                         f"{format_count(first['lead_time_days'])} days).")
        else:
            lines.append("Inventory: no variant is at risk of selling out within its lead time.")
        # Pricing: discounts, average order value and refunds.
        discounts, aov = self.relative("discounts"), self.relative("aov")
        if discounts is not None and aov is not None and discounts > STEADY and aov <= 0:
            lines.append(f"Pricing: discounts went {self.change('discounts')} while average order value went "
                         f"{self.change('aov')}; review the codes in use and their limits.")
        elif Decimal(self.kpis["refund_rate"]["change"]) > 0:
            lines.append(f"Pricing: the refund rate went {self.change('refund_rate')}; check the products "
                         "returned most for sizing, description or quality issues.")
        else:
            lines.append(f"Pricing: average order value went {self.change('aov')}; test a bundle or a "
                         "free-shipping threshold just above it.")
        return lines

    def anomalies(self) -> list[str]:
        found = self.facts["anomalies"]
        lines = []
        for a in found["days"]:
            if a["metric"] == "net_sales":
                actual, low, high = self.money(a["actual"]), self.money(a["low"]), self.money(a["high"])
                what = "Net sales"
            else:
                actual, low, high = str(a["actual"]), str(a["low"]), str(a["high"])
                what = "Orders"
            lines.append(f"{day_words(a['date'])}: {what} {actual}, {a['direction']} the expected range "
                         f"{low} to {high}.")
        for a in found["segments"]:
            lines.append(f"{a['dimension'].capitalize()} {_name(a['segment'])}: {format_count(a['orders'])} orders "
                         f"where {a['expected_orders']} were expected if it had moved with the store "
                         f"({format_count(a['previous_orders'])} before).")
        return lines or ["No day or segment was outside its expected range."]


def _name(label: str) -> str:
    return "Point of sale" if label == "pos" else label.replace("_", " ").capitalize() if label.islower() else label
