"""Refund money, exact in cents, and the financial status it leaves the order in.

A refund line pays back the goods value of the units returned: the line's
net (gross − discount) in proportion to the units, rounded down, so a line is
never refunded more than was paid for it. Its tax goes back the same way.
Shipping is refunded on cancellations and on some full returns (with its
tax); a cancelled order also gets its duties back.

``total_refunded`` = Σ refund_lines.subtotal + tax_refunded + shipping_refunded
(+ the order's duties when a cancellation refunds it in full).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from connectors.demo.orders import CANCEL_REFUND

REFUND_NOTES = ("Customer return", "Wrong size", "Not as pictured", "Damaged in transit", "Order cancelled")


@dataclass
class RefundMoney:
    order: np.ndarray  # index of the refunded order
    line: np.ndarray  # index of each refund line's order line
    line_refund: np.ndarray  # refund index of each refund line
    line_qty: np.ndarray
    line_subtotal: np.ndarray
    line_tax: np.ndarray
    line_restock: np.ndarray
    shipping_refunded: np.ndarray
    tax_refunded: np.ndarray
    duties_refunded: np.ndarray
    total_refunded: np.ndarray
    note: np.ndarray  # index into REFUND_NOTES


def refund_money(rng: np.random.Generator, n_orders: int, line_order: np.ndarray, qty: np.ndarray,
                 return_qty: np.ndarray, line_net: np.ndarray, line_tax: np.ndarray, refund_kind: np.ndarray,
                 restock: np.ndarray, refund_shipping: np.ndarray, shipping: np.ndarray,
                 shipping_tax: np.ndarray, duties: np.ndarray) -> RefundMoney:
    """One refund per order that has units to give back."""
    lines = np.flatnonzero(return_qty > 0)
    back = return_qty[lines]
    full = back == qty[lines]
    sub = np.where(full, line_net[lines], line_net[lines] * back // qty[lines])
    tax = np.where(full, line_tax[lines], line_tax[lines] * back // qty[lines])
    refunded_orders = np.unique(line_order[lines])
    refund_of_order = np.full(n_orders, -1, dtype=np.int64)
    refund_of_order[refunded_orders] = np.arange(len(refunded_orders))
    line_refund = refund_of_order[line_order[lines]]
    n = len(refunded_orders)
    goods = np.bincount(line_refund, weights=sub, minlength=n).astype(np.int64)
    goods_tax = np.bincount(line_refund, weights=tax, minlength=n).astype(np.int64)
    ship = np.where(refund_shipping[refunded_orders], shipping[refunded_orders], 0)
    ship_tax = np.where(refund_shipping[refunded_orders], shipping_tax[refunded_orders], 0)
    cancelled = refund_kind[refunded_orders] == CANCEL_REFUND
    duty = np.where(cancelled, duties[refunded_orders], 0)
    tax_refunded = goods_tax + ship_tax
    total = goods + tax_refunded + ship + duty
    note = np.where(cancelled, len(REFUND_NOTES) - 1, rng.choice(len(REFUND_NOTES) - 1, size=n,
                                                                 p=[0.45, 0.25, 0.15, 0.15]))
    return RefundMoney(
        order=refunded_orders, line=lines, line_refund=line_refund, line_qty=back, line_subtotal=sub,
        line_tax=tax, line_restock=restock[line_order[lines]], shipping_refunded=ship, tax_refunded=tax_refunded,
        duties_refunded=duty, total_refunded=total, note=note,
    )
