"""A small demo store with scores and forecasts, for the BI views and the exports."""

from __future__ import annotations

import datetime as dt

from analytics.refresh import run_refresh
from analytics.store_state import list_stores
from connectors.demo import build_demo

END = dt.date(2026, 12, 31)
SMALL = {"orders": 300, "days": 60, "seed": 7, "end": END}


def build_bi_store(wh, *, forecasts: bool = True) -> None:
    """300 demo orders over 60 days to 31 December 2026, scored (RFM, CLV) and forecast on that day."""
    build_demo(wh, **SMALL)
    store = next(s for s in list_stores(wh) if s.store_id == "demo")
    steps = ["rfm", "clv", "forecast"] if forecasts else ["rfm", "clv"]
    runs = run_refresh(wh, store, END, only=steps)
    failed = [(r.kind, r.error) for r in runs if r.status != "succeeded"]
    assert not failed, failed
