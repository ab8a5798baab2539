"""A small hand-built store for the Sales page: orders over 1–6 March 2026 in
New York across channels and countries, a refund, a catalogue with unit costs,
payment fees and ad spend. The figures worked out from it are in the tests.

Line 1 of every order is product ``p1`` / variant ``v1``, line 2 ``p2`` / ``v2``
(see ``tests/builders.py``).

| order | New York time      | channel      | country | lines (qty × price, discount)   | shipping | tax  |
| ----- | ------------------ | ------------ | ------- | ------------------------------- | -------- | ---- |
| o1    | Mon 2 Mar 10:00    | online_store | US      | 2 × 25.00 (5.00), 1 × 40.00     | 5.00     | 4.00 |
| o2    | Tue 3 Mar 10:00    | pos          | US      | 1 × 25.00                       |          | 2.00 |
| o3    | Tue 3 Mar 18:30    | online_store | CA      | 1 × 10.00, 3 × 40.00 (10.00)    | 8.00     |      |
| o4    | Wed 4 Mar 10:00    | (none)       | (none)  | 1 × 25.00                       |          |      |
| t1    | Tue 3 Mar 10:00    | pos          | US      | test order, 1 × 500.00          |          |      |
| o5    | Tue 10 Mar 10:00   | online_store | US      | 1 × 70.00 (outside 1–6 March)   |          |      |

Refund r1 on Thu 5 Mar: one unit of o1's line 1 (22.50 goods), 1.00 tax back.

Over 1–6 March: gross 270.00, discounts 15.00, returns 22.50, net 232.50,
shipping 13.00, taxes 5.00, total 250.50, orders 4, units sold 9, returned 1.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import polars as pl

from tests.builders import MONEY, TIMESTAMP, add_order, add_refund, add_store, utc

START, END = dt.date(2026, 3, 1), dt.date(2026, 3, 6)


def build_sales_store(wh, *, costs: dict[str, str | None] | None = None, fees: bool = True,
                      ads: bool = True) -> None:
    """The store of this module's table (store ``s``), with its rollups refreshed."""
    from data.rollups import refresh_store

    add_store(wh)
    add_order(wh, "o1", utc(2026, 3, 2, 15), [(2, "25.00", "5.00"), (1, "40.00", "0")],
              shipping="5.00", tax="4.00", customer="c1")
    add_order(wh, "o2", utc(2026, 3, 3, 15), [(1, "25.00", "0")], tax="2.00", channel="pos", customer="c2")
    add_order(wh, "o3", utc(2026, 3, 3, 23, 30), [(1, "10.00", "0"), (3, "40.00", "10.00")],
              shipping="8.00", country="CA", customer="c1")
    add_order(wh, "o4", utc(2026, 3, 4, 15), [(1, "25.00", "0")], channel=None, country=None, customer=None)
    add_order(wh, "t1", utc(2026, 3, 3, 15), [(1, "500.00", "0")], channel="pos", test=True, customer="c3")
    add_order(wh, "o5", utc(2026, 3, 10, 14), [(1, "70.00", "0")], customer="c2")
    add_refund(wh, "r1", "o1", utc(2026, 3, 5, 15), {1: (1, "22.50")}, tax="1.00")
    add_catalogue(wh, costs if costs is not None else {"v1": "10.00", "v2": "15.00"})
    if fees:
        add_fees(wh)
    if ads:
        add_ad_spend(wh)
    refresh_store(wh, "s")


def add_catalogue(wh, costs: dict[str, str | None]) -> None:
    """Products p1 "Linen shirt", p2 "Canvas tote"; variants v1 "M / Blue", v2 "Default Title"."""
    wh.insert("products", pl.DataFrame({
        "store_id": ["s", "s"], "product_id": ["p1", "p2"], "title": ["Linen shirt", "Canvas tote"],
    }))
    wh.insert("variants", pl.DataFrame({
        "store_id": ["s", "s"], "variant_id": ["v1", "v2"], "product_id": ["p1", "p2"],
        "sku": ["SKU1", "SKU2"], "title": ["M / Blue", "Default Title"],
        "unit_cost": [None if costs.get(v) is None else Decimal(costs[v]) for v in ("v1", "v2")],
    }, schema_overrides={"unit_cost": MONEY}))


# (id, order, UTC time, fee, status, currency)
FEES = [
    ("tx1", "o1", utc(2026, 3, 2, 15), "2.91", "success", "USD"),
    ("tx2", "o3", utc(2026, 3, 3, 23, 30), "4.07", "success", "USD"),
    ("tx3", "o2", utc(2026, 3, 3, 15), "0.68", "success", "USD"),
    ("tx4", "o4", utc(2026, 3, 7, 4), "9.99", "success", "USD"),      # 6 Mar 23:00 in New York: in
    ("tx5", "o5", utc(2026, 3, 7, 5, 30), "5.00", "success", "USD"),  # 7 Mar 00:30 in New York: out
    ("tx6", "o1", utc(2026, 3, 2, 16), "1.00", "failure", "USD"),     # failed: out
    ("tx7", "t1", utc(2026, 3, 3, 15), "7.00", "success", "USD"),     # a test order's: out
    ("tx8", "o1", utc(2026, 3, 2, 17), "3.00", "success", "EUR"),     # another currency: left out
    ("tx9", None, utc(2026, 3, 4, 12), "1.50", "success", "USD"),     # no order: in "other"
]
# Over 1–6 March: 2.91 + 4.07 + 0.68 + 9.99 + 1.50 = 19.15; online store only: 2.91 + 4.07 = 6.98;
# "other" (o4 and the fee without an order): 9.99 + 1.50 = 11.49.


def add_fees(wh) -> None:
    wh.insert("transactions", pl.DataFrame({
        "store_id": ["s"] * len(FEES), "transaction_id": [f[0] for f in FEES], "order_id": [f[1] for f in FEES],
        "provider": ["shopify_payments"] * len(FEES), "kind": ["sale"] * len(FEES),
        "status": [f[4] for f in FEES], "amount": [Decimal("100")] * len(FEES),
        "fee": [Decimal(f[3]) for f in FEES], "net": [Decimal("100") - Decimal(f[3]) for f in FEES],
        "currency": [f[5] for f in FEES], "created_at": [f[2] for f in FEES],
    }, schema_overrides={"order_id": pl.String, "amount": MONEY, "fee": MONEY, "net": MONEY,
                         "created_at": TIMESTAMP}))


# (day, platform, campaign, channel, spend, currency)
AD_SPEND = [
    (dt.date(2026, 3, 2), "google", "Search", "online_store", "30.00", "USD"),
    (dt.date(2026, 3, 6), "meta", "Catalog", "social", "12.50", "USD"),
    (dt.date(2026, 3, 1), "tiktok", "Spark", None, "5.00", "USD"),
    (dt.date(2026, 3, 7), "google", "Search", "online_store", "99.00", "USD"),  # outside 1–6 March
    (dt.date(2026, 3, 3), "google", "Shopping", "online_store", "4.00", "GBP"),  # another currency
]
# Over 1–6 March: 30.00 + 12.50 + 5.00 = 47.50; online store only: 30.00.


def add_ad_spend(wh) -> None:
    wh.insert("ad_spend", pl.DataFrame({
        "store_id": ["s"] * len(AD_SPEND), "spend_date": [a[0] for a in AD_SPEND],
        "platform": [a[1] for a in AD_SPEND], "campaign": [a[2] for a in AD_SPEND],
        "channel": [a[3] for a in AD_SPEND], "spend": [Decimal(a[4]) for a in AD_SPEND],
        "currency": [a[5] for a in AD_SPEND],
    }, schema_overrides={"spend": MONEY, "channel": pl.String}))
