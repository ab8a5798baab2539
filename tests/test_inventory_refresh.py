"""The forecast refresh step and the report's inventory files, on both backends."""

from __future__ import annotations

import csv
import datetime as dt
import io

import polars as pl

from analytics.inventory.report_section import FORECAST_COLUMNS, INVENTORY_COLUMNS, build
from analytics.refresh import latest_run, run_refresh
from analytics.report import ReportContext
from analytics.store_state import list_stores
from tests.builders import utc
from tests.inventory_store import AS_OF, build_inventory_store


def test_refresh_writes_forecasts_and_accuracy_and_replaces_them(wh):
    build_inventory_store(wh)
    store = list_stores(wh)[0]
    runs = run_refresh(wh, store, AS_OF, only=["forecast"], now=utc(2026, 4, 1, 6))
    assert [r.status for r in runs] == ["succeeded"], runs[0].error
    forecasts = wh.query("SELECT variant_id, ds, model, yhat, yhat_lo, yhat_hi, level FROM forecasts "
                         "WHERE store_id = 's' ORDER BY variant_id, ds")
    # Every variant with a sale in the last 730 days is forecast. Series start at the first sale: v1 has 90 days
    # (smooth), v2 30 and v4 12 (new products: under 56 days), v3 121 days with one sale (intermittent).
    per_variant = dict(forecasts.group_by("variant_id").len().iter_rows())
    assert per_variant == {"v1": 28, "v2": 28, "v3": 28, "v4": 28}
    assert forecasts["ds"].min() == AS_OF + dt.timedelta(days=1) and set(forecasts["level"]) == {90}
    v1 = forecasts.filter(pl.col("variant_id") == "v1")
    assert v1["yhat"].to_list() == [2.0] * 28     # two a day, every day: every candidate says 2
    chosen = wh.query("SELECT variant_id, model, series_kind FROM forecast_accuracy WHERE chosen "
                      "ORDER BY variant_id")
    assert dict(chosen.select("variant_id", "series_kind").iter_rows()) == {
        "v1": "smooth", "v2": "new", "v3": "intermittent", "v4": "new"}
    run = latest_run(wh, "s", "forecast")
    assert run["metrics"]["series"] == 4 and run["params"]["horizon"] == 28
    scored_first = wh.scalar("SELECT COUNT(*) FROM forecast_accuracy")

    run_refresh(wh, store, AS_OF, only=["forecast"], now=utc(2026, 4, 2, 6))
    assert wh.scalar("SELECT COUNT(*) FROM forecasts") == 4 * 28   # replaced, not added
    # the newer run keeps every candidate's score, the older one only its chosen rows (4)
    assert wh.scalar("SELECT COUNT(*) FROM forecast_accuracy") == scored_first + 4


def test_report_files(wh):
    build_inventory_store(wh)
    store = list_stores(wh)[0]
    output = build(ReportContext(wh, store, dt.date(2026, 3, 1), AS_OF, utc(2026, 4, 1)))
    inventory = list(csv.DictReader(io.StringIO(output.files["inventory.csv"].decode())))
    assert tuple(inventory[0]) == INVENTORY_COLUMNS
    v1 = next(r for r in inventory if r["variant_id"] == "v1")
    assert (v1["sku"], v1["available"], v1["days_of_cover"], v1["abc_class"], v1["reorder_point"],
            v1["safety_stock"], v1["suggested_order_qty"], v1["status"]) == \
        ("SKU-v1", "30", "15.0", "A", "26", "6", "24", "ok")
    forecast = list(csv.DictReader(io.StringIO(output.files["forecast.csv"].decode())))
    assert tuple(forecast[0]) == FORECAST_COLUMNS and len(forecast) == 28
    assert forecast[0] == {"variant_id": "v1", "sku": "SKU-v1", "ds": "2026-04-01", "yhat": "2.0",
                           "yhat_lo": "0.355", "yhat_hi": "3.645", "model": "SES"}
