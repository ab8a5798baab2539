"""A store whose customers buy as BG/NBD and Gamma-Gamma say, for the refresh and the Customers page.

800 customers (seeded) first buy on a day of the 40 weeks from 1 Apr 2025; each buys at a weekly rate
λ ~ Gamma(r = 1, α = 8) and, after each purchase, stops with a probability p ~ Beta(a = 1, b = 3); an
order's spend is Gamma(shape 4, rate ν) with ν ~ Gamma(q = 5, γ = 100): mean 100. Orders run to
31 Mar 2026 (``AS_OF``), one line each (product p1, p2 or p3), in New York; channels alternate
online store and point of sale. Written as whole frames (fast on both backends), rollups refreshed.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import numpy as np
import polars as pl

from tests.builders import MONEY, TIMESTAMP, add_store

START = dt.date(2025, 4, 1)
AS_OF = dt.date(2026, 3, 31)
CUSTOMERS = 800


def synthetic_orders(seed: int = 4) -> list[tuple[str, str, dt.date, Decimal, int]]:
    """(order id, customer id, day, amount, product number) of the store."""
    rng = np.random.default_rng(seed)
    horizon_days = (AS_OF - START).days
    orders = []
    for i in range(CUSTOMERS):
        first = int(rng.integers(0, 40 * 7))
        rate = rng.gamma(1.0, 1 / 8)  # purchases per week
        stop = rng.beta(1.0, 3.0)
        nu = rng.gamma(5.0, 1 / 100)
        day = float(first)
        n = 0
        while day <= horizon_days:
            amount = Decimal(f"{rng.gamma(4.0, 1 / nu):.2f}")
            orders.append((f"o{i}-{n}", f"c{i}", START + dt.timedelta(days=int(day)), amount, int(rng.integers(1, 4))))
            n += 1
            if rng.random() < stop or rate <= 0:
                break
            day += rng.exponential(7 / rate)
    return orders


def build_customers_store(wh, store_id: str = "s") -> None:
    from data.rollups import refresh_store

    add_store(wh, store_id)
    rows = synthetic_orders()
    created = [dt.datetime.combine(d, dt.time(17), dt.timezone.utc) for _, _, d, _, _ in rows]
    n = len(rows)
    wh.insert("orders", pl.DataFrame({
        "store_id": [store_id] * n, "order_id": [r[0] for r in rows], "order_number": [r[0] for r in rows],
        "customer_id": [r[1] for r in rows], "created_at": created, "processed_at": created, "updated_at": created,
        "currency": ["USD"] * n, "financial_status": ["paid"] * n,
        "channel": ["online_store" if i % 2 else "pos" for i in range(n)], "country": ["US"] * n,
        "subtotal": [r[3] for r in rows], "total_discounts": [Decimal(0)] * n, "total_price": [r[3] for r in rows],
        "is_test": [False] * n,
    }, schema_overrides={"created_at": TIMESTAMP, "processed_at": TIMESTAMP, "updated_at": TIMESTAMP,
                         "subtotal": MONEY, "total_discounts": MONEY, "total_price": MONEY}))
    wh.insert("order_lines", pl.DataFrame({
        "store_id": [store_id] * n, "line_id": [f"{r[0]}-1" for r in rows], "order_id": [r[0] for r in rows],
        "product_id": [f"p{r[4]}" for r in rows], "variant_id": [f"v{r[4]}" for r in rows],
        "quantity": [1] * n, "unit_price": [r[3] for r in rows], "discount": [Decimal(0)] * n,
        "tax": [Decimal(0)] * n, "is_gift_card": [False] * n,
    }, schema_overrides={"quantity": pl.Int32, "unit_price": MONEY, "discount": MONEY, "tax": MONEY}))
    refresh_store(wh, store_id)
