"""Import an ad-spend CSV (any ad platform: Google Ads, TikTok, Pinterest …) into ``ad_spend``, all or nothing.

Columns (header names match ignoring case): ``date`` (YYYY-MM-DD, the ad
platform's day), ``channel`` (the ad platform, as you name it: ``Google Ads``,
``tiktok`` …), ``campaign``, ``spend`` (a plain number, at most 4 decimals,
not negative) and ``currency`` (ISO 4217; empty: the store's), and optional
``impressions``, ``clicks`` and ``conversions`` (whole numbers, not negative;
conversions as the platform counts them). One row per day, channel and
campaign: a second row for the same three is an error naming both rows.

Every row is checked before anything is written; then the rows are written in
one transaction, replacing what the warehouse held for the same store, day,
channel and campaign, so importing the same file again changes nothing. Spend
in another currency than the store's is kept as it is (the figures convert it
at its day's rate).
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from connectors.csv_import.cells import (
    ROW,
    Check,
    CsvImportError,
    as_decimal,
    canonical_columns,
    check_rows,
    money,
    money_checks,
    read_text_csv,
    show,
    whole_number,
    whole_number_check,
)
from data.warehouse import Warehouse
from data.writes import Changes, write

__all__ = ["AD_SPEND_COLUMNS", "AdSpendResult", "import_ad_spend"]

AD_SPEND_COLUMNS = {"date": "date", "channel": "channel", "campaign": "campaign", "spend": "spend",
                    "currency": "currency", "impressions": "impressions", "clicks": "clicks",
                    "conversions": "conversions"}
REQUIRED = ("date", "channel", "campaign", "spend")
_DATE = r"^\d{4}-\d{2}-\d{2}$"


@dataclass(frozen=True)
class AdSpendResult:
    store_id: str
    rows: int
    first_day: dt.date
    last_day: dt.date
    channels: tuple[str, ...]
    seconds: float

    def summary(self) -> str:
        return (f"Imported {self.rows:,} ad spend row{'' if self.rows == 1 else 's'} "
                f"({', '.join(self.channels)}; {self.first_day:%-d %b %Y} to {self.last_day:%-d %b %Y}) "
                f"into store {self.store_id} in {self.seconds:.1f} s.")


def _store(wh: Warehouse, store_id: str | None) -> tuple[str, str]:
    stores = wh.rows("SELECT store_id, currency FROM stores ORDER BY store_id")
    if store_id is None:
        if len(stores) != 1:
            names = ", ".join(s for s, _ in stores) or "none yet"
            raise CsvImportError(f"Say which store the ad spend is for with --store (stores: {names}).")
        return stores[0]
    for sid, currency in stores:
        if sid == store_id:
            return sid, currency
    raise CsvImportError(f"There is no store {store_id}: ad spend is imported into a store that already exists.")


def parse(raw: pl.DataFrame, store_currency: str, *, conversions_kept: bool) -> pl.DataFrame:
    """The checked rows of an ad-spend file as ``ad_spend`` rows (without the store), or the first problem."""
    frame = canonical_columns(raw, AD_SPEND_COLUMNS, REQUIRED)
    if frame.height == 0:
        raise CsvImportError("The file has a header but no rows: there is nothing to import.")
    frame = frame.with_columns(
        pl.when(pl.col("date").str.contains(_DATE)).then(pl.col("date").str.to_date("%Y-%m-%d", strict=False))
        .alias("_date"),
        money("spend").alias("_spend"),
        pl.col("currency").str.to_uppercase().fill_null(store_currency).alias("_currency"),
        *[whole_number(c).alias(f"_{c}") for c in ("impressions", "clicks", "conversions")],
    )
    checks = [
        *[Check(name, pl.col(name).is_null(), lambda r, name=name: "the cell is empty, and every row needs one")
          for name in REQUIRED],
        Check("date", pl.col("date").is_not_null() & pl.col("_date").is_null(),
              lambda r: f"{show(r['date'])} is not a date written as YYYY-MM-DD"),
        *money_checks("spend", "spend", "_spend"),
        Check("currency", ~pl.col("_currency").str.contains(r"^[A-Z]{3}$"),
              lambda r: f"{show(r['currency'])} is not an ISO 4217 currency code (like USD or EUR)"),
    ]
    for name in ("impressions", "clicks", "conversions"):
        checks += [whole_number_check(name, name, f"_{name}"),
                   Check(name, pl.col(f"_{name}") < 0, lambda r, name=name: f"{show(r[name])} is negative")]
    if not conversions_kept:
        checks.append(Check("conversions", pl.col("conversions").is_not_null(),
                            lambda r: "this warehouse has no place for conversions yet; leave the column out"))
    check_rows(frame, checks)
    key = [pl.col("_date"), pl.col("channel").str.to_lowercase(), pl.col("campaign")]
    firsts = frame.select(ROW, pl.col(ROW).min().over(key).alias("_first"))
    repeated = firsts.filter(pl.col(ROW) != pl.col("_first")).sort(ROW).head(1)
    if repeated.height:
        row, earlier = repeated.row(0)
        raise CsvImportError(f"row {row}, column campaign: row {earlier} already has this day, channel and "
                             "campaign; give one row per day, channel and campaign.")
    columns = [
        pl.col("_date").alias("spend_date"), pl.col("channel").str.to_lowercase().alias("platform"),
        pl.col("campaign"), pl.lit(None, dtype=pl.String).alias("channel"),
        as_decimal(pl.col("_spend")).alias("spend"), pl.col("_currency").alias("currency"),
        pl.col("_impressions").alias("impressions"), pl.col("_clicks").alias("clicks"),
    ]
    if conversions_kept:
        columns.append(pl.col("_conversions").alias("purchases"))
    return frame.select(columns)


def import_ad_spend(wh: Warehouse, path: str | Path, *, store_id: str | None = None) -> AdSpendResult:
    """Import the ad-spend CSV at ``path`` into an existing store (the only one when ``store_id`` is not
    given); nothing is written if any row is wrong."""
    started = time.perf_counter()
    path = Path(path)
    store_id, currency = _store(wh, store_id)
    raw = read_text_csv(path)
    rows = parse(raw, currency, conversions_kept="purchases" in wh.columns("ad_spend"))
    rows = rows.with_columns(pl.lit(store_id).alias("store_id"))
    write(wh, store_id, Changes().add("ad_spend", rows))  # one transaction through the write path
    return AdSpendResult(store_id, rows.height, rows["spend_date"].min(), rows["spend_date"].max(),
                         tuple(sorted(set(rows["platform"].to_list()))), time.perf_counter() - started)
