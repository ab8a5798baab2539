"""``make bench``: every benchmark, each in its own process, as JSON lines.

    python -m bench [--sizes 100000,1000000] [--backends duckdb,postgres] [--quick]

Each run is a separate process so its peak memory is its own. Not part of
``make test``: timings are figures to read, never assertions.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

from bench.common import machine


def run(module: str, *args: str) -> int:
    proc = subprocess.run([sys.executable, "-m", module, *args], text=True)
    return proc.returncode


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--sizes", default="100000,1000000", help="demo store sizes in orders")
    parser.add_argument("--backends", default="duckdb,postgres")
    parser.add_argument("--csv-lines", type=int, default=500_000)
    parser.add_argument("--quick", action="store_true", help="small sizes, to check the benchmarks run")
    args = parser.parse_args(argv)
    sizes = [10_000] if args.quick else [int(s) for s in args.sizes.split(",")]
    csv_lines = 20_000 if args.quick else args.csv_lines
    backends = args.backends.split(",")

    print(json.dumps({"bench": "machine", **machine()}), flush=True)
    failures = 0
    for backend in backends:
        for size in sizes:
            failures += run("bench.warehouse", "--orders", str(size), "--backend", backend) != 0
        failures += run("bench.csv_import", "--lines", str(csv_lines), "--backend", backend) != 0
    for backend in backends:
        for page in (100, 250, 5000):
            failures += run("bench.sync_load", "--backend", backend, "--page", str(page),
                            "--orders", "5000" if args.quick else "50000") != 0
    for backend in backends:
        for size in sizes:
            # every page and every command on a demo store of that size (built, refreshed, then timed)
            failures += run("bench.pages", "--backend", backend, "--orders", str(size),
                            *(["--csv-lines", "5000", "--reruns", "2"] if args.quick else [])) != 0
    # Parquet and BigQuery (emulator) export throughput, on the embedded warehouse
    failures += run("bench.export", "--orders", "2000" if args.quick else str(sizes[0]),
                    *(["--days", "120"] if args.quick else [])) != 0
    failures += run("bench.first_sync", "--orders", "300" if args.quick else "2000") != 0
    failures += run("bench.shared_cache", *(["--orders", "10000", "--repeat", "5"] if args.quick else [])) != 0
    failures += run("bench.metric_layer", *(["--orders", "10000", "--repeats", "3", "--pandas-repeats", "1"]
                                             if args.quick else [])) != 0
    failures += run("bench.clv", *(["--customers", "10000"] if args.quick else [])) != 0
    failures += run("bench.forecast", *(["--series", "500", "--ets-sample", "30"] if args.quick else [])) != 0
    failures += run("bench.forecast_season", *(["--orders", "10000", "--origins", "2025-11-10"] if args.quick
                                               else [])) != 0
    failures += run("bench.insights", *(["--orders", "10000"] if args.quick else [])) != 0
    failures += run("bench.login", *(["--tries", "5"] if args.quick else [])) != 0
    failures += run("bench.crowd", *(["--sessions", "3", "--minutes", "1", "--orders", "10000"] if args.quick
                                     else [])) != 0
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
