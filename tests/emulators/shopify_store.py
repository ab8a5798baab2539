"""The emulated Shopify store: REST-shaped records (as in ``tests/fixtures/shopify``) and their GraphQL shapes.

:func:`build_store` makes the shop the connector's tests work on: the
fixtures' shop, product, customer, locations, order, refund and transaction,
turned into a few days of trade whose figures are worked out by hand in
tests/test_shopify.py. The records double as webhook payloads; the
``*_node`` functions give what the GraphQL Admin API answers for them.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import threading
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any
from tests.emulators import FIXTURES_DIR

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = FIXTURES_DIR / "shopify"
UTC = dt.timezone.utc


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / f"{name}.json").read_text())


# -- the store's records (REST-shaped) ------------------------------------------------

def money_set(amount: Any, currency: str = "USD", presentment: Any = None, presentment_currency: str | None = None):
    shop = {"amount": f"{Decimal(str(amount)):.2f}", "currency_code": currency}
    shown = {"amount": f"{Decimal(str(presentment if presentment is not None else amount)):.2f}",
             "currency_code": presentment_currency or currency}
    return {"shop_money": shop, "presentment_money": shown}


def iso(value: Any) -> str | None:
    """A REST timestamp (any offset) as GraphQL gives it: UTC with a Z."""
    if value is None:
        return None
    stamp = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return stamp.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def now_rest() -> str:
    return dt.datetime.now(UTC).replace(microsecond=0).isoformat()


def _d(value: Any) -> Decimal:
    return Decimal(str(value))


def line_item(line_id: int, variant: dict, product: dict, quantity: int, *, price: Any = None,
              discounts: tuple = (), tax: Any = None, tax_rate: float = 0.06, gift_card: bool = False) -> dict:
    """A REST line item in the shape of the fixtures' ``line_items``, with today's money sets."""
    price = _d(price if price is not None else variant["price"])
    allocations = [{"amount": f"{_d(a):.2f}", "amount_set": money_set(a), "discount_application_index": 0}
                   for a in discounts]
    taxes = []
    if tax is not None and _d(tax) != 0:
        taxes = [{"title": "State Tax", "price": f"{_d(tax):.2f}", "rate": tax_rate, "price_set": money_set(tax)}]
    return {
        "id": line_id, "variant_id": variant["id"], "product_id": product["id"], "title": product["title"],
        "variant_title": variant["title"], "sku": variant["sku"], "quantity": quantity,
        "price": f"{price:.2f}", "price_set": money_set(price), "gift_card": gift_card,
        "total_discount": f"{sum((_d(a) for a in discounts), Decimal(0)):.2f}",
        "total_discount_set": money_set(sum((_d(a) for a in discounts), Decimal(0))),
        "discount_allocations": allocations, "tax_lines": taxes, "fulfillment_status": None,
        "requires_shipping": not gift_card, "taxable": bool(taxes), "properties": [], "product_exists": True,
        "vendor": product.get("vendor"), "name": f"{product['title']} - {variant['title']}",
    }


def shipping_line(line_id: int, price: Any, *, discount: Any = 0, tax: Any = 0) -> dict:
    price, discount, tax = _d(price), _d(discount), _d(tax)
    return {
        "id": line_id, "title": "Standard", "code": "Standard", "source": "shopify",
        "price": f"{price:.2f}", "price_set": money_set(price),
        "discounted_price": f"{price - discount:.2f}", "discounted_price_set": money_set(price - discount),
        "discount_allocations": ([{"amount": f"{discount:.2f}", "amount_set": money_set(discount),
                                   "discount_application_index": 1}] if discount else []),
        "tax_lines": ([{"title": "State Tax", "price": f"{tax:.2f}", "rate": 0.06, "price_set": money_set(tax)}]
                      if tax else []),
    }


def finish_order(order: dict, *, presentment_total: Any = None) -> dict:
    """Fill an order's REST totals (``subtotal_price``, ``total_tax``, ...) from its lines."""
    cur = order["currency"]
    pcur = order.get("presentment_currency") or cur
    gross = sum((_d(li["price"]) * li["quantity"] for li in order["line_items"]), Decimal(0))
    discounts = sum((_d(a["amount"]) for li in order["line_items"] for a in li["discount_allocations"]), Decimal(0))
    line_tax = sum((_d(t["price"]) for li in order["line_items"] for t in li["tax_lines"]), Decimal(0))
    shipping = sum((_d(s["discounted_price"]) for s in order["shipping_lines"]), Decimal(0))
    ship_tax = sum((_d(t["price"]) for s in order["shipping_lines"] for t in s["tax_lines"]), Decimal(0))
    tax = line_tax + ship_tax
    subtotal = gross - discounts
    total = subtotal + shipping + tax
    shown = presentment_total if presentment_total is not None else total
    order.update({
        "total_line_items_price": f"{gross:.2f}", "total_line_items_price_set": money_set(gross),
        "subtotal_price": f"{subtotal:.2f}", "subtotal_price_set": money_set(subtotal),
        "total_discounts": f"{discounts:.2f}", "total_discounts_set": money_set(discounts),
        "total_shipping_price_set": money_set(shipping), "total_tax": f"{tax:.2f}", "total_tax_set": money_set(tax),
        "total_price": f"{total:.2f}", "total_price_set": money_set(total, cur, shown, pcur),
        "presentment_currency": pcur,
    })
    return order


def transaction(transaction_id: int, order_id: int, kind: str, amount: Any, *, status: str = "success",
                gateway: str = "shopify_payments", fee: Any = None, created_at: str) -> dict:
    record = copy.deepcopy(fixture("transaction")["transaction"])
    record.update({"id": transaction_id, "order_id": order_id, "kind": kind, "amount": f"{_d(amount):.2f}",
                   "status": status, "gateway": gateway, "created_at": created_at, "currency": "USD",
                   "test": False})
    record["_fee"] = None if fee is None else f"{_d(fee):.2f}"
    return record


@dataclass
class Store:
    """A shop's records in REST shape, changed by tests between syncs."""

    shop: dict
    products: dict[int, dict]
    customers: dict[int, dict]
    locations: dict[int, dict]
    inventory: dict[tuple[int, int], dict]  # (inventory item id, location id) -> level
    orders: dict[int, dict]
    lock: threading.RLock = field(default_factory=threading.RLock)

    def variant(self, variant_id: int) -> tuple[dict, dict]:
        for product in self.products.values():
            for variant in product["variants"]:
                if variant["id"] == variant_id:
                    return variant, product
        raise KeyError(variant_id)

    def touch_order(self, order_id: int, **changes) -> dict:
        """Change an order the way Shopify does: fields replaced, ``updated_at`` moved to now."""
        with self.lock:
            order = self.orders[order_id]
            order.update(changes)
            order["updated_at"] = now_rest()
            return order

    def add_refund(self, order_id: int, refund: dict) -> dict:
        with self.lock:
            order = self.orders[order_id]
            order.setdefault("refunds", []).append(refund)
            order["updated_at"] = now_rest()
            return refund

    def rest_order(self, order_id: int) -> dict:
        """The order as a webhook delivers it (REST shape, no emulator bookkeeping)."""
        with self.lock:
            return {k: copy.deepcopy(v) for k, v in self.orders[order_id].items() if not k.startswith("_")}

    def set_available(self, variant_id: int, location_id: int, available: int) -> None:
        with self.lock:
            variant, _ = self.variant(variant_id)
            level = self.inventory[(variant["inventory_item_id"], location_id)]
            level["available"] = available
            level["updated_at"] = now_rest()


ORDER_DAY = "2026-11-03"  # the store-local day of the hand-worked figures (America/New_York, UTC-5)


def build_store() -> Store:
    """The test shop: the fixtures' shop, products, locations, customer and order, made into a few days of trade.

    Hand-worked figures for 2026-11-03 (New York): see tests/test_shopify.py.
    """
    shop = copy.deepcopy(fixture("shop")["shop"])
    shop.update({"iana_timezone": "America/New_York", "myshopify_domain": "apple.myshopify.com"})

    ipod = copy.deepcopy(fixture("product")["product"])
    ipod["status"] = "active"
    costs = {808950810: "120.00", 49148385: "121.00", 39072856: "122.00", 457924702: "123.00"}
    for variant in ipod["variants"]:
        variant["inventory_item_id"] = variant["id"] + 7_000_000_000
        variant["cost"] = costs[variant["id"]]
    sticker = copy.deepcopy(ipod)
    sticker.update({"id": 632910393, "title": "Sticker", "product_type": "Accessories", "handle": "sticker"})
    sticker["variants"] = [dict(ipod["variants"][0], id=808950811, product_id=632910393, title="Round",
                                sku="STICKER-ROUND", price="2.50", inventory_item_id=7_808_950_811, cost="0.40")]
    gift = copy.deepcopy(ipod)
    gift.update({"id": 900000001, "title": "Gift card", "product_type": "Gift card", "handle": "gift-card"})
    gift["variants"] = [dict(ipod["variants"][0], id=900000011, product_id=900000001, title="$50",
                             sku="GIFT50", price="50.00", inventory_item_id=7_900_000_011, cost=None)]
    products = {p["id"]: p for p in (ipod, sticker, gift)}

    bob = copy.deepcopy(fixture("customer")["customer"])
    bob["updated_at"] = "2026-10-01T09:00:00-04:00"
    alice = copy.deepcopy(bob)
    alice.update({"id": 207119552, "email": "  Alice.Smith@Example.COM ", "first_name": "Alice",
                  "last_name": "Smith", "tags": "vip, wholesale", "created_at": "2026-10-02T10:00:00-04:00",
                  "updated_at": "2026-10-02T10:00:00-04:00", "accepts_marketing": True,
                  "email_marketing_consent": {"state": "subscribed", "opt_in_level": "single_opt_in"}})
    alice["default_address"] = dict(alice["default_address"], country_code="DE", country="Germany")
    customers = {c["id"]: c for c in (bob, alice)}

    locations = {loc["id"]: loc for loc in copy.deepcopy(fixture("locations")["locations"])}
    inventory = {}
    for i, (variant_id, location_id, available) in enumerate([
        (808950810, 487838322, 9), (808950810, 1034478814, 1), (39072856, 487838322, 27),
        (39072856, 1034478814, 3), (49148385, 487838322, 12), (457924702, 487838322, 0),
        (808950811, 487838322, 500),
    ]):
        item = next(v for p in products.values() for v in p["variants"] if v["id"] == variant_id)["inventory_item_id"]
        inventory[(item, location_id)] = {"inventory_item_id": item, "location_id": location_id,
                                          "available": available, "updated_at": f"2026-11-0{1 + i % 3}T08:00:00-05:00"}

    store = Store(shop=shop, products=products, customers=customers, locations=locations, inventory=inventory,
                  orders={})
    pink, _ = store.variant(808950810)
    red, _ = store.variant(49148385)
    green, _ = store.variant(39072856)
    black, _ = store.variant(457924702)
    round_sticker, _ = store.variant(808950811)
    gift50, _ = store.variant(900000011)
    base = fixture("order")["order"]

    def order(order_id: int, number: int, created: str, **fields) -> dict:
        record = copy.deepcopy(base)
        record.update({"id": order_id, "name": f"#{number}", "order_number": number, "number": number - 1000,
                       "created_at": created, "processed_at": created, "updated_at": created,
                       "financial_status": "paid", "fulfillment_status": "fulfilled", "discount_codes": [],
                       "refunds": [], "fulfillments": [], "shipping_lines": [], "_transactions": []})
        record.update(fields)
        return record

    # A: web, two lines, a $10 code on the first, shipping with tax; refunded in part on 11-05.
    a = order(450789469, 1001, f"{ORDER_DAY}T10:00:00-05:00", source_name="web",
              discount_codes=[{"code": "TENOFF", "amount": "10.00", "type": "fixed_amount"}],
              line_items=[line_item(466157049, green, ipod, 1, discounts=("10.00",), tax="11.34"),
                          line_item(518995019, red, ipod, 2, tax="23.88")],
              shipping_lines=[shipping_line(271878346, "10.00", tax="0.60")],
              financial_status="partially_refunded")
    finish_order(a)
    # First came from a Google ad (UTM parameters), last from an Instagram post Shopify named itself.
    a["_journey"] = {"ready": True, "firstVisit": {
        "id": gid("CustomerVisit", 1), "occurredAt": "2026-10-28T12:00:00Z", "source": "Google", "sourceType": "AD",
        "referralInfoHtml": "", "utmParameters": {"source": "google", "medium": "cpc", "campaign": "Fall Sale"}},
        "lastVisit": {"id": gid("CustomerVisit", 2), "occurredAt": "2026-11-02T14:00:00Z", "source": "Instagram",
                      "sourceType": "POST", "referralInfoHtml": "", "utmParameters": None}}
    a["_transactions"] = [transaction(389404469, a["id"], "sale", a["total_price"], fee="18.65",
                                      created_at=a["created_at"])]
    refund = copy.deepcopy(fixture("refund")["refund"])
    refund.update({"id": 509562969, "order_id": a["id"], "created_at": "2026-11-05T09:00:00-05:00",
                   "processed_at": "2026-11-05T09:00:00-05:00", "note": "it broke during shipping"})
    red_line = a["line_items"][1]
    refund["refund_line_items"] = [{
        "id": 104689539, "quantity": 1, "line_item_id": red_line["id"], "line_item": copy.deepcopy(red_line),
        "restock_type": "return", "location_id": 487838322,
        "subtotal": "199.00", "subtotal_set": money_set("199.00"),
        "total_tax": "11.94", "total_tax_set": money_set("11.94"),
    }]
    refund["order_adjustments"] = [{
        "id": 99001, "order_id": a["id"], "refund_id": refund["id"], "kind": "shipping_refund",
        "reason": "Shipping refund", "amount": "-10.00", "amount_set": money_set("-10.00"),
        "tax_amount": "-0.60", "tax_amount_set": money_set("-0.60"),
    }]
    refund["transactions"] = [dict(refund["transactions"][0], id=179259969, order_id=a["id"], amount="221.54",
                                   created_at=refund["created_at"], currency="USD")]
    a["refunds"] = [refund]
    a["updated_at"] = refund["created_at"]
    a["_transactions"].append(transaction(179259969, a["id"], "refund", "221.54", created_at=refund["created_at"]))

    # B: point of sale, late in the evening (already 11-04 in UTC), a 10% line discount and a gift card;
    # the buyer paid in euros.
    b = order(450789470, 1002, f"{ORDER_DAY}T23:30:00-05:00", source_name="pos", presentment_currency="EUR",
              customer={"id": 207119552}, shipping_address=None,
              billing_address=dict(base["billing_address"], country_code="DE", country="Germany"),
              line_items=[line_item(466157050, black, ipod, 1, discounts=("19.90",)),
                          line_item(466157051, gift50, gift, 1, gift_card=True)])
    finish_order(b, presentment_total="210.77")
    b["_transactions"] = [transaction(389404470, b["id"], "sale", b["total_price"], gateway="cash",
                                      created_at=b["created_at"])]

    # C: a test order; D: cancelled before payment. Neither counts.
    c = order(450789471, 1003, f"{ORDER_DAY}T12:00:00-05:00", test=True,
              line_items=[line_item(466157052, pink, ipod, 1, tax="11.94")])
    finish_order(c)
    d = order(450789472, 1004, f"{ORDER_DAY}T09:00:00-05:00", financial_status="voided",
              fulfillment_status=None, cancelled_at=f"{ORDER_DAY}T09:30:00-05:00", cancel_reason="customer",
              updated_at=f"{ORDER_DAY}T09:30:00-05:00", line_items=[line_item(466157053, pink, ipod, 1)])
    finish_order(d)

    # E: a draft order just before midnight on 11-02 (11-03 in UTC), paid in five attempts.
    e = order(450789473, 1005, "2026-11-02T23:59:00-05:00", source_name="shopify_draft_order",
              line_items=[line_item(466157054, green, ipod, 1)], shipping_lines=[shipping_line(271878347, "5.00")])
    finish_order(e)
    e["_transactions"] = [
        transaction(389404471, e["id"], "sale", "204.00", status="failure", created_at=e["created_at"]),
        transaction(389404472, e["id"], "sale", "204.00", status="failure", created_at=e["created_at"]),
        transaction(389404473, e["id"], "authorization", "204.00", created_at=e["created_at"]),
        transaction(389404474, e["id"], "capture", "100.00", fee="3.20", created_at=e["created_at"]),
        transaction(389404475, e["id"], "capture", "104.00", fee="3.32", created_at=e["created_at"]),
    ]

    # F: the iPhone app, ten sticker lines (more than one page of lines), $5 off spread over them, free shipping.
    f = order(450789474, 1006, f"{ORDER_DAY}T15:00:00-05:00", source_name="iphone", customer={"id": 207119552},
              line_items=[line_item(466157060 + i, round_sticker, sticker, 1, discounts=("0.50",), tax="0.16",
                                    tax_rate=0.08) for i in range(10)],
              shipping_lines=[shipping_line(271878348, "4.99", discount="4.99")])
    finish_order(f)
    f["_transactions"] = [transaction(389404476, f["id"], "sale", f["total_price"], fee="0.93",
                                      created_at=f["created_at"])]
    for record in (a, b, c, d, e, f):
        store.orders[record["id"]] = record
    return store


# -- GraphQL shapes of the records ------------------------------------------------

def gid(kind: str, value: Any) -> str:
    return f"gid://shopify/{kind}/{value}"


def bag(rest_set: dict | None) -> dict | None:
    if rest_set is None:
        return None
    return {"shopMoney": {"amount": rest_set["shop_money"]["amount"],
                          "currencyCode": rest_set["shop_money"]["currency_code"]},
            "presentmentMoney": {"amount": rest_set["presentment_money"]["amount"],
                                 "currencyCode": rest_set["presentment_money"]["currency_code"]}}


def _tax_lines(lines: list) -> list:
    return [{"title": t["title"], "rate": t.get("rate"), "priceSet": bag(t.get("price_set") or money_set(t["price"]))}
            for t in lines]


def _allocations(allocations: list) -> list:
    return [{"allocatedAmountSet": bag(a.get("amount_set") or money_set(a["amount"]))} for a in allocations]


FULFILLMENT = {None: "UNFULFILLED", "partial": "PARTIALLY_FULFILLED", "fulfilled": "FULFILLED",
               "restocked": "RESTOCKED"}


def order_node(store: Store, order: dict) -> dict:
    currency = order["currency"]

    def line(item: dict) -> dict:
        return {
            "__typename": "LineItem", "id": gid("LineItem", item["id"]), "sku": item.get("sku"),
            "quantity": item["quantity"], "currentQuantity": item["quantity"], "title": item["title"],
            "variantTitle": item.get("variant_title"), "isGiftCard": bool(item.get("gift_card")),
            "name": item.get("name"),
            "variant": {"id": gid("ProductVariant", item["variant_id"])} if item.get("variant_id") else None,
            "product": {"id": gid("Product", item["product_id"])} if item.get("product_id") else None,
            "originalUnitPriceSet": bag(item.get("price_set") or money_set(item["price"])),
            "discountAllocations": _allocations(item.get("discount_allocations") or []),
            "taxLines": _tax_lines(item.get("tax_lines") or []),
        }

    def shipping(item: dict) -> dict:
        return {
            "__typename": "ShippingLine", "id": gid("ShippingLine", item["id"]), "title": item["title"],
            "code": item.get("code"), "source": item.get("source"),
            "originalPriceSet": bag(item["price_set"]), "discountedPriceSet": bag(item["discounted_price_set"]),
            "discountAllocations": _allocations(item.get("discount_allocations") or []),
            "taxLines": _tax_lines(item.get("tax_lines") or []),
        }

    address = lambda a: {"countryCodeV2": a.get("country_code")} if a else None  # noqa: E731
    return {
        "__typename": "Order", "id": gid("Order", order["id"]), "legacyResourceId": str(order["id"]),
        "name": order["name"], "createdAt": iso(order["created_at"]),
        "processedAt": iso(order.get("processed_at") or order["created_at"]), "updatedAt": iso(order["updated_at"]),
        "cancelledAt": iso(order.get("cancelled_at")), "test": bool(order.get("test")),
        "sourceName": order.get("source_name"), "taxesIncluded": bool(order.get("taxes_included")),
        "currencyCode": currency, "presentmentCurrencyCode": order.get("presentment_currency") or currency,
        "displayFinancialStatus": (order.get("financial_status") or "pending").upper(),
        "displayFulfillmentStatus": FULFILLMENT[order.get("fulfillment_status")],
        "discountCodes": [c["code"] for c in order.get("discount_codes") or []],
        "customer": {"id": gid("Customer", order["customer"]["id"])} if order.get("customer") else None,
        "shippingAddress": address(order.get("shipping_address")),
        "billingAddress": address(order.get("billing_address")),
        "subtotalPriceSet": bag(order["subtotal_price_set"]), "totalDiscountsSet": bag(order["total_discounts_set"]),
        "totalShippingPriceSet": bag(order["total_shipping_price_set"]), "totalTaxSet": bag(order["total_tax_set"]),
        "totalPriceSet": bag(order["total_price_set"]),
        "originalTotalDutiesSet": bag(order.get("original_total_duties_set")),
        "lineItems": [line(i) for i in order["line_items"]],
        "shippingLines": [shipping(s) for s in order.get("shipping_lines") or []],
        "refunds": [refund_node(order, r) for r in order.get("refunds") or []],
        "transactions": [transaction_node(t) for t in order.get("_transactions") or []],
        "customerJourneySummary": order.get("_journey"),
    }


def refund_node(order: dict, refund: dict) -> dict:
    lines = []
    for item in refund.get("refund_line_items") or []:
        lines.append({
            "quantity": item["quantity"], "restockType": str(item.get("restock_type") or "no_restock").upper(),
            "restocked": item.get("restock_type") in ("return", "cancel", "legacy_restock"),
            "lineItem": {"id": gid("LineItem", item["line_item_id"])},
            "subtotalSet": bag(item["subtotal_set"]), "totalTaxSet": bag(item["total_tax_set"]),
            "priceSet": bag(item["line_item"]["price_set"]),
        })
    shipping = []
    for adjustment in refund.get("order_adjustments") or []:
        if adjustment.get("kind") == "shipping_refund":
            shipping.append({
                "id": gid("RefundShippingLine", adjustment["id"]),
                "subtotalAmountSet": bag(money_set(-_d(adjustment["amount"]))),
                "taxAmountSet": bag(money_set(-_d(adjustment["tax_amount"]))),
            })
    total = sum((_d(t["amount"]) for t in refund.get("transactions") or []
                 if t.get("kind") == "refund" and t.get("status") == "success"), Decimal(0))
    return {
        "__typename": "Refund", "id": gid("Refund", refund["id"]), "legacyResourceId": str(refund["id"]),
        "createdAt": iso(refund["created_at"]), "updatedAt": iso(refund.get("updated_at") or refund["created_at"]),
        "note": refund.get("note"), "order": {"id": gid("Order", order["id"])},
        "totalRefundedSet": bag(money_set(total)), "refundLineItems": lines, "refundShippingLines": shipping,
    }


def transaction_node(record: dict) -> dict:
    fee = record.get("_fee")
    return {
        "__typename": "OrderTransaction", "id": gid("OrderTransaction", record["id"]),
        "kind": record["kind"].upper(), "status": record["status"].upper(), "gateway": record["gateway"],
        "test": bool(record.get("test")), "createdAt": iso(record["created_at"]),
        "processedAt": iso(record["created_at"]), "amountSet": bag(money_set(record["amount"])),
        "fees": ([{"id": gid("TransactionFee", record["id"]), "amount": {"amount": fee, "currencyCode": "USD"},
                   "type": "payment_processing"}] if fee else []),
    }


def customer_node(customer: dict) -> dict:
    consent = customer.get("email_marketing_consent") or {}
    state = (consent.get("state") or ("subscribed" if customer.get("accepts_marketing") else "not_subscribed"))
    address = customer.get("default_address")
    return {
        "__typename": "Customer", "id": gid("Customer", customer["id"]), "createdAt": iso(customer["created_at"]),
        "updatedAt": iso(customer["updated_at"]),
        "tags": [t.strip() for t in (customer.get("tags") or "").split(",") if t.strip()],
        "defaultEmailAddress": ({"emailAddress": customer["email"], "marketingState": state.upper()}
                                if customer.get("email") else None),
        "defaultAddress": {"countryCodeV2": address.get("country_code")} if address else None,
        "firstName": customer.get("first_name"), "lastName": customer.get("last_name"),
        "defaultPhoneNumber": ({"phoneNumber": customer["phone"], "marketingState": "NOT_SUBSCRIBED"}
                               if customer.get("phone") else None),
    }


def product_node(store: Store, product: dict) -> dict:
    return {
        "__typename": "Product", "id": gid("Product", product["id"]), "title": product["title"],
        "productType": product.get("product_type") or "", "vendor": product.get("vendor") or "",
        "status": (product.get("status") or "active").upper(), "createdAt": iso(product["created_at"]),
        "updatedAt": iso(product["updated_at"]),
        "variants": [variant_node(v, product) for v in product["variants"]],
    }


def variant_node(variant: dict, product: dict) -> dict:
    cost = variant.get("cost")
    return {
        "__typename": "ProductVariant", "id": gid("ProductVariant", variant["id"]), "sku": variant.get("sku"),
        "title": variant["title"], "price": variant["price"], "updatedAt": iso(variant["updated_at"]),
        "product": {"id": gid("Product", product["id"])},
        "inventoryItem": {"id": gid("InventoryItem", variant["inventory_item_id"]),
                          "unitCost": {"amount": cost, "currencyCode": "USD"} if cost else None,
                          "variants": [{"id": gid("ProductVariant", variant["id"])}]},
    }


def location_node(store: Store, location: dict) -> dict:
    levels = []
    for (item, location_id), level in sorted(store.inventory.items()):
        if location_id != location["id"]:
            continue
        variant = next(v for p in store.products.values() for v in p["variants"] if v["inventory_item_id"] == item)
        levels.append({
            "__typename": "InventoryLevel",
            "id": f"gid://shopify/InventoryLevel/{location_id}?inventory_item_id={item}",
            "updatedAt": iso(level["updated_at"]),
            "item": {"id": gid("InventoryItem", item), "variants": [{"id": gid("ProductVariant", variant["id"])}]},
            "quantities": [
                {"id": gid("InventoryQuantity", f"{item}-available"), "name": "available",
                 "quantity": level["available"], "updatedAt": iso(level["updated_at"])},
                {"id": gid("InventoryQuantity", f"{item}-on_hand"), "name": "on_hand",
                 "quantity": level["available"] + 2, "updatedAt": iso(level["updated_at"])},
            ],
        })
    return {
        "__typename": "Location", "id": gid("Location", location["id"]), "name": location["name"],
        "isActive": True, "address": {"countryCode": location.get("country_code")}, "inventoryLevels": levels,
    }
