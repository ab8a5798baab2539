"""Is the warehouse there? The readiness checks, and the sentence for a warehouse that cannot be reached.

:func:`readiness` runs the checks the readiness routes answer with (the
app's ``/health/ready``, the worker's ``/health``): each part, whether it
is ok, and in one sentence what is wrong with it. :func:`unreachable` tells a
caller whether an error means the warehouse cannot be reached or opened
(the server is down, refuses connections, the file is held elsewhere), so
it can answer "try again later" instead of failing.
"""

from __future__ import annotations

import logging
from typing import Any, Callable, Mapping

import sqlalchemy as sa

from data.warehouse import Warehouse, WarehouseError, redact_url

log = logging.getLogger(__name__)


def unreachable(exc: BaseException) -> str | None:
    """One line saying why the warehouse cannot be used when ``exc`` means it cannot be reached, else None."""
    if isinstance(exc, WarehouseError):
        return str(exc).strip().splitlines()[0] if str(exc).strip() else exc.__class__.__name__
    if isinstance(exc, (sa.exc.OperationalError, sa.exc.InterfaceError)) or (
            isinstance(exc, sa.exc.DBAPIError) and exc.connection_invalidated):
        orig = getattr(exc, "orig", None)
        text = str(orig if orig is not None else exc).strip()
        return redact_url(text.splitlines()[0]) if text else exc.__class__.__name__
    try:
        import duckdb
    except ImportError:  # pragma: no cover - duckdb is a dependency
        return None
    if isinstance(exc, (duckdb.IOException, duckdb.ConnectionException)):
        return str(exc).strip().splitlines()[0]
    return None


def _pending_migrations(wh: Warehouse) -> list[str]:
    from data.migrations import PYTHON_STEPS, migration_files

    expected = [p.name for p in migration_files(wh.dialect)]
    expected += [name for name, dialect, _ in PYTHON_STEPS if dialect in (wh.dialect, "any")]
    done = {r[0] for r in wh.rows("SELECT name FROM schema_migrations")}
    return [name for name in expected if name not in done]


Part = Callable[[], tuple[bool, str]]


def readiness(get_warehouse: Callable[[], Warehouse],
              more: Mapping[str, Part] | None = None) -> tuple[bool, dict[str, Any]]:
    """(ready, the answer's JSON): the warehouse answers a query, its schema is the code's, and each
    of ``more`` (name -> a function returning (ok, sentence)) is ok.

    Each part is ``{"ok": bool, "detail": sentence}``; a part that could not
    be checked because an earlier one failed has ``"ok": null`` and says so.
    ``"failed"`` lists the parts that failed.
    """
    parts: dict[str, dict[str, Any]] = {}
    try:
        wh = get_warehouse()
        wh.scalar("SELECT 1")
    except Exception as exc:  # noqa: BLE001 - any failure here is the answer, not a crash
        reason = unreachable(exc) or exc.__class__.__name__
        parts["warehouse"] = {"ok": False, "detail": f"The warehouse does not answer: {reason}"}
        parts["schema"] = {"ok": None, "detail": "Not checked: the warehouse does not answer."}
    else:
        parts["warehouse"] = {"ok": True, "detail": f"The {wh.dialect} warehouse answers."}
        try:
            pending = _pending_migrations(wh)
        except Exception as exc:  # noqa: BLE001
            parts["schema"] = {"ok": False, "detail": f"The schema could not be read: {exc.__class__.__name__}."}
        else:
            parts["schema"] = {"ok": not pending, "detail": (
                "Every migration is applied." if not pending else
                f"{len(pending)} migration(s) not applied ({', '.join(pending[:3])}): restart the app or the "
                "worker, which apply them as they open the warehouse.")}
    for name, check in (more or {}).items():
        try:
            ok, detail = check()
        except Exception as exc:  # noqa: BLE001
            ok, detail = False, f"The check failed: {exc.__class__.__name__}: {exc}"
        parts[name] = {"ok": ok, "detail": detail}
    ready = all(part["ok"] is True for part in parts.values())
    failed = [name for name, part in parts.items() if part["ok"] is False]
    return ready, {"status": "ready" if ready else "not ready", "failed": failed, "checks": parts}
