"""Payment transactions and exchange rates for the demo store.

Transactions follow Shopify's model, in the shop currency: a ``sale`` for a
paid order (an ``authorization`` while it is only authorized, an
``authorization`` then a ``void`` when it was voided before payment) and a
``refund`` per refund. Amounts are positive; ``fee`` is the processor's
(Shopify Payments 2.9 % + 0.30 online, 2.7 % in store; PayPal 3.49 % + 0.49);
``net`` is the effect on the merchant's balance: amount − fee for a sale,
−amount for a refund, 0 for authorizations and voids. Test orders use the
``bogus`` gateway and pay no fee.

Exchange rates are a mild daily random walk per currency, quoted as units of
the currency per 1 USD (``base_currency`` USD): presentment money = shop
money × rate, rounded to the currency's minor unit.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from connectors.demo.customers import POS
from connectors.demo.money import MINOR_UNITS, rate_series, round_div
from connectors.demo.orders import AUTHORIZED, CANCELLED, PAID, VOIDED

PROVIDERS = ("shopify_payments", "paypal", "bogus")
# Currencies orders are presented in (the shop's first).
PRESENTMENT = ("USD", "CAD", "GBP", "EUR", "AUD", "JPY")
KINDS = ("sale", "authorization", "void", "refund")
SALE, AUTHORIZATION, VOID, REFUND = range(4)
# Start of the history: units per USD, held in 1e-8.
FX_START = {"CAD": 1.36, "GBP": 0.79, "EUR": 0.92, "AUD": 1.52, "JPY": 149.5}
FX_DAILY_VOL = 0.004


def fee_cents(amount: np.ndarray, provider: np.ndarray, in_store: np.ndarray) -> np.ndarray:
    percent = np.select([provider == 1, in_store], [3_490, 2_700], 2_900)  # 1e-5
    fixed = np.select([provider == 1, in_store], [49, 0], 30)
    fee = round_div(amount * percent, 100_000) + fixed
    return np.where(provider == 2, 0, fee)


def order_transactions(status: np.ndarray, time_us: np.ndarray, cancel_us: np.ndarray, total: np.ndarray,
                       provider: np.ndarray, channel: np.ndarray) -> dict[str, np.ndarray]:
    """Transactions of the orders: (order index, sequence number, kind, time, amount, fee, net, provider)."""
    sale = (status == PAID) | (status == CANCELLED)
    auth = (status == AUTHORIZED) | (status == VOIDED)
    void = status == VOIDED
    idx = [np.flatnonzero(sale), np.flatnonzero(auth), np.flatnonzero(void)]
    kinds = [np.full(len(i), k) for i, k in zip(idx, (SALE, AUTHORIZATION, VOID))]
    seq = [np.ones(len(idx[0])), np.ones(len(idx[1])), np.full(len(idx[2]), 2)]
    times = [time_us[idx[0]] + 2_000_000, time_us[idx[1]] + 2_000_000, cancel_us[idx[2]]]
    order = np.concatenate(idx).astype(np.int64)
    kind = np.concatenate(kinds).astype(np.int64)
    amount = total[order]
    prov = provider[order]
    fee = np.where(kind == SALE, fee_cents(amount, prov, channel[order] == POS), 0)
    net = np.where(kind == SALE, amount - fee, 0)
    return {"order": order, "seq": np.concatenate(seq).astype(np.int64), "kind": kind,
            "time_us": np.concatenate(times).astype(np.int64), "amount": amount, "fee": fee, "net": net,
            "provider": prov}


def fx_walk(rng: np.random.Generator, n_days: int) -> dict[str, np.ndarray]:
    """Daily rates per currency (units per USD) in 1e-8, a random walk around the start."""
    out = {}
    for currency, start in FX_START.items():
        steps = rng.normal(0.0, FX_DAILY_VOL, n_days)
        steps[0] = 0.0
        log_rate = np.log(start) + np.cumsum(steps) - 0.02 * np.cumsum(steps).mean()
        digits = 10 ** 4 if currency == "JPY" else 10 ** 6  # 149.5231 JPY, 0.791234 GBP
        out[currency] = (np.round(np.exp(log_rate) * digits).astype(np.int64) * (10 ** 8 // digits))
    return out


def fx_frame(days: np.ndarray, rates: dict[str, np.ndarray]) -> pl.DataFrame:
    from connectors.demo.money import dates

    frames = []
    for currency, values in rates.items():
        frames.append(pl.DataFrame([
            dates(days, "rate_date"),
            pl.Series("base_currency", ["USD"] * len(days), dtype=pl.String),
            pl.Series("quote_currency", [currency] * len(days), dtype=pl.String),
            rate_series(values, "rate"),
        ]))
    return pl.concat(frames)


def presentment_minor(total_cents: np.ndarray, rate_e8: np.ndarray, currency: str) -> np.ndarray:
    """Shop money in cents × rate, rounded half up to the presentment currency's minor unit."""
    exponent = MINOR_UNITS[currency]
    denominator = 10 ** 8 * 10 ** (2 - exponent)
    return round_div(total_cents.astype(np.int64) * rate_e8.astype(np.int64), denominator)
