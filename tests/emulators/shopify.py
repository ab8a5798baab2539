"""A local Shopify GraphQL Admin API, served over real HTTP for the connector's tests.

The store's records (``tests/emulators/shopify_store.py``) are REST-shaped, as
in ``tests/fixtures/shopify/*.json`` (they double as webhook payloads); each
request sees them converted to the GraphQL shapes. The server:

- checks ``X-Shopify-Access-Token`` (401 otherwise);
- parses and validates every query against the Admin schema of API version
  2026-10 (Shopify's introspection, ``tests/fixtures/shopify/admin-2026-10.json.gz``),
  and refuses deprecated fields, arguments and enum values with a GraphQL error;
- executes it with graphql-core over the records: connections page with
  ``first``/``after`` (at most 250, cursors that survive records changing),
  ``query: "updated_at:>='…'"`` filters and ``sortKey: UPDATED_AT``;
- charges each query its requested cost (Shopify's rules: objects 1, scalars
  0, connections 2 + first × node) from a leaky bucket, answers
  ``MAX_COST_EXCEEDED`` over 1000 and ``THROTTLED`` when the bucket is short,
  and reports ``extensions.cost.throttleStatus``;
- runs bulk operations (``bulkOperationRunQuery``, ``bulkOperations``,
  ``node(id:)``) with Shopify's restrictions, and serves their JSONL files;
- injects faults on demand: HTTP 429 with ``Retry-After``, 5xx bursts, slow
  answers, forced ``THROTTLED`` answers.
"""

from __future__ import annotations

import base64
import datetime as dt
import gzip
import json
import re
import threading
import time
from dataclasses import dataclass
from functools import lru_cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable

from graphql import (
    GraphQLError,
    GraphQLSchema,
    TypeInfo,
    TypeInfoVisitor,
    Visitor,
    build_client_schema,
    execute,
    get_named_type,
    graphql_sync,
    is_leaf_type,
    is_list_type,
    parse,
    validate,
    visit,
)
from graphql.language import FieldNode, InlineFragmentNode, ListValueNode, OperationDefinitionNode, VariableNode
from graphql.type import GraphQLNonNull

from tests.emulators.shopify_store import (
    FIXTURES,
    Store,
    build_store,
    customer_node,
    gid,
    iso,
    location_node,
    now_rest,
    order_node,
    product_node,
)

# The API version the connector asks for by default, and Shopify's introspection of its schema.
SCHEMA_VERSION = "2026-10"
SCHEMA_FILE = FIXTURES / f"admin-{SCHEMA_VERSION}.json.gz"
UTC = dt.timezone.utc

MAX_COST = 1000
MAX_PAGE = 250


@lru_cache(maxsize=1)
def schema() -> GraphQLSchema:
    """The Admin schema of :data:`SCHEMA_VERSION`.

    ``assume_valid``: Shopify deprecates some interface fields on their implementations
    only, which graphql-core's schema validation rejects; queries are validated all the same.
    """
    with gzip.open(SCHEMA_FILE, "rt", encoding="utf-8") as fh:
        introspection = json.load(fh)
    return build_client_schema(introspection["data"], assume_valid=True)


def deprecated_usages(document, the_schema: GraphQLSchema | None = None) -> list[str]:
    """``Type.field`` (and argument / enum value) uses that are deprecated."""
    the_schema = the_schema or schema()
    type_info = TypeInfo(the_schema)
    found: list[str] = []

    class Finder(Visitor):
        def enter_field(self, node, *_):
            parent = type_info.get_parent_type()
            definition = type_info.get_field_def()
            if parent is None or definition is None:
                return
            name = f"{parent.name}.{node.name.value}"
            if definition.deprecation_reason:
                found.append(f"{name} ({definition.deprecation_reason})")

        def enter_argument(self, node, *_):
            argument = type_info.get_argument()
            if argument is not None and argument.deprecation_reason:
                found.append(f"argument {node.name.value} ({argument.deprecation_reason})")

        def enter_enum_value(self, node, *_):
            enum = get_named_type(type_info.get_input_type())
            value = getattr(enum, "values", {}).get(node.value) if enum else None
            if value is not None and value.deprecation_reason:
                found.append(f"{enum.name}.{node.value} ({value.deprecation_reason})")

    visit(document, TypeInfoVisitor(type_info, Finder()))
    return found


@lru_cache(maxsize=256)
def checked(text: str) -> tuple[Any, tuple[str, ...]]:
    """``text`` parsed, and why Shopify would refuse it (syntax, validation), plus deprecated fields it uses."""
    try:
        document = parse(text)
    except GraphQLError as exc:
        return None, (exc.message,)
    problems = [e.message for e in validate(schema(), document)]
    return document, tuple(problems or [f"deprecated: {d}" for d in deprecated_usages(document)])


def query_problems(text: str) -> list[str]:
    return list(checked(text)[1])


# -- cost -----------------------------------------------------------------------

def _arg(node: FieldNode, name: str, variables: dict) -> Any:
    for arg in node.arguments or ():
        if arg.name.value == name:
            if isinstance(arg.value, VariableNode):
                return variables.get(arg.value.name.value)
            if isinstance(arg.value, ListValueNode):
                return arg.value.values
            return getattr(arg.value, "value", None)
    return None


def requested_cost(document, variables: dict) -> int:
    """Shopify's requested query cost, computed over the schema's types."""
    the_schema = schema()

    def selection_cost(selection_set, parent) -> int:
        total = 0
        for selection in selection_set.selections if selection_set else ():
            if isinstance(selection, InlineFragmentNode):
                target = parent
                if selection.type_condition:
                    target = the_schema.type_map[selection.type_condition.name.value]
                total += selection_cost(selection.selection_set, target)
                continue
            if not isinstance(selection, FieldNode) or selection.name.value.startswith("__"):
                continue
            definition = parent.fields[selection.name.value]
            named = get_named_type(definition.type)
            if is_leaf_type(named):
                continue
            if named.name.endswith("Connection"):
                size = _arg(selection, "first", variables) or _arg(selection, "last", variables) or 0
                per_node = 0
                extra = 0
                node_type = get_named_type(named.fields["edges"].type).fields["node"].type
                for sub in selection.selection_set.selections:
                    if not isinstance(sub, FieldNode):
                        continue
                    if sub.name.value == "nodes":
                        per_node = max(per_node, 1 + selection_cost(sub.selection_set, get_named_type(node_type)))
                    elif sub.name.value == "edges":
                        for edge_sub in sub.selection_set.selections:
                            if isinstance(edge_sub, FieldNode) and edge_sub.name.value == "node":
                                per_node = max(per_node, 1 + selection_cost(edge_sub.selection_set,
                                                                            get_named_type(node_type)))
                    elif sub.selection_set is not None:
                        extra += 1
                total += 2 + int(size) * per_node + extra
                continue
            inner = 1 + selection_cost(selection.selection_set, named)
            field_type = definition.type.of_type if isinstance(definition.type, GraphQLNonNull) else definition.type
            if is_list_type(field_type):
                ids = _arg(selection, "ids", variables)
                size = _arg(selection, "first", variables)
                inner *= len(ids) if ids is not None else (int(size) if size else 1)
            total += inner
        return total

    total = 0
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode):
            if definition.operation.value == "mutation":
                total += 10
            else:
                total += selection_cost(definition.selection_set, the_schema.query_type)
    return total


# -- query filters, sorting, pagination --------------------------------------------

_TERM = re.compile(r"(\w+):(>=|<=|>|<)?'?([^'\s]+)'?")


def matches(item: dict, search: str | None) -> bool:
    """Shopify search syntax, the part the connector uses: ``updated_at:>='…'`` (and created_at, <, <=, >)."""
    if not search:
        return True
    for name, op, value in _TERM.findall(search):
        key = {"updated_at": "updatedAt", "created_at": "createdAt"}.get(name)
        if key is None:
            continue
        have = dt.datetime.fromisoformat(str(item.get(key)).replace("Z", "+00:00"))
        want = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        if want.tzinfo is None:
            want = want.replace(tzinfo=UTC)
        ok = {">=": have >= want, "<=": have <= want, ">": have > want, "<": have < want, "": have == want}[op]
        if not ok:
            return False
    return True


def _numeric(item: dict) -> int:
    return int(str(item["id"]).rsplit("/", 1)[-1].split("?")[0]) if str(item["id"]).rsplit("/", 1)[-1].split(
        "?")[0].isdigit() else 0


def _encode(key: Any) -> str:
    return base64.b64encode(json.dumps(key).encode()).decode()


def _decode(cursor: str) -> Any:
    try:
        return json.loads(base64.b64decode(cursor.encode()))
    except Exception:  # noqa: BLE001
        raise GraphQLError("Invalid cursor for current pagination sort.") from None


def connection(items: list[dict], args: dict, *, root: bool, bulk: bool) -> dict:
    """A Relay connection over ``items``: filtered, sorted, one page of it."""
    items = [i for i in items if matches(i, args.get("query"))]
    if root:
        if args.get("sortKey") == "UPDATED_AT":
            keyed = [([i["updatedAt"], _numeric(i)], i) for i in items]
        else:
            keyed = [([_numeric(i)], i) for i in items]
        keyed.sort(key=lambda pair: pair[0])
    else:
        keyed = [([index], i) for index, i in enumerate(items)]
    if args.get("reverse"):
        keyed.reverse()
    first = args.get("first")
    if not bulk:
        if first is None and args.get("last") is None:
            raise GraphQLError("you must provide one of first or last")
        if first is not None and first > MAX_PAGE:
            raise GraphQLError(f"The maximum page size is {MAX_PAGE}.")
    if args.get("after"):
        after = _decode(args["after"])
        keyed = [pair for pair in keyed if (pair[0] < after if args.get("reverse") else pair[0] > after)]
    page = keyed if bulk or first is None else keyed[:first]
    has_next = len(page) < len(keyed)
    return {
        "edges": [{"cursor": _encode(key), "node": item} for key, item in page],
        "nodes": [item for _, item in page],
        "pageInfo": {"hasNextPage": has_next, "hasPreviousPage": bool(args.get("after")),
                     "startCursor": _encode(page[0][0]) if page else None,
                     "endCursor": _encode(page[-1][0]) if page else None},
    }


class Root(dict):
    """The query and mutation roots over the store, for one request."""


def resolver(bulk: bool) -> Callable:
    def resolve(source, info, **args):
        value = source.get(info.field_name) if isinstance(source, dict) else getattr(source, info.field_name, None)
        if callable(value):
            value = value(info, **args)
        named = get_named_type(info.return_type)
        if named.name.endswith("Connection") and isinstance(value, list):
            return connection(value, args, root=isinstance(source, Root), bulk=bulk)
        if isinstance(value, list) and args.get("first") is not None:
            value = value[: args["first"]]
        if info.field_name == "quantities" and "names" in args:
            value = [v for v in value or () if v["name"] in args["names"]]
        return value

    return resolve


# -- bulk operations ------------------------------------------------------------------

def _plain_list(type_info: TypeInfo, name: str, raw, named) -> bool:
    """A list of objects that is not a connection's own ``edges`` or ``nodes``."""
    parent = type_info.get_parent_type()
    if parent is not None and parent.name.endswith("Connection") and name in ("edges", "nodes"):
        return False
    return is_list_type(raw) and not is_leaf_type(named)


def bulk_problems(text: str) -> list[str]:
    """Shopify's restrictions on bulk queries (besides being a valid query)."""
    problems = query_problems(text)
    if problems:
        return problems
    document = parse(text)
    type_info = TypeInfo(schema())
    depth = [0]
    in_list = [0]
    found = {"connections": 0, "max_depth": 0, "connection_in_list": False, "top": 0}

    class Walker(Visitor):
        def enter_field(self, node, *_):
            definition = type_info.get_field_def()
            if definition is None:
                return
            named = get_named_type(definition.type)
            raw = definition.type.of_type if isinstance(definition.type, GraphQLNonNull) else definition.type
            if named.name.endswith("Connection"):
                found["connections"] += 1
                depth[0] += 1
                found["max_depth"] = max(found["max_depth"], depth[0])
                if in_list[0]:
                    found["connection_in_list"] = True
            elif _plain_list(type_info, node.name.value, raw, named):
                in_list[0] += 1

        def leave_field(self, node, *_):
            definition = type_info.get_field_def()
            if definition is None:
                return
            named = get_named_type(definition.type)
            raw = definition.type.of_type if isinstance(definition.type, GraphQLNonNull) else definition.type
            if named.name.endswith("Connection"):
                depth[0] -= 1
            elif _plain_list(type_info, node.name.value, raw, named):
                in_list[0] -= 1

    visit(document, TypeInfoVisitor(type_info, Walker()))
    if found["connections"] == 0:
        problems.append("Bulk queries must contain at least one connection.")
    if found["connections"] > 5:
        problems.append("Bulk queries cannot contain more than 5 connections.")
    if found["max_depth"] > 3:
        problems.append("Bulk queries cannot contain connections nested more than 2 levels deep.")
    if found["connection_in_list"]:
        problems.append("Queries that contain a connection field within a list field are not currently supported.")
    return problems


def jsonl(data: dict, grouped: bool = False) -> tuple[bytes, int]:
    """A bulk result flattened the way Shopify writes it: nested connection nodes as their own lines.

    ``grouped`` (``groupObjects: true``) writes each object's children right after it; by
    default (since 2026-01) the lines are not grouped: here, every order first, then the children.
    """
    parents: list[str] = []
    children: list[str] = []

    def emit(obj: dict, parent: str | None) -> None:
        record, connections = {}, []
        for key, value in obj.items():
            if isinstance(value, dict) and ("edges" in value or "nodes" in value):
                connections.append(value)
            else:
                record[key] = value
        if parent is not None:
            record["__parentId"] = parent
        (parents if parent is None or grouped else children).append(json.dumps(record))
        for child_connection in connections:
            items = child_connection.get("nodes") or [e["node"] for e in child_connection.get("edges") or ()]
            for child in items:
                emit(child, obj.get("id"))

    for top in data.values():
        items = top.get("nodes") or [e["node"] for e in top.get("edges") or ()]
        for item in items:
            emit(item, None)
    lines = parents + children
    return ("\n".join(lines) + ("\n" if lines else "")).encode(), len(lines)


# -- the server -----------------------------------------------------------------------

@dataclass
class Fault:
    """One injected failure: ``kind`` is "status" (HTTP ``status``, optional ``retry_after``),
    "slow" (answer after ``delay`` seconds), or "throttled" (a GraphQL THROTTLED answer).
    It fires on requests whose text contains ``match`` (any request when empty), after ``skip``
    such requests, ``times`` times."""

    kind: str
    match: str = ""
    status: int = 503
    retry_after: float | None = None
    delay: float = 0.0
    times: int = 1
    skip: int = 0


class ShopifyEmulator:
    """Serve ``store`` at ``http://127.0.0.1:<port>`` (``with ShopifyEmulator() as emu: emu.url``)."""

    def __init__(self, store: Store | None = None, *, token: str = "shpat_test_token", max_available: int = 1000,
                 restore_rate: float = 100000.0, bulk_polls: int = 2, cache_nodes: bool = False) -> None:
        self.store = store or build_store()
        self.token = token
        self.max_available = max_available
        self.restore_rate = restore_rate
        self.available = float(max_available)
        self.last_refill = time.monotonic()
        self.bulk_polls = bulk_polls
        self.cache_nodes = cache_nodes
        self._nodes: dict[Any, tuple[tuple, dict]] = {}
        self.faults: list[Fault] = []
        self.requests: list[dict] = []  # every GraphQL request: query, variables, cost, status
        self.bulk_operations: list[dict] = []
        self.bulk_files: dict[str, bytes] = {}
        self.lock = threading.RLock()
        self.server: ThreadingHTTPServer | None = None
        self.thread: threading.Thread | None = None

    # -- lifecycle ------------------------------------------------------------
    def __enter__(self) -> "ShopifyEmulator":
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self) -> None:
        emulator = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # quiet
                pass

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                emulator.handle_graphql(self, body)

            def do_GET(self):
                emulator.handle_download(self)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.server.handle_error = lambda request, address: None  # clients that gave up (timeouts)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        if self.server:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    # -- test controls ---------------------------------------------------------
    def fail(self, status: int = 503, *, times: int = 1, match: str = "", skip: int = 0,
             retry_after: float | None = None) -> None:
        self.faults.append(Fault("status", match, status, retry_after, times=times, skip=skip))

    def slow(self, delay: float, *, times: int = 1, match: str = "", skip: int = 0) -> None:
        self.faults.append(Fault("slow", match, delay=delay, times=times, skip=skip))

    def throttle(self, *, times: int = 1, match: str = "", skip: int = 0) -> None:
        self.faults.append(Fault("throttled", match, times=times, skip=skip))

    def queries(self, name: str | None = None) -> list[dict]:
        """The GraphQL requests received (those whose operation is ``name``)."""
        return [r for r in self.requests if name is None or r.get("operation") == name]

    # -- internals ---------------------------------------------------------------
    def _fault(self, text: str) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.times <= 0 or (fault.match and fault.match not in text):
                    continue
                if fault.skip > 0:
                    fault.skip -= 1
                    continue
                fault.times -= 1
                return fault
        return None

    def _refill(self) -> None:
        now = time.monotonic()
        self.available = min(self.max_available, self.available + (now - self.last_refill) * self.restore_rate)
        self.last_refill = now

    def _status(self) -> dict:
        return {"maximumAvailable": float(self.max_available), "currentlyAvailable": int(self.available),
                "restoreRate": float(self.restore_rate)}

    @staticmethod
    def _send(handler, status: int, payload: Any, headers: dict | None = None, raw: bytes | None = None) -> None:
        body = raw if raw is not None else json.dumps(payload).encode()
        try:
            handler.send_response(status)
            handler.send_header("Content-Type", "application/jsonl" if raw is not None else "application/json")
            handler.send_header("Content-Length", str(len(body)))
            for key, value in (headers or {}).items():
                handler.send_header(key, value)
            handler.end_headers()
            handler.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def _apply_fault(self, handler, fault: Fault | None) -> bool:
        """True when the fault answered the request."""
        if fault is None:
            return False
        if fault.kind == "slow":
            time.sleep(fault.delay)
            return False
        if fault.kind == "status":
            headers = {"Retry-After": f"{fault.retry_after:g}"} if fault.retry_after is not None else {}
            message = {429: "Exceeded 2 calls per second for api client. Reduce request rates to resume "
                            "uninterrupted service."}.get(fault.status, "Internal error")
            self._send(handler, fault.status, {"errors": message}, headers)
            return True
        return False

    def handle_download(self, handler) -> None:
        match = re.fullmatch(r"/bulk/(\w+)\.jsonl", handler.path)
        if self._apply_fault(handler, self._fault(f"GET {handler.path}")):
            return
        if not match or match.group(1) not in self.bulk_files:
            self._send(handler, 404, {"errors": "Not Found"})
            return
        self._send(handler, 200, None, raw=self.bulk_files[match.group(1)])

    def handle_graphql(self, handler, body: bytes) -> None:
        match = re.fullmatch(r"/admin/api/([\w-]+)/graphql\.json", handler.path)
        if not match:
            self._send(handler, 404, {"errors": "Not Found"})
            return
        if handler.headers.get("X-Shopify-Access-Token") != self.token:
            self._send(handler, 401, {"errors": "[API] Invalid API key or access token (unrecognized login or "
                                                "wrong password)"})
            return
        try:
            request = json.loads(body)
            text = request["query"]
            variables = request.get("variables") or {}
        except (ValueError, KeyError, TypeError):
            self._send(handler, 400, {"errors": "Bad Request"})
            return
        document, problems = checked(text)
        operation = next((d.name.value for d in document.definitions
                          if isinstance(d, OperationDefinitionNode) and d.name), None) if document else None
        record = {"query": text, "variables": variables, "operation": operation, "version": match.group(1)}
        with self.lock:
            self.requests.append(record)
        fault = self._fault(text)
        if self._apply_fault(handler, fault):
            record["status"] = fault.status
            return
        if document is None or problems:
            record["status"] = "invalid"
            self._send(handler, 200, {"errors": [{"message": p, "extensions": {"code": "GRAPHQL_VALIDATION_FAILED"}}
                                                 for p in problems]})
            return
        cost = requested_cost(document, variables)
        record["cost"] = cost
        with self.lock:
            self._refill()
            if cost > MAX_COST:
                record["status"] = "max_cost"
                self._send(handler, 200, {"errors": [{
                    "message": f"Query cost is {cost}, which exceeds the single query max cost limit ({MAX_COST}).",
                    "extensions": {"code": "MAX_COST_EXCEEDED", "cost": cost, "maxCost": MAX_COST}}]})
                return
            throttled = fault is not None and fault.kind == "throttled"
            if throttled:
                self.available = min(self.available, max(0.0, cost - self.restore_rate * 0.05))
            if throttled or cost > self.available:
                record["status"] = "throttled"
                self._send(handler, 200, {
                    "errors": [{"message": "Throttled", "extensions": {
                        "code": "THROTTLED", "documentation": "https://shopify.dev/api/usage/rate-limits"}}],
                    "extensions": {"cost": {"requestedQueryCost": cost, "actualQueryCost": None,
                                            "throttleStatus": self._status()}}})
                return
            self.available -= cost
            status = self._status()
        result = execute(schema(), document, root_value=self.root(), variable_values=variables,
                         operation_name=request.get("operationName"), field_resolver=resolver(False))
        payload: dict = {"data": result.data}
        if result.errors:
            payload["errors"] = [{"message": e.message, "path": e.path} for e in result.errors]
        payload["extensions"] = {"cost": {"requestedQueryCost": cost, "actualQueryCost": cost,
                                          "throttleStatus": status}}
        record["status"] = 200
        self._send(handler, 200, payload)

    def _order_node(self, order: dict) -> dict:
        """The order's GraphQL shape; with ``cache_nodes``, kept until the order's ``updated_at`` moves
        (for benchmarks of large stores, whose orders change only through ``Store`` methods)."""
        if not self.cache_nodes:
            return order_node(self.store, order)
        stamp = (order["updated_at"], len(order.get("refunds") or ()))
        hit = self._nodes.get(order["id"])
        if hit is None or hit[0] != stamp:
            hit = self._nodes[order["id"]] = (stamp, order_node(self.store, order))
        return hit[1]

    # -- the roots -------------------------------------------------------------------
    def root(self) -> Root:
        store = self.store
        with store.lock:
            orders = [self._order_node(o) for o in store.orders.values()]
            customers = [customer_node(c) for c in store.customers.values()]
            products = [product_node(store, p) for p in store.products.values()]
            locations = [location_node(store, loc) for loc in store.locations.values()]
            shop = store.shop
        variants = [v for p in products for v in p["variants"]]
        nodes: dict[str, dict] = {}
        for order in orders:
            nodes[order["id"]] = order
            for refund in order["refunds"]:
                nodes[refund["id"]] = refund
        for item in (*customers, *products, *variants, *locations):
            nodes[item["id"]] = item
        items = {v["inventoryItem"]["id"]: v["inventoryItem"] for v in variants}
        for operation in self.bulk_operations:
            nodes[operation["id"]] = operation

        def count(info, query=None, limit=10000, **_):
            total = len([o for o in orders if matches(o, query)])
            if limit is not None and total > limit:
                return {"count": limit, "precision": "AT_LEAST"}
            return {"count": total, "precision": "EXACT"}

        def node(info, id):  # noqa: A002
            found = nodes.get(id)
            if found is not None and found.get("__typename") == "BulkOperation":
                return self._advance(found)
            return found

        def run_bulk(info, query, groupObjects=False):  # noqa: N803 - the API's argument
            return self.start_bulk(query, grouped=groupObjects)

        def recent(info, first=None, query=None, **_):
            # Shopify's order (newest first) and filters (``operation_type:``, ``status:``).
            terms = dict(re.findall(r"(\w+):(\w+)", query or ""))
            found = [self._advance(op) for op in reversed(self.bulk_operations)
                     if terms.get("operation_type", "query").upper() == op["type"]]
            found = [op for op in found if terms.get("status", op["status"]).upper() == op["status"]]
            return connection(found, {"first": first}, root=False, bulk=False)

        return Root({
            "shop": {"__typename": "Shop", "id": gid("Shop", shop["id"]), "name": shop["name"],
                     "myshopifyDomain": shop["myshopify_domain"], "currencyCode": shop["currency"],
                     "ianaTimezone": shop["iana_timezone"], "createdAt": iso(shop["created_at"])},
            "ordersCount": count,
            "orders": lambda info, **_: orders,
            "order": lambda info, id: nodes.get(id),  # noqa: A006
            "customers": lambda info, **_: customers,
            "products": lambda info, **_: products,
            "product": lambda info, id: nodes.get(id),  # noqa: A006
            "productVariants": lambda info, **_: variants,
            "locations": lambda info, **_: locations,
            "location": lambda info, id=None: nodes.get(id),  # noqa: A006
            "inventoryItem": lambda info, id: items.get(id),  # noqa: A006
            "node": node,
            "nodes": lambda info, ids: [nodes.get(i) for i in ids],
            "bulkOperations": recent,
            "bulkOperationRunQuery": run_bulk,
        })

    def start_bulk(self, query: str, grouped: bool = False) -> dict:
        with self.lock:
            if any(op["status"] in ("CREATED", "RUNNING") for op in self.bulk_operations):
                return {"bulkOperation": None, "userErrors": [{
                    "field": None, "message": "A bulk query operation for this app and shop is already in progress: "
                                              f"{self.bulk_operations[-1]['id']}."}]}
            problems = bulk_problems(query)
            if problems:
                return {"bulkOperation": None, "userErrors": [{"field": ["query"], "message": p} for p in problems]}
            number = len(self.bulk_operations) + 1
            operation = {"__typename": "BulkOperation", "id": gid("BulkOperation", number), "status": "CREATED",
                         "query": query, "errorCode": None, "objectCount": "0", "rootObjectCount": "0",
                         "url": None, "partialDataUrl": None, "createdAt": iso(now_rest()), "completedAt": None,
                         "type": "QUERY", "fileSize": None, "_polls": self.bulk_polls, "_number": str(number),
                         "_grouped": grouped}
            self.bulk_operations.append(operation)
            return {"bulkOperation": operation, "userErrors": []}

    def _advance(self, operation: dict) -> dict:
        """Each look at a running operation moves it on; after ``bulk_polls`` looks it completes."""
        with self.lock:
            if operation["status"] in ("CREATED", "RUNNING"):
                operation["_polls"] -= 1
                operation["status"] = "RUNNING"
                if operation["_polls"] <= 0:
                    self.complete_bulk(operation)
            return operation

    def complete_bulk(self, operation: dict) -> None:
        result = graphql_sync(schema(), operation["query"], root_value=self.root(),
                              field_resolver=resolver(True))
        if result.errors:
            operation.update(status="FAILED", errorCode="INTERNAL_SERVER_ERROR")
            return
        content, lines = jsonl(result.data, grouped=operation["_grouped"])
        operation.update(status="COMPLETED", objectCount=str(lines), completedAt=iso(now_rest()),
                         fileSize=str(len(content)))
        if lines:
            self.bulk_files[operation["_number"]] = content
            operation["url"] = f"{self.url}/bulk/{operation['_number']}.jsonl"
