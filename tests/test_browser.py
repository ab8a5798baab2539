"""The real app in a real browser: the login, every page without an error at desk and phone width,
a filter that changes a figure, downloads, and what an analyst may not open.

Builds a small demo store into a temporary DuckDB file, a users file with an
owner and an analyst, serves the app with ``streamlit run server.py`` on a
free port (live feed off) once for the module, and drives Debian's Chromium
(``/usr/bin/chromium``, never a downloaded browser) through Playwright. The
owner logs in once through the form; the other tests reuse that browser
state (the login cookie). Screenshots of every page at 1400 px and 390 px
wide go to ``tests/artifacts/`` (git-ignored). Without Chromium or Playwright
the tests skip, except with ``CI=true``, where they fail.
"""

from __future__ import annotations

import csv
import io
import os
import re
import time

import pytest

from analytics.exports import chromium_path
from tests.app_server import (
    CHROMIUM_ARGS,
    CLICK_NAV_LINK,
    ERRORS,
    IDLE,
    NAV_HREFS,
    NAV_LINKS,
    ROOT,
    nav_paths,
    serve_app,
)
from tests.app_support import TEST_COOKIE_KEY, TEST_USERS, write_test_users
from ui.login import COOKIE_NAME

pytestmark = pytest.mark.browser

ARTIFACTS = ROOT / "tests" / "artifacts"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
WIDTHS = {"desktop": 1400, "phone": 390}


def missing(message: str):
    if IN_CI:
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    """The app, served on a free port over a small demo store, refreshed."""
    from connectors.demo import build_demo
    from data.warehouse import connect

    folder = tmp_path_factory.mktemp("browser")
    db_url = f"duckdb:///{folder / 'demo.duckdb'}"
    wh = connect(db_url)
    build_demo(wh, orders=1500, days=120, seed=7)
    # Scores, models and forecasts computed up front, so every page shows its figures.
    from analytics.refresh import run_refresh
    from analytics.store_state import list_stores

    runs = run_refresh(wh, list_stores(wh)[0])
    assert all(r.status == "succeeded" for r in runs), [(r.kind, r.error) for r in runs]
    wh.close()
    users = write_test_users(folder / "credentials.yaml")
    with serve_app(db_url, users, TEST_COOKIE_KEY, folder / "server.log", DEMO_FEED="off") as (url, _pid):
        yield url


@pytest.fixture(scope="module")
def browser():
    if chromium_path() is None:
        missing("Chromium is not installed (apt-get install -y chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing("Playwright is not installed (make install)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


TIMEOUT_MS = 60_000  # a loaded 2-core machine can take this long to draw a page


def settle(page) -> None:
    """Wait until the script run is over and the page has drawn.

    Polls on a timer rather than on animation frames, which a busy machine's
    Chromium may hold back for long."""
    page.wait_for_function(IDLE, polling=200, timeout=TIMEOUT_MS)
    page.wait_for_timeout(400)
    page.wait_for_function(IDLE, polling=200, timeout=TIMEOUT_MS)


def log_in(page, app_url: str, user: str) -> None:
    """Log in through the form, the way a person does."""
    page.goto(app_url)
    settle(page)
    page.get_by_role("textbox", name="Username").fill(user)
    page.get_by_role("textbox", name="Password").fill(TEST_USERS[user][1])
    page.get_by_role("button", name="Log in").click()
    page.wait_for_selector('[data-testid="stSidebarNav"]', timeout=TIMEOUT_MS)
    settle(page)
    # The login cookie is written by the page's script after the login: wait for it, so the next
    # address opened in this browser is a logged-in one.
    deadline = time.monotonic() + TIMEOUT_MS / 1000
    while not any(c["name"] == COOKIE_NAME for c in page.context.cookies()):
        assert time.monotonic() < deadline, "the login cookie was never set"
        page.wait_for_timeout(200)


@pytest.fixture(scope="module")
def owner_state(app_url, browser):
    """The owner's browser state after one login through the form (its login cookie)."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    try:
        page = context.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        log_in(page, app_url, "owner")
        return context.storage_state()
    finally:
        context.close()


def screenshot(page, name: str, width: int, while_tall=None):
    """The whole page as a PNG; ``while_tall(page)`` runs (and its result is returned) while the window
    is as tall as the page, so every table has drawn its rows."""
    height = page.evaluate("() => document.querySelector('[data-testid=\"stMain\"]')?.scrollHeight ?? 900")
    page.set_viewport_size({"width": width, "height": min(max(900, height + 40), 8000)})
    page.wait_for_timeout(300)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))
    found = while_tall(page) if while_tall else None
    page.set_viewport_size({"width": width, "height": 900})
    return found


# What a merchant should never read on a page (code spans, the commands to type, are left out).
NOT_FOR_PEOPLE = {
    "money with its minus after the symbol": r"[$€£¥]-\d",
    "money with a hyphen for a minus": r"(?<![\w−])-[$€£¥]\d",
    "a raw float": r"(?<![\d,.])\d{4,}\.\d+|(?<![\d,.])\d+\.\d{4,}",
    "a model's symbol and value": r"(?<![\w.])[a-zα-ω] = -?\d",
    "None": r"\bNone\b",
    "nan": r"\b(?:nan|NaN|inf)\b",
    "an ISO timestamp or date": r"\b\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2})?\b",
    "a code word": r"\b[a-z]+(?:_[a-z0-9]+)+\b|P\(alive\)",
}
# Every text node of the page's main part (tables' column titles and charts' labels too), but code spans,
# icons (a material icon is its name in a font) and the cells of tables: a table draws its cells on a
# canvas, and the hidden copy of them kept for screen readers holds the raw values, not what is drawn
# (numbers and times are formatted by the column configs): cells are checked for words only.
MAIN_TEXT = """() => {
  const skip = new Set(['CODE', 'PRE', 'SCRIPT', 'STYLE', 'TEXTAREA', 'INPUT']);
  const out = [], cells = [];
  const walk = (el, into) => {
    for (const n of el.childNodes) {
      if (n.nodeType === 3) into.push(n.textContent);
      else if (n.nodeType === 1 && !skip.has(n.tagName)
               && !(n.getAttribute('data-testid') || '').includes('Icon'))
        walk(n, n.getAttribute('role') === 'gridcell' ? cells : into);
    }
  };
  const main = document.querySelector('[data-testid="stMain"]');
  if (main) walk(main, out);
  return [out.join('\\n'), cells.join('\\n')];
}"""
IN_CELLS = ("a code word", "None")
# KPI labels narrower than their text (cut with an ellipsis).
CUT_LABELS = """() => [...document.querySelectorAll('[data-testid="stMetricLabel"]')]
  .filter(el => [el, ...el.querySelectorAll('*')].some(e => e.scrollWidth > e.clientWidth + 1))
  .map(el => el.innerText.trim())"""


def unreadable(page, name: str) -> list[str]:
    """The words on the page a merchant should not have to read (see :data:`NOT_FOR_PEOPLE`)."""
    text, cells = page.evaluate(MAIN_TEXT)
    found = []
    for what, pattern in NOT_FOR_PEOPLE.items():
        hits = sorted({m.group(0) for m in re.finditer(pattern, text + ("\n" + cells if what in IN_CELLS else ""))})
        if hits:
            found.append(f"{name}: {what}: {', '.join(hits[:8])}")
    return found


def check(page, name: str, device: str, width: int) -> list[str]:
    """What is wrong with the page on screen (nothing, one hopes), after its screenshot is taken."""
    problems = []
    errors = page.locator(ERRORS)
    if errors.count():
        problems.append(f"{name}: {errors.first.inner_text()[:300]}")
    if page.locator("h1").count() == 0:
        problems.append(f"{name}: no title")
    # Nothing may need a sideways scroll of the whole page (wide tables scroll inside themselves).
    overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
    if overflow > 1:
        problems.append(f"{name}: the page is {overflow}px wider than the screen")
    cut = page.evaluate(CUT_LABELS)
    if cut:
        problems.append(f"{name}: KPI labels cut at {width}px: {', '.join(cut)}")
    problems += screenshot(page, f"{name}_{device}", width, lambda p: unreadable(p, name))
    return problems


TABS = '[data-testid="stMain"] [role="tablist"] [role="tab"]'


def check_tabs(page, name: str, device: str, width: int) -> list[str]:
    """Opens every tab of the page in turn (each a rerun: only the open one is drawn) and checks it."""
    problems = []
    labels = page.locator(TABS).all_inner_texts()
    for index, label in enumerate(labels):
        tab = page.locator(TABS).nth(index)
        if tab.get_attribute("aria-selected") == "true":
            continue
        tab.click()
        settle(page)
        slug = re.sub(r"[^a-z0-9]+", "_", label.lower()).strip("_")
        problems += check(page, f"{name}_{slug}", device, width)
    return problems


def test_without_a_login_only_the_login_form_shows(app_url, browser):
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    try:
        for path in ("", "/orders", "/settings"):
            page.goto(app_url + path)
            settle(page)
            assert page.get_by_role("button", name="Log in").count() == 1
            assert page.locator('[data-testid="stSidebarNav"], [data-testid="stMetric"], '
                                '[data-testid="stDataFrame"], .js-plotly-plot').count() == 0
        screenshot(page, "login_phone", WIDTHS["phone"])
        # A wrong password: one sentence, and still nothing else.
        page.get_by_role("textbox", name="Username").fill("owner")
        page.get_by_role("textbox", name="Password").fill("not-the-password")
        page.get_by_role("button", name="Log in").click()
        settle(page)
        assert "Wrong username or password." in page.locator('[data-testid="stAlertContentError"]').inner_text()
        assert page.locator('[data-testid="stSidebarNav"], [data-testid="stMetric"]').count() == 0
    finally:
        context.close()


@pytest.mark.parametrize("device", list(WIDTHS), ids=list(WIDTHS))
def test_every_page_opens_without_an_error(app_url, browser, owner_state, device):
    """Opens the home page, then every page of the navigation the way a person does (its link)."""
    width = WIDTHS[device]
    context = browser.new_context(viewport={"width": width, "height": 900}, storage_state=owner_state)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    try:
        page.goto(app_url)
        settle(page)
        paths = nav_paths(page.eval_on_selector_all(NAV_LINKS, NAV_HREFS), app_url)
        assert {"/orders", "/products", "/marketing", "/goals", "/settings"} <= set(paths)
        problems = check(page, "home", device, width) + check_tabs(page, "home", device, width)
        for path in paths:
            # The link is in the sidebar, which a phone keeps folded: a click event reaches it all the same.
            page.evaluate(CLICK_NAV_LINK, path)
            page.wait_for_function("path => location.pathname.replace(/\\/$/, '') === path", arg=path)
            settle(page)
            problems += check(page, path.strip("/"), device, width)
            problems += check_tabs(page, path.strip("/"), device, width)
        assert not problems, "\n".join(problems)
    finally:
        context.close()


def test_changing_a_filter_changes_a_kpi(app_url, browser, owner_state):
    context = browser.new_context(viewport={"width": 1400, "height": 900}, storage_state=owner_state)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    try:
        page.goto(app_url)
        settle(page)
        total = page.locator('[data-testid="stMetric"]').filter(has_text="Total sales").locator(
            '[data-testid="stMetricValue"]').first
        before = total.inner_text()
        page.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]').filter(has_text="Dates").click()
        page.get_by_role("option", name="Last 7 days").click()
        settle(page)
        after = total.inner_text()
        # 30 days of a store selling every day against 7 of them: the total must move.
        assert re.fullmatch(r"\$[\d,]+\.\d\d", before) and re.fullmatch(r"\$[\d,]+\.\d\d", after)
        assert after != before
    finally:
        context.close()


def test_an_analyst_cannot_open_settings_and_logs_out(app_url, browser):
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    try:
        log_in(page, app_url, "analyst")
        paths = nav_paths(page.eval_on_selector_all(NAV_LINKS, NAV_HREFS), app_url)
        assert "/orders" in paths and "/settings" not in paths
        page.goto(f"{app_url}/settings")
        settle(page)
        assert page.locator('[data-testid="stSidebarNav"]').count() == 1  # still logged in
        headings = page.locator("h1, h2, h3").all_inner_texts()
        assert not {"Settings", "Users", "Sync status"} & {h.strip() for h in headings}, headings
        assert page.locator('input[type="password"]').count() == 0  # no connection secrets form either
        # Logging out ends the cookie too: a reload shows the login form.
        page.goto(app_url)
        settle(page)
        page.get_by_role("button", name="Log out").click()
        # While the logout's reruns draw, the form of the run before may still be on the page, stale.
        page.get_by_role("button", name="Log in").first.wait_for(timeout=TIMEOUT_MS)
        settle(page)
        assert page.get_by_role("button", name="Log in").count() == 1
        page.goto(app_url)
        settle(page)
        assert page.get_by_role("button", name="Log in").count() == 1
        assert page.locator('[data-testid="stSidebarNav"]').count() == 0
    finally:
        context.close()


def test_a_csv_download_arrives(app_url, browser, owner_state, tmp_path):
    context = browser.new_context(viewport={"width": 1400, "height": 900}, accept_downloads=True,
                                  storage_state=owner_state)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    try:
        page.goto(f"{app_url}/orders")
        settle(page)
        with page.expect_download(timeout=30_000) as download_info:
            page.get_by_role("button", name="Download CSV").first.click()
        download = download_info.value
        assert re.fullmatch(r"orders_list_\d{4}-\d{2}-\d{2}_\d{4}-\d{2}-\d{2}\.csv", download.suggested_filename)
        target = tmp_path / download.suggested_filename
        download.save_as(target)
        rows = list(csv.reader(io.StringIO(target.read_text(encoding="utf-8"))))
        assert rows[0] == ["order_id", "order_number", "placed_at", "customer_id", "customer_name", "customer_email",
                           "items", "total", "currency", "financial_status", "fulfillment_status", "channel"]
        assert len(rows) > 10
        assert all(re.fullmatch(r"-?\d+\.\d{4}", row[7]) for row in rows[1:])  # exact money, a number
    finally:
        context.close()


def test_a_png_download_arrives(app_url, browser, owner_state, tmp_path):
    """The home page's first chart as a PNG: drawn by kaleido in the server on the click."""
    context = browser.new_context(viewport={"width": 1400, "height": 900}, accept_downloads=True,
                                  storage_state=owner_state)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    try:
        page.goto(app_url)
        settle(page)
        button = page.get_by_role("button", name="Download PNG").filter(visible=True).first  # a folded tab holds others
        button.wait_for(timeout=60_000)
        with page.expect_download(timeout=90_000) as download_info:
            button.click(timeout=60_000)
        download = download_info.value
        assert re.fullmatch(r"[a-z0-9_]+_\d{4}-\d{2}-\d{2}_\d{4}-\d{2}-\d{2}\.png", download.suggested_filename)
        target = tmp_path / download.suggested_filename
        download.save_as(target)
        data = target.read_bytes()
        assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 10_000
    finally:
        context.close()


@pytest.mark.parametrize("scheme", ["light", "dark"], ids=["light", "dark"])
def test_charts_follow_the_browsers_theme_and_nothing_comes_from_the_internet(app_url, browser, owner_state,
                                                                               scheme):
    """A browser set to a light or dark colour scheme: the app follows it and so do its charts, whose text
    and background are the theme's; every request the page makes (favicon, fonts, icons) goes to the app."""
    context = browser.new_context(viewport={"width": 1400, "height": 900}, color_scheme=scheme,
                                  storage_state=owner_state)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    try:
        page.goto(app_url)
        settle(page)
        page.wait_for_selector(".js-plotly-plot .main-svg", state="attached")  # a folded tab may hold it
        colours = page.evaluate("""() => {
            const svg = document.querySelector('.js-plotly-plot .main-svg');
            const title = document.querySelector('.js-plotly-plot .gtitle');
            return {paper: svg.style.background || getComputedStyle(svg).backgroundColor,
                    title: title ? getComputedStyle(title).fill : null,
                    app: getComputedStyle(document.querySelector('[data-testid="stApp"]')).backgroundColor};
        }""")
        if scheme == "dark":
            assert colours["title"] == "rgb(250, 250, 250)", colours
            assert colours["paper"] in ("rgba(0, 0, 0, 0)", "transparent"), colours
        else:
            assert colours["title"] == "rgb(38, 39, 48)", colours
            assert colours["paper"] in ("rgb(255, 255, 255)", "white"), colours
        favicon = page.evaluate("() => document.querySelector('link[rel~=\"icon\"]')?.href ?? ''")
        assert favicon.startswith(app_url), favicon
        outside = [url for url in requested if not url.startswith((app_url, "data:", "blob:"))]
        assert not outside, outside
    finally:
        context.close()
