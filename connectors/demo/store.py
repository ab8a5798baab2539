"""The demo store's rows in the warehouse: clearing them, exchange rates, id counters."""

from __future__ import annotations

import polars as pl

from data.warehouse import check_table
from data.writes import Changes


def supplier_prefix(store_id: str) -> str:
    return f"{store_id}-sup-"


def delete_store(wh, store_id: str) -> None:
    """Remove every row of ``store_id``: store tables, its purchase orders and its suppliers."""
    from data.writes import write

    write(wh, store_id, lambda current: Changes(deletes=_supplier_keys(current, store_id)), replace=True)


def _supplier_keys(wh, store_id: str) -> dict[str, pl.DataFrame]:
    """The demo store's suppliers (named by its prefix), to delete with the store."""
    prefix = supplier_prefix(store_id)
    found = wh.query("SELECT supplier_id FROM suppliers WHERE substr(supplier_id, 1, :n) = :p",
                     {"n": len(prefix), "p": prefix})
    return {"suppliers": found} if found.height else {}


def replacing_store(wh, store_id: str, rates: pl.DataFrame) -> tuple[Changes, pl.DataFrame]:
    """What replacing the demo store starts with (its old suppliers deleted, the exchange rates it lacks
    added), and the rates in force to convert its prices with."""
    in_force, missing = fx_rates_to_add(wh, rates)
    changes = Changes(deletes=_supplier_keys(wh, store_id))
    changes.add("fx_rates", missing)
    return changes, in_force


def fx_rates_to_add(wh, rates: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The demo's daily rates in force and those to add: where the warehouse has none.

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
    if not existing.height:
        return rates, rates
    existing = existing.with_columns(pl.col("rate_date").cast(pl.Date), pl.col("rate").cast(pl.Decimal(18, 8)))
    missing = rates.join(existing.select("rate_date", "quote_currency"), on=["rate_date", "quote_currency"],
                         how="anti")
    return pl.concat([existing.select(rates.columns), missing]).sort("quote_currency", "rate_date"), missing


def max_number(wh, table: str, column: str, prefix: str, store_id: str) -> int:
    """The largest ``n`` among ids ``prefix + n`` of a store's rows (0 when there are none)."""
    value = wh.scalar(
        f"SELECT max(CAST(substr({column}, :start) AS BIGINT)) FROM {check_table(table)} "
        f"WHERE store_id = :s AND substr({column}, 1, :n) = :p",
        {"start": len(prefix) + 1, "n": len(prefix), "p": prefix, "s": store_id},
    )
    return int(value or 0)
