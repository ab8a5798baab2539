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

MODEL = "rules-v2"
RATIO_KPIS = {"returning_customer_rate", "refund_rate"}
COUNT_KPIS = {"orders", "units_sold", "customers", "new_customers"}
# Changes smaller than this (relative) are "almost unchanged".
STEADY = Decimal("0.02")


def write_offline(facts: dict[str, Any]) -> str:
    """The summary in Markdown: a Summary, then What matters most: the facts' priorities in their order
    (largest money at stake first), each with what moved it and what to do."""
    writer = _Writer(facts)
    points = writer.points()
    listed = "\n".join(f"{i}. {point}" for i, point in enumerate(points, 1)) if points else (
        "Nothing moved enough to act on: no change, unusual day or stock risk stands out.")
    return "### Summary\n\n" + writer.summary() + "\n\n### What matters most\n\n" + listed + "\n"


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
        self.advised: set[str] = set()  # event directions whose full advice was written

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
        """``up 12.3%``, ``down 1.2 pts`` (ratios), ``almost unchanged, +1.2%``, ``about the same`` (ratios), or ``new this period``."""
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
            return f"almost unchanged, {format_percent(relative, signed=True)}"
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
            f"{self.value('new_customers')} new customer{'' if self.kpis['new_customers']['current'] == 1 else 's'} "
            f"ordered ({self.change('new_customers')}), "
            f"and the refund rate was {self.value('refund_rate')} ({self.change('refund_rate')}).",
        ]
        return " ".join(parts)

    # -- the points ----------------------------------------------------------------------------
    def points(self) -> list[str]:
        write = {"net_sales": self.net_sales_point, "event": self.event_point, "segment": self.segment_point,
                 "stock": self.stock_point, "returns": self.returns_point, "discounts": self.discounts_point,
                 "customers": self.customers_point}
        return [write[p["kind"]](p) for p in self.facts.get("priorities", [])]

    def amount(self, value: str) -> str:
        """``up $5.00`` / ``down $5.00`` for a signed amount of the facts."""
        figure = Decimal(value)
        return f"{'up' if figure > 0 else 'down'} {self.money(str(abs(figure)))}"

    def net_sales_point(self, _: dict) -> str:
        change = Decimal(self.kpis["net_sales"]["change"])
        rising = change > 0
        movers = self.facts["movers"]
        parts, top = [], {}
        for key, noun in (("channels", "channel"), ("countries", "country"), ("customer_groups", "customer"),
                          ("products_rising" if rising else "products_falling", "product")):
            row = next((r for r in movers.get(key, []) if (Decimal(r["net_sales_change"]) > 0) == rising
                        and Decimal(r["net_sales_change"]) != 0), None)
            if row is None:
                continue
            top[noun] = row
            share = f", {format_percent(Decimal(row['share_of_change']))} of the change" \
                if row.get("share_of_change") is not None else ""
            parts.append(f"by {noun}, {self.group_name(noun, row['name'])} ({self.amount(row['net_sales_change'])}"
                         f"{share})")
        headline = (f"**Net sales {'rose' if rising else 'fell'} {self.money(str(abs(change)))} "
                    f"({self.change('net_sales')}) {self.compared()}, to {self.value('net_sales')}.**")
        why = f" The largest part {'of the rise' if rising else 'of the fall'}: {'; '.join(parts)}." if parts else ""
        channel = self.group_name("channel", top["channel"]["name"]) if "channel" in top else "the main channel"
        product = top["product"]["name"] if "product" in top else None
        if rising:
            todo = f"Put more behind {channel}, where most of the rise came from"
            todo += f", and keep {product} in stock." if product else "."
        else:
            todo = f"Start with {channel}: check its campaigns, listings and tracking"
            todo += f", then why {product} sold less." if product else "."
        return f"{headline}{why} *What to do:* {todo}"

    def event_point(self, priority: dict) -> str:
        event = self.facts["anomalies"]["events"][priority["index"]]
        above = event["direction"] == "above"
        when = day_words(event["start"]) if event["days"] == 1 else (
            f"{range_words(event)} ({format_count(event['days'])} days in a row)")
        gap = self.money(str(abs(Decimal(event["net_sales_gap"]))))
        headline = (f"**{when}: net sales of {self.money(event['net_sales'])}, {gap} "
                    f"{'above' if above else 'below'} the expected {self.money(event['expected_net_sales'])}** "
                    f"({format_count(event['orders'])} orders where {event['expected_orders']} were expected).")
        parts = []
        for key, noun in (("channels", "channel"), ("products", "product"), ("countries", "country")):
            for row in event["drivers"].get(key, [])[:1]:
                share = f", {format_percent(Decimal(row['share_of_gap']))} of it" if row["share_of_gap"] else ""
                parts.append(f"{self.group_name(noun, row['name'])} ({self.money(str(abs(Decimal(row['gap']))))}"
                             f"{share})")
        why = f" The gap came mostly from {', '.join(parts)}." if parts else ""
        first = event["direction"] not in self.advised
        self.advised.add(event["direction"])
        days = "those days" if event["days"] > 1 else "that day"
        if above:
            product = event["drivers"].get("products", [{}])[:1]
            todo = ("Find what lifted it (a promotion, a mention, a marketplace feature), repeat it, and plan "
                    "stock and staff for the next one" if first else
                    f"See what ran on {days} (an email, a post, a code) and whether it is worth doing again")
            todo += f"; check that {product[0]['name']} is stocked for it." if product and first else "."
        else:
            channel = event["drivers"].get("channels", [{}])[:1]
            todo = f"Check the site, checkout and payments on {days}"
            todo += (f", and whether {self.group_name('channel', channel[0]['name'])}'s campaigns or listings "
                     "paused." if channel else ".")
        return f"{headline}{why} *What to do:* {todo}"

    def segment_point(self, priority: dict) -> str:
        a = self.facts["anomalies"]["segments"][priority["index"]]
        name = self.group_name(a["dimension"], a["segment"])
        above = a["direction"] == "above"
        headline = (f"**{a['dimension'].capitalize()} {name} moved unlike the store: {format_count(a['orders'])} "
                    f"orders where {a['expected_orders']} were expected** (net sales "
                    f"{self.amount(a['net_sales_change'])} to {self.money(a['net_sales'])}).")
        why = f" It had {format_count(a['previous_orders'])} orders in the comparison period."
        todo = ("Find out what worked there and give it more of the budget." if above else
                "Check its campaigns, listings, payment options and delivery, the usual reasons one part of a "
                "store falls while the rest holds.")
        return f"{headline}{why} *What to do:* {todo}"

    def stock_point(self, _: dict) -> str:
        stock = self.facts["stock_risks"]
        first = stock["items"][0]
        headline = (f"**{format_count(stock['at_risk'])} variants may run out before a reorder arrives, "
                    f"{self.money(stock['sales_at_risk'])} of sales at risk.**")
        why = (f" Start with {first['variant']}: {format_count(first['available'])} available, "
               f"{first['days_of_cover']} days of cover against a lead time of "
               f"{format_count(first['lead_time_days'])} days.")
        return f"{headline}{why} *What to do:* Reorder them from the Inventory page today."

    def returns_point(self, _: dict) -> str:
        up = Decimal(self.kpis["returns"]["change"]) > 0
        headline = (f"**Returns {self.moved('returns')}**; the refund rate was "
                    f"{self.value('refund_rate')} ({self.change('refund_rate')}).")
        todo = ("Check the products returned most for sizing, description or quality issues." if up else
                "Fewer returns: keep whatever changed in descriptions, sizing or packing.")
        return f"{headline} *What to do:* {todo}"

    def discounts_point(self, _: dict) -> str:
        up = Decimal(self.kpis["discounts"]["change"]) > 0
        headline = (f"**Discounts {self.moved('discounts')}**, while average order value was "
                    f"{self.value('aov')} ({self.change('aov')}).")
        todo = ("Review the codes in use and their limits: a discount that does not lift the order value only "
                "gives margin away." if up else "Fewer discounts given: watch that orders hold up.")
        return f"{headline} *What to do:* {todo}"

    def customers_point(self, _: dict) -> str:
        shifts = self.facts["segment_shifts"]
        moved = [r for r in shifts["segments"] if r.get("change")][:3]
        parts = [f"{r['segment']} {'up' if r['change'] > 0 else 'down'} {format_count(abs(r['change']))} to "
                 f"{format_count(r['customers'])}" for r in moved]
        return (f"**Customer segments since the scores of {day_words(shifts['previous_as_of'])}:** "
                f"{'; '.join(parts)} customers. *What to do:* Send each segment its playbook from the Customers "
                "page, At risk and Cannot lose first.")

    def moved(self, name: str) -> str:
        """``up 12.3% to $45.00``, or ``of $30.00 (none in 2–8 Nov 2026)`` when there was none before."""
        if self.relative(name) is None:
            return f"of {self.value(name)} (none in {range_words(self.facts['comparison'])})"
        return f"{self.change(name)} to {self.value(name)}"

    def group_name(self, noun: str, label: str) -> str:
        if noun == "customer":
            return GROUP_WORDS.get(label, label)
        return _name(label) if noun in ("channel", "country") else label


GROUP_WORDS = {"new": "new customers", "returning": "returning customers", "guest": "guest checkouts"}


def _name(label: str) -> str:
    return "Point of sale" if label == "pos" else label.replace("_", " ").capitalize() if label.islower() else label
