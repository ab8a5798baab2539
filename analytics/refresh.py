"""``python -m analytics refresh``: precompute what pages only read.

Scores, fitted models and forecasts are too slow to compute while a page
renders, so a refresh computes them into warehouse tables (``customer_scores``,
``forecasts``, ``forecast_accuracy``, …) for the data up to an ``as_of`` day,
and records every step in ``model_runs`` (kind, parameters, metrics, status,
start and finish).

A refresh is a list of steps. Each :class:`RefreshStep` reads the warehouse
through a :class:`RefreshContext`, writes its own tables (in one transaction,
so a failed step leaves the previous results in place) and returns a
:class:`StepResult` whose ``params`` and ``metrics`` go into its
``model_runs`` row. A feature adds steps by listing a module in
:data:`STEP_MODULES` whose ``STEPS`` holds them, in order. One step failing
is recorded as ``failed`` with its reason; the others still run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

from analytics.store_state import Store
from data.warehouse import Warehouse

__all__ = [
    "STEP_MODULES",
    "RefreshContext",
    "RefreshStep",
    "StepResult",
    "StepRun",
    "latest_run",
    "refresh_due",
    "refresh_steps",
    "register",
    "run_refresh",
    "run_refresh_loop",
]

# Modules whose STEPS make up a refresh, in this order.
STEP_MODULES: tuple[str, ...] = (
    "analytics.customers.steps",
    "analytics.inventory.refresh_step",
)

UTC = dt.timezone.utc
log = logging.getLogger(__name__)
Progress = Callable[[float, str], None]


@dataclass(frozen=True)
class RefreshContext:
    """What every step reads: the warehouse, the store, the last day of data it may use
    (store-local, included), the moment the refresh started, and a progress callback
    (fraction 0–1 of this step, a short message)."""

    wh: Warehouse
    store: Store
    as_of: dt.date
    started_at: dt.datetime
    progress: Progress = field(default=lambda fraction, message: None)

    @property
    def cutoff_utc(self) -> dt.datetime:
        """The first instant after ``as_of`` in the store's timezone, in UTC: use rows created before it."""
        from zoneinfo import ZoneInfo

        local = dt.datetime.combine(self.as_of + dt.timedelta(days=1), dt.time(), ZoneInfo(self.store.timezone))
        return local.astimezone(UTC)


@dataclass
class StepResult:
    """What a step reports: ``params`` (the fitted or chosen parameters) and ``metrics``
    (sizes, accuracy, timings), both JSON-serializable, and one line for the console."""

    params: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    summary: str = ""


@dataclass(frozen=True)
class RefreshStep:
    key: str          # the model_runs.kind, e.g. "rfm", "clv", "forecast"
    title: str        # shown in progress ("Customer scores")
    run: Callable[[RefreshContext], StepResult]


@dataclass(frozen=True)
class StepRun:
    run_id: str
    kind: str
    status: str       # "succeeded" or "failed"
    seconds: float
    result: StepResult | None
    error: str | None


# What the refresh steps write.
REFRESHED_TABLES = ("customer_scores", "forecasts", "forecast_accuracy", "model_runs")


def refresh_steps() -> list[RefreshStep]:
    """Every step of a refresh, from :data:`STEP_MODULES`, in order."""
    from analytics.report import registered

    return registered(STEP_MODULES, "STEPS", "refresh steps")


def _json(value: Mapping[str, Any] | None) -> str | None:
    return None if value is None else json.dumps(value, default=str, sort_keys=True)


def _record(wh: Warehouse, run_id: str, store: Store, kind: str, as_of: dt.date, status: str,
            started_at: dt.datetime, finished_at: dt.datetime | None,
            params: Mapping[str, Any] | None = None, metrics: Mapping[str, Any] | None = None) -> None:
    wh.execute(
        "INSERT INTO model_runs (run_id, store_id, kind, as_of, params, metrics, status, started_at, finished_at) "
        "VALUES (:run_id, :store_id, :kind, :as_of, CAST(:params AS JSON), CAST(:metrics AS JSON), :status, "
        ":started_at, :finished_at) "
        "ON CONFLICT (run_id) DO UPDATE SET params = excluded.params, metrics = excluded.metrics, "
        "status = excluded.status, finished_at = excluded.finished_at",
        {"run_id": run_id, "store_id": store.store_id, "kind": kind, "as_of": as_of, "params": _json(params),
         "metrics": _json(metrics), "status": status, "started_at": started_at, "finished_at": finished_at},
    )


def run_refresh(
    wh: Warehouse,
    store: Store,
    as_of: dt.date | None = None,
    *,
    steps: Sequence[RefreshStep] | None = None,
    only: Sequence[str] | None = None,
    progress: Callable[[int, int, str, float, str], None] | None = None,
    now: dt.datetime | None = None,
) -> list[StepRun]:
    """Run every step (or those whose key is in ``only``) for ``store`` with data up to ``as_of``
    (default: today in the store's timezone). ``progress(index, count, title, fraction, message)``
    is called as steps advance. Returns one :class:`StepRun` per step."""
    from zoneinfo import ZoneInfo

    started = (now or dt.datetime.now(UTC)).astimezone(UTC)
    if as_of is None:
        as_of = started.astimezone(ZoneInfo(store.timezone)).date()
    chosen = list(steps if steps is not None else refresh_steps())
    if only:
        unknown = sorted(set(only) - {s.key for s in chosen})
        if unknown:
            raise ValueError(f"no refresh step is called {', '.join(unknown)} "
                             f"(steps: {', '.join(s.key for s in chosen)})")
        chosen = [s for s in chosen if s.key in only]
    runs: list[StepRun] = []
    for index, step in enumerate(chosen):
        run_id = uuid.uuid4().hex
        step_started = dt.datetime.now(UTC)
        _record(wh, run_id, store, step.key, as_of, "running", step_started, None)

        def report(fraction: float, message: str, _i=index, _s=step) -> None:
            if progress is not None:
                progress(_i, len(chosen), _s.title, max(0.0, min(1.0, fraction)), message)

        context = RefreshContext(wh=wh, store=store, as_of=as_of, started_at=started, progress=report)
        clock = time.perf_counter()
        report(0.0, "starting")
        try:
            result = step.run(context)
        except Exception as exc:  # noqa: BLE001 - recorded as a failed run; the other steps still run
            seconds = time.perf_counter() - clock
            error = f"{type(exc).__name__}: {exc}"
            _record(wh, run_id, store, step.key, as_of, "failed", step_started, dt.datetime.now(UTC),
                    metrics={"error": error, "seconds": round(seconds, 3)})
            runs.append(StepRun(run_id, step.key, "failed", seconds, None, error))
            continue
        seconds = time.perf_counter() - clock
        metrics = {**result.metrics, "seconds": round(seconds, 3)}
        _record(wh, run_id, store, step.key, as_of, "succeeded", step_started, dt.datetime.now(UTC),
                params=result.params, metrics=metrics)
        report(1.0, "done")
        runs.append(StepRun(run_id, step.key, "succeeded", seconds, result, None))
    if runs and not wh.in_transaction():
        wh.analyze(REFRESHED_TABLES)  # the pages read what the steps wrote at once
    return runs


def latest_run(wh: Warehouse, store_id: str, kind: str) -> dict[str, Any] | None:
    """The newest succeeded run of ``kind`` for a store: run_id, as_of, params, metrics, finished_at
    (``params`` and ``metrics`` parsed), or ``None`` when there has been none."""
    rows = wh.rows(
        "SELECT run_id, as_of, CAST(params AS TEXT), CAST(metrics AS TEXT), finished_at FROM model_runs "
        "WHERE store_id = :store AND kind = :kind AND status = 'succeeded' "
        "ORDER BY finished_at DESC, run_id LIMIT 1",
        {"store": store_id, "kind": kind},
    )
    if not rows:
        return None
    run_id, as_of, params, metrics, finished_at = rows[0]
    return {"run_id": run_id, "as_of": as_of, "params": json.loads(params) if params else {},
            "metrics": json.loads(metrics) if metrics else {}, "finished_at": finished_at}


# -- in the background ------------------------------------------------------------------

DEFAULT_INTERVAL_HOURS = 24.0
RUNNING_GRACE = dt.timedelta(hours=1)


def interval_hours() -> float:
    """``REFRESH_INTERVAL_HOURS`` as a number (0 or less: off; not a number: the default)."""
    from data.settings import setting

    raw = (setting("REFRESH_INTERVAL_HOURS") or "").strip()
    try:
        return float(raw) if raw else DEFAULT_INTERVAL_HOURS
    except ValueError:
        log.warning("REFRESH_INTERVAL_HOURS %r is not a number; refreshing every %g hours",
                    raw, DEFAULT_INTERVAL_HOURS)
        return DEFAULT_INTERVAL_HOURS


def refresh_due(wh: Warehouse, store_id: str, kinds: Sequence[str], now: dt.datetime, hours: float) -> bool:
    """Whether a store needs a refresh: some step has never succeeded, or its newest success
    finished more than ``hours`` ago, and no run started in the last hour is still running
    (another process, or a refresh asked for on a page, is at it)."""
    if not kinds:
        return False
    busy = wh.scalar(
        "SELECT count(*) FROM model_runs WHERE store_id = :store AND status = 'running' AND started_at > :since",
        {"store": store_id, "since": now - RUNNING_GRACE},
    )
    if busy:
        return False
    newest = dict(wh.rows(
        "SELECT kind, max(finished_at) FROM model_runs WHERE store_id = :store AND status = 'succeeded' "
        "GROUP BY kind", {"store": store_id},
    ))
    limit = now - dt.timedelta(hours=hours)
    return any(newest.get(kind) is None or newest[kind] < limit for kind in kinds)


def run_refresh_loop(wh: Warehouse, stop: threading.Event, hours_fn: Callable[[], float] = interval_hours,
                     *, check_seconds: float = 60.0) -> None:
    """Refresh every store when it is due (see :func:`refresh_due`), checking every ``check_seconds``
    until ``stop`` is set: at the start when a store was never refreshed, then every
    ``REFRESH_INTERVAL_HOURS``; then send each store's daily stock-alert digest when one is
    configured and not sent yet today. Never raises; failures are logged and recorded in model_runs."""
    from analytics.store_state import list_stores

    log.info("background refresh started")
    digests = _Digests()
    while not stop.is_set():
        try:
            hours = float(hours_fn())
            steps = refresh_steps()
            for store in list_stores(wh):
                if stop.is_set():
                    break
                due = hours > 0 and refresh_due(wh, store.store_id, [s.key for s in steps], dt.datetime.now(UTC),
                                                hours)
                if due:
                    runs = run_refresh(wh, store, steps=steps)
                    log.info("background refresh of %s: %s", store.store_id,
                             ", ".join(f"{r.kind} {r.status} in {r.seconds:.1f} s" for r in runs))
                if not stop.is_set():
                    digests.send(wh, store)
        except Exception:  # the loop goes on; the next check tries again
            log.exception("background refresh failed")
        stop.wait(check_seconds)
    log.info("background refresh stopped")


class _Digests:
    """The daily stock-alert digest of each store, after its refresh: sent at most once a store-local
    day (the digest records it), and after a failure tried again no sooner than ``retry_after``."""

    def __init__(self, retry_after: dt.timedelta = dt.timedelta(minutes=30)) -> None:
        self.retry_after = retry_after
        self.failed_at: dict[str, dt.datetime] = {}

    def send(self, wh: Warehouse, store: Store) -> None:
        from analytics.inventory.alerts import send_daily_digest

        now = dt.datetime.now(UTC)
        failed = self.failed_at.get(store.store_id)
        if failed is not None and now - failed < self.retry_after:
            return
        outcome = send_daily_digest(wh, store, now)
        if outcome.status == "failed":
            self.failed_at[store.store_id] = now
            log.warning("daily stock-alert digest of %s not sent: %s", store.store_id, outcome.message)
        elif outcome.status == "sent":
            self.failed_at.pop(store.store_id, None)
            log.info("daily stock-alert digest of %s sent (%s)", store.store_id, ", ".join(outcome.channels))


# -- command line ------------------------------------------------------------------------

def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "refresh", help="compute customer scores, lifetime value models and demand forecasts",
        description="Compute one store's scores, models and forecasts into the warehouse from the data up to "
                    "--as-of (default: today in the store's timezone), and record each step in model_runs.",
    )
    parser.add_argument("--store", help="store id (default: STORE_ID, else demo, else the only store)")
    parser.add_argument("--as-of", dest="as_of", metavar="YYYY-MM-DD", help="last day of data to use (store time)")
    parser.add_argument("--only", action="append", metavar="STEP",
                        help="run only this step (repeatable): " + ", ".join(s.key for s in _known_steps()))
    parser.add_argument("--db", help="warehouse URL (default: DATABASE_URL or the embedded file)")
    parser.set_defaults(func=run)


def _known_steps() -> list[RefreshStep]:
    try:
        return refresh_steps()
    except Exception:  # noqa: BLE001 - the help text must not fail
        return []


def run(args: argparse.Namespace) -> int:
    from analytics.report import ReportError, connect_existing, parse_day, resolve_store
    from data.settings import setting

    try:
        as_of = parse_day(args.as_of, "--as-of") if args.as_of else None
        wh = connect_existing(args.db)
    except ReportError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        store = resolve_store(wh, args.store, setting("STORE_ID"))
        bar = _ConsoleProgress()
        runs = run_refresh(wh, store, as_of, only=args.only, progress=bar)
        bar.finish()
    except (ReportError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    finally:
        wh.close()
    failed = 0
    for step_run in runs:
        if step_run.status == "succeeded":
            summary = step_run.result.summary if step_run.result else ""
            print(f"{step_run.kind}: {summary or 'done'} ({step_run.seconds:.1f} s)")
        else:
            failed += 1
            print(f"{step_run.kind}: failed: {step_run.error}", file=sys.stderr)
    if not runs:
        print("nothing to refresh: no refresh step is installed")
    return 1 if failed else 0


class _ConsoleProgress:
    """One line on stderr per step, redrawn as it advances: ``[2/3] Demand forecasts  45%  fitting``."""

    def __init__(self) -> None:
        self._tty = sys.stderr.isatty()
        self._last = ""

    def __call__(self, index: int, count: int, title: str, fraction: float, message: str) -> None:
        line = f"[{index + 1}/{count}] {title} {fraction * 100:3.0f}% {message}"
        if self._tty:
            sys.stderr.write("\r" + line.ljust(len(self._last)))
            sys.stderr.flush()
        elif fraction in (0.0, 1.0):
            print(line, file=sys.stderr)
        self._last = line

    def finish(self) -> None:
        if self._tty and self._last:
            sys.stderr.write("\n")
