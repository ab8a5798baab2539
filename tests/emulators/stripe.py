"""A local Stripe API for tests: a real HTTP server the official ``stripe`` client talks to.

It answers the calls the connector makes, shaped like Stripe's own payloads
(built from ``tests/fixtures/stripe/fixtures3.json``):

- ``GET /v1/account``;
- ``GET /v1/{charges,refunds,disputes,payouts,customers,events}``: newest
  first, ``limit`` (≤ 100), ``has_more``, ``starting_after``, ``created[gte|gt|lt|lte]``,
  ``expand[]`` of ``data.<field>``, ``charge=`` (refunds), ``types[]`` (events);
- ``GET /v1/<resource>/<id>`` (with ``expand[]``), balance transactions included;
- the bearer key is checked (401 otherwise).

Tests change records between syncs (each change also writes the event Stripe
would), and queue faults: 429 with ``Retry-After``, bursts of 5xx (with or
without ``Stripe-Should-Retry``), slow answers. Every request is logged.
``rate_limit`` (requests a second, e.g. 25 as in test mode or 100 as in live
mode) answers 429 ``rate_limit`` to requests beyond it in any one-second
window, as Stripe's rate limiter does; ``limited`` counts them.
"""

from __future__ import annotations

import collections
import copy
import itertools
import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qsl, urlsplit
from tests.emulators import FIXTURES_DIR
from tests.emulators.served import Fault, Served

FIXTURES = FIXTURES_DIR / "stripe" / "fixtures3.json"
API_KEY = "sk_test_emulator_key"
LISTED = ("charges", "refunds", "disputes", "payouts", "customers", "events", "balance_transactions")
PREFIX = {"charges": "ch", "refunds": "re", "disputes": "dp", "payouts": "po", "customers": "cus",
          "events": "evt", "balance_transactions": "txn"}


def load_fixtures() -> dict[str, dict]:
    return json.loads(FIXTURES.read_text())["resources"]


def parse_query(query: str) -> dict[str, Any]:
    """Stripe's form encoding: ``a[b]=1`` → {"a": {"b": "1"}}, ``a[0]=x`` / ``a[]=x`` → {"a": ["x"]}."""
    out: dict[str, Any] = {}
    for key, value in parse_qsl(query, keep_blank_values=True):
        parts = re.findall(r"[^\[\]]+|\[\]", key)
        base, rest = parts[0], parts[1:]
        if not rest:
            out[base] = value
        elif rest[0] == "[]" or rest[0].isdigit():
            out.setdefault(base, []).append(value)
        else:
            out.setdefault(base, {})[rest[0]] = value
    return out


class StripeEmulator(Served):
    def __init__(self, *, account_id: str = "acct_1EmuLat0r", currency: str = "usd",
                 timezone: str = "America/New_York", created: int = 1_700_000_000,
                 rate_limit: float | None = None) -> None:
        self.fixtures = load_fixtures()
        self.account = copy.deepcopy(self.fixtures["account"])
        self.account.update(id=account_id, default_currency=currency, created=created)
        self.account["settings"]["dashboard"].update(timezone=timezone, display_name="Emulated shop")
        self.objects: dict[str, dict[str, dict]] = {name: {} for name in LISTED}
        self.requests: list[tuple[str, dict]] = []
        self.faults: list[Fault] = []
        self.lock = threading.RLock()
        self._ids = itertools.count(1)
        self.rate_limit = rate_limit
        self._recent: collections.deque[float] = collections.deque()  # times of the last second's answers
        self.limited = 0
        self._serve(lambda request, _method: self._handle(request))

    # -- faults ------------------------------------------------------------
    def fail(self, status: int = 503, count: int = 1, *, path: str = "/v1/", skip: int = 0,
             headers: dict[str, str] | None = None) -> None:
        self.faults.append(Fault(status, count, dict(headers or {}), 0.0, path, skip))

    def throttle(self, count: int = 1, *, retry_after: str = "0", path: str = "/v1/") -> None:
        self.fail(429, count, path=path, headers={"Retry-After": retry_after})

    def slow(self, seconds: float, count: int = 1, *, path: str = "/v1/") -> None:
        self.faults.append(Fault(None, count, {}, seconds, path))

    def _over_rate(self) -> bool:
        """True when this request is beyond ``rate_limit`` requests in the last second (then refused)."""
        if self.rate_limit is None:
            return False
        now = time.monotonic()
        with self.lock:
            while self._recent and now - self._recent[0] >= 1.0:
                self._recent.popleft()
            if len(self._recent) >= self.rate_limit:
                self.limited += 1
                return True
            self._recent.append(now)
            return False

    def paths(self, prefix: str = "/v1/") -> list[str]:
        return [p for p, _ in self.requests if p.startswith(prefix)]

    # -- HTTP --------------------------------------------------------------
    def _send(self, handler: BaseHTTPRequestHandler, status: int, body: Any, headers: dict | None = None) -> None:
        self._send_json(handler, status, body, {"Request-Id": f"req_{next(self._ids)}", **(headers or {})})

    @staticmethod
    def _error(kind: str, message: str, code: str | None = None) -> dict:
        return {"error": {"type": kind, "message": message, **({"code": code} if code else {})}}

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(handler.path)
        params = parse_query(parts.query)
        with self.lock:
            self.requests.append((parts.path, params))
        if self._over_rate():
            return self._send(handler, 429, self._error("invalid_request_error", "Too many requests hit the API "
                                                        "too quickly.", "rate_limit"))
        fault = self._fault_for(parts.path)
        if fault is not None:
            if fault.delay:
                time.sleep(fault.delay)
            if fault.status == 429:
                return self._send(handler, 429, self._error("invalid_request_error", "Too many requests.",
                                                            "rate_limit"), fault.headers)
            if fault.status:
                return self._send(handler, fault.status, self._error("api_error", "Something went wrong."),
                                  fault.headers)
        if handler.headers.get("Authorization") != f"Bearer {API_KEY}":
            return self._send(handler, 401, self._error("invalid_request_error", "Invalid API Key provided."))
        segments = [s for s in parts.path.split("/") if s][1:]  # after "v1"
        with self.lock:
            if segments == ["account"]:
                return self._send(handler, 200, copy.deepcopy(self.account))
            if len(segments) == 1 and segments[0] in LISTED:
                return self._send(handler, 200, self._list(segments[0], params))
            if len(segments) == 2 and segments[0] in LISTED and segments[1] in self.objects[segments[0]]:
                obj = self._expanded(self.objects[segments[0]][segments[1]], params.get("expand", []))
                return self._send(handler, 200, obj)
        self._send(handler, 404, self._error("invalid_request_error", f"No such resource: {parts.path}",
                                             "resource_missing"))

    def _expanded(self, obj: dict, paths: list[str], prefix: str = "") -> dict:
        obj = copy.deepcopy(obj)
        for path in paths:
            if not path.startswith(prefix):
                continue
            name = path[len(prefix):]
            value = obj.get(name)
            if isinstance(value, str):
                for resource in ("balance_transactions", "charges", "payouts"):
                    if value in self.objects[resource]:
                        obj[name] = copy.deepcopy(self.objects[resource][value])
        return obj

    def _list(self, resource: str, params: dict[str, Any]) -> dict:
        items = sorted(self.objects[resource].values(), key=lambda o: (o["created"], o["id"]), reverse=True)
        created = params.get("created")
        if isinstance(created, dict):
            tests = {"gte": lambda c, v: c >= v, "gt": lambda c, v: c > v,
                     "lte": lambda c, v: c <= v, "lt": lambda c, v: c < v}
            for op, value in created.items():
                items = [o for o in items if tests[op](o["created"], int(value))]
        elif created is not None:
            items = [o for o in items if o["created"] == int(created)]
        if resource == "refunds" and params.get("charge"):
            items = [o for o in items if o["charge"] == params["charge"]]
        types = params.get("types") or ([params["type"]] if params.get("type") else None)
        if resource == "events" and types:
            items = [o for o in items if o["type"] in types]
        if params.get("starting_after"):
            ids = [o["id"] for o in items]
            items = items[ids.index(params["starting_after"]) + 1:]
        limit = max(1, min(100, int(params.get("limit", 10))))
        page = [self._expanded(o, params.get("expand", []), "data.") for o in items[:limit]]
        return {"object": "list", "url": f"/v1/{resource}", "has_more": len(items) > limit, "data": page}

    # -- records -----------------------------------------------------------
    def _new_id(self, resource: str) -> str:
        return f"{PREFIX[resource]}_{next(self._ids):06d}emu"

    def balance_transaction(self, *, amount: int, currency: str, fee: int, created: int, source: str,
                            kind: str, exchange_rate: float | None = None) -> dict:
        bt = copy.deepcopy(self.fixtures["balance_transaction"])
        bt.update(id=self._new_id("balance_transactions"), amount=amount, currency=currency, fee=fee,
                  net=amount - fee, created=created, available_on=created + 2 * 86400, source=source,
                  type=kind, reporting_category=kind, exchange_rate=exchange_rate,
                  fee_details=[{"amount": fee, "currency": currency, "type": "stripe_fee",
                                "description": "Stripe processing fees", "application": None}] if fee else [])
        self.objects["balance_transactions"][bt["id"]] = bt
        return bt

    def add_charge(self, *, amount: int, created: int, currency: str | None = None, fee: int = 0,
                   captured: bool = True, status: str = "succeeded", metadata: dict | None = None,
                   balance_amount: int | None = None, balance_currency: str | None = None,
                   exchange_rate: float | None = None, payment_intent: str | None = None,
                   customer: str | None = None) -> dict:
        currency = currency or self.account["default_currency"]
        charge = copy.deepcopy(self.fixtures["charge"])
        charge_id = self._new_id("charges")
        charge.update(id=charge_id, amount=amount, amount_captured=amount if captured else 0, captured=captured,
                      created=created, currency=currency, status=status, paid=status == "succeeded",
                      metadata=dict(metadata or {}), payment_intent=payment_intent, customer=customer,
                      balance_transaction=None, refunded=False, amount_refunded=0,
                      refunds={"object": "list", "data": [], "has_more": False,
                               "url": f"/v1/charges/{charge_id}/refunds"})
        charge["payment_method_details"]["card"]["capture_before"] = None if captured else created + 7 * 86400
        self.objects["charges"][charge_id] = charge
        if captured and status == "succeeded":
            self._charge_balance(charge, created, fee, balance_amount, balance_currency, exchange_rate)
        return charge

    def _charge_balance(self, charge: dict, at: int, fee: int, balance_amount: int | None,
                        balance_currency: str | None, exchange_rate: float | None) -> None:
        bt = self.balance_transaction(
            amount=balance_amount if balance_amount is not None else charge["amount_captured"],
            currency=balance_currency or charge["currency"], fee=fee, created=at, source=charge["id"],
            kind="charge", exchange_rate=exchange_rate)
        charge["balance_transaction"] = bt["id"]

    def capture(self, charge_id: str, *, at: int, fee: int = 0, amount: int | None = None) -> dict:
        charge = self.objects["charges"][charge_id]
        charge.update(captured=True, amount_captured=amount if amount is not None else charge["amount"])
        self._charge_balance(charge, at, fee, None, None, None)
        self.emit("charge.captured", charge, at)
        return charge

    def add_refund(self, charge_id: str, *, amount: int, created: int, fee: int = 0, status: str = "succeeded",
                   metadata: dict | None = None) -> dict:
        charge = self.objects["charges"][charge_id]
        refund = copy.deepcopy(self.fixtures["refund"])
        refund.update(id=self._new_id("refunds"), amount=amount, charge=charge_id, created=created,
                      currency=charge["currency"], status=status, payment_intent=charge["payment_intent"],
                      metadata=dict(metadata or {}), balance_transaction=None)
        self.objects["refunds"][refund["id"]] = refund
        if status in ("succeeded", "pending"):
            self._refund_balance(refund, created, fee)
        charge["amount_refunded"] += amount
        charge["refunded"] = charge["amount_refunded"] >= charge["amount_captured"]
        self.emit("charge.refunded", charge, created)
        self.emit("refund.created", refund, created)
        return refund

    def _refund_balance(self, refund: dict, at: int, fee: int) -> None:
        charge = self.objects["charges"][refund["charge"]]
        paid = self.objects["balance_transactions"].get(charge["balance_transaction"] or "")
        amount = refund["amount"]
        if paid and paid["currency"] != charge["currency"]:  # settle the refund at the charge's rate
            amount = round(amount * paid["amount"] / charge["amount_captured"])
        bt = self.balance_transaction(amount=-amount, currency=paid["currency"] if paid else refund["currency"],
                                      fee=fee, created=at, source=refund["id"], kind="refund")
        refund["balance_transaction"] = bt["id"]

    def set_refund_status(self, refund_id: str, status: str, *, at: int) -> dict:
        refund = self.objects["refunds"][refund_id]
        refund["status"] = status
        if status == "failed" and refund["balance_transaction"]:
            original = self.objects["balance_transactions"][refund["balance_transaction"]]
            bt = self.balance_transaction(amount=-original["amount"], currency=original["currency"],
                                          fee=-original["fee"], created=at, source=refund_id,
                                          kind="refund_failure")
            refund["failure_balance_transaction"] = bt["id"]
        self.emit("charge.refund.updated", refund, at)
        return refund

    def add_dispute(self, charge_id: str, *, created: int, amount: int | None = None, fee: int = 1500,
                    status: str = "needs_response", reason: str = "fraudulent") -> dict:
        charge = self.objects["charges"][charge_id]
        dispute = copy.deepcopy(self.fixtures["dispute"])
        amount = charge["amount_captured"] if amount is None else amount
        dispute.update(id=self._new_id("disputes"), amount=amount, charge=charge_id, created=created,
                       currency=charge["currency"], status=status, reason=reason,
                       payment_intent=charge["payment_intent"], balance_transactions=[])
        if not status.startswith("warning"):
            dispute["balance_transactions"].append(self.balance_transaction(
                amount=-amount, currency=charge["currency"], fee=fee, created=created, source=dispute["id"],
                kind="adjustment"))
        charge["disputed"] = True
        self.objects["disputes"][dispute["id"]] = dispute
        self.emit("charge.dispute.created", dispute, created)
        return dispute

    def close_dispute(self, dispute_id: str, *, won: bool, at: int) -> dict:
        dispute = self.objects["disputes"][dispute_id]
        dispute["status"] = "won" if won else "lost"
        if won:
            withdrawn = dispute["balance_transactions"][0]
            dispute["balance_transactions"].append(self.balance_transaction(
                amount=-withdrawn["amount"], currency=withdrawn["currency"], fee=-withdrawn["fee"], created=at,
                source=dispute_id, kind="adjustment"))
        self.emit("charge.dispute.closed", dispute, at)
        return dispute

    def add_payout(self, *, amount: int, created: int, arrival_date: int, status: str = "in_transit") -> dict:
        payout = copy.deepcopy(self.fixtures["payout"])
        payout.update(id=self._new_id("payouts"), amount=amount, created=created, arrival_date=arrival_date,
                      currency=self.account["default_currency"], status=status, balance_transaction=None)
        self.objects["payouts"][payout["id"]] = payout
        return payout

    def set_payout_status(self, payout_id: str, status: str, *, at: int) -> dict:
        payout = self.objects["payouts"][payout_id]
        payout["status"] = status
        self.emit("payout.paid" if status == "paid" else "payout.updated", payout, at)
        return payout

    def add_customer(self, *, email: str | None, created: int, country: str | None = None, name: str | None = None,
                     phone: str | None = None) -> dict:
        customer = copy.deepcopy(self.fixtures["customer"])
        customer.update(id=self._new_id("customers"), email=email, created=created, name=name, phone=phone)
        customer["address"]["country"] = country
        self.objects["customers"][customer["id"]] = customer
        return customer

    def delete_customer(self, customer_id: str, *, at: int) -> dict:
        """Delete a customer as ``DELETE /v1/customers/<id>`` does: gone from lists, a ``customer.deleted`` event."""
        with self.lock:
            customer = self.objects["customers"].pop(customer_id)
            return self.emit("customer.deleted", customer, at)

    def emit(self, kind: str, obj: dict, created: int) -> dict:
        event = copy.deepcopy(self.fixtures["event"])
        event.update(id=self._new_id("events"), type=kind, created=created,
                     data={"object": copy.deepcopy(obj)}, api_version="2025-01-27.acacia")
        self.objects["events"][event["id"]] = event
        return event
