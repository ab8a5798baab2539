"""Time the CSV import of a generated order-lines file.

    python -m bench.csv_import --lines 500000 --backend duckdb
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from bench.common import emit, scratch_url, timer


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.csv_import")
    parser.add_argument("--lines", type=int, default=500_000)
    parser.add_argument("--backend", choices=["duckdb", "postgres"], default="duckdb")
    args = parser.parse_args(argv)

    from connectors.csv_import import import_csv
    from connectors.csv_import.sample import write_sample_csv
    from data.warehouse import connect

    with tempfile.TemporaryDirectory(prefix="bench-csv-") as tmp, scratch_url(args.backend) as url:
        path = Path(tmp) / "orders.csv"
        with timer() as gen:
            write_sample_csv(path, lines=args.lines, seed=1)
        wh = connect(url)
        with timer() as t:
            result = import_csv(wh, path, store_id="csv:bench", timezone="America/Chicago", currency="USD")
        emit(bench="csv_import", backend=args.backend, lines=args.lines, orders=result.orders,
             seconds=t["seconds"], lines_per_s=round(args.lines / t["seconds"]),
             file_mb=round(path.stat().st_size / 1e6, 1), generate_file_s=gen["seconds"])
        with timer() as again:
            import_csv(wh, path, store_id="csv:bench")
        emit(bench="csv_reimport_unchanged", backend=args.backend, lines=args.lines, seconds=again["seconds"])
        wh.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
