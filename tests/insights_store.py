"""A small store for the insights tests, with personal data the facts must never carry.

Week of Mon 9 – Sun 15 Nov 2026 against Mon 2 – Sun 8 Nov 2026 (store time,
America/New_York). The customer ids are an email and a name, the customer
row holds an address in its tags, the refund note names the buyer, and
customer_contacts holds both customers' names, emails and phones.

- o3, Tue 3 Nov, jane.doe@example.com, online store, US: 1 × $40.00.
- o1, Tue 10 Nov, jane.doe@example.com, online store, US: 2 × $30.00; refunded 1 × $30.00 on Wed 11 Nov.
- o2, Thu 12 Nov, "Jane Doe", point of sale, GB: 1 × $50.00 with a $5.00 discount.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from data.rollups import refresh_store
from tests.builders import add_order, add_refund, add_store, local

TZ = "America/New_York"
START, END = dt.date(2026, 11, 9), dt.date(2026, 11, 15)
COMPARE = (dt.date(2026, 11, 2), dt.date(2026, 11, 8))
PERSONAL = ("jane", "doe", "example.com", "elm street", "springfield", "555-0100", "marta", "quist",
            "shop.example", "7946")


def build_insights_store(wh) -> None:
    add_store(wh, "s", timezone=TZ)
    add_order(wh, "o3", local(TZ, 2026, 11, 3, 10), [(1, "40.00", "0")], customer="jane.doe@example.com")
    add_order(wh, "o1", local(TZ, 2026, 11, 10, 10), [(2, "30.00", "0")], customer="jane.doe@example.com")
    add_order(wh, "o2", local(TZ, 2026, 11, 12, 15), [(1, "50.00", "5.00")], customer="Jane Doe",
              channel="pos", country="GB")
    add_refund(wh, "r1", "o1", local(TZ, 2026, 11, 11, 9), {1: (1, "30.00")})
    wh.execute("UPDATE refunds SET note = 'Jane Doe (jane.doe@example.com, 555-0100) sent it back' "
               "WHERE refund_id = 'r1'")
    wh.upsert("customers", pl.DataFrame({
        "store_id": ["s"], "customer_id": ["jane.doe@example.com"], "email_hash": ["jane.doe@example.com"],
        "country": ["US"], "tags": ["Jane Doe, 12 Elm Street, Springfield"],
    }))
    wh.upsert("customer_contacts", pl.DataFrame({
        "store_id": ["s", "s"], "customer_id": ["jane.doe@example.com", "Jane Doe"],
        "name": ["Jane Doe", "Marta Quist"], "email": ["jane.doe@example.com", "marta.quist@shop.example"],
        "phone": ["555-0100", "+44 20 7946 0000"]}))
    refresh_store(wh, "s")
