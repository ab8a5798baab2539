"""Logging for every process: the app's server, the worker and each command.

:func:`configure_logging` gives the root logger one handler on stderr (what
``docker logs`` shows), at the level ``LOG_LEVEL`` names (default INFO). Each
event is one line: ``2026-12-08 00:41:07.512 WARNING connectors.sync.runner: …``,
the same shape as the lines Streamlit writes itself (``.streamlit/config.toml``).

Exceptions: a record that carries one (``log.exception``) ends with the
exception's type, message and the place it was raised, on the same line; the
full traceback follows, indented, only at ``LOG_LEVEL=DEBUG``. Newlines inside a
message are written as ``\\n``, so one event never spans lines otherwise.

No secret reaches a line: every value of a setting marked secret (including
the password inside a ``DATABASE_URL`` or ``REDIS_URL``, and the values a
connection test tries before they are saved) is replaced by ``[redacted]``,
in the message and in any traceback, whichever logger wrote it.
"""

from __future__ import annotations

import logging
import sys
import traceback
from typing import Iterable
from urllib.parse import quote, quote_plus, unquote, urlsplit

LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
DEFAULT_LEVEL = "INFO"
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
REDACTED = "[redacted]"
# Secrets shorter than this are not searched for (they would blank out ordinary words).
MIN_SECRET_LENGTH = 4
# Libraries that log every HTTP request (with its URL) at INFO: heard from at DEBUG only.
CHATTY = ("httpx", "httpx2", "httpcore", "urllib3", "openai", "anthropic", "stripe", "pyactiveresource", "uvicorn.access",
          "watchdog")


def _secret_values() -> list[str]:
    """The values of every secret setting as this thread sees them, longest first."""
    from data.settings import SETTINGS, setting

    found: set[str] = set()
    for spec in SETTINGS:
        if not spec.secret:
            continue
        try:
            value = (setting(spec.name) or "").strip()
        except Exception:  # noqa: BLE001 - an unreadable secrets.toml must not stop a log line
            continue
        candidates = [value]
        if "://" in value:
            try:
                password = urlsplit(value).password
            except ValueError:
                password = None
            if password:
                candidates += [password, unquote(password)]
        for candidate in candidates:
            if len(candidate) >= MIN_SECRET_LENGTH:
                found.update({candidate, quote(candidate, safe=""), quote_plus(candidate)})
    return sorted(found, key=len, reverse=True)


def redact(text: str, secrets: Iterable[str] | None = None) -> str:
    """``text`` with every known secret value replaced by ``[redacted]``."""
    for secret in _secret_values() if secrets is None else secrets:
        if secret in text:
            text = text.replace(secret, REDACTED)
    return text


class RedactSecrets(logging.Filter):
    """Rewrites a record's message and traceback text without secret values (never drops a record)."""

    def filter(self, record: logging.LogRecord) -> bool:
        secrets = _secret_values()
        if not secrets:
            return True
        message = record.getMessage()
        clean = redact(message, secrets)
        if clean != message:
            record.msg, record.args = clean, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text, secrets)
        if record.stack_info:
            record.stack_info = redact(record.stack_info, secrets)
        return True


def _raised_at(exc: BaseException) -> str:
    frames = traceback.extract_tb(exc.__traceback__) if exc.__traceback__ else []
    return f" at {frames[-1].filename.rsplit('/', 1)[-1]}:{frames[-1].lineno}" if frames else ""


class OneLineFormatter(logging.Formatter):
    """One line per event; the traceback (indented) only when ``tracebacks``."""

    default_msec_format = "%s.%03d"

    def __init__(self, tracebacks: bool = False) -> None:
        super().__init__(FORMAT)
        self.tracebacks = tracebacks

    def format(self, record: logging.LogRecord) -> str:
        record.message = record.getMessage()
        record.asctime = self.formatTime(record, self.datefmt)
        line = self.formatMessage(record)
        exc = record.exc_info[1] if record.exc_info else None
        if exc is not None:
            line += f" [{type(exc).__name__}: {exc}{_raised_at(exc)}]"
        line = redact(line).rstrip("\r\n").replace("\r\n", "\\n").replace("\n", "\\n")
        if self.tracebacks and (record.exc_info or record.exc_text):
            text = record.exc_text or self.formatException(record.exc_info)
            line += "\n" + "\n".join("    " + part for part in redact(text).splitlines())
        if self.tracebacks and record.stack_info:
            line += "\n" + "\n".join("    " + part for part in redact(record.stack_info).splitlines())
        return line


class _Handler(logging.StreamHandler):
    """The handler :func:`configure_logging` installs (found again by its class). Without a
    stream of its own it writes to whatever ``sys.stderr`` is at the time."""

    def __init__(self, stream=None) -> None:
        self._own = stream
        super().__init__(stream)

    @property
    def stream(self):
        return self._own if self._own is not None else sys.stderr

    @stream.setter
    def stream(self, value) -> None:
        self._own = value if value is not sys.stderr else None


def log_level(value: str | None = None) -> tuple[int, str | None]:
    """The level ``LOG_LEVEL`` names, and a sentence when it names none (INFO then)."""
    if value is None:
        from data.settings import setting

        value = setting("LOG_LEVEL")
    name = (value or DEFAULT_LEVEL).strip().upper()
    if name == "WARN":
        name = "WARNING"
    if name not in LEVELS:
        return logging.INFO, f"LOG_LEVEL {value!r} is not one of {', '.join(LEVELS)}; logging at INFO."
    return getattr(logging, name), None


def configure_logging(level: str | None = None, stream=None) -> int:
    """Send every logger's records to ``stream`` (stderr) at ``level`` (``LOG_LEVEL``); returns the level.

    Calling it again replaces the handler it installed, so it is safe in any entry point.
    """
    number, problem = log_level(level)
    root = logging.getLogger()
    for handler in [h for h in root.handlers if isinstance(h, _Handler)]:
        root.removeHandler(handler)
    handler = _Handler(stream)
    handler.setFormatter(OneLineFormatter(tracebacks=number <= logging.DEBUG))
    handler.addFilter(RedactSecrets())
    root.addHandler(handler)
    root.setLevel(number)
    for name in CHATTY:
        logging.getLogger(name).setLevel(number if number <= logging.DEBUG else max(number, logging.WARNING))
    logging.captureWarnings(True)
    if problem:
        logging.getLogger(__name__).warning(problem)
    return number
