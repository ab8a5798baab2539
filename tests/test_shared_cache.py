"""Page figures shared through Redis (``REDIS_URL``), against a real redis-server.

``TEST_REDIS_URL`` (default redis://127.0.0.1:6379/0) names the server. Each
test writes under a key prefix of its own and removes its keys at the end.
Without a reachable server the tests skip, except with ``CI=true``, where
they fail (as the PostgreSQL cases of tests/conftest.py do).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest

from analytics.metrics import sales_over_time, sales_summary
from data.rollups import refresh_store
from data.warehouse import connect
from tests.app_support import app, app_store  # noqa: F401 - app_store is a fixture
from tests.builders import add_order, utc
from tests.conftest import IN_CI
from tests.sales_store import END, START, build_sales_store
from ui import cache, shared_cache
from ui.shared_cache import SharedCache, Unshareable

ROOT = Path(__file__).resolve().parent.parent
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def _unreachable(message: str) -> None:
    if IN_CI:
        pytest.fail(message)
    pytest.skip(message)


_prefixes: list[str] = []


@pytest.fixture(scope="session")
def redis_url():
    """The test server's URL; at the end of the session every key of the tests' prefixes is dropped
    (fixtures that clear the cache in their own teardown bump a generation after a test's own cleanup)."""
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        _unreachable(f"Redis is not reachable at {REDIS_URL}: {exc.__class__.__name__}: {exc}")
    yield REDIS_URL
    for name in _prefixes:
        _drop(REDIS_URL, name)


def _keys(url: str, prefix: str) -> list[bytes]:
    import redis

    return list(redis.Redis.from_url(url).scan_iter(match=f"{prefix}:*"))


def _drop(url: str, prefix: str) -> None:
    import redis

    client = redis.Redis.from_url(url)
    names = _keys(url, prefix)
    if names:
        client.delete(*names)


@pytest.fixture
def prefix(redis_url, monkeypatch):
    """A key prefix of this test's own, made the app's, with REDIS_URL set; its keys dropped after."""
    name = f"test-shared-cache:{os.getpid()}:{uuid.uuid4().hex[:8]}"
    _prefixes.append(name)
    monkeypatch.setattr(shared_cache, "KEY_PREFIX", name)
    monkeypatch.setenv("REDIS_URL", redis_url)
    monkeypatch.setattr(cache, "VERSION_TTL", 0)
    monkeypatch.setattr(shared_cache, "GENERATION_TTL", 0)
    cache.clear()
    yield name
    cache.clear()
    _drop(redis_url, name)


@pytest.fixture
def sales_url(tmp_path) -> str:
    url = f"duckdb:///{tmp_path / 'shared.duckdb'}"
    with connect(url) as wh:
        build_sales_store(wh)
    return url


def _replica(url: str, redis_url: str, prefix: str) -> dict:
    """Run tests/cache_replica.py in a process of its own: what it computed and showed."""
    env = {**os.environ, "REDIS_URL": redis_url}
    done = subprocess.run([sys.executable, "-m", "tests.cache_replica", url, prefix, START.isoformat(),
                           END.isoformat()], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_a_second_replica_reads_the_first_ones_figures_and_a_new_version_misses(sales_url, prefix, redis_url):
    first = _replica(sales_url, redis_url, prefix)
    assert first["computed"] == 1
    # Over 1–6 March: net 232.50, total 250.50, 4 orders (tests/sales_store.py).
    assert first["summary"]["net_sales"] == "232.5000"
    assert first["summary"]["total_sales"] == "250.5000"
    assert first["summary"]["orders"] == "4"
    assert len(first["daily"]) == 6
    assert len(_keys(redis_url, f"{prefix}:q")) == 1

    second = _replica(sales_url, redis_url, prefix)
    assert second["computed"] == 0
    assert second == {**first, "computed": 0}

    # An order on 4 March changes the data version: the next replica works the figures out again.
    with connect(sales_url) as wh:
        add_order(wh, "o6", utc(2026, 3, 4, 16), [(1, "30.00", "0")], customer="c4")
        refresh_store(wh, "s")
    third = _replica(sales_url, redis_url, prefix)
    assert third["computed"] == 1
    assert third["summary"]["net_sales"] == "262.5000"
    assert third["summary"]["orders"] == "5"
    assert len(_keys(redis_url, f"{prefix}:q")) == 2


calls: list[str] = []


def frame_and_money(wh, store_id, tag=""):
    calls.append(store_id)
    frame = pl.DataFrame(
        {"day": [dt.date(2026, 3, 1), dt.date(2026, 3, 2)], "net": [Decimal("10.1000"), Decimal("-0.0100")],
         "note": ["a", None]},
        schema={"day": pl.Date, "net": pl.Decimal(18, 4), "note": pl.String},
    )
    return frame, {"net": Decimal("232.50"), "rate": Decimal("0.0833"), "orders": 4}


@pytest.fixture
def store(tmp_path, monkeypatch):
    """The hand-built sales store; every call asks for the data version again."""
    monkeypatch.setattr(cache, "VERSION_TTL", 0)
    calls.clear()
    wh = connect(f"duckdb:///{tmp_path / 'cache.duckdb'}")
    build_sales_store(wh)
    yield wh
    wh.close()


def _forget_in_process() -> None:
    """Empty this process's own cache, as a replica that never saw the figure has it."""
    cache._cached.clear()
    cache._cached_global.clear()


def test_frames_and_decimals_come_back_from_redis_exactly(store, prefix, redis_url):
    frame, money = cache.cached_query(frame_and_money, store, "s")
    _forget_in_process()
    again, again_money = cache.cached_query(frame_and_money, store, "s")
    assert calls == ["s"]  # the second answer came from Redis
    assert again.schema == frame.schema
    assert again.equals(frame)
    assert again["net"].to_list() == [Decimal("10.1000"), Decimal("-0.0100")]
    assert again_money == money
    # Decimal("232.50") == Decimal("232.5"): compare the digits too.
    assert {k: str(v) for k, v in again_money.items()} == {"net": "232.50", "rate": "0.0833", "orders": "4"}


def test_two_independent_caches_share_nothing_but_redis(prefix, redis_url):
    one, other = SharedCache(redis_url, prefix), SharedCache(redis_url, prefix)
    parts = ("fn", "duckdb:///x", "s", ("4", "232.5"), (START, END), ())
    computed = []
    one.get_or_compute(parts, lambda: computed.append(1) or {"net": Decimal("1.50")}, 60, 0)
    value = other.get_or_compute(parts, lambda: computed.append(2) or "never", 60, 0)
    assert value == {"net": Decimal("1.50")} and computed == [1]
    # Another generation (after a clear) is another key.
    assert other.get_or_compute(parts, lambda: computed.append(3) or "fresh", 60, 1) == "fresh"
    assert computed == [1, 3]


def test_keys_do_not_depend_on_set_or_dict_order(redis_url):
    layer = SharedCache(redis_url, "p")
    a = layer.key(0, ("fn", frozenset({"pos", "online_store", "web"}), {"b": 1, "a": Decimal("2.0")}))
    b = layer.key(0, ("fn", frozenset({"web", "pos", "online_store"}), {"a": Decimal("2.0"), "b": 1}))
    assert a == b
    # 2.0 and 2.00 are different arguments; so are 1 and "1" and True.
    assert layer.key(0, (Decimal("2.0"),)) != layer.key(0, (Decimal("2.00"),))
    assert len({layer.key(0, (1,)), layer.key(0, ("1",)), layer.key(0, (True,))}) == 3
    with pytest.raises(Unshareable):
        layer.key(0, (object(),))


def test_an_argument_without_a_canonical_form_is_cached_in_the_process_only(store, prefix, redis_url):
    class Opaque:
        def __hash__(self):
            return 1

        def __eq__(self, other):
            return isinstance(other, Opaque)

        def __reduce__(self):
            return (Opaque, ())

    def with_opaque(wh, store_id, token):
        calls.append(store_id)
        return 7

    assert cache.cached_query(with_opaque, store, "s", Opaque()) == 7
    assert cache.cached_query(with_opaque, store, "s", Opaque()) == 7
    assert calls == ["s"]
    assert _keys(redis_url, f"{prefix}:q") == []


def test_clear_removes_only_this_apps_keys(store, prefix, redis_url):
    import redis

    client = redis.Redis.from_url(redis_url)
    neighbour = f"{prefix}-neighbour:q:keep"
    client.set(neighbour, b"1", ex=60)
    try:
        cache.cached_query(frame_and_money, store, "s")
        cache.cached_warehouse_query(lambda wh: ["s"], store)
        assert len(_keys(redis_url, f"{prefix}:q")) == 2
        cache.clear()
        assert _keys(redis_url, f"{prefix}:q") == []
        assert client.get(neighbour) == b"1"
        # The generation moved on, so the other processes' own caches miss too.
        assert client.get(f"{prefix}:generation") == b"2"  # the fixture cleared once before the test
        cache.cached_query(frame_and_money, store, "s")
        assert calls == ["s", "s"]
    finally:
        client.delete(neighbour)


def test_a_clear_on_another_replica_reaches_this_ones_own_cache(store, prefix, redis_url):
    cache.cached_query(frame_and_money, store, "s")
    cache.cached_query(frame_and_money, store, "s")
    assert calls == ["s"]
    SharedCache(redis_url, prefix).clear()  # another process clears (after a customer refresh)
    cache.cached_query(frame_and_money, store, "s")
    assert calls == ["s", "s"]


def test_keys_expire_after_the_ttl(store, prefix, redis_url):
    import redis

    cache.cached_query(frame_and_money, store, "s")
    cache.cached_warehouse_query(lambda wh: ["s"], store, seconds=10)
    client = redis.Redis.from_url(redis_url)
    ttls = sorted(client.ttl(name) for name in _keys(redis_url, f"{prefix}:q"))
    assert 0 < ttls[0] <= 10
    assert cache.TTL_SECONDS - 5 < ttls[1] <= cache.TTL_SECONDS


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_redis_on_a_closed_port_computes_with_one_warning_and_no_password(store, monkeypatch, caplog):
    port = _free_port()
    monkeypatch.setenv("REDIS_URL", f"redis://:hunter2-secret@127.0.0.1:{port}/0")
    cache.clear()
    with caplog.at_level(logging.WARNING, logger="ui.cache"):
        summaries = [cache.cached_query(sales_summary, store, "s", START, END) for _ in range(3)]
        _forget_in_process()
        daily = cache.cached_query(sales_over_time, store, "s", START, END)
    assert [s["net_sales"] for s in summaries] == [Decimal("232.5000")] * 3
    assert len(daily) == 6
    warnings = [r.getMessage() for r in caplog.records if r.name == "ui.cache"]
    assert len(warnings) == 1, warnings
    assert f"127.0.0.1:{port}" in warnings[0] and "hunter2" not in warnings[0]
    assert "is not answering" in cache.shared_status() and "hunter2" not in cache.shared_status()


def test_a_bad_redis_url_is_one_clear_sentence(store, monkeypatch, caplog):
    monkeypatch.setenv("REDIS_URL", "http://:hunter2-secret@cache.example:6379")
    with caplog.at_level(logging.WARNING, logger="ui.cache"):
        cache.clear()
        assert cache.cached_query(sales_summary, store, "s", START, END)["orders"] == 4
        assert cache.cached_query(sales_summary, store, "s", START, END)["orders"] == 4
    warnings = [r.getMessage() for r in caplog.records if r.name == "ui.cache"]
    assert len(warnings) == 1, warnings
    assert warnings[0].startswith("REDIS_URL 'http://:***@cache.example:6379' is not understood")
    assert "hunter2" not in warnings[0]
    assert cache.shared_status() == warnings[0]


@pytest.fixture
def private_redis():
    """A redis-server of this test's own on a free port: (start, stop) and its URL."""
    binary = shutil.which("redis-server")
    if binary is None:
        _unreachable("redis-server is not installed")
    port = _free_port()
    procs: list[subprocess.Popen] = []

    def start() -> None:
        procs.append(subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                       "--appendonly", "no"], stdout=subprocess.DEVNULL))
        for _ in range(100):
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", port)) == 0:
                    return
            time.sleep(0.05)
        raise RuntimeError("the private redis-server did not start")

    def stop() -> None:
        proc = procs[-1]
        proc.terminate()
        proc.wait(10)

    yield start, stop, f"redis://127.0.0.1:{port}/0"
    for proc in procs:
        if proc.poll() is None:
            proc.terminate()
            proc.wait(10)


def test_redis_stopped_then_back(store, private_redis, monkeypatch, caplog):
    start, stop, url = private_redis
    start()
    monkeypatch.setenv("REDIS_URL", url)
    monkeypatch.setattr(shared_cache, "KEY_PREFIX", "test-stopped")
    monkeypatch.setattr(shared_cache, "GENERATION_TTL", 0)
    cache.clear()
    layer = cache.shared()
    cache.cached_query(frame_and_money, store, "s")
    assert calls == ["s"]

    stop()
    with caplog.at_level(logging.WARNING, logger="ui.cache"):
        _forget_in_process()
        for _ in range(3):
            frame, money = cache.cached_query(frame_and_money, store, "s", "other")
        assert money["net"] == Decimal("232.50")
    assert [r.levelno for r in caplog.records if r.name == "ui.cache"] == [logging.WARNING]
    computed = len(calls)

    # Back up (empty: it keeps nothing): after the pause the next figure is shared again.
    start()
    layer._down_until = 0.0  # the pause is over
    _forget_in_process()
    cache.cached_query(frame_and_money, store, "s", "third")
    _forget_in_process()
    cache.cached_query(frame_and_money, store, "s", "third")
    assert len(calls) == computed + 1
    assert len(_keys(url, "test-stopped:q")) == 1
    cache.clear()
    assert _keys(url, "test-stopped:q") == []


def test_the_sales_page_renders_with_redis_and_leaves_its_figures_there(app_store, prefix, redis_url, monkeypatch):
    app_store(build_sales_store)
    at = app("pages/sales.py", filters_preset="custom", filters_custom=(START, END))
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    stored = _keys(redis_url, f"{prefix}:q")
    assert len(stored) >= 5
    net = next(m.value for m in at.metric if m.label == "Net sales")
    assert net == "$232.50"

    # Another replica (an empty cache of its own) renders the same page from Redis.
    _forget_in_process()
    written = []
    put = SharedCache.put
    monkeypatch.setattr(SharedCache, "put", lambda self, key, *rest: written.append(key) or put(self, key, *rest))
    again = app("pages/sales.py", filters_preset="custom", filters_custom=(START, END))
    again.run()
    assert not again.exception, [e.value for e in again.exception]
    assert next(m.value for m in again.metric if m.label == "Net sales") == "$232.50"
    # It read the figures stored by the first render; only those keyed on the clock may be new: the
    # live panel's minute and the list of stores' 10-second stamp.
    after = _keys(redis_url, f"{prefix}:q")
    assert set(stored) <= set(after)
    assert len(after) - len(stored) <= 2
    assert len(written) <= 2  # computed (then written) again: at most those two
