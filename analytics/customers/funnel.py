"""The conversion funnel from web sessions (``web_events``, one row per session in the rollup ``session_facts``).

A session is counted at a step when it has that step's event and every
earlier one's (a closed funnel): sessions → viewed a product (``view_item``)
→ added to cart → began checkout → purchased. For each step: its sessions,
their share of all sessions, of the step before (conversion) and the drop-off
(1 − conversion). A session falls on the store-local day of its first event;
its source, medium (the marketing channel) and device are those of its first
event.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from analytics.customers.orders import typed
from analytics.periods import check_range
from data.warehouse import Warehouse

__all__ = ["BREAKDOWNS", "FUNNEL_STEPS", "funnel", "funnel_sessions", "funnel_table"]

FUNNEL_STEPS = (
    ("sessions", "Sessions", None),
    ("viewed_product", "Viewed a product", "view_item"),
    ("added_to_cart", "Added to cart", "add_to_cart"),
    ("began_checkout", "Began checkout", "begin_checkout"),
    ("purchased", "Purchased", "purchase"),
)
BREAKDOWNS = {"medium": "Channel (medium)", "source": "Source", "device": "Device"}

_SESSIONS = """
SELECT COALESCE(source, '(unknown)') AS source, COALESCE(medium, '(unknown)') AS medium,
       COALESCE(device, '(unknown)') AS device, COUNT(*) AS sessions,
       SUM(CASE WHEN viewed_product THEN 1 ELSE 0 END) AS viewed_product,
       SUM(CASE WHEN viewed_product AND added_to_cart THEN 1 ELSE 0 END) AS added_to_cart,
       SUM(CASE WHEN viewed_product AND added_to_cart AND began_checkout THEN 1 ELSE 0 END) AS began_checkout,
       SUM(CASE WHEN viewed_product AND added_to_cart AND began_checkout AND purchased THEN 1 ELSE 0 END)
           AS purchased
FROM session_facts
WHERE store_id = :store_id AND local_date BETWEEN :start AND :end
GROUP BY COALESCE(source, '(unknown)'), COALESCE(medium, '(unknown)'), COALESCE(device, '(unknown)')
"""


def funnel_sessions(wh: Warehouse, store_id: str, start: dt.date, end: dt.date) -> pl.DataFrame:
    """The sessions that began between ``start`` and ``end`` (store-local, inclusive), counted in SQL from the
    rollup ``session_facts`` per ``source``, ``medium`` and ``device``: ``sessions`` and, per step after it, the sessions that reached that
    step (closed funnel)."""
    start, end = check_range(start, end)
    cells = wh.query(_SESSIONS, {"store_id": store_id, "start": start, "end": end})
    return typed(cells, {"source": pl.String, "medium": pl.String, "device": pl.String,
                         **{key: pl.Int64 for key, _, _ in FUNNEL_STEPS}})


def funnel_table(sessions: pl.DataFrame) -> pl.DataFrame:
    """The funnel of ``sessions`` (counts as :func:`funnel_sessions`): ``step``, ``label``, ``sessions``,
    ``share_of_sessions``, ``conversion`` (÷ the step before; none for the first step or after 0) and
    ``drop_off`` (1 − conversion)."""
    counts = [int(sessions[key].sum()) for key, _, _ in FUNNEL_STEPS]
    total = counts[0]
    rows = []
    for i, ((key, label, _), count) in enumerate(zip(FUNNEL_STEPS, counts)):
        before = counts[i - 1] if i else None
        conversion = count / before if before else None
        rows.append({"step": key, "label": label, "sessions": count,
                     "share_of_sessions": count / total if total else None,
                     "conversion": conversion, "drop_off": 1 - conversion if conversion is not None else None})
    return pl.DataFrame(rows, schema={"step": pl.String, "label": pl.String, "sessions": pl.Int64,
                                      "share_of_sessions": pl.Float64, "conversion": pl.Float64,
                                      "drop_off": pl.Float64})


def funnel(sessions: pl.DataFrame, by: str | None = None) -> pl.DataFrame:
    """:func:`funnel_table` overall, or per value of ``by`` (``medium``, ``source`` or ``device``) with that
    column first, groups with the most sessions first."""
    if by is None:
        return funnel_table(sessions)
    if by not in BREAKDOWNS:
        raise ValueError(f"the funnel breaks down by {', '.join(BREAKDOWNS)}, not {by!r}")
    sizes = sessions.group_by(by).agg(pl.col("sessions").sum().alias("len")).sort(["len", by], descending=[True, False])
    parts = [funnel_table(sessions.filter(pl.col(by) == value)).select(pl.lit(value).alias(by), pl.all())
             for value in sizes[by].to_list()]
    if not parts:
        return funnel_table(sessions).clear().select(pl.lit(None, dtype=pl.String).alias(by), pl.all())
    return pl.concat(parts)
