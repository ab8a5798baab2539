"""Choices users make in the app, kept in the warehouse (``app_settings``).

Deployment settings (keys, addresses) come from the environment or
``.streamlit/secrets.toml`` (:mod:`data.settings`) and are never stored here.
These are the choices a user makes on a page: alert thresholds, the insights
provider, a service level. Values are JSON; ``scope`` is ``""`` for the whole
app or a store id.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from data.warehouse import Warehouse

__all__ = ["get_choice", "get_choices", "set_choice"]


def get_choice(wh: Warehouse, name: str, default: Any = None, *, scope: str = "") -> Any:
    """The stored value of ``name`` in ``scope``, or ``default`` when none was saved."""
    rows = wh.rows("SELECT CAST(value AS TEXT) FROM app_settings WHERE scope = :scope AND name = :name",
                   {"scope": scope, "name": name})
    if not rows or rows[0][0] is None:
        return default
    return json.loads(rows[0][0])


def get_choices(wh: Warehouse, prefix: str = "", *, scope: str = "") -> dict[str, Any]:
    """Every stored choice of ``scope`` whose name starts with ``prefix``."""
    rows = wh.rows("SELECT name, CAST(value AS TEXT) FROM app_settings WHERE scope = :scope "
                   "AND substr(name, 1, :n) = :prefix ORDER BY name",
                   {"scope": scope, "n": len(prefix), "prefix": prefix})
    return {name: json.loads(value) for name, value in rows if value is not None}


def set_choice(wh: Warehouse, name: str, value: Any, *, scope: str = "", by: str | None = None) -> None:
    """Save ``value`` (JSON-serializable) as ``name`` in ``scope``, replacing an earlier one."""
    wh.execute(
        "INSERT INTO app_settings (scope, name, value, updated_at, updated_by) "
        "VALUES (:scope, :name, CAST(:value AS JSON), :at, :by) "
        "ON CONFLICT (scope, name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at, "
        "updated_by = excluded.updated_by",
        {"scope": scope, "name": name, "value": json.dumps(value, sort_keys=True),
         "at": dt.datetime.now(dt.timezone.utc), "by": by},
    )
