"""A local PayPal REST API for tests: a real HTTP server the official ``paypal-server-sdk`` talks to.

It follows PayPal's published OpenAPI description of Transaction Search
(``reporting_transactions_v1.json``, version 1.9) for what the connector uses:

- ``POST /v1/oauth2/token``: client credentials in Basic auth, form
  ``grant_type=client_credentials``; a wrong pair answers 401
  ``invalid_client`` as PayPal does;
- ``GET /v1/reporting/balances``: ``account_id`` and ``balances`` (currency,
  ``primary``, ``total_balance``);
- ``GET /v1/reporting/transactions``: ``start_date`` and ``end_date`` required,
  RFC 3339 with seconds (the parameters' pattern), at most 31 days apart;
  ``page_size`` 1–500 (default 100), ``page`` from 1; ``fields``; the
  answer's ``transaction_details``, ``account_number``, ``start_date``,
  ``end_date``, ``last_refreshed_datetime``, ``page``, ``total_items``,
  ``total_pages``, ``links``. Dates are written ``2026-07-01T09:15:22-0400``
  (the account's offset), as PayPal writes them unless a header asks for ISO;
  money is ``{"currency_code", "value"}`` with the value a signed decimal string.
- More than ``max_results`` matching records (PayPal: 10,000) answers 400
  ``RESULTSET_TOO_LARGE``; a transaction is listed only ``lag`` after it
  happened (PayPal: up to three hours), and ``last_refreshed_datetime`` says
  up to when the data is complete.

Tests queue faults (429 ``RATE_LIMIT_REACHED`` with ``Retry-After``, 5xx); every
request is logged with its query.
"""

from __future__ import annotations

import base64
import datetime as dt
import itertools
import re
import threading
from decimal import Decimal
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from tests.emulators.served import Fault, Served

CLIENT_ID = "AYemulatorClientId"
CLIENT_SECRET = "EMemulatorClientSecret"
TOKEN = "A21AAemulatorAccessToken"
ACCOUNT = "XZXSPECPDZHZU"
UTC = dt.timezone.utc
RFC3339 = re.compile(r"^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[1-2][0-9]|3[0-1])[Tt]([0-1][0-9]|2[0-3]):[0-5][0-9]:"
                     r"([0-5][0-9]|60)([.][0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2})$")


def paypal_time(value: dt.datetime, offset: dt.timezone) -> str:
    """``2026-07-01T09:15:22-0400``: PayPal's own form of a time."""
    return value.astimezone(offset).strftime("%Y-%m-%dT%H:%M:%S%z")


def _parse_rfc3339(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("z", "Z").replace("Z", "+00:00").replace("t", "T"))


class PayPalEmulator(Served):
    def __init__(self, *, currency: str = "USD", offset_hours: int = -4, lag: dt.timedelta = dt.timedelta(hours=3),
                 max_results: int = 10_000, client_secret: str = CLIENT_SECRET) -> None:
        self.currency = currency
        self.offset = dt.timezone(dt.timedelta(hours=offset_hours))
        self.lag = lag
        self.max_results = max_results
        self.client_secret = client_secret
        self.details: list[dict] = []  # transaction details, as listed
        self.requests: list[tuple[str, dict]] = []
        self.faults: list[Fault] = []
        self.tokens_issued = 0
        self.lock = threading.RLock()
        self._ids = itertools.count(1)
        self._serve(self._handle, ("GET", "POST"))

    # -- records -----------------------------------------------------------
    def _money(self, value: Decimal | str, currency: str | None = None) -> dict:
        return {"currency_code": currency or self.currency, "value": f"{Decimal(value):.2f}"}

    def add(self, code: str, at: dt.datetime, gross: str, fee: str | None = None, *, status: str = "S",
            invoice_id: str | None = None, custom: str | None = None, reference: str | None = None,
            currency: str | None = None, updated: dt.datetime | None = None) -> dict:
        """A transaction with PayPal's signs: ``gross`` and ``fee`` as the balance sees them."""
        number = next(self._ids)
        info: dict[str, Any] = {
            "paypal_account_id": ACCOUNT, "transaction_id": f"{number:05d}TX{code}EMULATED"[:17],
            "transaction_event_code": code, "transaction_initiation_date": paypal_time(at, self.offset),
            "transaction_updated_date": paypal_time(updated or at, self.offset),
            "transaction_amount": self._money(gross, currency), "transaction_status": status,
            "protection_eligibility": "01",
        }
        if fee is not None:
            info["fee_amount"] = self._money(fee, currency)
        if invoice_id:
            info["invoice_id"] = invoice_id
        if custom:
            info["custom_field"] = custom
        if reference:
            info["paypal_reference_id"] = reference
            info["paypal_reference_id_type"] = "TXN"
        detail = {"transaction_info": info, "_at": at}
        with self.lock:
            self.details.append(detail)
        return info

    def sale(self, at: dt.datetime, gross: str, fee: str, **kw: Any) -> dict:
        return self.add(kw.pop("code", "T0006"), at, gross, fee, **kw)

    def refund(self, sale: dict, at: dt.datetime, gross: str, fee: str, **kw: Any) -> dict:
        return self.add("T1107", at, gross, fee, reference=sale["transaction_id"], **kw)

    def chargeback(self, sale: dict, at: dt.datetime, gross: str, fee: str, **kw: Any) -> dict:
        return self.add("T1106", at, gross, fee, reference=sale["transaction_id"], **kw)

    def set_status(self, info: dict, status: str, at: dt.datetime) -> None:
        with self.lock:
            info["transaction_status"] = status
            info["transaction_updated_date"] = paypal_time(at, self.offset)

    # -- faults ------------------------------------------------------------
    def fail(self, status: int = 503, count: int = 1, *, skip: int = 0, headers: dict | None = None,
             path: str = "/v1/reporting/transactions") -> None:
        self.faults.append(Fault(status, count, dict(headers or {}), 0.0, path, skip))

    def throttle(self, count: int = 1, *, retry_after: str = "0") -> None:
        self.fail(429, count, headers={"Retry-After": retry_after})

    def searches(self) -> list[dict]:
        return [q for p, q in self.requests if p == "/v1/reporting/transactions"]

    # -- HTTP --------------------------------------------------------------
    def _send(self, handler: BaseHTTPRequestHandler, status: int, body: Any, headers: dict | None = None) -> None:
        self._send_json(handler, status, body, {"Paypal-Debug-Id": f"f{next(self._ids):012x}", **(headers or {})})

    @staticmethod
    def _error(name: str, message: str, issue: str | None = None) -> dict:
        body: dict[str, Any] = {"name": name, "message": message, "debug_id": "b1e8e1a0c3d2e"}
        if issue:
            body["details"] = [{"issue": issue}]
        return body

    def _handle(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        parts = urlsplit(handler.path)
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length).decode() if length else ""
        with self.lock:
            self.requests.append((parts.path, query))
        if method == "POST" and parts.path == "/v1/oauth2/token":
            return self._token(handler, dict(parse_qsl(body)))
        fault = self._fault_for(parts.path)
        if fault is not None:
            if fault.status == 429:
                return self._send(handler, 429, self._error("RATE_LIMIT_REACHED", "Too many requests. Blocked "
                                                            "due to rate limiting."), fault.headers)
            return self._send(handler, fault.status, self._error("INTERNAL_SERVER_ERROR", "An internal server "
                                                                 "error occurred."), fault.headers)
        if handler.headers.get("Authorization") != f"Bearer {TOKEN}":
            return self._send(handler, 401, {"error": "invalid_token",
                                             "error_description": "Token signature verification failed"})
        if method == "GET" and parts.path == "/v1/reporting/balances":
            return self._send(handler, 200, self._balances())
        if method == "GET" and parts.path == "/v1/reporting/transactions":
            return self._search(handler, query)
        return self._send(handler, 404, self._error("RESOURCE_NOT_FOUND", "The specified resource does not exist."))

    def _token(self, handler: BaseHTTPRequestHandler, form: dict) -> None:
        expected = "Basic " + base64.b64encode(f"{CLIENT_ID}:{self.client_secret}".encode()).decode()
        if handler.headers.get("Authorization") != expected:
            return self._send(handler, 401, {"error": "invalid_client",
                                             "error_description": "Client Authentication failed"})
        if form.get("grant_type") != "client_credentials":
            return self._send(handler, 400, {"error": "unsupported_grant_type",
                                             "error_description": "Grant Type is NULL"})
        with self.lock:
            self.tokens_issued += 1
        return self._send(handler, 200, {
            "scope": "https://uri.paypal.com/services/reporting/search/read", "access_token": TOKEN,
            "token_type": "Bearer", "app_id": "APP-80W284485P519543T", "expires_in": 32400,
            "nonce": "2026-07-01T13:15:22ZemulatorNonce"})

    def _balances(self) -> dict:
        now = dt.datetime.now(UTC)
        total = sum((Decimal(d["transaction_info"]["transaction_amount"]["value"])
                     + Decimal((d["transaction_info"].get("fee_amount") or {}).get("value") or 0)
                     for d in self.details), Decimal(0))
        return {"balances": [{"currency": self.currency, "primary": True, "total_balance": self._money(total),
                              "available_balance": self._money(total), "withheld_balance": self._money(0)}],
                "account_id": ACCOUNT, "as_of_time": paypal_time(now, self.offset),
                "last_refresh_time": paypal_time(now - self.lag, self.offset)}

    def refreshed(self) -> dt.datetime:
        return (dt.datetime.now(UTC) - self.lag).replace(microsecond=0)

    def _search(self, handler: BaseHTTPRequestHandler, query: dict) -> None:
        start, end = query.get("start_date"), query.get("end_date")
        if not start or not end:
            return self._send(handler, 400, self._error("INVALID_REQUEST", "Request is not well-formed, "
                                                        "syntactically incorrect, or violates schema.",
                                                        "MISSING_REQUIRED_PARAMETER"))
        if not RFC3339.match(start) or not RFC3339.match(end):
            return self._send(handler, 400, self._error("INVALID_REQUEST", "Invalid date format.",
                                                        "INVALID_PARAMETER_SYNTAX"))
        low, high = _parse_rfc3339(start), _parse_rfc3339(end)
        if high < low or high - low > dt.timedelta(days=31):
            return self._send(handler, 400, self._error("INVALID_REQUEST", "Date range is greater than 31 "
                                                        "days.", "INVALID_DATE_RANGE"))
        try:
            size, page = int(query.get("page_size", 100)), int(query.get("page", 1))
        except ValueError:
            size, page = 0, 0
        if not 1 <= size <= 500 or page < 1:
            return self._send(handler, 400, self._error("INVALID_REQUEST", "Invalid page or page size.",
                                                        "INVALID_PARAMETER_VALUE"))
        refreshed = self.refreshed()
        with self.lock:
            matching = [d for d in self.details if low <= d["_at"] <= high and d["_at"] <= refreshed]
        matching.sort(key=lambda d: d["_at"])
        if len(matching) > self.max_results:
            return self._send(handler, 400, self._error("RESULTSET_TOO_LARGE", "Result set size is greater "
                                                        "than the maximum limit. Change the filter criteria "
                                                        "and try again."))
        pages = max(1, -(-len(matching) // size))
        chosen = matching[(page - 1) * size: page * size]
        fields = {f.strip() for f in query.get("fields", "transaction_info").split(",")}
        listed = [{k: v for k, v in d.items() if not k.startswith("_") and ("all" in fields or k in fields)}
                  for d in chosen]
        self._send(handler, 200, {
            "transaction_details": listed, "account_number": ACCOUNT,
            "start_date": paypal_time(low, self.offset), "end_date": paypal_time(high, self.offset),
            "last_refreshed_datetime": paypal_time(refreshed, self.offset),
            "page": page, "total_items": len(matching), "total_pages": pages,
            "links": [{"href": f"{self.url}/v1/reporting/transactions?page={page}", "rel": "self",
                       "method": "GET"}],
        })
