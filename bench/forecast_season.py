"""Forecasts made before a peak, and off it, on a seeded demo store.

    python -m bench.forecast_season [--orders 30000] [--end 2025-12-10] [--days 760] [--seed 7]
                                    [--origins 2025-11-10,2025-09-15,2025-06-02]

Builds the demo store (``connectors demo``: a yearly season with Black
Friday–Cyber Monday, the weeks to Christmas and a July sale, on top of the
week and a growth trend) into a scratch DuckDB, then for each origin runs the
forecast refresh computation on the history up to that day and compares the
next 28 days' forecasts with what the store then sold:

- ``total_error``: Σ forecast ÷ Σ units sold − 1 over the variants forecast
  and the 28 days (negative: the forecasts fell short),
- ``wape``: Σ |forecast − units sold| ÷ Σ units sold over the same
  variant-days,
- ``seconds``: wall time of ``forecast_demand`` (with the load average).

The default origin 2025-11-10 is eleven days before Black Friday, with two
years of history before it. Figures to read, never assertions.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import time

import polars as pl

from bench.common import emit, scratch_url


def outcome(forecasts: pl.DataFrame, sold: pl.DataFrame) -> dict:
    """``total_error`` and ``wape`` of ``forecasts`` (unique_id, ds, yhat) against ``sold`` (unique_id, ds, y)
    over the forecast variant-days (a day without a sale sold 0)."""
    joined = forecasts.join(sold, on=["unique_id", "ds"], how="left").with_columns(pl.col("y").fill_null(0.0))
    actual = float(joined["y"].sum())
    if actual <= 0:
        return {"sold": 0, "forecast": round(float(joined["yhat"].sum()), 1), "total_error": None, "wape": None}
    return {"sold": int(actual), "forecast": round(float(joined["yhat"].sum()), 1),
            "total_error": round(float(joined["yhat"].sum()) / actual - 1, 4),
            "wape": round(float((joined["yhat"] - joined["y"]).abs().sum()) / actual, 4)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.forecast_season")
    parser.add_argument("--orders", type=int, default=30_000)
    parser.add_argument("--end", type=dt.date.fromisoformat, default=dt.date(2025, 12, 10))
    parser.add_argument("--days", type=int, default=760)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--origins", default="2025-11-10,2025-09-15,2025-06-02")
    args = parser.parse_args(argv)

    from analytics.inventory.forecast import HORIZON, forecast_demand
    from analytics.inventory.refresh_step import demand_inputs
    from connectors.demo import build_demo
    from data.warehouse import connect

    with scratch_url("duckdb") as url:
        wh = connect(url)
        try:
            clock = time.perf_counter()
            build_demo(wh, orders=args.orders, days=args.days, seed=args.seed, end=args.end)
            build_seconds = time.perf_counter() - clock
            sold = wh.query("SELECT variant_id AS unique_id, local_date AS ds, CAST(SUM(units_sold) AS DOUBLE) AS y "
                            "FROM variant_daily_sales WHERE store_id = 'demo' AND variant_id IS NOT NULL "
                            "GROUP BY 1, 2").with_columns(pl.col("ds").cast(pl.Date))
            for origin in [dt.date.fromisoformat(o) for o in args.origins.split(",")]:
                series, groups = demand_inputs(wh, "demo", origin)
                clock = time.perf_counter()
                result = forecast_demand(series, origin, groups=groups)
                seconds = time.perf_counter() - clock
                ahead = result.forecasts.filter(pl.col("ds") <= origin + dt.timedelta(days=HORIZON))
                chosen = result.accuracy.filter(pl.col("chosen"))
                emit(bench="forecast_season", orders=args.orders, days=args.days, seed=args.seed, origin=origin,
                     variants=series["unique_id"].n_unique(), build_seconds=round(build_seconds, 1),
                     seconds=round(seconds, 1), load_average=[round(x, 1) for x in os.getloadavg()],
                     models_chosen=dict(chosen.group_by("model").len().sort("model").iter_rows()),
                     **outcome(ahead.select("unique_id", "ds", "yhat"), sold))
        finally:
            wh.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
