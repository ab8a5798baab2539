"""Orders: one page of the store's order list at a time, and one order in full.

The list reads the ``orders`` table (a drill-down, so raw rows), filtered in
SQL and paged in SQL: a page is at most :data:`PAGE_SIZE` rows, whatever the
number of matching orders, and the count of matching orders comes from its
own ``COUNT(*)``.

- The range is inclusive store-local dates: an order is in it when it was
  created between 00:00 on ``start`` and 24:00 on ``end`` in the store's
  timezone (the bounds are turned into UTC instants, so no timestamp is
  converted in SQL and the ``(store_id, created_at)`` index serves).
- Test orders are left out. Cancelled and voided orders are listed (the
  statuses say so), although the sales figures leave out the ones never paid.
- ``channels`` keep orders whose channel is one of them (no channel: ``other``);
  ``financial_statuses`` and ``fulfillment_statuses`` likewise (no fulfillment
  status: ``unfulfilled``).
- ``search`` finds an order number or order id containing the text (``1001``
  finds ``#1001``), a customer id containing it, or, when the text is an
  email address, the customer with that address's hash (the address itself is
  never stored).
- Sorting is by a key of :data:`ORDER_SORTS` only; the order id breaks ties
  so pages never overlap.

Times come back as store-local wall-clock times (naive ``Datetime``); money as
exact ``Decimal`` in the order's shop currency. ``items`` is the number of
units on the order's lines.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
from dataclasses import dataclass, field
from typing import Any, Iterable
from zoneinfo import ZoneInfo

import polars as pl

from analytics.periods import check_range
from data.warehouse import Warehouse

__all__ = [
    "FINANCIAL_STATUSES",
    "FULFILLMENT_STATUSES",
    "ORDER_SORTS",
    "PAGE_SIZE",
    "OrderDetail",
    "OrderPage",
    "OrderQuery",
    "order_detail",
    "order_page",
    "orders_for_export",
]

PAGE_SIZE = 50

FINANCIAL_STATUSES = ("pending", "authorized", "partially_paid", "paid", "partially_refunded", "refunded", "voided")
FULFILLMENT_STATUSES = ("unfulfilled", "partial", "fulfilled", "restocked")

# Sort keys a user may choose, each a fixed SQL ordering over the list's
# output columns. Nothing a user types ever enters SQL text.
ORDER_SORTS: dict[str, tuple[str, ...]] = {
    "placed": ("created_at",),
    # "#999" before "#1000": shorter numbers first, then by text.
    "number": ("length(order_number)", "order_number"),
    "total": ("total_price",),
    "customer": ("customer_id",),
    "financial_status": ("financial_status",),
    "fulfillment_status": ("fulfillment_status",),
}
SORT_LABELS = {
    "placed": "Date placed",
    "number": "Order number",
    "total": "Total",
    "customer": "Customer",
    "financial_status": "Payment status",
    "fulfillment_status": "Fulfillment status",
}

LIST_COLUMNS = ("order_id", "order_number", "placed_at", "customer_id", "customer_name", "customer_email", "items",
                "total", "currency",
                "financial_status", "fulfillment_status", "channel")


@dataclass(frozen=True)
class OrderQuery:
    """Which orders, in which order, which page (1-based)."""

    store_id: str
    start: dt.date
    end: dt.date
    timezone: str
    channels: tuple[str, ...] = ()
    financial_statuses: tuple[str, ...] = ()
    fulfillment_statuses: tuple[str, ...] = ()
    search: str = ""
    sort: str = "placed"
    descending: bool = True
    page: int = 1
    page_size: int = PAGE_SIZE

    def __post_init__(self) -> None:
        check_range(self.start, self.end)
        if self.sort not in ORDER_SORTS:
            raise ValueError(f"sort must be one of {', '.join(ORDER_SORTS)}, not {self.sort!r}")
        if not 1 <= self.page_size <= 500:
            raise ValueError("page_size must be between 1 and 500")
        ZoneInfo(self.timezone)  # raises for an unknown zone


@dataclass(frozen=True)
class OrderPage:
    """One page of the list: ``rows`` (columns :data:`LIST_COLUMNS`), the matching total and the page numbers."""

    rows: pl.DataFrame
    total: int
    page: int
    page_count: int
    page_size: int

    @property
    def first_row(self) -> int:
        """1-based position of the page's first order among the matches (0 when none)."""
        return 0 if self.total == 0 else (self.page - 1) * self.page_size + 1

    @property
    def last_row(self) -> int:
        return 0 if self.total == 0 else self.first_row + self.rows.height - 1


@dataclass(frozen=True)
class OrderDetail:
    """One order: its header figures, lines, refunds and payments (transactions)."""

    order: dict[str, Any]
    lines: pl.DataFrame
    refunds: pl.DataFrame
    payments: pl.DataFrame = field(repr=False)


# -- the list -------------------------------------------------------------------------

def _local_bounds(start: dt.date, end: dt.date, timezone: str) -> tuple[dt.datetime, dt.datetime]:
    """UTC instants of 00:00 on ``start`` and of 00:00 the day after ``end``, store time."""
    zone = ZoneInfo(timezone)
    lower = dt.datetime.combine(start, dt.time(), zone).astimezone(dt.timezone.utc)
    upper = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), zone).astimezone(dt.timezone.utc)
    return lower, upper


def _like_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _in_clause(expression: str, prefix: str, values: Iterable[str], params: dict[str, Any]) -> str:
    values = list(dict.fromkeys(values))
    if not values:
        return ""
    names = [f"{prefix}_{i}" for i in range(len(values))]
    for name, value in zip(names, values):
        if not isinstance(value, str):
            raise ValueError(f"{prefix} filter values must be text, not {type(value).__name__}")
        params[name] = value
    return f" AND {expression} IN ({', '.join(':' + n for n in names)})"


def _where(query: OrderQuery) -> tuple[str, dict[str, Any]]:
    lower, upper = _local_bounds(query.start, query.end, query.timezone)
    params: dict[str, Any] = {"store_id": query.store_id, "lower": lower, "upper": upper}
    sql = ("o.store_id = :store_id AND NOT o.is_test "
           "AND o.created_at >= :lower AND o.created_at < :upper")
    sql += _in_clause("COALESCE(o.channel, 'other')", "channel", query.channels, params)
    sql += _in_clause("o.financial_status", "financial", query.financial_statuses, params)
    sql += _in_clause("COALESCE(o.fulfillment_status, 'unfulfilled')", "fulfillment",
                      query.fulfillment_statuses, params)
    text = query.search.strip()
    if text:
        params["search"] = text
        params["search_like"] = _like_pattern(text.lstrip("#") or text)
        matches = [
            "o.order_number LIKE :search_like ESCAPE '\\'",
            "o.order_id = :search",
            "o.customer_id LIKE :search_like ESCAPE '\\'",
            # A name or address kept in customer_contacts (empty when STORE_CUSTOMER_CONTACTS is off).
            "o.customer_id IN (SELECT cc.customer_id FROM customer_contacts cc WHERE cc.store_id = :store_id "
            "AND (LOWER(cc.name) LIKE LOWER(:search_like) ESCAPE '\\' OR cc.email = LOWER(:search)))",
        ]
        if "@" in text:
            params["search_email_hash"] = hashlib.sha256(text.lower().encode("utf-8")).hexdigest()
            matches.append(
                "o.customer_id IN (SELECT c.customer_id FROM customers c "
                "WHERE c.store_id = :store_id AND c.email_hash = :search_email_hash)"
            )
        sql += " AND (" + " OR ".join(matches) + ")"
    return sql, params


def _order_by(query: OrderQuery) -> str:
    direction = "DESC" if query.descending else "ASC"
    nulls = "NULLS LAST"
    terms = [f"{expression} {direction} {nulls}" for expression in ORDER_SORTS[query.sort]]
    return ", ".join([*terms, f"order_id {direction}"])


_LIST_SQL = """
WITH listed AS (
    SELECT o.order_id, o.order_number, o.created_at, o.customer_id, o.total_price, o.currency,
           o.financial_status, COALESCE(o.fulfillment_status, 'unfulfilled') AS fulfillment_status,
           COALESCE(o.channel, 'other') AS channel
    FROM orders o
    WHERE {where}
    ORDER BY {order_by}
    {limit}
)
-- A correlated count per listed order: index lookups for a page of 50, a hash
-- join once DuckDB decorrelates it, and no plan that depends on table statistics
-- (a freshly loaded PostgreSQL table has none until it is analyzed).
SELECT listed.*,
       COALESCE((SELECT CAST(SUM(l.quantity) AS BIGINT) FROM order_lines l
                 WHERE l.store_id = :store_id AND l.order_id = listed.order_id), 0) AS items,
       (SELECT cc.name FROM customer_contacts cc
        WHERE cc.store_id = :store_id AND cc.customer_id = listed.customer_id) AS customer_name,
       (SELECT cc.email FROM customer_contacts cc
        WHERE cc.store_id = :store_id AND cc.customer_id = listed.customer_id) AS customer_email
FROM listed
ORDER BY {order_by}
"""


def _local_naive(frame: pl.DataFrame, column: str, timezone: str, alias: str) -> pl.Expr:
    dtype = frame.schema[column]
    source = pl.col(column)
    if isinstance(dtype, pl.Datetime) and dtype.time_zone is None:
        source = source.dt.replace_time_zone("UTC")
    return source.dt.convert_time_zone(timezone).dt.replace_time_zone(None).alias(alias)


def _empty_list() -> pl.DataFrame:
    return pl.DataFrame(schema={
        "order_id": pl.String, "order_number": pl.String, "placed_at": pl.Datetime("us"),
        "customer_id": pl.String, "customer_name": pl.String, "customer_email": pl.String, "items": pl.Int64,
        "total": pl.Decimal(18, 4), "currency": pl.String, "financial_status": pl.String, "fulfillment_status": pl.String, "channel": pl.String,
    })


def _list_frame(wh: Warehouse, query: OrderQuery, limit: str, params: dict[str, Any]) -> pl.DataFrame:
    where, where_params = _where(query)
    order_by = _order_by(query)
    raw = wh.query(_LIST_SQL.format(where=where, order_by=order_by, limit=limit), {**where_params, **params})
    if raw.height == 0:
        return _empty_list()
    return raw.select(
        "order_id", "order_number",
        _local_naive(raw, "created_at", query.timezone, "placed_at"),
        "customer_id", pl.col("customer_name").cast(pl.String), pl.col("customer_email").cast(pl.String),
        pl.col("items").cast(pl.Int64),
        pl.col("total_price").alias("total"),
        "currency", "financial_status", "fulfillment_status", "channel",
    )


def count_orders(wh: Warehouse, query: OrderQuery) -> int:
    """How many orders match the query's filters and search (all pages)."""
    where, params = _where(query)
    return int(wh.scalar(f"SELECT COUNT(*) FROM orders o WHERE {where}", params) or 0)


def order_page(wh: Warehouse, query: OrderQuery) -> OrderPage:
    """The query's page of orders (a page past the last gives the last page).

    Two statements: ``COUNT(*)`` of the matches, then the page itself with
    ``LIMIT``/``OFFSET`` and the units of just those orders' lines.
    """
    total = count_orders(wh, query)
    page_count = max(1, math.ceil(total / query.page_size))
    page = min(max(1, int(query.page)), page_count)
    rows = _list_frame(
        wh, query, "LIMIT :limit OFFSET :offset",
        {"limit": query.page_size, "offset": (page - 1) * query.page_size},
    ) if total else _empty_list()
    return OrderPage(rows=rows, total=total, page=page, page_count=page_count, page_size=query.page_size)


def orders_for_export(wh: Warehouse, query: OrderQuery) -> pl.DataFrame:
    """Every matching order (all pages), in the query's order, columns as :func:`order_page`'s rows."""
    return _list_frame(wh, query, "", {})


# -- one order ------------------------------------------------------------------------

_ORDER_SQL = """
SELECT o.order_id, o.order_number, o.created_at, o.cancelled_at, o.customer_id, o.channel, o.source_name,
       o.country, o.currency, o.financial_status, COALESCE(o.fulfillment_status, 'unfulfilled') AS fulfillment_status,
       o.subtotal, o.total_discounts, o.total_shipping, o.total_tax, o.total_duties, o.total_price,
       o.discount_codes, o.is_test, cc.name AS customer_name, cc.email AS customer_email
FROM orders o
LEFT JOIN customer_contacts cc ON cc.store_id = o.store_id AND cc.customer_id = o.customer_id
WHERE o.store_id = :store_id AND o.order_id = :order_id
"""

_LINES_SQL = """
SELECT l.line_id, COALESCE(l.title, p.title, l.sku, l.line_id) AS title, l.sku, l.variant_id,
       l.quantity, l.unit_price, l.discount, l.tax,
       l.unit_price * l.quantity - l.discount AS line_total,
       CAST(COALESCE(r.returned, 0) AS BIGINT) AS returned, l.is_gift_card
FROM order_lines l
LEFT JOIN products p ON p.store_id = l.store_id AND p.product_id = l.product_id
LEFT JOIN (
    SELECT rl.line_id AS returned_line_id, SUM(rl.quantity) AS returned
    FROM refund_lines rl JOIN refunds rf ON rf.store_id = rl.store_id AND rf.refund_id = rl.refund_id
    WHERE rf.store_id = :store_id AND rf.order_id = :order_id
    GROUP BY rl.line_id
) r ON r.returned_line_id = l.line_id
WHERE l.store_id = :store_id AND l.order_id = :order_id
ORDER BY l.line_id
"""

_REFUNDS_SQL = """
SELECT rf.refund_id, rf.created_at,
       CAST(COALESCE(g.items_returned, 0) AS BIGINT) AS items_returned,
       CAST(COALESCE(g.goods_returned, 0) AS DECIMAL(18,4)) AS goods_returned,
       rf.shipping_refunded, rf.tax_refunded, rf.total_refunded, rf.note
FROM refunds rf
LEFT JOIN (
    SELECT refund_id AS goods_refund_id, SUM(quantity) AS items_returned, SUM(subtotal) AS goods_returned
    FROM refund_lines WHERE store_id = :store_id
      AND refund_id IN (SELECT refund_id FROM refunds WHERE store_id = :store_id AND order_id = :order_id)
    GROUP BY refund_id
) g ON g.goods_refund_id = rf.refund_id
WHERE rf.store_id = :store_id AND rf.order_id = :order_id
ORDER BY rf.created_at, rf.refund_id
"""

_PAYMENTS_SQL = """
SELECT t.transaction_id, t.created_at, t.kind, t.status, t.provider, t.amount, t.fee, t.net, t.currency
FROM transactions t
WHERE t.store_id = :store_id AND t.order_id = :order_id
ORDER BY t.created_at, t.transaction_id
"""


def _with_local_times(frame: pl.DataFrame, timezone: str, columns: dict[str, str]) -> pl.DataFrame:
    present = {c: alias for c, alias in columns.items() if c in frame.columns}
    if not present:
        return frame
    return frame.with_columns([_local_naive(frame, c, timezone, alias) for c, alias in present.items()]).drop(
        [c for c, alias in present.items() if c != alias]
    )


def _local_value(value: Any, timezone: str) -> dt.datetime | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    return value.astimezone(ZoneInfo(timezone)).replace(tzinfo=None)


def order_detail(wh: Warehouse, store_id: str, order_id: str, timezone: str) -> OrderDetail | None:
    """One order with its lines, refunds and payments; ``None`` when the store has no such order.

    ``order`` holds the order's columns with ``placed_at`` and
    ``cancelled_at`` in store time. ``lines``: ``line_id, title, sku,
    variant_id, quantity, unit_price, discount, tax, line_total`` (unit price ×
    quantity − discount), ``returned`` (units refunded so far),
    ``is_gift_card``. ``refunds``: ``refund_id, refunded_at, items_returned,
    goods_returned`` (Σ refund line subtotals), ``shipping_refunded,
    tax_refunded, total_refunded, note``. ``payments``: the order's
    transactions, ``transaction_id, at, kind, status, provider, amount, fee,
    net, currency``.
    """
    params = {"store_id": store_id, "order_id": order_id}
    rows = wh.query(_ORDER_SQL, params).to_dicts()
    if not rows:
        return None
    order = rows[0]
    order["placed_at"] = _local_value(order.pop("created_at"), timezone)
    order["cancelled_at"] = _local_value(order["cancelled_at"], timezone)
    lines = wh.query(_LINES_SQL, params)
    refunds = _with_local_times(wh.query(_REFUNDS_SQL, params), timezone, {"created_at": "refunded_at"})
    payments = _with_local_times(wh.query(_PAYMENTS_SQL, params), timezone, {"created_at": "at"})
    refunds = refunds.select("refund_id", "refunded_at", *[c for c in refunds.columns
                                                          if c not in ("refund_id", "refunded_at")])
    payments = payments.select("transaction_id", "at", *[c for c in payments.columns
                                                        if c not in ("transaction_id", "at")])
    return OrderDetail(order=order, lines=lines, refunds=refunds, payments=payments)
