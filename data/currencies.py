"""Currency minor units: ISO 4217's table, the one every import and display reads.

A currency's minor unit is how many digits follow the decimal point in its
everyday amounts: 2 for most (cents), 0 for the yen, the króna or the
Uruguayan peso in indexed units (UYI), 3 for the Gulf and North African dinars
(BHD, IQD, JOD, KWD, LYD, OMR, TND), 4 for the Chilean and Uruguayan units of
account (CLF, UYW). Only the exceptions to 2 are listed; metals, funds and
codes without a minor unit (XAU, XDR, …) are read as 2. Stored money keeps 4
decimals whatever the currency; this table says where amounts are rounded
(an import's split of a discount, the figures people read).

Platforms may write amounts on the wire with another exponent (Stripe keeps
ISK at two decimals for compatibility): their connectors say so beside their
own conversion (:mod:`connectors.stripe.money`).
"""

from __future__ import annotations

from decimal import Decimal

# ISO 4217 (list one, as published by the maintenance agency), minor units other than 2.
ISO_MINOR_UNITS: dict[str, int] = {
    **dict.fromkeys("BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF".split(), 0),
    **dict.fromkeys("BHD IQD JOD KWD LYD OMR TND".split(), 3),
    **dict.fromkeys("CLF UYW".split(), 4),
}


def minor_unit_digits(currency: str | None) -> int:
    """Digits after the decimal point of ``currency``'s minor unit (ISO 4217; 2 when unlisted)."""
    return ISO_MINOR_UNITS.get((currency or "").strip().upper(), 2)


def smallest_amount(currency: str | None) -> Decimal:
    """The currency's minor unit as an amount: ``0.01`` USD, ``1`` JPY, ``0.001`` KWD."""
    return Decimal(1).scaleb(-minor_unit_digits(currency))
