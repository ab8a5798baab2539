"""Order money, exact in cents: discounts, shipping, taxes, duties and totals.

The identities of SCHEMA.md hold for every order by construction:

- line ``discount`` = its own automatic discount (15 % off three or more
  units) plus its share of the order's discount code, shared in proportion to
  the lines' value with the rounding cents on the largest line;
- ``subtotal`` = Σ unit_price × quantity − Σ line discounts;
- ``total_discounts`` = Σ line discounts;
- ``total_tax`` = Σ line tax + tax on shipping;
- ``total_price`` = subtotal + shipping + tax + duties.

Gift cards are neither discounted nor taxed nor shipped.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from connectors.demo.customers import MARKETPLACE, ONLINE, POS, SOCIAL, US
from connectors.demo.money import percent_of

# Discount codes: (code, percent off goods).
DISCOUNT_CODES = (("WELCOME10", 10), ("BFCM25", 25), ("SUMMER15", 15), ("VIP20", 20))
WELCOME, BFCM, SUMMER, VIP = range(4)
BUNDLE_MIN_UNITS, BUNDLE_PERCENT = 3, 15
CA, GB, AU, JP = 1, 2, 6, 7
DUTY_COUNTRIES = (GB, AU, JP)
DUTY_THRESHOLD, DUTY_RATE = 15_000, 6_000  # cents, 1e-5


@dataclass
class OrderMoney:
    line_gross: np.ndarray
    line_discount: np.ndarray
    line_tax: np.ndarray
    subtotal: np.ndarray
    total_discounts: np.ndarray
    shipping: np.ndarray
    shipping_tax: np.ndarray
    total_tax: np.ndarray
    duties: np.ndarray
    total_price: np.ndarray


def assign_codes(rng: np.random.Generator, channel: np.ndarray, customer_order_index: np.ndarray,
                 in_bfcm: np.ndarray, in_summer: np.ndarray, is_test: np.ndarray) -> np.ndarray:
    """The discount code of each order (index into DISCOUNT_CODES, -1 for none).

    BFCM25 in the Black Friday week, SUMMER15 in the July sale, WELCOME10 on
    some first orders, VIP20 now and then for customers on their sixth order
    or later. Codes are typed at online and social checkouts only.
    """
    n = len(channel)
    u = rng.random(n)
    typed = ((channel == ONLINE) | (channel == SOCIAL)) & ~is_test
    code = np.full(n, -1, dtype=np.int64)
    code[typed & (customer_order_index >= 5) & (u < 0.12)] = VIP
    code[typed & (customer_order_index == 0) & (u < 0.3)] = WELCOME
    code[typed & in_summer & (u < 0.4) & (code < 0)] = SUMMER
    code[typed & in_bfcm & (u < 0.7)] = BFCM
    return code


def shipping_charge(rng: np.random.Generator, channel: np.ndarray, country: np.ndarray, goods: np.ndarray,
                    has_goods: np.ndarray) -> np.ndarray:
    """Shipping charged, in cents: free over a threshold, express never free, none in store."""
    n = len(channel)
    threshold = np.select([country == US, country == CA, np.isin(country, (AU, JP))], [7_500, 15_000, 20_000],
                          10_000)
    rate = np.select([country == US, country == CA, np.isin(country, (AU, JP))], [695, 1_295, 1_995], 795)
    express = (country == US) & (rng.random(n) < 0.1)
    charge = np.where(goods >= threshold, 0, rate)
    charge = np.where(express, 1_495, charge)
    free = (channel == POS) | (channel == MARKETPLACE) | ~has_goods
    return np.where(free, 0, charge).astype(np.int64)


def price_orders(rng: np.random.Generator, n_orders: int, line_order: np.ndarray, unit_price: np.ndarray,
                 qty: np.ndarray, is_gift: np.ndarray, code: np.ndarray, channel: np.ndarray, country: np.ndarray,
                 tax_rate: np.ndarray) -> OrderMoney:
    """Money of every order and line. Lines must be grouped by order (``line_order`` sorted)."""
    gross = unit_price * qty
    bundle = np.where(~is_gift & (qty >= BUNDLE_MIN_UNITS), gross * BUNDLE_PERCENT // 100, 0)
    base = np.where(is_gift, 0, gross - bundle)
    percent = np.array([p for _, p in DISCOUNT_CODES] + [0])[code]
    order_base = np.bincount(line_order, weights=base, minlength=n_orders).astype(np.int64)
    order_discount = order_base * percent // 100
    share = np.zeros(len(line_order), dtype=np.int64)
    has = order_base[line_order] > 0
    share[has] = order_discount[line_order[has]] * base[has] // order_base[line_order[has]]
    rest = order_discount - np.bincount(line_order, weights=share, minlength=n_orders).astype(np.int64)
    if len(line_order):
        # The rounding cents go to the order's largest line.
        by_size = np.lexsort((-base, line_order))
        first = by_size[np.r_[True, line_order[by_size][1:] != line_order[by_size][:-1]]]
        share[first] += rest[line_order[first]]
    discount = bundle + share
    net = gross - discount
    line_tax = np.where(is_gift, 0, percent_of(net, tax_rate[line_order]))
    goods = np.bincount(line_order, weights=np.where(is_gift, 0, net), minlength=n_orders).astype(np.int64)
    has_goods = np.bincount(line_order, weights=~is_gift, minlength=n_orders) > 0
    subtotal = np.bincount(line_order, weights=net, minlength=n_orders).astype(np.int64)
    total_discounts = np.bincount(line_order, weights=discount, minlength=n_orders).astype(np.int64)
    shipping = shipping_charge(rng, channel, country, goods, has_goods)
    shipping_tax = percent_of(shipping, tax_rate)
    total_tax = np.bincount(line_order, weights=line_tax, minlength=n_orders).astype(np.int64) + shipping_tax
    duties = np.where(np.isin(country, DUTY_COUNTRIES) & (goods >= DUTY_THRESHOLD) & (channel != MARKETPLACE),
                      percent_of(goods, DUTY_RATE), 0)
    total = subtotal + shipping + total_tax + duties
    return OrderMoney(gross, discount, line_tax, subtotal, total_discounts, shipping, shipping_tax, total_tax,
                      duties, total)
