"""Reading a CSV file as text and turning its cells into typed values, vectorized.

Every cell is read as a string. Each conversion here works on whole columns
(Polars expressions) and yields the typed value, or null where the cell
cannot be read; each comes with :class:`Check` rules that find the first row
where it failed, so a file of any size is checked without a loop over rows.

Money is held as an exact integer count of ten-thousandths (``Int128``, the
warehouse keeps DECIMAL(18,4)) and only becomes ``Decimal`` when the frames
for the warehouse are built.
"""

from __future__ import annotations

import csv
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import polars as pl

from data.currencies import minor_unit_digits
from data.warehouse import WarehouseError

ROW = "__row"  # the spreadsheet row number of each record (the header is row 1)
MONEY_SCALE = 10_000  # money is held in ten-thousandths of the currency unit
MONEY_LIMIT = 10**18  # DECIMAL(18,4) holds values below 10^14, i.e. 10^18 ten-thousandths
MONEY_INT = pl.Int128
TIMESTAMP = pl.Datetime("us", "UTC")

FINANCIAL_STATUSES = ("pending", "authorized", "partially_paid", "paid", "partially_refunded", "refunded", "voided")
FULFILLMENT_STATUSES = ("unfulfilled", "partial", "fulfilled", "restocked")

# Raw channel or source names (lower case, words joined by "_") and the channel each one is.
CHANNELS: dict[str, str] = {
    **{name: "online_store" for name in (
        "online_store", "online", "web", "website", "webshop", "web_shop", "ecommerce", "e_commerce",
        "storefront", "shopify", "woocommerce", "magento", "bigcommerce", "iphone", "android", "mobile_app")},
    **{name: "pos" for name in (
        "pos", "point_of_sale", "in_store", "instore", "retail", "shop_floor", "counter")},
    **{name: "marketplace" for name in (
        "marketplace", "amazon", "sell_on_amazon", "ebay", "etsy", "walmart", "zalando", "bol", "mercadolibre")},
    **{name: "social" for name in (
        "social", "facebook", "facebook_shop", "instagram", "instagram_shop", "tiktok", "tiktok_shop",
        "pinterest", "snapchat", "whatsapp")},
    "other": "other",
}
DEFAULT_CHANNEL = "online_store"


_NUMBER = r"^[+-]?(\d+\.?\d*|\.\d+)$"
_MONEY = r"^[+-]?(\d{1,14}(\.\d{0,4})?|\.\d{1,4})$"
_WHOLE = r"^[+-]?\d{1,9}$"
_ISO = (
    r"^(\d{4}-\d{2}-\d{2})"
    r"(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?"
    r"\s*(Z|z|[+-]\d{2}(?::?\d{2})?)?$"
)
_EMAIL = r"^[^@\s]+@[^@\s]+$"


class CsvImportError(WarehouseError):
    """A file that cannot be imported, said in one sentence that names the row and column."""


@dataclass(frozen=True)
class Check:
    """A rule over a frame of rows: ``bad`` is true on the rows that break it.

    ``explain(row)`` receives the first offending row (as a dict of that
    frame's columns) and returns what is wrong, without the row and column,
    which :func:`first_problem` puts in front.
    """

    column: str
    bad: pl.Expr
    explain: Callable[[dict], str]


def first_problem(frame: pl.DataFrame, checks: Sequence[Check]) -> CsvImportError | None:
    """The problem on the earliest row of ``frame`` among ``checks`` (ties: the check listed first)."""
    if not checks or frame.height == 0:
        return None
    firsts = frame.select(
        [pl.col(ROW).filter(check.bad.fill_null(False)).min().alias(str(i)) for i, check in enumerate(checks)]
    ).row(0)
    found = [(row, i) for i, row in enumerate(firsts) if row is not None]
    if not found:
        return None
    row, i = min(found)
    check = checks[i]
    record = frame.filter(pl.col(ROW) == row).row(0, named=True)
    return CsvImportError(f"row {row}, column {check.column}: {check.explain(record)}")


def check_rows(frame: pl.DataFrame, checks: Sequence[Check]) -> None:
    """Raise the problem on the earliest row of ``frame``, if any (see :func:`first_problem`)."""
    problem = first_problem(frame, checks)
    if problem is not None:
        raise problem


def order_level_problem(rows: pl.DataFrame, order: str,
                        fields: dict[str, tuple[str, str]]) -> CsvImportError | None:
    """The first row whose order-level value differs from an earlier row of the same order, naming both.

    ``fields``: the column as the header shows it -> (its raw text column, the column compared: the
    value as read, so that 10 and 10.00 agree). Rows that leave a field empty take the order's value.
    """
    present = {shown: pair for shown, pair in fields.items() if rows.get_column(pair[0]).null_count() < rows.height}
    if not present:
        return None
    # Orders whose rows are not all alike (empty cells included) are looked at row by row.
    distinct = rows.select(order, *[parsed for _, parsed in present.values()]).unique()
    uneven = distinct.filter(pl.col(order).is_duplicated()).select(order).unique()
    if uneven.height == 0:
        return None
    suspects = rows.join(uneven, on=order, how="semi", maintain_order="left")

    def check(shown: str, raw: str, parsed: str) -> Check:
        value = pl.col(parsed)

        def explain(r: dict) -> str:
            first = suspects.filter((pl.col(order) == r[order]) & value.is_not_null()).row(0, named=True)
            return (f"{show(r[raw])} differs from {show(first[raw])} on row {first[ROW]} of order {r[order]}: "
                    f"{shown} belongs to the order, so every row of the order gives the same value (or none)")

        return Check(shown, value.is_not_null() & (value != value.first(ignore_nulls=True).over(order)), explain)

    return first_problem(suspects, [check(shown, raw, parsed) for shown, (raw, parsed) in present.items()])


def first_given(column: str) -> pl.Expr:
    """The first non-empty value of ``column`` (in a group, the value its earliest row gives)."""
    return pl.col(column).first(ignore_nulls=True)


def show(value: object) -> str:
    """A cell value quoted as the user typed it."""
    return '"' + str(value).replace('"', '""') + '"' if value is not None else "an empty cell"


# -- reading the file ------------------------------------------------------------
def read_text_csv(path: Path) -> pl.DataFrame:
    """Every column as stripped text (empty cells null), plus :data:`ROW`; blank lines left out."""
    if not path.is_file():
        raise CsvImportError(f"There is no file at {path}.")
    if path.stat().st_size == 0:
        raise CsvImportError(f"{path.name} is empty: it needs a header row and at least one order line.")
    from connectors.csv_import.sizes import check_sizes

    check_sizes(path)  # before Polars holds any of it: the file, each cell, quotes that never close
    try:
        frame = pl.read_csv(path, infer_schema=False, row_index_name=ROW, row_index_offset=2)
    except pl.exceptions.PanicException as exc:  # a BaseException: never let it end the process with a trace
        raise CsvImportError(f"{path.name} cannot be read as CSV: {str(exc).strip().splitlines()[0]}") from None
    except pl.exceptions.NoDataError:
        raise CsvImportError(f"{path.name} is empty: it needs a header row and at least one order line.") from None
    except pl.exceptions.ComputeError as exc:
        text = str(exc)
        if "utf-8" in text.lower() or "utf8" in text.lower():
            from connectors.csv_import.sizes import first_bad_utf8, place_of_byte

            bad = first_bad_utf8(path)
            where = f"{place_of_byte(path, bad)}: " if bad is not None else ""
            raise CsvImportError(
                f"{where}{path.name} is not UTF-8 text: save it again as \"CSV UTF-8\" and import that file."
            ) from None
        if "more fields" in text:
            raise CsvImportError(_ragged_row(path)) from None
        raise CsvImportError(f"{path.name} cannot be read as CSV: {text.splitlines()[0]}") from None
    if frame.width == 2 and ";" in frame.columns[1]:
        raise CsvImportError(
            f"row 1: {path.name} is separated by semicolons; the import reads comma-separated files."
        )
    duplicated = [c for c in frame.columns if "_duplicated_" in c]
    if duplicated:
        name = duplicated[0].split("_duplicated_")[0]
        raise CsvImportError(f"row 1, column {name}: the column appears more than once in the header.")
    frame = frame.with_columns(pl.col(ROW).cast(pl.Int64))
    text_columns = [c for c in frame.columns if c != ROW]
    stripped = pl.col(text_columns).str.strip_chars()
    frame = frame.with_columns(pl.when(stripped != "").then(stripped))
    # Blank lines are skipped; the rows after them keep their spreadsheet numbers.
    frame = frame.filter(pl.any_horizontal(pl.col(text_columns).is_not_null()))
    check_no_repeated_line(frame, text_columns)
    return frame


def check_no_repeated_line(frame: pl.DataFrame, columns: list[str]) -> None:
    """Refuse a line that repeats an earlier one cell for cell (it would count the same sale twice)."""
    first = pl.col(ROW).min().over(columns, mapping_strategy="group_to_rows")
    repeats = frame.select(ROW, first.alias("_first")).filter(pl.col(ROW) != pl.col("_first")).head(1)
    if repeats.height:
        row, earlier = repeats.row(0)
        raise CsvImportError(
            f"row {row}: the line repeats row {earlier} exactly, which would count that sale twice; remove one "
            "of them (if the order really holds the item twice, give it one line with the quantities added up).")


def _ragged_row(path: Path) -> str:
    """The sentence for a record with more fields than the header (only read when Polars refused the file)."""
    with path.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.reader(fh)
        header = next(reader, [])
        for number, record in enumerate(reader, start=2):
            if len(record) > len(header):
                return (
                    f"row {number}: the row has {len(record)} fields but the header has {len(header)} columns "
                    "(a comma inside a value needs the value in double quotes)."
                )
    return f"{path.name} has a row with more fields than the header."


def canonical_columns(frame: pl.DataFrame, names: dict[str, str], required: Sequence[str]) -> pl.DataFrame:
    """The columns of ``names`` (header name -> name used by the import) and :data:`ROW`.

    Header names match ignoring case and surrounding spaces. An absent
    optional column becomes an empty one; an absent required one is an error
    naming the column as ``names`` spells it. Other columns are dropped.
    """
    by_key: dict[str, str] = {}
    for column in frame.columns:
        if column == ROW:
            continue
        key = column.strip().lower()
        if key in by_key:
            raise CsvImportError(f"row 1, column {column.strip()}: the column appears more than once in the header.")
        by_key[key] = column
    sources = {name: by_key.get(header.strip().lower()) for header, name in names.items()}
    for header, name in names.items():
        if name in required and sources[name] is None:
            raise CsvImportError(f"row 1, column {header}: the header has no such column, and the import needs it.")
    return frame.select(
        ROW,
        *[pl.col(source).alias(name) if source else pl.lit(None, dtype=pl.String).alias(name)
          for name, source in sources.items()],
    )


# -- numbers ---------------------------------------------------------------------
def money(column: str) -> pl.Expr:
    """A money cell as ten-thousandths (null where it is not a plain number with at most 4 decimals)."""
    exact = pl.col(column).cast(pl.Decimal(18, 4), strict=False)
    return pl.when(pl.col(column).str.contains(_MONEY)).then((exact * MONEY_SCALE).cast(MONEY_INT))


def money_checks(column: str, shown: str, parsed: str, *, negative_ok: pl.Expr | bool = False) -> list[Check]:
    """The rules of a money column whose :func:`money` is in ``parsed``: a plain number with at most
    4 decimals and 14 digits before the point, and not negative unless ``negative_ok``."""
    checks = [Check(shown, pl.col(column).is_not_null() & pl.col(parsed).is_null(),
                    lambda r: _money_problem(r[column]))]
    if negative_ok is not True:
        allowed = pl.lit(False) if negative_ok is False else negative_ok
        checks.append(Check(shown, (pl.col(parsed) < 0) & ~allowed,
                            lambda r: f"{show(r[column])} is negative; write amounts as positive numbers"))
    return checks


def _money_problem(text: str) -> str:
    """What is wrong with a cell :func:`money` could not read."""
    if not re.fullmatch(_NUMBER, text):
        return (f"{show(text)} is not a number (write it like 1234.50, without currency signs or thousands "
                "separators)")
    if "." in text and len(text.split(".", 1)[1]) > 4:
        return f"{show(text)} has more than 4 decimals"
    return f"{show(text)} is too large for the warehouse (at most 14 digits before the point)"


def whole_number(column: str) -> pl.Expr:
    """A whole-number cell (at most 9 digits) as Int64, else null."""
    ok = pl.col(column).str.contains(_WHOLE)
    return pl.when(ok).then(pl.col(column).str.replace(r"^\+", "").cast(pl.Int64, strict=False))


def whole_number_check(column: str, shown: str, parsed: str) -> Check:
    """The rule of a whole-number column whose :func:`whole_number` is in ``parsed``."""
    return Check(
        shown, pl.col(column).is_not_null() & pl.col(parsed).is_null(),
        lambda r: (f"{show(r[column])} is too large for a quantity" if str(r[column]).strip("+-").isdigit()
                   else f"{show(r[column])} is not a whole number"),
    )


def as_decimal(value: pl.Expr) -> pl.Expr:
    """Ten-thousandths as exact DECIMAL(18,4)."""
    return (value.cast(pl.Decimal(38, 4)) / MONEY_SCALE).cast(pl.Decimal(18, 4))


def format_money(units: int) -> str:
    """Ten-thousandths as a plain decimal string (2 decimals unless more are needed)."""
    sign = "-" if units < 0 else ""
    whole, frac = divmod(abs(int(units)), MONEY_SCALE)
    frac_text = f"{frac:04d}".rstrip("0").ljust(2, "0")
    return f"{sign}{whole}.{frac_text}"


def minor_unit(currency: str) -> int:
    """The currency's smallest amount in ten-thousandths (100 for cents)."""
    return 10 ** (4 - minor_unit_digits(currency))


def allocate(amount: pl.Expr, weight: pl.Expr, group: str | list[str], step: pl.Expr | int) -> pl.Expr:
    """Split ``amount`` (the same on every row of ``group``) over its rows in proportion to ``weight``.

    Running totals are rounded half up to ``step`` and differenced, so the
    shares are whole steps (except the last share, which takes any
    remainder) and add up to ``amount`` exactly. Rows keep their frame order.
    Where the group's weights add up to 0 the whole amount goes to its last row.
    """
    amount = amount.cast(MONEY_INT)
    weight = weight.cast(MONEY_INT)
    running = weight.cum_sum().over(group)
    total = weight.sum().over(group)
    is_last = pl.int_range(pl.len()).over(group) == pl.len().over(group) - 1
    step = pl.lit(step, dtype=MONEY_INT) if isinstance(step, int) else step.cast(MONEY_INT)
    rounded = ((amount * running * 2 + total * step) // (total * step * 2)) * step
    cumulative = pl.when(is_last).then(amount).when(total == 0).then(0).otherwise(rounded)
    return cumulative - cumulative.shift(1, fill_value=0).over(group)


# -- timestamps ------------------------------------------------------------------
def with_timestamp(frame: pl.DataFrame, column: str, timezone: str, name: str) -> pl.DataFrame:
    """``frame`` with ``name``: the ISO 8601 cell ``column`` as an instant in UTC.

    A cell with an offset (``Z``, ``+01:00``, ``-0500``) is that instant; one
    without is a wall-clock time in ``timezone``, converted with the zone's
    rules (DST included). A time that occurs twice when clocks go back is
    read as the first. ``name`` is null where the cell is empty, unreadable,
    or a wall-clock time that never occurs (clocks going forward); the column
    ``<name>__read`` tells the last two apart (true: the cell was readable).

    The usual shapes (``2026-03-01T14:05:00``, ``2026-03-01 14:05:00``, and
    Shopify's ``2026-03-01 14:05:00 -0500``) are parsed directly; only other
    cells go through the general pattern.
    """
    raw = pl.col(column)
    wall = f"{name}__wall"
    frame = frame.with_columns(
        pl.coalesce(raw.str.strptime(pl.Datetime("us"), "%Y-%m-%dT%H:%M:%S", strict=False),
                    raw.str.strptime(pl.Datetime("us"), "%Y-%m-%d %H:%M:%S", strict=False)).alias(wall),
        raw.str.strptime(pl.Datetime("us"), "%Y-%m-%d %H:%M:%S %z", strict=False).cast(TIMESTAMP).alias(name),
    )
    rest = frame.filter(raw.is_not_null() & pl.col(wall).is_null() & pl.col(name).is_null())
    if rest.height:
        rest = rest.select(ROW, *_general_timestamp(column, wall, name))
        frame = frame.join(rest, on=ROW, how="left", suffix="__general", maintain_order="left").with_columns(
            pl.coalesce(wall, f"{wall}__general").alias(wall), pl.coalesce(name, f"{name}__general").alias(name),
        ).drop(f"{wall}__general", f"{name}__general")
    zoned = pl.col(wall).dt.replace_time_zone(timezone, ambiguous="earliest", non_existent="null")
    return frame.with_columns(
        pl.coalesce(name, zoned.dt.convert_time_zone("UTC")).alias(name),
        (pl.col(name).is_not_null() | pl.col(wall).is_not_null()).alias(f"{name}__read"),
    ).drop(wall)


def _general_timestamp(column: str, wall: str, name: str) -> tuple[pl.Expr, pl.Expr]:
    """(wall-clock time of a cell without offset, instant of a cell with one) by the full ISO 8601 pattern."""
    parts = pl.col(column).str.extract_groups(_ISO)
    date, hh, mm, ss, frac, offset = (parts.struct.field(str(i)) for i in range(1, 7))
    text = pl.concat_str([date, pl.lit(" "), hh.fill_null("00"), pl.lit(":"), mm.fill_null("00"), pl.lit(":"),
                          ss.fill_null("00")])
    micros = frac.str.pad_end(9, "0").str.slice(0, 6).cast(pl.Int64, strict=False).fill_null(0)
    read = text.str.strptime(pl.Datetime("us"), "%Y-%m-%d %H:%M:%S", strict=False) + pl.duration(
        microseconds=micros)
    sign = pl.when(offset.str.starts_with("-")).then(-1).otherwise(1)
    digits = offset.str.replace_all(r"[^0-9]", "")
    offset_seconds = sign * (
        digits.str.slice(0, 2).cast(pl.Int64, strict=False).fill_null(0) * 3600
        + digits.str.slice(2, 2).str.replace(r"^$", "0").cast(pl.Int64, strict=False).fill_null(0) * 60
    )
    instant = read.dt.replace_time_zone("UTC") - pl.duration(seconds=offset_seconds)
    return (pl.when(offset.is_null()).then(read).alias(wall),
            pl.when(offset.is_not_null()).then(instant).cast(TIMESTAMP).alias(name))


def timestamp_checks(column: str, shown: str, timezone: str, name: str) -> list[Check]:
    """The rules of a timestamp column read by :func:`with_timestamp` into ``name``."""
    raw = pl.col(column)
    return [
        Check(shown, raw.is_not_null() & ~pl.col(f"{name}__read"),
              lambda r: f"{show(r[column])} is not an ISO 8601 date and time "
                        "(for example 2026-03-01T14:05:00 or 2026-03-01 14:05:00+01:00)"),
        Check(shown, pl.col(f"{name}__read") & pl.col(name).is_null(),
              lambda r: f"{show(r[column])} never happened in {timezone}: the clocks moved forward over that "
                        "time; give the offset (for example +01:00) or a time that exists"),
    ]


# -- codes and names -------------------------------------------------------------
def lower_words(column: str) -> pl.Expr:
    """Lower case with runs of spaces and dashes as one underscore ("Partially refunded" -> partially_refunded)."""
    return pl.col(column).str.to_lowercase().str.replace_all(r"[\s\-]+", "_")


def choice_check(column: str, shown: str, allowed: Sequence[str], normalized: pl.Expr) -> Check:
    return Check(
        shown, pl.col(column).is_not_null() & ~normalized.is_in(list(allowed)),
        lambda r: f"{show(r[column])} is not one of {', '.join(allowed)}",
    )


def channel(column: str) -> pl.Expr:
    """The normalized channel of a raw channel or source name (empty: the online store)."""
    named = lower_words(column).replace_strict(CHANNELS, default="other", return_dtype=pl.String)
    return pl.when(pl.col(column).is_null()).then(pl.lit(DEFAULT_CHANNEL)).otherwise(named)


def currency_checks(column: str, shown: str, store_currency: str) -> list[Check]:
    code = pl.col(column).str.to_uppercase()
    return [
        Check(shown, pl.col(column).is_not_null() & ~code.str.contains(r"^[A-Z]{3}$"),
              lambda r: f"{show(r[column])} is not an ISO 4217 currency code (like USD or EUR)"),
        Check(shown, pl.col(column).is_not_null() & code.str.contains(r"^[A-Z]{3}$") & (code != store_currency),
              lambda r: f"{show(r[column])} is not the store's currency {store_currency}: a store holds one "
                        "currency; import other currencies into a store of their own (--store)"),
    ]


def email_check(column: str, shown: str) -> Check:
    return Check(shown, pl.col(column).is_not_null() & ~pl.col(column).str.contains(_EMAIL),
                 lambda r: f"{show(r[column])} is not an email address")


def email_hashes(frame: pl.DataFrame, column: str) -> pl.DataFrame:
    """``frame`` with ``email_hash``: sha256 hex of the lower-cased, trimmed address (null when absent).

    Hashes are worked out once per distinct address, and the raw address
    column is dropped: only the hash goes further.
    """
    normalized = pl.col(column).str.strip_chars().str.to_lowercase()
    frame = frame.with_columns(normalized.alias(column))
    addresses = frame.get_column(column).drop_nulls().unique()
    table = pl.DataFrame(
        {
            column: addresses,
            "email_hash": [hashlib.sha256(a.encode("utf-8")).hexdigest() for a in addresses.to_list()],
        },
        schema={column: pl.String, "email_hash": pl.String},
    )
    return frame.join(table, on=column, how="left", maintain_order="left").drop(column)


def country_code(column: str) -> pl.Expr:
    """Two-letter codes upper-cased; anything else kept as written."""
    raw = pl.col(column)
    return pl.when(raw.str.len_chars() == 2).then(raw.str.to_uppercase()).otherwise(raw)
