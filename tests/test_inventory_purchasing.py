"""Purchase orders and suppliers on tests/inventory_store.py's store, on both backends."""

from __future__ import annotations

from decimal import Decimal

import polars as pl
import pytest

from analytics.inventory.choices import InventoryChoices
from analytics.inventory.purchasing import (
    PurchaseOrderError,
    cancel,
    draft_purchase_orders,
    mark_received,
    mark_sent,
    purchase_order_csv,
    purchase_orders,
    update_lines,
)
from analytics.inventory.stock import stock_health
from analytics.inventory.suppliers import (
    Supplier,
    SupplierError,
    SupplierItem,
    import_supplier_items,
    save_supplier,
    save_supplier_items,
    supplier_items,
)
from tests.builders import utc
from tests.inventory_store import AS_OF, build_inventory_store


def health(wh) -> pl.DataFrame:
    return stock_health(wh, "s", AS_OF, InventoryChoices())


def level(wh, variant: str, location: str) -> int | None:
    return wh.scalar("SELECT available FROM inventory_levels WHERE store_id = 's' AND variant_id = :v "
                     "AND location_id = :l", {"v": variant, "l": location})


def test_drafts_per_supplier_skip_variants_already_on_order(wh):
    build_inventory_store(wh)
    created = draft_purchase_orders(wh, "s", health(wh), "USD", now=utc(2026, 4, 1, 9))
    # v1 is already on the sent po-1; v4 has no supplier; so one draft, for sup-2's v2 (23 units at 7.50)
    assert len(created) == 1
    orders = purchase_orders(wh, "s").filter(pl.col("po_id") == created[0]).row(0, named=True)
    assert (orders["supplier_id"], orders["status"], orders["units"], orders["total"]) == \
        ("sup-2", "draft", 23, Decimal("172.5000"))
    assert draft_purchase_orders(wh, "s", health(wh), "USD") == []   # v2 is on an open draft now


def test_edit_send_receive_updates_on_order_and_stock(wh):
    build_inventory_store(wh)
    [po] = draft_purchase_orders(wh, "s", health(wh), "USD", now=utc(2026, 4, 1, 9))
    update_lines(wh, po, {"v2": 30}, {"v2": Decimal("7.25")})
    mark_sent(wh, po, now=utc(2026, 4, 1, 10))
    v2 = health(wh).filter(pl.col("variant_id") == "v2").row(0, named=True)
    assert v2["on_order"] == 30 and v2["suggested_order_qty"] == 0   # 21 + 7 − 5 − 30 < 0
    with pytest.raises(PurchaseOrderError, match="only a draft"):
        update_lines(wh, po, {"v2": 10})
    # 28 of 30 arrive: stock at a (the location holding v2) goes 5 → 33, 2 stay on order until it is closed
    assert mark_received(wh, po, {"v2": 28}) == {"v2": 28}
    assert level(wh, "v2", "a") == 33
    after = health(wh).filter(pl.col("variant_id") == "v2").row(0, named=True)
    assert after["available"] == 33 and after["on_order"] == 0      # a received order is no longer on order
    assert wh.scalar("SELECT received_quantity FROM purchase_order_lines WHERE po_id = :p", {"p": po}) == 28
    csv = purchase_order_csv(wh, po)
    assert csv.rows() == [(po, "Bolt", "SKU-v2", "B-2", 30, Decimal("7.2500"), Decimal("217.5000"), "USD")]
    with pytest.raises(PurchaseOrderError, match="not sent"):
        mark_received(wh, po)


def test_receiving_in_full_goes_to_the_location_with_most_stock(wh):
    build_inventory_store(wh)
    mark_received(wh, "po-1")          # 10 ordered, 4 received before: 6 more, at a (20 > 10 at b)
    assert (level(wh, "v1", "a"), level(wh, "v1", "b")) == (26, 10)


def test_a_failed_receipt_changes_nothing(wh):
    build_inventory_store(wh)
    with pytest.raises(PurchaseOrderError, match="negative"):
        mark_received(wh, "po-1", {"v1": -1})
    assert level(wh, "v1", "a") == 20
    assert wh.scalar("SELECT status FROM purchase_orders WHERE po_id = 'po-1'") == "sent"


def test_cancel_and_an_empty_draft_cannot_be_sent(wh):
    build_inventory_store(wh)
    [po] = draft_purchase_orders(wh, "s", health(wh), "USD")
    update_lines(wh, po, {"v2": 0})
    with pytest.raises(PurchaseOrderError, match="no lines"):
        mark_sent(wh, po)
    cancel(wh, po)
    assert wh.scalar("SELECT status FROM purchase_orders WHERE po_id = :p", {"p": po}) == "cancelled"
    with pytest.raises(PurchaseOrderError, match="already received or cancelled"):
        cancel(wh, po)


def test_supplier_validation(wh):
    with pytest.raises(SupplierError) as failed:
        save_supplier(wh, Supplier(" ", email="not-an-address", currency="dollars", lead_time_days=400))
    assert failed.value.problems == [
        "A supplier needs a name.", "'not-an-address' is not an email address.",
        "'dollars' is not a three-letter currency code (USD, EUR, ...).",
        "The lead time must be a whole number from 0 to 365, not 400."]
    supplier_id = save_supplier(wh, Supplier("Cobalt", "c@cobalt.test", "eur", 21))
    save_supplier(wh, Supplier("Cobalt Ltd", "c@cobalt.test", "EUR", 18, supplier_id=supplier_id))
    assert wh.rows("SELECT name, currency, lead_time_days FROM suppliers") == [("Cobalt Ltd", "EUR", 18)]


def test_supplier_items_are_checked(wh):
    build_inventory_store(wh)
    with pytest.raises(SupplierError) as failed:
        save_supplier_items(wh, "s", [SupplierItem("sup-1", "v9", moq=0, pack_size=2)])
    assert failed.value.problems == ["Item v9: there is no such variant in this store.",
                                     "Item v9: the MOQ must be a whole number from 1 to 1000000, not 0."]
    save_supplier_items(wh, "s", [SupplierItem("sup-1", "v3", "A-3", Decimal("1.5"), 10, 5, 7)])
    assert supplier_items(wh, "s", "sup-1").filter(pl.col("variant_id") == "v3").row(0)[2:] == \
        ("A-3", Decimal("1.5000"), 10, 5, 7)


def test_csv_import_all_or_nothing(wh):
    build_inventory_store(wh)
    bad = ("supplier,sku,unit_cost,moq,pack_size,lead_time_days\n"
           "Acme,SKU-v3,1.20,10,5,\n"
           "Nobody,SKU-v4,2,1,1,3\n"
           "sup-2,SKU-v9,x,1.5,1,3\n")
    with pytest.raises(SupplierError) as failed:
        import_supplier_items(wh, "s", bad.encode())
    assert failed.value.problems == [
        "Line 3: there is no supplier 'Nobody': add it first.",
        "Line 4: no variant of this store has sku 'SKU-v9'.",
        "Line 4: the MOQ must be a whole number from 1 to 1000000, not 1.5.",
        "Line 4: the unit cost 'x' is not a number.",
    ]
    assert wh.scalar("SELECT COUNT(*) FROM supplier_items") == 2     # nothing written
    good = "supplier,sku,supplier_sku,unit_cost,moq,pack_size\nAcme,SKU-v3,A-3,1.20,10,5\nsup-2,SKU-v1,B-1,3.9,,\n"
    assert import_supplier_items(wh, "s", good) == 2
    rows = wh.rows("SELECT supplier_id, variant_id, supplier_sku, unit_cost, moq, pack_size FROM supplier_items "
                   "ORDER BY supplier_id, variant_id")
    assert rows == [("sup-1", "v1", "A-1", Decimal("4.0000"), 20, 6), ("sup-1", "v3", "A-3", Decimal("1.2000"), 10, 5),
                    ("sup-2", "v1", "B-1", Decimal("3.9000"), None, None),
                    ("sup-2", "v2", "B-2", Decimal("7.5000"), None, None)]
    # v1 now has two suppliers: the cheaper (sup-2 at 3.90) is its supplier, with sup-2's lead time of 14
    v1 = health(wh).filter(pl.col("variant_id") == "v1").row(0, named=True)
    assert (v1["supplier_id"], v1["lead_time_days"]) == ("sup-2", 14)


def test_csv_without_the_needed_columns(wh):
    with pytest.raises(SupplierError, match="needs a supplier column"):
        import_supplier_items(wh, "s", "vendor,sku\nAcme,SKU-v1\n")
