"""Many people clicking through the app at once while the live demo feed writes.

    python -m bench.crowd [--sessions 20] [--orders 100000] [--db URL] [--minutes 3]

Builds a demo store in a scratch DuckDB file (or reuses ``--db``; the feed then
writes into it), refreshes customer scores, models and forecasts once so every
page has content, writes a users file with an owner, and serves the real app
(``streamlit run server.py``) with the live demo feed on: a tick every
``--feed-interval`` seconds, so new orders keep arriving and the data version
that keys the page caches keeps moving.

Debian's Chromium (never a downloaded browser), driven by Playwright's async
API from one asyncio loop, holds ``--sessions`` separate browser contexts.
The browsers stand in for people's own machines but share the server's cores,
so they run below it: at ``--browser-nice`` (19: twenty busy pages at nice 19
weigh less together than the server at nice 0, at nice 10 they weigh twice
as much), and unable to raise any thread's priority (Chromium started by root
raises its display threads to nice -8, above the server). They draw with what
the server leaves, so more slowly than on machines of their own: page times
stay those of a person waiting, if anything too long.
``--login shared`` (the default): one session logs in through the form and
the others start from its browser state (the login cookie), because 20 form
logins at once on a loaded 2-core machine ran past a minute each (``--login
form --login-at-once N`` logs every session in through the form, N at a
time). Then each clicks the sidebar's links in turn, every page of the
navigation, for ``--minutes``, pausing about ``--think`` seconds on each page
as a reader would. People do not click in step: each session makes its first
click at a random moment within one ``--think`` of the start (all at once
with ``--start-together``, twenty clicks in the same instant).

Page time: from the click until the script run that the click started is
over. An observer in the page stamps each change of Streamlit's script state
(``data-test-script-state`` on the app element, 'running' / 'notRunning') and
of the title (h1) with the browser's clock (``Date.now()``, which a full page
load does not reset), so the figure is the browser's moment of the run's end
minus the moment of the click, not when the driver happened to look. A run
too short for the browser to draw its 'running' state ends at the new
title's moment. A load counts once the page is at the link's address, idle,
with a title; an error element (an exception or an error alert) or a load
that never ends (``--page-timeout``) is an error.

The server runs under ``bench.timed_server``, which times every script run
in the server (``server_*``: full runs of the page, and the Sales page's live
panel reruns apart). Before the crowd, each page's script runs once under
Streamlit's AppTest in this process (``script_s``, warm: the second run) and
one browser session clicks through every page alone (``solo_s``).

JSON lines: one per page (loads, errors, median, p95, max in seconds, the
server's runs of it) and one overall (sessions, loads, errors, p50, p95, max,
the server's script runs, orders the feed wrote during the run, the server's
peak memory from /proc/<pid>/status VmHWM, CPU seconds per second of the
server, Chromium and the driver, and the load average before and after).
Figures to read, never assertions.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import os
import random
import secrets
import shlex
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Iterator

from bench.common import emit, scratch_url, timer

NAV_LINKS_WITH_TEXT = "links => links.map(a => [a.href, a.innerText.trim()])"

# Stamps every change of the script state with the page's clock (Date.now()).
STATE_OBSERVER = """(() => {
    window.__runs = [];
    window.__titles = [];
    const record = () => {
        const app = document.querySelector('[data-testid="stApp"]');
        const state = app && app.getAttribute('data-test-script-state');
        if (state && state !== window.__lastState) {
            window.__lastState = state;
            window.__runs.push([state, Date.now()]);
        }
        // textContent, not innerText: innerText lays the page out, at every change of it.
        const title = document.querySelector('h1')?.textContent;
        if (title !== undefined && title !== window.__lastTitle) {
            window.__lastTitle = title;
            window.__titles.push([title, Date.now()]);
        }
    };
    // Child lists too: the app element may be drawn anew with its state already set.
    new MutationObserver(record).observe(document, {subtree: true, childList: true, attributes: true,
                                                   attributeFilter: ['data-test-script-state']});
})();"""

# Clicks the link to ``path`` and returns the moment of the click.
CLICK_AT = """path => {
    const link = Array.from(document.querySelectorAll('[data-testid="stSidebarNav"] a'))
        .find(a => new URL(a.href).pathname.replace(/\\/$/, '') === path);
    const t = Date.now();
    link.click();
    return t;
}"""

# The seconds from the click to the end of the script run it started, once the page is at ``path``,
# connected, idle and shows its title; else false. The run started is the first one after the click, or
# the one under way at the click (the Sales page's live panel reruns itself every few seconds).
LOADED = """([path, t0]) => {
    if (location.pathname.replace(/\\/$/, '') !== path) return false;
    const app = document.querySelector('[data-testid="stApp"]');
    if (!app || app.getAttribute('data-test-connection-state') !== 'CONNECTED'
        || app.getAttribute('data-test-script-state') !== 'notRunning') return false;
    if (!document.querySelector('h1')) return false;
    const runs = window.__runs;
    let i = runs.findIndex(r => r[1] >= t0);
    if (i >= 0 && !(i > 0 && runs[i - 1][0] === 'running')) i = runs.findIndex((r, j) => j >= i && r[0] === 'running');
    const end = i >= 0 ? runs.find((r, j) => j >= i && r[0] === 'notRunning') : undefined;
    if (end) return Math.max(end[1] - t0, 1) / 1000;
    // A run so short that the browser never drew its 'running' state: the new title's moment, once idle 1 s.
    const title = window.__titles.filter(r => r[1] >= t0).pop();
    const last = runs.length ? runs[runs.length - 1][1] : 0;
    return title && Date.now() - Math.max(title[1], last) > 1000 ? Math.max(title[1] - t0, 1) / 1000 : false;
}"""
# What the page was doing when a load did not finish, for the error line.
STUCK = """t0 => ({path: location.pathname,
    state: document.querySelector('[data-testid="stApp"]')?.getAttribute('data-test-script-state'),
    connection: document.querySelector('[data-testid="stApp"]')?.getAttribute('data-test-connection-state'),
    title: !!document.querySelector('h1'),
    runs: window.__runs.filter(r => r[1] >= t0).map(r => [r[0], r[1] - t0]),
    titles: window.__titles.filter(r => r[1] >= t0).map(r => [r[0], r[1] - t0])})"""

QUIET_MS = 500
OWNER = "owner"


# -- the store and the server ---------------------------------------------------------------------------------


@contextlib.contextmanager
def store_url(args) -> Iterator[str]:
    """The warehouse to serve: ``--db``, or a demo store built into a scratch file."""
    if args.db:
        yield args.db
        return
    from connectors.demo import build_demo
    from data.warehouse import connect

    with scratch_url("duckdb") as url:
        with connect(url) as wh, timer() as t:
            build_demo(wh, orders=args.orders, days=args.days, seed=7)
        emit(bench="crowd_build", orders=args.orders, seconds=t["seconds"])
        yield url


def progress(message: str) -> None:
    """A line on stderr: where the benchmark is (the JSON lines on stdout are the figures)."""
    print(f"{time.strftime('%H:%M:%S')} {message}", file=sys.stderr, flush=True)


def refresh(url: str) -> None:
    """Scores, models and forecasts for every store, as the app's background refresh computes them."""
    from analytics.refresh import run_refresh
    from analytics.store_state import list_stores
    from data.warehouse import connect

    with connect(url) as wh, timer() as t:
        failed = [(r.kind, r.error) for store in list_stores(wh) for r in run_refresh(wh, store)
                  if r.status != "succeeded"]
    if failed:
        raise SystemExit(f"the refresh failed: {failed}")
    emit(bench="crowd_refresh", seconds=t["seconds"])


def order_count(url: str, since: dt.datetime | None = None) -> int:
    from data.warehouse import connect

    with connect(url) as wh:
        if since is None:
            return int(wh.scalar("SELECT count(*) FROM orders") or 0)
        return int(wh.scalar("SELECT count(*) FROM orders WHERE created_at >= :t", {"t": since}) or 0)


def script_times(url: str, users: Path, cookie_key: str, scripts: list[str]) -> dict[str, float]:
    """Each page's script run under AppTest, logged in as the owner, feed off: the second (warm) run, seconds."""
    from streamlit.logger import set_log_level

    from data.warehouse import close_shared
    from tests.app_support import app
    from ui import cache

    saved = {k: os.environ.get(k) for k in ("DATABASE_URL", "DEMO_FEED", "AUTH_CREDENTIALS_FILE", "AUTH_COOKIE_KEY")}
    os.environ.update({"DATABASE_URL": url, "DEMO_FEED": "off", "AUTH_CREDENTIALS_FILE": str(users),
                       "AUTH_COOKIE_KEY": cookie_key})
    times = {}
    set_log_level("error")  # AppTest outside a server warns at every cache call
    try:
        for script in scripts:
            at = app(f"pages/{script}")
            at.run()
            started = time.perf_counter()
            at.run()
            times[script] = round(time.perf_counter() - started, 3)
            if at.exception:
                times[script] = f"failed: {at.exception[0].value}"[:200]
    finally:
        close_shared()
        cache.clear()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    return times


# -- processes ------------------------------------------------------------------------------------------------

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of one process (all its threads) so far; 0 once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICKS


def descendants(pid: int) -> set[int]:
    """Every living process under ``pid``."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def peak_rss_of(pid: int) -> float | None:
    """VmHWM of a living process, in MB."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        return None
    return None


def comm(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""


class CpuMeter:
    """CPU seconds per wall second of the server, Chromium, and the driver (this process and Playwright's
    node driver). A browser process that ended during the run takes its seconds along: a floor."""

    def __init__(self, server_pid: int) -> None:
        self.server_pid = server_pid
        self.start = self._sample()

    def _sample(self) -> tuple[float, float, float, float]:
        mine = descendants(os.getpid()) - descendants(self.server_pid) - {self.server_pid}
        browser = sum(cpu_seconds(p) for p in mine if "chrom" in comm(p))
        node = sum(cpu_seconds(p) for p in mine if "chrom" not in comm(p))
        return time.monotonic(), cpu_seconds(self.server_pid), browser, time.process_time() + node

    def shares(self) -> dict:
        end = self._sample()
        wall = end[0] - self.start[0]
        names = ("server_cpu", "browser_cpu", "driver_cpu")
        return {name: round(max(end[i] - self.start[i], 0) / wall, 2) for i, name in enumerate(names, start=1)}


# -- the browser ----------------------------------------------------------------------------------------------


async def settle(page, timeout_ms: int) -> None:
    from tests.app_server import IDLE

    await page.wait_for_function(IDLE, polling=200, timeout=timeout_ms)
    await page.wait_for_timeout(QUIET_MS)
    await page.wait_for_function(IDLE, polling=200, timeout=timeout_ms)


async def log_in(context, url: str, password: str, timeout_ms: int):
    """A page of ``context`` logged in through the form as the owner, on the home page."""
    from ui.login import COOKIE_NAME

    page = await context.new_page()
    page.set_default_timeout(timeout_ms)
    await page.goto(url, wait_until="commit")
    await page.get_by_role("button", name="Log in").wait_for()
    await settle(page, timeout_ms)
    await page.get_by_role("textbox", name="Username").fill(OWNER)
    await page.get_by_role("textbox", name="Password").fill(password)
    await page.get_by_role("button", name="Log in").click()
    await page.wait_for_selector('[data-testid="stSidebarNav"]')
    await settle(page, timeout_ms)
    deadline = time.monotonic() + timeout_ms / 1000
    while not any(c["name"] == COOKIE_NAME for c in await context.cookies()):
        if time.monotonic() > deadline:
            raise RuntimeError("the login cookie was never set")
        await page.wait_for_timeout(200)
    return page


async def open_page(page, path: str, timeout_ms: int) -> tuple[float | None, str | None]:
    """Click the link to ``path``: (seconds until drawn, None) or (None, what went wrong)."""
    from tests.app_server import ERRORS

    try:
        t0 = await page.evaluate(CLICK_AT, path)
    except Exception as exc:  # noqa: BLE001 - a link that cannot be clicked is a failed load, reported
        return None, f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}"
    try:
        handle = await page.wait_for_function(LOADED, arg=[path, t0], polling=100, timeout=timeout_ms)
        seconds = float(await handle.json_value())
    except Exception as exc:  # noqa: BLE001 - a page that never finishes is a failed load, reported
        stuck = None
        with contextlib.suppress(Exception):
            stuck = await page.evaluate(STUCK, t0)
        return None, f"{type(exc).__name__}: {str(exc).splitlines()[0][:120]} {stuck}"
    errors = page.locator(ERRORS)
    if await errors.count():
        return seconds, (await errors.first.inner_text())[:300]
    return seconds, None


async def pages_of(page, url: str) -> dict[str, str]:
    """The navigation: path → link text, in order (the home page's path is '')."""
    from tests.app_server import NAV_LINKS

    links = await page.eval_on_selector_all(NAV_LINKS, NAV_LINKS_WITH_TEXT)
    out: dict[str, str] = {}
    for href, text in links:
        if href.startswith(url):
            out.setdefault(href[len(url):].rstrip("/"), text.splitlines()[-1].strip())  # after the icon's name
    return out


async def walk(page, home: str, paths: list[str], start: int, deadline: float, think: float, timeout_ms: int,
               loads: list[dict], session: int, delay: float | None = None) -> None:
    """Click through ``paths`` in turn from ``start`` until ``deadline``, recording each load; the first click
    after ``delay`` times one ``think`` (a random fraction of it when ``delay`` is None)."""
    rng = random.Random(session)
    await asyncio.sleep(think * (rng.random() if delay is None else delay))
    i = start
    while time.monotonic() < deadline:
        path = paths[i % len(paths)]
        seconds, error = await open_page(page, path, timeout_ms)
        loads.append({"session": session, "path": path, "seconds": seconds, "error": error})
        if error and seconds is None:
            # Back to a known state: the home page, drawn.
            with contextlib.suppress(Exception):
                await page.goto(home, wait_until="commit")
                await page.wait_for_selector('[data-testid="stSidebarNav"]')
                await settle(page, timeout_ms)
        i += 1
        await asyncio.sleep(think * rng.uniform(0.5, 1.5))


def browser_launcher(chromium: str, nice: int, folder: Path) -> str:
    """A script that starts ``chromium`` at niceness ``nice``, unable to raise any thread's priority.

    The browsers stand in for people's own machines: here they share the server's cores, so they run
    below it. Chromium run by root (a container) also raises its display threads to nice -8, above the
    server; without CAP_SYS_NICE it cannot, as for any other user."""
    if nice <= 0 and os.geteuid() != 0:
        return chromium
    drop = "setpriv --inh-caps=-sys_nice --bounding-set=-sys_nice " if os.geteuid() == 0 else ""
    script = folder / "chromium"
    script.write_text(f'#!/bin/sh\nexec nice -n {max(nice, 0)} {drop}{shlex.quote(chromium)} "$@"\n')
    script.chmod(0o700)
    return str(script)


async def drive(url: str, password: str, args, server_pid: int, folder: Path) -> dict:
    from playwright.async_api import async_playwright

    from analytics.exports import chromium_path
    from tests.app_server import CHROMIUM_ARGS

    timeout_ms = int(args.page_timeout * 1000)
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=browser_launcher(chromium_path(), args.browser_nice, folder), args=CHROMIUM_ARGS,
            headless=True)
        try:
            async def new_context(storage_state=None):
                context = await browser.new_context(viewport={"width": 1400, "height": 900},
                                                    storage_state=storage_state)
                await context.add_init_script(STATE_OBSERVER)
                return context

            # One person alone first: the browser's page times with nobody else about.
            for attempt in range(3):  # the login cookie is not always set on a loaded machine: see the report
                solo_context = await new_context()
                try:
                    solo = await log_in(solo_context, url, password, timeout_ms)
                    break
                except RuntimeError as exc:
                    emit(bench="crowd_error", page="login", times=1, error=str(exc))
                    await solo_context.close()
            else:
                raise SystemExit("three logins in a row left no login cookie")
            titles = await pages_of(solo, url)
            paths = list(titles)
            progress("one session alone: every page")
            solo_loads: list[dict] = []
            for path in paths[1:] + paths[:1]:
                seconds, error = await open_page(solo, path, timeout_ms)
                solo_loads.append({"path": path, "seconds": seconds, "error": error})

            if args.login == "shared":
                state = await solo_context.storage_state()
            await solo_context.close()
            contexts = [await new_context(storage_state=state if args.login == "shared" else None)
                        for _ in range(args.sessions)]
            gate = asyncio.Semaphore(args.login_at_once)

            async def start(context):
                try:
                    return await open_logged_in(context)
                except BaseException:
                    await context.close()  # a session that could not start draws nothing more
                    raise

            async def open_logged_in(context):
                async with gate:
                    if args.login == "form":
                        return await log_in(context, url, password, timeout_ms)
                    page = await context.new_page()
                    page.set_default_timeout(timeout_ms)
                    await page.goto(url, wait_until="commit")
                    await page.wait_for_selector('[data-testid="stSidebarNav"]')
                    await settle(page, timeout_ms)
                    return page

            progress(f"{args.sessions} sessions logging in ({args.login})")
            with timer() as login_time:
                logged = await asyncio.gather(*(start(c) for c in contexts), return_exceptions=True)
            failed_logins = [str(p) for p in logged if isinstance(p, BaseException)]
            pages = [p for p in logged if not isinstance(p, BaseException)]
            emit(bench="crowd_login", how=args.login, at_once=args.login_at_once, sessions=args.sessions,
                 logged_in=len(pages), seconds=login_time["seconds"], failures=failed_logins[:3])

            progress(f"{len(pages)} sessions clicking through the pages for {args.minutes} min")
            loads: list[dict] = []
            meter = CpuMeter(server_pid)
            started_at = dt.datetime.now(dt.timezone.utc)
            load_before = os.getloadavg()
            deadline = time.monotonic() + args.minutes * 60
            await asyncio.gather(*(walk(page, url, paths, n, deadline, args.think, timeout_ms, loads, n,
                                        0.0 if args.start_together else None)
                                   for n, page in enumerate(pages)))
            shares = meter.shares()
            ended_at = time.time()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(asyncio.gather(*(c.close() for c in contexts), return_exceptions=True), 60)
        finally:
            await browser.close()
    return {"titles": titles, "solo": solo_loads, "loads": loads, "shares": shares, "started_at": started_at,
            "ended_at": ended_at, "load_before": load_before, "failed_logins": len(failed_logins)}


# -- figures --------------------------------------------------------------------------------------------------


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, -(-len(ordered) * 95 // 100) - 1)]


def spread(values: list[float]) -> dict:
    if not values:
        return {"median_s": None, "p95_s": None, "max_s": None}
    return {"median_s": round(statistics.median(values), 3), "p95_s": round(p95(values), 3),
            "max_s": round(max(values), 3)}


SCRIPTS = {"": "sales.py"}  # the home page's script; the others are named as their paths


def server_runs(path: Path, start: float, end: float) -> list[tuple[float, str, str]]:
    """The script runs that ended between ``start`` and ``end``: (seconds, 'full' or 'fragment', page name)."""
    if not path.exists():
        return []
    runs = []
    for line in path.read_text().splitlines():
        at, seconds, kind, name = line.split(" ", 3)
        if start <= float(at) <= end:
            runs.append((float(seconds), kind, "" if name == "-" else name))
    return runs


def report(run: dict, script_s: dict, server: list, args, orders_written: int, peak_mb: float | None,
           orders: int) -> None:
    titles, loads = run["titles"], run["loads"]
    solo = {r["path"]: r for r in run["solo"]}
    for path, title in titles.items():
        mine = [r for r in loads if r["path"] == path]
        script = SCRIPTS.get(path, f"{path.strip('/')}.py")
        on_server = spread([seconds for seconds, kind, name in server if kind == "full" and name == path.strip("/")])
        emit(bench="crowd_page", page=title, loads=len(mine), errors=sum(r["error"] is not None for r in mine),
             **spread([r["seconds"] for r in mine if r["seconds"] is not None]),
             server_runs=sum(kind == "full" and name == path.strip("/") for _, kind, name in server),
             server_median_s=on_server["median_s"], server_p95_s=on_server["p95_s"],
             solo_s=round(solo[path]["seconds"], 3) if solo.get(path, {}).get("seconds") else None,
             **({"solo_error": solo[path]["error"]} if solo.get(path, {}).get("error") else {}),
             script_s=script_s.get(script))
    errors = [r for r in loads if r["error"] is not None]
    for error in {r["error"] for r in errors}:
        emit(bench="crowd_error", page=titles.get(next(r["path"] for r in errors if r["error"] == error)),
             times=sum(r["error"] == error for r in errors), error=error)
    times = [r["seconds"] for r in loads if r["seconds"] is not None]
    overall = spread(times)
    full = spread([seconds for seconds, kind, _ in server if kind == "full"])
    fragments = [seconds for seconds, kind, _ in server if kind == "fragment"]
    emit(bench="crowd", sessions=args.sessions, orders=orders, minutes=args.minutes, think_s=args.think,
         start_together=args.start_together,
         feed_interval_s=args.feed_interval, browser_nice=args.browser_nice, loads=len(loads), errors=len(errors) + run["failed_logins"],
         p50_s=overall["median_s"], p95_s=overall["p95_s"], max_s=overall["max_s"],
         loads_per_s=round(len(loads) / (args.minutes * 60), 2),
         server_full_runs=sum(kind == "full" for _, kind, _ in server), server_p50_s=full["median_s"],
         server_p95_s=full["p95_s"], server_fragment_runs=len(fragments),
         server_fragment_p95_s=spread(fragments)["p95_s"], feed_orders=orders_written,
         server_peak_rss_mb=peak_mb, **run["shares"],
         load_before=[round(x, 2) for x in run["load_before"]], load_after=[round(x, 2) for x in os.getloadavg()])


# -- main -----------------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.crowd")
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--orders", type=int, default=100_000, help="demo store size when building one")
    parser.add_argument("--days", type=int, default=730)
    parser.add_argument("--db", help="a warehouse URL holding the demo store (nothing is built; the feed writes to it)")
    parser.add_argument("--minutes", type=float, default=3)
    parser.add_argument("--think", type=float, default=1.0, help="seconds on a page before the next click (±50 %%)")
    parser.add_argument("--start-together", action="store_true",
                        help="every session's first click at the same instant (else spread over one --think)")
    parser.add_argument("--feed-interval", type=float, default=1.0, help="seconds between two live feed ticks")
    parser.add_argument("--login", choices=["form", "shared"], default="shared",
                        help="form: every session logs in through the form; shared: one login's cookie for all")
    parser.add_argument("--login-at-once", type=int, default=4, help="form logins under way at the same time")
    parser.add_argument("--page-timeout", type=float, default=60.0, help="seconds before a load counts as failed")
    parser.add_argument("--browser-nice", type=int, default=19,
                        help="niceness of Chromium, below the server (0: as the server)")
    args = parser.parse_args(argv)

    from analytics.exports import chromium_path
    from auth.users import UserStore
    from tests.app_server import serve_app

    if chromium_path() is None:
        raise SystemExit("Chromium is not installed (apt-get install -y chromium)")
    with store_url(args) as url, tempfile.TemporaryDirectory(prefix="crowd-") as folder:
        refresh(url)
        orders = order_count(url)
        users = Path(folder) / "credentials.yaml"
        password = secrets.token_urlsafe(16)
        UserStore(users, rounds=4).add(OWNER, role="owner", name="Owner", password=password)
        cookie_key = secrets.token_urlsafe(32)
        progress("each page's script under AppTest")
        script_s = script_times(url, users, cookie_key, sorted(p.name for p in (Path(__file__).resolve().parent.parent
                                                                                / "pages").glob("*.py")))
        log_path = Path(folder) / "server.log"
        runs_path = Path(folder) / "script_runs.txt"
        with serve_app(url, users, cookie_key, log_path, runner="bench.timed_server", DEMO_FEED="on", DEMO_FEED_PACE="busy",
                       DEMO_FEED_INTERVAL=str(args.feed_interval), BENCH_SCRIPT_TIMES=str(runs_path)) as (app_url, pid):
            run = asyncio.run(drive(app_url, password, args, pid, Path(folder)))
            peak_mb = peak_rss_of(pid)
        written = order_count(url, run["started_at"])
        server = server_runs(runs_path, run["started_at"].timestamp(), run["ended_at"])
        report(run, script_s, server, args, written, peak_mb, orders)
        tail = log_path.read_text(errors="replace").splitlines()
        problems = [line for line in tail if "Traceback" in line or "ERROR" in line]
        if problems:
            emit(bench="crowd_server_log", problems=len(problems), first=problems[:5])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
