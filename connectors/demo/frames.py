"""Warehouse frames of the demo store's catalogue and sales (ids, labels, Decimal money, UTC times)."""

from __future__ import annotations

import numpy as np
import polars as pl

from connectors.demo.catalogue import Catalogue
from connectors.demo.clock import TIMEZONE, US_PER_DAY, US_PER_HOUR, StoreClock
from connectors.demo.customers import CHANNELS, COUNTRIES
from connectors.demo.money import (
    MINOR_UNITS,
    decimal_from_minor,
    nullable_timestamps,
    pick,
    pick_or_null,
    prefixed_ids,
    repeated,
    timestamps,
)
from connectors.demo.orders import SOURCE_NAMES
from connectors.demo.payments import KINDS, PROVIDERS
from connectors.demo.pricing import DISCOUNT_CODES
from connectors.demo.refunds import REFUND_NOTES

STORE_NAME = "Harbor & Pine Supply Co."
FINANCIAL = ("paid", "voided", "refunded", "pending", "authorized", "partially_refunded")
FULFILLMENT = ("unfulfilled", "partial", "fulfilled", "restocked")


def constant(value: str, n: int, name: str) -> pl.Series:
    return repeated(value, n, name)


def store_frame(store_id: str, created_us: int, *, currency: str = "USD", timezone: str = TIMEZONE) -> pl.DataFrame:
    name = STORE_NAME if store_id == "demo" else f"{STORE_NAME} ({store_id})"
    return pl.DataFrame([
        pl.Series("store_id", [store_id]), pl.Series("platform", ["demo"]), pl.Series("name", [name]),
        pl.Series("currency", [currency]), pl.Series("timezone", [timezone]), timestamps(np.array([created_us]),
                                                                                          "created_at"),
    ])


def catalogue_frames(rng: np.random.Generator, store_id: str, cat: Catalogue, clock: StoreClock
                     ) -> tuple[pl.DataFrame, pl.DataFrame]:
    n_p, n_v = cat.n_products, cat.n_variants
    created = clock.day_start_us[0] + cat.product_created_day * US_PER_DAY + 10 * US_PER_HOUR
    updated = np.minimum(created + (rng.uniform(0, 400, n_p) * US_PER_DAY).astype(np.int64),
                         clock.cutoff_us - US_PER_HOUR)
    updated = np.maximum(updated, created)
    products = pl.DataFrame([
        constant(store_id, n_p, "store_id"),
        prefixed_ids("p", np.arange(1, n_p + 1), "product_id"),
        pl.Series("title", cat.product_title, dtype=pl.String),
        pl.Series("product_type", cat.product_type, dtype=pl.String),
        pl.Series("vendor", cat.product_vendor, dtype=pl.String),
        pl.Series("status", cat.product_status, dtype=pl.String),
        timestamps((created // 1_000_000) * 1_000_000, "created_at"),
        timestamps((updated // 1_000_000) * 1_000_000, "updated_at"),
    ])
    variants = pl.DataFrame([
        constant(store_id, n_v, "store_id"),
        prefixed_ids("v", np.arange(1, n_v + 1), "variant_id"),
        prefixed_ids("p", cat.variant_product + 1, "product_id"),
        pl.Series("sku", cat.variant_sku, dtype=pl.String),
        pl.Series("title", cat.variant_title, dtype=pl.String),
        decimal_from_minor(cat.price_cents, 2, "price"),
        decimal_from_minor(cat.cost_cents, 2, "unit_cost"),
        timestamps(((updated[cat.variant_product]) // 1_000_000) * 1_000_000, "updated_at"),
    ])
    return products, variants


def line_titles(cat: Catalogue) -> pl.Series:
    return pl.Series("title", [
        cat.product_title[p] if vt == "Default Title" else f"{cat.product_title[p]} - {vt}"
        for p, vt in zip(cat.variant_product.tolist(), cat.variant_title)
    ], dtype=pl.String)


def customer_ids(customer_numbers: np.ndarray) -> pl.Series:
    """``c<n>`` for each customer number, null where the number is 0 (no customer)."""
    ids = prefixed_ids("c", np.maximum(customer_numbers, 0), "customer_id")
    return pl.select(pl.when(pl.Series(customer_numbers > 0)).then(ids).otherwise(None)
                     .alias("customer_id")).to_series()


def orders_frame(store_id: str, numbers: np.ndarray, customers: pl.Series, time_us: np.ndarray,
                 updated_us: np.ndarray, cancel_us: np.ndarray, presentment: list[str], financial: np.ndarray,
                 fulfillment: np.ndarray, channel: np.ndarray, source: np.ndarray, country: np.ndarray, money,
                 presentment_total: pl.Series, code: np.ndarray, is_test: np.ndarray) -> pl.DataFrame:
    n = len(numbers)
    codes = pick_or_null([c for c, _ in DISCOUNT_CODES], code, "discount_codes")
    return pl.DataFrame([
        constant(store_id, n, "store_id"),
        prefixed_ids("o", numbers, "order_id"),
        pl.Series("order_number", numbers).cast(pl.String),
        customers.alias("customer_id"),
        timestamps(time_us, "created_at"),
        timestamps(time_us, "processed_at"),
        timestamps(updated_us, "updated_at"),
        nullable_timestamps(cancel_us, "cancelled_at"),
        constant("USD", n, "currency"),
        pl.Series("presentment_currency", presentment, dtype=pl.String),
        pick(FINANCIAL, financial, "financial_status"),
        pick(FULFILLMENT, fulfillment, "fulfillment_status"),
        pick(CHANNELS, channel, "channel"),
        pick(SOURCE_NAMES, source, "source_name"),
        pick(COUNTRIES, country, "country"),
        decimal_from_minor(money.subtotal, 2, "subtotal"),
        decimal_from_minor(money.total_discounts, 2, "total_discounts"),
        decimal_from_minor(money.shipping, 2, "total_shipping"),
        decimal_from_minor(money.total_tax, 2, "total_tax"),
        decimal_from_minor(money.duties, 2, "total_duties"),
        decimal_from_minor(money.total_price, 2, "total_price"),
        presentment_total.alias("presentment_total_price"),
        codes,
        pl.Series("is_test", np.asarray(is_test, dtype=bool)),
    ])


def presentment_decimal(minor: np.ndarray, currency: np.ndarray, currencies: list[str]) -> pl.Series:
    """Presentment amounts in each order's own minor unit, as Decimal(18, 4)."""
    exponent = np.array([MINOR_UNITS[c] for c in currencies])[currency]
    e4 = minor * 10 ** (4 - exponent)
    return decimal_from_minor(e4, 4, "presentment_total_price")


def lines_frame(store_id: str, order_numbers: np.ndarray, line_seq: np.ndarray, line_order: np.ndarray,
                variant: np.ndarray, qty: np.ndarray, cat: Catalogue, titles: pl.Series, money) -> pl.DataFrame:
    n = len(line_order)
    return pl.DataFrame([
        constant(store_id, n, "store_id"),
        prefixed_ids("o", order_numbers[line_order], "line_id", line_seq),
        prefixed_ids("o", order_numbers[line_order], "order_id"),
        pick([f"p{p + 1}" for p in range(cat.n_products)], cat.variant_product[variant], "product_id"),
        pick([f"v{v + 1}" for v in range(cat.n_variants)], variant, "variant_id"),
        pick(cat.variant_sku, variant, "sku"),
        pick(titles.to_list(), variant, "title"),
        pl.Series("quantity", qty.astype(np.int32)),
        decimal_from_minor(cat.price_cents[variant], 2, "unit_price"),
        decimal_from_minor(money.line_discount, 2, "discount"),
        decimal_from_minor(money.line_tax, 2, "tax"),
        pl.Series("is_gift_card", cat.is_gift_card[variant]),
    ])


def refund_frames(store_id: str, order_numbers: np.ndarray, refund_us: np.ndarray, line_seq: np.ndarray,
                  line_order: np.ndarray, rm) -> tuple[pl.DataFrame, pl.DataFrame]:
    n = len(rm.order)
    refund_numbers = order_numbers[rm.order]
    refunds = pl.DataFrame([
        constant(store_id, n, "store_id"),
        prefixed_ids("o", refund_numbers, "refund_id", np.ones(n, dtype=np.int64), sep="-r"),
        prefixed_ids("o", refund_numbers, "order_id"),
        timestamps(refund_us[rm.order], "created_at"),
        decimal_from_minor(rm.shipping_refunded, 2, "shipping_refunded"),
        decimal_from_minor(rm.tax_refunded, 2, "tax_refunded"),
        decimal_from_minor(rm.total_refunded, 2, "total_refunded"),
        pick(REFUND_NOTES, rm.note, "note"),
    ])
    m = len(rm.line)
    line_numbers = order_numbers[line_order[rm.line]]
    refund_lines = pl.DataFrame([
        constant(store_id, m, "store_id"),
        prefixed_ids("o", line_numbers, "refund_id", np.ones(m, dtype=np.int64), sep="-r"),
        prefixed_ids("o", line_numbers, "line_id", line_seq[rm.line]),
        pl.Series("quantity", rm.line_qty.astype(np.int32)),
        decimal_from_minor(rm.line_subtotal, 2, "subtotal"),
        decimal_from_minor(rm.line_tax, 2, "tax"),
        pl.Series("restock", rm.line_restock.astype(bool)),
    ])
    return refunds, refund_lines


def transactions_frame(store_id: str, order_numbers: np.ndarray, tx: dict, refund_order: np.ndarray,
                       refund_us: np.ndarray, refund_total: np.ndarray, provider: np.ndarray) -> pl.DataFrame:
    n_o, n_r = len(tx["order"]), len(refund_order)
    ids = pl.concat([
        prefixed_ids("o", order_numbers[tx["order"]], "transaction_id", tx["seq"], sep="-t"),
        prefixed_ids("o", order_numbers[refund_order], "transaction_id", np.ones(n_r, dtype=np.int64),
                     sep="-r1-t"),
    ])
    orders = np.concatenate([tx["order"], refund_order]).astype(np.int64)
    kind = np.concatenate([tx["kind"], np.full(n_r, KINDS.index("refund"))])
    amount = np.concatenate([tx["amount"], refund_total])
    fee = np.concatenate([tx["fee"], np.zeros(n_r, dtype=np.int64)])
    net = np.concatenate([tx["net"], -refund_total])
    when = np.concatenate([tx["time_us"], refund_us[refund_order]])
    prov = np.concatenate([tx["provider"], provider[refund_order]])
    return pl.DataFrame([
        constant(store_id, n_o + n_r, "store_id"),
        ids,
        prefixed_ids("o", order_numbers[orders], "order_id"),
        pick(PROVIDERS, prov, "provider"),
        pick(KINDS, kind, "kind"),
        constant("success", n_o + n_r, "status"),
        decimal_from_minor(amount, 2, "amount"),
        decimal_from_minor(fee, 2, "fee"),
        decimal_from_minor(net, 2, "net"),
        constant("USD", n_o + n_r, "currency"),
        timestamps(when, "created_at"),
    ])
