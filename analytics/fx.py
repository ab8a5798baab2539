"""Money in another currency: the one conversion every figure uses (METRICS.md, "Currencies").

Rates are the ECB's euro reference rates in ``fx_rates`` (``base_currency``
EUR, ``rate`` = units of the quote currency per euro; loaded by
``python -m connectors fx``). An amount of a store-local day converts at the
last rate the ECB published on or before that day: a weekend or holiday
keeps the previous working day's rate, and days after the newest stored rate
keep that one (:attr:`Rates.newest` says which day it is, so a page can say
when the rates are old). Between two currencies that are not the euro the
cross rate goes through the euro:

    amount in B = amount in A × (B per EUR) ÷ (A per EUR)

computed with 50 significant digits and kept at :data:`PLACES` (10 decimal
places), so the only rounding that shows is the one to the currency's minor
unit when the figure is displayed: a converted total is exact to the cent
after rounding once. Nothing is ever added across currencies without this
conversion; a currency without any rate on or before a day raises
:class:`MissingRate` (one sentence), never a silent zero.
"""

from __future__ import annotations

import bisect
import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal, localcontext
from typing import Any, Iterable, Mapping

from data.warehouse import Warehouse

BASE = "EUR"
PLACES = Decimal("1e-10")
PRECISION = 50
SOURCE_NOTE = "converted to {currency} at ECB rates of each day"


class MissingRate(ValueError):
    """No ECB rate for a currency on or before a day; the message is one sentence for the user."""


@dataclass
class Rates:
    """The EUR rates of some currencies over some days, looked up as of a day."""

    days: dict[str, list[dt.date]] = field(default_factory=dict)
    values: dict[str, list[Decimal]] = field(default_factory=dict)

    def rate(self, currency: str, day: dt.date) -> Decimal:
        """Units of ``currency`` per euro on ``day`` (the last published rate on or before it)."""
        currency = currency.upper()
        if currency == BASE:
            return Decimal(1)
        days = self.days.get(currency) or []
        at = bisect.bisect_right(days, day) - 1
        if at < 0:
            raise MissingRate(
                f"There is no ECB exchange rate for {currency} on or before {day:%d %B %Y}, so its money "
                "cannot be converted (python -m connectors fx loads the rates)."
            )
        return self.values[currency][at]

    @property
    def newest(self) -> dt.date | None:
        """The newest rate date among the currencies held (None when only the euro is involved)."""
        last = [days[-1] for days in self.days.values() if days]
        return min(last) if last else None


def load_rates(wh: Warehouse, currencies: Iterable[str], start: dt.date, end: dt.date) -> Rates:
    """The rates of ``currencies`` that days ``start``–``end`` convert at (the one before ``start`` included)."""
    wanted = sorted({c.upper() for c in currencies if c and c.upper() != BASE})
    rates = Rates()
    if not wanted:
        return rates
    names = {f"c{i}": c for i, c in enumerate(wanted)}
    rows = wh.rows(
        "SELECT f.quote_currency, f.rate_date, f.rate FROM fx_rates f "
        f"WHERE f.base_currency = :base AND f.quote_currency IN ({', '.join(':' + n for n in names)}) "
        "AND f.rate_date <= :end AND f.rate_date >= COALESCE((SELECT MAX(g.rate_date) FROM fx_rates g "
        "WHERE g.base_currency = :base AND g.quote_currency = f.quote_currency AND g.rate_date <= :start), :start) "
        "ORDER BY f.quote_currency, f.rate_date",
        {"base": BASE, "start": start, "end": end, **names},
    )
    for currency, day, rate in rows:
        day = day.date() if isinstance(day, dt.datetime) else day
        rates.days.setdefault(currency, []).append(day)
        rates.values.setdefault(currency, []).append(Decimal(rate))
    return rates


def convert(amount: Any, from_currency: str, to_currency: str, day: dt.date, rates: Rates) -> Decimal:
    """``amount`` of ``from_currency`` on store-local ``day`` in ``to_currency``, at :data:`PLACES`."""
    value = Decimal(0 if amount is None else amount)
    if from_currency.upper() == to_currency.upper():
        return value
    with localcontext() as context:
        context.prec = PRECISION
        converted = value * rates.rate(to_currency, day) / rates.rate(from_currency, day)
        return converted.quantize(PLACES)


def convert_days(
    per_day: Mapping[dt.date, Mapping[str, Any]],
    money: Iterable[str],
    from_currency: str,
    to_currency: str,
    rates: Rates,
) -> dict[dt.date, dict[str, Any]]:
    """Each day's sums with the ``money`` fields converted at that day's rate (other fields unchanged)."""
    money = set(money)
    return {
        day: {name: convert(value, from_currency, to_currency, day, rates) if name in money else value
              for name, value in sums.items()}
        for day, sums in per_day.items()
    }


def add_up(rows: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """Field-wise sums of several rows of sums (a missing or None field counts as 0)."""
    total: dict[str, Any] = {}
    for row in rows:
        for name, value in row.items():
            if value is not None:
                total[name] = total.get(name, 0) + value
    return total


def conversion_note(currency: str) -> str:
    """What a converted figure says beside it."""
    return SOURCE_NOTE.format(currency=currency.upper())


def totals_in(
    wh: Warehouse, rows: Iterable[tuple[Any, dt.date, str | None, Any]], to_currency: str
) -> tuple[dict[Any, Decimal], int]:
    """Sums per key of ``(key, day, currency, amount)`` rows, each converted to ``to_currency`` at its day's rate.

    A row without a currency is in ``to_currency``. Rows of a currency with no rate on or before their day
    cannot be converted: they are left out of the sums and counted (the second value), never added as they are.
    """
    rows = [(key, day.date() if isinstance(day, dt.datetime) else day, (currency or to_currency).upper(), amount)
            for key, day, currency, amount in rows if amount is not None]
    to_currency = to_currency.upper()
    foreign = [row for row in rows if row[2] != to_currency]
    rates = Rates()
    if foreign:
        days = [row[1] for row in foreign]
        rates = load_rates(wh, {row[2] for row in foreign} | {to_currency}, min(days), max(days))
    totals: dict[Any, Decimal] = {}
    left_out = 0
    for key, day, currency, amount in rows:
        try:
            value = convert(amount, currency, to_currency, day, rates)
        except MissingRate:
            left_out += 1
            continue
        totals[key] = totals.get(key, Decimal(0)) + value
    return totals, left_out


def rate_currencies(wh: Warehouse) -> list[str]:
    """The currencies money can be converted to and from: the euro and every currency with an ECB rate."""
    found = [row[0] for row in wh.rows(
        "SELECT DISTINCT quote_currency FROM fx_rates WHERE base_currency = :base", {"base": BASE})]
    return sorted({BASE, *found}) if found else []


def newest_rate_date(wh: Warehouse) -> dt.date | None:
    """The newest day of ECB rates stored (None without any)."""
    value = wh.scalar("SELECT MAX(rate_date) FROM fx_rates WHERE base_currency = :base", {"base": BASE})
    return value.date() if isinstance(value, dt.datetime) else value
