"""Shopify's own "Export orders" CSV.

One row per line item. Every row names its order (``Name``, like ``#1001``)
and its line (``Lineitem quantity``, ``Lineitem name``, ``Lineitem price``,
``Lineitem sku``, ``Lineitem discount``); only the first row of an order
carries the order's own fields (``Email``, ``Financial Status``, ``Currency``,
``Subtotal``, ``Shipping``, ``Taxes``, ``Total``, ``Discount Amount``,
``Created at``, ``Cancelled at``, ``Refunded Amount``, ``Source``, ``Id``, ...).

How the export maps onto the warehouse:

- ``order_id`` is Shopify's numeric ``Id`` (the id the Shopify connector
  uses), or the ``Name`` when the export has no ``Id``; ``order_number`` is the
  ``Name``. Lines are ``<order_id>:1``, ``<order_id>:2``, ... in file order.
- ``Subtotal`` is after all discounts on goods, so the order's goods
  discounts are Σ price × quantity − Subtotal. What ``Lineitem discount`` does
  not already explain is an order-level discount, spread over the lines in
  proportion to their value after line discounts (rounded to the currency's
  minor unit; the shares add up exactly).
- ``Taxes`` is the order's tax, shipping tax included; the export does not
  split tax by line, so lines carry no tax of their own.
- ``Refunded Amount`` becomes one refund, dated at ``Cancelled at`` when the
  order was cancelled, else at the order's creation (the export gives no
  refund date). A refund of the whole ``Total`` returns every line, the
  shipping and the taxes; a partial one is kept as money paid back without
  line detail, which the export does not give.
- The customer is the hashed ``Email`` (the raw address is never stored).
- The order's own fields must agree on every row of the order that gives
  them (``Created at``, ``Email``, ``Currency``, ``Financial Status``, ...);
  a row that gives another value is refused, naming both rows. A line that
  repeats another cell for cell is refused too.
"""

from __future__ import annotations

import polars as pl

from connectors.csv_import.batch import (
    LINE_COLUMNS,
    ORDER_COLUMNS,
    VISIT_COLUMNS,
    REFUND_COLUMNS,
    REFUND_LINE_COLUMNS,
    OrderBatch,
    customer_id_of,
    variant_id_of,
    person_name,
    with_contact_email,
)
from connectors.csv_import.cells import (
    FINANCIAL_STATUSES,
    FULFILLMENT_STATUSES,
    MONEY_INT,
    MONEY_LIMIT,
    ROW,
    TIMESTAMP,
    Check,
    CsvImportError,
    allocate,
    canonical_columns,
    channel,
    check_rows,
    choice_check,
    country_code,
    currency_checks,
    email_check,
    email_hashes,
    first_given,
    format_money,
    lower_words,
    minor_unit,
    money,
    money_checks,
    order_level_problem,
    show,
    timestamp_checks,
    whole_number,
    whole_number_check,
    with_timestamp,
)

# Header name in the export -> the name used here.
COLUMNS = {
    "Name": "name",
    "Id": "id",
    "Email": "email",
    "Billing Name": "customer_name",
    "Financial Status": "financial_status",
    "Fulfillment Status": "fulfillment_status",
    "Accepts Marketing": "accepts_marketing",
    "Currency": "currency",
    "Subtotal": "subtotal",
    "Shipping": "shipping",
    "Taxes": "taxes",
    "Duties": "duties",
    "Total": "total",
    "Discount Code": "discount_code",
    "Discount Amount": "discount_amount",
    "Created at": "created_at",
    "Cancelled at": "cancelled_at",
    "Refunded Amount": "refunded",
    "Source": "source",
    "Billing Country": "billing_country",
    "Shipping Country": "shipping_country",
    "Lineitem quantity": "quantity",
    "Lineitem name": "title",
    "Lineitem price": "unit_price",
    "Lineitem sku": "sku",
    "Lineitem discount": "line_discount",
}
SHOWN = {new: old for old, new in COLUMNS.items()}
REQUIRED = ("name", "created_at", "quantity", "unit_price")
LINE_MONEY = ("unit_price", "line_discount")
ORDER_MONEY = ("subtotal", "shipping", "taxes", "duties", "total", "discount_amount", "refunded")
FINANCIAL = {**{s: s for s in FINANCIAL_STATUSES}, "expired": "voided"}
FULFILLMENT = {**{s: s for s in FULFILLMENT_STATUSES}, "pending": "unfulfilled"}
YES_NO = {"yes": True, "true": True, "no": False, "false": False}
_SIGNATURE = {"name", "created at", "lineitem quantity", "lineitem price"}
# The order's own fields (the export repeats some on every line row): header -> (raw column, value compared).
ORDER_LEVEL = {
    SHOWN[raw]: (raw, parsed) for raw, parsed in (
        ("id", "id"), ("email", "_email_read"), ("financial_status", "_financial"),
        ("fulfillment_status", "_fulfillment"), ("accepts_marketing", "_marketing"), ("currency", "_currency_read"),
        ("created_at", "_created"), ("cancelled_at", "_cancelled"), ("source", "source"),
        ("discount_code", "discount_code"), ("billing_country", "_billing_read"),
        ("shipping_country", "_shipping_read"), *[(c, f"_{c}") for c in ORDER_MONEY])
}


def is_shopify(columns: list[str]) -> bool:
    return _SIGNATURE <= {c.strip().lower() for c in columns}


def prepare(frame: pl.DataFrame) -> pl.DataFrame:
    """The export's columns under short names (header names matched ignoring case and surrounding spaces)."""
    return canonical_columns(frame, COLUMNS, REQUIRED)


def build(frame: pl.DataFrame, *, timezone: str, currency: str) -> OrderBatch:
    """Check every row, then build the batch. Raises :class:`CsvImportError` on the first problem."""
    rows = with_timestamp(frame, "created_at", timezone, "_created")
    rows = with_timestamp(rows, "cancelled_at", timezone, "_cancelled").with_columns(
        _qty=whole_number("quantity"),
        **{f"_{c}": money(c) for c in (*LINE_MONEY, *ORDER_MONEY)},
        _financial=lower_words("financial_status").replace_strict(FINANCIAL, default=None),
        _fulfillment=lower_words("fulfillment_status").replace_strict(FULFILLMENT, default=None),
        _marketing=pl.col("accepts_marketing").str.to_lowercase().replace_strict(YES_NO, default=None,
                                                                                return_dtype=pl.Boolean),
    )
    check_rows(rows, _cell_checks(timezone, currency))
    problem = order_level_problem(rows.with_columns(
        _email_read=pl.col("email").str.to_lowercase(), _currency_read=pl.col("currency").str.to_uppercase(),
        _billing_read=country_code("billing_country"), _shipping_read=country_code("shipping_country"),
    ), "name", ORDER_LEVEL)
    if problem is not None:
        raise problem

    orders = _orders(rows, currency)
    lines = _lines(rows, orders, currency)
    totals = lines.group_by("order_id").agg(
        pl.col("discount").sum().alias("total_discounts"),
        (pl.col("_gross") - pl.col("discount")).sum().alias("subtotal"),
    )
    orders = orders.join(totals, on="order_id", how="left", maintain_order="left").with_columns(
        pl.col("total_discounts", "subtotal").fill_null(0),
    ).with_columns(
        total_price=pl.coalesce(
            "_total", pl.col("subtotal") + pl.col("total_shipping") + pl.col("total_tax") + pl.col("total_duties")),
    )
    check_rows(orders.with_columns(pl.col("_first_row").alias(ROW)), [
        Check("Refunded Amount", pl.col("_refunded") > pl.col("total_price"),
              lambda r: f"{format_money(r['_refunded'])} is more than the order's total "
                        f"{format_money(r['total_price'])}"),
    ])
    refunds, refund_lines = _refunds(orders, lines)
    return OrderBatch(
        format="shopify",
        # Shopify's export says nothing of the visits.
        orders=orders.with_columns(pl.lit(None, dtype=pl.String).alias(c) for c in VISIT_COLUMNS).select(ORDER_COLUMNS),
        lines=lines.select(LINE_COLUMNS),
        refunds=refunds.select(REFUND_COLUMNS),
        refund_lines=refund_lines.select(REFUND_LINE_COLUMNS),
    )


def _cell_checks(timezone: str, currency: str) -> list[Check]:
    has_line = pl.any_horizontal(pl.col("quantity", "unit_price", "sku", "title").is_not_null())
    checks = [
        Check("Name", pl.col("name").is_null(), lambda r: "the cell is empty; every row names its order"),
        Check("Lineitem quantity", has_line & pl.col("quantity").is_null(), lambda r: "the line has no quantity"),
        whole_number_check("quantity", "Lineitem quantity", "_qty"),
        Check("Lineitem quantity", pl.col("_qty") < 0,
              lambda r: f"{show(r['quantity'])} is negative; a line item's quantity is 0 or more"),
        Check("Lineitem price", has_line & pl.col("unit_price").is_null(), lambda r: "the line has no price"),
        Check("Lineitem sku", has_line & pl.col("sku").is_null() & pl.col("title").is_null(),
              lambda r: "the line has neither a sku nor a name"),
    ]
    for c in (*LINE_MONEY, *ORDER_MONEY):
        checks += money_checks(c, SHOWN[c], f"_{c}")
    checks += [
        *timestamp_checks("created_at", "Created at", timezone, "_created"),
        *timestamp_checks("cancelled_at", "Cancelled at", timezone, "_cancelled"),
        choice_check("financial_status", "Financial Status", list(FINANCIAL), lower_words("financial_status")),
        choice_check("fulfillment_status", "Fulfillment Status", list(FULFILLMENT),
                     lower_words("fulfillment_status")),
        choice_check("accepts_marketing", "Accepts Marketing", list(YES_NO),
                     pl.col("accepts_marketing").str.to_lowercase()),
        *currency_checks("currency", "Currency", currency),
        email_check("email", "Email"),
    ]
    return checks


def _orders(rows: pl.DataFrame, currency: str) -> pl.DataFrame:
    """One row per order from the order-level fields of its first row (the first value given)."""
    orders = rows.group_by("name").agg(
        pl.col(ROW).min().alias("_first_row"),
        first_given("id"), first_given("email"), person_name(first_given("customer_name")).alias("customer_name"),
        first_given("_created").alias("created_at"), first_given("_cancelled").alias("cancelled_at"),
        first_given("_financial").alias("financial_status"), first_given("_fulfillment").alias("fulfillment_status"),
        first_given("_marketing").alias("accepts_marketing"), first_given("source").alias("source_name"),
        pl.coalesce(first_given("shipping_country"), first_given("billing_country")).alias("_country"),
        first_given("discount_code").alias("discount_codes"),
        *[first_given(f"_{c}").alias(f"_{c}") for c in ORDER_MONEY],
    )
    missing = orders.filter(pl.col("created_at").is_null()).sort("_first_row").head(1)
    if missing.height:
        order = missing.row(0, named=True)
        raise CsvImportError(f"row {order['_first_row']}, column Created at: the first row of order "
                             f"{order['name']} has no creation time")
    orders = email_hashes(with_contact_email(orders), "email").with_columns(
        order_id=pl.coalesce("id", "name"),
        order_number=pl.col("name"),
        customer_id=customer_id_of(pl.lit(None, dtype=pl.String), pl.col("email_hash")),
        processed_at=pl.lit(None, dtype=TIMESTAMP),
        currency=pl.lit(currency),
        channel=channel("source_name"),
        country=country_code("_country"),
        total_shipping=pl.col("_shipping").fill_null(0),
        total_tax=pl.col("_taxes").fill_null(0),
        total_duties=pl.col("_duties").fill_null(0),
        _refunded=pl.col("_refunded").fill_null(0),
    )
    duplicated = orders.filter(pl.col("order_id").is_duplicated()).sort("_first_row").head(1)
    if duplicated.height:
        order = duplicated.row(0, named=True)
        raise CsvImportError(f"row {order['_first_row']}, column Id: {order['order_id']} is the Id of more than "
                             "one order Name")
    return orders


def _lines(rows: pl.DataFrame, orders: pl.DataFrame, currency: str) -> pl.DataFrame:
    """Line items with the order-level discount spread over them; checks each order's Subtotal against them."""
    lines = (
        rows.filter(pl.col("_qty").is_not_null())
        .select(ROW, "name", "sku", "title", "line_discount", "_qty", "_unit_price", "_line_discount")
        .join(orders.select("name", "order_id", pl.col("created_at").alias("_order_created"), "_subtotal",
                            "_discount_amount", "_first_row"),
              on="name", maintain_order="left")
        .with_columns(
            line_id=pl.col("order_id") + ":" + pl.int_range(1, pl.len() + 1).over("name").cast(pl.String),
            _gross=pl.col("_qty").cast(MONEY_INT) * pl.col("_unit_price"),
            _line_discount=pl.col("_line_discount").fill_null(0),
        )
        .with_columns(_net=pl.col("_gross") - pl.col("_line_discount"))
    )
    net = pl.col("_net").sum().over("name")
    # What the order's goods discounts leave after the line discounts.
    order_level = pl.when(pl.col("_subtotal").is_not_null()).then(net - pl.col("_subtotal")).otherwise(
        pl.max_horizontal(pl.col("_discount_amount").fill_null(0) - pl.col("_line_discount").sum().over("name"), 0)
    )
    lines = lines.with_columns(_order_level=order_level)
    check_rows(lines, [
        Check("Lineitem price", pl.col("_gross") >= MONEY_LIMIT,
              lambda r: f"{r['_qty']} x {format_money(r['_unit_price'])} is more than the warehouse can hold "
                        "(10^14)"),
        Check("Lineitem discount", pl.col("_line_discount") > pl.col("_gross"),
              lambda r: f"{show(r['line_discount'])} is more than the line's value "
                        f"({r['_qty']} x {format_money(r['_unit_price'])})"),
    ])
    mismatch = lines.filter(pl.col("_order_level") < 0).head(1)
    if mismatch.height:
        r = mismatch.row(0, named=True)
        raise CsvImportError(
            f"row {r['_first_row']}, column Subtotal: {show(format_money(r['_subtotal']))} is more "
            f"than the lines of order {r['name']} are worth after their discounts "
            f"({format_money(r['_subtotal'] + r['_order_level'])})"
        )
    return lines.with_columns(
        variant_id_of(pl.col("sku"), pl.col("title")).alias("variant_id"),
        variant_id_of(pl.col("sku"), pl.col("title")).alias("product_id"),
        pl.col("_qty").alias("quantity"),
        pl.col("_unit_price").alias("unit_price"),
        (pl.col("_line_discount") + allocate(pl.col("_order_level"), pl.col("_net"), "name",
                                             minor_unit(currency))).alias("discount"),
        pl.lit(0, dtype=MONEY_INT).alias("tax"),
        pl.col("_order_created").alias("created_at"),
    )


def _refunds(orders: pl.DataFrame, lines: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(refunds, refund lines): one refund per order with a Refunded Amount."""
    refunded = orders.filter(pl.col("_refunded") > 0).with_columns(
        refund_id=pl.col("order_id") + ":refund",
        _full=pl.col("_refunded") == pl.col("total_price"),
    )
    full = pl.col("_full")
    when = pl.when(pl.col("cancelled_at").is_not_null()).then(pl.lit("at the order's cancellation")).otherwise(
        pl.lit("at the order's creation (the Shopify export gives no refund date)"))
    refunds = refunded.with_columns(
        created_at=pl.coalesce("cancelled_at", "created_at"),
        shipping_refunded=pl.when(full).then(pl.col("total_shipping")).otherwise(0),
        tax_refunded=pl.when(full).then(pl.col("total_tax")).otherwise(0),
        total_refunded=pl.col("_refunded"),
        note=pl.when(full).then(pl.lit("Whole order refunded; dated ")).otherwise(
            pl.lit("Partial refund: the Shopify export does not say which items, shipping or tax it covered; dated ")
        ) + when,
    )
    refund_lines = (
        lines.join(refunded.filter(full).select("order_id", "refund_id"), on="order_id", maintain_order="left")
        .filter(pl.col("quantity") > 0)
        .select("refund_id", "line_id", "quantity", (pl.col("_gross") - pl.col("discount")).alias("subtotal"),
                pl.lit(0, dtype=MONEY_INT).alias("tax"), pl.lit(False).alias("restock"))
    )
    return refunds, refund_lines
