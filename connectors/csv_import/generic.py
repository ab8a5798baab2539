"""The generic order-lines CSV of SCHEMA.md: one row per order line.

Required: ``order_id``, ``created_at``, ``sku``, ``quantity``, ``unit_price``.
Optional: ``customer_id``, ``email``, ``customer_name``, ``product_title``, ``currency``,
``discount`` and ``tax`` (the line's), ``shipping`` and ``shipping_tax``
(order level), ``country``, ``channel``, ``financial_status``.

Rules the import applies:

- ``created_at`` without an offset is a wall-clock time in the store's
  timezone; with one (``Z``, ``+01:00``) it is that instant.
- Order-level values (``shipping``, ``shipping_tax``, ``financial_status``,
  ``customer_id``, ``email``, ``customer_name``, ``country``, ``channel``, and
  the ``created_at`` of its sale rows) must agree on every row of an order that
  gives them; an empty cell takes the order's value. A line that repeats
  another cell for cell is refused (it would count the sale twice).
- An order is created at its sale rows' ``created_at``; its lines are its sale
  rows in file order, numbered ``<order_id>:1``, ``<order_id>:2``, ...
- A row with a negative quantity returns that many units of its sku from the
  same order, on that row's ``created_at``. The returns of an order at one
  time make one refund (``<order_id>:return:<UTC time>``); each return row
  is matched to the order's lines of that sku in file order. Goods value is
  |quantity| x unit_price; the refund's tax is the row's tax (as a positive
  amount); total refunded = goods + tax.
- Order money: subtotal = sum of line gross - line discounts; total_tax =
  sum of line tax + shipping_tax; total_price = subtotal + shipping + total_tax.
- An order line without a channel is an online-store sale; without a
  financial status, ``paid``.
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
    money,
    money_checks,
    order_level_problem,
    show,
    timestamp_checks,
    whole_number,
    whole_number_check,
    with_timestamp,
)

REQUIRED = ("order_id", "created_at", "sku", "quantity", "unit_price")
OPTIONAL = ("customer_id", "email", "customer_name", "product_title", "currency", "discount", "tax", "shipping",
            "shipping_tax", "country", "channel", "financial_status", *VISIT_COLUMNS)
MONEY_COLUMNS = ("unit_price", "discount", "tax", "shipping", "shipping_tax")
# Order-level columns and the parsed column compared across an order's rows (created_at: its sale rows').
ORDER_LEVEL = {
    "created_at": "_sale_created", "shipping": "_shipping", "shipping_tax": "_shipping_tax",
    "financial_status": "_status", "customer_id": "customer_id", "email": "_email",
    "customer_name": "_customer_name", "country": "_country",
    "channel": "_channel_raw",
    **{c: c for c in VISIT_COLUMNS},
}


def is_generic(columns: list[str]) -> bool:
    return "order_id" in {c.strip().lower() for c in columns}


def prepare(frame: pl.DataFrame) -> pl.DataFrame:
    """The file's columns under their own names (matched ignoring case and surrounding spaces)."""
    return canonical_columns(frame, {c: c for c in (*REQUIRED, *OPTIONAL)}, REQUIRED)


def build(frame: pl.DataFrame, *, timezone: str, currency: str) -> OrderBatch:
    """Check every row, then build the batch. Raises :class:`CsvImportError` on the first problem."""
    rows = with_timestamp(frame, "created_at", timezone, "_created").with_columns(
        _qty=whole_number("quantity"),
        **{f"_{c}": money(c) for c in MONEY_COLUMNS},
        _status=lower_words("financial_status"),
        _email=pl.col("email").str.to_lowercase(),
        _customer_name=person_name("customer_name"),
        _country=country_code("country"),
        _channel_raw=pl.col("channel"),
    )
    check_rows(rows, _cell_checks(timezone, currency))
    problem = order_level_problem(rows.with_columns(_sale_created=pl.when(pl.col("_qty") > 0).then("_created")),
                                  "order_id", {c: (c, parsed) for c, parsed in ORDER_LEVEL.items()})
    if problem is not None:
        raise problem

    sale = pl.col("_qty") > 0
    orders = _orders(rows, currency)
    lines = rows.filter(sale).with_columns(
        line_id=pl.col("order_id") + ":" + pl.int_range(1, pl.len() + 1).over("order_id").cast(pl.String),
    )
    returns = _checked_returns(rows.filter(~sale), lines, orders)
    refunds, refund_lines = _refunds(returns, lines)

    line_totals = lines.group_by("order_id").agg(
        _gross=(pl.col("_qty").cast(MONEY_INT) * pl.col("_unit_price")).sum(),
        _discounts=pl.col("_discount").fill_null(0).sum(),
        _line_tax=pl.col("_tax").fill_null(0).sum(),
    )
    orders = orders.join(line_totals, on="order_id", how="left", maintain_order="left").with_columns(
        subtotal=pl.col("_gross") - pl.col("_discounts"),
        total_discounts=pl.col("_discounts"),
        total_tax=pl.col("_line_tax") + pl.col("_shipping_tax"),
    ).with_columns(total_price=pl.col("subtotal") + pl.col("total_shipping") + pl.col("total_tax"))
    too_large = orders.filter(pl.col("total_price") >= MONEY_LIMIT).sort("_first_row").head(1)
    if too_large.height:
        order = too_large.row(0, named=True)
        raise CsvImportError(f"row {order['_first_row']}, column unit_price: order {order['order_id']} adds up to "
                             "more than the warehouse can hold (10^14)")

    return OrderBatch(
        format="generic",
        orders=orders.select(ORDER_COLUMNS),
        lines=lines.select(
            "line_id", "order_id",
            variant_id_of(pl.col("sku")).alias("variant_id"),
            variant_id_of(pl.col("sku")).alias("product_id"),
            "sku",
            pl.col("product_title").alias("title"),
            pl.col("_qty").alias("quantity"),
            pl.col("_unit_price").alias("unit_price"),
            pl.col("_discount").fill_null(0).alias("discount"),
            pl.col("_tax").fill_null(0).alias("tax"),
            pl.col("_created").alias("created_at"),
        ).select(LINE_COLUMNS),
        refunds=refunds.select(REFUND_COLUMNS),
        refund_lines=refund_lines.select(REFUND_LINE_COLUMNS),
    )


def _cell_checks(timezone: str, currency: str) -> list[Check]:
    qty, price = pl.col("_qty"), pl.col("_unit_price")
    checks = [
        Check(c, pl.col(c).is_null(), lambda r: "the cell is empty, and every row needs one")
        for c in REQUIRED
    ]
    checks += [
        whole_number_check("quantity", "quantity", "_qty"),
        Check("quantity", qty == 0,
              lambda r: "0 is not a quantity: a sale has a positive quantity and a return a negative one"),
    ]
    for c in MONEY_COLUMNS:
        checks += money_checks(c, c, f"_{c}", negative_ok=(qty < 0) if c == "tax" else False)
    checks += [
        Check("unit_price", qty.abs().cast(MONEY_INT) * price >= MONEY_LIMIT,
              lambda r: f"{r['quantity']} x {r['unit_price']} is more than the warehouse can hold (10^14)"),
        Check("discount", (qty > 0) & (pl.col("_discount") > qty.cast(MONEY_INT) * price),
              lambda r: f"{show(r['discount'])} is more than the line's value "
                        f"({r['_qty']} x {format_money(r['_unit_price'])})"),
        *timestamp_checks("created_at", "created_at", timezone, "_created"),
        choice_check("financial_status", "financial_status", FINANCIAL_STATUSES, pl.col("_status")),
        *currency_checks("currency", "currency", currency),
        email_check("email", "email"),
    ]
    return checks


def _orders(rows: pl.DataFrame, currency: str) -> pl.DataFrame:
    sale = pl.col("_qty") > 0
    orders = rows.group_by("order_id").agg(
        pl.col(ROW).min().alias("_first_row"),
        pl.col("_created").filter(sale).min().alias("created_at"),
        first_given("customer_id"),
        first_given("_email").alias("email"),
        first_given("_customer_name").alias("customer_name"),
        first_given("_status").alias("financial_status"),
        first_given("_channel_raw").alias("source_name"),
        first_given("_country").alias("country"),
        first_given("_shipping").alias("total_shipping"),
        first_given("_shipping_tax").alias("_shipping_tax"),
        *[first_given(c) for c in VISIT_COLUMNS],
    )
    orders = email_hashes(with_contact_email(orders), "email")
    return orders.with_columns(
        order_number=pl.col("order_id"),
        customer_id=customer_id_of(pl.col("customer_id"), pl.col("email_hash")),
        accepts_marketing=pl.lit(None, dtype=pl.Boolean),
        processed_at=pl.lit(None, dtype=TIMESTAMP),
        cancelled_at=pl.lit(None, dtype=TIMESTAMP),
        currency=pl.lit(currency),
        financial_status=pl.col("financial_status").fill_null("paid"),
        fulfillment_status=pl.lit(None, dtype=pl.String),
        channel=channel("source_name"),
        total_shipping=pl.col("total_shipping").fill_null(0),
        _shipping_tax=pl.col("_shipping_tax").fill_null(0),
        total_duties=pl.lit(0, dtype=MONEY_INT),
        discount_codes=pl.lit(None, dtype=pl.String),
        **{c: pl.col(c).str.to_lowercase() for c in VISIT_COLUMNS if not c.endswith("_campaign")},
    )


def _checked_returns(returns: pl.DataFrame, lines: pl.DataFrame, orders: pl.DataFrame) -> pl.DataFrame:
    """Return rows, each with the range of units it returns of its sku in its order, after checking them."""
    keys = returns.select("order_id", "sku").unique()
    sold = lines.join(keys, on=["order_id", "sku"], how="semi").group_by("order_id", "sku").agg(
        pl.col("_qty").sum().alias("_sold"))
    returns = (
        returns.with_columns(_units=-pl.col("_qty"))
        .sort("_created", ROW)
        .with_columns(_returned_to=pl.col("_units").cum_sum().over("order_id", "sku"))
        .join(sold, on=["order_id", "sku"], how="left")
        .join(orders.select("order_id", pl.col("created_at").alias("_order_created")), on="order_id", how="left")
        .sort(ROW)
    )
    check_rows(returns, [
        Check("sku", pl.col("_sold").is_null(),
              lambda r: f"order {r['order_id']} has no sale of sku {show(r['sku'])} to return"),
        Check("quantity", pl.col("_returned_to") > pl.col("_sold"),
              lambda r: f"returns of sku {show(r['sku'])} on order {r['order_id']} add up to "
                        f"{r['_returned_to']} units, more than the {r['_sold']} sold"),
        Check("created_at", pl.col("_created") < pl.col("_order_created"),
              lambda r: f"the return is dated before order {r['order_id']} was placed "
                        f"({r['_order_created']:%Y-%m-%d %H:%M:%S} UTC)"),
    ])
    return returns


def _refunds(returns: pl.DataFrame, lines: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(refunds, refund lines) of the return rows.

    A return row of ``n`` units covers units ``(returned_to - n, returned_to]``
    of its sku in the order; each sale line of that sku covers
    ``(sold_to - quantity, sold_to]``; where they overlap the row returns
    units of that line.
    """
    returns = returns.with_columns(
        refund_id=pl.col("order_id") + ":return:" + pl.col("_created").dt.to_string("%Y%m%dT%H%M%S%.fZ"),
        _tax_back=pl.col("_tax").fill_null(0).abs(),
    )
    returned_lines = (
        lines.join(returns.select("order_id", "sku").unique(), on=["order_id", "sku"], how="semi",
                   maintain_order="left")
        .select("order_id", "sku", "line_id", pl.col("_qty").alias("_line_qty"),
                pl.col("_qty").cum_sum().over("order_id", "sku").alias("_sold_to"))
    )
    pieces = (
        returns.select("refund_id", "order_id", "sku", ROW, "_units", "_returned_to", "_unit_price", "_tax_back")
        .join(returned_lines, on=["order_id", "sku"])
        .with_columns(
            quantity=pl.min_horizontal("_returned_to", "_sold_to")
            - pl.max_horizontal(pl.col("_returned_to") - pl.col("_units"), pl.col("_sold_to") - pl.col("_line_qty"))
        )
        .filter(pl.col("quantity") > 0)
        .sort(ROW, "_sold_to")
        .with_columns(
            subtotal=pl.col("quantity").cast(MONEY_INT) * pl.col("_unit_price"),
            tax=allocate(pl.col("_tax_back"), pl.col("quantity"), ROW, 1),
        )
    )
    refund_lines = pieces.group_by("refund_id", "line_id", maintain_order=True).agg(
        pl.col("quantity").sum(), pl.col("subtotal").sum(), pl.col("tax").sum()
    ).with_columns(restock=pl.lit(False))
    refunds = (
        returns.group_by("refund_id", maintain_order=True)
        .agg(pl.col("order_id").first(), pl.col("_created").first().alias("created_at"),
             (pl.col("_units").cast(MONEY_INT) * pl.col("_unit_price")).sum().alias("_goods"),
             pl.col("_tax_back").sum().alias("tax_refunded"))
        .with_columns(
            shipping_refunded=pl.lit(0, dtype=MONEY_INT),
            total_refunded=pl.col("_goods") + pl.col("tax_refunded"),
            note=pl.lit(None, dtype=pl.String),
        )
    )
    return refunds, refund_lines
