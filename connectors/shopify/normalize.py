"""Shopify records (GraphQL answers) as warehouse rows; REST webhook payloads are in :mod:`.rest`.

Both shapes give the same rows for the same order, by SCHEMA.md's rules:

- ids are Shopify's numeric ids as text (``gid://shopify/Order/450789469`` and
  the REST ``id`` 450789469 both become ``"450789469"``), so webhooks and syncs
  meet on the same keys;
- money is the shop money (``shopMoney`` / ``shop_money``) as exact decimals,
  with the order total's presentment amount kept beside it;
- a line's ``discount`` is the sum of its discount allocations: its own
  discounts and its share of order-level ones (shipping discounts excluded);
- ``subtotal`` = Σ (unit price × quantity − discount); ``total_shipping`` is
  charged shipping after shipping discounts; ``total_tax`` is the order's tax
  total (line and shipping taxes; their sum when the order gives none);
  ``total_price`` = subtotal + shipping + tax + duties (tax not added again
  when the shop's prices include it);
- a refund's ``subtotal`` per line is the goods value before tax,
  ``shipping_refunded`` the shipping paid back before tax, ``tax_refunded``
  every tax paid back (lines and shipping), ``total_refunded`` the money paid
  back;
- statuses and channels take SCHEMA.md's values, the raw source name is kept;
- customers keep only the sha256 of their trimmed, lower-cased email; the
  name, address and phone go to ``customer_contacts`` (see data/contacts.py).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import defaultdict
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Any, Iterable, Mapping

import polars as pl

from data.contacts import SCHEMA as CONTACTS_SCHEMA
from data.contacts import contact_row, person_name
from data.identity import guest_customer_id

UTC = dt.timezone.utc
PLACES = Decimal("0.0001")
ZERO = Decimal("0")

MONEY = pl.Decimal(18, 4)
TIME = pl.Datetime("us", "UTC")

SCHEMAS: dict[str, dict[str, pl.DataType]] = {
    "stores": {"store_id": pl.String, "platform": pl.String, "name": pl.String, "currency": pl.String,
               "timezone": pl.String, "created_at": TIME, "_synced_at": TIME},
    "customers": {"store_id": pl.String, "customer_id": pl.String, "email_hash": pl.String, "created_at": TIME,
                  "country": pl.String, "accepts_marketing": pl.Boolean, "tags": pl.String, "updated_at": TIME,
                  "_synced_at": TIME},
    "customer_contacts": CONTACTS_SCHEMA,
    "products": {"store_id": pl.String, "product_id": pl.String, "title": pl.String, "product_type": pl.String,
                 "vendor": pl.String, "status": pl.String, "created_at": TIME, "updated_at": TIME,
                 "_synced_at": TIME},
    "variants": {"store_id": pl.String, "variant_id": pl.String, "product_id": pl.String, "sku": pl.String,
                 "title": pl.String, "price": MONEY, "unit_cost": MONEY, "updated_at": TIME, "_synced_at": TIME},
    "locations": {"store_id": pl.String, "location_id": pl.String, "name": pl.String, "country": pl.String,
                  "_synced_at": TIME},
    "orders": {"store_id": pl.String, "order_id": pl.String, "order_number": pl.String, "customer_id": pl.String,
               "created_at": TIME, "processed_at": TIME, "updated_at": TIME, "cancelled_at": TIME,
               "currency": pl.String, "presentment_currency": pl.String, "financial_status": pl.String,
               "fulfillment_status": pl.String, "channel": pl.String, "source_name": pl.String,
               "country": pl.String, "subtotal": MONEY, "total_discounts": MONEY, "total_shipping": MONEY,
               "total_tax": MONEY, "total_duties": MONEY, "total_price": MONEY,
               "presentment_total_price": MONEY, "discount_codes": pl.String, "is_test": pl.Boolean,
               **{f"{visit}_visit_{part}": pl.String for visit in ("first", "last")
                  for part in ("source", "medium", "campaign")},
               "_synced_at": TIME},
    "order_lines": {"store_id": pl.String, "line_id": pl.String, "order_id": pl.String, "product_id": pl.String,
                    "variant_id": pl.String, "sku": pl.String, "title": pl.String, "quantity": pl.Int32,
                    "unit_price": MONEY, "discount": MONEY, "tax": MONEY, "is_gift_card": pl.Boolean,
                    "_synced_at": TIME},
    "refunds": {"store_id": pl.String, "refund_id": pl.String, "order_id": pl.String, "created_at": TIME,
                "shipping_refunded": MONEY, "tax_refunded": MONEY, "total_refunded": MONEY, "note": pl.String,
                "_synced_at": TIME},
    "refund_lines": {"store_id": pl.String, "refund_id": pl.String, "line_id": pl.String, "quantity": pl.Int32,
                     "subtotal": MONEY, "tax": MONEY, "restock": pl.Boolean, "_synced_at": TIME},
    "transactions": {"store_id": pl.String, "transaction_id": pl.String, "order_id": pl.String,
                     "provider": pl.String, "kind": pl.String, "status": pl.String, "amount": MONEY, "fee": MONEY,
                     "net": MONEY, "currency": pl.String, "created_at": TIME, "_synced_at": TIME},
    "inventory_levels": {"store_id": pl.String, "variant_id": pl.String, "location_id": pl.String,
                         "available": pl.Int32, "updated_at": TIME, "_synced_at": TIME},
}

FINANCIAL = {
    "pending": "pending", "authorized": "authorized", "partially_paid": "partially_paid", "paid": "paid",
    "partially_refunded": "partially_refunded", "refunded": "refunded", "voided": "voided",
    "expired": "voided",  # an authorization that lapsed uncaptured: never paid
}
FULFILLMENT = {
    "fulfilled": "fulfilled", "partially_fulfilled": "partial", "partial": "partial", "restocked": "restocked",
    "unfulfilled": "unfulfilled", "pending_fulfillment": "unfulfilled", "open": "unfulfilled",
    "in_progress": "unfulfilled", "on_hold": "unfulfilled", "scheduled": "unfulfilled",
    "request_declined": "unfulfilled",
}
# Shopify's order source names; an app's numeric id or anything unknown is "other".
CHANNELS = {
    "web": "online_store", "iphone": "online_store", "android": "online_store", "buy_button": "online_store",
    "checkout": "online_store", "mobile_app": "online_store",
    "pos": "pos",
    "shopify_draft_order": "other", "draft_order": "other", "subscription_contract": "other",
    "facebook": "social", "instagram": "social", "facebook_and_instagram": "social", "tiktok": "social",
    "pinterest": "social", "snapchat": "social", "youtube": "social",
    "amazon": "marketplace", "ebay": "marketplace", "walmart": "marketplace", "etsy": "marketplace",
    "google": "marketplace", "shop": "marketplace",
}
TRANSACTION_KINDS = {
    "sale": "sale", "capture": "capture", "authorization": "authorization", "emv_authorization": "authorization",
    "void": "void", "refund": "refund", "change": "change",
}
TRANSACTION_STATUSES = {"awaiting_response": "pending"}


# -- small helpers ------------------------------------------------------------

def numeric_id(value: Any) -> str | None:
    """``gid://shopify/Order/123`` (or ``123``) → ``"123"``."""
    if value is None or value == "":
        return None
    text = str(value)
    if text.startswith("gid://"):
        text = text.rsplit("/", 1)[-1].split("?", 1)[0]
    return text


def gid(kind: str, value: Any) -> str:
    text = str(value)
    return text if text.startswith("gid://") else f"gid://shopify/{kind}/{text}"


def gid_type(value: str) -> str:
    """``gid://shopify/LineItem/1`` → ``LineItem``."""
    return value.split("/")[3] if value.startswith("gid://") else ""


def decimal(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value)).quantize(PLACES, rounding=ROUND_HALF_EVEN)
    except InvalidOperation:
        return None


def money(bag: Any) -> Decimal | None:
    """The shop amount of a GraphQL ``MoneyBag`` (or a ``MoneyV2``)."""
    if not isinstance(bag, Mapping):
        return None
    if "shopMoney" in bag:
        return decimal((bag.get("shopMoney") or {}).get("amount"))
    return decimal(bag.get("amount"))


def presentment(bag: Any) -> Decimal | None:
    if not isinstance(bag, Mapping):
        return None
    return decimal((bag.get("presentmentMoney") or {}).get("amount"))


def rest_money(obj: Mapping[str, Any], name: str) -> Decimal | None:
    """``obj[name]`` in shop money: ``<name>_set.shop_money.amount`` when present, else ``obj[name]``."""
    bag = obj.get(f"{name}_set")
    if isinstance(bag, Mapping) and isinstance(bag.get("shop_money"), Mapping):
        value = decimal(bag["shop_money"].get("amount"))
        if value is not None:
            return value
    return decimal(obj.get(name))


def timestamp(value: Any) -> dt.datetime | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        stamp = value
    else:
        try:
            stamp = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            return None
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=UTC)
    return stamp.astimezone(UTC)


def nodes(connection: Any) -> list[dict]:
    """The items of a connection (``nodes`` or ``edges``), or of a plain list."""
    if connection is None:
        return []
    if isinstance(connection, list):
        return [n for n in connection if n is not None]
    if "nodes" in connection:
        return [n for n in connection["nodes"] or () if n is not None]
    return [e["node"] for e in connection.get("edges") or () if e and e.get("node") is not None]


def email_hash(email: Any) -> str | None:
    if not email or not str(email).strip():
        return None
    return hashlib.sha256(str(email).strip().lower().encode("utf-8")).hexdigest()


def channel(source_name: Any) -> str:
    if not source_name:
        return "other"
    return CHANNELS.get(str(source_name).strip().lower(), "other")


def financial_status(value: Any) -> str | None:
    return FINANCIAL.get(str(value).lower()) if value else None


def fulfillment_status(value: Any) -> str:
    return FULFILLMENT.get(str(value).lower(), "unfulfilled") if value else "unfulfilled"


def provider(gateway: Any) -> str | None:
    if not gateway:
        return None
    name = str(gateway).strip().lower().replace(" ", "_").replace("-", "_")
    if "paypal" in name:
        return "paypal"
    if "stripe" in name:
        return "stripe"
    return name


def money_sum(values: Iterable[Decimal | None]) -> Decimal:
    return sum((v for v in values if v is not None), ZERO).quantize(PLACES)


# -- rows ---------------------------------------------------------------------

class Rows:
    """Rows per warehouse table, turned into typed Polars frames at the end."""

    def __init__(self, store_id: str, synced_at: dt.datetime | None = None) -> None:
        self.store_id = store_id
        self.synced_at = synced_at or dt.datetime.now(UTC)
        self.tables: dict[str, list[dict]] = defaultdict(list)

    def add(self, table: str, row: dict) -> dict:
        row = {"store_id": self.store_id, **row, "_synced_at": self.synced_at}
        self.tables[table].append(row)
        return row

    def extend(self, other: "Rows") -> "Rows":
        for table, rows in other.tables.items():
            self.tables[table].extend(rows)
        return self

    def count(self, table: str | None = None) -> int:
        if table:
            return len(self.tables.get(table, ()))
        return sum(len(v) for v in self.tables.values())

    def frames(self) -> dict[str, pl.DataFrame]:
        out = {}
        for table, rows in self.tables.items():
            if not rows:
                continue
            schema = {c: t for c, t in SCHEMAS[table].items() if any(c in r for r in rows)}
            out[table] = pl.DataFrame({c: [r.get(c) for r in rows] for c in schema}, schema=schema)
        return out


# -- GraphQL shapes -----------------------------------------------------------

def store_row(rows: Rows, shop: Mapping[str, Any]) -> None:
    rows.add("stores", {
        "platform": "shopify",
        "name": shop.get("name") or shop.get("myshopifyDomain") or rows.store_id,
        "currency": shop.get("currencyCode"),
        "timezone": shop.get("ianaTimezone") or "UTC",
        "created_at": timestamp(shop.get("createdAt")) or rows.synced_at,
    })


def add_order(rows: Rows, order: Mapping[str, Any]) -> str:
    """The order, its lines and transactions (refunds are added with :func:`add_refund`)."""
    order_id = numeric_id(order.get("legacyResourceId") or order["id"])
    line_totals = {"gross": ZERO, "discount": ZERO, "tax": ZERO}
    for item in nodes(order.get("lineItems")):
        unit_price = money(item.get("originalUnitPriceSet")) or ZERO
        quantity = int(item.get("quantity") or 0)
        discount = money_sum(money(a.get("allocatedAmountSet")) for a in item.get("discountAllocations") or ())
        tax = money_sum(money(t.get("priceSet")) for t in item.get("taxLines") or ())
        title = item.get("title")
        if item.get("variantTitle"):
            title = f"{title} - {item['variantTitle']}"
        rows.add("order_lines", {
            "line_id": numeric_id(item["id"]), "order_id": order_id,
            "product_id": numeric_id((item.get("product") or {}).get("id")),
            "variant_id": numeric_id((item.get("variant") or {}).get("id")),
            "sku": item.get("sku") or None, "title": title, "quantity": quantity,
            "unit_price": unit_price, "discount": discount, "tax": tax,
            "is_gift_card": bool(item.get("isGiftCard")),
        })
        line_totals["gross"] += unit_price * quantity
        line_totals["discount"] += discount
        line_totals["tax"] += tax
    shipping = ZERO
    shipping_tax = ZERO
    for line in nodes(order.get("shippingLines")):
        charged = money(line.get("discountedPriceSet"))
        if charged is None:
            charged = (money(line.get("originalPriceSet")) or ZERO) - money_sum(
                money(a.get("allocatedAmountSet")) for a in line.get("discountAllocations") or ())
        shipping += charged
        shipping_tax += money_sum(money(t.get("priceSet")) for t in line.get("taxLines") or ())
    for transaction in order.get("transactions") or ():
        add_transaction(rows, transaction, order_id)
    order_row(
        rows, order_id,
        order_number=order.get("name"),
        # No email without a customer here: the GraphQL Order.email is deprecated, as Shopify makes a
        # customer of every checkout that gives one (a guest too). REST payloads still carry it (rest.py).
        customer_id=numeric_id((order.get("customer") or {}).get("id")),
        created_at=order.get("createdAt"), processed_at=order.get("processedAt"),
        updated_at=order.get("updatedAt"), cancelled_at=order.get("cancelledAt"),
        currency=order.get("currencyCode") or ((order.get("totalPriceSet") or {}).get("shopMoney") or {}).get(
            "currencyCode"),
        presentment_currency=order.get("presentmentCurrencyCode"),
        financial=order.get("displayFinancialStatus"), fulfillment=order.get("displayFulfillmentStatus"),
        source_name=order.get("sourceName"),
        country=((order.get("shippingAddress") or {}).get("countryCodeV2")
                 or (order.get("billingAddress") or {}).get("countryCodeV2")),
        totals=line_totals, shipping=shipping, shipping_tax=shipping_tax, order_tax=money(order.get("totalTaxSet")),
        duties=money(order.get("originalTotalDutiesSet")) or ZERO,
        taxes_included=bool(order.get("taxesIncluded")),
        presentment_total=presentment(order.get("totalPriceSet")),
        discount_codes=order.get("discountCodes") or [],
        is_test=bool(order.get("test")),
        **journey(order.get("customerJourneySummary")),
    )
    return order_id


def order_customer(rows: Rows, customer: Mapping[str, Any] | None, email: Any, country: str | None) -> str | None:
    """A REST order's customer id: its customer's, else a guest checkout's ``guest:<email hash>``
    (with a customers row holding the hash; data/identity.py gives it to a registered customer of that email)."""
    if customer:
        return numeric_id(customer.get("id"))
    hashed = email_hash(email)
    if hashed is None:
        return None
    customer_id = guest_customer_id(hashed)
    rows.add("customers", {"customer_id": customer_id, "email_hash": hashed, "country": country})
    return customer_id


def journey(summary: Mapping[str, Any] | None) -> dict[str, str | None]:
    """The first and last visit's source, medium and campaign: the UTM parameters, else Shopify's source and
    marketing tactic (lower case), none where Shopify recorded no visit."""
    fields: dict[str, str | None] = {}
    for name in ("first", "last"):
        visit = (summary or {}).get(f"{name}Visit") or {}
        utm = visit.get("utmParameters") or {}
        source = utm.get("source") or visit.get("source")
        medium = utm.get("medium") or visit.get("sourceType")
        fields[f"{name}_visit_source"] = str(source).strip().lower() or None if source else None
        fields[f"{name}_visit_medium"] = str(medium).strip().lower() or None if medium else None
        fields[f"{name}_visit_campaign"] = (str(utm["campaign"]).strip() or None) if utm.get("campaign") else None
    return fields


def order_row(rows: Rows, order_id: str, *, totals, shipping, shipping_tax, order_tax, duties, taxes_included,
               financial, fulfillment, source_name, created_at, processed_at, updated_at, cancelled_at,
               discount_codes, presentment_total, **fields) -> None:
    subtotal = (totals["gross"] - totals["discount"]).quantize(PLACES)
    # The order's own tax total (lines, shipping and duties' taxes); the sum of the tax lines when absent.
    tax = (order_tax if order_tax is not None else totals["tax"] + shipping_tax).quantize(PLACES)
    total = subtotal + shipping + duties + (ZERO if taxes_included else tax)
    rows.add("orders", {
        "order_id": order_id, **fields,
        "created_at": timestamp(created_at), "processed_at": timestamp(processed_at),
        "updated_at": timestamp(updated_at), "cancelled_at": timestamp(cancelled_at),
        "financial_status": financial_status(financial), "fulfillment_status": fulfillment_status(fulfillment),
        "channel": channel(source_name), "source_name": source_name,
        "subtotal": subtotal, "total_discounts": totals["discount"].quantize(PLACES),
        "total_shipping": shipping.quantize(PLACES), "total_tax": tax, "total_duties": duties.quantize(PLACES),
        "total_price": total.quantize(PLACES), "presentment_total_price": presentment_total,
        "discount_codes": ",".join(discount_codes) or None,
    })


def add_transaction(rows: Rows, transaction: Mapping[str, Any], order_id: str | None) -> None:
    kind = TRANSACTION_KINDS.get(str(transaction.get("kind") or "").lower())
    if kind is None:  # suggested refunds are not money that moved
        return
    status = str(transaction.get("status") or "").lower() or None
    amount_bag = transaction.get("amountSet")
    amount = money(amount_bag)
    currency = ((amount_bag or {}).get("shopMoney") or {}).get("currencyCode")
    fee = None
    fees = transaction.get("fees")
    if fees:
        same = [f for f in fees if ((f.get("amount") or {}).get("currencyCode") in (None, currency))]
        if len(same) == len(fees):
            fee = money_sum(money(f.get("amount")) for f in fees)
    rows.add("transactions", {
        "transaction_id": numeric_id(transaction["id"]), "order_id": order_id,
        "provider": provider(transaction.get("gateway")), "kind": kind,
        "status": TRANSACTION_STATUSES.get(status, status),
        "amount": amount, "fee": fee,
        "net": (amount - fee).quantize(PLACES) if amount is not None and fee is not None else None,
        "currency": currency,
        "created_at": timestamp(transaction.get("processedAt") or transaction.get("createdAt")),
    })


def add_refund(rows: Rows, refund: Mapping[str, Any], order_id: str | None = None) -> str:
    refund_id = numeric_id(refund["id"])
    order_id = order_id or numeric_id((refund.get("order") or {}).get("id"))
    lines: dict[str, dict] = {}
    for item in nodes(refund.get("refundLineItems")):
        line_id = numeric_id((item.get("lineItem") or {}).get("id"))
        merge_refund_line(lines, line_id, int(item.get("quantity") or 0), money(item.get("subtotalSet")) or ZERO,
                           money(item.get("totalTaxSet")) or ZERO,
                           str(item.get("restockType") or "NO_RESTOCK").upper() != "NO_RESTOCK")
    shipping = ZERO
    shipping_tax = ZERO
    for line in nodes(refund.get("refundShippingLines")):
        shipping += money(line.get("subtotalAmountSet")) or ZERO
        shipping_tax += money(line.get("taxAmountSet")) or ZERO
    refund_rows(rows, refund_id, order_id, lines, shipping, shipping_tax,
                 total=money(refund.get("totalRefundedSet")), created_at=refund.get("createdAt"),
                 note=refund.get("note"))
    return refund_id


def merge_refund_line(lines: dict, line_id: str | None, quantity: int, subtotal: Decimal, tax: Decimal,
                       restock: bool) -> None:
    if line_id is None:
        return
    found = lines.get(line_id)
    if found is None:
        lines[line_id] = {"line_id": line_id, "quantity": quantity, "subtotal": subtotal, "tax": tax,
                          "restock": restock}
    else:
        found["quantity"] += quantity
        found["subtotal"] += subtotal
        found["tax"] += tax
        found["restock"] = found["restock"] or restock


def refund_rows(rows: Rows, refund_id: str, order_id: str | None, lines: dict, shipping: Decimal,
                 shipping_tax: Decimal, *, total: Decimal | None, created_at: Any, note: Any) -> None:
    tax = money_sum(line["tax"] for line in lines.values()) + shipping_tax
    rows.add("refunds", {
        "refund_id": refund_id, "order_id": order_id, "created_at": timestamp(created_at),
        "shipping_refunded": shipping.quantize(PLACES), "tax_refunded": tax.quantize(PLACES),
        "total_refunded": (total if total is not None else ZERO).quantize(PLACES), "note": note or None,
    })
    for line in lines.values():
        rows.add("refund_lines", {
            "refund_id": refund_id, "line_id": line["line_id"], "quantity": line["quantity"],
            "subtotal": line["subtotal"].quantize(PLACES), "tax": line["tax"].quantize(PLACES),
            "restock": line["restock"],
        })


def add_customer(rows: Rows, customer: Mapping[str, Any]) -> None:
    email = customer.get("defaultEmailAddress") or {}
    rows.add("customers", {
        "customer_id": numeric_id(customer["id"]),
        "email_hash": email_hash(email.get("emailAddress")),
        "created_at": timestamp(customer.get("createdAt")),
        "country": (customer.get("defaultAddress") or {}).get("countryCodeV2"),
        "accepts_marketing": str(email.get("marketingState") or "").upper() == "SUBSCRIBED",
        "tags": ", ".join(customer.get("tags") or []) or None,
        "updated_at": timestamp(customer.get("updatedAt")),
    })
    add_contact(rows, numeric_id(customer["id"]),
                name=person_name(customer.get("firstName"), customer.get("lastName")),
                email=email.get("emailAddress"), phone=(customer.get("defaultPhoneNumber") or {}).get("phoneNumber"),
                updated_at=timestamp(customer.get("updatedAt")))


def add_contact(rows: Rows, customer_id: str | None, **details: Any) -> None:
    """The customer's name, email and phone, when any is given (data/contacts.py)."""
    row = contact_row(rows.store_id, customer_id, **details)
    if row is not None:
        rows.add("customer_contacts", {k: v for k, v in row.items() if k not in ("store_id", "_synced_at")})


def add_product(rows: Rows, product: Mapping[str, Any]) -> None:
    rows.add("products", {
        "product_id": numeric_id(product["id"]), "title": product.get("title"),
        "product_type": product.get("productType") or None, "vendor": product.get("vendor") or None,
        "status": str(product["status"]).lower() if product.get("status") else None,
        "created_at": timestamp(product.get("createdAt")), "updated_at": timestamp(product.get("updatedAt")),
    })


def add_variant(rows: Rows, variant: Mapping[str, Any]) -> None:
    item = variant.get("inventoryItem") or {}
    rows.add("variants", {
        "variant_id": numeric_id(variant["id"]),
        "product_id": numeric_id((variant.get("product") or {}).get("id")),
        "sku": variant.get("sku") or None, "title": variant.get("title"),
        "price": decimal(variant.get("price")),
        "unit_cost": money(item.get("unitCost")),
        "updated_at": timestamp(variant.get("updatedAt")),
    })


def add_location(rows: Rows, location: Mapping[str, Any]) -> None:
    rows.add("locations", {
        "location_id": numeric_id(location["id"]), "name": location.get("name"),
        "country": (location.get("address") or {}).get("countryCode"),
    })


def variant_of_item(item: Mapping[str, Any] | None) -> str | None:
    """The variant id of an inventory item read with ``variants(first: 1) { nodes { id } }``."""
    found = nodes((item or {}).get("variants") or {})
    return found[0].get("id") if found else None


def add_inventory_level(rows: Rows, level: Mapping[str, Any], location_id: str) -> bool:
    variant = variant_of_item(level.get("item"))
    available = next((q.get("quantity") for q in level.get("quantities") or () if q.get("name") == "available"),
                     None)
    if variant is None or available is None:
        return False
    rows.add("inventory_levels", {
        "variant_id": numeric_id(variant), "location_id": location_id, "available": int(available),
        "updated_at": timestamp(level.get("updatedAt")),
    })
    return True
