"""The conversion funnel from web sessions (``web_events``).

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
WITH events AS (
    SELECT e.session_id, e.event_type, e.occurred_at, e.source, e.medium, e.device,
           CAST(e.occurred_at AT TIME ZONE s.timezone AS DATE) AS local_date
    FROM web_events e JOIN stores s ON s.store_id = e.store_id
    WHERE e.store_id = :store_id
      AND e.occurred_at >= :lower AND e.occurred_at < :upper
),
firsts AS (
    SELECT session_id, source, medium, device, local_date,
           ROW_NUMBER() OVER (PARTITION BY session_id ORDER BY occurred_at, event_type) AS n
    FROM events
),
sessions AS (
    SELECT f.session_id, COALESCE(f.source, '(unknown)') AS source, COALESCE(f.medium, '(unknown)') AS medium,
           COALESCE(f.device, '(unknown)') AS device,
           MAX(CASE WHEN e.event_type = 'view_item' THEN 1 ELSE 0 END) AS v,
           MAX(CASE WHEN e.event_type = 'add_to_cart' THEN 1 ELSE 0 END) AS a,
           MAX(CASE WHEN e.event_type = 'begin_checkout' THEN 1 ELSE 0 END) AS c,
           MAX(CASE WHEN e.event_type = 'purchase' THEN 1 ELSE 0 END) AS p
    FROM firsts f JOIN events e ON e.session_id = f.session_id
    WHERE f.n = 1 AND f.local_date BETWEEN :start AND :end
    GROUP BY f.session_id, f.source, f.medium, f.device
)
SELECT source, medium, device, COUNT(*) AS sessions, SUM(v) AS viewed_product, SUM(v * a) AS added_to_cart,
       SUM(v * a * c) AS began_checkout, SUM(v * a * c * p) AS purchased
FROM sessions GROUP BY source, medium, device
"""


def funnel_sessions(wh: Warehouse, store_id: str, start: dt.date, end: dt.date) -> pl.DataFrame:
    """The sessions that began between ``start`` and ``end`` (store-local, inclusive), counted in SQL per
    ``source``, ``medium`` and ``device``: ``sessions`` and, per step after it, the sessions that reached that
    step (closed funnel)."""
    start, end = check_range(start, end)
    # Events a day either side cover any timezone; the store-local day is checked in SQL.
    lower = dt.datetime.combine(start - dt.timedelta(days=1), dt.time(), dt.timezone.utc)
    upper = dt.datetime.combine(end + dt.timedelta(days=2), dt.time(), dt.timezone.utc)
    cells = wh.query(_SESSIONS, {"store_id": store_id, "start": start, "end": end, "lower": lower, "upper": upper})
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
