"""A local WooCommerce site for tests: the REST API v3 (``/wp-json/wc/v3``) over real HTTP.

Records are built from the shapes of the published example payloads
(``tests/fixtures/woocommerce``) and served the way a WordPress site serves
them:

- authentication as WooCommerce checks it: OAuth 1.0a one-legged query
  signing (HMAC-SHA256 or -SHA1, the string to sign built like
  ``WC_REST_Authentication``, 15-minute timestamp window, nonces used once)
  as the official Python library sends it over plain http, HTTP Basic and
  ``consumer_key``/``consumer_secret`` query parameters (what a site behind
  TLS accepts); anything else is a 401 with WooCommerce's error body;
- duplicated query parameters resolve as PHP's ``$_GET`` does (the last wins);
- pages with ``page``/``per_page`` (default 10, at most 100, else 400),
  ``X-WP-Total``/``X-WP-TotalPages`` and a ``Link`` header; ``orderby``
  (date, modified, id) and ``order``; ``modified_after``/``modified_before``
  strictly after/before, in the site's local time unless ``dates_are_gmt``;
  ``_fields`` to trim records; unknown parameters ignored (so ``modified_after``
  on customers does nothing, as on a real site);
- the site index ``/wp-json/`` with ``timezone_string`` and ``gmt_offset``;
  ``settings/general`` with ``woocommerce_currency``;
- scripted faults: 429 or 503 with ``Retry-After``, 5xx bursts, slow answers
  (client timeouts), and hooks that change records while a sync walks pages.
"""

from __future__ import annotations

import base64
import copy
import datetime as dt
import hashlib
import hmac
import json
import threading
import time
from dataclasses import dataclass, field
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable
from urllib.parse import parse_qsl, quote, urlsplit
from zoneinfo import ZoneInfo
from tests.emulators import FIXTURES_DIR

FIXTURES = FIXTURES_DIR / "woocommerce"
UTC = dt.timezone.utc
API = "/wp-json/wc/v3/"


def _fixture(name: str) -> Any:
    path = FIXTURES / name
    if path.exists():
        return json.loads(path.read_text())
    return None


def money(value: Any) -> str:
    return f"{Decimal(str(value)):.2f}"


def neg(value: Any) -> str:
    return money(-Decimal(str(value)))


@dataclass
class Fault:
    """An answer the emulator gives instead of the real one.

    ``match(request)`` picks the requests; ``times`` is how many it hits
    (None: every one); ``status`` 0 with a ``delay`` only slows the real answer.
    """

    match: Callable[["Request"], bool]
    status: int = 503
    times: int | None = 1
    retry_after: str | None = None
    delay: float = 0.0
    body: str = "<html><body><h1>503 Service Unavailable</h1></body></html>"
    hits: int = 0


@dataclass
class Request:
    method: str
    path: str  # without the /wp-json/wc/v3/ prefix for API calls
    query: dict[str, str]
    auth: str | None = None
    at: float = field(default_factory=time.monotonic)


class WooEmulator:
    """One WooCommerce site. Use as a context manager; ``url`` is its address."""

    def __init__(
        self,
        *,
        key: str = "ck_0123456789abcdef",
        secret: str = "cs_fedcba9876543210",
        timezone: str = "America/New_York",
        currency: str = "USD",
        name: str = "Emulated Shop",
        country: str = "US:NY",
    ) -> None:
        self.key, self.secret = key, secret
        self.timezone, self.currency, self.name, self.country = timezone, currency, name, country
        self.orders: dict[int, dict] = {}
        self.refunds: dict[int, list[dict]] = {}
        self.customers: dict[int, dict] = {}
        self.products: dict[int, dict] = {}
        self.variations: dict[int, dict[int, dict]] = {}
        self.requests: list[Request] = []
        self.faults: list[Fault] = []
        self.hooks: list[Callable[[Request], None]] = []
        self.send_totals = True  # False: a cache in front drops the X-WP-Total(Pages) headers
        self._nonces: set[tuple[str, str]] = set()
        self._lock = threading.RLock()
        self._server: ThreadingHTTPServer | None = None
        self._item_ids = iter(range(9000, 10**9))

    # -- server --------------------------------------------------------------
    def __enter__(self) -> "WooEmulator":
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        emulator = self

        class Handler(_Handler):
            site = emulator

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, name="woo-emulator", daemon=True).start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @property
    def url(self) -> str:
        assert self._server is not None, "start the emulator first"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def host(self) -> str:
        return urlsplit(self.url).netloc

    # -- faults --------------------------------------------------------------
    def fail(self, path_prefix: str, status: int = 503, *, times: int | None = 1, retry_after: str | None = None,
             page: int | None = None, delay: float = 0.0) -> Fault:
        """Answer ``status`` to the next ``times`` requests whose path starts with ``path_prefix``."""

        def match(req: Request) -> bool:
            return req.path.startswith(path_prefix) and (page is None or req.query.get("page", "1") == str(page))

        fault = Fault(match, status, times, retry_after, delay)
        self.faults.append(fault)
        return fault

    def slow(self, path_prefix: str, seconds: float, *, times: int | None = 1) -> Fault:
        """Answer normally but only after ``seconds`` (a client with a shorter timeout gives up)."""
        fault = Fault(lambda r: r.path.startswith(path_prefix), 0, times, None, seconds)
        self.faults.append(fault)
        return fault

    def calls(self, path_prefix: str = "") -> list[Request]:
        return [r for r in self.requests if r.path.startswith(path_prefix)]

    # -- dates ---------------------------------------------------------------
    def _dates(self, name: str, when: dt.datetime | None) -> dict[str, str | None]:
        if when is None:
            return {name: None, f"{name}_gmt": None}
        when = when.astimezone(UTC).replace(microsecond=0)
        local = when.astimezone(ZoneInfo(self.timezone)).replace(tzinfo=None)
        return {name: local.isoformat(), f"{name}_gmt": when.replace(tzinfo=None).isoformat()}

    def gmt_offset(self) -> float:
        offset = dt.datetime.now(ZoneInfo(self.timezone)).utcoffset() or dt.timedelta(0)
        return offset.total_seconds() / 3600

    # -- building records ----------------------------------------------------
    def add_customer(self, customer_id: int, *, email: str, created: dt.datetime, modified: dt.datetime | None = None,
                     country: str = "US", role: str = "customer") -> dict:
        record = copy.deepcopy(_fixture("customers__retrieve_a_customer.json") or {})
        record.update({"id": customer_id, "email": email, "role": role, "username": email.split("@")[0]})
        record.update(self._dates("date_created", created))
        record.update(self._dates("date_modified", modified or created))
        record.setdefault("billing", {})["email"] = email
        record["billing"]["country"] = country
        record.setdefault("shipping", {})["country"] = country
        record["_links"] = self._links(f"customers/{customer_id}")
        with self._lock:
            self.customers[customer_id] = record
        return record

    def add_product(self, product_id: int, *, name: str, created: dt.datetime, modified: dt.datetime | None = None,
                    type: str = "simple",  # noqa: A002 - WooCommerce's field
                    sku: str = "", price: str = "", stock: int | None = None,
                    status: str = "publish", category: str | None = "Clothing", meta: dict[str, str] | None = None,
                    cost: str | None = None) -> dict:
        record = copy.deepcopy(_fixture("products__retrieve_a_product.json") or {})
        record.update({
            "id": product_id, "name": name, "slug": name.lower().replace(" ", "-"), "type": type, "status": status,
            "sku": sku, "price": price, "regular_price": price, "manage_stock": stock is not None,
            "stock_quantity": stock, "variations": [], "categories": [],
            "meta_data": [{"id": 100 + i, "key": k, "value": v} for i, (k, v) in enumerate((meta or {}).items())],
        })
        if category:
            record["categories"] = [{"id": 9, "name": category, "slug": category.lower()}]
        if cost is not None:  # WooCommerce 9.5+ cost of goods sold
            record["cost_of_goods_sold"] = {"values": [{"defined_value": float(cost), "effective_value": float(cost)}],
                                            "total_value": float(cost)}
        record.update(self._dates("date_created", created))
        record.update(self._dates("date_modified", modified or created))
        record["_links"] = self._links(f"products/{product_id}")
        with self._lock:
            self.products[product_id] = record
            if type == "variable":
                self.variations.setdefault(product_id, {})
        return record

    def add_variation(self, product_id: int, variation_id: int, *, sku: str, price: str, option: str,
                      created: dt.datetime, modified: dt.datetime | None = None, stock: int | None = None,
                      manage_stock: bool | str | None = None, meta: dict[str, str] | None = None) -> dict:
        record = copy.deepcopy(_fixture("product_variations__retrieve_a_product_variation.json") or {})
        record.update({
            "id": variation_id, "sku": sku, "price": price, "regular_price": price,
            "manage_stock": (stock is not None) if manage_stock is None else manage_stock,
            "stock_quantity": stock, "attributes": [{"id": 6, "name": "Size", "option": option}],
            "meta_data": [{"id": 200 + i, "key": k, "value": v} for i, (k, v) in enumerate((meta or {}).items())],
        })
        record.update(self._dates("date_created", created))
        record.update(self._dates("date_modified", modified or created))
        record["_links"] = self._links(f"products/{product_id}/variations/{variation_id}")
        with self._lock:
            self.variations.setdefault(product_id, {})[variation_id] = record
            self.products[product_id]["variations"] = sorted(self.variations[product_id])
        return record

    def add_order(
        self,
        order_id: int,
        *,
        created: dt.datetime,
        modified: dt.datetime | None = None,
        status: str = "processing",
        created_via: str = "checkout",
        customer_id: int = 0,
        email: str = "guest@example.com",
        country: str = "US",
        lines: list[dict] = (),
        shipping: list[dict] = (),
        fees: list[dict] = (),
        coupons: list[dict] = (),
        paid: dt.datetime | None | str = "created",
        completed: dt.datetime | None = None,
        currency: str | None = None,
    ) -> dict:
        """An order; ``lines`` hold id, product_id, variation_id, sku, name, quantity, subtotal, total, total_tax."""
        template = copy.deepcopy(_fixture("orders__retrieve_an_order.json") or {})
        line_template = (template.get("line_items") or [{}])[0]
        ship_template = (template.get("shipping_lines") or [{}])[0]
        items = []
        for line in lines:
            item = copy.deepcopy(line_template)
            qty = int(line["quantity"])
            subtotal = Decimal(money(line["subtotal"]))
            total = Decimal(money(line.get("total", line["subtotal"])))
            tax = Decimal(money(line.get("total_tax", "0")))
            subtotal_tax = Decimal(money(line.get("subtotal_tax", tax)))
            item.update({
                "id": line["id"], "name": line.get("name", f"Item {line['id']}"), "product_id": line["product_id"],
                "variation_id": line.get("variation_id", 0), "quantity": qty, "sku": line.get("sku", ""),
                "subtotal": money(subtotal), "subtotal_tax": money(subtotal_tax), "total": money(total),
                "total_tax": money(tax), "taxes": [{"id": 75, "total": money(tax), "subtotal": money(subtotal_tax)}],
                "meta_data": [], "price": float(total / qty) if qty else 0.0,
            })
            items.append(item)
        ship_items = []
        for s in shipping:
            item = copy.deepcopy(ship_template)
            item.update({"id": s["id"], "method_title": s.get("title", "Flat rate"), "method_id": "flat_rate",
                         "total": money(s["total"]), "total_tax": money(s.get("total_tax", "0")), "meta_data": []})
            ship_items.append(item)
        fee_items = [{
            "id": f["id"], "name": f["name"], "tax_class": "", "tax_status": "taxable", "total": money(f["total"]),
            "total_tax": money(f.get("total_tax", "0")), "taxes": [], "meta_data": [],
        } for f in fees]
        coupon_items = [{
            "id": c["id"], "code": c["code"], "discount": money(c["discount"]),
            "discount_tax": money(c.get("discount_tax", "0")), "meta_data": [],
        } for c in coupons]
        d = lambda v: Decimal(str(v))  # noqa: E731
        line_tax = sum((d(i["total_tax"]) for i in items), Decimal(0))
        fee_tax = sum((d(i["total_tax"]) for i in fee_items), Decimal(0))
        ship_total = sum((d(i["total"]) for i in ship_items), Decimal(0))
        ship_tax = sum((d(i["total_tax"]) for i in ship_items), Decimal(0))
        goods = sum((d(i["total"]) for i in items), Decimal(0))
        fee_total = sum((d(i["total"]) for i in fee_items), Decimal(0))
        discount = sum((d(i["subtotal"]) - d(i["total"]) for i in items), Decimal(0))
        discount_tax = sum((d(i["subtotal_tax"]) - d(i["total_tax"]) for i in items), Decimal(0))
        total_tax = line_tax + fee_tax + ship_tax
        order = template
        order.update({
            "id": order_id, "number": str(order_id), "order_key": f"wc_order_{order_id:013d}", "status": status,
            "created_via": created_via, "currency": currency or self.currency, "customer_id": customer_id,
            "discount_total": money(discount), "discount_tax": money(discount_tax), "shipping_total": money(ship_total),
            "shipping_tax": money(ship_tax), "cart_tax": money(line_tax + fee_tax), "total_tax": money(total_tax),
            "total": money(goods + fee_total + ship_total + total_tax), "prices_include_tax": False,
            "line_items": items, "shipping_lines": ship_items, "fee_lines": fee_items, "coupon_lines": coupon_items,
            "tax_lines": [], "refunds": [], "meta_data": [],
        })
        order["billing"] = {**order.get("billing", {}), "email": email, "country": country}
        order["shipping"] = {**order.get("shipping", {}), "country": country}
        order.update(self._dates("date_created", created))
        order.update(self._dates("date_modified", modified or created))
        order.update(self._dates("date_paid", created if paid == "created" else paid))
        order.update(self._dates("date_completed", completed))
        order["_links"] = self._links(f"orders/{order_id}")
        with self._lock:
            self.orders[order_id] = order
            self.refunds.setdefault(order_id, [])
        return order

    def add_refund(
        self,
        order_id: int,
        refund_id: int,
        *,
        created: dt.datetime,
        lines: list[tuple[int, int, str, str]] = (),
        shipping: list[tuple[int, str, str]] = (),
        amount: str | None = None,
        reason: str = "",
        touch: bool = True,
    ) -> dict:
        """A refund: ``lines`` hold (order line id, quantity, total, tax),
        ``shipping`` (shipping line id, total, tax)."""
        with self._lock:
            order = self.orders[order_id]
            by_id = {i["id"]: i for i in order["line_items"]}
            ship_by_id = {i["id"]: i for i in order["shipping_lines"]}
            items = []
            paid_back = Decimal(0)
            for line_id, qty, total, tax in lines:
                source = by_id[line_id]
                items.append({
                    "id": next(self._item_ids), "name": source["name"], "product_id": source["product_id"],
                    "variation_id": source["variation_id"], "quantity": -qty, "tax_class": "",
                    "subtotal": neg(total), "subtotal_tax": neg(tax), "total": neg(total), "total_tax": neg(tax),
                    "taxes": [{"id": 75, "total": neg(tax), "subtotal": neg(tax)}],
                    "meta_data": [{"id": next(self._item_ids), "key": "_refunded_item_id", "value": str(line_id)}],
                    "sku": source["sku"], "price": -float(Decimal(total) / qty) if qty else 0.0,
                })
                paid_back += Decimal(total) + Decimal(tax)
            ship_items = []
            for line_id, total, tax in shipping:
                source = ship_by_id[line_id]
                ship_items.append({
                    "id": next(self._item_ids), "method_title": source["method_title"],
                    "method_id": source["method_id"],
                    "total": neg(total), "total_tax": neg(tax), "taxes": [],
                    "meta_data": [{"id": next(self._item_ids), "key": "_refunded_item_id", "value": str(line_id)}],
                })
                paid_back += Decimal(total) + Decimal(tax)
            refund = copy.deepcopy((_fixture("order_refunds__list_all_refunds.json") or [{}])[0])
            refund.update({
                "id": refund_id, "amount": money(amount if amount is not None else paid_back), "reason": reason,
                "refunded_by": 1, "refunded_payment": True, "meta_data": [], "line_items": items,
                "shipping_lines": ship_items, "tax_lines": [], "fee_lines": [],
            })
            refund.update(self._dates("date_created", created))
            refund["_links"] = self._links(f"orders/{order_id}/refunds/{refund_id}")
            self.refunds[order_id].append(refund)
            if touch:
                order.update(self._dates("date_modified", created))
        return refund

    def update_order(self, order_id: int, *, modified: dt.datetime, **changes: Any) -> dict:
        with self._lock:
            order = self.orders[order_id]
            order.update(changes)
            order.update(self._dates("date_modified", modified))
            if changes.get("status") == "completed" and not order.get("date_completed_gmt"):
                order.update(self._dates("date_completed", modified))
            return order

    def update_product(self, product_id: int, *, modified: dt.datetime, **changes: Any) -> dict:
        with self._lock:
            record = self.products[product_id]
            record.update(changes)
            record.update(self._dates("date_modified", modified))
            return record

    def update_variation(self, product_id: int, variation_id: int, *, modified: dt.datetime, **changes: Any) -> dict:
        with self._lock:
            record = self.variations[product_id][variation_id]
            record.update(changes)
            record.update(self._dates("date_modified", modified))
            return record

    def _links(self, path: str) -> dict:
        base = "https://example.com/wp-json/wc/v3/"
        if self._server is not None:
            base = f"{self.url}/wp-json/wc/v3/"
        return {"self": [{"href": base + path}], "collection": [{"href": base + path.rsplit("/", 1)[0]}]}

    def order_payload(self, order_id: int) -> dict:
        """The order as the API (and a webhook) sends it, with its refunds summary."""
        with self._lock:
            order = copy.deepcopy(self.orders[order_id])
            order["refunds"] = [
                {"id": r["id"], "reason": r["reason"], "total": neg(r["amount"])}
                for r in sorted(self.refunds.get(order_id, []), key=lambda r: -r["id"])
            ]
            return order

    # -- serving -------------------------------------------------------------
    def index(self) -> dict:
        return {
            "name": self.name, "description": "Just another WooCommerce store", "url": self.url, "home": self.url,
            "gmt_offset": self.gmt_offset(), "timezone_string": self.timezone,
            "namespaces": ["oembed/1.0", "wc/v3", "wp/v2"], "authentication": {},
            "routes": {"/": {"namespace": "", "methods": ["GET"]}},
        }

    def settings_general(self) -> list[dict]:
        def option(option_id: str, label: str, value: str, default: str) -> dict:
            return {"id": option_id, "label": label, "description": "", "type": "select", "default": default,
                    "tip": "", "value": value, "group_id": "general",
                    "_links": self._links(f"settings/general/{option_id}")}

        return [
            option("woocommerce_default_country", "Country and state", self.country, "US:CA"),
            option("woocommerce_currency", "Currency", self.currency, "USD"),
            option("woocommerce_price_num_decimals", "Number of decimals", "2", "2"),
        ]


class _HTTPError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def _rawurlencode(value: str) -> str:
    return quote(value, safe="-_.~")


def _parse_time(value: str) -> dt.datetime:
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise _HTTPError(400, "rest_invalid_param", "Invalid parameter(s): modified_after") from None
    return parsed


class _Handler(BaseHTTPRequestHandler):
    site: WooEmulator
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet in tests
        pass

    def handle_one_request(self) -> None:
        try:
            super().handle_one_request()
        except (BrokenPipeError, ConnectionResetError):  # the client timed out and left
            self.close_connection = True

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        self._serve("POST")

    # -- plumbing ------------------------------------------------------------
    def _serve(self, method: str) -> None:
        site = self.site
        parts = urlsplit(self.path)
        query = dict(parse_qsl(parts.query, keep_blank_values=True))  # PHP: the last duplicate wins
        path = parts.path
        api_path = path[len(API):].strip("/") if path.startswith(API) else path
        request = Request(method, api_path, query)
        with site._lock:
            site.requests.append(request)
        for hook in list(site.hooks):
            hook(request)
        fault = self._fault(request)
        if fault is not None and fault.delay:
            time.sleep(fault.delay)
        if fault is not None and fault.status:
            headers = {"Content-Type": "text/html; charset=UTF-8"}
            if fault.retry_after is not None:
                headers["Retry-After"] = fault.retry_after
            self._send(fault.status, fault.body.encode(), headers)
            return
        try:
            if path.rstrip("/") == "/wp-json":
                self._json(200, _fields(site.index(), query))
                return
            if not path.startswith(API):
                raise _HTTPError(404, "rest_no_route", "No route was found matching the URL and request method.")
            request.auth = self._authenticate(method, parts.path, query)
            status, body, headers = self._route(method, api_path, query)
            self._json(status, body, headers)
        except _HTTPError as exc:
            self._json(exc.status, {"code": exc.code, "message": exc.message, "data": {"status": exc.status}})

    def _fault(self, request: Request) -> Fault | None:
        with self.site._lock:
            for fault in self.site.faults:
                if (fault.times is None or fault.hits < fault.times) and fault.match(request):
                    fault.hits += 1
                    return fault
        return None

    def _send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _json(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        self._send(status, data, {"Content-Type": "application/json; charset=UTF-8", **(headers or {})})

    # -- authentication (WC_REST_Authentication) -----------------------------
    def _authenticate(self, method: str, path: str, query: dict[str, str]) -> str:
        header = self.headers.get("Authorization", "")
        if header.startswith("Basic "):
            try:
                key, _, secret = base64.b64decode(header[6:]).decode().partition(":")
            except (ValueError, UnicodeDecodeError):
                key, secret = "", ""
            self._check_key(key, secret)
            return "basic"
        if "consumer_key" in query or "consumer_secret" in query:
            self._check_key(query.get("consumer_key", ""), query.get("consumer_secret", ""))
            return "query"
        if any(k.startswith("oauth_") for k in query):
            self._check_oauth(method, path, query)
            return "oauth"
        raise _HTTPError(401, "woocommerce_rest_cannot_view", "Sorry, you cannot list resources.")

    def _check_key(self, key: str, secret: str) -> None:
        if not hmac.compare_digest(key, self.site.key):
            raise _HTTPError(401, "woocommerce_rest_authentication_error", "Consumer key is invalid.")
        if not hmac.compare_digest(secret, self.site.secret):
            raise _HTTPError(401, "woocommerce_rest_authentication_error", "Consumer secret is invalid.")

    def _check_oauth(self, method: str, path: str, query: dict[str, str]) -> None:
        site = self.site
        required = ("oauth_consumer_key", "oauth_timestamp", "oauth_nonce", "oauth_signature", "oauth_signature_method")
        missing = [p for p in required if not query.get(p)]
        if missing:
            raise _HTTPError(401, "woocommerce_rest_authentication_missing_parameter",
                             "Missing OAuth parameter(s) " + ", ".join(missing))
        if not hmac.compare_digest(query["oauth_consumer_key"], site.key):
            raise _HTTPError(401, "woocommerce_rest_authentication_error", "Consumer key is invalid.")
        params = {k: v for k, v in query.items() if k != "oauth_signature"}
        signature_method = params["oauth_signature_method"]
        if signature_method not in ("HMAC-SHA1", "HMAC-SHA256"):
            raise _HTTPError(401, "woocommerce_rest_authentication_error",
                             "Invalid signature - signature method is invalid.")
        base_uri = _rawurlencode(f"{site.url}{path}")
        pairs = [_rawurlencode(f"{_rawurlencode(k)}={_rawurlencode(v)}") for k, v in sorted(params.items())]
        string_to_sign = f"{method}&{base_uri}&{'%26'.join(pairs)}"
        digest = hashlib.sha256 if signature_method == "HMAC-SHA256" else hashlib.sha1
        expected = base64.b64encode(hmac.new(f"{site.secret}&".encode(), string_to_sign.encode(), digest).digest())
        given = query["oauth_signature"].replace(" ", "+")
        if not hmac.compare_digest(expected.decode(), given):
            raise _HTTPError(401, "woocommerce_rest_authentication_error",
                             "Invalid signature - provided signature does not match.")
        try:
            stamp = int(query["oauth_timestamp"])
        except ValueError:
            stamp = 0
        if abs(stamp - time.time()) > 15 * 60:
            raise _HTTPError(401, "woocommerce_rest_authentication_error", "Invalid timestamp.")
        with site._lock:
            nonce = (query["oauth_timestamp"], query["oauth_nonce"])
            if nonce in site._nonces:
                raise _HTTPError(401, "woocommerce_rest_authentication_error",
                                 "Invalid nonce - nonce has already been used.")
            site._nonces.add(nonce)

    # -- routes --------------------------------------------------------------
    def _route(self, method: str, path: str, query: dict[str, str]) -> tuple[int, Any, dict[str, str]]:
        site = self.site
        if method != "GET":
            raise _HTTPError(405, "rest_no_route", "No route was found matching the URL and request method.")
        segments = path.split("/")
        with site._lock:
            if segments == ["settings", "general"]:
                return 200, site.settings_general(), {}
            if len(segments) == 3 and segments[:2] == ["settings", "general"]:
                for option in site.settings_general():
                    if option["id"] == segments[2]:
                        return 200, option, {}
                raise _HTTPError(404, "rest_setting_setting_invalid", "Invalid setting.")
            if segments == ["orders"]:
                records = [site.order_payload(i) for i in site.orders]
                records = [o for o in records if _status_ok(o["status"], query.get("status", "any"))]
                return self._collection(records, query, "orders")
            if len(segments) == 2 and segments[0] == "orders":
                order_id = _int(segments[1])
                if order_id not in site.orders:
                    raise _HTTPError(404, "woocommerce_rest_shop_order_invalid_id", "Invalid ID.")
                return 200, _fields(site.order_payload(order_id), query), {}
            if len(segments) == 3 and segments[0] == "orders" and segments[2] == "refunds":
                order_id = _int(segments[1])
                if order_id not in site.orders:
                    raise _HTTPError(404, "woocommerce_rest_shop_order_invalid_id", "Invalid ID.")
                refunds = sorted(copy.deepcopy(site.refunds[order_id]), key=lambda r: -r["id"])
                return self._collection(refunds, {"orderby": "none", **query}, f"orders/{order_id}/refunds")
            if segments == ["customers"]:
                role = query.get("role", "customer")
                records = [copy.deepcopy(c) for c in site.customers.values() if role == "all" or c["role"] == role]
                return self._collection(records, {"orderby": "name", "order": "asc", **query}, "customers",
                                        time_filters=False)
            if segments == ["products"]:
                records = [copy.deepcopy(p) for p in site.products.values()]
                if query.get("type"):
                    records = [p for p in records if p["type"] == query["type"]]
                return self._collection(records, query, "products")
            if len(segments) == 3 and segments[0] == "products" and segments[2] == "variations":
                product_id = _int(segments[1])
                if product_id not in site.products:
                    raise _HTTPError(404, "woocommerce_rest_product_invalid_id", "Invalid ID.")
                records = [copy.deepcopy(v) for v in site.variations.get(product_id, {}).values()]
                return self._collection(records, query, f"products/{product_id}/variations")
        raise _HTTPError(404, "rest_no_route", "No route was found matching the URL and request method.")

    def _collection(self, records: list[dict], query: dict[str, str], route: str, *,
                    time_filters: bool = True) -> tuple[int, Any, dict[str, str]]:
        site = self.site
        per_page = _int(query.get("per_page", "10"), "per_page")
        page = _int(query.get("page", "1"), "page")
        if not 1 <= per_page <= 100:
            raise _HTTPError(400, "rest_invalid_param", "Invalid parameter(s): per_page")
        if page < 1:
            raise _HTTPError(400, "rest_invalid_param", "Invalid parameter(s): page")
        if time_filters:
            gmt = query.get("dates_are_gmt", "").lower() in ("1", "true")
            column = "date_modified_gmt" if gmt else "date_modified"
            if query.get("modified_after"):
                after = _parse_time(query["modified_after"])
                after = _as_site_naive(after, site.timezone, gmt)
                records = [r for r in records if r.get(column) and dt.datetime.fromisoformat(r[column]) > after]
            if query.get("modified_before"):
                before = _as_site_naive(_parse_time(query["modified_before"]), site.timezone, gmt)
                records = [r for r in records if r.get(column) and dt.datetime.fromisoformat(r[column]) < before]
        orderby = query.get("orderby", "date")
        descending = query.get("order", "desc") == "desc"
        keys = {"date": "date_created_gmt", "modified": "date_modified_gmt", "registered_date": "date_created_gmt"}
        if orderby in keys:
            records.sort(key=lambda r: (r.get(keys[orderby]) or "", r["id"]), reverse=descending)
        elif orderby == "id":
            records.sort(key=lambda r: r["id"], reverse=descending)
        elif orderby == "name":
            records.sort(key=lambda r: (r.get("first_name") or r.get("name") or "", r["id"]), reverse=descending)
        total = len(records)
        pages = (total + per_page - 1) // per_page
        if total and page > pages:
            raise _HTTPError(400, "woocommerce_rest_invalid_page_number",
                             "The page number requested is larger than the number of pages available.")
        chunk = records[(page - 1) * per_page: page * per_page]
        headers = {"X-WP-Total": str(total), "X-WP-TotalPages": str(pages)} if site.send_totals else {}
        links = []
        base = f"{site.url}{API}{route}"
        if page > 1:
            links.append(f'<{base}?page={page - 1}>; rel="prev"')
        if page < pages:
            links.append(f'<{base}?page={page + 1}>; rel="next"')
        if links:
            headers["Link"] = ", ".join(links)
        return 200, [_fields(r, query) for r in chunk], headers


def _as_site_naive(value: dt.datetime, timezone: str, gmt: bool) -> dt.datetime:
    """A filter time as the naive value compared with the stored column."""
    if value.tzinfo is not None:
        value = value.astimezone(UTC if gmt else ZoneInfo(timezone)).replace(tzinfo=None)
    return value


def _status_ok(status: str, wanted: str) -> bool:
    wanted_set = set(wanted.split(","))
    if "any" in wanted_set:
        return status not in ("trash", "checkout-draft")
    return status in wanted_set


def _int(value: str, name: str = "id") -> int:
    try:
        return int(value)
    except ValueError:
        raise _HTTPError(400, "rest_invalid_param", f"Invalid parameter(s): {name}") from None


def _fields(record: dict, query: dict[str, str]) -> dict:
    wanted = [f.strip() for f in query.get("_fields", "").split(",") if f.strip()]
    if not wanted:
        return record
    return {k: v for k, v in record.items() if k in wanted}


def webhook_delivery(emulator: WooEmulator, topic: str, payload: dict | str, secret: str, *,
                     delivery_id: int = 1, webhook_id: int = 1) -> tuple[dict[str, str], bytes]:
    """Headers (lower-case) and raw body of a webhook delivery as WooCommerce sends it.

    A ``str`` payload is sent as is (the ping's form body); a dict is JSON-encoded
    the way WordPress encodes it (``wp_json_encode``: slashes escaped).
    """
    if isinstance(payload, str):
        body = payload.encode()
        return {"content-type": "application/x-www-form-urlencoded", "user-agent": "WooCommerce/9.4.0 Hookshot"}, body
    body = json.dumps(payload, separators=(",", ":")).replace("/", "\\/").encode()
    signature = base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()
    resource, _, event = topic.partition(".")
    headers = {
        "content-type": "application/json",
        "user-agent": "WooCommerce/9.4.0 Hookshot (WordPress/6.7)",
        "x-wc-webhook-source": f"{emulator.url}/",
        "x-wc-webhook-topic": topic,
        "x-wc-webhook-resource": resource,
        "x-wc-webhook-event": event,
        "x-wc-webhook-signature": signature,
        "x-wc-webhook-id": str(webhook_id),
        "x-wc-webhook-delivery-id": str(delivery_id),
    }
    return headers, body
