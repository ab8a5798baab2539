"""REST-shaped Shopify records (webhook payloads) as warehouse rows.

Webhooks deliver the REST Admin API's JSON (``tests/fixtures/shopify``). These
functions give the same rows as :mod:`connectors.shopify.normalize` gives for
the GraphQL answers about the same records (a test checks it), and also read
older payloads that carry plain amounts instead of ``*_set`` money bags.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Iterable, Mapping

from connectors.shopify.normalize import (
    order_customer,
    PLACES,
    ZERO,
    Rows,
    add_contact,
    decimal,
    email_hash,
    merge_refund_line,
    money_sum,
    numeric_id,
    order_row,
    refund_rows,
    rest_money,
    timestamp,
)
from data.contacts import person_name


def _lines_total(items: Iterable[Mapping[str, Any]], name: str) -> Decimal:
    return money_sum(rest_money(i, name) for i in items)


def add_order(rows: Rows, order: Mapping[str, Any]) -> str:
    """A REST order (orders/create, orders/updated, orders/cancelled payloads), with its refunds."""
    order_id = numeric_id(order["id"])
    totals = {"gross": ZERO, "discount": ZERO, "tax": ZERO}
    for item in order.get("line_items") or ():
        unit_price = rest_money(item, "price") or ZERO
        quantity = int(item.get("quantity") or 0)
        if "discount_allocations" in item:
            discount = _lines_total(item.get("discount_allocations") or (), "amount")
        else:
            discount = rest_money(item, "total_discount") or ZERO
        tax = _lines_total(item.get("tax_lines") or (), "price")
        title = item.get("title")
        if item.get("variant_title"):
            title = f"{title} - {item['variant_title']}"
        rows.add("order_lines", {
            "line_id": numeric_id(item["id"]), "order_id": order_id,
            "product_id": numeric_id(item.get("product_id")), "variant_id": numeric_id(item.get("variant_id")),
            "sku": item.get("sku") or None, "title": title, "quantity": quantity,
            "unit_price": unit_price, "discount": discount, "tax": tax,
            "is_gift_card": bool(item.get("gift_card")),
        })
        totals["gross"] += unit_price * quantity
        totals["discount"] += discount
        totals["tax"] += tax
    shipping = ZERO
    shipping_tax = ZERO
    for line in order.get("shipping_lines") or ():
        charged = rest_money(line, "discounted_price")
        if charged is None:
            charged = (rest_money(line, "price") or ZERO) - _lines_total(
                line.get("discount_allocations") or (), "amount")
        shipping += charged
        shipping_tax += _lines_total(line.get("tax_lines") or (), "price")
    address = order.get("shipping_address") or order.get("billing_address") or {}
    total_set = order.get("total_price_set") or {}
    duties = order.get("original_total_duties_set") or {}
    order_row(
        rows, order_id,
        order_number=order.get("name"),
        customer_id=order_customer(rows, order.get("customer"), order.get("email"), (
            (order.get("billing_address") or {}).get("country_code")
            or (order.get("shipping_address") or {}).get("country_code"))),
        created_at=order.get("created_at"), processed_at=order.get("processed_at"),
        updated_at=order.get("updated_at"), cancelled_at=order.get("cancelled_at"),
        currency=order.get("currency"),
        presentment_currency=order.get("presentment_currency") or order.get("currency"),
        financial=order.get("financial_status"), fulfillment=order.get("fulfillment_status"),
        source_name=order.get("source_name"), country=address.get("country_code"),
        totals=totals, shipping=shipping, shipping_tax=shipping_tax, order_tax=rest_money(order, "total_tax"),
        duties=decimal((duties.get("shop_money") or {}).get("amount")) or ZERO,
        taxes_included=bool(order.get("taxes_included")),
        presentment_total=decimal((total_set.get("presentment_money") or {}).get("amount"))
        or decimal(order.get("total_price")),
        discount_codes=[d.get("code") for d in order.get("discount_codes") or () if d.get("code")],
        is_test=bool(order.get("test")),
    )
    lines_by_id = {numeric_id(i["id"]): i for i in order.get("line_items") or ()}
    for refund in order.get("refunds") or ():
        add_refund(rows, refund, shop_currency=order.get("currency"), lines=lines_by_id)
    return order_id


def add_refund(rows: Rows, refund: Mapping[str, Any], *, shop_currency: str | None = None,
                    lines: Mapping[str, Mapping[str, Any]] | None = None) -> str:
    """A REST refund (refunds/create payloads, or an order's ``refunds``)."""
    refund_id = numeric_id(refund["id"])
    order_id = numeric_id(refund.get("order_id"))
    merged: dict[str, dict] = {}
    for item in refund.get("refund_line_items") or ():
        line = item.get("line_item") or (lines or {}).get(numeric_id(item.get("line_item_id"))) or {}
        quantity = int(item.get("quantity") or 0)
        line_quantity = int(line.get("quantity") or quantity or 1)
        subtotal = rest_money(item, "subtotal")
        if subtotal is None:  # older payloads: the line's price less its discount, pro rata
            discount = (_lines_total(line.get("discount_allocations") or (), "amount")
                        if "discount_allocations" in line else rest_money(line, "total_discount") or ZERO)
            subtotal = (rest_money(line, "price") or ZERO) * quantity - discount * quantity / line_quantity
        tax = rest_money(item, "total_tax")
        if tax is None:
            tax = _lines_total(line.get("tax_lines") or (), "price") * quantity / line_quantity
        restock_type = item.get("restock_type")
        restock = (str(restock_type).lower() != "no_restock") if restock_type else bool(refund.get("restock"))
        merge_refund_line(merged, numeric_id(item.get("line_item_id") or line.get("id")), quantity,
                           subtotal.quantize(PLACES), tax.quantize(PLACES), restock)
    shipping = ZERO
    shipping_tax = ZERO
    shipping_lines = refund.get("refund_shipping_lines")
    if shipping_lines:
        for line in shipping_lines:
            shipping += rest_money(line, "subtotal_amount") or ZERO
            shipping_tax += rest_money(line, "tax_amount") or ZERO
    else:
        for adjustment in refund.get("order_adjustments") or ():
            if str(adjustment.get("kind")) == "shipping_refund":
                shipping -= rest_money(adjustment, "amount") or ZERO
                shipping_tax -= rest_money(adjustment, "tax_amount") or ZERO
    total = None
    for transaction in refund.get("transactions") or ():
        if str(transaction.get("kind")) != "refund" or str(transaction.get("status")) != "success":
            continue
        if shop_currency and transaction.get("currency") not in (None, shop_currency):
            continue
        total = (total or ZERO) + (rest_money(transaction, "amount") or ZERO)
    refund_rows(rows, refund_id, order_id, merged, shipping, shipping_tax, total=total,
                 created_at=refund.get("created_at") or refund.get("processed_at"), note=refund.get("note"))
    return refund_id


def add_customer(rows: Rows, customer: Mapping[str, Any]) -> None:
    consent = customer.get("email_marketing_consent") or {}
    if consent:
        accepts = str(consent.get("state") or "").lower() == "subscribed"
    else:
        accepts = bool(customer.get("accepts_marketing"))
    rows.add("customers", {
        "customer_id": numeric_id(customer["id"]), "email_hash": email_hash(customer.get("email")),
        "created_at": timestamp(customer.get("created_at")),
        "country": (customer.get("default_address") or {}).get("country_code"),
        "accepts_marketing": accepts, "tags": customer.get("tags") or None,
        "updated_at": timestamp(customer.get("updated_at")),
    })
    add_contact(rows, numeric_id(customer["id"]),
                name=person_name(customer.get("first_name"), customer.get("last_name")),
                email=customer.get("email"), phone=customer.get("phone"),
                updated_at=timestamp(customer.get("updated_at")))


def add_product(rows: Rows, product: Mapping[str, Any]) -> None:
    row = {
        "product_id": numeric_id(product["id"]), "title": product.get("title"),
        "product_type": product.get("product_type") or None, "vendor": product.get("vendor") or None,
        "created_at": timestamp(product.get("created_at")), "updated_at": timestamp(product.get("updated_at")),
    }
    if product.get("status"):
        row["status"] = str(product["status"]).lower()
    rows.add("products", row)
    for variant in product.get("variants") or ():
        rows.add("variants", {  # REST payloads carry no unit cost: the stored one is kept
            "variant_id": numeric_id(variant["id"]),
            "product_id": numeric_id(variant.get("product_id") or product["id"]),
            "sku": variant.get("sku") or None, "title": variant.get("title"),
            "price": decimal(variant.get("price")), "updated_at": timestamp(variant.get("updated_at")),
        })
