"""The demo store's rows in the warehouse: clearing them, exchange rates, id counters."""

from __future__ import annotations

import polars as pl

from data.keys import STORE_TABLES
from data.warehouse import check_table


def supplier_prefix(store_id: str) -> str:
    return f"{store_id}-sup-"


def delete_store(wh, store_id: str) -> None:
    """Remove every row of ``store_id``: store tables, its purchase orders and its suppliers."""
    params = {"s": store_id}
    for table in STORE_TABLES:
        wh.execute(f"DELETE FROM {check_table(table)} WHERE store_id = :s", params)
    wh.execute("DELETE FROM purchase_orders WHERE store_id = :s", params)
    prefix = supplier_prefix(store_id)
    wh.execute(
        "DELETE FROM suppliers WHERE substr(supplier_id, 1, :n) = :p",
        {"n": len(prefix), "p": prefix},
    )
    wh.execute("DELETE FROM stores WHERE store_id = :s", params)


def write_fx_rates(wh, rates: pl.DataFrame) -> pl.DataFrame:
    """Add the demo's daily rates where the warehouse has none; return the rates in force.

    Rates another source already wrote for a day are kept (and used to convert
    the demo's presentment prices), so the demo never overwrites real rates.
    """
    lo, hi = rates["rate_date"].min(), rates["rate_date"].max()
    quotes = sorted(set(rates["quote_currency"].to_list()))
    existing = wh.query(
        "SELECT rate_date, base_currency, quote_currency, rate FROM fx_rates "
        "WHERE base_currency = 'USD' AND rate_date BETWEEN :lo AND :hi",
        {"lo": lo, "hi": hi},
    )
    existing = existing.filter(pl.col("quote_currency").is_in(quotes))
    if existing.height:
        existing = existing.with_columns(pl.col("rate_date").cast(pl.Date), pl.col("rate").cast(pl.Decimal(18, 8)))
        missing = rates.join(existing.select("rate_date", "quote_currency"), on=["rate_date", "quote_currency"],
                             how="anti")
    else:
        missing = rates
    wh.insert("fx_rates", missing)
    if not existing.height:
        return rates
    return pl.concat([existing.select(rates.columns), missing]).sort("quote_currency", "rate_date")


def max_number(wh, table: str, column: str, prefix: str, store_id: str) -> int:
    """The largest ``n`` among ids ``prefix + n`` of a store's rows (0 when there are none)."""
    value = wh.scalar(
        f"SELECT max(CAST(substr({column}, :start) AS BIGINT)) FROM {check_table(table)} "
        f"WHERE store_id = :s AND substr({column}, 1, :n) = :p",
        {"start": len(prefix) + 1, "n": len(prefix), "p": prefix, "s": store_id},
    )
    return int(value or 0)
