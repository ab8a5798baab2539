"""Settings: one declarative table, read from the environment or secrets.

The environment wins over ``.streamlit/secrets.toml``. Secret values are
returned to the caller and never logged.
"""

from __future__ import annotations

import os
import threading
import tomllib
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Iterator, Mapping

SECRETS_PATH = Path(__file__).resolve().parent.parent / ".streamlit" / "secrets.toml"


@dataclass(frozen=True)
class Setting:
    name: str
    default: str | None
    help: str
    secret: bool = False


SETTINGS: tuple[Setting, ...] = (
    Setting("DATABASE_URL", None,
            "Where the warehouse lives: duckdb:///path/file.duckdb (default: "
            "data/local/warehouse.duckdb) or postgresql://user:password@host:5432/db.", secret=True),
    Setting("REDIS_URL", None,
            "A Redis server that every app process shares page figures through: redis://[:password@]host:6379/0 "
            "(rediss:// for TLS). Unset: each process caches its own. Keep the server private to the app.",
            secret=True),
    Setting("DEMO_FEED", "on",
            "While the app serves the demo store, new demo orders, refunds, stock changes and "
            "sessions arrive every few seconds. Set to off to keep the demo still."),
    Setting("DEMO_FEED_INTERVAL", "5", "Seconds between two live demo feed ticks."),
    Setting("DEMO_FEED_PACE", "history",
            "How fast the live demo feed adds orders: history (as many as an ordinary day of the demo store's "
            "history, hour by hour, so today compares fairly with last week) or busy (a few every tick, about "
            "20,000 a day at a tick every 5 s)."),
    Setting("DEMO_ORDERS", "30000", "Orders in the demo store that make run builds."),
    Setting("FX_REFRESH", "on",
            "Refresh the ECB exchange rates from FX_RATES_URL when the app starts and every FX_REFRESH_HOURS "
            "(off: only the history shipped with the app, up to its release, is used)."),
    Setting("FX_REFRESH_HOURS", "6", "Hours between two refreshes of the ECB exchange rates while the app runs."),
    Setting("FX_RATES_URL", "https://www.ecb.europa.eu/stats/eurofxref/eurofxref.zip",
            "The ECB reference rates file to refresh from (the daily file; the 90-day or full history files "
            "work too, zipped or not)."),
    Setting("REPORTING_CURRENCY", None,
            "The currency figures are shown in by default (EUR, USD, ...), converted at ECB rates of each day; "
            "each user can choose another in the sidebar. Unset: each store's own currency."),
    Setting("PARQUET_EXPORT_DIR", None,
            "A folder the running app exports the warehouse to as Parquet (every contract table, partitioned by "
            "store and month, only what changed; what a BI tool reads beside the embedded DuckDB file). Unset: no "
            "export (python -m data export parquet DIR runs one on demand)."),
    Setting("PARQUET_EXPORT_INTERVAL_MINUTES", "60",
            "Minutes between two Parquet exports to PARQUET_EXPORT_DIR while the app runs (0: off)."),
    Setting("REFRESH_INTERVAL_HOURS", "24",
            "Hours between two background refreshes of customer scores, lifetime value models and demand "
            "forecasts while the app runs (0: off; Settings > Run now, or python -m analytics refresh, runs one on "
            "demand). A store never refreshed is refreshed soon after the app starts."),
    Setting("STORE_CUSTOMER_CONTACTS", "on",
            "Keep each customer's name, email and phone (from the platforms and imports) in customer_contacts, "
            "shown on Orders, Customers and in segment CSVs, never sent to an AI provider. Set to off to keep "
            "only email hashes: nothing is written to the table (python -m data erase-customer --all empties "
            "it)."),
    Setting("STORE_ID", None, "The store shown by default when the warehouse holds several."),
    Setting("SYNC_INTERVAL_MINUTES", "15",
            "Minutes between two automatic syncs of every configured store while the app runs (0: off; "
            "the Settings page and python -m connectors sync still sync on demand)."),
    Setting("LOG_LEVEL", "INFO",
            "How much the app, the worker and every command log to stderr (docker logs): DEBUG, INFO, WARNING or "
            "ERROR. One line per event; DEBUG adds the traceback under a failure and each HTTP request the "
            "platforms' libraries make. Secret values never appear."),
    Setting("WOOCOMMERCE_URL", None,
            "The WooCommerce site's address (https://shop.example); the REST API is read under /wp-json/wc/v3."),
    Setting("WOOCOMMERCE_KEY", None,
            "WooCommerce REST API consumer key (WooCommerce > Settings > Advanced > REST API; Read access).",
            secret=True),
    Setting("WOOCOMMERCE_SECRET", None, "WooCommerce REST API consumer secret (shown once, with the key).",
            secret=True),
    Setting("WOOCOMMERCE_WEBHOOK_SECRET", None,
            "The secret entered on the store's webhooks (WooCommerce > Settings > Advanced > Webhooks); "
            "deliveries to /webhooks/woocommerce are checked with it.", secret=True),
    Setting("STRIPE_SECRET_KEY", None,
            "Stripe secret (or restricted read-only) API key of the account to sync: charges, refunds, "
            "disputes, payouts and customers (Dashboard > Developers > API keys).", secret=True),
    Setting("STRIPE_API_BASE", None,
            "Stripe API address (default: https://api.stripe.com). Only set it to point the connector "
            "at a local emulator or proxy."),
    Setting("STRIPE_WEBHOOK_SECRET", None,
            "Signing secret (whsec_...) of the Stripe webhook endpoint that posts to /webhooks/stripe.",
            secret=True),
    Setting("PAYPAL_CLIENT_ID", None,
            "Client id of the PayPal REST app whose account to sync (developer.paypal.com > Apps & Credentials; "
            "the app needs Transaction Search): sales, fees, refunds and chargebacks."),
    Setting("PAYPAL_CLIENT_SECRET", None, "Secret of that PayPal REST app.", secret=True),
    Setting("PAYPAL_API_BASE", None,
            "PayPal API address (default: https://api-m.paypal.com; the sandbox is "
            "https://api-m.sandbox.paypal.com). Plain http only for a local emulator or proxy."),
    Setting("PAYPAL_STORE", None,
            "The store PayPal was paid for (e.g. woocommerce:shop.example): its PayPal payments join it, so its "
            "margin counts PayPal's own fees. Unset: a store of its own, paypal:<account id>."),
    Setting("SHOPIFY_STORE", None,
            "The Shopify store to sync: its myshopify domain (acme.myshopify.com) or a full http(s) address "
            "of a proxy or local emulator. Orders older than 60 days need the read_all_orders scope."),
    Setting("SHOPIFY_ACCESS_TOKEN", None,
            "Admin API access token of the store's custom app (read_orders, read_all_orders, read_products, "
            "read_customers, read_inventory, read_locations scopes).", secret=True),
    Setting("SHOPIFY_API_VERSION", "2026-10",
            "GraphQL Admin API version the Shopify connector asks for (YYYY-MM, 2026-01 or newer). Shopify "
            "supports each quarterly version for twelve months, then answers with its oldest supported one. To "
            "move on, set the next version (2027-01 after 2026-10) and sync: a field the new version no longer "
            "has fails the sync with Shopify's reason and the warehouse stays as it was, so you can set it back."),
    Setting("SHOPIFY_BULK_THRESHOLD", "10000",
            "A first (or --full) Shopify sync of a store with more orders than this reads them with one bulk "
            "operation instead of pages."),
    Setting("SHOPIFY_WEBHOOK_SECRET", None,
            "The app's client secret (or the webhook signing secret) that signs deliveries to /webhooks/shopify.",
            secret=True),
    # Traffic and ad spend: Google Analytics 4 and Meta Ads, attached to a store.
    Setting("GA4_PROPERTY_ID", None,
            "The Google Analytics 4 property whose sessions to sync: its numeric id (Admin > Property details)."),
    Setting("GA4_CREDENTIALS_FILE", None,
            "Path of the JSON key of a Google Cloud service account added as a Viewer of the property "
            "(Admin > Property access management)."),
    Setting("GA4_STORE_ID", None,
            "The store the property measures (shopify:acme, woocommerce:shop.example, demo); default STORE_ID."),
    Setting("GA4_REVISION_DAYS", "3",
            "GA4 revises recent days for about 72 hours: each sync reads this many days before the last one read "
            "again and replaces them."),
    Setting("GA4_HISTORY_DAYS", "730", "Days of traffic the first Google Analytics sync reads."),
    Setting("GA4_API_BASE", None,
            "Google Analytics Data API address (default: analyticsdata.googleapis.com). Only set it to point the "
            "connector at a local emulator or proxy (http:// only for a local address)."),
    Setting("META_ACCESS_TOKEN", None,
            "Meta Marketing API access token allowed to read ads (the ads read permission; a system user's token from Business settings > "
            "System users).", secret=True),
    Setting("META_AD_ACCOUNT_ID", None, "The Meta ad account whose spend to sync: act_<number> or the number."),
    Setting("META_STORE_ID", None,
            "The store the ad account advertises (shopify:acme, demo); default STORE_ID."),
    Setting("META_HISTORY_DAYS", "730", "Days of ad spend the first Meta Ads sync reads (Meta keeps 37 months)."),
    Setting("META_API_BASE", None,
            "Meta Graph API address (default: https://graph.facebook.com). Only set it to point the connector at "
            "a local emulator or proxy."),
    # Limits on what comes in: webhook deliveries and imported CSV files.
    Setting("WEBHOOK_MAX_BODY_MB", "5",
            "Largest webhook body accepted, in MB: a longer delivery is answered 413 while it is read, before "
            "its signature is checked (Shopify, WooCommerce and Stripe send a few KB)."),
    Setting("CSV_IMPORT_MAX_CELL_KB", "64",
            "Largest cell import-csv accepts, in KB (a spreadsheet cell holds at most 32,767 characters); a "
            "longer one stops the import before the file is parsed, naming its row."),
    Setting("CSV_IMPORT_MAX_FILE_MB", "1024",
            "Largest file import-csv accepts, in MB (the import holds the whole file in memory, several times "
            "over); a larger one stops the import before it is parsed, naming the row where the limit is passed."),
    # Inventory: the daily stock-alert digest (python -m analytics alerts --send, or the app's scheduler)
    Setting("SMTP_HOST", None, "SMTP server that sends the daily stock-alert digest by email (unset: no email)."),
    Setting("SMTP_PORT", "587", "Port of the SMTP server (587 with STARTTLS, 465 for SMTP over TLS, 25 plain)."),
    Setting("SMTP_USER", None, "User name for the SMTP server (unset: no login)."),
    Setting("SMTP_PASSWORD", None, "Password for the SMTP server.", secret=True),
    Setting("SMTP_SECURITY", "starttls", "How to secure the SMTP connection: starttls, ssl or none."),
    Setting("SMTP_FROM", None, "The sender address of the digest email (default: SMTP_USER)."),
    Setting("DIGEST_EMAIL_TO", None, "Where the daily stock-alert digest is emailed: one address or several, "
            "comma-separated (needs SMTP_HOST)."),
    Setting("DIGEST_WEBHOOK_URL", None,
            "A webhook that receives the daily stock-alert digest as JSON with a text field (a Slack incoming "
            "webhook works as it is).", secret=True),
    # AI insights (analytics/insights): who writes the summaries, with which model, within which bounds.
    Setting("INSIGHTS_PROVIDER", "offline",
            "Who writes the insight summaries when nothing is chosen in Settings: offline (the built-in writer, "
            "no data leaves the machine), openai or anthropic."),
    Setting("OPENAI_API_KEY", None, "OpenAI API key for the insight summaries (platform.openai.com > API keys).",
            secret=True),
    Setting("OPENAI_MODEL", "gpt-5.6", "OpenAI model that writes the insight summaries (Settings may choose another)."),
    Setting("OPENAI_BASE_URL", None,
            "OpenAI API address (default: https://api.openai.com/v1). Only set it for a proxy, a compatible "
            "gateway or a local emulator."),
    Setting("ANTHROPIC_API_KEY", None, "Anthropic API key for the insight summaries (console > API keys).",
            secret=True),
    Setting("ANTHROPIC_MODEL", "claude-opus-5",
            "Anthropic model that writes the insight summaries (Settings may choose another)."),
    Setting("ANTHROPIC_BASE_URL", None,
            "Anthropic API address (default: https://api.anthropic.com). Only set it for a proxy or a local "
            "emulator."),
    Setting("INSIGHTS_MAX_TOKENS", "1500", "Most output tokens one insight summary may use."),
    Setting("INSIGHTS_TIMEOUT", "30", "Seconds an AI provider has to answer one attempt before it is retried."),
    Setting("INSIGHTS_MAX_RETRIES", "2",
            "Retries of a failed AI call (connection errors, 408, 429, 5xx) before the offline writer stands in."),
    # Login
    Setting("AUTH_COOKIE_KEY", None,
            "Random key (32 characters or more) that signs the login cookie. make run and python -m auth setup "
            "write one into .streamlit/secrets.toml when none is set; the app refuses to start with an empty "
            "or sample key.", secret=True),
    Setting("AUTH_CREDENTIALS_FILE", ".streamlit/credentials.yaml",
            "The users file (bcrypt password hashes and roles), outside git; a relative path is taken from the "
            "project folder."),
    Setting("AUTH_COOKIE_DAYS", "7", "Days a login is remembered in the browser (0: log in again in every new tab)."),
)

BY_NAME = {s.name: s for s in SETTINGS}


@lru_cache(maxsize=4)
def _load_secrets(path: Path, stamp: tuple[int, int, int]) -> dict:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        return {}
    except tomllib.TOMLDecodeError as exc:
        raise RuntimeError(f"{path} is not valid TOML: {exc}") from None


def _secrets() -> dict:
    """The keys of secrets.toml, read again whenever the file changes (its size, time or inode), so a
    value saved from Settings, by hand or by another process applies at once, without a restart."""
    try:
        info = SECRETS_PATH.stat()
        stamp = (info.st_mtime_ns, info.st_size, info.st_ino)
    except FileNotFoundError:
        stamp = (0, 0, 0)
    return _load_secrets(SECRETS_PATH, stamp)


_secrets.cache_clear = _load_secrets.cache_clear  # type: ignore[attr-defined]


_overrides = threading.local()


@contextmanager
def overridden(values: Mapping[str, str]) -> Iterator[None]:
    """Within the block, on this thread only, :func:`setting` returns ``values`` first.

    Nothing is written to the environment or to disk: the way to try settings
    (a connection test) before they are saved. Blocks nest; the inner wins.
    """
    stack = getattr(_overrides, "stack", None)
    if stack is None:
        stack = _overrides.stack = []
    stack.append(dict(values))
    try:
        yield
    finally:
        stack.pop()


def _overridden_value(name: str) -> tuple[bool, str | None]:
    for values in reversed(getattr(_overrides, "stack", None) or ()):
        if name in values:
            return True, values[name]
    return False, None


def setting_origin(name: str) -> str | None:
    """Where the value of a setting comes from: ``"environment"``, ``"secrets.toml"``, or ``None``
    (not set: its default, if any, applies)."""
    if name in os.environ:
        return "environment"
    if _secrets().get(name) is not None:
        return "secrets.toml"
    return None


def saved_value(name: str) -> str | None:
    """The value secrets.toml holds for a setting (whatever the environment says), or ``None``."""
    value = _secrets().get(name)
    return None if value is None else str(value)


def setting(name: str) -> str | None:
    """The value of a setting: an :func:`overridden` value, the environment, secrets.toml, its default."""
    found, value = _overridden_value(name)
    if found:
        return value
    if name in os.environ:
        return os.environ[name]
    value = _secrets().get(name)
    if value is not None:
        return str(value)
    spec = BY_NAME.get(name)
    return spec.default if spec else None


def byte_limit(name: str) -> int:
    """A size setting (its name ends in ``_KB`` or ``_MB``) in bytes; empty or not a positive number: its default."""
    unit = 1024 * 1024 if name.endswith("_MB") else 1024
    raw = (setting(name) or "").strip()
    try:
        value = float(raw)
    except ValueError:
        value = 0.0
    if not value > 0:
        value = float(BY_NAME[name].default or 0)
    return int(value * unit)


def settings_table() -> str:
    """The README's settings table (between the settings-table markers)."""
    lines = ["| setting | default | what it does |", "| --- | --- | --- |"]
    for s in SETTINGS:
        default = f"`{s.default}`" if s.default not in (None, "") else "–"
        lines.append(f"| `{s.name}` | {default} | {s.help}{' (secret)' if s.secret else ''} |")
    return "\n".join(lines) + "\n"


def secrets_example() -> str:
    """``.streamlit/secrets.example.toml``: every key, commented out, with its help."""
    out = [
        "# Copy to .streamlit/secrets.toml (git-ignored) and fill in what you use.",
        "# Environment variables of the same name take precedence.",
        "",
    ]
    for s in SETTINGS:
        out.append(f"# {s.help}")
        out.append(f"# {s.name} = \"{s.default or ''}\"")
        out.append("")
    return "\n".join(out)


if __name__ == "__main__":
    readme = SECRETS_PATH.parent.parent / "README.md"
    text = readme.read_text()
    start, end = "<!-- settings-table:start -->", "<!-- settings-table:end -->"
    before, rest = text.split(start, 1)
    _, after = rest.split(end, 1)
    readme.write_text(f"{before}{start}\n{settings_table()}{end}{after}")
    (SECRETS_PATH.parent / "secrets.example.toml").write_text(secrets_example())
    print("wrote README.md settings table and .streamlit/secrets.example.toml")
