"""``python -m data bi-user NAME``: a read-only PostgreSQL login for BI tools, that sees only the bi_* views.

The role gets a generated password (printed once, never stored or logged),
CONNECT on the database, USAGE on the warehouse's schema and SELECT on the
``bi_*`` views, nothing on the tables (a view reads them with its owner's
rights), and every transaction it opens is read-only. ``--reset-password``
gives an existing role a new password; ``--drop`` removes the role and its
grants. The embedded DuckDB file has no logins: BI tools read its Parquet
export instead (``python -m data export parquet``, ``PARQUET_EXPORT_DIR``).
"""

from __future__ import annotations

import argparse
import re
import secrets

from data.bi_views import VIEWS
from data.warehouse import Warehouse, WarehouseError, connect

_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "bi-user", help="create a read-only PostgreSQL login that sees only the bi_* views",
        description="Create the PostgreSQL role NAME with a generated password (shown once), allowed to read "
                    "the bi_* views of the warehouse and nothing else.")
    parser.add_argument("name", metavar="NAME", help="role name: lower-case letters, digits and _")
    action = parser.add_mutually_exclusive_group()
    action.add_argument("--reset-password", action="store_true", help="give an existing role a new password")
    action.add_argument("--drop", action="store_true", help="remove the role and its grants")
    parser.add_argument("--db", help="warehouse URL (default: DATABASE_URL)")
    parser.set_defaults(func=run)


def _schema(wh: Warehouse) -> str:
    return getattr(wh, "schema", None) or "public"


def _check(wh: Warehouse, name: str) -> None:
    if wh.dialect != "postgres":
        raise WarehouseError("the embedded DuckDB warehouse has no logins: BI tools read its Parquet export "
                             "(python -m data export parquet DIR, or PARQUET_EXPORT_DIR while the app runs).")
    if not _NAME.fullmatch(name):
        raise WarehouseError(f"role name {name!r} must be lower-case letters, digits and _ (63 at most), "
                             "starting with a letter or _.")


def _exists(wh: Warehouse, name: str) -> bool:
    return bool(wh.scalar("SELECT count(*) FROM pg_roles WHERE rolname = :n", {"n": name}))


def create_bi_user(wh: Warehouse, name: str, *, reset_password: bool = False) -> str:
    """Create role ``name`` (or give it a new password) with read access to the bi_* views; its password."""
    _check(wh, name)
    password = secrets.token_urlsafe(24)  # letters, digits, - and _: safe inside the quotes below
    schema = _schema(wh)
    try:
        with wh.transaction():
            exists = _exists(wh, name)
            if exists and not reset_password:
                raise WarehouseError(f"role {name} already exists: add --reset-password to give it a new one, "
                                     "or --drop to remove it.")
            if reset_password and not exists:
                raise WarehouseError(f"role {name} does not exist: run without --reset-password to create it.")
            verb = "ALTER" if exists else "CREATE"
            wh.execute(f"{verb} ROLE {name} WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT "
                       f"PASSWORD '{password}'")
            wh.execute(f"ALTER ROLE {name} SET default_transaction_read_only = on")
            wh.execute(f"ALTER ROLE {name} SET search_path = {schema}")
            database = wh.scalar("SELECT current_database()")
            wh.execute(f'GRANT CONNECT ON DATABASE "{database}" TO {name}')
            wh.execute(f"GRANT USAGE ON SCHEMA {schema} TO {name}")
            for view in VIEWS:
                wh.execute(f"GRANT SELECT ON {schema}.{view} TO {name}")
    except WarehouseError:
        raise
    except Exception as exc:  # noqa: BLE001 - the server's reason, in one sentence
        reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
        raise WarehouseError(f"could not create role {name}: {reason} (the warehouse's user needs CREATEROLE).") \
            from None
    return password


def drop_bi_user(wh: Warehouse, name: str) -> None:
    """Remove role ``name`` and what it was granted in this database."""
    _check(wh, name)
    if not _exists(wh, name):
        raise WarehouseError(f"role {name} does not exist.")
    with wh.transaction():
        wh.execute(f"DROP OWNED BY {name}")
        wh.execute(f"DROP ROLE {name}")


def run(args: argparse.Namespace) -> int:
    wh = connect(args.db)
    try:
        if args.drop:
            drop_bi_user(wh, args.name)
            print(f"dropped role {args.name}")
            return 0
        password = create_bi_user(wh, args.name, reset_password=args.reset_password)
        database = wh.scalar("SELECT current_database()")
        schema = _schema(wh)
    finally:
        wh.close()
    print(f"role {args.name} can read {', '.join(VIEWS)} in schema {schema} of database {database}, nothing else.")
    print(f"password (shown this once, store it in your BI tool): {password}")
    return 0
