"""Saving settings into ``.streamlit/secrets.toml``: the one way the app writes that file.

:func:`update_secrets` sets and removes top-level keys and keeps everything
else in the file (other keys, tables, comments) as it was. The new text is
checked by reading it back before it replaces the old one, written to a
temporary file of the same folder (owner-only, mode 0600) and moved over it
in one step, so a reader sees the old file or the new one, never half of
one. :func:`data.settings.setting` notices the change at its next call. No
value is ever logged or put in an error message.
"""

from __future__ import annotations

import os
import re
import tempfile
import threading
import tomllib
from pathlib import Path
from typing import Iterable, Mapping

from data import settings

MODE = 0o600
_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}
_TABLE = re.compile(r"^\s*\[")
_lock = threading.Lock()


class SecretsFileError(Exception):
    """secrets.toml cannot be changed, in one sentence (never a value)."""


def toml_string(value: str) -> str:
    """``value`` as a TOML basic string."""
    out = []
    for ch in value:
        if ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04X}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _key_line(name: str) -> re.Pattern[str]:
    quoted = re.escape(name)
    return re.compile(rf"^\s*(?:{quoted}|\"{quoted}\"|'{quoted}')\s*=")


def edited_text(text: str, values: Mapping[str, str], remove: Iterable[str] = ()) -> str:
    """``text`` with the top-level keys of ``values`` set and those of ``remove`` gone; the rest kept.

    SecretsFileError when the file is not valid TOML or the result would change anything else.
    """
    try:
        before = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        raise SecretsFileError(f"{settings.SECRETS_PATH} is not valid TOML, so it was left as it is: "
                               "correct it by hand first.") from None
    names = set(values) | set(remove)
    for name in names:
        if name in before and not isinstance(before[name], (str, int, float, bool)):
            raise SecretsFileError(f"{name} in {settings.SECRETS_PATH} is a table or a list, so it was left as "
                                   "it is: change it by hand.")
    lines = text.splitlines(keepends=True)
    top = next((i for i, line in enumerate(lines) if _TABLE.match(line)), len(lines))
    patterns = [_key_line(name) for name in names]
    head = [line for line in lines[:top] if not any(p.match(line) for p in patterns)]
    if head and not head[-1].endswith("\n"):
        head[-1] += "\n"
    added = [f"{name} = {toml_string(value)}\n" for name, value in values.items()]
    gap = ["\n"] if top < len(lines) and added else []
    new_text = "".join(head + added + gap + lines[top:])
    expected = {k: v for k, v in before.items() if k not in names}
    expected.update(values)
    try:
        after = tomllib.loads(new_text)
    except tomllib.TOMLDecodeError:
        after = None
    if after != expected:
        raise SecretsFileError(f"{settings.SECRETS_PATH} is laid out in a way the app cannot edit safely "
                               "(a value over several lines?), so it was left as it is: change it by hand.")
    return new_text


def write_private(path: Path, text: str) -> None:
    """Replace ``path`` by ``text`` in one step, readable and writable by its owner only.

    A symbolic link is followed (the container links .streamlit/secrets.toml to the data volume): the
    file it points to is replaced, in its own folder, and the link stays."""
    path = path.resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(prefix=".secrets-", suffix=".tmp", dir=path.parent)  # mode 0600
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(temp, MODE)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def update_secrets(values: Mapping[str, str] | None = None, remove: Iterable[str] = ()) -> Path:
    """Set the keys of ``values`` and delete those of ``remove`` in secrets.toml; its path.

    Only settings of the settings table may be written. SecretsFileError in one sentence.
    """
    values = dict(values or {})
    remove = [name for name in remove if name not in values]
    unknown = sorted(name for name in [*values, *remove] if name not in settings.BY_NAME)
    if unknown:
        raise SecretsFileError(f"{', '.join(unknown)} is not a setting of the app.")
    path = settings.SECRETS_PATH
    with _lock:
        try:
            text = path.read_text(encoding="utf-8") if path.exists() else ""
        except OSError as exc:
            raise SecretsFileError(f"{path} could not be read ({exc.strerror or exc.__class__.__name__}).") from None
        new_text = edited_text(text, values, remove)
        try:
            write_private(path, new_text)
        except OSError as exc:
            raise SecretsFileError(f"{path} could not be written ({exc.strerror or exc.__class__.__name__}).") \
                from None
        settings._load_secrets.cache_clear()  # the stat would tell too; this spares a same-size, same-time write
    return path
