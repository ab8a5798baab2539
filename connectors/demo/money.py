"""Exact money for the demo store: integer minor units in numpy, Decimal on the way out.

Every amount is generated as an ``int64`` count of cents (or of the currency's
minor unit) and converted to ``pl.Decimal(18, 4)`` only when a frame is built
for the warehouse, so no stored figure ever passes through a float.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from data.currencies import minor_unit_digits

MONEY = pl.Decimal(18, 4)
RATE = pl.Decimal(18, 8)
UTC_US = pl.Datetime("us", "UTC")

# ISO 4217 minor-unit exponent of each currency the demo presents prices in (data/currencies.py).
MINOR_UNITS = {code: minor_unit_digits(code) for code in ("USD", "CAD", "GBP", "EUR", "AUD", "JPY")}


def decimal_from_minor(values: np.ndarray | pl.Series, exponent: int = 2, name: str = "") -> pl.Series:
    """Integer minor units (cents for ``exponent=2``) as an exact ``Decimal(18, 4)`` series."""
    series = values if isinstance(values, pl.Series) else pl.Series(name, np.asarray(values, dtype=np.int64))
    series = series.cast(pl.Int64).cast(pl.Decimal(18, 4))
    if exponent:
        series = series / (10**exponent)
    return series.cast(MONEY).alias(name or series.name)


def rate_series(rate_e8: np.ndarray, name: str = "rate") -> pl.Series:
    """Exchange rates held as integers of 1e-8 as ``Decimal(18, 8)``."""
    return (pl.Series(name, np.asarray(rate_e8, dtype=np.int64)).cast(pl.Decimal(38, 8)) / 10**8).cast(RATE)


def round_div(numerator: np.ndarray, denominator: int | np.ndarray) -> np.ndarray:
    """``numerator / denominator`` rounded half up, for non-negative integers."""
    numerator = np.asarray(numerator, dtype=np.int64)
    return (numerator * 2 + denominator) // (2 * np.asarray(denominator, dtype=np.int64))


def percent_of(amount: np.ndarray, rate_e5: np.ndarray | int) -> np.ndarray:
    """``amount × rate`` rounded half up, with the rate in 1e-5 (8.875 % = 8875)."""
    return round_div(np.asarray(amount, dtype=np.int64) * np.asarray(rate_e5, dtype=np.int64), 100_000)


def timestamps(us: np.ndarray, name: str) -> pl.Series:
    """Microseconds since the epoch as tz-aware UTC datetimes."""
    return pl.Series(name, np.asarray(us, dtype=np.int64)).cast(UTC_US)


def nullable_timestamps(us: np.ndarray, name: str) -> pl.Series:
    """Like :func:`timestamps`; negative values mean "no timestamp" (null)."""
    us = np.asarray(us, dtype=np.int64)
    series = pl.Series(name, us)
    return pl.select(pl.when(series >= 0).then(series).otherwise(None).cast(UTC_US).alias(name)).to_series()


def dates(day_numbers: np.ndarray, name: str) -> pl.Series:
    """Days since 1970-01-01 as a date series."""
    return pl.Series(name, np.asarray(day_numbers, dtype=np.int32)).cast(pl.Date)


def prefixed_ids(prefix: str, numbers: np.ndarray, name: str, suffix: np.ndarray | None = None,
                 sep: str = "-") -> pl.Series:
    """``prefix + number`` (and ``sep + suffix`` when given) as a string series."""
    frame = pl.DataFrame({"n": np.asarray(numbers, dtype=np.int64)})
    parts = [pl.lit(prefix), pl.col("n").cast(pl.String)]
    if suffix is not None:
        frame = frame.with_columns(pl.Series("s", np.asarray(suffix, dtype=np.int64)))
        parts += [pl.lit(sep), pl.col("s").cast(pl.String)]
    return frame.select(pl.concat_str(parts).alias(name)).to_series()


def pick(labels: list[str] | tuple[str, ...], codes: np.ndarray, name: str) -> pl.Series:
    """Map integer codes to their labels (``-1``: the last one).

    The result is an ``Enum`` series: Arrow hands it over as a dictionary,
    which is cheap to build and to load, and the warehouse stores plain text.
    """
    table = pl.Series(name, list(labels), dtype=pl.Enum(list(dict.fromkeys(labels))))
    return table.gather(pl.Series(np.asarray(codes, dtype=np.int64))).alias(name)


def pick_or_null(labels: list[str] | tuple[str, ...], codes: np.ndarray, name: str) -> pl.Series:
    """Like :func:`pick`, with null where the code is negative."""
    codes = np.asarray(codes, dtype=np.int64)
    if len(labels) == 0:
        return pl.Series(name, [None] * len(codes), dtype=pl.String)
    values = pick(labels, np.maximum(codes, 0), name)
    return pl.select(pl.when(pl.Series(codes >= 0)).then(values).otherwise(None).alias(name)).to_series()


def repeated(value: str, n: int, name: str) -> pl.Series:
    """One value on ``n`` rows (a store id, a currency)."""
    return pick([value], np.zeros(n, dtype=np.int64), name)


def in_currency(frame: pl.DataFrame, currency: str) -> pl.DataFrame:
    """A demo frame made in US cents, as a store in ``currency``: amounts in that currency's minor units.

    The generator counts money in minor units; a store in another currency
    keeps the counts and reads them in its own minor unit (a 20.00 USD tee is
    ¥2000 in yen, 2.000 KWD in dinars), so prices stay plausible and exact.
    Every decimal column is money; every ``currency`` column says ``currency``.
    Amounts finer than 4 decimals (a 3-decimal currency's supplier costs) are
    rounded half-even to 4.
    """
    if currency == "USD":
        return frame
    shift = 2 - minor_unit_digits(currency)
    factor = 10 ** max(shift, 0)
    changed = []
    for name, dtype in frame.schema.items():
        if isinstance(dtype, pl.Decimal):
            value = pl.col(name).cast(pl.Decimal(38, 8))
            scaled = value * factor if shift >= 0 else value / (10 ** -shift)
            changed.append(scaled.round(4).cast(dtype).alias(name))
        elif name in ("currency", "presentment_currency"):
            changed.append(pl.when(pl.col(name).is_null()).then(None).otherwise(pl.lit(currency)).alias(name))
    return frame.with_columns(changed) if changed else frame
