"""ui/tables.py: words computed for the pages' tables, and why never inside Polars' thread pool."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import textwrap
from decimal import Decimal
from pathlib import Path

import polars as pl

from ui.filters import channel_name
from ui.tables import for_display, money_text, text_of, words

ROOT = Path(__file__).resolve().parent.parent


def test_text_of_one_column_keeps_nulls_without_calling_the_function():
    frame = pl.DataFrame({"channel": ["online_store", None, "pos"]})
    seen = []

    def name(channel):
        seen.append(channel)
        return channel_name(channel)

    assert text_of(frame, name, "channel").to_list() == ["Online store", None, "Point of sale"]
    assert seen == ["online_store", "pos"]
    assert text_of(frame, name, "channel").name == "channel"


def test_text_of_several_columns_passes_each_rows_values_in_order():
    frame = pl.DataFrame({"available": [None, 0, 7], "cover": [None, None, Decimal("2.5")], "low": [False, True, True]},
                         schema={"available": pl.Int64, "cover": pl.Decimal(10, 1), "low": pl.Boolean})
    shown = text_of(frame, lambda available, cover, low: f"{available}|{cover}|{low}", "available", "cover", "low",
                    name="stock")
    assert shown.name == "stock"
    assert shown.dtype == pl.String
    assert shown.to_list() == ["None|None|False", "0|None|True", "7|2.5|True"]


def test_text_of_an_empty_frame_is_an_empty_text_column():
    shown = text_of(pl.DataFrame({"status": []}, schema={"status": pl.String}), words, "status")
    assert shown.len() == 0
    assert shown.dtype == pl.String


def test_text_of_sees_times_in_their_timezone():
    placed = dt.datetime(2026, 11, 26, 0, 30, tzinfo=dt.timezone.utc)  # 25 Nov 19:30 in New York
    frame = pl.DataFrame({"created_at": [placed]}).with_columns(
        pl.col("created_at").dt.convert_time_zone("America/New_York"))
    assert text_of(frame, lambda t: f"{t.day} {t:%b %H:%M}", "created_at").to_list() == ["25 Nov 19:30"]


# Two threads as two browser sessions: one draws a table (st.dataframe turns a Polars frame into pandas,
# holding the GIL while Polars' thread pool converts it), the other computes a table's words. With the
# words computed by map_elements inside that pool, the pool's threads waited for the GIL held by the
# first thread, which waited for the pool: the process froze for good within a second or two.
FREEZE_CHECK = textwrap.dedent("""
    import threading
    import polars as pl
    from ui.filters import channel_name
    from ui.tables import text_of, words

    frame = pl.DataFrame({"order_id": list(range(2000)), "total": [i / 4 for i in range(2000)],
                          "channel": ["online_store", "pos", "wholesale", "online_store"] * 500,
                          "financial_status": ["paid", "partially_refunded"] * 1000})

    def draw():
        for _ in range(400):
            frame.to_pandas()

    def name():
        for _ in range(400):
            frame.with_columns(text_of(frame, channel_name, "channel"), text_of(frame, words, "financial_status"))

    threads = [threading.Thread(target=draw), threading.Thread(target=name)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    print("both done")
""")


def test_words_computed_beside_a_table_being_drawn_never_freeze_the_process():
    # In a child process: a frozen process takes every thread with it, the test's own included.
    done = subprocess.run([sys.executable, "-c", FREEZE_CHECK], cwd=ROOT, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "both done"


def test_percent_columns_are_scaled_whatever_their_type():
    # Sell-through of a variant selling 14 a day for 30 days against 1,054 on hand: 420 ÷ 1,474 = 28.5 %.
    frame = pl.DataFrame({"sell_through": [420 / 1474, None], "return_rate": [Decimal("0.1667"), None],
                          "net_sales": [Decimal("-3805.28"), Decimal("1")], "units": [3, 4]},
                         schema_overrides={"return_rate": pl.Decimal(38, 4), "net_sales": pl.Decimal(38, 2)})
    shown = for_display(frame, percent=("sell_through", "return_rate"))
    assert round(shown["sell_through"][0], 1) == 28.5 and shown["sell_through"][1] is None
    assert round(shown["return_rate"][0], 2) == 16.67 and shown["return_rate"][1] is None
    assert shown["net_sales"].to_list() == [-3805.28, 1.0] and shown["units"].to_list() == [3, 4]
    assert money_text(frame, "net_sales", "USD").to_list() == ["−$3,805.28", "$1.00"]
