"""WooCommerce REST v3 records -> warehouse rows (SCHEMA.md). Pure functions, no I/O.

See the package docstring for the status, channel, fee and refund rules.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from decimal import Decimal, InvalidOperation
from typing import Any, Iterable, Mapping, Sequence

import polars as pl

from data.contacts import SCHEMA as CONTACTS_SCHEMA
from data.contacts import contact_row, person_name
from data.identity import guest_customer_id

UTC = dt.timezone.utc
MONEY = pl.Decimal(18, 4)
TIMESTAMP = pl.Datetime("us", "UTC")
Q4 = Decimal("0.0001")
ZERO = Decimal("0")
LOCATION_ID = "default"

# Cost of goods, first found wins: WooCommerce's own field (9.5+), then the
# meta keys of the two common cost-of-goods plugins.
COST_META_KEYS = ("_wc_cog_cost", "_alg_wc_cog_cost")

SCHEMAS: dict[str, dict[str, Any]] = {
    "orders": {
        "store_id": pl.String, "order_id": pl.String, "order_number": pl.String, "customer_id": pl.String,
        "created_at": TIMESTAMP, "processed_at": TIMESTAMP, "updated_at": TIMESTAMP, "cancelled_at": TIMESTAMP,
        "currency": pl.String, "presentment_currency": pl.String, "financial_status": pl.String,
        "fulfillment_status": pl.String, "channel": pl.String, "source_name": pl.String, "country": pl.String,
        "subtotal": MONEY, "total_discounts": MONEY, "total_shipping": MONEY, "total_tax": MONEY,
        "total_duties": MONEY, "total_price": MONEY, "presentment_total_price": MONEY, "discount_codes": pl.String,
        "is_test": pl.Boolean, "last_visit_source": pl.String, "last_visit_medium": pl.String,
        "last_visit_campaign": pl.String, "_synced_at": TIMESTAMP,
    },
    "order_lines": {
        "store_id": pl.String, "line_id": pl.String, "order_id": pl.String, "product_id": pl.String,
        "variant_id": pl.String, "sku": pl.String, "title": pl.String, "quantity": pl.Int32, "unit_price": MONEY,
        "discount": MONEY, "tax": MONEY, "is_gift_card": pl.Boolean, "_synced_at": TIMESTAMP,
    },
    "refunds": {
        "store_id": pl.String, "refund_id": pl.String, "order_id": pl.String, "created_at": TIMESTAMP,
        "shipping_refunded": MONEY, "tax_refunded": MONEY, "total_refunded": MONEY, "note": pl.String,
        "_synced_at": TIMESTAMP,
    },
    "refund_lines": {
        "store_id": pl.String, "refund_id": pl.String, "line_id": pl.String, "quantity": pl.Int32,
        "subtotal": MONEY, "tax": MONEY, "restock": pl.Boolean, "_synced_at": TIMESTAMP,
    },
    "customers": {
        "store_id": pl.String, "customer_id": pl.String, "email_hash": pl.String, "created_at": TIMESTAMP,
        "country": pl.String, "accepts_marketing": pl.Boolean, "tags": pl.String, "updated_at": TIMESTAMP,
        "_synced_at": TIMESTAMP,
    },
    "guest_customers": {
        "store_id": pl.String, "customer_id": pl.String, "email_hash": pl.String, "country": pl.String,
        "_synced_at": TIMESTAMP,
    },
    "customer_contacts": CONTACTS_SCHEMA,
    "products": {
        "store_id": pl.String, "product_id": pl.String, "title": pl.String, "product_type": pl.String,
        "vendor": pl.String, "status": pl.String, "created_at": TIMESTAMP, "updated_at": TIMESTAMP,
        "_synced_at": TIMESTAMP,
    },
    "variants": {
        "store_id": pl.String, "variant_id": pl.String, "product_id": pl.String, "sku": pl.String,
        "title": pl.String, "price": MONEY, "unit_cost": MONEY, "updated_at": TIMESTAMP, "_synced_at": TIMESTAMP,
    },
    "inventory_levels": {
        "store_id": pl.String, "variant_id": pl.String, "location_id": pl.String, "available": pl.Int32,
        "updated_at": TIMESTAMP, "_synced_at": TIMESTAMP,
    },
    "locations": {
        "store_id": pl.String, "location_id": pl.String, "name": pl.String, "country": pl.String,
        "_synced_at": TIMESTAMP,
    },
}

# created_via -> orders.channel. Anything naming a point of sale is "pos".
_CHANNELS = {
    "checkout": "online_store",
    "store-api": "online_store",  # the block-based checkout
    "admin": "other",
    "rest-api": "other",
    "": "other",
}
_POS = re.compile(r"(^|[-_ .])pos($|[-_ .])")
_MARKETPLACES = ("amazon", "ebay", "etsy", "walmart", "google")
_SOCIAL = ("facebook", "instagram", "tiktok", "pinterest", "snapchat")


def frame(table: str, rows: Sequence[Mapping[str, Any]]) -> pl.DataFrame:
    """Rows as a frame with the table's exact column types (money stays Decimal)."""
    schema = SCHEMAS[table]
    return pl.DataFrame([{k: row.get(k) for k in schema} for row in rows], schema=schema, orient="row")


def key_frame(store_id: str, column: str, values: Sequence[str]) -> pl.DataFrame:
    """``store_id`` and one id column: the rows to delete (all lines of some orders, say)."""
    return pl.DataFrame({"store_id": [store_id] * len(values), column: list(values)},
                        schema={"store_id": pl.String, column: pl.String})


# -- values -------------------------------------------------------------------

def money(value: Any) -> Decimal:
    """A WooCommerce amount (decimal string, sometimes a number or "") as an exact Decimal."""
    if value is None or value == "":
        return ZERO
    try:
        return Decimal(str(value)).quantize(Q4)
    except InvalidOperation:
        return ZERO


def quantity(value: Any) -> int:
    """A quantity as a whole number (a plugin selling by weight may send "1.5": rounded)."""
    try:
        return int(Decimal(str(value or 0)).to_integral_value())
    except InvalidOperation:
        return 0


def optional_money(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value)).quantize(Q4)
    except InvalidOperation:
        return None


def gmt(value: Any) -> dt.datetime | None:
    """A ``*_gmt`` field (naive ISO time in UTC) as an aware UTC datetime."""
    if not value:
        return None
    try:
        parsed = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def record_time(record: Mapping[str, Any], name: str) -> dt.datetime | None:
    """``<name>_gmt`` of a record (WooCommerce 3.0+ always sends it)."""
    return gmt(record.get(f"{name}_gmt"))


def email_hash(email: Any) -> str | None:
    if not email or not str(email).strip():
        return None
    return hashlib.sha256(str(email).strip().lower().encode()).hexdigest()


def text_id(value: Any) -> str | None:
    """A WooCommerce id as text; 0 and empty mean none."""
    if value in (None, "", 0, "0"):
        return None
    return str(value)


# WooCommerce's order attribution (the _wc_order_attribution_* meta fields) records the visit that ordered;
# without UTM parameters its source type names the medium.
ATTRIBUTION = "_wc_order_attribution_"
ATTRIBUTION_MEDIA = {"organic": "organic", "referral": "referral", "typein": "(none)"}


def attribution(order: Mapping[str, Any]) -> dict[str, str | None]:
    """The last visit's source, medium and campaign from the order's attribution fields (none without them)."""
    def field(name: str) -> str | None:
        value = meta_value(order, ATTRIBUTION + name)
        return str(value).strip() or None if value not in (None, "") else None

    kind = (field("source_type") or "").lower()
    source = field("utm_source") or ("(direct)" if kind == "typein" else None)
    medium = field("utm_medium") or ATTRIBUTION_MEDIA.get(kind)
    return {"last_visit_source": source.lower() if source else None,
            "last_visit_medium": medium.lower() if medium else None, "last_visit_campaign": field("utm_campaign")}


def meta_value(record: Mapping[str, Any], key: str) -> Any:
    for item in record.get("meta_data") or ():
        if isinstance(item, Mapping) and item.get("key") == key:
            return item.get("value")
    return None


def unit_cost(record: Mapping[str, Any]) -> Decimal | None:
    """Cost of one unit: WooCommerce's ``cost_of_goods_sold`` (9.5+), else ``_wc_cog_cost``
    (WooCommerce Cost of Goods), else ``_alg_wc_cog_cost`` (Cost of Goods for WooCommerce)."""
    cogs = record.get("cost_of_goods_sold")
    if isinstance(cogs, Mapping):
        value = optional_money(cogs.get("total_value"))
        if value is not None and value > 0:
            return value
    for key in COST_META_KEYS:
        value = optional_money(meta_value(record, key))
        if value is not None:
            return value
    return None


def channel(created_via: Any) -> str:
    value = str(created_via or "").strip().lower()
    if value in _CHANNELS:
        return _CHANNELS[value]
    if _POS.search(value):
        return "pos"
    if any(name in value for name in _MARKETPLACES):
        return "marketplace"
    if any(name in value for name in _SOCIAL):
        return "social"
    return "other"


def refunded_total(order: Mapping[str, Any], refunds: Iterable[Mapping[str, Any]] | None = None) -> Decimal:
    """Money paid back on an order: its refunds' amounts (or the order's refunds summary)."""
    if refunds is not None:
        return sum((abs(money(r.get("amount"))) for r in refunds), ZERO)
    return sum((abs(money(r.get("total"))) for r in order.get("refunds") or ()), ZERO)


def financial_status(order: Mapping[str, Any], refunded: Decimal) -> str:
    status = str(order.get("status") or "")
    paid = bool(order.get("date_paid_gmt") or order.get("date_paid"))
    if status in ("pending", "on-hold"):
        return "pending"
    if status == "refunded":
        return "refunded"
    if status in ("failed", "checkout-draft", "trash"):
        return "voided"
    if status == "cancelled" and not paid:
        return "voided"
    if status in ("processing", "completed", "cancelled") or paid:
        if refunded > 0:
            return "refunded" if refunded >= money(order.get("total")) else "partially_refunded"
        return "paid"
    return "pending"  # a custom status of an order never paid


def fulfillment_status(order: Mapping[str, Any]) -> str:
    if order.get("status") == "completed" or order.get("date_completed_gmt"):
        return "fulfilled"
    return "unfulfilled"


def _allocate(amount: Decimal, weights: Sequence[Decimal]) -> list[Decimal]:
    """Split ``amount`` over ``weights`` proportionally at 4 places; the last share takes the remainder."""
    if not weights:
        return []
    total = sum(weights, ZERO)
    if total == 0:
        weights, total = [Decimal(1)] * len(weights), Decimal(len(weights))
    shares = [(amount * w / total).quantize(Q4) for w in weights[:-1]]
    return shares + [amount - sum(shares, ZERO)]


# -- orders -------------------------------------------------------------------

def order_tables(
    store_id: str,
    order: Mapping[str, Any],
    refunds: Sequence[Mapping[str, Any]] | None,
    synced_at: dt.datetime,
) -> dict[str, list[dict]]:
    """One order (and its refunds when given) as rows of orders, order_lines, refunds, refund_lines, customers.

    ``refunds`` None means "not read": no refund rows are produced.
    """
    order_id = str(order["id"])
    lines: list[dict] = []
    for item in order.get("line_items") or ():
        units = quantity(item.get("quantity"))
        subtotal = money(item.get("subtotal"))
        total = money(item.get("total"))
        unit_price = (subtotal / units).quantize(Q4) if units else subtotal
        product_id = text_id(item.get("product_id"))
        lines.append({
            "store_id": store_id, "line_id": str(item["id"]), "order_id": order_id, "product_id": product_id,
            "variant_id": text_id(item.get("variation_id")) or product_id, "sku": item.get("sku") or None,
            "title": item.get("name"), "quantity": units, "unit_price": unit_price,
            "discount": subtotal - total, "tax": money(item.get("total_tax")), "is_gift_card": False,
            "_synced_at": synced_at,
        })
    goods = list(lines)
    for fee in order.get("fee_lines") or ():
        total, tax = money(fee.get("total")), money(fee.get("total_tax"))
        if total >= 0 or not goods:
            # A charge (gift wrap, handling, payment surcharge): a line without a product.
            lines.append({
                "store_id": store_id, "line_id": str(fee["id"]), "order_id": order_id, "product_id": None,
                "variant_id": None, "sku": None, "title": fee.get("name"), "quantity": 1, "unit_price": total,
                "discount": ZERO, "tax": tax, "is_gift_card": False, "_synced_at": synced_at,
            })
            continue
        # A negative fee is a discount on the whole order: spread over the goods by their value.
        weights = [line["unit_price"] * line["quantity"] - line["discount"] for line in goods]
        for line, share, tax_share in zip(goods, _allocate(-total, weights), _allocate(tax, weights)):
            line["discount"] += share
            line["tax"] += tax_share

    shipping_lines = order.get("shipping_lines") or ()
    if shipping_lines:
        shipping = sum((money(s.get("total")) for s in shipping_lines), ZERO)
    else:
        shipping = money(order.get("shipping_total"))
    gross = sum((line["unit_price"] * line["quantity"] for line in lines), ZERO)
    discounts = sum((line["discount"] for line in lines), ZERO)
    refunded = refunded_total(order, refunds)
    status = str(order.get("status") or "")
    created = record_time(order, "date_created")
    modified = record_time(order, "date_modified") or created
    billing = order.get("billing") or {}
    ship_to = order.get("shipping") or {}
    country = (ship_to.get("country") or billing.get("country") or None)
    customer_id = text_id(order.get("customer_id"))
    tables: dict[str, list[dict]] = {"customers": [], "customer_contacts": []}
    if customer_id is None:
        guest = email_hash(billing.get("email"))
        if guest:
            customer_id = guest_customer_id(guest)
            tables["customers"].append({
                "store_id": store_id, "customer_id": customer_id, "email_hash": guest,
                "country": billing.get("country") or country, "_synced_at": synced_at,
            })
            # A guest is known only by their orders: the billing details are their contact.
            tables["customer_contacts"] = [r for r in [billing_contact(store_id, customer_id, billing, modified,
                                                                        synced_at)] if r]
    codes = [c.get("code") for c in order.get("coupon_lines") or () if c.get("code")]
    total_price = money(order.get("total"))
    tables["orders"] = [{
        "store_id": store_id, "order_id": order_id, "order_number": str(order.get("number") or order_id),
        "customer_id": customer_id, "created_at": created,
        "processed_at": record_time(order, "date_paid") or created, "updated_at": modified,
        "cancelled_at": modified if status == "cancelled" else None,
        "currency": order.get("currency"), "presentment_currency": order.get("currency"),
        "financial_status": financial_status(order, refunded), "fulfillment_status": fulfillment_status(order),
        "channel": channel(order.get("created_via")), "source_name": order.get("created_via") or None,
        "country": country, "subtotal": gross - discounts, "total_discounts": discounts,
        "total_shipping": shipping, "total_tax": money(order.get("total_tax")), "total_duties": ZERO,
        "total_price": total_price, "presentment_total_price": total_price,
        "discount_codes": ",".join(codes) or None, "is_test": False, **attribution(order), "_synced_at": synced_at,
    }]
    tables["order_lines"] = lines
    tables["refunds"], tables["refund_lines"] = [], []
    if refunds is not None:
        for refund in refunds:
            head, refund_lines = refund_rows(store_id, order_id, refund, synced_at)
            tables["refunds"].append(head)
            tables["refund_lines"].extend(refund_lines)
    return tables


def _refunded_item(item: Mapping[str, Any]) -> str:
    original = meta_value(item, "_refunded_item_id")
    return str(original) if original not in (None, "") else str(item.get("id"))


def refund_rows(
    store_id: str, order_id: str, refund: Mapping[str, Any], synced_at: dt.datetime
) -> tuple[dict, list[dict]]:
    """A refund (``orders/<id>/refunds``, amounts negative) as a refunds row and its refund_lines."""
    refund_id = str(refund["id"])
    by_line: dict[str, dict] = {}
    tax_refunded = ZERO
    for item in refund.get("line_items") or ():
        line_id = _refunded_item(item)
        row = by_line.setdefault(line_id, {
            "store_id": store_id, "refund_id": refund_id, "line_id": line_id, "quantity": 0,
            "subtotal": ZERO, "tax": ZERO, "restock": False, "_synced_at": synced_at,
        })
        row["quantity"] += abs(quantity(item.get("quantity")))
        row["subtotal"] += abs(money(item.get("total")))
        row["tax"] += abs(money(item.get("total_tax")))
        tax_refunded += abs(money(item.get("total_tax")))
    for fee in refund.get("fee_lines") or ():
        # A refunded charge (positive fee): returned like a line; one unit when the whole fee goes back.
        line_id = _refunded_item(fee)
        total = abs(money(fee.get("total")))
        by_line[line_id] = {
            "store_id": store_id, "refund_id": refund_id, "line_id": line_id, "quantity": 1 if total else 0,
            "subtotal": total, "tax": abs(money(fee.get("total_tax"))), "restock": False, "_synced_at": synced_at,
        }
        tax_refunded += abs(money(fee.get("total_tax")))
    shipping_refunded = ZERO
    for line in refund.get("shipping_lines") or ():
        shipping_refunded += abs(money(line.get("total")))
        tax_refunded += abs(money(line.get("total_tax")))
    head = {
        "store_id": store_id, "refund_id": refund_id, "order_id": order_id,
        "created_at": record_time(refund, "date_created"), "shipping_refunded": shipping_refunded,
        "tax_refunded": tax_refunded, "total_refunded": abs(money(refund.get("amount"))),
        "note": refund.get("reason") or None, "_synced_at": synced_at,
    }
    return head, list(by_line.values())


# -- customers ----------------------------------------------------------------

def customer_row(store_id: str, customer: Mapping[str, Any], synced_at: dt.datetime) -> dict:
    billing = customer.get("billing") or {}
    shipping = customer.get("shipping") or {}
    created = record_time(customer, "date_created")
    return {
        "store_id": store_id, "customer_id": str(customer["id"]),
        "email_hash": email_hash(customer.get("email") or billing.get("email")), "created_at": created,
        "country": billing.get("country") or shipping.get("country") or None, "accepts_marketing": None,
        "tags": customer.get("role") or None, "updated_at": record_time(customer, "date_modified") or created,
        "_synced_at": synced_at,
    }


def billing_contact(store_id: str, customer_id: str, billing: Mapping[str, Any], updated_at: dt.datetime | None,
                    synced_at: dt.datetime, email: Any = None) -> dict | None:
    """The ``customer_contacts`` row of a billing address (name, email, phone), or ``None``."""
    return contact_row(store_id, customer_id, name=person_name(billing.get("first_name"), billing.get("last_name")),
                       email=email or billing.get("email"), phone=billing.get("phone"), updated_at=updated_at,
                       synced_at=synced_at)


def customer_contact(store_id: str, customer: Mapping[str, Any], synced_at: dt.datetime) -> dict | None:
    """A registered customer's contact: their account name, else their billing name."""
    billing = customer.get("billing") or {}
    row = billing_contact(store_id, str(customer["id"]), billing, record_time(customer, "date_modified")
                          or record_time(customer, "date_created"), synced_at, email=customer.get("email"))
    name = person_name(customer.get("first_name"), customer.get("last_name"))
    if row is not None and name:
        row["name"] = name
    return row


# -- catalogue ----------------------------------------------------------------

_PRODUCT_STATUS = {"publish": "active", "draft": "draft", "pending": "draft", "future": "draft", "private": "archived"}


def product_row(store_id: str, product: Mapping[str, Any], synced_at: dt.datetime) -> dict:
    categories = product.get("categories") or []
    brands = product.get("brands") or []
    created = record_time(product, "date_created")
    return {
        "store_id": store_id, "product_id": str(product["id"]), "title": product.get("name"),
        "product_type": categories[0].get("name") if categories else None,
        "vendor": brands[0].get("name") if brands and isinstance(brands[0], Mapping) else None,
        "status": _PRODUCT_STATUS.get(str(product.get("status")), str(product.get("status") or "") or None),
        "created_at": created, "updated_at": record_time(product, "date_modified") or created,
        "_synced_at": synced_at,
    }


def has_own_variant(product: Mapping[str, Any]) -> bool:
    """A product sold as itself (simple, external, ...), not through variations or as a group."""
    return product.get("type") not in ("variable", "grouped")


def variant_rows(
    store_id: str, record: Mapping[str, Any], product_id: str, title: str | None, synced_at: dt.datetime
) -> tuple[dict, dict | None]:
    """A sellable item (a simple product or a variation) as a variants row and its stock, when managed."""
    updated = record_time(record, "date_modified") or record_time(record, "date_created")
    variant_id = str(record["id"])
    variant = {
        "store_id": store_id, "variant_id": variant_id, "product_id": product_id, "sku": record.get("sku") or None,
        "title": title, "price": optional_money(record.get("price")), "unit_cost": unit_cost(record),
        "updated_at": updated, "_synced_at": synced_at,
    }
    level = None
    # manage_stock is True, False, or "parent" on a variation whose stock the product keeps.
    if record.get("manage_stock") is True and record.get("stock_quantity") is not None:
        level = {
            "store_id": store_id, "variant_id": variant_id, "location_id": LOCATION_ID,
            "available": quantity(record["stock_quantity"]), "updated_at": updated, "_synced_at": synced_at,
        }
    return variant, level


def variation_title(variation: Mapping[str, Any]) -> str | None:
    options = [str(a.get("option")) for a in variation.get("attributes") or () if a.get("option")]
    return " / ".join(options) or variation.get("name") or None


def product_tables(store_id: str, product: Mapping[str, Any], synced_at: dt.datetime) -> dict[str, list[dict]]:
    """A product as its products row, plus its own variants row and stock when it is sold as itself."""
    tables: dict[str, list[dict]] = {"products": [product_row(store_id, product, synced_at)], "variants": [],
                                     "inventory_levels": []}
    if product.get("type") == "variation":  # a variation delivered on its own (webhooks)
        parent = text_id(product.get("parent_id"))
        tables["products"] = []
        variant, level = variant_rows(store_id, product, parent or str(product["id"]),
                                      variation_title(product), synced_at)
        tables["variants"].append(variant)
        tables["inventory_levels"].extend([level] if level else [])
    elif has_own_variant(product):
        variant, level = variant_rows(store_id, product, str(product["id"]), product.get("name"), synced_at)
        tables["variants"].append(variant)
        tables["inventory_levels"].extend([level] if level else [])
    return tables


def variation_tables(
    store_id: str, product_id: str, variations: Iterable[Mapping[str, Any]], synced_at: dt.datetime
) -> dict[str, list[dict]]:
    tables: dict[str, list[dict]] = {"variants": [], "inventory_levels": []}
    for variation in variations:
        variant, level = variant_rows(store_id, variation, product_id, variation_title(variation), synced_at)
        tables["variants"].append(variant)
        if level:
            tables["inventory_levels"].append(level)
    return tables


def location_row(store_id: str, country: str | None, synced_at: dt.datetime) -> dict:
    return {"store_id": store_id, "location_id": LOCATION_ID, "name": "Default", "country": country,
            "_synced_at": synced_at}
