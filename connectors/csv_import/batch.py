"""The orders read from one file, in one shape whatever the file's format.

A format module (``generic``, ``shopify``) turns checked rows into an
:class:`OrderBatch`: orders, their lines, refunds and refund lines, with
money as exact integers of ten-thousandths. Customers, products and variants
follow from those, and :meth:`OrderBatch.tables` gives the frames the
warehouse takes (money as DECIMAL(18,4), timestamps in UTC).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import polars as pl

from connectors.csv_import.cells import TIMESTAMP, as_decimal

ORDER_MONEY = ("subtotal", "total_discounts", "total_shipping", "total_tax", "total_duties", "total_price")
LINE_MONEY = ("unit_price", "discount", "tax")
REFUND_MONEY = ("shipping_refunded", "tax_refunded", "total_refunded")
REFUND_LINE_MONEY = ("subtotal", "tax")

# Where the buyer came from (optional columns of the generic CSV; empty for Shopify's export).
VISIT_COLUMNS = tuple(f"{visit}_visit_{part}" for visit in ("first", "last") for part in ("source", "medium", "campaign"))
# The columns each frame of a batch holds, in order.
ORDER_COLUMNS = (
    "order_id", "order_number", "customer_id", "email_hash", "accepts_marketing", "created_at", "processed_at",
    "cancelled_at", "currency", "financial_status", "fulfillment_status", "channel", "source_name", "country",
    *ORDER_MONEY, "discount_codes", "customer_name", "contact_email", *VISIT_COLUMNS,
)
# Order columns that go to customer_contacts, not to orders.
CONTACT_COLUMNS = ("customer_name", "contact_email")
LINE_COLUMNS = ("line_id", "order_id", "variant_id", "product_id", "sku", "title", "quantity", *LINE_MONEY,
                "created_at")
REFUND_COLUMNS = ("refund_id", "order_id", "created_at", *REFUND_MONEY, "note")
REFUND_LINE_COLUMNS = ("refund_id", "line_id", "quantity", *REFUND_LINE_MONEY, "restock")


def variant_id_of(sku: pl.Expr, title: pl.Expr | None = None) -> pl.Expr:
    """The variant (and product) id of a line: ``sku:<sku>``, or ``title:<title>`` for a line without a sku."""
    by_sku = pl.lit("sku:") + sku
    return by_sku if title is None else pl.coalesce(by_sku, pl.lit("title:") + title)


def customer_id_of(customer_id: pl.Expr, email_hash: pl.Expr) -> pl.Expr:
    """The customer id given, else one derived from the email hash (null for a guest without either)."""
    return pl.coalesce(customer_id, pl.lit("email:") + email_hash)


@dataclass(frozen=True)
class OrderBatch:
    format: str
    orders: pl.DataFrame
    lines: pl.DataFrame
    refunds: pl.DataFrame
    refund_lines: pl.DataFrame

    def customers(self) -> pl.DataFrame:
        """One row per customer: the first order's time, the latest known email hash, country and consent."""
        latest = [pl.col(c).drop_nulls().last() for c in ("email_hash", "country", "accepts_marketing")]
        return (
            self.orders.filter(pl.col("customer_id").is_not_null())
            .sort("created_at", "order_id")
            .group_by("customer_id")
            .agg(pl.col("created_at").min(), *latest)
        )

    def contacts(self) -> pl.DataFrame:
        """One row per customer with a name or email in the file: the latest given of each."""
        return (
            self.orders.filter(pl.col("customer_id").is_not_null()
                               & (pl.col("customer_name").is_not_null() | pl.col("contact_email").is_not_null()))
            .sort("created_at", "order_id")
            .group_by("customer_id")
            .agg(pl.col("customer_name").drop_nulls().last().alias("name"),
                 pl.col("contact_email").drop_nulls().last().alias("email"))
        )

    def variants(self) -> pl.DataFrame:
        """One row per variant: its sku, the latest title and the latest unit price it sold at."""
        return (
            self.lines.sort("created_at", "line_id")
            .group_by("variant_id")
            .agg(
                pl.col("product_id").first(),
                pl.col("sku").drop_nulls().last(),
                pl.col("title").drop_nulls().last(),
                pl.col("unit_price").last().alias("price"),
            )
        )

    def tables(self, store_id: str, synced_at: dt.datetime) -> dict[str, pl.DataFrame]:
        """The warehouse frames, in the order they are written."""
        stamp = [pl.lit(store_id).alias("store_id"), pl.lit(synced_at, dtype=TIMESTAMP).alias("_synced_at")]

        def frame(source: pl.DataFrame, columns: list, money: tuple[str, ...] = (), *,
                  order: tuple[str, ...]) -> pl.DataFrame:
            # Rows go in a fixed order (time, then key): the same file writes the same rows in the
            # same order every time, so an import again updates the table in place, front to back.
            out = source.sort(order).select(columns).with_columns([as_decimal(pl.col(c)).alias(c) for c in money])
            return out.with_columns(stamp).select(["store_id", *out.columns, "_synced_at"])

        variants = self.variants()
        # One product per variant: the files name no product apart from the line's title.
        products = variants.select("product_id", "title").unique("product_id", keep="last", maintain_order=True)
        return {
            "customers": frame(self.customers(), ["customer_id", "email_hash", "created_at", "country",
                                                  "accepts_marketing"], order=("created_at", "customer_id")),
            "customer_contacts": frame(self.contacts(), ["customer_id", "name", "email"], order=("customer_id",)),
            "products": frame(products, ["product_id", "title"], order=("product_id",)),
            "variants": frame(variants, ["variant_id", "product_id", "sku", "title", "price"], ("price",),
                              order=("variant_id",)),
            "orders": frame(
                self.orders,
                [c for c in ORDER_COLUMNS if c not in ("email_hash", "accepts_marketing", *CONTACT_COLUMNS)]
                + [pl.lit(False).alias("is_test")],
                ORDER_MONEY,
                order=("created_at", "order_id"),
            ),
            "order_lines": frame(
                self.lines,
                [c for c in LINE_COLUMNS if c != "created_at"] + [pl.lit(False).alias("is_gift_card")],
                LINE_MONEY,
                order=("created_at", "line_id"),
            ),
            "refunds": frame(self.refunds, list(REFUND_COLUMNS), REFUND_MONEY, order=("created_at", "refund_id")),
            "refund_lines": frame(self.refund_lines, list(REFUND_LINE_COLUMNS), REFUND_LINE_MONEY,
                                  order=("refund_id", "line_id")),
        }


def person_name(column: str | pl.Expr) -> pl.Expr:
    """A name cell trimmed, runs of spaces made one, empty as null (as data/contacts.py cleans names)."""
    value = pl.col(column) if isinstance(column, str) else column
    cleaned = value.str.replace_all(r"\s+", " ").str.strip_chars()
    return pl.when(cleaned == "").then(None).otherwise(cleaned)


def with_contact_email(orders: pl.DataFrame) -> pl.DataFrame:
    """``orders`` with ``contact_email``: the address as given, trimmed and lower-cased, for
    ``customer_contacts`` (the ``email`` column itself is replaced by its hash)."""
    return orders.with_columns(pl.col("email").str.strip_chars().str.to_lowercase().alias("contact_email"))


def with_fallback_titles(products: pl.DataFrame) -> pl.DataFrame:
    """Products without a title are named after the sku (or line name) their id comes from."""
    fallback = pl.col("product_id").str.replace(r"^(sku|title):", "")
    return products.with_columns(pl.coalesce("title", fallback).alias("title"))
