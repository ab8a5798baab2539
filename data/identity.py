"""One customer per person within a store: guest orders belong to the registered customer with their email.

A guest order (a checkout without an account) gets the customer id
``guest:<email hash>`` from every source: a WooCommerce guest, a Shopify order
without a customer, a CSV row with an email but no customer id (the CSV import
wrote ``email:<hash>`` before; both prefixes are guests). Left there, a person
who checks out as a guest and also has an account would be two customers:
counted new twice, their repeat purchase missed.

The rule, applied by every write of a store's rows (:func:`link_guests`, inside
the writing transaction, so it sees what is stored and what arrives):

- an arriving guest order whose email hash is a registered customer's (one
  whose id is not a guest id) takes that customer's id; with several, the
  earliest created (then the smallest id);
- an arriving registered customer with an email hash takes over the stored
  orders of that hash's guest id, and the guest's ``customers`` and
  ``customer_contacts`` rows are removed (with arriving guest rows of that
  hash), so the person is one row, named by their own contact row;
- the orders moved are returned, so their rollups (customer order ranks:
  new or returning) are refreshed with the rest of the write.

Across stores and payment sources the email hash is what links people; ids
stay per store.
"""

from __future__ import annotations

from typing import Mapping, Sequence

import polars as pl

from data.warehouse import Warehouse

GUEST_PREFIX = "guest:"
GUEST_PREFIXES = (GUEST_PREFIX, "email:")


def guest_customer_id(email_hash: str | None) -> str | None:
    """``guest:<email hash>``: the customer id of a guest checkout (None without an email)."""
    return f"{GUEST_PREFIX}{email_hash}" if email_hash else None


def is_guest(customer_id: pl.Expr) -> pl.Expr:
    return pl.any_horizontal(*[customer_id.str.starts_with(p) for p in GUEST_PREFIXES]).fill_null(False)


def _guest_hash(customer_id: pl.Expr) -> pl.Expr:
    return customer_id.str.replace(r"^(guest|email):", "")


def _chunks(values: Sequence[str], size: int = 500):
    for start in range(0, len(values), size):
        yield values[start:start + size]


def _registered(wh: Warehouse, store_id: str, hashes: Sequence[str], arriving: pl.DataFrame | None) -> pl.DataFrame:
    """(email_hash, customer_id) of the registered customer each hash belongs to, stored or arriving."""
    found = []
    for chunk in _chunks(list(hashes)):
        params = {"s": store_id, **{f"h{i}": h for i, h in enumerate(chunk)}}
        found.append(wh.query(
            "SELECT email_hash, customer_id, created_at FROM customers WHERE store_id = :s AND email_hash IN ("
            + ", ".join(f":h{i}" for i in range(len(chunk))) + ")", params))
    columns = {"email_hash": pl.String, "customer_id": pl.String, "created_at": pl.Datetime("us", "UTC")}
    frames = [f.select(pl.col(c).cast(t) for c, t in columns.items()) for f in found if f.height]
    if arriving is not None and arriving.height:
        frames.append(arriving.select(
            pl.col("email_hash").cast(pl.String), pl.col("customer_id").cast(pl.String),
            (pl.col("created_at") if "created_at" in arriving.columns else pl.lit(None))
            .cast(pl.Datetime("us", "UTC")).alias("created_at")))
    if not frames:
        return pl.DataFrame(schema={"email_hash": pl.String, "customer_id": pl.String})
    every = pl.concat(frames).filter(pl.col("email_hash").is_not_null() & ~is_guest(pl.col("customer_id")))
    return (every.sort(["email_hash", "created_at", "customer_id"], nulls_last=True)
            .unique("email_hash", keep="first", maintain_order=True).select("email_hash", "customer_id"))


def link_guests(wh: Warehouse, store_id: str,
                rows: Mapping[str, pl.DataFrame]) -> tuple[dict[str, pl.DataFrame], list[str]]:
    """``rows`` with guest orders given to their registered customer, and the stored orders moved to one.

    Call it inside the transaction that writes ``rows``; it updates stored
    orders and deletes stored guest rows itself. Returns the rows to write and
    the ids of the stored orders whose customer changed.
    """
    rows = dict(rows)
    orders, customers = rows.get("orders"), rows.get("customers")
    has_orders = orders is not None and orders.height and "customer_id" in orders.columns
    has_customers = customers is not None and customers.height and "email_hash" in customers.columns
    if not has_orders and not has_customers:
        return rows, []
    arriving = customers.filter(~is_guest(pl.col("customer_id"))) if has_customers else None
    hashes: set[str] = set()
    if has_orders:
        guests = orders.filter(is_guest(pl.col("customer_id")))
        hashes |= set(guests.select(_guest_hash(pl.col("customer_id"))).to_series().to_list())
    if has_customers:
        hashes |= set(customers["email_hash"].drop_nulls().to_list())
    if not hashes:
        return rows, []
    owners = _registered(wh, store_id, sorted(hashes), arriving)
    if owners.height == 0:
        return rows, []
    owner_of = dict(zip(owners["email_hash"].to_list(), owners["customer_id"].to_list()))
    if has_orders:
        rows["orders"] = orders.with_columns(
            pl.when(is_guest(pl.col("customer_id")))
            .then(_guest_hash(pl.col("customer_id")).replace_strict(owner_of, default=None))
            .otherwise(None).fill_null(pl.col("customer_id")).alias("customer_id"))
    if has_customers:
        rows["customers"] = customers.filter(
            ~(is_guest(pl.col("customer_id")) & pl.col("email_hash").is_in(list(owner_of))))
    contacts = rows.get("customer_contacts")
    if contacts is not None and contacts.height and "customer_id" in contacts.columns:
        # A guest's contact row goes with the guest: the registered customer keeps their own.
        taken = [f"{prefix}{h}" for h in owner_of for prefix in GUEST_PREFIXES]
        rows["customer_contacts"] = contacts.filter(~pl.col("customer_id").is_in(taken))
    moved = _move_stored_guests(wh, store_id, owner_of)
    return rows, moved


def _move_stored_guests(wh: Warehouse, store_id: str, owner_of: Mapping[str, str]) -> list[str]:
    """Give stored guest orders of these hashes to their owners and remove the guests' rows."""
    owner_of_guest = {f"{prefix}{h}": owner for h, owner in owner_of.items() for prefix in GUEST_PREFIXES}
    moved: list[str] = []
    for chunk in _chunks(sorted(owner_of_guest)):
        names = {f"g{i}": g for i, g in enumerate(chunk)}
        among = ", ".join(f":{n}" for n in names)
        params = {"s": store_id, **names}
        orders = wh.query(f"SELECT order_id, customer_id FROM orders WHERE store_id = :s AND customer_id IN ({among})",
                          params)
        for guest in sorted(set(orders["customer_id"].to_list())) if orders.height else []:
            wh.execute("UPDATE orders SET customer_id = :owner WHERE store_id = :s AND customer_id = :guest",
                       {"s": store_id, "owner": owner_of_guest[guest], "guest": guest})
        if orders.height:
            moved += orders["order_id"].to_list()
        for table in ("customers", "customer_contacts"):
            wh.execute(f"DELETE FROM {table} WHERE store_id = :s AND customer_id IN ({among})", params)
    return moved
