"""How each store's sync stands, and trying a platform's settings before they are saved.

- :func:`stream_status`: one row per store and stream, its saved cursor and its latest run.
- :func:`test_connection`: builds a platform's source from given values (held on
  this thread only, see :func:`data.settings.overridden`) and reads its store
  once; the answer is one sentence that never repeats a secret.
- :func:`sync_platform`: one platform's sync, never two of the same at once
  (the Settings page and the scheduler share it).
"""

from __future__ import annotations

import importlib
import socket
import threading
from typing import Mapping
from urllib.parse import urlsplit

import polars as pl

from connectors.sync.cli import PLATFORMS
from connectors.sync.runner import ProgressFn, StreamResult, SyncError, run_sync
from data.settings import SETTINGS, overridden, setting
from data.warehouse import Warehouse

LABELS = {"shopify": "Shopify", "woocommerce": "WooCommerce", "stripe": "Stripe", "ga4": "Google Analytics 4",
          "meta": "Meta Ads", "paypal": "PayPal"}
_PREFIXES = {"shopify": "SHOPIFY_", "woocommerce": "WOOCOMMERCE_", "stripe": "STRIPE_", "ga4": "GA4_",
             "meta": "META_", "paypal": "PAYPAL_"}
# Where each platform's API answers unless its *_API_BASE setting says otherwise.
_DEFAULT_BASES = {"stripe": ("STRIPE_API_BASE", "https://api.stripe.com"),
                  "ga4": ("GA4_API_BASE", "https://analyticsdata.googleapis.com"),
                  "meta": ("META_API_BASE", "https://graph.facebook.com")}
PROBE_TIMEOUT = 5.0

STATUS_COLUMNS = {
    "store_id": pl.String, "stream": pl.String, "cursor": pl.String,
    "started_at": pl.Datetime("us", "UTC"), "finished_at": pl.Datetime("us", "UTC"),
    "last_seen_at": pl.Datetime("us", "UTC"), "status": pl.String,
    "rows_read": pl.Int64, "rows_written": pl.Int64, "error": pl.String, "note": pl.String,
}

_STATUS_SQL = """
WITH latest AS (
    SELECT store_id, stream, started_at, finished_at, last_seen_at, status, rows_read, rows_written, error, note,
           row_number() OVER (PARTITION BY store_id, stream
                              ORDER BY started_at DESC, finished_at DESC NULLS FIRST, run_id) AS rn
    FROM sync_runs
)
SELECT coalesce(s.store_id, r.store_id) AS store_id, coalesce(s.stream, r.stream) AS stream, s.cursor,
       r.started_at, r.finished_at, r.last_seen_at, r.status, r.rows_read, r.rows_written, r.error, r.note
FROM sync_state s
FULL OUTER JOIN (SELECT * FROM latest WHERE rn = 1) r ON r.store_id = s.store_id AND r.stream = s.stream
ORDER BY 1, 2
"""


def stream_status(wh: Warehouse) -> pl.DataFrame:
    """Per store and stream: saved cursor and the latest run (start, finish, last seen, status, rows, error, note).

    A run's status is ``running``, ``succeeded``, ``failed``, or ``interrupted``
    (its process died: see :mod:`connectors.sync.runs`; ``last_seen_at`` says when
    it last committed).

    A stream with a cursor but no recorded run has empty run columns; one whose runs
    never saved a cursor has an empty cursor.
    """
    frame = wh.query(_STATUS_SQL)
    if frame.height == 0:
        return pl.DataFrame(schema=STATUS_COLUMNS)
    return frame.select(pl.col(name).cast(dtype) for name, dtype in STATUS_COLUMNS.items())


def platform_settings(platform: str) -> list:
    """The :class:`~data.settings.Setting` entries of a platform, in the settings table's order."""
    return [s for s in SETTINGS if s.name.startswith(_PREFIXES[platform])]


def source_for(platform: str, store_id: str | None = None):
    """The platform's source from the current settings; SyncError naming what is missing."""
    return importlib.import_module(PLATFORMS[platform]).source_from_settings(store_id=store_id)


def not_configured(platform: str) -> str | None:
    """Why ``platform`` cannot sync with the current settings (one sentence), or None when it can.

    No network call: a Stripe or PayPal source reads its account when built, so only its keys are checked.
    """
    try:
        module = importlib.import_module(PLATFORMS[platform])
    except ModuleNotFoundError:
        return f"the {LABELS[platform]} connector is not installed."
    if platform == "stripe" and (setting("STRIPE_SECRET_KEY") or "").strip():
        return None
    if platform == "paypal" and all((setting(n) or "").strip() for n in ("PAYPAL_CLIENT_ID", "PAYPAL_CLIENT_SECRET")):
        return None
    try:
        module.source_from_settings()
    except SyncError as exc:
        return str(exc)
    return None


def configured_platforms() -> list[str]:
    """The platforms whose settings are complete enough to sync (no network call)."""
    return [platform for platform in PLATFORMS if not_configured(platform) is None]


# -- trying settings -------------------------------------------------------------

def _address(platform: str) -> str | None:
    """The http(s) address the platform's source would call, from the current settings."""
    if platform == "woocommerce":
        raw = (setting("WOOCOMMERCE_URL") or "").strip()
    elif platform == "shopify":
        raw = (setting("SHOPIFY_STORE") or "").strip()
    elif platform == "paypal":
        raw = (setting("PAYPAL_API_BASE") or "").strip() or "https://api-m.paypal.com"
    else:
        name, default = _DEFAULT_BASES[platform]
        raw = (setting(name) or "").strip() or default
    if not raw:
        return None
    if "://" not in raw:
        raw = "https://" + raw
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    return f"{parts.scheme}://{parts.netloc}"


def _reach(address: str) -> str | None:
    """None when a TCP connection to ``address`` opens, else why not (a few words)."""
    parts = urlsplit(address)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        with socket.create_connection((parts.hostname, port), timeout=PROBE_TIMEOUT):
            return None
    except ConnectionRefusedError:
        return "connection refused"
    except socket.gaierror:
        return "the name does not resolve"
    except (TimeoutError, socket.timeout):
        return f"no answer within {PROBE_TIMEOUT:.0f} seconds"
    except OSError as exc:
        return (exc.strerror or exc.__class__.__name__).lower()


def _scrub(text: str, secrets: list[str]) -> str:
    for value in sorted(secrets, key=len, reverse=True):
        if value:
            text = text.replace(value, "••••")
    return text


def _refused_status(message: str) -> int | None:
    for code in (401, 403):
        if f"HTTP {code}" in message or f"({code})" in message:
            return code
    return None


def test_connection(platform: str, values: Mapping[str, str]) -> tuple[bool, str]:
    """Try ``platform`` with ``values`` over its settings: (connected?, one sentence).

    Nothing is saved: the values hold on this thread for the call only. The call
    is the source's ``store_row()`` (one or a few authenticated reads), or its
    ``probe()`` for a source attached to a store (GA4: a one-row report; Meta:
    the ad account).
    """
    if platform not in PLATFORMS:
        return False, f"{platform} is not a platform the app can connect to."
    secret_names = {s.name for s in SETTINGS if s.secret}
    with overridden({k: v for k, v in values.items() if v is not None}):
        secrets = [setting(name) or "" for name in secret_names]
        missing = not_configured(platform)
        if missing is not None:
            return False, _scrub(missing, secrets)
        address = _address(platform)
        if address:
            problem = _reach(address)
            if problem:
                return False, f"Could not reach {address}: {problem}."
        try:
            # Building a source may already call the platform (Stripe reads its account).
            source = source_for(platform)
            probe = getattr(source, "probe", None)
            row = probe() if probe is not None else source.store_row().row(0, named=True)
        except SyncError as exc:
            message = str(exc)
            code = _refused_status(message)
            if code is not None:
                by = ("the store" if platform in ("shopify", "woocommerce") else
                      "Google Analytics" if platform == "ga4" else LABELS[platform].split()[0])
                return False, f"The key was refused by {by} ({code})."
            return False, _scrub(message, secrets)
        except Exception as exc:  # noqa: BLE001 - one sentence, whatever went wrong
            return False, _scrub(f"{LABELS[platform]} could not be read ({exc.__class__.__name__}).", secrets)
    name = row.get("name") or row.get("store_id")
    details = ", ".join(str(v) for v in (row.get("currency"), row.get("timezone")) if v)
    return True, _scrub(f"Connected to {name}" + (f" ({details})." if details else "."), secrets)


# -- syncing -----------------------------------------------------------------------

_locks = {platform: threading.Lock() for platform in PLATFORMS}


def sync_platform(wh: Warehouse, platform: str, *, progress: ProgressFn | None = None) -> list[StreamResult]:
    """``run_sync`` of the platform's configured store; SyncError when it is not configured,
    already syncing, or fails (what was written before stays)."""
    source = source_for(platform)
    lock = _locks[platform]
    if not lock.acquire(blocking=False):
        raise SyncError(f"A {LABELS[platform]} sync is already running; its results appear when it ends.")
    try:
        return run_sync(wh, source, progress=progress)
    finally:
        lock.release()


test_connection.__test__ = False  # a product function, not a test case for pytest
