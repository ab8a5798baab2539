"""CSV import refusals added to the cell-by-cell checks: sizes (checked before parsing), repeated lines,
order-level fields that differ between the rows of one order, quotes that never close, in the generic
format and in Shopify's export, on both backends. Each names its row(s) and writes nothing."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from connectors.csv_import import CsvImportError, import_csv
from tests.test_csv_import import PROJECT_ROOT, SHOPIFY_ROWS, TWO_ORDERS, _with, assert_empty, assert_refused, \
    shopify_export, snapshot, write

H = "order_id,created_at,sku,quantity,unit_price"
AGREE = "belongs to the order, so every row of the order gives the same value (or none)"
TWICE = ("which would count that sale twice; remove one of them (if the order really holds the item twice, give it "
         "one line with the quantities added up).")

GENERIC = [
    pytest.param(f"{H}\n1,2026-03-01,A,1,5.00\n1,2026-03-01,B,1,5.00\n1,2026-03-01,A,1,5.00\n",
                 f"row 4: the line repeats row 2 exactly, {TWICE}", id="an exact duplicate line"),
    pytest.param(f"{H},email\n1,2026-03-01,A,1,5.00,a@x.com\n2,2026-03-01,A,1,5.00,\n1,2026-03-01,A,1, 5.00 ,a@x.com\n",
                 f"row 4: the line repeats row 2 exactly, {TWICE}", id="a duplicate but for spaces around a cell"),
    pytest.param(f"{H}\n1,2026-03-01 10:00:00,A,1,5.00\n1,2026-03-01 11:00:00,B,1,5.00\n",
                 f'row 3, column created_at: "2026-03-01 11:00:00" differs from "2026-03-01 10:00:00" on row 2 of '
                 f"order 1: created_at {AGREE}", id="sale rows of one order at different times"),
    pytest.param(f"{H},country\n1,2026-03-01,A,1,5.00,FR\n2,2026-03-01,A,1,5.00,US\n1,2026-03-01,B,1,5.00,DE\n",
                 f'row 4, column country: "DE" differs from "FR" on row 2 of order 1: country {AGREE}',
                 id="two countries in one order"),
    pytest.param(f"{H},channel\n1,2026-03-01,A,1,5.00,web\n1,2026-03-01,B,1,5.00,pos\n",
                 f'row 3, column channel: "pos" differs from "web" on row 2 of order 1: channel {AGREE}',
                 id="two channels in one order"),
    pytest.param(f"{H},email\n1,2026-03-01,A,1,5.00,a@x.com\n1,2026-03-01,B,1,5.00,b@x.com\n",
                 f'row 3, column email: "b@x.com" differs from "a@x.com" on row 2 of order 1: email {AGREE}',
                 id="two customers' emails in one order"),
    pytest.param(f"{H},financial_status\n1,2026-03-01,A,1,5.00,paid\n1,2026-03-01,B,1,5.00,refunded\n",
                 f'row 3, column financial_status: "refunded" differs from "paid" on row 2 of order 1: '
                 f"financial_status {AGREE}", id="two financial statuses in one order"),
    pytest.param(f'{H}\n1,2026-03-01,A,1,5.00\n2,2026-03-01,"B,1,5.00\n3,2026-03-01,C,1,5.00\n',
                 'row 3, column sku: a double quote opens a value that is never closed, so the rest of the file '
                 'would be that one cell: close it (a quote inside a value is written twice, "").',
                 id="a quote that never closes"),
]


@pytest.mark.parametrize(("text", "message"), GENERIC)
def test_a_generic_file_is_refused_naming_the_rows_and_nothing_is_written(wh, tmp_path, text, message):
    path = tmp_path / "orders.csv"
    path.write_text(text, encoding="utf-8")
    assert_refused(wh, path, message)


def test_rows_that_agree_however_they_are_written_are_one_order(wh, tmp_path):
    # The same instant twice (UTC store), the same amount written two ways, a return on a later day.
    text = (f"{H},shipping\n1,2026-03-01T10:00:00Z,A,2,5.00,4.5\n1,2026-03-01 10:00:00,B,1,5.00,4.50\n"
            "1,2026-03-04 09:00:00,A,-1,5.00,\n")
    result = import_csv(wh, write(tmp_path, text))
    assert (result.orders, result.lines, result.refunds) == (1, 2, 1)
    assert wh.scalar("SELECT total_shipping FROM orders") == 4.5


def test_a_cell_over_the_limit_names_its_row_the_limit_and_the_setting(wh, tmp_path, monkeypatch):
    monkeypatch.setenv("CSV_IMPORT_MAX_CELL_KB", "1")
    text = f"{H},product_title\n1,2026-03-01,A,1,5.00,Tee\n2,2026-03-01,B,1,5.00,{'long title ' * 100}\n"
    with pytest.raises(CsvImportError) as caught:
        import_csv(wh, write(tmp_path, text))
    assert str(caught.value) == ("row 3, column product_title: the cell is longer than 1 KB, the import's limit for "
                                 "one cell (CSV_IMPORT_MAX_CELL_KB): shorten it, or raise CSV_IMPORT_MAX_CELL_KB.")
    assert_empty(wh)
    monkeypatch.setenv("CSV_IMPORT_MAX_CELL_KB", "2")  # 1,100 bytes fit in 2 KB
    assert import_csv(wh, write(tmp_path, text)).lines == 2


def test_a_file_over_the_limit_names_the_row_where_it_passes_it(wh, tmp_path, monkeypatch):
    monkeypatch.setenv("CSV_IMPORT_MAX_FILE_MB", "0.002")  # 2,097 bytes
    rows = "".join(f"{n},2026-03-01,A,1,5.00\n" for n in range(10, 100))  # 23 bytes a row
    path = write(tmp_path, f"{H}\n{rows}")
    # The header is 44 bytes; byte 2,097 (0-based) is in data row (2097 - 44) // 23 = 89, i.e. row 91.
    with pytest.raises(CsvImportError) as caught:
        import_csv(wh, path)
    assert str(caught.value) == ("row 91: orders.csv passes 2.0 KB on this row (2.1 KB in all), the import's limit "
                                 "for one file (CSV_IMPORT_MAX_FILE_MB): split the file, or raise "
                                 "CSV_IMPORT_MAX_FILE_MB.")
    assert_empty(wh)


def test_a_refused_file_leaves_an_existing_store_as_it_was(wh, tmp_path):
    import_csv(wh, write(tmp_path, TWO_ORDERS), store_id="csv:shop")
    before = snapshot(wh)
    repeated = TWO_ORDERS + TWO_ORDERS.splitlines()[1] + "\n"
    with pytest.raises(CsvImportError, match=r"^row 5: the line repeats row 2 exactly"):
        import_csv(wh, write(tmp_path, repeated, "again.csv"), store_id="csv:shop")
    assert snapshot(wh) == before


SHOPIFY = [
    pytest.param(_with(SHOPIFY_ROWS, 1, Created_at="2026-03-01 19:00:00 -0500"),
                 f'row 3, column Created at: "2026-03-01 19:00:00 -0500" differs from "2026-03-01 18:04:11 -0500" '
                 f"on row 2 of order #1001: Created at {AGREE}", id="a second creation time"),
    pytest.param(_with(SHOPIFY_ROWS, 3, Email="someone@example.com"),
                 f'row 5, column Email: "someone@example.com" differs from "bob@example.com" on row 4 of order '
                 f"#1002: Email {AGREE}", id="a second customer"),
    pytest.param(_with(SHOPIFY_ROWS, 1, Financial_Status="refunded"),
                 f'row 3, column Financial Status: "refunded" differs from "paid" on row 2 of order #1001: '
                 f"Financial Status {AGREE}", id="a second financial status"),
    pytest.param(_with(SHOPIFY_ROWS, 4, Shipping="4.00"),
                 f'row 6, column Shipping: "4.00" differs from "0.00" on row 4 of order #1002: Shipping {AGREE}',
                 id="a second shipping amount"),
    pytest.param(_with(SHOPIFY_ROWS, 1, Source="pos"),
                 f'row 3, column Source: "pos" differs from "web" on row 2 of order #1001: Source {AGREE}',
                 id="a second channel"),
    pytest.param(_with(SHOPIFY_ROWS, 1, Shipping_Country="CA"),
                 f'row 3, column Shipping Country: "CA" differs from "US" on row 2 of order #1001: Shipping Country '
                 f"{AGREE}", id="a second country"),
    pytest.param(SHOPIFY_ROWS[:4] + [SHOPIFY_ROWS[3]] + SHOPIFY_ROWS[4:],
                 f"row 6: the line repeats row 5 exactly, {TWICE}", id="a line item twice"),
]


@pytest.mark.parametrize(("rows", "message"), SHOPIFY)
def test_a_shopify_export_is_refused_naming_both_rows_and_nothing_is_written(wh, tmp_path, rows, message):
    assert_refused(wh, shopify_export(tmp_path, rows), message)


def test_order_fields_repeated_alike_on_every_row_as_the_export_does_are_accepted(wh, tmp_path):
    first = SHOPIFY_ROWS[0]
    repeated = _with(SHOPIFY_ROWS, 1, Created_at=first["Created at"], Email=first["Email"].upper(),
                     Currency="usd", Financial_Status="Paid")
    result = import_csv(wh, shopify_export(tmp_path, repeated))
    assert (result.orders, result.lines) == (4, 7)


def test_a_256_mb_cell_is_refused_in_one_line_without_reading_it_into_memory(tmp_path):
    path = tmp_path / "huge.csv"
    with path.open("wb") as fh:
        fh.write(f"{H},product_title\n1,2026-03-01,A,1,5.00,".encode())
        block = b"x" * (1024 * 1024)
        for _ in range(256):
            fh.write(block)
        fh.write(b"\n")
    # A parent of its own reports the import's peak memory (ru_maxrss of its only child).
    measure = ("import resource, subprocess, sys; done = subprocess.run(sys.argv[1:]); "
               "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr); "
               "sys.exit(done.returncode)")
    done = subprocess.run([sys.executable, "-c", measure, sys.executable, "-m", "connectors", "import-csv", str(path),
                           "--db", f"duckdb:///{tmp_path / 'warehouse.duckdb'}"],
                          cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120)
    *lines, peak_kb = done.stderr.strip().splitlines()
    peak_mb = int(peak_kb) / 1024
    print(f"\nimport-csv of a 256 MB cell: exit {done.returncode}, peak RSS {peak_mb:.0f} MB")
    assert done.returncode == 2
    assert lines[-1] == (
        "error: row 2, column product_title: the cell is longer than 64 KB, the import's limit for one cell "
        "(CSV_IMPORT_MAX_CELL_KB): shorten it, or raise CSV_IMPORT_MAX_CELL_KB.")
    assert "Traceback" not in done.stderr and "panic" not in done.stderr.lower()
    assert re.search(r"reading huge\.csv", done.stderr)
    assert peak_mb < 512  # the modules take ~200 MB; the cell read whole would add it and its copies


def test_text_that_is_not_utf8_names_the_row_and_column_of_its_first_bad_byte(wh, tmp_path):
    path = tmp_path / "orders.csv"
    path.write_bytes(f"{H},product_title\n1,2026-03-01,A,1,5.00,Tee\n2,2026-03-01,B,1,5.00,Café\n".encode("latin-1"))
    assert_refused(wh, path, 'row 3, column product_title: orders.csv is not UTF-8 text: save it again as "CSV UTF-8" '
                             "and import that file.")
