"""The real app served by ``streamlit run server.py`` on a free port, and the browser bits that drive it.

Used by the browser tests and by ``python -m bench.crowd``: the same server
command, the same Chromium flags (Debian's ``/usr/bin/chromium``, never a
downloaded browser), the same signals that a page has finished drawing.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Iterator

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
ERRORS = '[data-testid="stException"], [data-testid="stAlertContentError"]'

# The script run is over and the browser is connected.
IDLE = """() => {
    const app = document.querySelector('[data-testid="stApp"]');
    return app?.getAttribute('data-test-connection-state') === 'CONNECTED'
        && app.getAttribute('data-test-script-state') === 'notRunning';
}"""

# Clicks the sidebar link to a path (the sidebar may be folded on a phone: a click event reaches it all the same).
CLICK_NAV_LINK = """path => {
    const link = Array.from(document.querySelectorAll('[data-testid="stSidebarNav"] a'))
        .find(a => new URL(a.href).pathname.replace(/\\/$/, '') === path);
    link.click();
}"""

NAV_LINKS = '[data-testid="stSidebarNav"] a'
NAV_HREFS = "links => links.map(a => a.href)"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_up(url: str, server: subprocess.Popen, seconds: float = 45) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the app stopped with exit code {server.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"the app did not answer at {url} within {seconds:.0f} s")


@contextlib.contextmanager
def serve_app(db_url: str, users: Path, cookie_key: str, log_path: Path, *, runner: str = "streamlit",
              **env: str) -> Iterator[tuple[str, int]]:
    """``streamlit run server.py`` over ``db_url`` on a free port: yields (its address, its process id).

    ``env`` adds settings (DEMO_FEED, DEMO_FEED_INTERVAL, ...); the AI providers' keys are left out,
    so the Insights page uses the offline writer. ``runner``: the module that takes streamlit's
    command line (one that wraps it)."""
    port = free_port()
    environment = {key: value for key, value in os.environ.items()
                   if key not in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "STORE_ID")}
    environment.update({"DATABASE_URL": db_url, "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false",
                        "AUTH_CREDENTIALS_FILE": str(users), "AUTH_COOKIE_KEY": cookie_key, **env})
    with log_path.open("wb") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", runner, "run", "server.py", "--server.port", str(port),
             "--server.address", "127.0.0.1", "--server.headless", "true", "--server.fileWatcherType", "none"],
            cwd=ROOT, env=environment, stdout=log, stderr=subprocess.STDOUT,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            wait_until_up(url, server)
            yield url, server.pid
        finally:
            server.terminate()
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


def nav_paths(hrefs: list[str], app_url: str) -> list[str]:
    """The paths of the navigation's links (``hrefs`` read with NAV_HREFS), home left out, in order."""
    return [p for p in dict.fromkeys(h[len(app_url):].rstrip("/") for h in hrefs if h.startswith(app_url)) if p]
