"""Seeded generator of valid generic order-lines CSV files (for tests and benchmarks).

``write_sample_csv(path, lines=500_000, seed=1)`` writes a file of exactly
``lines`` rows that :func:`connectors.csv_import.import_csv` accepts: orders
of one to four lines (each of another sku) with discounts, line tax,
shipping with its tax, customers given by id and email, a few channels and
countries, and about 3 %
of rows returning part of an earlier line a few days later. Times are
wall-clock times between 08:00 and 22:59 without an offset, so they exist in
every timezone whatever its DST rules. The same seed gives the same file.

    python -m connectors.csv_import.sample orders.csv --lines 500000 --seed 1
"""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

import numpy as np
import polars as pl

CHANNELS = np.array(["web", "web", "web", "pos", "amazon", "instagram"])
COUNTRIES = np.array(["US", "US", "CA", "GB", "DE", "FR", "AU"])
SHIPPING_CENTS = np.array([0, 495, 995])
TAX_RATE_BP = 800  # 8 % tax on goods after discount and on shipping, in basis points


def _money(cents: pl.Expr) -> pl.Expr:
    """Integer cents as a plain decimal string (``1234`` -> ``12.34``)."""
    return pl.concat_str([
        pl.when(cents < 0).then(pl.lit("-")).otherwise(pl.lit("")),
        (cents.abs() // 100).cast(pl.String), pl.lit("."),
        (cents.abs() % 100).cast(pl.String).str.zfill(2),
    ])


def _percent(cents: np.ndarray, basis_points: int) -> np.ndarray:
    """``cents × basis_points / 10000`` rounded half up (cents are never negative here)."""
    return (cents * basis_points * 2 + 10_000) // 20_000


def sample_orders(lines: int = 1_000, *, seed: int = 0, start: dt.date = dt.date(2025, 1, 1), days: int = 365,
                  skus: int = 400, return_share: float = 0.03) -> pl.DataFrame:
    """``lines`` rows of the generic CSV (text columns), sale rows first, then the return rows by date."""
    if lines < 1:
        raise ValueError("lines must be at least 1")
    rng = np.random.default_rng(seed)
    returns = int(lines * return_share) if lines >= 10 else 0
    sales = lines - returns

    per_order = rng.integers(1, 5, size=sales)  # more orders than needed; cut at `sales` lines
    ends = np.cumsum(per_order)
    orders = int(np.searchsorted(ends, sales)) + 1
    per_order = per_order[:orders]
    per_order[-1] -= ends[orders - 1] - sales
    order_of_line = np.repeat(np.arange(orders), per_order)

    customers = max(1, orders // 3)
    customer = rng.integers(0, customers, size=orders)
    seconds = rng.integers(0, days, size=orders) * 86_400 + rng.integers(8 * 3600, 23 * 3600, size=orders)
    shipping = SHIPPING_CENTS[rng.integers(0, len(SHIPPING_CENTS), size=orders)]
    channel = CHANNELS[rng.integers(0, len(CHANNELS), size=orders)]

    catalog_price = rng.integers(5, 150, size=skus) * 100 - rng.choice([0, 1, 5], size=skus)
    # The lines of an order are different skus (the import refuses a line repeated cell for cell).
    position = np.arange(sales) - np.repeat(np.cumsum(per_order) - per_order, per_order)
    sku = rng.permutation(skus)[(rng.integers(0, skus, size=orders)[order_of_line] + position) % skus]
    quantity = rng.integers(1, 4, size=sales)
    price = catalog_price[sku]
    gross = quantity * price
    discount = np.where(rng.random(sales) < 0.2, _percent(gross, 1000), 0)
    tax = _percent(gross - discount, TAX_RATE_BP)

    returned = np.sort(rng.choice(sales, size=returns, replace=False)) if returns else np.array([], dtype=int)
    returned_units = rng.integers(1, quantity[returned] + 1) if returns else np.array([], dtype=int)
    partly_refunded = np.zeros(orders, dtype=bool)
    partly_refunded[order_of_line[returned]] = True

    first_day = dt.datetime.combine(start, dt.time())
    sale_rows = pl.DataFrame({
        "_order": order_of_line,
        "_seconds": seconds[order_of_line],
        "sku_n": sku,
        "quantity": quantity,
        "_price": price,
        "_discount": discount,
        "_tax": tax,
    })
    return_rows = pl.DataFrame({
        "_order": order_of_line[returned],
        "_seconds": seconds[order_of_line[returned]] + rng.integers(1, 30, size=returns) * 86_400,
        "sku_n": sku[returned],
        "quantity": -returned_units,
        "_price": price[returned],
        "_discount": np.zeros(returns, dtype=np.int64),
        "_tax": -_percent(returned_units * price[returned], TAX_RATE_BP),
    }).sort("_seconds", "_order")
    rows = pl.concat([sale_rows.with_columns(_sale=pl.lit(True)), return_rows.with_columns(_sale=pl.lit(False))],
                     how="vertical_relaxed")

    order_level = pl.DataFrame({
        "_order": np.arange(orders),
        "_customer": customer,
        "_shipping": shipping,
        "_shipping_tax": _percent(shipping, TAX_RATE_BP),
        "_channel": channel,
        "_country": COUNTRIES[customer % len(COUNTRIES)],
        "_status": np.where(partly_refunded, "partially_refunded", "paid"),
    })
    rows = rows.join(order_level, on="_order", how="left", maintain_order="left")

    def on_sale(value: pl.Expr) -> pl.Expr:
        """Order-level cells are given on sale rows; return rows leave them empty."""
        return pl.when(pl.col("_sale")).then(value)

    return rows.select(
        pl.format("{}", pl.col("_order") + 100_001).alias("order_id"),
        (pl.lit(first_day) + pl.duration(seconds=pl.col("_seconds"))).dt.to_string("%Y-%m-%dT%H:%M:%S")
        .alias("created_at"),
        pl.format("SKU-{}", pl.col("sku_n").cast(pl.String).str.zfill(4)).alias("sku"),
        pl.format("Product {}", pl.col("sku_n") + 1).alias("product_title"),
        pl.col("quantity").cast(pl.String),
        _money(pl.col("_price")).alias("unit_price"),
        on_sale(_money(pl.col("_discount"))).alias("discount"),
        _money(pl.col("_tax")).alias("tax"),
        on_sale(pl.format("C{}", pl.col("_customer").cast(pl.String).str.zfill(6))).alias("customer_id"),
        on_sale(pl.format("customer{}@example.com", pl.col("_customer"))).alias("email"),
        on_sale(_money(pl.col("_shipping"))).alias("shipping"),
        on_sale(_money(pl.col("_shipping_tax"))).alias("shipping_tax"),
        on_sale(pl.lit("USD")).alias("currency"),
        on_sale(pl.col("_country")).alias("country"),
        on_sale(pl.col("_channel")).alias("channel"),
        on_sale(pl.col("_status")).alias("financial_status"),
    )


def write_sample_csv(path: str | Path, lines: int = 1_000, *, seed: int = 0, **options) -> Path:
    """Write :func:`sample_orders` to ``path`` as CSV; returns the path."""
    path = Path(path)
    sample_orders(lines, seed=seed, **options).write_csv(path)
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m connectors.csv_import.sample", description=__doc__.splitlines()[0])
    parser.add_argument("path", help="the CSV file to write")
    parser.add_argument("--lines", type=int, default=1_000, help="rows in the file (default 1000)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    write_sample_csv(args.path, args.lines, seed=args.seed)
    print(f"wrote {args.lines:,} order lines to {args.path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
