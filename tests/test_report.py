"""The report folder: files, columns and figures worked out by hand; the command line's errors.

Store ``s`` (America/New_York, USD, named ``Bob's <Shop> & Co``); orders at
15:00 or 20:00 UTC fall on the date written. Line 1 of an order is product
p1 / variant v1, line 2 p2 / v2. p1 is titled ``=HYPERLINK("x")`` (a formula
that must not survive into the CSV), p2 ``Tee, large``; v1 costs 1.00, v2 has
no cost.

| order | day   | customer | channel      | lines                               | shipping | tax  |
| o0    | 20 Feb| c1       | online_store | 1 × 5.00 (before the range)         |          |      |
| o1    | 1 Mar | c1       | online_store | 1 × 2.345                           | 1.00     | 0.20 |
| o2    | 1 Mar | c2       | pos          | 1 × 5.00; 2 × 10.00 − 1.00          |          |      |
| t1    | 2 Mar | c3       | online_store | test order, 1 × 99.00 (left out)    |          |      |
| o3    | 3 Mar | c1       | online_store | 1 × 2.355                           |          |      |

Refund r1 on 3 March: one unit of o2's line 2, goods 9.50, tax 0.10 back.

1 March: gross 2.345 + 5 + 20 = 27.345 → 27.34 (half to even), discounts
1.00, net 26.345 → 26.34, shipping 1.00, taxes 0.20, total 27.545 → 27.54,
units 4, AOV 26.345 ÷ 2 = 13.1725 → 13.17; c2 is new, c1 returning (o0).
2 March: nothing (the test order is left out).
3 March: gross 2.355 → 2.36, returns 9.50, net −7.145 → −7.14, taxes −0.10,
total −7.245 → −7.24, units 1, AOV 2.36; c1 returning.
Range: gross 29.70, discounts 1.00, returns 9.50, net 19.20, shipping 1.00,
taxes 0.10, total 20.30, orders 3, AOV 28.70 ÷ 3 = 9.5667 → 9.57, units 5,
returned 1, customers 2 (1 new, 1 returning, 1 repeat), refund rate
9.50 ÷ 29.70 = 0.3199.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest

from analytics.__main__ import main
from analytics.exports import PNG_SIGNATURE, chromium_path
from analytics.report import ReportError, money_2dp, resolve_store, write_report
from analytics.store_state import list_stores
from data.rollups import refresh_store
from data.warehouse import connect
from tests.builders import MONEY, add_order, add_refund, add_store, utc

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
START, END = dt.date(2026, 3, 1), dt.date(2026, 3, 3)

DAILY_HEADER = ["date", "orders", "gross_sales", "discounts", "returns", "net_sales", "shipping", "taxes",
                "total_sales", "units_sold", "aov", "new_customers", "returning_customers"]


def build_store(wh) -> None:
    add_store(wh, "s")
    wh.execute("UPDATE stores SET name = :n WHERE store_id = 's'", {"n": "Bob's <Shop> & Co"})
    wh.insert("products", pl.DataFrame({
        "store_id": ["s", "s"], "product_id": ["p1", "p2"], "title": ['=HYPERLINK("x")', "Tee, large"],
    }))
    wh.insert("variants", pl.DataFrame({
        "store_id": ["s", "s"], "variant_id": ["v1", "v2"], "product_id": ["p1", "p2"],
        "unit_cost": [Decimal("1.00"), None],
    }, schema_overrides={"unit_cost": MONEY}))
    add_order(wh, "o0", utc(2026, 2, 20, 15), [(1, "5.00", "0")], customer="c1")
    add_order(wh, "o1", utc(2026, 3, 1, 15), [(1, "2.345", "0")], customer="c1", shipping="1.00", tax="0.20")
    add_order(wh, "o2", utc(2026, 3, 1, 20), [(1, "5.00", "0"), (2, "10.00", "1.00")], customer="c2",
              channel="pos")
    add_order(wh, "t1", utc(2026, 3, 2, 15), [(1, "99.00", "0")], customer="c3", test=True)
    add_order(wh, "o3", utc(2026, 3, 3, 15), [(1, "2.355", "0")], customer="c1")
    add_refund(wh, "r1", "o2", utc(2026, 3, 3, 16), {2: (1, "9.50")}, tax="0.10")
    refresh_store(wh, "s")


def read_csv(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.reader(fh))


def store_of(wh):
    return resolve_store(wh, "s")


NOW = dt.datetime(2026, 3, 4, 12, 0, tzinfo=dt.timezone.utc)


def test_the_report_figures(wh, tmp_path):
    build_store(wh)
    result = write_report(wh, store_of(wh), START, END, tmp_path / "out", charts=False, now=NOW)
    out = tmp_path / "out"
    assert set(result.files) == {"kpis.json", "sales_daily.csv", "sales_by_channel.csv", "sales_by_product.csv",
                                 "customers_rfm.csv", "cohorts.csv", "clv.csv", "clv_model.json",
                                 "inventory.csv", "forecast.csv", "marketing.csv", "goals.json", "insights.md",
                                 "index.html"}
    assert result.warnings == ()

    assert read_csv(out / "sales_daily.csv") == [
        DAILY_HEADER,
        ["2026-03-01", "2", "27.34", "1.00", "0.00", "26.34", "1.00", "0.20", "27.54", "4", "13.17", "1", "1"],
        ["2026-03-02", "0", "0.00", "0.00", "0.00", "0.00", "0.00", "0.00", "0.00", "0", "0.00", "0", "0"],
        ["2026-03-03", "1", "2.36", "0.00", "9.50", "-7.14", "0.00", "-0.10", "-7.24", "1", "2.36", "0", "1"],
    ]

    kpis = json.loads((out / "kpis.json").read_text())
    assert kpis["store"] == {"id": "s", "name": "Bob's <Shop> & Co", "timezone": "America/New_York"}
    assert (kpis["currency"], kpis["range"], kpis["generated_at"]) == (
        "USD", {"from": "2026-03-01", "to": "2026-03-03"}, "2026-03-04T12:00:00+00:00")
    assert kpis["figures"] == {
        "gross_sales": "29.70", "discounts": "1.00", "returns": "9.50", "net_sales": "19.20", "shipping": "1.00",
        "taxes": "0.10", "duties": "0.00", "total_sales": "20.30", "orders": 3, "aov": "9.57", "units_sold": 5,
        "units_returned": 1, "customers": 2, "new_customers": 1, "returning_customers": 1,
        "returning_customer_rate": "0.5000", "repeat_customers": 1, "repeat_purchase_rate": "0.5000",
        "refund_rate": "0.3199",
    }
    assert kpis["definitions"]["net_sales"] == "Gross sales − discounts − returns."

    assert read_csv(out / "sales_by_product.csv") == [
        ["product_id", "product", "units_sold", "units_returned", "gross_sales", "discounts", "returns",
         "net_sales", "return_rate", "cost_of_goods", "margin"],
        ["p1", "'=HYPERLINK(\"x\")", "3", "0", "9.70", "0.00", "0.00", "9.70", "0.0000", "3.00", "6.70"],
        ["p2", "Tee, large", "2", "1", "20.00", "1.00", "9.50", "9.50", "0.5000", "", ""],
    ]
    assert read_csv(out / "sales_by_channel.csv") == [
        ["channel", "orders", "units_sold", "gross_sales", "discounts", "returns", "net_sales", "shipping", "taxes",
         "total_sales"],
        ["pos", "1", "3", "25.00", "1.00", "9.50", "14.50", "0.00", "-0.10", "14.40"],
        ["online_store", "2", "2", "4.70", "0.00", "0.00", "4.70", "1.00", "0.20", "5.90"],
    ]

    page = (out / "index.html").read_text()
    assert "Bob&#x27;s &lt;Shop&gt; &amp; Co" in page and "<Shop>" not in page
    assert "$20.30" in page and "$19.20" in page
    assert "<script" not in page and "http" not in page.split("<body>")[1]
    assert "Charts were left out" in page


def test_an_empty_range_still_has_a_row_per_day(wh, tmp_path):
    build_store(wh)
    write_report(wh, store_of(wh), dt.date(2026, 1, 1), dt.date(2026, 1, 2), tmp_path, charts=False, now=NOW)
    rows = read_csv(tmp_path / "sales_daily.csv")
    assert [r[0] for r in rows] == ["date", "2026-01-01", "2026-01-02"]
    assert read_csv(tmp_path / "sales_by_product.csv")[0][0] == "product_id"
    assert len(read_csv(tmp_path / "sales_by_product.csv")) == 1
    assert json.loads((tmp_path / "kpis.json").read_text())["figures"]["net_sales"] == "0.00"


@pytest.mark.parametrize(
    ("value", "written"),
    [("2.345", "2.34"), ("2.355", "2.36"), ("-7.145", "-7.14"), ("-0.004", "0.00"), ("10", "10.00")],
    ids=["half-down-to-even", "half-up-to-even", "negative", "no-negative-zero", "whole"],
)
def test_money_is_rounded_half_to_even(value, written):
    assert str(money_2dp(Decimal(value))) == written


# -- the command line ---------------------------------------------------------------------

@pytest.fixture
def db_url(tmp_path) -> str:
    url = f"duckdb:///{tmp_path / 'report.duckdb'}"
    wh = connect(url)
    build_store(wh)
    add_store(wh, "other")
    wh.close()
    return url


def test_the_command_writes_the_folder_with_charts(db_url, tmp_path, capsys):
    if chromium_path() is None:
        if IN_CI:
            pytest.fail("Chromium is not installed (apt-get install -y chromium)")
        pytest.skip("Chromium is not installed")
    out = tmp_path / "report"
    code = main(["report", "--from", "2026-03-01", "--to", "2026-03-03", "--out", str(out), "--store", "s",
                 "--db", db_url])
    assert code == 0, capsys.readouterr().err
    assert sorted(p.name for p in out.iterdir()) == [
        "clv.csv", "clv_model.json", "cohort_retention.png", "cohorts.csv", "customer_segments.png",
        "customers_rfm.csv", "forecast.csv", "goals.json", "index.html", "insights.md", "inventory.csv", "kpis.json",
        "marketing.csv", "net_sales_by_day.png",
        "sales_by_channel.csv",
        "sales_by_channel.png", "sales_by_product.csv", "sales_daily.csv"]
    for name in ("net_sales_by_day.png", "sales_by_channel.png"):
        data = (out / name).read_bytes()
        assert data.startswith(PNG_SIGNATURE) and len(data) > 10_000
    page = (out / "index.html").read_text()
    assert page.count('src="data:image/png;base64,') == 4
    assert read_csv(out / "sales_daily.csv")[0] == DAILY_HEADER


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--from", "2026-13-01", "--to", "2026-03-03"], "--from 2026-13-01 is not a day of the calendar."),
        (["--from", "1 March", "--to", "2026-03-03"], "--from '1 March' is not a date: write it as YYYY-MM-DD."),
        (["--from", "20260301", "--to", "2026-03-03"], "--from '20260301' is not a date"),
        (["--from", "2026-03-04", "--to", "2026-03-03"], "--from 2026-03-04 is after --to 2026-03-03"),
        (["--from", "2026-03-01", "--to", "2026-03-03", "--store", "nope"], "There is no store 'nope'"),
        (["--from", "2026-03-01", "--to", "2026-03-03"], "several stores: choose one with --store (other, s)"),
    ],
    ids=["bad-month", "words", "no-dashes", "backwards", "unknown-store", "which-store"],
)
def test_mistakes_are_one_sentence_and_exit_2(db_url, tmp_path, capsys, monkeypatch, args, message):
    monkeypatch.delenv("STORE_ID", raising=False)
    out = tmp_path / "never"
    code = main(["report", *args, "--out", str(out), "--db", db_url])
    err = capsys.readouterr().err
    assert code == 2
    assert message in err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert not out.exists()


def test_charts_that_cannot_be_drawn_exit_1_with_the_rest_written(db_url, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("BROWSER_PATH", str(tmp_path / "no-chrome"))
    out = tmp_path / "report"
    code = main(["report", "--from", "2026-03-01", "--to", "2026-03-03", "--out", str(out), "--store", "s",
                 "--db", db_url])
    assert code == 1
    assert "Charts were not drawn: PNG export needs Chromium" in capsys.readouterr().err
    assert (out / "sales_daily.csv").exists() and (out / "index.html").exists()
    assert not (out / "sales_by_channel.png").exists()


def test_a_missing_warehouse_file_is_not_created(tmp_path, capsys):
    missing = tmp_path / "typo.duckdb"
    code = main(["report", "--from", "2026-03-01", "--to", "2026-03-03", "--out", str(tmp_path / "out"),
                 "--db", f"duckdb:///{missing}"])
    assert code == 2
    assert f"There is no warehouse file at {missing}" in capsys.readouterr().err
    assert not missing.exists()


def test_the_only_store_needs_no_flag(tmp_path):
    wh = connect(f"duckdb:///{tmp_path / 'one.duckdb'}")
    add_store(wh, "solo")
    assert resolve_store(wh, None).store_id == "solo"
    assert [s.store_id for s in list_stores(wh)] == ["solo"]
    wh.close()
    empty = connect(f"duckdb:///{tmp_path / 'empty.duckdb'}")
    with pytest.raises(ReportError, match="holds no store yet"):
        resolve_store(empty, None)
    empty.close()
