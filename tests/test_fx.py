"""Exchange rates: the ECB files into ``fx_rates``, and money converted at a day's rate, worked out by hand."""

from __future__ import annotations

import datetime as dt
import http.server
import io
import threading
import zipfile
from decimal import Decimal

import polars as pl
import pytest

from analytics import fx
from analytics.margin import margin_summary
from analytics.metrics import sales_over_time, sales_summary
from connectors.fx.ecb import RatesError, latest_rate_date, load_rates, parse_rates
from connectors.sync.runner import SyncError
from tests.sales_store import END, START, build_sales_store

D = Decimal

HISTORY = b"""Date,USD,JPY,GBP,CYP,
2026-03-06,1.1000,160.00,0.8500,N/A,
2026-03-05,1.0800,159.00,0.8400,N/A,
2026-03-04,1.0700,158.50,0.8450,N/A,
2026-03-03,1.0500,158.00,0.8300,N/A,
2026-03-02,1.0400,157.00,0.8200,N/A,
2026-02-27,1.0300,156.00,0.8100,N/A,
"""
# The daily file's own layout: day names in words, a space after each comma, a comma closing each line.
DAILY = (b"Date, USD, JPY, GBP, \n"
         b"09 March 2026, 1.1200, 161.00, 0.8600, \n")


def zipped(csv: bytes, name: str = "eurofxref.csv") -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(name, csv)
    return buffer.getvalue()


@pytest.fixture
def rates_server():
    """A local HTTP server answering /eurofxref.zip with the ECB daily file's format, and 404 elsewhere."""
    served = {"/eurofxref.zip": zipped(DAILY)}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = served.get(self.path)
            self.send_response(200 if body is not None else 404)
            self.end_headers()
            if body is not None:
                self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", served
    server.shutdown()
    server.server_close()


@pytest.fixture
def history(monkeypatch, tmp_path):
    """The shipped history replaced by a small file of six working days (27 Feb, 2–6 March 2026)."""
    path = tmp_path / "eurofxref-hist.zip"
    path.write_bytes(zipped(HISTORY, "eurofxref-hist.csv"))
    monkeypatch.setattr("connectors.fx.ecb.bundled_path", lambda: path)
    return path


def test_both_ecb_formats_read_alike():
    history = parse_rates(HISTORY)
    assert history.height == 18  # 6 days × 3 currencies; CYP's N/A is no rate
    assert history.filter((pl.col("rate_date") == dt.date(2026, 3, 6)) & (pl.col("quote_currency") == "JPY"))[
        "rate"].to_list() == [D("160")]
    daily = parse_rates(zipped(DAILY))
    assert daily.rows() == [(dt.date(2026, 3, 9), "EUR", "GBP", D("0.86")), (dt.date(2026, 3, 9), "EUR", "JPY", D("161")),
                            (dt.date(2026, 3, 9), "EUR", "USD", D("1.12"))]


@pytest.mark.parametrize("data, sentence", [
    (b"when,USD\n2026-03-06,1.1\n", "does not start with the ECB's header"),
    (b"Date,USD\n6/3/2026,1.1\n", "neither 2026-10-30 nor 30 October 2026"),
    (b"Date,USD\n2026-03-06,abc\n", "not a number"),
    (b"Date,USD\n2026-03-06,0\n", "must be above 0"),
    (b"Date,USD\n", "holds no rates"),
    (b"PK\x03\x04broken", "not a readable zip"),
], ids=["header", "date", "rate", "zero", "empty", "zip"])
def test_a_bad_rates_file_is_refused_in_one_sentence(data, sentence):
    with pytest.raises(RatesError, match=sentence):
        parse_rates(data)


def test_the_shipped_history_loads_once_and_holds_1999_to_its_release(duckdb_url):
    from data.warehouse import connect

    wh = connect(duckdb_url)
    first = load_rates(wh, refresh=False)
    # The ECB's first fixing, 4 January 1999: 1 EUR = 1.1789 USD, 133.73 JPY.
    day_one = dict(wh.rows("SELECT quote_currency, rate FROM fx_rates WHERE rate_date = DATE '1999-01-04'"))
    assert (day_one["USD"], day_one["JPY"]) == (D("1.1789"), D("133.73"))
    assert first.rows_written > 200_000 and latest_rate_date(wh) >= dt.date(2026, 10, 30)
    assert load_rates(wh, refresh=False).rows_written == 0  # the cursor says it is all there


def test_a_refresh_adds_the_published_day(wh, history, rates_server):
    url, _ = rates_server
    load_rates(wh, refresh=False)
    assert latest_rate_date(wh) == dt.date(2026, 3, 6)
    result = load_rates(wh, refresh=True, url=f"{url}/eurofxref.zip")
    assert (result.status, result.cursor, result.rows_written) == ("succeeded", "2026-03-09", 3)
    assert wh.scalar("SELECT rate FROM fx_rates WHERE rate_date = DATE '2026-03-09' AND quote_currency = 'USD'") \
        == D("1.12")
    assert wh.scalar("SELECT count(*) FROM fx_rates") == 21


def test_a_refresh_that_cannot_fetch_keeps_the_history_and_says_why(wh, history, rates_server):
    url, _ = rates_server
    with pytest.raises(SyncError, match="could not be fetched from .*/missing.zip"):
        load_rates(wh, refresh=True, url=f"{url}/missing.zip")
    assert latest_rate_date(wh) == dt.date(2026, 3, 6)  # the shipped rows stay written
    status = wh.rows("SELECT status FROM sync_runs WHERE store_id = 'fx' ORDER BY started_at DESC")[0][0]
    assert status == "failed"


def test_a_cross_rate_goes_through_the_euro_and_weekends_keep_friday(wh, history):
    load_rates(wh, refresh=False)
    rates = fx.load_rates(wh, ["USD", "GBP", "JPY"], dt.date(2026, 3, 6), dt.date(2026, 3, 8))
    # Friday 6 March: 100.00 USD × 0.85 GBP/EUR ÷ 1.10 USD/EUR = 77.2727272727... GBP.
    friday = fx.convert(D("100.00"), "USD", "GBP", dt.date(2026, 3, 6), rates)
    assert friday == D("77.2727272727")
    # Saturday and Sunday have no fixing: Friday's rate.
    assert fx.convert(D("100.00"), "USD", "GBP", dt.date(2026, 3, 8), rates) == friday
    # To and from the euro: 50 EUR = 8,000 JPY; 1,000 JPY = 6.25 EUR.
    assert fx.convert(D("50"), "EUR", "JPY", dt.date(2026, 3, 7), rates) == D("8000")
    assert fx.convert(D("1000"), "JPY", "EUR", dt.date(2026, 3, 6), rates) == D("6.25")
    assert rates.newest == dt.date(2026, 3, 6)


def test_a_day_before_any_rate_is_refused_not_added_as_it_is(wh, history):
    load_rates(wh, refresh=False)
    rates = fx.load_rates(wh, ["USD", "CHF"], dt.date(2026, 1, 1), dt.date(2026, 3, 6))
    with pytest.raises(fx.MissingRate, match="no ECB exchange rate for USD on or before 01 January 2026"):
        fx.convert(D("1"), "USD", "EUR", dt.date(2026, 1, 1), rates)
    with pytest.raises(fx.MissingRate, match="CHF"):
        fx.convert(D("1"), "CHF", "EUR", dt.date(2026, 3, 6), rates)


def test_sales_in_a_reporting_currency_convert_each_day_at_its_rate(wh, history):
    build_sales_store(wh, fees=False, ads=False)
    load_rates(wh, refresh=False)
    figures = sales_summary(wh, "s", START, END, currency="EUR")
    # Net sales by New York day: 2 Mar o1 85.00 at 1.04 USD/EUR, 3 Mar o2 25.00 + o3 120.00 at 1.05,
    # 4 Mar o4 25.00 at 1.07; returns 22.50 on 5 Mar at 1.08.
    net = D("85") / D("1.04") + D("145") / D("1.05") + D("25") / D("1.07") - D("22.5") / D("1.08")
    assert abs(figures["net_sales"] - net) < D("1e-9")
    # 81.7307692308 + 138.0952380952 + 23.3644859813 − 20.8333333333 = 222.357159974: 222.36 once rounded.
    assert round(figures["net_sales"], 2) == D("222.36")
    assert figures["orders"] == 4 and figures["customers"] == 2
    daily = sales_over_time(wh, "s", START, END, "day", currency="EUR")
    assert daily.filter(pl.col("period") == dt.date(2026, 3, 3))["net_sales"].to_list() == [D("138.0952380952")]
    # 1 March (a Sunday) had no sales: zero, not a missing rate.
    assert daily.filter(pl.col("period") == dt.date(2026, 3, 1))["net_sales"].to_list() == [D(0)]
    assert sales_summary(wh, "s", START, END, currency="USD")["net_sales"] == D("232.50")


def test_margin_converts_fees_and_spend_in_another_currency(wh, history):
    build_sales_store(wh)
    load_rates(wh, refresh=False)
    figures = margin_summary(wh, "s", START, END)
    # tx8: 3.00 EUR on 2 Mar at 1.04 USD/EUR = 3.12 USD; the 4.00 GBP spend on 3 Mar at
    # 1.05 / 0.83 = 5.0602409638... USD.
    assert figures["payment_fees"] == D("19.15") + D("3.12")
    assert figures["ad_spend"] == D("47.50") + D("5.0602")
    assert figures["left_out_other_currency"] == 0


def test_the_app_keeps_going_when_a_refresh_fails(wh, history, monkeypatch):
    from connectors.fx.schedule import refresh_once

    monkeypatch.setenv("FX_REFRESH", "on")
    monkeypatch.setenv("FX_RATES_URL", "http://127.0.0.1:9/eurofxref.zip")  # nothing listens on port 9
    assert "could not be fetched" in refresh_once(wh)
    assert latest_rate_date(wh) == dt.date(2026, 3, 6)


def test_the_command_loads_and_says_how_far(duckdb_url, history, rates_server, capsys):
    from connectors.__main__ import main

    url, _ = rates_server
    assert main(["fx", "--db", duckdb_url, "--no-refresh"]) == 0
    assert "18 exchange rates written; the newest is of 06 March 2026" in capsys.readouterr().out
    assert main(["fx", "--db", duckdb_url, "--refresh", "--url", f"{url}/missing.zip"]) == 1
    assert "the newest is of 06 March 2026" in capsys.readouterr().err
    assert main(["fx", "--db", duckdb_url, "--url", f"{url}/eurofxref.zip", "--refresh"]) == 0
    assert "the newest is of 09 March 2026" in capsys.readouterr().out
