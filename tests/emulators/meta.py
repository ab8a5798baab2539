"""A local Meta Graph API (Marketing API insights) for tests: a real HTTP server the official
``facebook-business`` SDK talks to.

It answers, under ``/v<N>.0/``:

- ``GET act_<id>``: the ad account (``name``, ``currency``, ``timezone_name``);
- ``GET act_<id>/insights`` with ``level=campaign``, ``time_increment=1``,
  ``time_range={"since","until"}``, ``fields``, ``limit`` and ``after``: one row
  per campaign and day, every number a string (``"spend": "12.34"``),
  purchases under several action types that count the same purchase
  (``purchase``, ``omni_purchase``, ``offsite_conversion.fb_pixel_purchase``)
  in ``actions`` and ``action_values``; ``paging.cursors.after`` with
  ``paging.next`` while more rows follow;
- ``POST act_<id>/insights``: an asynchronous report run (``report_run_id``),
  whose ``GET <run id>`` goes through ``async_status`` ``Job Not Started`` →
  ``Job Running`` (reaching 100 % while still running) → ``Job Completed``, and
  whose ``GET <run id>/insights`` pages the rows as they were when it started;
- the ``access_token`` must be the emulator's (error 190 otherwise).

Tests change recent days as late attribution does (:meth:`MetaEmulator.put`
again with higher purchases) and queue throttling (:meth:`throttle`: error 17
or 80000 with ``x-business-use-case-usage`` saying when access comes back).
"""

from __future__ import annotations

import base64
import datetime as dt
import itertools
import json
import re
import threading
from decimal import Decimal
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from tests.emulators.local_server import LocalServer, send_json

TOKEN = "EAAB-emulated-system-user-token"
ACCOUNT = "1234567890"
PURCHASE_ALIASES = ("purchase", "omni_purchase", "offsite_conversion.fb_pixel_purchase")
RUN_STATES = (("Job Not Started", 0), ("Job Running", 40), ("Job Running", 100), ("Job Completed", 100))


class MetaEmulator(LocalServer):
    def __init__(self, *, currency: str = "USD", timezone: str = "UTC", page_size: int = 25) -> None:
        self.currency = currency
        self.timezone = timezone
        self.page_size = page_size
        # (day, campaign id) -> the row's figures
        self.rows: dict[tuple[dt.date, str], dict[str, Any]] = {}
        self.runs: dict[str, dict[str, Any]] = {}
        self.requests: list[tuple[str, str, dict]] = []
        self.throttles: list[dict] = []
        self.lock = threading.RLock()
        self._ids = itertools.count(6_000_001)
        LocalServer.__init__(self, self._handle)

    # -- data ----------------------------------------------------------------
    def put(self, day: dt.date, campaign_id: str, name: str, *, spend: str, impressions: int, clicks: int,
            purchases: int = 0, value: str = "0") -> None:
        with self.lock:
            self.rows[(day, campaign_id)] = {"campaign_name": name, "spend": Decimal(spend),
                                             "impressions": impressions, "clicks": clicks,
                                             "purchases": purchases, "value": Decimal(value)}

    def throttle(self, count: int = 1, *, code: int = 17, regain_minutes: int = 1) -> None:
        """The next ``count`` requests answer a rate-limit error with the usage headers."""
        with self.lock:
            self.throttles.extend({"code": code, "regain": regain_minutes} for _ in range(count))

    def paths(self) -> list[str]:
        return [path for _, path, _ in self.requests]

    # -- HTTP ------------------------------------------------------------------
    @staticmethod
    def _error(code: int, message: str, kind: str = "OAuthException", **extra: Any) -> dict:
        return {"error": {"message": message, "type": kind, "code": code, "fbtrace_id": "AemulatedTrace", **extra}}

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(handler.path)
        params = dict(parse_qsl(parts.query, keep_blank_values=True))
        if handler.command == "POST":
            length = int(handler.headers.get("Content-Length") or 0)
            params.update(parse_qsl(handler.rfile.read(length).decode(), keep_blank_values=True))
        with self.lock:
            self.requests.append((handler.command, parts.path, params))
            throttled = self.throttles.pop(0) if self.throttles else None
        if throttled is not None:
            usage = {ACCOUNT: [{"type": "ads_insights", "call_count": 100, "total_cputime": 98, "total_time": 100,
                                "estimated_time_to_regain_access": throttled["regain"]}]}
            return send_json(handler, 400, self._error(throttled["code"], "(#17) User request limit reached",
                                                       error_subcode=2446079, is_transient=True),
                             {"x-business-use-case-usage": json.dumps(usage),
                              "x-ad-account-usage": json.dumps({"acc_id_util_pct": 100, "reset_time_duration": 60})})
        if params.get("access_token") != TOKEN:
            return send_json(handler, 400, self._error(190, "Invalid OAuth access token - Cannot parse access token"))
        match = re.fullmatch(r"/v\d+\.\d+/(.+)", parts.path)
        segments = match.group(1).strip("/").split("/") if match else []
        with self.lock:
            if segments == [f"act_{ACCOUNT}"]:
                return send_json(handler, 200, {"id": f"act_{ACCOUNT}", "account_id": ACCOUNT,
                                                "name": "Emulated ads", "currency": self.currency,
                                                "timezone_name": self.timezone})
            if segments == [f"act_{ACCOUNT}", "insights"]:
                rows = self._insights(params)
                if handler.command == "POST":
                    run_id = str(next(self._ids))
                    self.runs[run_id] = {"rows": rows, "polls": 0}
                    return send_json(handler, 200, {"report_run_id": run_id})
                return send_json(handler, 200, self._page(rows, params, parts.path))
            if len(segments) == 1 and segments[0] in self.runs:
                run = self.runs[segments[0]]
                state, percent = RUN_STATES[min(run["polls"], len(RUN_STATES) - 1)]
                run["polls"] += 1
                return send_json(handler, 200, {"id": segments[0], "account_id": ACCOUNT, "async_status": state,
                                                "async_percent_completion": percent})
            if len(segments) == 2 and segments[0] in self.runs and segments[1] == "insights":
                run = self.runs[segments[0]]
                if run["polls"] < len(RUN_STATES):  # "Job Completed" not shown yet
                    return send_json(handler, 400, self._error(100, "Report not ready", "GraphMethodException"))
                return send_json(handler, 200, self._page(run["rows"], params, parts.path))
        return send_json(handler, 400, self._error(100, "Unsupported get request.", "GraphMethodException"))

    def _insights(self, params: dict) -> list[dict]:
        if params.get("level") != "campaign" or params.get("time_increment") != "1":
            return [{"unexpected": "only campaign level, one row a day, is emulated"}]
        window = json.loads(params["time_range"])
        since, until = dt.date.fromisoformat(window["since"]), dt.date.fromisoformat(window["until"])
        raw = params.get("fields") or ""
        # The SDK sends a list as JSON in a POST body and joined by commas in a query; Graph reads both.
        fields = json.loads(raw) if raw.startswith("[") else raw.split(",")
        out = []
        for (day, campaign_id), row in sorted(self.rows.items()):
            if not since <= day <= until:
                continue
            full = {"account_currency": self.currency, "campaign_id": campaign_id,
                    "campaign_name": row["campaign_name"], "spend": str(row["spend"]),
                    "impressions": str(row["impressions"]), "clicks": str(row["clicks"]),
                    "date_start": day.isoformat(), "date_stop": day.isoformat()}
            actions = [{"action_type": "link_click", "value": str(row["clicks"])}]
            if row["purchases"]:
                actions += [{"action_type": a, "value": str(row["purchases"])} for a in PURCHASE_ALIASES]
                full["action_values"] = [{"action_type": a, "value": str(row["value"])} for a in PURCHASE_ALIASES]
            full["actions"] = actions
            out.append({k: v for k, v in full.items() if k in fields or k in ("date_start", "date_stop")})
        return out

    def _page(self, rows: list[dict], params: dict, path: str) -> dict:
        start = _offset(params.get("after"))
        size = int(params.get("limit") or self.page_size)
        page = rows[start:start + size]
        paging: dict[str, Any] = {"cursors": {"before": _cursor(start), "after": _cursor(start + len(page))}}
        if start + size < len(rows):
            paging["next"] = f"{self.url}{path}?after={_cursor(start + len(page))}"
        return {"data": page, "paging": paging}


def _cursor(offset: int) -> str:
    """An opaque cursor, as Meta's are (base64 of where the page starts)."""
    return base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode().rstrip("=")


def _offset(cursor: str | None) -> int:
    if not cursor:
        return 0
    text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    return int(text.removeprefix("offset:"))
