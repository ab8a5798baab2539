"""A local Google Analytics Data API (v1beta) for tests: a real HTTP server the official
``google-analytics-data`` client talks to over its REST transport.

It answers ``POST /v1beta/properties/<id>:runReport`` in the API's published
JSON shape:

- ``dimensionHeaders`` / ``metricHeaders`` (with the metric types), ``rows`` of
  ``dimensionValues`` / ``metricValues`` whose values are all strings (``date``
  as ``YYYYMMDD``, revenue as a decimal string), ``rowCount`` (the total over
  every page; absent with ``rows`` when nothing matched), ``metadata`` with the
  property's ``currencyCode`` and ``timeZone``;
- ``dateRanges`` (``YYYY-MM-DD``, ``today``, ``yesterday``, ``NdaysAgo`` in the
  property's time zone), ``offset`` and ``limit`` (default 10,000, at most
  250,000), ``orderBys`` on dimensions (otherwise the first metric, largest
  first, as GA4 does by default);
- the bearer token must be a JWT signed by the service account's key (the
  self-signed JWT the client makes from a key file): 401 otherwise; an unknown
  property answers 403.

Tests put sessions on days (:meth:`GA4Emulator.put`), revise recent days as
GA4 does (:meth:`GA4Emulator.revise`: a row moves from ``(not set)`` to a
real source) and queue 429 ``RESOURCE_EXHAUSTED`` answers (:meth:`exhaust`).
Every request body is logged in ``requests``.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import threading
from decimal import Decimal
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.emulators.local_server import LocalServer, send_json

DIMENSIONS = ("date", "sessionSource", "sessionMedium", "sessionCampaignName", "deviceCategory")
METRIC_TYPES = {
    "sessions": "TYPE_INTEGER", "engagedSessions": "TYPE_INTEGER", "addToCarts": "TYPE_INTEGER",
    "checkouts": "TYPE_INTEGER", "ecommercePurchases": "TYPE_INTEGER", "purchaseRevenue": "TYPE_CURRENCY",
}
CLIENT_EMAIL = "analytics-reader@emulated-project.iam.gserviceaccount.com"
MAX_LIMIT = 250_000


def write_service_account_key(path: Path) -> tuple[Path, Any]:
    """A service-account key file like the one Google Cloud's console downloads (a fresh RSA key);
    returns its path and the public key the emulator checks tokens with."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    path.write_text(json.dumps({
        "type": "service_account", "project_id": "emulated-project", "private_key_id": "0123456789abcdef",
        "private_key": pem, "client_email": CLIENT_EMAIL, "client_id": "100000000000000000001",
        "auth_uri": "https://accounts.google.com/o/oauth2/auth", "token_uri": "https://oauth2.googleapis.com/token",
    }))
    return path, key.public_key()


class GA4Emulator(LocalServer):
    def __init__(self, public_key: Any, *, property_id: str = "123456789", currency: str = "USD",
                 timezone: str = "America/New_York", today: dt.date | None = None) -> None:
        self.public_key = public_key
        self.property_id = property_id
        self.currency = currency
        self.timezone = timezone
        self.today = today or dt.datetime.now(ZoneInfo(timezone)).date()
        # (date, source, medium, campaign, device) -> metric name -> value (int or Decimal)
        self.rows: dict[tuple[dt.date, str, str, str, str], dict[str, Any]] = {}
        self.requests: list[dict] = []
        self.exhausted = 0  # the next N reports answer 429 RESOURCE_EXHAUSTED
        self.exhaust_after = 0  # ... after this many have been answered
        self.lock = threading.RLock()
        LocalServer.__init__(self, self._handle)

    # -- data --------------------------------------------------------------
    def put(self, day: dt.date, source: str, medium: str, campaign: str, device: str, *, sessions: int,
            engaged: int = 0, carts: int = 0, checkouts: int = 0, purchases: int = 0,
            revenue: str = "0") -> None:
        with self.lock:
            self.rows[(day, source, medium, campaign, device)] = {
                "sessions": sessions, "engagedSessions": engaged, "addToCarts": carts, "checkouts": checkouts,
                "ecommercePurchases": purchases, "purchaseRevenue": Decimal(revenue)}

    def revise(self, day: dt.date, old: tuple[str, str, str, str], new: tuple[str, str, str, str]) -> None:
        """GA4 processing a late hit: the row ``old`` of ``day`` now belongs to ``new`` (added to what it holds)."""
        with self.lock:
            moved = self.rows.pop((day, *old))
            held = self.rows.get((day, *new))
            self.rows[(day, *new)] = moved if held is None else {k: held[k] + v for k, v in moved.items()}

    def exhaust(self, count: int = 1, *, after: int = 0) -> None:
        """The next ``count`` reports (after ``after`` answered ones) answer 429 RESOURCE_EXHAUSTED."""
        with self.lock:
            self.exhausted, self.exhaust_after = count, after

    # -- HTTP --------------------------------------------------------------
    @staticmethod
    def _error(code: int, status: str, message: str) -> dict:
        return {"error": {"code": code, "message": message, "status": status}}

    def _authorized(self, handler: BaseHTTPRequestHandler) -> bool:
        header = handler.headers.get("Authorization") or ""
        if not header.startswith("Bearer "):
            return False
        try:
            claims = jwt.decode(header[7:], self.public_key, algorithms=["RS256"], options={"verify_aud": False})
        except jwt.PyJWTError:
            return False
        return claims.get("iss") == CLIENT_EMAIL

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        body = json.loads(handler.rfile.read(length) or b"{}")
        with self.lock:
            self.requests.append(body)
        match = re.fullmatch(r"/v1beta/properties/([^/:]+):runReport", handler.path.split("?")[0])
        if match is None:
            return send_json(handler, 404, self._error(404, "NOT_FOUND", "Method not found."))
        if not self._authorized(handler):
            return send_json(handler, 401, self._error(
                401, "UNAUTHENTICATED", "Request had invalid authentication credentials."))
        if match.group(1) != self.property_id:
            return send_json(handler, 403, self._error(
                403, "PERMISSION_DENIED", "User does not have sufficient permissions for this property."))
        with self.lock:
            if self.exhausted and self.exhaust_after <= 0:
                self.exhausted -= 1
                return send_json(handler, 429, self._error(
                    429, "RESOURCE_EXHAUSTED", "Exhausted property tokens per hour for a project per property."))
            self.exhaust_after -= 1
            return send_json(handler, 200, self._report(body))

    def _day(self, text: str) -> dt.date:
        if text == "today":
            return self.today
        if text == "yesterday":
            return self.today - dt.timedelta(days=1)
        ago = re.fullmatch(r"(\d+)daysAgo", text)
        if ago:
            return self.today - dt.timedelta(days=int(ago.group(1)))
        return dt.date.fromisoformat(text)

    def _report(self, body: dict) -> dict:
        dimensions = [d["name"] for d in body.get("dimensions", [])]
        metrics = [m["name"] for m in body.get("metrics", [])]
        ranges = [(self._day(r["startDate"]), self._day(r["endDate"])) for r in body.get("dateRanges", [])]
        cells = []
        for key, values in self.rows.items():
            if not any(start <= key[0] <= end for start, end in ranges):
                continue
            named = dict(zip(DIMENSIONS, key))
            cells.append(([named[d] for d in dimensions], [values[m] for m in metrics]))
        # Rows with the same dimension values are one row (GA4 aggregates over the dimensions asked for).
        merged: dict[tuple, list] = {}
        for dims, vals in cells:
            held = merged.get(tuple(dims))
            merged[tuple(dims)] = vals if held is None else [a + b for a, b in zip(held, vals)]
        rows = list(merged.items())
        order = body.get("orderBys") or []
        if order:
            for spec in reversed(order):
                name = spec["dimension"]["dimensionName"]
                rows.sort(key=lambda r, i=dimensions.index(name): r[0][i], reverse=bool(spec.get("desc")))
        else:
            rows.sort(key=lambda r: r[1][0] if r[1] else 0, reverse=True)
        offset = int(body.get("offset") or 0)
        limit = min(int(body.get("limit") or 10_000), MAX_LIMIT)
        page = rows[offset:offset + limit]
        answer: dict[str, Any] = {
            "dimensionHeaders": [{"name": d} for d in dimensions],
            "metricHeaders": [{"name": m, "type": METRIC_TYPES.get(m, "TYPE_INTEGER")} for m in metrics],
            "metadata": {"currencyCode": self.currency, "timeZone": self.timezone},
            "kind": "analyticsData#runReport",
        }
        if page:
            answer["rows"] = [{"dimensionValues": [{"value": _text(v)} for v in dims],
                               "metricValues": [{"value": str(v)} for v in vals]} for dims, vals in page]
        if rows:
            answer["rowCount"] = len(rows)
        return answer


def _text(value: Any) -> str:
    return value.strftime("%Y%m%d") if isinstance(value, dt.date) else str(value)
