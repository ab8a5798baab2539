"""``python -m auth COMMAND``: the first-run setup and managing users from a shell.

Passwords are never typed on a command line (shell history keeps them): the
commands that set one generate it and print it once.
"""

from __future__ import annotations

import argparse
import sys

from auth.keys import CookieKeyError, ensure_cookie_key
from auth.users import ROLES, UserError, UserStore
from data.logs import configure_logging


def _show_password(username: str, password: str, why: str) -> None:
    print(f"{why}\n\n    username: {username}\n    password: {password}\n\n"
          "This password is shown once and stored only as a bcrypt hash. "
          "Change it any time with: python -m auth reset-password " + username)


def setup(args) -> int:
    if ensure_cookie_key():
        print("Wrote a new random AUTH_COOKIE_KEY into .streamlit/secrets.toml.")
    store = UserStore()
    password = store.ensure_owner(args.owner)
    if password is not None:
        _show_password(args.owner, password, f"Created the first owner account in {store.path}:")
    return 0


def add(args) -> int:
    store = UserStore()
    password = store.add(args.username, role=args.role, name=args.name, stores=args.stores)
    _show_password(args.username.strip().lower(), password, f"Added {args.role} {args.username.strip().lower()}:")
    return 0


def reset_password(args) -> int:
    store = UserStore()
    password = store.set_password(args.username)
    _show_password(args.username.strip().lower(), password, "New password (remembered logins were ended):")
    return 0


def set_role(args) -> int:
    UserStore().set_role(args.username, args.role)
    print(f"{args.username.strip().lower()} is now {args.role}.")
    return 0


def remove(args) -> int:
    UserStore().remove(args.username)
    print(f"Removed {args.username.strip().lower()}.")
    return 0


def set_stores(args) -> int:
    UserStore().set_stores(args.username, args.stores)
    name = args.username.strip().lower()
    print(f"{name} now sees {', '.join(sorted(set(args.stores)))}." if args.stores else f"{name} now sees every store.")
    return 0


def list_users(_args) -> int:
    for user in UserStore().users():
        stores = f"\tstores: {','.join(user.stores)}" if user.limited else ""
        print(f"{user.username}\t{user.role}\t{user.name}{stores}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m auth", description="Set up the login and manage users.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    p = sub.add_parser("setup", help="write a cookie key when none is set; create the first owner when there is no user")
    p.add_argument("--owner", default="owner", help="the first owner's username (default: owner)")
    p.set_defaults(func=setup)
    p = sub.add_parser("add", help="add a user with a generated password, printed once")
    p.add_argument("username")
    p.add_argument("--role", choices=ROLES, default="analyst")
    p.add_argument("--name", help="the name shown in the app (default: the username)")
    p.add_argument("--stores", nargs="+", metavar="STORE_ID", help="an analyst sees only these stores")
    p.set_defaults(func=add)
    p = sub.add_parser("set-stores", help="limit an analyst to some stores (none named: every store again)")
    p.add_argument("username")
    p.add_argument("stores", nargs="*", metavar="STORE_ID")
    p.set_defaults(func=set_stores)
    p = sub.add_parser("reset-password", help="give a user a new generated password, printed once")
    p.add_argument("username")
    p.set_defaults(func=reset_password)
    p = sub.add_parser("set-role", help="make a user an owner or an analyst")
    p.add_argument("username")
    p.add_argument("role", choices=ROLES)
    p.set_defaults(func=set_role)
    p = sub.add_parser("remove", help="remove a user (never the last owner)")
    p.add_argument("username")
    p.set_defaults(func=remove)
    p = sub.add_parser("list", help="list users and their roles")
    p.set_defaults(func=list_users)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    configure_logging()
    try:
        return int(args.func(args) or 0)
    except (UserError, CookieKeyError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
