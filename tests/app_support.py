"""Running the app under Streamlit's AppTest against a store written to a temporary DuckDB file.

``app_store`` also gives the app a users file (an owner ``owner`` and an
analyst ``analyst``) and a cookie key; ``app()`` starts logged in as the owner
(``user=None``: logged out), as the login form would leave the session.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import pytest
from streamlit.testing.v1 import AppTest

from data.warehouse import close_shared, connect

ROOT = Path(__file__).resolve().parent.parent
TIMEOUT = 60
TEST_COOKIE_KEY = "k" * 40
# name -> (role, password); cheap bcrypt cost: the tests check logins, not hashing speed
TEST_USERS = {"owner": ("owner", "owner-password-1"), "analyst": ("analyst", "analyst-password-1")}


def write_test_users(path: Path) -> Path:
    from auth.users import UserStore

    store = UserStore(path, rounds=4)
    for name, (role, password) in TEST_USERS.items():
        store.add(name, role=role, name=name.title(), password=password)
    return path


@pytest.fixture
def app_store(tmp_path, monkeypatch) -> Callable[[Callable | None], str]:
    """``app_store(build)``: a DuckDB file built by ``build(wh)`` (nothing: an empty warehouse),
    made the app's warehouse through ``DATABASE_URL``. The shared warehouse and the page caches
    are reset before and after."""
    from ui import cache

    def make(build: Callable | None = None) -> str:
        url = f"duckdb:///{tmp_path / 'app.duckdb'}"
        wh = connect(url)
        try:
            if build is not None:
                build(wh)
        finally:
            wh.close()
        monkeypatch.setenv("DATABASE_URL", url)
        monkeypatch.setenv("DEMO_FEED", "off")
        users = tmp_path / "credentials.yaml"
        if not users.exists():
            write_test_users(users)
        monkeypatch.setenv("AUTH_CREDENTIALS_FILE", str(users))
        monkeypatch.setenv("AUTH_COOKIE_KEY", TEST_COOKIE_KEY)
        monkeypatch.delenv("STORE_ID", raising=False)
        close_shared()
        cache.clear()
        return url

    yield make
    close_shared()
    cache.clear()


def app(script: str = "app.py", user: str | None = "owner", **state) -> AppTest:
    """An AppTest of ``script`` (relative to the project) with ``state`` put in the session first,
    logged in as ``user`` (one of TEST_USERS; ``None``: nobody)."""
    at = AppTest.from_file(str(ROOT / script), default_timeout=TIMEOUT)
    if user is not None:
        role = TEST_USERS[user][0]
        state = {"authentication_status": True, "username": user, "name": user.title(), "roles": [role], **state}
    for key, value in state.items():
        at.session_state[key] = value
    return at


def cards(at: AppTest) -> dict[str, tuple[str, str | None]]:
    """Every KPI card on the page: label → (value, delta), ``None`` for no delta."""
    return {m.label: (m.value, m.delta or None) for m in at.metric}


def texts(at: AppTest) -> str:
    """All the text of info, warning, error, markdown and caption elements, one per line."""
    parts = []
    for kind in (at.info, at.warning, at.error, at.markdown, at.caption, at.title, at.subheader):
        parts.extend(str(e.value) for e in kind)
    return "\n".join(parts)
