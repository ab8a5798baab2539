"""The login's logic without Streamlit: the users file, password checks, slowing failed logins, the cookie key, the CLI."""

from __future__ import annotations

import stat

import bcrypt
import pytest
import yaml

from auth import keys, users
from auth.__main__ import main as auth_cli
from auth.throttle import LoginGuard, Throttle
from auth.users import UserError, UserStore
from data import settings


@pytest.fixture(autouse=True)
def cheap_bcrypt(monkeypatch):
    """Cost 4 instead of 12 for every hash here, the dummy one included: these tests check logic."""
    monkeypatch.setattr(users, "ROUNDS", 4)
    monkeypatch.setattr(users, "_dummy_hash", None)


@pytest.fixture
def store(tmp_path) -> UserStore:
    return UserStore(tmp_path / "credentials.yaml", rounds=4)


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


# -- the users file ----------------------------------------------------------

def test_first_run_creates_one_owner_with_a_random_password_then_nothing(store):
    password = store.ensure_owner()
    assert password and len(password) == 20
    assert [(u.username, u.role) for u in store.users()] == [("owner", "owner")]
    assert store.verify("owner", password).is_owner
    assert store.ensure_owner() is None  # never a second one, never a reset
    other = UserStore(store.path.parent / "other.yaml", rounds=4).ensure_owner()
    assert other != password  # random, not a default


def test_the_file_holds_only_hashes_is_private_and_streamlit_authenticator_reads_it(store):
    password = store.add("Alice", role="analyst", name="Alice A.", password="correct horse battery")
    data = yaml.safe_load(store.path.read_text())
    record = data["credentials"]["usernames"]["alice"]
    assert password not in store.path.read_text()
    assert record["password"].startswith("$2b$04$") and record["roles"] == ["analyst"]
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    from streamlit_authenticator.utilities.hasher import Hasher

    assert Hasher.is_hash(record["password"])
    assert Hasher.check_pw("correct horse battery", store.credentials()["usernames"]["alice"]["password"])


def test_verify_takes_the_right_password_only(store):
    store.add("bob", password="bob-password-123")
    assert store.verify("bob", "bob-password-123").username == "bob"
    assert store.verify(" BOB ", "bob-password-123").username == "bob"  # usernames ignore case and spaces
    assert store.verify("bob", "bob-password-124") is None
    assert store.verify("bob", "") is None
    assert store.verify("bob", "x" * 200) is None


def test_an_unknown_user_costs_one_bcrypt_check_at_the_stored_cost_like_a_wrong_password(store, monkeypatch):
    store.add("bob", password="bob-password-123")
    checked: list[bytes] = []
    real = bcrypt.checkpw

    def spy(password, hashed):
        checked.append(hashed)
        return real(password, hashed)

    monkeypatch.setattr(users.bcrypt, "checkpw", spy)
    assert store.verify("bob", "wrong-password-1") is None
    assert store.verify("nobody", "wrong-password-1") is None
    assert store.verify("bob", "y" * 100) is None  # too long for bcrypt: still one check
    assert len(checked) == 3
    # the same algorithm and cost ("$2b$04$"), so the same work
    assert {h[:7] for h in checked} == {b"$2b$04$"}


def test_passwords_and_usernames_are_checked(store):
    with pytest.raises(UserError, match="at least 12"):
        store.add("carol", password="short")
    with pytest.raises(UserError, match="username"):
        store.add("../etc", password="long-enough-password")
    with pytest.raises(UserError, match="role"):
        store.add("carol", role="admin")
    store.add("carol")
    with pytest.raises(UserError, match="already"):
        store.add("Carol")


def test_the_last_owner_can_be_neither_removed_nor_demoted(store):
    store.ensure_owner()
    store.add("dave", role="analyst")
    with pytest.raises(UserError, match="only owner"):
        store.remove("owner")
    with pytest.raises(UserError, match="only owner"):
        store.set_role("owner", "analyst")
    store.set_role("dave", "owner")
    store.set_role("owner", "analyst")  # now dave is an owner
    store.remove("owner")
    assert [(u.username, u.role) for u in store.users()] == [("dave", "owner")]
    with pytest.raises(UserError, match="no user"):
        store.remove("nobody")


def test_a_password_reset_and_a_logout_refuse_older_cookies(store, monkeypatch):
    store.add("erin", password="erin-password-1")
    assert store.sessions_valid_after("erin") == 0
    monkeypatch.setattr(users.time, "time", lambda: 5000.0)
    new = store.set_password("erin")
    assert store.sessions_valid_after("erin") == 5000.0
    assert store.verify("erin", "erin-password-1") is None and store.verify("erin", new)
    monkeypatch.setattr(users.time, "time", lambda: 6000.0)
    store.end_sessions("erin")
    assert store.sessions_valid_after("erin") == 6000.0


# -- slowing failed logins ----------------------------------------------------

def test_the_delay_doubles_after_the_free_attempts_and_stops_at_the_cap():
    throttle = Throttle(base=1.0, cap=60.0, free=3)
    # failures 0-2: free; 3: 1 s; 4: 2; 5: 4; 6: 8; 7: 16; 8: 32; 9: 64 → capped at 60
    assert [throttle.delay(n) for n in range(10)] == [0, 0, 0, 1, 2, 4, 8, 16, 32, 60]


def test_waits_count_from_the_last_failure_and_are_forgotten_after_quiet():
    clock = Clock()
    throttle = Throttle(base=1.0, cap=60.0, free=3, forget_after=900, clock=clock)
    for _ in range(5):
        throttle.failed("user:owner")
    # 5 failures: 1 × 2^(5-3) = 4 s from the last one
    assert throttle.wait("user:owner") == 4
    clock.now += 3
    assert throttle.wait("user:owner") == 1
    clock.now += 1
    assert throttle.wait("user:owner") == 0
    assert throttle.wait("user:someone-else") == 0
    for _ in range(20):
        throttle.failed("user:owner")
    assert throttle.wait("user:owner") == 60  # never more than the cap: never locked out for good
    clock.now += 900
    assert throttle.wait("user:owner") == 0
    throttle.failed("user:owner")  # quiet for 15 minutes: counting starts again at one
    assert throttle.wait("user:owner") == 0


def test_the_guard_slows_per_user_and_per_address_and_a_success_clears_the_user(store):
    store.add("owner", role="owner", password="owner-password-1")
    clock = Clock()
    guard = LoginGuard(Throttle(base=1, cap=60, free=3, clock=clock), Throttle(base=2, cap=900, free=5, clock=clock))
    for _ in range(3):
        assert guard.attempt(store, "owner", "wrong-password", "10.0.0.1").user is None
    # the 4th attempt at owner comes too soon (3 failures → 1 s), whatever the address and password
    refused = guard.attempt(store, "owner", "owner-password-1", "10.0.0.2")
    assert refused.user is None and refused.wait_seconds == 1
    clock.now += 1
    assert guard.attempt(store, "owner", "owner-password-1", "10.0.0.2").user.username == "owner"
    assert guard.per_user.wait("user:owner") == 0
    # one address trying many names: 5 free failures, then 2 s, doubling
    for name in ("a1", "a2"):
        guard.attempt(store, name, "wrong-password", "10.0.0.1")
    assert guard.attempt(store, "a3", "x", "10.0.0.1").wait_seconds == 2  # 3 + 2 = 5 failures from 10.0.0.1
    assert guard.attempt(store, "a3", "x", "10.0.0.3").wait_seconds == 0  # another address is not slowed


# -- the cookie key ----------------------------------------------------------

@pytest.mark.parametrize("key, word", [(None, "empty"), ("", "empty"), ("   ", "empty"), ("some_key", "sample"),
                                       ("Change-Me", "sample"), ("a" * 31, "shorter than 32")])
def test_an_empty_sample_or_short_cookie_key_is_refused_in_one_sentence(key, word):
    problem = keys.cookie_key_problem(key)
    assert word in problem and problem.count(". ") == 0 and problem.endswith(".")


def test_a_long_random_cookie_key_is_accepted():
    assert keys.cookie_key_problem("x" * 32) is None


@pytest.fixture
def secrets_file(tmp_path, monkeypatch):
    path = tmp_path / ".streamlit" / "secrets.toml"
    monkeypatch.setattr(settings, "SECRETS_PATH", path)
    monkeypatch.delenv("AUTH_COOKIE_KEY", raising=False)
    settings._secrets.cache_clear()
    yield path
    settings._secrets.cache_clear()


def test_setup_writes_a_random_key_once_and_keeps_other_secrets(secrets_file):
    secrets_file.parent.mkdir()
    secrets_file.write_text('STRIPE_SECRET_KEY = "sk_test_1"')
    assert keys.ensure_cookie_key() is True
    first = keys.require_cookie_key()
    assert len(first) >= 48 and keys.cookie_key_problem(first) is None
    assert 'STRIPE_SECRET_KEY = "sk_test_1"' in secrets_file.read_text()
    assert stat.S_IMODE(secrets_file.stat().st_mode) == 0o600
    assert keys.ensure_cookie_key() is False
    assert keys.require_cookie_key() == first


def test_setup_never_replaces_a_key_that_is_set_but_unusable(secrets_file, monkeypatch):
    monkeypatch.setenv("AUTH_COOKIE_KEY", "some_key")
    with pytest.raises(keys.CookieKeyError, match="sample"):
        keys.ensure_cookie_key()
    assert not secrets_file.exists()


# -- python -m auth --------------------------------------------------------

def test_the_cli_sets_up_adds_resets_and_refuses_in_one_sentence(secrets_file, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("AUTH_CREDENTIALS_FILE", str(tmp_path / "users.yaml"))
    assert auth_cli(["setup"]) == 0
    out = capsys.readouterr().out
    assert "AUTH_COOKIE_KEY" in out and "username: owner" in out
    password = out.split("password: ")[1].split()[0]
    assert UserStore().verify("owner", password)
    assert auth_cli(["setup"]) == 0
    assert capsys.readouterr().out == ""  # the password is printed once only

    assert auth_cli(["add", "Fay", "--role", "analyst"]) == 0
    fay_password = capsys.readouterr().out.split("password: ")[1].split()[0]
    assert UserStore().verify("fay", fay_password).role == "analyst"
    assert auth_cli(["reset-password", "fay"]) == 0
    assert not UserStore().verify("fay", fay_password)
    assert auth_cli(["list"]) == 0
    assert capsys.readouterr().out.splitlines()[-2:] == ["fay\tanalyst\tfay", "owner\towner\tOwner"]

    assert auth_cli(["remove", "owner"]) == 2
    err = capsys.readouterr().err
    assert err == "error: owner is the only owner: make another user an owner first.\n"
    assert auth_cli(["add", "fay"]) == 2
    assert "already" in capsys.readouterr().err


@pytest.mark.parametrize("key", ["", "some_signature_key"])
def test_the_server_refuses_to_start_with_an_empty_or_sample_key_in_one_sentence(key, tmp_path):
    import os
    import subprocess
    import sys

    from tests.app_support import ROOT

    env = {**os.environ, "AUTH_COOKIE_KEY": key, "DATABASE_URL": f"duckdb:///{tmp_path / 'w.duckdb'}"}
    done = subprocess.run([sys.executable, "-c", "import server"], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 1
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith("error: AUTH_COOKIE_KEY is ") and line.endswith(".")
