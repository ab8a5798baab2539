"""``python -m data erase-customer``: remove one person's contact details (an erasure request)."""

from __future__ import annotations

import argparse

from data.contacts import erase_all, erase_customer
from data.warehouse import WarehouseError, connect


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "erase-customer", help="remove a customer's name, email and phone (an erasure request)",
        description="Removes the customer's row of customer_contacts and the email hash of their customers row, "
                    "in one transaction. Orders, refunds and scores keep the customer's opaque id.")
    parser.add_argument("--store", required=True, help="the store id")
    who = parser.add_mutually_exclusive_group(required=True)
    who.add_argument("--customer", help="the customer id (as on the Orders page)")
    who.add_argument("--email", help="the customer's email address")
    who.add_argument("--all", action="store_true", help="every contact row of the store")
    parser.add_argument("--db", help="warehouse URL (default: DATABASE_URL)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    with connect(args.db) as wh:
        if not wh.scalar("SELECT COUNT(*) FROM stores WHERE store_id = :s", {"s": args.store}):
            raise WarehouseError(f"there is no store {args.store!r} in the warehouse")
        if args.all:
            print(f"removed {erase_all(wh, args.store)} contact rows of store {args.store}")
            return 0
        ids = erase_customer(wh, args.store, customer_id=args.customer, email=args.email)
    if not ids:
        print("no customer of this store matches; nothing was changed")
        return 1
    print(f"erased the contact details of customer {', '.join(ids)} in store {args.store}")
    return 0
