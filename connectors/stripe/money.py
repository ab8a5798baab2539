"""Stripe amounts: integers in the currency's minor unit, turned into exact decimals.

Stripe sends ``amount: 1050, currency: "usd"`` for $10.50, ``500, "jpy"`` for
¥500 (the yen has no minor unit) and ``1234, "kwd"`` for 1.234 KWD (three
decimals). The exponent is ISO 4217's (:mod:`data.currencies`, the table the
import and the display read) except where Stripe's API keeps another
(``STRIPE_EXPONENTS``, from Stripe's currency guide): the Icelandic króna
has no minor unit but Stripe still writes it with two decimals (``100`` is
1 ISK), and Stripe writes the Malagasy ariary without decimals although ISO
gives it two.
"""

from __future__ import annotations

from decimal import Decimal

from data.currencies import minor_unit_digits

STRIPE_EXPONENTS = {"ISK": 2, "MGA": 0}


def currency_code(currency: str | None) -> str | None:
    """ISO 4217 in upper case (Stripe writes ``usd``)."""
    return currency.upper() if currency else None


def minor_unit_exponent(currency: str) -> int:
    """Digits after the decimal point of ``currency``'s amounts in Stripe's API."""
    code = currency.upper()
    return STRIPE_EXPONENTS.get(code, minor_unit_digits(code))


def from_minor_units(amount: int | None, currency: str | None) -> Decimal | None:
    """``1050, "usd"`` → ``Decimal("10.50")``; ``500, "jpy"`` → ``Decimal("500")``; exact."""
    if amount is None or currency is None:
        return None
    exponent = minor_unit_exponent(currency)
    return Decimal(int(amount)).scaleb(-exponent) if exponent else Decimal(int(amount))
