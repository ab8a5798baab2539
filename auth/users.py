"""The users file: usernames, display names, roles and bcrypt password hashes, outside git.

The file has the layout streamlit-authenticator reads
(``credentials: usernames: {name: {name, password, roles}}``), plus, per user,
``sessions_valid_after``: a login cookie issued before that moment (a logout,
a password reset) is no longer accepted; and, for an analyst, ``stores``: the
store ids they may see (absent or empty: every store; an owner sees every
store whatever it says). Every change rewrites the file
atomically with owner-only permissions. Passwords are never stored or printed
except the generated ones, shown once to whoever created them.
"""

from __future__ import annotations

import os
import re
import secrets
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import bcrypt
import yaml

from data.settings import setting

ROOT = Path(__file__).resolve().parent.parent
ROLES = ("owner", "analyst")
ROUNDS = 12  # bcrypt cost of every stored hash (about a quarter of a second per check)
MIN_PASSWORD = 12
MAX_PASSWORD_BYTES = 72  # bcrypt reads no further
USERNAME = re.compile(r"[a-z0-9][a-z0-9._@-]{0,63}")

_lock = threading.Lock()
_dummy_hash: bytes | None = None


class UserError(Exception):
    """Something asked of the users file that cannot be done, in one sentence."""


@dataclass(frozen=True)
class User:
    username: str
    name: str
    role: str
    stores: tuple[str, ...] = ()  # an analyst's stores; empty: every store

    @property
    def is_owner(self) -> bool:
        return self.role == "owner"

    @property
    def limited(self) -> bool:
        """Whether this user sees only some stores."""
        return not self.is_owner and bool(self.stores)

    def may_see(self, store_id: str) -> bool:
        return not self.limited or store_id in self.stores


def credentials_path() -> Path:
    """Where the users file is (the AUTH_CREDENTIALS_FILE setting; relative to the project folder)."""
    path = Path(setting("AUTH_CREDENTIALS_FILE") or ".streamlit/credentials.yaml").expanduser()
    return path if path.is_absolute() else ROOT / path


def normalize(username: str) -> str:
    return (username or "").strip().lower()


def generate_password() -> str:
    """A random password of 20 URL-safe characters (about 120 bits)."""
    return secrets.token_urlsafe(15)


def hash_password(password: str, rounds: int | None = None) -> str:
    check_password_rules(password)
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds or ROUNDS)).decode()


def check_password_rules(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise UserError(f"A password needs at least {MIN_PASSWORD} characters.")
    if len(password.encode()) > MAX_PASSWORD_BYTES:
        raise UserError(f"A password may have at most {MAX_PASSWORD_BYTES} bytes.")


def _dummy() -> bytes:
    """A hash of a random password at the stored cost: unknown users are checked against it."""
    global _dummy_hash
    if _dummy_hash is None:
        _dummy_hash = bcrypt.hashpw(secrets.token_bytes(16), bcrypt.gensalt(ROUNDS))
    return _dummy_hash


class UserStore:
    """The users file at ``path`` (by default :func:`credentials_path`)."""

    def __init__(self, path: Path | None = None, rounds: int | None = None):
        self.path = Path(path) if path is not None else credentials_path()
        self.rounds = rounds or ROUNDS

    # -- reading ---------------------------------------------------------
    def _load(self) -> dict:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {"credentials": {"usernames": {}}}
        try:
            data = yaml.safe_load(text) or {}
        except yaml.YAMLError:
            raise UserError(f"The users file {self.path} is not valid YAML; fix it or move it away "
                            "and run python -m auth setup.") from None
        data.setdefault("credentials", {})
        if not isinstance(data["credentials"].get("usernames"), dict):
            data["credentials"]["usernames"] = {}
        return data

    def _records(self) -> dict[str, dict]:
        return self._load()["credentials"]["usernames"]

    @staticmethod
    def _user(username: str, record: dict) -> User:
        roles = record.get("roles") or []
        role = "owner" if "owner" in roles else "analyst"
        stores = record.get("stores") or []
        stores = tuple(sorted({str(s) for s in stores})) if isinstance(stores, list) else ()
        return User(username, str(record.get("name") or username), role, stores)

    def users(self) -> list[User]:
        return [self._user(name, record) for name, record in sorted(self._records().items())]

    def get(self, username: str) -> User | None:
        record = self._records().get(normalize(username))
        return None if record is None else self._user(normalize(username), record)

    def owners(self) -> list[User]:
        return [u for u in self.users() if u.is_owner]

    def sessions_valid_after(self, username: str) -> float:
        record = self._records().get(normalize(username)) or {}
        return float(record.get("sessions_valid_after") or 0)

    def credentials(self) -> dict:
        """The ``credentials`` mapping in streamlit-authenticator's shape (hashes, names, roles)."""
        return {"usernames": {
            name: {"name": r.get("name") or name, "password": r.get("password"), "roles": list(r.get("roles") or [])}
            for name, r in self._records().items()
        }}

    # -- checking a password ---------------------------------------------
    def verify(self, username: str, password: str) -> User | None:
        """The user, when ``password`` is theirs; otherwise ``None``.

        Exactly one bcrypt check runs whatever the input: an unknown user (or
        an over-long password) is checked against a dummy hash of the same
        cost, so the answer takes the same time either way.
        """
        name = normalize(username)
        record = self._records().get(name)
        stored = (record or {}).get("password")
        candidate = (password or "").encode()
        usable = record is not None and isinstance(stored, str) and len(candidate) <= MAX_PASSWORD_BYTES
        target = stored.encode() if usable else _dummy()
        try:
            ok = bcrypt.checkpw(candidate[:MAX_PASSWORD_BYTES], target)
        except ValueError:  # a malformed stored hash
            ok = False
        return self._user(name, record) if (ok and usable) else None

    # -- changing --------------------------------------------------------
    def _save(self, data: dict) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".credentials-", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                yaml.safe_dump(data, fh, sort_keys=True)
            os.chmod(tmp, 0o600)
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def _change(self, change) -> object:
        with _lock:
            data = self._load()
            result = change(data["credentials"]["usernames"])
            self._save(data)
            return result

    def add(self, username: str, role: str = "analyst", name: str | None = None,
            password: str | None = None, stores: list[str] | tuple[str, ...] | None = None) -> str:
        """Add a user (an analyst limited to ``stores`` when given); returns the password (a generated one
        unless given)."""
        user = normalize(username)
        if not USERNAME.fullmatch(user):
            raise UserError("A username is 1 to 64 letters, digits, dots, dashes, underscores or @, "
                            "starting with a letter or digit.")
        if role not in ROLES:
            raise UserError(f"A role is one of {', '.join(ROLES)}, not {role!r}.")
        password = password or generate_password()
        hashed = hash_password(password, self.rounds)

        def change(records):
            if user in records:
                raise UserError(f"There is already a user {user}.")
            records[user] = {"name": (name or user).strip() or user, "password": hashed, "roles": [role]}
            if stores:
                records[user]["stores"] = self._stores(role, stores)

        self._change(change)
        return password

    def set_stores(self, username: str, stores: list[str] | tuple[str, ...] | None) -> None:
        """Limit an analyst to ``stores`` (empty or None: every store again); their open sessions follow at
        their next click."""
        user = normalize(username)

        def change(records):
            record = self._existing(records, user)
            role = "owner" if "owner" in (record.get("roles") or []) else "analyst"
            if stores:
                record["stores"] = self._stores(role, stores)
            else:
                record.pop("stores", None)

        self._change(change)

    @staticmethod
    def _stores(role: str, stores) -> list[str]:
        if role == "owner":
            raise UserError("An owner sees every store; only an analyst can be limited to some.")
        cleaned = sorted({str(s).strip() for s in stores if str(s).strip()})
        if not cleaned:
            raise UserError("Name at least one store id, or none to let the analyst see every store.")
        return cleaned

    def set_password(self, username: str, password: str | None = None) -> str:
        """Give a user a new password (generated unless given) and end their remembered logins."""
        user = normalize(username)
        password = password or generate_password()
        hashed = hash_password(password, self.rounds)

        def change(records):
            record = self._existing(records, user)
            record["password"] = hashed
            record["sessions_valid_after"] = time.time()

        self._change(change)
        return password

    def set_role(self, username: str, role: str) -> None:
        if role not in ROLES:
            raise UserError(f"A role is one of {', '.join(ROLES)}, not {role!r}.")
        user = normalize(username)

        def change(records):
            record = self._existing(records, user)
            if role != "owner":
                self._keep_an_owner(records, user)
            else:
                record.pop("stores", None)  # an owner sees every store
            record["roles"] = [role]
            record["sessions_valid_after"] = time.time()

        self._change(change)

    def remove(self, username: str) -> None:
        user = normalize(username)

        def change(records):
            self._existing(records, user)
            self._keep_an_owner(records, user)
            del records[user]

        self._change(change)

    def end_sessions(self, username: str) -> None:
        """Refuse from now on every login cookie this user was given before (a logout)."""
        user = normalize(username)

        def change(records):
            self._existing(records, user)["sessions_valid_after"] = time.time()

        self._change(change)

    def ensure_owner(self, username: str = "owner") -> str | None:
        """On a first run (no user at all) create an owner; returns its generated password, else ``None``."""
        with _lock:
            if self._records():
                return None
        try:
            return self.add(username, role="owner", name="Owner")
        except UserError:
            return None  # created meanwhile by another process

    @staticmethod
    def _existing(records: dict, user: str) -> dict:
        if user not in records:
            raise UserError(f"There is no user {user}.")
        return records[user]

    @staticmethod
    def _keep_an_owner(records: dict, user: str) -> None:
        others = [n for n, r in records.items() if n != user and "owner" in (r.get("roles") or [])]
        if "owner" in (records[user].get("roles") or []) and not others:
            raise UserError(f"{user} is the only owner: make another user an owner first.")
