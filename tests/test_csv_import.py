"""CSV import: the generic order-lines CSV and Shopify's orders export, on both backends.

Every figure below is worked out by hand from the small files written here.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import subprocess
import sys
import textwrap
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest

from connectors.csv_import import CsvImportError, import_csv
from connectors.csv_import.sample import sample_orders, write_sample_csv
from data.keys import STORE_TABLES, TABLE_KEYS
from data.warehouse import WarehouseError, connect

UTC = dt.timezone.utc
D = Decimal
PROJECT_ROOT = Path(__file__).resolve().parent.parent
RAW_TABLES = ("stores", "customers", "products", "variants", "orders", "order_lines", "refunds", "refund_lines")
ROLLUPS = ("order_facts", "refund_facts", "variant_daily_sales")


def utc(*parts: int) -> dt.datetime:
    return dt.datetime(*parts, tzinfo=UTC)


def sha(email: str) -> str:
    return hashlib.sha256(email.encode()).hexdigest()


def write(tmp_path: Path, text: str, name: str = "orders.csv") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return path


def snapshot(wh) -> dict[str, list[dict]]:
    """Every row of the import's tables and rollups, in key order, without the write time."""
    out = {}
    for table in (*RAW_TABLES, *ROLLUPS):
        frame = wh.query(f"SELECT * FROM {table} ORDER BY {', '.join(TABLE_KEYS[table])}")
        out[table] = frame.drop("_synced_at", strict=False).to_dicts()
    return out


def assert_empty(wh) -> None:
    for table in ("stores", *STORE_TABLES):
        assert wh.scalar(f"SELECT count(*) FROM {table}") == 0, table


def assert_refused(wh, path: Path, message: str, **options) -> None:
    """Importing ``path`` into an empty warehouse fails with exactly ``message`` and writes nothing."""
    with pytest.raises(CsvImportError) as caught:
        import_csv(wh, path, **options)
    assert str(caught.value) == message
    assert_empty(wh)


# -- the generic CSV ----------------------------------------------------------------

TWO_ORDERS = """\
    order_id,created_at,sku,product_title,quantity,unit_price,discount,tax,shipping,shipping_tax,customer_id,email,country,channel,financial_status,currency
    A1,2026-03-02 10:00:00,TEE-M,Classic Tee M,2,19.99,4.00,2.88,5.00,0.40,C1,,us,Web,paid,USD
    A1,2026-03-02 10:00:00,MUG,Mug,1,12.50,0,1.00,5.00,0.40,C1,,us,Web,paid,USD
    A2,2026-03-03 15:45:00,MUG,Mug,3,12.50,,,,,, Bob@Example.COM ,CA,Amazon,,usd
"""


def test_orders_lines_and_money_are_worked_out_exactly(wh, tmp_path):
    result = import_csv(wh, write(tmp_path, TWO_ORDERS), store_id="csv:shop", timezone="America/New_York")

    assert (result.store_id, result.format, result.orders, result.lines, result.refunds, result.customers,
            result.products, result.variants) == ("csv:shop", "generic", 2, 3, 0, 2, 2, 2)
    assert wh.rows("SELECT store_id, platform, name, currency, timezone FROM stores") == [
        ("csv:shop", "csv", "shop", "USD", "America/New_York")]
    bob = "email:" + sha("bob@example.com")
    # A1: gross 2 x 19.99 + 12.50 = 52.48, discounts 4.00, subtotal 48.48;
    # tax 2.88 + 1.00 + shipping tax 0.40 = 4.28; total 48.48 + 5.00 + 4.28 = 57.76.
    assert wh.rows(
        "SELECT order_id, order_number, customer_id, created_at, currency, financial_status, channel, source_name, "
        "country, subtotal, total_discounts, total_shipping, total_tax, total_duties, total_price, is_test "
        "FROM orders ORDER BY order_id") == [
        ("A1", "A1", "C1", utc(2026, 3, 2, 15), "USD", "paid", "online_store", "Web", "US",
         D("48.48"), D("4.00"), D("5.00"), D("4.28"), D("0"), D("57.76"), False),
        ("A2", "A2", bob, utc(2026, 3, 3, 20, 45), "USD", "paid", "marketplace", "Amazon", "CA",
         D("37.50"), D("0"), D("0"), D("0"), D("0"), D("37.50"), False),
    ]
    assert wh.rows(
        "SELECT line_id, order_id, product_id, variant_id, sku, title, quantity, unit_price, discount, tax "
        "FROM order_lines ORDER BY line_id") == [
        ("A1:1", "A1", "sku:TEE-M", "sku:TEE-M", "TEE-M", "Classic Tee M", 2, D("19.99"), D("4.00"), D("2.88")),
        ("A1:2", "A1", "sku:MUG", "sku:MUG", "MUG", "Mug", 1, D("12.50"), D("0"), D("1.00")),
        ("A2:1", "A2", "sku:MUG", "sku:MUG", "MUG", "Mug", 3, D("12.50"), D("0"), D("0")),
    ]
    assert wh.rows("SELECT customer_id, email_hash, country, created_at FROM customers ORDER BY customer_id") == [
        ("C1", None, "US", utc(2026, 3, 2, 15)),
        (bob, sha("bob@example.com"), "CA", utc(2026, 3, 3, 20, 45)),
    ]
    assert wh.rows("SELECT product_id, title FROM products ORDER BY product_id") == [
        ("sku:MUG", "Mug"), ("sku:TEE-M", "Classic Tee M")]
    assert wh.rows("SELECT variant_id, product_id, sku, price FROM variants ORDER BY variant_id") == [
        ("sku:MUG", "sku:MUG", "MUG", D("12.50")), ("sku:TEE-M", "sku:TEE-M", "TEE-M", D("19.99"))]
    # The rollups were rebuilt in the same import: A1 falls on 2 March, store time.
    assert wh.rows("SELECT order_id, local_date, gross_sales, discounts, units_sold FROM order_facts "
                   "ORDER BY order_id") == [
        ("A1", dt.date(2026, 3, 2), D("52.48"), D("4.00"), 3),
        ("A2", dt.date(2026, 3, 3), D("37.50"), D("0"), 3),
    ]


def test_the_raw_email_address_is_never_stored(wh, tmp_path):
    import_csv(wh, write(tmp_path, TWO_ORDERS))
    for table in RAW_TABLES:
        for row in wh.query(f"SELECT * FROM {table}").rows():
            assert not any(isinstance(v, str) and "@" in v for v in row), (table, row)


@pytest.mark.parametrize(
    ("created_at", "timezone", "instant", "local_day"),
    [
        ("2026-02-28 23:30:00", "America/New_York", utc(2026, 3, 1, 4, 30), dt.date(2026, 2, 28)),
        ("2026-02-28T23:30:00", "America/New_York", utc(2026, 3, 1, 4, 30), dt.date(2026, 2, 28)),
        ("2026-07-01 23:30:00", "America/New_York", utc(2026, 7, 2, 3, 30), dt.date(2026, 7, 1)),
        ("2026-03-08 01:30:00", "America/New_York", utc(2026, 3, 8, 6, 30), dt.date(2026, 3, 8)),
        ("2026-03-08 03:30:00", "America/New_York", utc(2026, 3, 8, 7, 30), dt.date(2026, 3, 8)),
        ("2026-11-01 01:30:00", "America/New_York", utc(2026, 11, 1, 5, 30), dt.date(2026, 11, 1)),
        ("2026-03-29 12:00:00", "Europe/London", utc(2026, 3, 29, 11), dt.date(2026, 3, 29)),
        ("2026-03-01T10:00:00+01:00", "America/New_York", utc(2026, 3, 1, 9), dt.date(2026, 3, 1)),
        ("2026-03-01T02:00:00Z", "America/New_York", utc(2026, 3, 1, 2), dt.date(2026, 2, 28)),
        ("2026-03-01 10:00:00 -0500", "Europe/Paris", utc(2026, 3, 1, 15), dt.date(2026, 3, 1)),
        ("2026-03-01T10:00:00.250", "UTC", dt.datetime(2026, 3, 1, 10, 0, 0, 250000, tzinfo=UTC),
         dt.date(2026, 3, 1)),
        ("2026-03-01", "Asia/Tokyo", utc(2026, 2, 28, 15), dt.date(2026, 3, 1)),
    ],
    ids=[
        "23:30 in New York (EST) is 04:30 UTC the next day",
        "the same with a T",
        "summer time in New York is UTC-4",
        "just before the clocks go forward",
        "just after the clocks go forward",
        "the repeated hour when clocks go back is read as the first",
        "London on summer time",
        "an offset wins over the store timezone",
        "Z is UTC, a day earlier in New York",
        "Shopify's offset style",
        "fractions of a second",
        "a date alone is midnight store time",
    ],
)
def test_times_without_an_offset_are_store_time(wh, tmp_path, created_at, timezone, instant, local_day):
    path = write(tmp_path, f"""\
        order_id,created_at,sku,quantity,unit_price
        1,{created_at},A,1,10.00
    """)
    import_csv(wh, path, timezone=timezone)
    assert wh.rows("SELECT created_at FROM orders") == [(instant,)]
    assert wh.rows("SELECT local_date FROM order_facts") == [(local_day,)]


PARTIAL_RETURNS = """\
    order_id,created_at,sku,quantity,unit_price,tax,shipping
    R1,2026-03-02 10:00:00,TEE-M,3,20.00,4.80,5.00
    R1,2026-03-02 10:00:00,MUG,2,12.50,2.00,5.00
    R1,2026-03-09 20:30:00,TEE-M,-1,20.00,-1.60,
    R1,2026-03-09 20:30:00,MUG,-1,12.50,-1.00,
    R1,2026-03-20 09:00:00,TEE-M,-1,20.00,,
"""


def test_partial_returns_on_later_days_become_refunds_of_those_days(wh, tmp_path):
    result = import_csv(wh, write(tmp_path, PARTIAL_RETURNS), timezone="America/New_York")

    assert (result.orders, result.lines, result.refunds, result.refund_lines) == (1, 2, 2, 3)
    # The sale is untouched by the returns: 60.00 + 25.00, tax 6.80, shipping 5.00.
    assert wh.rows("SELECT subtotal, total_tax, total_price FROM orders") == [(D("85.00"), D("6.80"), D("96.80"))]
    # 20:30 on 9 March in New York is summer time (since 8 March): 00:30 UTC on the 10th.
    assert wh.rows(
        "SELECT refund_id, order_id, created_at, shipping_refunded, tax_refunded, total_refunded FROM refunds "
        "ORDER BY created_at") == [
        ("R1:return:20260310T003000Z", "R1", utc(2026, 3, 10, 0, 30), D("0"), D("2.60"), D("35.10")),
        ("R1:return:20260320T130000Z", "R1", utc(2026, 3, 20, 13), D("0"), D("0"), D("20.00")),
    ]
    assert wh.rows("SELECT refund_id, line_id, quantity, subtotal, tax FROM refund_lines "
                   "ORDER BY refund_id, line_id") == [
        ("R1:return:20260310T003000Z", "R1:1", 1, D("20.00"), D("1.60")),
        ("R1:return:20260310T003000Z", "R1:2", 1, D("12.50"), D("1.00")),
        ("R1:return:20260320T130000Z", "R1:1", 1, D("20.00"), D("0")),
    ]
    # Returns fall on the refund's store-local day, not the order's.
    assert wh.rows("SELECT local_date, returns, units_returned FROM refund_facts ORDER BY local_date") == [
        (dt.date(2026, 3, 9), D("32.50"), 2),
        (dt.date(2026, 3, 20), D("20.00"), 1),
    ]


def test_a_return_spreads_over_the_lines_of_its_sku_in_file_order(wh, tmp_path):
    path = write(tmp_path, """\
        order_id,created_at,sku,quantity,unit_price,tax
        S1,2026-03-02T10:00:00Z,TEE,2,10.00,
        S1,2026-03-02T10:00:00Z,TEE,1,12.00,
        S1,2026-03-05T10:00:00Z,TEE,-3,10.00,1.00
    """)
    import_csv(wh, path)
    # Units 1-2 come back from line 1 and unit 3 from line 2; the row's tax splits 2:1, exactly.
    assert wh.rows("SELECT line_id, quantity, subtotal, tax FROM refund_lines ORDER BY line_id") == [
        ("S1:1", 2, D("20.00"), D("0.6667")),
        ("S1:2", 1, D("10.00"), D("0.3333")),
    ]
    assert wh.rows("SELECT tax_refunded, total_refunded FROM refunds") == [(D("1.00"), D("31.00"))]


def test_importing_the_same_file_again_changes_nothing(wh, tmp_path):
    path = write(tmp_path, TWO_ORDERS)
    first = import_csv(wh, path, timezone="Europe/Berlin")
    before = snapshot(wh)
    again = import_csv(wh, path)
    assert snapshot(wh) == before
    assert (again.orders, again.lines, again.customers) == (first.orders, first.lines, first.customers)

    returns = write(tmp_path, PARTIAL_RETURNS, "returns.csv")
    import_csv(wh, returns)
    before = snapshot(wh)
    import_csv(wh, returns)
    assert snapshot(wh) == before


def test_a_file_with_more_orders_adds_them(wh, tmp_path):
    import_csv(wh, write(tmp_path, TWO_ORDERS, "march.csv"))
    before = snapshot(wh)
    more = TWO_ORDERS + "    A3,2026-03-04 08:00:00,CAP,Cap,1,15.00,,,,,C1,,US,pos,paid,USD\n"
    result = import_csv(wh, write(tmp_path, more, "march-and-more.csv"))
    assert result.orders == 3
    after = snapshot(wh)
    assert [r["order_id"] for r in after["orders"]] == ["A1", "A2", "A3"]
    assert [r for r in after["orders"] if r["order_id"] != "A3"] == before["orders"]
    assert wh.rows("SELECT customer_id, created_at FROM customers WHERE customer_id = 'C1'") == [
        ("C1", utc(2026, 3, 2, 10))]

    april = H + ",customer_id\nA4,2026-04-01 08:00:00,CAP,2,15.00,C1\n"
    assert import_csv(wh, write(tmp_path, april, "april.csv")).orders == 1
    assert [r["order_id"] for r in snapshot(wh)["orders"]] == ["A1", "A2", "A3", "A4"]
    assert snapshot(wh)["order_lines"][:-1] == after["order_lines"]


def test_an_order_imported_again_with_fewer_lines_loses_the_others(wh, tmp_path):
    import_csv(wh, write(tmp_path, """\
        order_id,created_at,sku,quantity,unit_price
        X,2026-03-01T10:00:00Z,A,1,10.00
        X,2026-03-01T10:00:00Z,B,1,20.00
        X,2026-03-02T10:00:00Z,B,-1,20.00
    """, "first.csv"))
    import_csv(wh, write(tmp_path, """\
        order_id,created_at,sku,quantity,unit_price
        X,2026-03-01T10:00:00Z,A,1,10.00
    """, "corrected.csv"))
    assert wh.rows("SELECT line_id FROM order_lines") == [("X:1",)]
    assert wh.rows("SELECT count(*) FROM refunds") == [(0,)]
    assert wh.rows("SELECT count(*) FROM refund_lines") == [(0,)]
    assert wh.rows("SELECT total_price FROM orders") == [(D("10.00"),)]


def test_details_a_later_file_leaves_empty_are_kept(wh, tmp_path):
    import_csv(wh, write(tmp_path, """\
        order_id,created_at,sku,quantity,unit_price,product_title,customer_id,email
        1,2026-03-05T10:00:00Z,A,1,10.00,Alpha Shirt,C9,c9@example.com
    """, "with-details.csv"))
    import_csv(wh, write(tmp_path, """\
        order_id,created_at,sku,quantity,unit_price,customer_id
        0,2026-03-01T10:00:00Z,A,1,10.00,C9
    """, "earlier-order.csv"))
    assert wh.rows("SELECT title FROM products") == [("Alpha Shirt",)]
    assert wh.rows("SELECT email_hash, created_at FROM customers") == [(sha("c9@example.com"), utc(2026, 3, 1, 10))]


def test_a_new_store_takes_utc_and_the_file_currency_by_default(wh, tmp_path):
    import_csv(wh, write(tmp_path, """\
        order_id,created_at,sku,quantity,unit_price,currency
        1,2026-03-01 10:00:00,A,1,1000,jpy
    """))
    assert wh.rows("SELECT store_id, platform, timezone, currency FROM stores") == [
        ("csv:import", "csv", "UTC", "JPY")]
    assert wh.rows("SELECT created_at, currency FROM orders") == [(utc(2026, 3, 1, 10), "JPY")]


H = "order_id,created_at,sku,quantity,unit_price"
NOT_A_NUMBER = "is not a number (write it like 1234.50, without currency signs or thousands separators)"
NOT_ISO = "is not an ISO 8601 date and time (for example 2026-03-01T14:05:00 or 2026-03-01 14:05:00+01:00)"
OTHER_CURRENCY = ("is not the store's currency USD: a store holds one currency; import other currencies into a "
                  "store of their own (--store)")
BAD_FILES = [
    pytest.param("order_id,created_at,sku,quantity\n1,2026-03-01,A,1\n", {},
                 "row 1, column unit_price: the header has no such column, and the import needs it.",
                 id="missing required column"),
    pytest.param(f"{H}\n1,2026-03-01,A,1,5.00\n2,2026-03-01,,1,5.00\n", {},
                 "row 3, column sku: the cell is empty, and every row needs one", id="empty required cell"),
    pytest.param(f"{H}\n1,2026-03-01,A,1,5.00\n1,2026-03-01,B,two,5.00\n", {},
                 'row 3, column quantity: "two" is not a whole number', id="quantity in words"),
    pytest.param(f"{H}\n1,2026-03-01,A,1.5,5.00\n", {}, 'row 2, column quantity: "1.5" is not a whole number',
                 id="fractional quantity"),
    pytest.param(f"{H}\n1,2026-03-01,A,1,5.00\n\n2,2026-03-01,A,x,5.00\n", {},
                 'row 4, column quantity: "x" is not a whole number', id="rows after a blank line keep their number"),
    pytest.param(f"{H}\n1,2026-03-01,A,0,5.00\n", {},
                 "row 2, column quantity: 0 is not a quantity: a sale has a positive quantity and a return a "
                 "negative one", id="zero quantity"),
    pytest.param(f'{H}\n1,2026-03-01,A,1,"12,50"\n', {}, f'row 2, column unit_price: "12,50" {NOT_A_NUMBER}',
                 id="decimal comma"),
    pytest.param(f"{H}\n1,2026-03-01,A,1,$5.00\n", {}, f'row 2, column unit_price: "$5.00" {NOT_A_NUMBER}',
                 id="currency sign"),
    pytest.param(f"{H}\n1,2026-03-01,A,1,1.23456\n", {},
                 'row 2, column unit_price: "1.23456" has more than 4 decimals', id="five decimals"),
    pytest.param(f"{H},discount\n1,2026-03-01,A,1,5.00,-1.00\n", {},
                 'row 2, column discount: "-1.00" is negative; write amounts as positive numbers',
                 id="negative discount"),
    pytest.param(f"{H},discount\n1,2026-03-01,A,1,10.00,15.00\n", {},
                 'row 2, column discount: "15.00" is more than the line\'s value (1 x 10.00)',
                 id="discount above the line value"),
    pytest.param(f"{H}\n1,31/01/2026,A,1,5.00\n", {}, f'row 2, column created_at: "31/01/2026" {NOT_ISO}',
                 id="day-first date"),
    pytest.param(f"{H}\n1,2026-02-30 10:00:00,A,1,5.00\n", {},
                 f'row 2, column created_at: "2026-02-30 10:00:00" {NOT_ISO}', id="30 February"),
    pytest.param(f"{H}\n1,2026-03-08 02:30:00,A,1,5.00\n", {"timezone": "America/New_York"},
                 'row 2, column created_at: "2026-03-08 02:30:00" never happened in America/New_York: the clocks '
                 "moved forward over that time; give the offset (for example +01:00) or a time that exists",
                 id="time skipped when the clocks go forward"),
    pytest.param(f"{H},financial_status\n1,2026-03-01,A,1,5.00,complete\n", {},
                 'row 2, column financial_status: "complete" is not one of pending, authorized, partially_paid, '
                 "paid, partially_refunded, refunded, voided", id="unknown financial status"),
    pytest.param(f"{H},shipping\n1,2026-03-01,A,1,5.00,4.95\n1,2026-03-01,B,1,5.00,5.95\n", {},
                 'row 3, column shipping: "5.95" differs from "4.95" on row 2 of order 1: shipping belongs to the '
                 "order, so every row of the order gives the same value (or none)",
                 id="shipping differs across the rows of an order"),
    pytest.param(f"{H}\n1,2026-03-01,A,1,5.00\n1,2026-03-02,B,-1,5.00\n", {},
                 'row 3, column sku: order 1 has no sale of sku "B" to return', id="return of an unsold sku"),
    pytest.param(f"{H}\n1,2026-03-01,A,1,5.00\n1,2026-03-02,A,-1,5.00\n1,2026-03-03,A,-1,5.00\n", {},
                 'row 4, column quantity: returns of sku "A" on order 1 add up to 2 units, more than the 1 sold',
                 id="more units returned than sold"),
    pytest.param(f"{H}\n1,2026-03-02,A,1,5.00\n1,2026-03-01,A,-1,5.00\n", {"timezone": "America/New_York"},
                 "row 3, column created_at: the return is dated before order 1 was placed "
                 "(2026-03-02 05:00:00 UTC)", id="return dated before its order"),
    pytest.param(f"{H},currency\n1,2026-03-01,A,1,5.00,USD\n2,2026-03-01,A,1,5.00,EUR\n", {},
                 f'row 3, column currency: "EUR" {OTHER_CURRENCY}', id="a second currency in the file"),
    pytest.param(f"{H},currency\n1,2026-03-01,A,1,5.00,eur\n", {"currency": "USD"},
                 f'row 2, column currency: "eur" {OTHER_CURRENCY}', id="a currency other than --currency"),
    pytest.param(f"{H},currency\n1,2026-03-01,A,1,5.00,US Dollar\n", {},
                 'row 2, column currency: "US Dollar" is not an ISO 4217 currency code (like USD or EUR)',
                 id="currency name instead of code"),
    pytest.param(f"{H},email\n1,2026-03-01,A,1,5.00,jane.example.com\n", {},
                 'row 2, column email: "jane.example.com" is not an email address', id="not an email address"),
    pytest.param(f"{H}\n1,2026-03-01,A,1,5.00,9\n", {},
                 "row 2: the row has 6 fields but the header has 5 columns (a comma inside a value needs the value "
                 "in double quotes).", id="more fields than the header"),
    pytest.param(f"{H},Quantity\n1,2026-03-01,A,1,5.00,1\n", {},
                 "row 1, column Quantity: the column appears more than once in the header.", id="a column twice"),
    pytest.param("order_id;created_at;sku;quantity;unit_price\n1;2026-03-01;A;1;5.00\n", {},
                 "row 1: orders.csv is separated by semicolons; the import reads comma-separated files.",
                 id="semicolons"),
    pytest.param(f"{H}\n", {}, "orders.csv has a header but no rows: there is nothing to import.",
                 id="header only"),
    pytest.param("", {}, "orders.csv is empty: it needs a header row and at least one order line.",
                 id="empty file"),
    pytest.param(f"{H}\n1,2026-03-01,A,1,5.00\n", {"timezone": "Mars/Olympus"},
                 "'Mars/Olympus' is not a timezone name: use one like Europe/Paris, America/New_York or UTC.",
                 id="unknown timezone"),
]


@pytest.mark.parametrize(("text", "options", "message"), BAD_FILES)
def test_a_bad_file_names_row_and_column_and_writes_nothing(wh, tmp_path, text, options, message):
    path = tmp_path / "orders.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CsvImportError) as caught:
        import_csv(wh, path, **options)
    assert str(caught.value) == message
    assert isinstance(caught.value, WarehouseError)
    assert_empty(wh)


def test_a_file_that_is_not_utf8_is_refused(wh, tmp_path):
    path = tmp_path / "orders.csv"
    path.write_bytes(f"{H},product_title\n1,2026-03-01,A,1,5.00,Caf\xe9\n".encode("latin-1"))
    with pytest.raises(CsvImportError, match='is not UTF-8 text: save it again as "CSV UTF-8"'):
        import_csv(wh, path)
    assert_empty(wh)


def test_a_bad_row_late_in_a_file_leaves_an_existing_store_as_it_was(wh, tmp_path):
    import_csv(wh, write(tmp_path, TWO_ORDERS), store_id="csv:shop")
    before = snapshot(wh)
    bad = TWO_ORDERS + "    A4,2026-03-05 08:00:00,CAP,Cap,1,15.00,,,,,,,,,,EUR\n"
    with pytest.raises(CsvImportError, match=r'^row 5, column currency: "EUR" is not the store\'s currency USD'):
        import_csv(wh, write(tmp_path, bad, "bad.csv"), store_id="csv:shop")
    assert snapshot(wh) == before


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"timezone": "Europe/Paris"},
         "Store csv:shop keeps its timezone America/New_York; --timezone Europe/Paris conflicts with it "
         "(leave it out, or import into another store)."),
        ({"currency": "EUR"},
         "Store csv:shop keeps its currency USD; --currency EUR conflicts with it (a store holds one currency: "
         "import into another store)."),
    ],
    ids=["another timezone", "another currency"],
)
def test_an_existing_store_keeps_its_timezone_and_currency(wh, tmp_path, options, message):
    path = write(tmp_path, TWO_ORDERS)
    import_csv(wh, path, store_id="csv:shop", timezone="America/New_York", currency="USD")
    before = snapshot(wh)
    with pytest.raises(CsvImportError) as caught:
        import_csv(wh, path, store_id="csv:shop", **options)
    assert str(caught.value) == message
    assert snapshot(wh) == before
    # The same values as the store's are fine.
    import_csv(wh, path, store_id="csv:shop", timezone="America/New_York", currency="usd")
    assert snapshot(wh) == before


# -- Shopify's orders export ------------------------------------------------------------

SHOPIFY_HEADER = [
    "Name", "Email", "Financial Status", "Paid at", "Fulfillment Status", "Fulfilled at", "Accepts Marketing",
    "Currency", "Subtotal", "Shipping", "Taxes", "Total", "Discount Code", "Discount Amount", "Shipping Method",
    "Created at", "Lineitem quantity", "Lineitem name", "Lineitem price", "Lineitem compare at price",
    "Lineitem sku", "Lineitem requires shipping", "Lineitem taxable", "Lineitem fulfillment status",
    "Billing Name", "Billing Street", "Billing Address1", "Billing Address2", "Billing Company", "Billing City",
    "Billing Zip", "Billing Province", "Billing Country", "Billing Phone", "Shipping Name", "Shipping Street",
    "Shipping Address1", "Shipping Address2", "Shipping Company", "Shipping City", "Shipping Zip",
    "Shipping Province", "Shipping Country", "Shipping Phone", "Notes", "Note Attributes", "Cancelled at",
    "Payment Method", "Payment Reference", "Refunded Amount", "Vendor", "Outstanding Balance", "Employee",
    "Location", "Device ID", "Id", "Tags", "Risk Level", "Source", "Lineitem discount", "Tax 1 Name",
    "Tax 1 Value", "Tax 2 Name", "Tax 2 Value", "Tax 3 Name", "Tax 3 Value", "Tax 4 Name", "Tax 4 Value",
    "Tax 5 Name", "Tax 5 Value", "Phone", "Receipt Number", "Duties", "Billing Province Name",
    "Shipping Province Name", "Payment ID", "Payment Terms Name", "Next Payment Due At", "Payment References",
]


def line(name: str, quantity: str, title: str, price: str, sku: str, discount: str = "0.00", **more) -> dict:
    """A row as Shopify writes it after the first row of an order: the order's name and the line item."""
    return {"Name": name, "Lineitem quantity": quantity, "Lineitem name": title, "Lineitem price": price,
            "Lineitem sku": sku, "Lineitem discount": discount, "Lineitem requires shipping": "true",
            "Lineitem taxable": "true", "Lineitem fulfillment status": "fulfilled", "Vendor": "Acme", **more}


SHOPIFY_ROWS = [
    # 1001: a 10 % code over two lines (6.20 of 62.00), shipping, taxes; a note over two physical lines.
    line("#1001", "2", "Classic Tee - M", "25.00", "TEE-M", **{
        "Email": "Jane.Doe@example.com", "Financial Status": "paid", "Paid at": "2026-03-01 18:04:12 -0500",
        "Fulfillment Status": "fulfilled", "Fulfilled at": "2026-03-02 09:00:00 -0500", "Accepts Marketing": "yes",
        "Currency": "USD", "Subtotal": "55.80", "Shipping": "5.00", "Taxes": "4.46", "Total": "65.26",
        "Discount Code": "SPRING10", "Discount Amount": "6.20", "Shipping Method": "Standard",
        "Created at": "2026-03-01 18:04:11 -0500", "Billing Name": "Jane Doe", "Billing Street": "1 Main St",
        "Billing Address1": "1 Main St", "Billing City": "Albany", "Billing Zip": "'12207",
        "Billing Province": "NY", "Billing Country": "US", "Shipping Name": "Jane Doe",
        "Shipping Street": "1 Main St", "Shipping City": "Albany", "Shipping Zip": "'12207",
        "Shipping Province": "NY", "Shipping Country": "US", "Notes": "Leave it at the door,\nplease",
        "Payment Method": "Shopify Payments", "Refunded Amount": "0.00", "Outstanding Balance": "0.00",
        "Id": "5512345678901", "Risk Level": "Low", "Source": "web", "Tax 1 Name": "NY State Tax 4%",
        "Tax 1 Value": "2.43", "Tax 2 Name": "Albany County Tax 4%", "Tax 2 Value": "2.03", "Phone": "",
        "Receipt Number": "", "Duties": "", "Billing Province Name": "New York",
        "Shipping Province Name": "New York", "Payment ID": "c1.1", "Payment References": "c1.1"}),
    line("#1001", "1", "Coffee Mug", "12.00", "MUG-01"),
    # 1002: a point-of-sale order with a line discount, a line without sku, and a partial refund.
    line("#1002", "1", "Hoodie - L", "60.00", "HOOD-L", "3.00", **{
        "Email": "bob@example.com", "Financial Status": "partially_refunded", "Fulfillment Status": "fulfilled",
        "Accepts Marketing": "no", "Currency": "USD", "Subtotal": "84.00", "Shipping": "0.00", "Taxes": "7.35",
        "Total": "91.35", "Discount Amount": "3.00", "Created at": "2026-03-02 09:15:00 -0500",
        "Billing Country": "US", "Refunded Amount": "30.00", "Location": "Albany store", "Id": "5512345678902",
        "Source": "pos"}),
    line("#1002", "3", "Socks", "8.00", "SOCK-3"),
    line("#1002", "2", "Sticker", "1.50", ""),
    # 1003: paid, then cancelled and refunded in full the next morning.
    line("#1003", "1", "Classic Tee - S", "25.00", "TEE-S", **{
        "Email": "jane.doe@example.com", "Financial Status": "refunded", "Fulfillment Status": "unfulfilled",
        "Currency": "USD", "Subtotal": "25.00", "Shipping": "5.00", "Taxes": "2.63", "Total": "32.63",
        "Discount Amount": "0.00", "Created at": "2026-03-03 23:30:00 -0500",
        "Cancelled at": "2026-03-04 10:00:00 -0500", "Refunded Amount": "32.63", "Shipping Country": "US",
        "Id": "5512345678903", "Source": "web"}),
    # 1004: a draft order cancelled before payment.
    line("#1004", "1", "Coffee Mug", "12.00", "MUG-01", **{
        "Email": "sam@example.com", "Financial Status": "voided", "Fulfillment Status": "unfulfilled",
        "Currency": "USD", "Subtotal": "12.00", "Shipping": "0.00", "Taxes": "1.05", "Total": "13.05",
        "Created at": "2026-03-05 12:00:00 -0500", "Cancelled at": "2026-03-05 12:30:00 -0500",
        "Refunded Amount": "0.00", "Id": "5512345678904", "Source": "shopify_draft_order"}),
]


def shopify_export(tmp_path: Path, rows: list[dict], name: str = "orders_export_1.csv") -> Path:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=SHOPIFY_HEADER, restval="", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    path = tmp_path / name
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return path


def test_a_shopify_orders_export(wh, tmp_path):
    result = import_csv(wh, shopify_export(tmp_path, SHOPIFY_ROWS), store_id="csv:shopify-export",
                        timezone="America/New_York")

    assert (result.format, result.orders, result.lines, result.refunds, result.refund_lines, result.customers,
            result.variants) == ("shopify", 4, 7, 2, 1, 3, 6)
    jane, bob, sam = ("email:" + sha(e) for e in ("jane.doe@example.com", "bob@example.com", "sam@example.com"))
    assert wh.rows(
        "SELECT order_id, order_number, customer_id, created_at, cancelled_at, financial_status, "
        "fulfillment_status, channel, source_name, country, subtotal, total_discounts, total_shipping, total_tax, "
        "total_price, discount_codes FROM orders ORDER BY order_id") == [
        ("5512345678901", "#1001", jane, utc(2026, 3, 1, 23, 4, 11), None, "paid", "fulfilled", "online_store",
         "web", "US", D("55.80"), D("6.20"), D("5.00"), D("4.46"), D("65.26"), "SPRING10"),
        ("5512345678902", "#1002", bob, utc(2026, 3, 2, 14, 15), None, "partially_refunded", "fulfilled", "pos",
         "pos", "US", D("84.00"), D("3.00"), D("0"), D("7.35"), D("91.35"), None),
        ("5512345678903", "#1003", jane, utc(2026, 3, 4, 4, 30), utc(2026, 3, 4, 15), "refunded", "unfulfilled",
         "online_store", "web", "US", D("25.00"), D("0"), D("5.00"), D("2.63"), D("32.63"), None),
        ("5512345678904", "#1004", sam, utc(2026, 3, 5, 17), utc(2026, 3, 5, 17, 30), "voided", "unfulfilled",
         "other", "shopify_draft_order", None, D("12.00"), D("0"), D("0"), D("1.05"), D("13.05"), None),
    ]
    # The 6.20 code splits over the lines by value: 50.00 and 12.00 of 62.00 give 5.00 and 1.20.
    assert wh.rows(
        "SELECT line_id, variant_id, sku, title, quantity, unit_price, discount, tax FROM order_lines "
        "ORDER BY line_id") == [
        ("5512345678901:1", "sku:TEE-M", "TEE-M", "Classic Tee - M", 2, D("25.00"), D("5.00"), D("0")),
        ("5512345678901:2", "sku:MUG-01", "MUG-01", "Coffee Mug", 1, D("12.00"), D("1.20"), D("0")),
        ("5512345678902:1", "sku:HOOD-L", "HOOD-L", "Hoodie - L", 1, D("60.00"), D("3.00"), D("0")),
        ("5512345678902:2", "sku:SOCK-3", "SOCK-3", "Socks", 3, D("8.00"), D("0"), D("0")),
        ("5512345678902:3", "title:Sticker", None, "Sticker", 2, D("1.50"), D("0"), D("0")),
        ("5512345678903:1", "sku:TEE-S", "TEE-S", "Classic Tee - S", 1, D("25.00"), D("0"), D("0")),
        ("5512345678904:1", "sku:MUG-01", "MUG-01", "Coffee Mug", 1, D("12.00"), D("0"), D("0")),
    ]
    assert wh.rows(
        "SELECT refund_id, order_id, created_at, shipping_refunded, tax_refunded, total_refunded, note "
        "FROM refunds ORDER BY refund_id") == [
        ("5512345678902:refund", "5512345678902", utc(2026, 3, 2, 14, 15), D("0"), D("0"), D("30.00"),
         "Partial refund: the Shopify export does not say which items, shipping or tax it covered; dated at the "
         "order's creation (the Shopify export gives no refund date)"),
        ("5512345678903:refund", "5512345678903", utc(2026, 3, 4, 15), D("5.00"), D("2.63"), D("32.63"),
         "Whole order refunded; dated at the order's cancellation"),
    ]
    assert wh.rows("SELECT refund_id, line_id, quantity, subtotal, tax FROM refund_lines") == [
        ("5512345678903:refund", "5512345678903:1", 1, D("25.00"), D("0"))]
    assert wh.rows("SELECT customer_id, email_hash, accepts_marketing, created_at FROM customers "
                   "ORDER BY created_at") == [
        (jane, sha("jane.doe@example.com"), True, utc(2026, 3, 1, 23, 4, 11)),
        (bob, sha("bob@example.com"), False, utc(2026, 3, 2, 14, 15)),
        (sam, sha("sam@example.com"), None, utc(2026, 3, 5, 17)),
    ]
    # The voided order is no sale; the cancelled paid one is a sale on 3 March and a return on 4 March.
    assert wh.rows("SELECT order_id, local_date FROM order_facts ORDER BY order_id") == [
        ("5512345678901", dt.date(2026, 3, 1)), ("5512345678902", dt.date(2026, 3, 2)),
        ("5512345678903", dt.date(2026, 3, 3))]
    assert wh.rows("SELECT refund_id, local_date, returns FROM refund_facts ORDER BY refund_id") == [
        ("5512345678902:refund", dt.date(2026, 3, 2), D("0")),
        ("5512345678903:refund", dt.date(2026, 3, 4), D("25.00"))]

    before = snapshot(wh)
    import_csv(wh, shopify_export(tmp_path, SHOPIFY_ROWS), store_id="csv:shopify-export")
    assert snapshot(wh) == before


def _with(rows: list[dict], index: int, **changes) -> list[dict]:
    rows = [dict(r) for r in rows]
    rows[index].update({k.replace("_", " "): v for k, v in changes.items()})
    return rows


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        (_with(SHOPIFY_ROWS, 1, Lineitem_price="twelve"),
         'row 3, column Lineitem price: "twelve" is not a number (write it like 1234.50, without currency signs '
         "or thousands separators)"),
        (_with(SHOPIFY_ROWS, 0, Created_at=""),
         "row 2, column Created at: the first row of order #1001 has no creation time"),
        (_with(SHOPIFY_ROWS, 2, Subtotal="90.00"),
         'row 4, column Subtotal: "90.00" is more than the lines of order #1002 are worth after their discounts '
         "(84.00)"),
        (_with(SHOPIFY_ROWS, 5, Refunded_Amount="40.00"),
         "row 7, column Refunded Amount: 40.00 is more than the order's total 32.63"),
        (_with(SHOPIFY_ROWS, 6, Financial_Status="chargeback"),
         'row 8, column Financial Status: "chargeback" is not one of pending, authorized, partially_paid, paid, '
         "partially_refunded, refunded, voided, expired"),
        (_with(SHOPIFY_ROWS, 2, Currency="CAD"),
         'row 4, column Currency: "CAD" is not the store\'s currency USD: a store holds one currency; import '
         "other currencies into a store of their own (--store)"),
    ],
    ids=["price in words after a two-line note", "first row without creation time", "subtotal above the lines",
         "refund above the total", "unknown financial status", "a second currency"],
)
def test_a_bad_shopify_export_names_row_and_column_and_writes_nothing(wh, tmp_path, rows, message):
    assert_refused(wh, shopify_export(tmp_path, rows), message)


# -- the sample generator and the command line --------------------------------------------


def test_sample_files_are_seeded_and_import_with_the_figures_they_hold(wh, tmp_path):
    frame = sample_orders(3_000, seed=7)
    assert frame.equals(sample_orders(3_000, seed=7))
    assert not frame.equals(sample_orders(3_000, seed=8))
    result = import_csv(wh, write_sample_csv(tmp_path / "sample.csv", 3_000, seed=7), timezone="Europe/Paris")

    sales = frame.filter(~pl.col("quantity").str.starts_with("-"))
    returns = frame.filter(pl.col("quantity").str.starts_with("-"))
    assert result.lines == sales.height and result.lines + returns.height == 3_000
    assert result.orders == frame.get_column("order_id").n_unique()
    gross = sum((int(q) * D(p) for q, p in sales.select("quantity", "unit_price").iter_rows()), D(0))
    returned = sum((-int(q) * D(p) for q, p in returns.select("quantity", "unit_price").iter_rows()), D(0))
    assert wh.scalar("SELECT sum(unit_price * quantity) FROM order_lines") == gross
    assert wh.scalar("SELECT sum(subtotal) FROM refund_lines") == returned
    assert wh.scalar("SELECT sum(gross_sales) FROM order_facts") == gross


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "connectors", "import-csv", *args], cwd=PROJECT_ROOT,
                          capture_output=True, text=True, timeout=120)


def test_the_command_line(tmp_path):
    url = f"duckdb:///{tmp_path / 'warehouse.duckdb'}"
    good = write(tmp_path, TWO_ORDERS)
    done = _cli(str(good), "--store", "csv:shop", "--timezone", "America/New_York", "--db", url)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Imported 2 orders (3 lines, 0 refunds, 2 customers, 2 products) into store "
                                  "csv:shop from a generic CSV in ")
    assert "reading orders.csv" in done.stderr

    bad = write(tmp_path, TWO_ORDERS.replace(",1,12.50,0,", ",one,12.50,0,"), "bad.csv")
    failed = _cli(str(bad), "--store", "csv:other", "--db", url)
    assert failed.returncode == 2
    assert failed.stderr.strip().splitlines()[-1] == 'error: row 3, column quantity: "one" is not a whole number'
    assert "Traceback" not in failed.stderr

    missing = _cli(str(tmp_path / "nowhere.csv"), "--db", url)
    assert missing.returncode == 2
    assert missing.stderr.strip() == f"error: {tmp_path / 'nowhere.csv'} is not there: give the path of a CSV file."

    wh = connect(url)
    try:
        assert wh.rows("SELECT store_id, timezone FROM stores") == [("csv:shop", "America/New_York")]
        assert wh.scalar("SELECT count(*) FROM orders") == 2
    finally:
        wh.close()


def test_the_visit_columns_say_where_each_order_came_from(wh, tmp_path):
    text = ("order_id,created_at,sku,quantity,unit_price,last_visit_source,last_visit_medium,last_visit_campaign,"
            "first_visit_source\n"
            "A1,2026-03-01T10:00:00Z,S1,1,10.00,Google,CPC,Spring,newsletter\n"
            "A1,2026-03-01T10:00:00Z,S2,1,5.00,,,,\n"
            "A2,2026-03-01T11:00:00Z,S1,1,10.00,,,,\n")
    import_csv(wh, write(tmp_path, text), store_id="csv:shop")
    assert wh.rows("SELECT order_id, first_visit_source, first_visit_medium, last_visit_source, last_visit_medium, "
                   "last_visit_campaign FROM orders ORDER BY order_id") == [
        ("A1", "newsletter", None, "google", "cpc", "Spring"), ("A2", None, None, None, None, None)]
    # An order's rows must agree on its visit, like on its other fields.
    bad = text.replace("A1,2026-03-01T10:00:00Z,S2,1,5.00,,,,", "A1,2026-03-01T10:00:00Z,S2,1,5.00,bing,,,")
    with pytest.raises(CsvImportError, match="row 3, column last_visit_source"):
        import_csv(wh, write(tmp_path, bad, "bad.csv"), store_id="csv:shop")
