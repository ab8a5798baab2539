"""The report folder: CSV, JSON, PNG and one ``index.html``, for schedules and email.

``python -m analytics report --from 2026-11-01 --to 2026-11-30 --out reports/nov``
writes one store's figures over an inclusive range of store-local days.

A report is a list of sections. Each section (:class:`ReportSection`) builds
its files, charts and a piece of HTML from a :class:`ReportContext`; this
module writes the files, draws every chart in one Chromium session, and puts
the pieces together in a self-contained ``index.html`` (styles inline, charts
embedded, every text escaped). A feature adds its part of the report by
listing a module in :data:`SECTION_MODULES` whose ``SECTIONS`` holds its
sections, in order.
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import html
import importlib
import io
import json
import re
import sys
import tempfile
import zipfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping, Sequence

import polars as pl

from analytics.exports import ExportError, figures_to_png, to_csv_bytes
from analytics.periods import range_in_words
from analytics.store_state import Store, list_stores
from data.warehouse import Warehouse

__all__ = [
    "SECTION_MODULES",
    "ReportChart",
    "ReportContext",
    "ReportError",
    "ReportSection",
    "SectionOutput",
    "money_2dp",
    "register",
    "report_archive",
    "report_sections",
    "resolve_store",
    "write_report",
]

# Modules whose SECTIONS make up the report, in this order.
SECTION_MODULES: tuple[str, ...] = (
    "analytics.report_sales",
    "analytics.customers.report",
    "analytics.inventory.report_section",
    "analytics.goals.report",
    "analytics.insights.report",
)

CENT = Decimal("0.01")
CHART_WIDTH, CHART_HEIGHT = 1000, 450


class ReportError(ValueError):
    """A report that cannot be written: one sentence saying why and what to do."""


@dataclass(frozen=True)
class ReportContext:
    """What every section reads: the warehouse, the store and the inclusive store-local range."""

    wh: Warehouse
    store: Store
    start: dt.date
    end: dt.date
    generated_at: dt.datetime

    @property
    def range_words(self) -> str:
        return range_in_words(self.start, self.end)


@dataclass(frozen=True)
class ReportChart:
    """A chart of a section: written as ``file_name`` (a PNG) and shown in the index."""

    file_name: str
    title: str
    figure: Any  # a plotly Figure
    description: str = ""


@dataclass
class SectionOutput:
    """What a section adds: data files (name → bytes), charts, and an HTML fragment (already escaped)."""

    files: dict[str, bytes] = field(default_factory=dict)
    charts: list[ReportChart] = field(default_factory=list)
    html: str = ""


@dataclass(frozen=True)
class ReportSection:
    key: str
    title: str
    build: Callable[[ReportContext], SectionOutput]


@dataclass(frozen=True)
class ReportResult:
    out: Path
    files: tuple[str, ...]
    warnings: tuple[str, ...]


# -- helpers for sections ------------------------------------------------------------

def money_2dp(value: Decimal | int | None) -> Decimal | None:
    """Money rounded to cents, half to even (``2.345`` → ``2.34``), never ``-0.00``."""
    if value is None:
        return None
    rounded = Decimal(value).quantize(CENT, rounding=ROUND_HALF_EVEN)
    return rounded.copy_abs() if rounded.is_zero() else rounded


def money_column(name: str, values: Sequence[Decimal | int | None]) -> pl.Series:
    """A money column written with exactly two decimals in CSV (a number, not text)."""
    return pl.Series(name, [money_2dp(v) for v in values], dtype=pl.Decimal(38, 2))


def csv_file(frame: pl.DataFrame) -> bytes:
    return to_csv_bytes(frame)


def json_file(document: Mapping[str, Any]) -> bytes:
    return (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def html_table(headers: Sequence[str], rows: Sequence[Sequence[Any]], *, numeric: Sequence[bool] = ()) -> str:
    """An escaped HTML table; columns flagged in ``numeric`` are right-aligned."""
    def cell(tag: str, value: Any, index: int) -> str:
        align = ' class="num"' if index < len(numeric) and numeric[index] else ""
        return f"<{tag}{align}>{html.escape('' if value is None else str(value))}</{tag}>"

    head = "".join(cell("th", h, i) for i, h in enumerate(headers))
    body = "".join("<tr>" + "".join(cell("td", v, i) for i, v in enumerate(row)) + "</tr>" for row in rows)
    return f'<div class="scroll"><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>'


# -- sections --------------------------------------------------------------------------

def registered(modules: Sequence[str], attribute: str, what: str) -> list[Any]:
    """The items listed under ``attribute`` by each of ``modules``, in order; each item has a ``key``,
    and two sharing one is a programming error."""
    items: list[Any] = []
    for name in modules:
        items.extend(getattr(importlib.import_module(name), attribute))
    keys = [item.key for item in items]
    duplicates = sorted({k for k in keys if keys.count(k) > 1})
    if duplicates:
        raise RuntimeError(f"{what} share a key: {', '.join(duplicates)}")
    return items


def report_sections() -> list[ReportSection]:
    """Every section of the report, from :data:`SECTION_MODULES`, in order."""
    return registered(SECTION_MODULES, "SECTIONS", "report sections")


def resolve_store(wh: Warehouse, store_id: str | None, preferred: str | None = None) -> Store:
    """The store to report on: ``store_id`` when given, else ``preferred`` (``STORE_ID``), else
    ``demo``, else the only store. :class:`ReportError` when there is none to pick."""
    stores = {s.store_id: s for s in list_stores(wh)}
    if not stores:
        raise ReportError("The warehouse holds no store yet: build the demo store (python -m connectors demo) "
                          "or import orders first.")
    if store_id is not None:
        if store_id not in stores:
            raise ReportError(f"There is no store {store_id!r} in the warehouse (stores: {', '.join(stores)}).")
        return stores[store_id]
    for candidate in (preferred, "demo"):
        if candidate in stores:
            return stores[candidate]
    if len(stores) == 1:
        return next(iter(stores.values()))
    raise ReportError(f"The warehouse holds several stores: choose one with --store ({', '.join(stores)}).")


_SAFE_FILE = re.compile(r"[a-z0-9][a-z0-9_.-]*")


def write_report(
    wh: Warehouse,
    store: Store,
    start: dt.date,
    end: dt.date,
    out: Path,
    *,
    charts: bool = True,
    now: dt.datetime | None = None,
    sections: Sequence[ReportSection] | None = None,
) -> ReportResult:
    """Write every section's files, the charts' PNGs and ``index.html`` into ``out``.

    Files already in ``out`` with the same names are replaced; others are left
    alone. Without ``charts`` no PNG is drawn and the index says so; without
    Chromium the same, and the result carries a warning.
    """
    if end < start:
        raise ReportError(f"The range ends ({end}) before it starts ({start}).")
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ReportError(f"{out} is a file, not a folder: choose another --out.")
    out.mkdir(parents=True, exist_ok=True)
    generated_at = (now or dt.datetime.now(dt.timezone.utc)).astimezone(dt.timezone.utc).replace(microsecond=0)
    context = ReportContext(wh=wh, store=store, start=start, end=end, generated_at=generated_at)

    built: list[tuple[ReportSection, SectionOutput]] = []
    names: list[str] = []
    for section in sections if sections is not None else report_sections():
        output = section.build(context)
        for name in [*output.files, *(c.file_name for c in output.charts)]:
            if not _SAFE_FILE.fullmatch(name) or name in names or name == "index.html":
                raise RuntimeError(f"section {section.key!r} names a file badly or twice: {name!r}")
            names.append(name)
        built.append((section, output))

    written: list[str] = []
    for _, output in built:
        for name, data in output.files.items():
            (out / name).write_bytes(data)
            written.append(name)

    warnings: list[str] = []
    notes: list[str] = []
    pngs: dict[str, bytes] = {}
    all_charts = [chart for _, output in built for chart in output.charts]
    if charts and all_charts:
        try:
            images = figures_to_png([c.figure for c in all_charts], CHART_WIDTH, CHART_HEIGHT, scale=2)
        except ExportError as exc:
            warnings.append(f"Charts were not drawn: {exc}")
        else:
            for chart, png in zip(all_charts, images):
                (out / chart.file_name).write_bytes(png)
                pngs[chart.file_name] = png
                written.append(chart.file_name)
    elif all_charts:
        notes.append("Charts were left out of this report (--no-charts).")

    (out / "index.html").write_text(_index_html(context, built, pngs, [*warnings, *notes]), encoding="utf-8")
    written.append("index.html")
    return ReportResult(out=out, files=tuple(written), warnings=tuple(warnings))


# -- index.html ------------------------------------------------------------------------

_STYLE = """
body { font-family: -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif; margin: 0 auto;
       max-width: 1040px; padding: 16px; color: #1f2328; line-height: 1.45; }
h1 { font-size: 1.6rem; margin-bottom: 0.2rem; }
h2 { font-size: 1.25rem; margin-top: 2rem; border-bottom: 1px solid #d0d7de; padding-bottom: 0.3rem; }
.meta { color: #57606a; margin-top: 0; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; margin: 0.5rem 0 1rem; font-size: 0.9rem; }
th, td { padding: 4px 10px; border-bottom: 1px solid #eaeef2; text-align: left; vertical-align: top; }
th { background: #f6f8fa; white-space: nowrap; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
figure { margin: 1rem 0; }
figure img { max-width: 100%; height: auto; border: 1px solid #eaeef2; }
figcaption { color: #57606a; font-size: 0.9rem; }
.warning { background: #fff8c5; border: 1px solid #d4a72c; padding: 8px 12px; }
.files li { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; }
"""


def report_archive(wh: Warehouse, store: Store, start: dt.date, end: dt.date, *,
                   charts: bool = True) -> tuple[bytes, ReportResult]:
    """The report folder of :func:`write_report` as a zip file's bytes (built in a temporary folder that
    is removed afterwards), with its result; the files sit in a folder named after the store and range."""
    name = re.sub(r"[^A-Za-z0-9_.-]+", "-", f"report-{store.store_id}-{start}-{end}").strip("-")
    with tempfile.TemporaryDirectory(prefix="report-") as folder:
        result = write_report(wh, store, start, end, Path(folder) / name, charts=charts)
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in sorted(result.out.rglob("*")):
                if path.is_file():
                    archive.write(path, str(path.relative_to(result.out.parent)))
    return buffer.getvalue(), ReportResult(Path(name), result.files, result.warnings)


def _index_html(context: ReportContext, built: list[tuple[ReportSection, SectionOutput]],
                pngs: Mapping[str, bytes], warnings: Sequence[str]) -> str:
    e = html.escape
    store = context.store
    title = f"{store.name}: report for {context.range_words}"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{e(title)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{e(title)}</h1>",
        f'<p class="meta">Store {e(store.store_id)} · {e(store.currency)} · store-local days in '
        f"{e(store.timezone)} · {e(context.start.isoformat())} to {e(context.end.isoformat())} · "
        f"generated {e(context.generated_at.isoformat())}</p>",
    ]
    for warning in warnings:
        parts.append(f'<p class="warning">{e(warning)}</p>')
    for section, output in built:
        parts.append(f'<section id="{e(section.key)}"><h2>{e(section.title)}</h2>')
        parts.append(output.html)
        for chart in output.charts:
            png = pngs.get(chart.file_name)
            if png is None:
                continue
            data = base64.b64encode(png).decode("ascii")
            caption = f"{chart.title}. {chart.description}".strip() if chart.description else chart.title
            parts.append(
                f'<figure><img src="data:image/png;base64,{data}" alt="{e(chart.title)}" '
                f'width="{CHART_WIDTH}" height="{CHART_HEIGHT}">'
                f'<figcaption>{e(caption)} (<a href="{e(chart.file_name)}">{e(chart.file_name)}</a>)'
                "</figcaption></figure>"
            )
        if output.files:
            links = "".join(f'<li><a href="{e(name)}">{e(name)}</a></li>' for name in output.files)
            parts.append(f'<p>Files:</p><ul class="files">{links}</ul>')
        parts.append("</section>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


# -- command line ------------------------------------------------------------------------

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def parse_day(text: str, flag: str) -> dt.date:
    """A ``YYYY-MM-DD`` date, or :class:`ReportError` naming the flag."""
    if not _DATE.fullmatch(text or ""):
        raise ReportError(f"{flag} {text!r} is not a date: write it as YYYY-MM-DD.")
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ReportError(f"{flag} {text} is not a day of the calendar.") from None


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "report", help="write a report folder (CSV, JSON, PNG, index.html) for a range of days",
        description="Write one store's report over the inclusive store-local days FROM to TO into a folder: "
                    "sales_daily.csv, sales_by_product.csv, kpis.json, chart PNGs and index.html.",
    )
    parser.add_argument("--from", dest="start", required=True, metavar="YYYY-MM-DD", help="first day (store time)")
    parser.add_argument("--to", dest="end", required=True, metavar="YYYY-MM-DD", help="last day, included")
    parser.add_argument("--out", required=True, metavar="DIR", help="folder to write (created when missing)")
    parser.add_argument("--store", help="store id (default: STORE_ID, else demo, else the only store)")
    parser.add_argument("--db", help="warehouse URL (default: DATABASE_URL or the embedded file)")
    parser.add_argument("--no-charts", action="store_true", help="skip the PNG charts (no Chromium needed)")
    parser.set_defaults(func=run)


def parse_range(start_text: str, end_text: str) -> tuple[dt.date, dt.date]:
    """``--from`` and ``--to`` as dates, or :class:`ReportError` when they are not a forward range."""
    start = parse_day(start_text, "--from")
    end = parse_day(end_text, "--to")
    if end < start:
        raise ReportError(f"--from {start} is after --to {end}: the range must run forwards.")
    return start, end


def connect_existing(db: str | None) -> Warehouse:
    """The warehouse of ``--db`` (default: DATABASE_URL or the embedded file); :class:`ReportError` when
    the embedded file does not exist yet."""
    from data.warehouse import connect, default_url

    url = db or default_url()
    if url.startswith("duckdb://"):
        from data.duckdb_backend import path_from_url

        path = path_from_url(url)
        if path != ":memory:" and not Path(path).exists():
            raise ReportError(f"There is no warehouse file at {path}: build the demo store "
                              "(python -m connectors demo) or import orders first, or pass --db.")
    return connect(url)


@contextmanager
def command_target(args: argparse.Namespace) -> Iterator[tuple[Warehouse, Store, dt.date, dt.date]]:
    """The warehouse, store and range of a command's ``--db``, ``--store``, ``--from`` and ``--to``;
    the warehouse is closed after the block. :class:`ReportError` for bad input."""
    from data.settings import setting

    start, end = parse_range(args.start, args.end)
    wh = connect_existing(args.db)
    try:
        yield wh, resolve_store(wh, args.store, setting("STORE_ID")), start, end
    finally:
        wh.close()


def run(args: argparse.Namespace) -> int:
    try:
        with command_target(args) as (wh, store, start, end):
            result = write_report(wh, store, start, end, Path(args.out), charts=not args.no_charts)
    except ReportError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for warning in result.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    print(f"wrote {len(result.files)} files to {result.out}: {', '.join(result.files)}")
    # Charts asked for but not drawn: the folder is incomplete, say so in the exit code.
    return 1 if result.warnings else 0
