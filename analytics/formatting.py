"""How figures are written for people: money in the store's currency with its
symbol and minor unit, counts with thousands separators, percentages with one
decimal. Rounding happens here only, never in stored or computed figures."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal

from data.currencies import minor_unit_digits

SYMBOLS = {
    "USD": "$", "CAD": "CA$", "AUD": "A$", "NZD": "NZ$", "EUR": "€", "GBP": "£", "JPY": "¥", "CNY": "CN¥",
    "INR": "₹", "KRW": "₩", "BRL": "R$", "MXN": "MX$", "CHF": "CHF ", "SEK": "SEK ", "NOK": "NOK ",
    "DKK": "DKK ", "PLN": "PLN ", "KWD": "KWD ", "BHD": "BHD ",
}


MINUS = "\u2212"


def minor_unit(currency: str) -> int:
    """Decimals shown for ``currency``: its ISO 4217 minor unit (data/currencies.py)."""
    return minor_unit_digits(currency)


def format_money(amount: Decimal | int | float | None, currency: str) -> str:
    """``$1,234.50``, ``¥1,235``, ``KWD 1.234``; negative amounts as ``−$5.00`` (a minus sign, U+2212,
    before the symbol, as in print)."""
    if amount is None:
        return "–"
    value = amount if isinstance(amount, Decimal) else Decimal(str(amount))
    places = minor_unit(currency)
    value = value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN)
    sign = MINUS if value < 0 else ""
    symbol = SYMBOLS.get(currency.upper(), currency.upper() + " ")
    return f"{sign}{symbol}{abs(value):,.{places}f}"


def format_count(value: int | None) -> str:
    return "–" if value is None else f"{int(value):,}"


def format_percent(ratio: Decimal | float | None, *, signed: bool = False) -> str:
    """A ratio (0.123) as ``12.3%``; ``+12.3%`` with ``signed``."""
    if ratio is None:
        return "–"
    pct = Decimal(str(ratio)) * 100
    text = f"{pct:+.1f}%" if signed else f"{pct:.1f}%"
    return text
