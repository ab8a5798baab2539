"""The store of ``tests/sales_store.py`` with web sessions, for the marketing figures.

Sessions (New York time; ``purchase`` events carry the order's id):

| session | source / medium         | device  | start (NY)     | reached             | bought |
| ------- | ----------------------- | ------- | -------------- | ------------------- | ------ |
| w1      | google / cpc            | mobile  | Mon 2 Mar 10:00 | every step         | o1     |
| w2      | facebook / paid_social  | desktop | Tue 3 Mar 18:00 | every step         | o3     |
| w3      | google / organic        | mobile  | Mon 2 Mar 12:00 | viewed a product   |        |
| w4      | (direct) / (none)       | desktop | Wed 4 Mar 12:00 | added to cart      |        |
| w5      | google / cpc            | desktop | Thu 5 Mar 12:00 | session start      |        |
| w6      | google / cpc            | mobile  | Tue 10 Mar 9:00 | every step         | o5     |

Orders over 1–6 March and their revenue (gross − discounts): o1 85.00 (online,
c1's first order), o2 25.00 (pos, c2's first), o3 120.00 (online, c1's second),
o4 25.00 (no channel, no customer). Ad spend over 1–6 March (``sales_store``):
google "Search" 30.00, meta "Catalog" 12.50, tiktok "Spark" 5.00; a GBP row
left out.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from tests.builders import utc
from tests.sales_store import build_sales_store

STEPS = ("session_start", "view_item", "add_to_cart", "begin_checkout", "purchase")
SESSIONS = {  # session → (source, medium, device, steps reached, start UTC, order bought)
    "w1": ("google", "cpc", "mobile", STEPS, utc(2026, 3, 2, 14, 50), "o1"),
    "w2": ("facebook", "paid_social", "desktop", STEPS, utc(2026, 3, 3, 23), "o3"),
    "w3": ("google", "organic", "mobile", STEPS[:2], utc(2026, 3, 2, 17), None),
    "w4": ("(direct)", "(none)", "desktop", STEPS[:3], utc(2026, 3, 4, 17), None),
    "w5": ("google", "cpc", "desktop", STEPS[:1], utc(2026, 3, 5, 17), None),
    "w6": ("google", "cpc", "mobile", STEPS, utc(2026, 3, 10, 13), "o5"),
}


def build_marketing_store(wh) -> None:
    """Store ``s`` of ``sales_store`` with the sessions above."""
    build_sales_store(wh)
    rows = []
    for sid, (source, medium, device, reached, start, order) in SESSIONS.items():
        for i, event in enumerate(reached):
            rows.append({"store_id": "s", "event_id": f"{sid}-{i}", "session_id": sid, "customer_id": None,
                         "occurred_at": start + dt.timedelta(minutes=i), "event_type": event, "product_id": None,
                         "order_id": order if event == "purchase" else None, "source": source, "medium": medium,
                         "device": device})
    wh.insert("web_events", pl.DataFrame(rows, schema_overrides={
        "occurred_at": pl.Datetime("us", "UTC"), "customer_id": pl.String, "product_id": pl.String,
        "order_id": pl.String}))
    from data.rollups import refresh_sessions

    refresh_sessions(wh, "s", list(SESSIONS))
