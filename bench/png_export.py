"""PNG downloads: seconds per chart PNG as the Download PNG button makes it (1200 × 600 at twice the density).

    python -m bench.png_export [--pngs 5]

Each PNG is of a different 90-day net sales chart (the download cache never answers), drawn one
after the other in this process, as clicks on a page's buttons would. Prints one JSON line.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import time
from decimal import Decimal

from bench.common import emit, fail, peak_rss_mb


def chart(seed: int):
    from ui.charts import time_series

    days = [dt.date(2026, 9, 1) + dt.timedelta(days=i) for i in range(90)]
    values = [Decimal(1000 + (i * 37 + seed * 101) % 500) for i in range(90)]
    return time_series(days, values, title=f"Net sales, run {seed}", label="Net sales", kind="money",
                       currency="USD", grain="day")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.png_export")
    parser.add_argument("--pngs", type=int, default=5)
    args = parser.parse_args(argv)
    from analytics.exports import chromium_path, figure_to_png

    if chromium_path() is None:
        fail("PNG export needs Chromium (apt-get install chromium)")
    seconds = []
    for i in range(args.pngs):
        fig = chart(i)
        started = time.perf_counter()
        png = figure_to_png(fig, 1200, 600, scale=2)
        seconds.append(time.perf_counter() - started)
        assert png.startswith(b"\x89PNG")
    emit(bench="png_export", pngs=args.pngs, first_s=round(seconds[0], 3),
         later_median_s=round(statistics.median(seconds[1:]), 3) if len(seconds) > 1 else None,
         each_s=[round(s, 3) for s in seconds], total_s=round(sum(seconds), 3), peak_rss_mb=peak_rss_mb())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
