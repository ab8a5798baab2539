"""A small hand-built store for product performance and stock cover.

Store in America/New_York; orders at 15:00 UTC fall on the date written.
Range 2–31 March 2026 (30 days: weekly trend buckets from Mondays 2, 9, 16,
23 and 30 March). Catalogue: product p1 "Camp Mug" with variants v1 (Blue,
cost 4.00) and v3 (Green, cost 12.00); product p2 "Pocket Tee" with v2 (M,
cost unknown) and v4 (L, never sold).

| order | day    | channel      | lines                                              |
| o1    | 2 Mar  | online_store | v1 2 × 10.00; v2 1 × 20.00 − 2.00                  |
| o2    | 10 Mar | pos          | v1 3 × 10.00 − 3.00; v2 1 × 20.00; v3 1 × 30.00    |
| o3    | 20 Mar | online_store | v1 1 × 10.00                                       |
| o4    | 3 Mar  | online_store | test order, v1 9 × 10.00 (left out)                |
| o5    | 28 Feb | online_store | v1 5 × 10.00 (before the range)                    |
| o6    | 15 Feb | online_store | v5 1 × 20.00 (before the range)                    |

Refunds: r1 on 12 Mar, one v1 of o1 (10.00); r2 on 25 Mar, the v3 of o2 (30.00).

v1: sold 2 + 3 + 1 = 6, returned 1, net units 5; gross 60, discounts 3,
returns 10, net sales 47; return rate 1/6 = 0.1667; cost 4 × 5 = 20; margin 27;
trend [2, 3, 1, 0, 0].
v2: sold 2; gross 40, discounts 2, net sales 38; cost unknown; trend [1, 1, 0, 0, 0].
v3: sold 1, returned 1, net units 0; net sales 0; cost 0, margin 0; return rate 1.

Stock on 31 March (window 2–31 March): v1 has 3 + 2 available and snapshots
showing nothing on 25–29 March (5 days out of stock; 20 March shows 0 but a
sale that day, so it counts as in stock): demand 6 ÷ 25 = 0.24 a day, cover
5 ÷ 0.24 = 20.8 days. v2: 0 available, no snapshots: demand 2 ÷ 30 = 0.0667,
cover 0: low. v3: stock not tracked. v4: 10 available, no demand. v5 (a
second variant of p2, cost 9.00): nothing available, nothing sold in March but
one unit on 15 February (order o6, within 90 days): a stockout, 0 days of cover.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import polars as pl

from data.rollups import refresh_store
from tests.builders import MONEY, add_order, add_refund, add_store, utc

D = Decimal
START, END = dt.date(2026, 3, 2), dt.date(2026, 3, 31)
AS_OF = dt.date(2026, 3, 31)


def day(m: int, d: int) -> dt.datetime:
    return utc(2026, m, d, 15)


def build_products_store(wh) -> None:
    """The store of this module's tables (store ``s``), rollups refreshed."""
    add_store(wh, "s")
    wh.insert("products", pl.DataFrame({
        "store_id": ["s", "s"], "product_id": ["p1", "p2"], "title": ["Camp Mug", "Pocket Tee"],
    }))
    wh.insert("variants", pl.DataFrame({
        "store_id": ["s"] * 5, "variant_id": ["v1", "v2", "v3", "v4", "v5"],
        "product_id": ["p1", "p2", "p1", "p2", "p2"],
        "sku": ["MUG-BLU", "TEE-M", "MUG-GRN", "TEE-L", "TEE-S"], "title": ["Blue", "M", "Green", "L", "S"],
        "unit_cost": [D("4.00"), None, D("12.00"), D("9.00"), D("9.00")],
    }, schema_overrides={"unit_cost": MONEY}))
    add_order(wh, "o1", day(3, 2), [(2, "10.00", "0"), (1, "20.00", "2.00")])
    add_order(wh, "o2", day(3, 10), [(3, "10.00", "3.00"), (1, "20.00", "0"), (1, "30.00", "0")], channel="pos")
    add_order(wh, "o3", day(3, 20), [(1, "10.00", "0")])
    add_order(wh, "o4", day(3, 3), [(9, "10.00", "0")], test=True)
    add_order(wh, "o5", day(2, 28), [(5, "10.00", "0")])
    add_order(wh, "o6", day(2, 15), [(1, "20.00", "0")])
    wh.execute("UPDATE order_lines SET variant_id = 'v5', product_id = 'p2' WHERE order_id = 'o6'")
    # The builder names line n's product pn: the third line of o2 is v3, a variant of p1.
    wh.execute("UPDATE order_lines SET product_id = 'p1' WHERE variant_id = 'v3'")
    add_refund(wh, "r1", "o1", day(3, 12), {1: (1, "10.00")})
    add_refund(wh, "r2", "o2", day(3, 25), {3: (1, "30.00")})
    wh.insert("inventory_levels", pl.DataFrame({
        "store_id": ["s"] * 5, "variant_id": ["v1", "v1", "v2", "v4", "v5"],
        "location_id": ["a", "b", "a", "a", "a"], "available": [3, 2, 0, 10, 0],
    }, schema_overrides={"available": pl.Int32}))
    snapshot_days = [dt.date(2026, 3, 20)] + [dt.date(2026, 3, d) for d in range(25, 30)]
    wh.insert("inventory_snapshots", pl.DataFrame({
        "store_id": ["s"] * len(snapshot_days), "snapshot_date": snapshot_days,
        "variant_id": ["v1"] * len(snapshot_days), "location_id": ["a"] * len(snapshot_days),
        "available": [0] * len(snapshot_days),
    }, schema_overrides={"available": pl.Int32}))
    refresh_store(wh, "s")
