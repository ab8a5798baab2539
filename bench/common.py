"""Shared bits of the benchmarks: JSON lines, peak memory, scratch warehouses."""

from __future__ import annotations

import contextlib
import json
import os
import platform
import resource
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Iterator

PG_ADMIN_URL = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def emit(**fields) -> None:
    """Print one JSON line (what `make bench` shows and the README table is built from)."""
    fields.setdefault("peak_rss_mb", peak_rss_mb())
    print(json.dumps(fields, default=str), flush=True)


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MB."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def machine() -> dict:
    return {
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "machine": platform.machine(),
        "system": f"{platform.system()} {platform.release()}",
    }


@contextlib.contextmanager
def timer() -> Iterator[dict]:
    box: dict = {}
    start = time.perf_counter()
    try:
        yield box
    finally:
        box["seconds"] = round(time.perf_counter() - start, 3)


@contextlib.contextmanager
def scratch_url(backend: str) -> Iterator[str]:
    """An empty warehouse URL on ``backend`` ('duckdb' or 'postgres'), removed afterwards."""
    if backend == "duckdb":
        with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
            yield f"duckdb:///{Path(tmp) / 'bench.duckdb'}"
        return
    import sqlalchemy as sa

    from data.postgres_backend import sqlalchemy_url

    name = f"bench_{uuid.uuid4().hex[:8]}"
    engine = sa.create_engine(sqlalchemy_url(PG_ADMIN_URL), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield f"{PG_ADMIN_URL.rsplit('/', 1)[0]}/{name}"
    finally:
        with engine.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        engine.dispose()


def fail(message: str) -> None:
    print(json.dumps({"error": message}), flush=True)
    sys.exit(1)
