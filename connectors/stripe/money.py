"""Stripe amounts: integers in the currency's minor unit, turned into exact decimals.

Stripe sends ``amount: 1050, currency: "usd"`` for $10.50, ``500, "jpy"`` for
¥500 (the yen has no minor unit) and ``1234, "kwd"`` for 1.234 KWD (three
decimals). The lists below are Stripe's own.
"""

from __future__ import annotations

from decimal import Decimal

ZERO_DECIMAL = frozenset("BIF CLP DJF GNF JPY KMF KRW MGA PYG RWF UGX VND VUV XAF XOF XPF".split())
THREE_DECIMAL = frozenset("BHD JOD KWD OMR TND".split())


def currency_code(currency: str | None) -> str | None:
    """ISO 4217 in upper case (Stripe writes ``usd``)."""
    return currency.upper() if currency else None


def minor_unit_exponent(currency: str) -> int:
    """Digits after the decimal point of ``currency``'s minor unit: 0, 2 or 3."""
    code = currency.upper()
    if code in ZERO_DECIMAL:
        return 0
    if code in THREE_DECIMAL:
        return 3
    return 2


def from_minor_units(amount: int | None, currency: str | None) -> Decimal | None:
    """``1050, "usd"`` → ``Decimal("10.50")``; ``500, "jpy"`` → ``Decimal("500")``; exact."""
    if amount is None or currency is None:
        return None
    exponent = minor_unit_exponent(currency)
    return Decimal(int(amount)).scaleb(-exponent) if exponent else Decimal(int(amount))
