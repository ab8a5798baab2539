"""Shared fixtures: a fresh warehouse on each backend.

``wh`` runs a test once on DuckDB (a temporary file) and once on PostgreSQL
(a schema of its own in a database created for the test session and dropped
after it). Without a reachable PostgreSQL the Postgres cases skip, except
with ``CI=true``, where they fail. A third case runs on a PostgreSQL server
with TimescaleDB preloaded when ``TEST_TIMESCALE_URL`` names one (an admin URL
like ``TEST_POSTGRES_URL``); without it that case skips.
"""

from __future__ import annotations

import itertools
import os
import uuid
from pathlib import Path

import pytest

from data.warehouse import Warehouse, connect

# No test reaches the ECB: a refresh is tested against a local server, named explicitly.
os.environ["FX_REFRESH"] = "off"
PG_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
TS_ADMIN_URL = os.environ.get("TEST_TIMESCALE_URL", "").strip()
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
_schemas = itertools.count()


def _admin_engine(admin_url: str = PG_ADMIN_URL):
    import sqlalchemy as sa

    from data.postgres_backend import sqlalchemy_url

    return sa.create_engine(sqlalchemy_url(admin_url), isolation_level="AUTOCOMMIT",
                            connect_args={"connect_timeout": 5})


def _session_database(admin_url: str):
    """A database created on ``admin_url``'s server for this test session, dropped at its end."""
    import sqlalchemy as sa

    name = f"ecom_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    try:
        engine = _admin_engine(admin_url)
        with engine.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # noqa: BLE001 - any failure to reach the server
        message = f"PostgreSQL is not reachable at {admin_url}: {exc.__class__.__name__}: {exc}"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    base = admin_url.rsplit("/", 1)[0]
    yield f"{base}/{name}"
    with engine.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


@pytest.fixture(scope="session")
def pg_database_url():
    """A database created for this test session, dropped at its end."""
    yield from _session_database(PG_ADMIN_URL)


@pytest.fixture(scope="session")
def ts_database_url():
    """A database on the TimescaleDB server of ``TEST_TIMESCALE_URL`` for this session."""
    if not TS_ADMIN_URL:
        pytest.skip("TEST_TIMESCALE_URL is not set: no TimescaleDB server to test on")
    yield from _session_database(TS_ADMIN_URL)


@pytest.fixture
def pg_url(pg_database_url):
    """A fresh, empty schema in the session's test database."""
    return f"{pg_database_url}?schema=t{os.getpid()}_{next(_schemas)}"


@pytest.fixture
def ts_url(ts_database_url):
    """A fresh, empty schema in the session's TimescaleDB test database."""
    return f"{ts_database_url}?schema=t{os.getpid()}_{next(_schemas)}"


@pytest.fixture
def duckdb_url(tmp_path: Path) -> str:
    return f"duckdb:///{tmp_path / 'warehouse.duckdb'}"


@pytest.fixture(params=["duckdb", "postgres", "timescale"])
def backend_url(request) -> str:
    """The URL of an empty warehouse on each backend in turn."""
    if request.param == "duckdb":
        return request.getfixturevalue("duckdb_url")
    if request.param == "timescale":
        return request.getfixturevalue("ts_url")
    return request.getfixturevalue("pg_url")


@pytest.fixture
def wh(backend_url) -> Warehouse:
    """A migrated, empty warehouse on each backend in turn."""
    warehouse = connect(backend_url)
    yield warehouse
    warehouse.close()


def module_backend_url(request, tmp_path_factory, name: str) -> str:
    """For a module-scoped fixture parametrized over duckdb/postgres/timescale: an empty warehouse URL
    (a DuckDB file, or a schema of its own in the session's PostgreSQL or TimescaleDB database)."""
    if request.param == "duckdb":
        return f"duckdb:///{tmp_path_factory.mktemp(name) / 'warehouse.duckdb'}"
    database = request.getfixturevalue("pg_database_url" if request.param == "postgres" else "ts_database_url")
    return f"{database}?schema={name}_{os.getpid()}_{next(_schemas)}"
