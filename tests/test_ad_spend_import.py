"""The ad-spend CSV import: rows checked, all or nothing, one sentence naming row and column; the figures
read what it wrote."""

from __future__ import annotations

import datetime as dt
import re
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from analytics.marketing.spend import daily_spend
from connectors.csv_import.ad_spend import import_ad_spend
from connectors.csv_import.cells import CsvImportError
from data.warehouse import connect
from tests.app_support import app_store  # noqa: F401 - a fixture
from tests.builders import add_store
from tests.test_settings_page import no_platform_env  # noqa: F401 - a fixture

ROOT = Path(__file__).resolve().parent.parent
GOOD = """date,channel,campaign,spend,currency,impressions,clicks
2026-03-02,Google Ads,Brand,12.50,USD,1000,40
2026-03-02,TikTok,Spark,7.25,,5000,30
2026-03-03,Google Ads,Brand,10.00,EUR,,
"""


def write(tmp_path: Path, text: str, name: str = "spend.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_an_import_writes_every_row_and_again_changes_nothing(wh, tmp_path):
    add_store(wh)
    path = write(tmp_path, GOOD)
    result = import_ad_spend(wh, path)
    assert (result.rows, result.first_day, result.last_day, result.channels) == (
        3, dt.date(2026, 3, 2), dt.date(2026, 3, 3), ("google ads", "tiktok"))
    import_ad_spend(wh, path, store_id="s")
    assert wh.rows("SELECT spend_date, platform, campaign, spend, currency, impressions, clicks FROM ad_spend "
                   "ORDER BY spend_date, platform") == [
        (dt.date(2026, 3, 2), "google ads", "Brand", Decimal("12.5"), "USD", 1000, 40),
        (dt.date(2026, 3, 2), "tiktok", "Spark", Decimal("7.25"), "USD", 5000, 30),  # empty: the store's
        (dt.date(2026, 3, 3), "google ads", "Brand", Decimal("10"), "EUR", None, None),
    ]
    spend, left_out = daily_spend(wh, "s", dt.date(2026, 3, 1), dt.date(2026, 3, 31))
    # "Google Ads" is the google channel; the EUR row has no exchange rate here, so it is left out.
    assert spend.select("channel", "spend").rows() == [("google", Decimal("12.5")), ("tiktok", Decimal("7.25"))]
    assert left_out == 1


@pytest.mark.parametrize("text, message", [
    pytest.param(GOOD.replace("12.50", "$12.50"), 'row 2, column spend: "$12.50" is not a number', id="currency-sign"),
    pytest.param(GOOD.replace("7.25", "-7.25"), 'row 3, column spend: "-7.25" is negative', id="negative"),
    pytest.param(GOOD.replace("2026-03-03", "03/03/2026"),
                 'row 4, column date: "03/03/2026" is not a date written as YYYY-MM-DD', id="date-format"),
    pytest.param(GOOD.replace("2026-03-03", "2026-02-30"),
                 'row 4, column date: "2026-02-30" is not a date', id="no-such-day"),
    pytest.param(GOOD.replace(",TikTok,", ",,"), "row 3, column channel: the cell is empty", id="no-channel"),
    pytest.param(GOOD.replace("1000", "many"), 'row 2, column impressions: "many" is not a whole number',
                 id="impressions"),
    pytest.param(GOOD.replace("EUR", "euro"), 'row 4, column currency: "euro" is not an ISO 4217', id="currency"),
    pytest.param(GOOD + "2026-03-02,google ads,Brand,1.00,USD,,\n",
                 "row 5, column campaign: row 2 already has this day, channel and campaign", id="repeated"),
    pytest.param(GOOD.replace("campaign,", "name,"), "row 1, column campaign: the header has no such column",
                 id="no-campaign-column"),
])
def test_a_bad_file_names_row_and_column_and_writes_nothing(wh, tmp_path, text, message):
    add_store(wh)
    with pytest.raises(CsvImportError, match="^" + re.escape(message)):
        import_ad_spend(wh, write(tmp_path, text))
    assert wh.scalar("SELECT count(*) FROM ad_spend") == 0


def test_conversions_go_where_the_warehouse_keeps_them(wh, tmp_path):
    add_store(wh)
    text = "date,channel,campaign,spend,conversions\n2026-03-02,Pinterest,Pins,3.00,2\n"
    if "purchases" in wh.columns("ad_spend"):
        import_ad_spend(wh, write(tmp_path, text))
        assert wh.scalar("SELECT purchases FROM ad_spend") == 2
    else:
        with pytest.raises(CsvImportError, match="row 2, column conversions: this warehouse has no place"):
            import_ad_spend(wh, write(tmp_path, text))


def test_the_store_must_exist_and_be_named_among_several(wh, tmp_path):
    path = write(tmp_path, GOOD)
    with pytest.raises(CsvImportError, match="Say which store"):
        import_ad_spend(wh, path)
    add_store(wh)
    add_store(wh, "t")
    with pytest.raises(CsvImportError, match=r"Say which store the ad spend is for with --store \(stores: s, t\)"):
        import_ad_spend(wh, path)
    with pytest.raises(CsvImportError, match="There is no store x"):
        import_ad_spend(wh, path, store_id="x")


def test_the_command_line(tmp_path):
    url = f"duckdb:///{tmp_path / 'warehouse.duckdb'}"
    wh = connect(url)
    add_store(wh)
    wh.close()

    def cli(*args):
        return subprocess.run([sys.executable, "-m", "connectors", "import-csv", *args, "--db", url], cwd=ROOT,
                              capture_output=True, text=True, timeout=120)

    done = cli(str(write(tmp_path, GOOD)), "--kind", "ad-spend")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Imported 3 ad spend rows (google ads, tiktok; 2 Mar 2026 to 3 Mar 2026) into "
                                  "store s in ")
    failed = cli(str(write(tmp_path, GOOD.replace("12.50", "x"), "bad.csv")), "--kind", "ad-spend")
    assert failed.returncode == 2
    assert failed.stderr.strip().splitlines()[-1].startswith('error: row 2, column spend: "x" is not a number')


def test_an_ad_spend_csv_uploaded_in_settings_is_imported(app_store, no_platform_env):
    from data.warehouse import shared
    from tests.test_settings_imports import _click, _upload
    from tests.test_settings_page import settings_page

    app_store(add_store)
    at = settings_page()
    _upload(at, "upload_ad_spend_csv", "spend.csv", GOOD.replace("12.50", "x"))
    _click(at, "upload_ad_spend_import")
    assert [e.value for e in at.error][-1].startswith('row 2, column spend: "x" is not a number')
    assert shared().scalar("SELECT count(*) FROM ad_spend") == 0
    _upload(at, "upload_ad_spend_csv", "spend.csv", GOOD)
    _click(at, "upload_ad_spend_import")
    assert [s.value for s in at.success][-1].startswith("Imported 3 ad spend rows")
    assert shared().scalar("SELECT count(*) FROM ad_spend") == 3
