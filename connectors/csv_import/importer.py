"""Import an order CSV into the warehouse, all or nothing.

:func:`import_csv` reads the whole file as text, recognises its format (the
generic order-lines CSV of SCHEMA.md, or Shopify's "Export orders" CSV),
checks every row, and only then hands the write path (:func:`data.writes.write`)
one transaction: the store (when new), customers, products, variants, orders,
order lines, refunds and refund lines, then the store's rollups rebuilt in bulk. A file that breaks a rule writes nothing and
raises :class:`CsvImportError`, whose message names the row (the header is
row 1) and the column.

Every id is derived from the file, so importing the same file again changes
nothing, and a file with more orders adds them. An order in the file replaces
what the warehouse held for it: lines and refunds it no longer has are
removed. Customer, product and variant details the file leaves empty keep
the values an earlier import gave them.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Callable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import polars as pl

from connectors.csv_import import generic, shopify
from connectors.csv_import.batch import OrderBatch, with_fallback_titles
from connectors.csv_import.cells import TIMESTAMP, CsvImportError, read_text_csv
from data.warehouse import Warehouse
from data.writes import Changes, write

DEFAULT_STORE = "csv:import"
DEFAULT_TIMEZONE = "UTC"
DEFAULT_CURRENCY = "USD"

Progress = Callable[[str], None]


@dataclass(frozen=True)
class ImportResult:
    """What one import wrote (rows per table) and how long it took."""

    store_id: str
    format: str  # "generic" or "shopify"
    orders: int
    lines: int
    refunds: int
    refund_lines: int
    customers: int
    products: int
    variants: int
    seconds: float

    def summary(self) -> str:
        counts = ", ".join(_count(n, word) for n, word in (
            (self.lines, "line"), (self.refunds, "refund"), (self.customers, "customer"), (self.products, "product")))
        return (f"Imported {_count(self.orders, 'order')} ({counts}) into store {self.store_id} "
                f"from a {self.format} CSV in {self.seconds:.1f} s.")


def _count(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


@dataclass(frozen=True)
class StoreSettings:
    exists: bool
    timezone: str
    currency: str


def import_csv(
    wh: Warehouse,
    path: str | Path,
    *,
    store_id: str = DEFAULT_STORE,
    timezone: str | None = None,
    currency: str | None = None,
    progress: Progress | None = None,
) -> ImportResult:
    """Import the order CSV at ``path`` into store ``store_id``; nothing is written if any row is wrong.

    A new store gets platform ``csv``, ``timezone`` (default UTC) and
    ``currency`` (default: the file's currency column, else USD). An existing
    store keeps its own; a different ``timezone`` or ``currency`` is an error.
    ``progress`` receives a short sentence at each step.
    """
    started = time.perf_counter()
    say = progress or (lambda message: None)
    path = Path(path)
    store_id = store_id.strip()
    if not store_id:
        raise CsvImportError("The store id is empty: give one such as csv:retail.")

    say(f"reading {path.name}")
    raw = read_text_csv(path)
    fmt = file_format(raw, path)
    frame = fmt.prepare(raw)
    if frame.height == 0:
        raise CsvImportError(f"{path.name} has a header but no rows: there is nothing to import.")
    file_currency = frame.get_column("currency").drop_nulls().str.to_uppercase().first()
    store = store_settings(wh, store_id, timezone, currency, file_currency)

    say(f"checking {_count(frame.height, 'row')}")
    batch: OrderBatch = fmt.build(frame, timezone=store.timezone, currency=store.currency)
    tables = batch.tables(store_id, dt.datetime.now(dt.timezone.utc))

    say(f"writing {_count(tables['orders'].height, 'order')} and {_count(tables['order_lines'].height, 'line')}")

    def changes(current: Warehouse) -> Changes:
        rows, deletes = dict(tables), {}
        if store.exists:
            rows = keep_known_details(current, store_id, rows)
            deletes = replaced_rows(current, store_id, rows)
        else:
            rows["stores"] = store_frame(store_id, store)
        rows["products"] = with_fallback_titles(rows["products"])
        return Changes(rows=rows, deletes=deletes)

    def on_table(table: str) -> None:
        if table == "rollups":
            say("refreshing the store's sales rollups")

    # One transaction through the write path; a whole file's rollups are rebuilt in bulk.
    write(wh, store_id, changes, bulk=True, on_table=on_table)

    return ImportResult(
        store_id=store_id,
        format=batch.format,
        orders=tables["orders"].height,
        lines=tables["order_lines"].height,
        refunds=tables["refunds"].height,
        refund_lines=tables["refund_lines"].height,
        customers=tables["customers"].height,
        products=tables["products"].height,
        variants=tables["variants"].height,
        seconds=time.perf_counter() - started,
    )


def file_format(raw: pl.DataFrame, path: Path) -> ModuleType:
    """The module that reads this file's format, recognised by its header."""
    columns = raw.columns
    if shopify.is_shopify(columns):
        return shopify
    if generic.is_generic(columns):
        return generic
    shown = ", ".join(c for c in columns[1:6])
    raise CsvImportError(
        f"row 1: the header of {path.name} ({shown}, ...) is neither the generic order-lines CSV "
        "(order_id, created_at, sku, quantity, unit_price, ...) nor a Shopify orders export "
        "(Name, Created at, Lineitem quantity, Lineitem price, ...)."
    )


def store_settings(wh: Warehouse, store_id: str, timezone: str | None, currency: str | None,
                   file_currency: str | None) -> StoreSettings:
    """The timezone and currency the file is read in: the store's own, or those of a new store."""
    if timezone is not None:
        timezone = checked_timezone(timezone)
    if currency is not None:
        currency = checked_currency(currency, "--currency")
    rows = wh.rows("SELECT platform, timezone, currency FROM stores WHERE store_id = :s", {"s": store_id})
    if not rows:
        if currency is None and file_currency is not None and re.fullmatch(r"[A-Z]{3}", file_currency):
            currency = file_currency
        return StoreSettings(False, timezone or DEFAULT_TIMEZONE, currency or DEFAULT_CURRENCY)
    platform, store_timezone, store_currency = rows[0]
    if platform != "csv":
        raise CsvImportError(
            f"Store {store_id} holds {platform} data; import CSV files into a store of their own "
            "(for example --store csv:import)."
        )
    if timezone is not None and timezone != store_timezone:
        raise CsvImportError(
            f"Store {store_id} keeps its timezone {store_timezone}; --timezone {timezone} conflicts with it "
            "(leave it out, or import into another store)."
        )
    if currency is not None and currency != store_currency:
        raise CsvImportError(
            f"Store {store_id} keeps its currency {store_currency}; --currency {currency} conflicts with it "
            "(a store holds one currency: import into another store)."
        )
    return StoreSettings(True, store_timezone, store_currency)


def checked_timezone(name: str) -> str:
    name = name.strip()
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise CsvImportError(
            f"{name!r} is not a timezone name: use one like Europe/Paris, America/New_York or UTC."
        ) from None
    return name


def checked_currency(code: str, where: str) -> str:
    code = code.strip().upper()
    if not re.fullmatch(r"[A-Z]{3}", code):
        raise CsvImportError(f"{where} {code!r} is not an ISO 4217 currency code (like USD or EUR).")
    return code


def store_frame(store_id: str, store: StoreSettings) -> pl.DataFrame:
    """The ``stores`` row of a new CSV store."""
    name = store_id.split(":", 1)[1] if store_id.startswith("csv:") and len(store_id) > 4 else store_id
    now = dt.datetime.now(dt.timezone.utc)
    return pl.DataFrame(
        {"store_id": [store_id], "platform": ["csv"], "name": [name], "currency": [store.currency],
         "timezone": [store.timezone], "created_at": [now], "_synced_at": [now]},
        schema_overrides={"created_at": TIMESTAMP, "_synced_at": TIMESTAMP},
    )


def keep_known_details(wh: Warehouse, store_id: str, tables: dict[str, pl.DataFrame]) -> dict[str, pl.DataFrame]:
    """Details an earlier import gave and this file leaves empty stay; a customer's first order stays the first."""
    params = {"s": store_id}
    tables = dict(tables)
    known = wh.query(
        "SELECT customer_id, email_hash, country, accepts_marketing, created_at FROM customers WHERE store_id = :s",
        params,
    )
    tables["customers"] = _merge(tables["customers"], known, "customer_id",
                                 coalesce=("email_hash", "country", "accepts_marketing"), earliest=("created_at",))
    known = wh.query("SELECT customer_id, name, email FROM customer_contacts WHERE store_id = :s", params)
    tables["customer_contacts"] = _merge(tables["customer_contacts"], known, "customer_id", coalesce=("name", "email"))
    known = wh.query("SELECT product_id, title FROM products WHERE store_id = :s", params)
    tables["products"] = _merge(tables["products"], known, "product_id", coalesce=("title",))
    known = wh.query("SELECT variant_id, title FROM variants WHERE store_id = :s", params)
    tables["variants"] = _merge(tables["variants"], known, "variant_id", coalesce=("title",))
    return tables


def _merge(new: pl.DataFrame, known: pl.DataFrame, key: str, *, coalesce: tuple[str, ...] = (),
           earliest: tuple[str, ...] = ()) -> pl.DataFrame:
    if known.height == 0:
        return new
    known = known.rename({c: f"{c}__known" for c in known.columns if c != key})
    known = known.with_columns([pl.col(f"{c}__known").cast(new.schema[c]) for c in (*coalesce, *earliest)])
    merged = new.join(known, on=key, how="left", maintain_order="left").with_columns(
        *[pl.coalesce(c, f"{c}__known").alias(c) for c in coalesce],
        *[pl.min_horizontal(c, f"{c}__known").alias(c) for c in earliest],
    )
    return merged.select(new.columns)


def replaced_rows(wh: Warehouse, store_id: str, tables: dict[str, pl.DataFrame]) -> dict[str, pl.DataFrame]:
    """The keys of the lines and refunds of the file's orders that the file no longer has (to delete)."""
    params = {"s": store_id}
    orders = tables["orders"].select("order_id")
    lines = wh.query("SELECT line_id, order_id FROM order_lines WHERE store_id = :s", params)
    refunds = wh.query("SELECT refund_id, order_id FROM refunds WHERE store_id = :s", params)
    refunds = refunds.join(orders, on="order_id", how="semi")
    refund_lines = wh.query("SELECT refund_id, line_id FROM refund_lines WHERE store_id = :s", params)
    stale = {
        "refund_lines": refund_lines.join(refunds, on="refund_id", how="semi")
        .join(tables["refund_lines"], on=["refund_id", "line_id"], how="anti"),
        "refunds": refunds.join(tables["refunds"], on="refund_id", how="anti").select("refund_id"),
        "order_lines": lines.join(orders, on="order_id", how="semi")
        .join(tables["order_lines"], on="line_id", how="anti").select("line_id"),
    }
    return {table: keys.with_columns(pl.lit(store_id).alias("store_id")) for table, keys in stale.items() if keys.height}
