"""The key that signs login cookies: from the settings, never empty, never a sample.

``ensure_cookie_key()`` (run by ``make run``, ``python -m auth setup`` and the
container's entrypoint) writes a random key into ``.streamlit/secrets.toml``
when none is set anywhere; the app itself only reads the key and refuses to
start when it is empty, a known sample or too short.
"""

from __future__ import annotations

import secrets

from data import settings
from data.secrets_file import write_private

NAME = "AUTH_COOKIE_KEY"
MIN_LENGTH = 32
# Keys that appear in examples and tutorials (and so in other people's deployments).
SAMPLE_KEYS = frozenset({"some_key", "some_signature_key", "random_signature_key", "abcdef", "secret",
                         "changeme", "change-me", "change_me", "your-secret-key", "xxx"})


class CookieKeyError(Exception):
    """The cookie key cannot be used, in one sentence that says what to do."""


def cookie_key_problem(key: str | None) -> str | None:
    """Why ``key`` cannot sign login cookies, or ``None`` when it can."""
    if key is None or not key.strip():
        return (f"{NAME} is empty: run `python -m auth setup` (or `make run`) to write a random one into "
                ".streamlit/secrets.toml, or set it in the environment.")
    if key.strip().lower() in SAMPLE_KEYS:
        return (f"{NAME} is a sample key that others know: replace it with a random one "
                "(python -c 'import secrets; print(secrets.token_urlsafe(48))').")
    if len(key) < MIN_LENGTH:
        return (f"{NAME} is shorter than {MIN_LENGTH} characters: replace it with a random one "
                "(python -c 'import secrets; print(secrets.token_urlsafe(48))').")
    return None


def require_cookie_key() -> str:
    """The cookie key, or :class:`CookieKeyError` saying why it cannot be used."""
    key = settings.setting(NAME)
    problem = cookie_key_problem(key)
    if problem:
        raise CookieKeyError(problem)
    return key


def ensure_cookie_key() -> bool:
    """Write a random key into secrets.toml when none is set; ``True`` when one was written.

    A key that is set but unusable is left for its owner to replace (it raises
    :class:`CookieKeyError`): a generated key must not hide a mistake.
    """
    path = settings.SECRETS_PATH
    settings._secrets.cache_clear()
    if settings.setting_origin(NAME) is not None:
        require_cookie_key()
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    existing = path.read_text(encoding="utf-8") if path.exists() else ""
    separator = "" if not existing or existing.endswith("\n") else "\n"
    line = f'# Signs login cookies; written by python -m auth setup. Keep it secret.\n{NAME} = "{secrets.token_urlsafe(48)}"\n'
    write_private(path, existing + separator + line)
    settings._secrets.cache_clear()
    return True
