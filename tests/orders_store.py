"""A small hand-built store for the Orders page and its list.

The store is in America/New_York. Orders, in store time:

| order | number | placed        | customer | lines               | total  | payment            | fulfillment | channel      |
| o1    | #1001  | 2 Mar 09:00   | c1       | 2 × 10.00, 1 × 5.00 | 25.00  | paid               | fulfilled   | online_store |
| o2    | #999   | 2 Mar 23:30   | c2       | 1 × 40.00 + 5 ship  | 45.00  | paid               | (none)      | pos          |
| o3    | #1002  | 3 Mar 00:30   | c1       | 3 × 2.50            | 7.50   | refunded           | fulfilled   | online_store |
| o4    | #1003  | 1 Mar 23:59   | c3       | 1 × 10.00           | 10.00  | paid               | fulfilled   | online_store |
| o5    | #1004  | 4 Mar 12:00   | (none)   | 1 × 100.00          | 100.00 | voided             | (none)      | (none)       |
| o6    | #1005  | 4 Mar 13:00   | c2       | test order          | 10.00  | paid               |             | online_store |
| o7    | #1006  | 5 Mar 08:00   | cust-7   | 4 × 1.00            | 4.00   | partially_refunded | partial     | social       |

Customer cust-7's email is buyer@example.com (stored as its hash). o3 is
refunded in full on 4 March (r1) with a sale and a refund transaction
(t1, t2); o7 has one unit back on 6 March (r2).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from decimal import Decimal

import polars as pl

from data.rollups import refresh_store
from tests.builders import MONEY, TIMESTAMP, add_order, add_refund, add_store, local

TZ = "America/New_York"
START, END = dt.date(2026, 3, 2), dt.date(2026, 3, 5)
D = Decimal


def at(*parts: int) -> dt.datetime:
    return local(TZ, 2026, *parts)


def build_orders_store(wh) -> None:
    """The store of this module's table (store ``s``)."""
    add_store(wh, "s", timezone=TZ)
    add_order(wh, "o1", at(3, 2, 9, 0), [(2, "10.00", "0"), (1, "5.00", "0")], customer="c1")
    add_order(wh, "o2", at(3, 2, 23, 30), [(1, "40.00", "0")], customer="c2", shipping="5.00", channel="pos")
    add_order(wh, "o3", at(3, 3, 0, 30), [(3, "2.50", "0")], customer="c1", status="refunded")
    add_order(wh, "o4", at(3, 1, 23, 59), [(1, "10.00", "0")], customer="c3")
    add_order(wh, "o5", at(3, 4, 12, 0), [(1, "100.00", "0")], customer=None, status="voided", channel=None)
    add_order(wh, "o6", at(3, 4, 13, 0), customer="c2", test=True)
    add_order(wh, "o7", at(3, 5, 8, 0), [(4, "1.00", "0")], customer="cust-7", status="partially_refunded",
              channel="social")
    numbers = {"o1": "#1001", "o2": "#999", "o3": "#1002", "o4": "#1003", "o5": "#1004", "o6": "#1005",
               "o7": "#1006"}
    for order_id, number in numbers.items():
        wh.execute("UPDATE orders SET order_number = :n WHERE order_id = :o", {"n": number, "o": order_id})
    for order_id in ("o1", "o3", "o4"):
        wh.execute("UPDATE orders SET fulfillment_status = 'fulfilled' WHERE order_id = :o", {"o": order_id})
    wh.execute("UPDATE orders SET fulfillment_status = 'partial' WHERE order_id = 'o7'")
    wh.insert("customers", pl.DataFrame({
        "store_id": ["s"], "customer_id": ["cust-7"],
        "email_hash": [hashlib.sha256(b"buyer@example.com").hexdigest()],
    }))
    # o3 refunded in full on 4 March; o7 one unit back on 6 March.
    add_refund(wh, "r1", "o3", at(3, 4, 10, 0), {1: (3, "7.50")})
    add_refund(wh, "r2", "o7", at(3, 6, 10, 0), {1: (1, "1.00")})
    wh.insert("transactions", pl.DataFrame({
        "store_id": ["s", "s"], "transaction_id": ["t1", "t2"], "order_id": ["o3", "o3"],
        "provider": ["stripe", "stripe"], "kind": ["sale", "refund"], "status": ["success", "success"],
        "amount": [D("7.50"), D("7.50")], "fee": [D("0.52"), D("0")], "net": [D("6.98"), D("-7.50")],
        "currency": ["USD", "USD"], "created_at": [at(3, 3, 0, 31), at(3, 4, 10, 1)],
    }, schema_overrides={"amount": MONEY, "fee": MONEY, "net": MONEY, "created_at": TIMESTAMP}))
    refresh_store(wh, "s")
