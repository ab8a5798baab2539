"""Stock alerts and the daily digest (email and/or webhook).

An alert is a variant in one of the lists to act on: stockout, stockout risk,
a reorder due, dead stock, overstock (the one definition of each,
:mod:`analytics.inventory.figures`, as on the Inventory page). The digest is
one message listing them (at most :data:`DIGEST_LINES` per kind), sent by
SMTP to ``DIGEST_EMAIL_TO`` and/or posted as JSON ``{"text": ...}`` to
``DIGEST_WEBHOOK_URL`` (Slack's incoming-webhook format).

:func:`send_daily_digest` may be called as often as wanted (the app's
scheduler, ``python -m analytics alerts --send``): it sends at most once per
store-local day per store and records each digest in ``inventory_digests``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import smtplib
import sys
import urllib.request
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Callable
from zoneinfo import ZoneInfo

import polars as pl

from analytics.inventory.choices import load_choices
from analytics.inventory.figures import reorder_due_expr
from analytics.inventory.stock import stock_health
from analytics.store_state import Store
from data.warehouse import Warehouse

DIGEST_LINES = 10
UTC = dt.timezone.utc
KINDS = (
    ("stockout", "Out of stock", pl.col("status") == "stockout"),
    ("stockout_risk", "Will run out before a reorder arrives", pl.col("status") == "stockout_risk"),
    ("reorder", "Reorder now", reorder_due_expr()),
    ("dead_stock", "Dead stock", pl.col("status") == "dead_stock"),
    ("overstock", "Overstock", pl.col("status") == "overstock"),
)


def alerts_from_health(health: pl.DataFrame) -> pl.DataFrame:
    """``kind, title, variant_id, sku, name, available, days_of_cover, suggested_order_qty, supplier_name``:
    one row per variant and kind it falls in, kinds in :data:`KINDS` order, most urgent first."""
    parts = []
    for order, (kind, title, condition) in enumerate(KINDS):
        part = health.filter(condition).select(
            pl.lit(order).alias("_order"), pl.lit(kind).alias("kind"), pl.lit(title).alias("title"),
            "variant_id", "sku", "name", "available", "days_of_cover", "suggested_order_qty", "supplier_name",
            "net_sales_90d")
        parts.append(part)
    if not parts or not sum(p.height for p in parts):
        return pl.DataFrame(schema={"kind": pl.String, "title": pl.String, "variant_id": pl.String,
                                    "sku": pl.String, "name": pl.String, "available": pl.Int64,
                                    "days_of_cover": pl.Float64, "suggested_order_qty": pl.Int64,
                                    "supplier_name": pl.String})
    return (pl.concat(parts).sort(["_order", "net_sales_90d", "variant_id"], descending=[False, True, False])
            .drop("_order", "net_sales_90d"))


def digest_text(store: Store, day: dt.date, alerts: pl.DataFrame) -> str:
    """The digest as plain text (email body and webhook text)."""
    lines = [f"Stock alerts for {store.name}, {day:%-d %b %Y}"]
    if alerts.height == 0:
        return lines[0] + ": nothing to act on."
    for kind, title, _ in KINDS:
        rows = alerts.filter(pl.col("kind") == kind)
        if rows.height == 0:
            continue
        lines.append("")
        lines.append(f"{title} ({rows.height:,})")
        for row in rows.head(DIGEST_LINES).iter_rows(named=True):
            detail = f"{row['available'] if row['available'] is not None else '–'} available"
            if row["days_of_cover"] is not None and kind in ("stockout_risk", "overstock"):
                detail += f", {row['days_of_cover']:.0f} days of cover"
            if kind == "reorder":
                detail = f"order {row['suggested_order_qty']:,}" + (f" from {row['supplier_name']}"
                                                                    if row["supplier_name"] else "")
            lines.append(f"- {row['sku'] or row['variant_id']} {row['name']}: {detail}")
        if rows.height > DIGEST_LINES:
            lines.append(f"- and {rows.height - DIGEST_LINES:,} more on the Inventory page")
    return "\n".join(lines)


@dataclass(frozen=True)
class DigestConfig:
    """Where a digest goes (from the deployment settings; secrets never logged)."""

    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_security: str = "starttls"
    smtp_from: str | None = None
    email_to: tuple[str, ...] = ()
    webhook_url: str | None = None

    @property
    def channels(self) -> list[str]:
        return (["email"] if self.smtp_host and self.email_to else []) + (["webhook"] if self.webhook_url else [])

    @classmethod
    def from_settings(cls) -> "DigestConfig":
        from data.settings import setting

        recipients = tuple(a.strip() for a in (setting("DIGEST_EMAIL_TO") or "").split(",") if a.strip())
        return cls(smtp_host=setting("SMTP_HOST") or None, smtp_port=int(setting("SMTP_PORT") or 587),
                   smtp_user=setting("SMTP_USER") or None, smtp_password=setting("SMTP_PASSWORD") or None,
                   smtp_security=(setting("SMTP_SECURITY") or "starttls").lower(),
                   smtp_from=setting("SMTP_FROM") or None, email_to=recipients,
                   webhook_url=setting("DIGEST_WEBHOOK_URL") or None)


def send_email(config: DigestConfig, subject: str, body: str, timeout: float = 20) -> None:
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = config.smtp_from or config.smtp_user or "inventory@localhost"
    message["To"] = ", ".join(config.email_to)
    message.set_content(body)
    smtp_class = smtplib.SMTP_SSL if config.smtp_security == "ssl" else smtplib.SMTP
    with smtp_class(config.smtp_host, config.smtp_port, timeout=timeout) as smtp:
        if config.smtp_security == "starttls":
            smtp.starttls()
        if config.smtp_user and config.smtp_password:
            smtp.login(config.smtp_user, config.smtp_password)
        smtp.send_message(message)


def post_webhook(url: str, text: str, timeout: float = 20) -> None:
    request = urllib.request.Request(url, data=json.dumps({"text": text}).encode("utf-8"),  # noqa: S310 - http(s), checked
                                     method="POST", headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - a configured URL
        if response.status >= 300:
            raise OSError(f"the webhook answered {response.status}")


@dataclass(frozen=True)
class DigestOutcome:
    status: str          # "sent", "already_sent", "not_configured", "failed"
    day: dt.date
    alerts: int = 0
    channels: tuple[str, ...] = ()
    message: str = ""


def send_daily_digest(wh: Warehouse, store: Store, now: dt.datetime | None = None, *,
                      config: DigestConfig | None = None,
                      health: Callable[[], pl.DataFrame] | None = None) -> DigestOutcome:
    """Send today's digest of ``store`` unless one was already sent today (store-local day); record it.

    Safe to call repeatedly. Nothing is recorded when no channel is configured or every channel failed,
    so a later call tries again; a failure is returned, never raised.
    """
    now = (now or dt.datetime.now(UTC)).astimezone(UTC)
    day = now.astimezone(ZoneInfo(store.timezone)).date()
    config = config or DigestConfig.from_settings()
    if wh.scalar("SELECT COUNT(*) FROM inventory_digests WHERE store_id = :s AND digest_date = :d",
                 {"s": store.store_id, "d": day}):
        return DigestOutcome("already_sent", day, message="Today's digest was already sent.")
    if not config.channels:
        return DigestOutcome("not_configured", day, message="Set DIGEST_EMAIL_TO and SMTP_HOST, or "
                             "DIGEST_WEBHOOK_URL, to send a digest.")
    frame = health() if health else stock_health(wh, store.store_id, day, load_choices(wh, store.store_id))
    alerts = alerts_from_health(frame)
    text = digest_text(store, day, alerts)
    sent, errors = [], []
    if "email" in config.channels:
        try:
            send_email(config, f"Stock alerts for {store.name}: {alerts.height:,} to act on", text)
            sent.append("email")
        except (OSError, smtplib.SMTPException) as exc:
            errors.append(f"email: {type(exc).__name__}: {exc}")
    if "webhook" in config.channels:
        try:
            post_webhook(config.webhook_url or "", text)
            sent.append("webhook")
        except (OSError, ValueError) as exc:
            errors.append(f"webhook: {type(exc).__name__}")
    if not sent:
        return DigestOutcome("failed", day, alerts.height, message="; ".join(errors))
    wh.execute("INSERT INTO inventory_digests (store_id, digest_date, sent_at, channels, alerts) "
               "VALUES (:s, :d, :at, :c, :n) ON CONFLICT (store_id, digest_date) DO NOTHING",
               {"s": store.store_id, "d": day, "at": now, "c": ",".join(sent), "n": alerts.height})
    return DigestOutcome("sent", day, alerts.height, tuple(sent), "; ".join(errors))


# -- command line ------------------------------------------------------------------------

def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "alerts", help="list today's stock alerts, or send the daily digest",
        description="Print the store's stock alerts (stockouts, stockout risk, reorders due, dead stock, "
                    "overstock). With --send, send the daily digest by email and/or webhook (at most once a "
                    "day per store).")
    parser.add_argument("--store", help="store id (default: STORE_ID, else demo, else the only store)")
    parser.add_argument("--send", action="store_true", help="send the digest (SMTP_* and DIGEST_* settings)")
    parser.add_argument("--db", help="warehouse URL (default: DATABASE_URL or the embedded file)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from analytics.report import ReportError, connect_existing, resolve_store
    from data.settings import setting

    try:
        wh = connect_existing(args.db)
    except ReportError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        try:
            store = resolve_store(wh, args.store, setting("STORE_ID"))
        except ReportError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        if args.send:
            outcome = send_daily_digest(wh, store)
            stream = sys.stderr if outcome.status in ("failed", "not_configured") else sys.stdout
            print(f"{outcome.status.replace('_', ' ')}: {outcome.message or ', '.join(outcome.channels)}",
                  file=stream)
            return 1 if outcome.status in ("failed", "not_configured") else 0
        day = dt.datetime.now(ZoneInfo(store.timezone)).date()
        health = stock_health(wh, store.store_id, day, load_choices(wh, store.store_id))
        print(digest_text(store, day, alerts_from_health(health)))
        return 0
    finally:
        wh.close()
