"""Talking to the Shopify GraphQL Admin API through the official ``ShopifyAPI`` library.

:class:`ShopifyGraphQL` is ``shopify.GraphQL`` bound to one shop. The library
builds ``https://<shop>.myshopify.com/admin/api/<version>/graphql.json`` from a
``shopify.Session``; for a full ``http(s)://`` address (a proxy, or the local
emulator in the tests) the session's REST site is pointed at that address
through the library's public ``ShopifyResource.site`` property, which
``shopify.GraphQL`` reads its endpoint from. Nothing of the library is patched.
The endpoint and headers are copied when the object is made, so several shops
(or threads) never share the library's global session.

Its ``execute`` sends exactly what the library's does, with two differences
the library does not offer: a socket timeout (the library's call can hang
forever on a stalled connection) and no printing of error bodies to stdout.

:class:`GraphQLClient` runs queries with Shopify's rate limits:

- every answer carries ``extensions.cost.throttleStatus``; before a query whose
  cost exceeds what the bucket holds now, the client sleeps until it refills
  (deficit / restoreRate);
- a ``THROTTLED`` error waits the same way and tries again;
- HTTP 429 waits as ``Retry-After`` says; 5xx, timeouts and dropped
  connections back off exponentially (``connectors.sync.retry``);
- the query cost is estimated with Shopify's published rules (objects 1 point,
  scalars and enums 0, connections 2 + ``first`` × the cost of one node), which
  also picks page sizes that stay under the 1000-point single-query limit.
"""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any, Callable, Mapping
from urllib.parse import urlsplit

import shopify
from graphql import parse
from graphql.language import (
    FieldNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    ListValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
)

from connectors.sync.retry import Retry, RetryPolicy, call_with_retries, parse_retry_after
from connectors.sync.runner import SyncError

log = logging.getLogger(__name__)

MAX_QUERY_COST = 1000  # Shopify's limit for one query, whatever the plan
MAX_PAGE = 250  # Shopify's limit for ``first``
MUTATION_COST = 10

# The library's session is process-global; building a client holds this lock.
_SESSION_LOCK = threading.Lock()


@dataclass(frozen=True)
class ShopAddress:
    """Where a shop is reached: its myshopify domain and, for proxies or emulators, a base URL."""

    domain: str  # acme.myshopify.com
    base_url: str | None  # http://127.0.0.1:8123 when the store setting is a full non-Shopify URL
    name: str  # acme

    @classmethod
    def parse(cls, store: str) -> "ShopAddress":
        store = store.strip().rstrip("/")
        if not store:
            raise ValueError("empty store")
        if "://" not in store:
            host = store.split("/", 1)[0].lower()
            if "." not in host:
                host = f"{host}.myshopify.com"
            return cls(domain=host, base_url=None, name=host.split(".", 1)[0])
        parts = urlsplit(store)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("not an http(s) address")
        host = parts.hostname.lower()
        if host.endswith(".myshopify.com") and parts.scheme == "https" and not parts.port and not parts.path:
            return cls(domain=host, base_url=None, name=host.split(".", 1)[0])
        # Any other address (a proxy, the local emulator): the library still wants a
        # myshopify domain for its session; requests go to ``base_url``.
        myshopify = host.endswith(".myshopify.com")
        name = host.split(".", 1)[0] if myshopify else host
        return cls(domain=host if myshopify else "shop.myshopify.com",
                   base_url=f"{parts.scheme}://{parts.netloc}{parts.path}", name=name)


class ShopifyGraphQL(shopify.GraphQL):
    """``shopify.GraphQL`` for one shop, with a timeout; see the module docstring."""

    def __init__(self, address: ShopAddress, token: str, api_version: str, *, timeout: float = 30.0) -> None:
        session = shopify.Session(address.domain, api_version, token)
        with _SESSION_LOCK:
            shopify.ShopifyResource.activate_session(session)
            try:
                if address.base_url:
                    shopify.ShopifyResource.site = session.api_version.api_path(address.base_url)
                super().__init__()
                self.headers = dict(self.headers)
            finally:
                shopify.ShopifyResource.clear_session()
        self.timeout = timeout

    def execute(self, query, variables=None, operation_name=None):
        default_headers = {"Accept": "application/json", "Content-Type": "application/json"}
        headers = self.merge_headers(default_headers, self.headers)
        data = {"query": query, "variables": variables, "operationName": operation_name}
        req = urllib.request.Request(self.endpoint, json.dumps(data).encode("utf-8"), headers)  # noqa: S310 - http(s): ShopAddress
        with urllib.request.urlopen(req, timeout=self.timeout) as response:  # noqa: S310 - http(s): ShopAddress
            return response.read().decode("utf-8")


# -- query cost ---------------------------------------------------------------

def _argument(node: FieldNode, name: str, variables: Mapping[str, Any]) -> Any:
    for arg in node.arguments or ():
        if arg.name.value != name:
            continue
        value = arg.value
        if isinstance(value, VariableNode):
            return variables.get(value.name.value)
        if isinstance(value, ListValueNode):
            return list(value.values)
        return getattr(value, "value", None)
    return None


def _selection_cost(selection_set: SelectionSetNode | None, variables: Mapping[str, Any], fragments) -> int:
    if selection_set is None:
        return 0
    total = 0
    for selection in selection_set.selections:
        if isinstance(selection, InlineFragmentNode):
            total += _selection_cost(selection.selection_set, variables, fragments)
        elif isinstance(selection, FragmentSpreadNode):
            fragment = fragments.get(selection.name.value)
            total += _selection_cost(fragment.selection_set if fragment else None, variables, fragments)
        elif isinstance(selection, FieldNode):
            total += _field_cost(selection, variables, fragments)
    return total


def _field_cost(node: FieldNode, variables: Mapping[str, Any], fragments) -> int:
    if node.selection_set is None:
        return 0  # scalars and enums
    size = _argument(node, "first", variables) or _argument(node, "last", variables)
    ids = _argument(node, "ids", variables)
    children = {s.name.value: s for s in node.selection_set.selections if isinstance(s, FieldNode)}
    if "nodes" in children or "edges" in children:  # a connection
        count = int(size) if size is not None else MAX_PAGE
        per_node = 0
        if "nodes" in children:
            per_node = max(per_node, 1 + _selection_cost(children["nodes"].selection_set, variables, fragments))
        if "edges" in children:
            edge_children = {s.name.value: s for s in children["edges"].selection_set.selections
                             if isinstance(s, FieldNode)}
            node_sel = edge_children.get("node")
            per_node = max(per_node, 1 + _selection_cost(node_sel.selection_set if node_sel else None,
                                                         variables, fragments))
        extra = sum(_field_cost(c, variables, fragments) for n, c in children.items() if n not in ("nodes", "edges"))
        return 2 + count * per_node + extra
    inner = 1 + _selection_cost(node.selection_set, variables, fragments)
    if ids is not None:
        return max(1, len(ids)) * inner
    if size is not None:
        return int(size) * inner
    return inner


def estimate_cost(query: str, variables: Mapping[str, Any] | None = None) -> int:
    """The requested cost of ``query`` by Shopify's rules (an upper bound of what is charged)."""
    document = parse(query)
    fragments = {d.name.value: d for d in document.definitions if d.kind == "fragment_definition"}
    total = 0
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode):
            if definition.operation.value == "mutation":
                total += MUTATION_COST
            else:
                total += _selection_cost(definition.selection_set, variables or {}, fragments)
    return total


def page_size(query: str, variables: Mapping[str, Any] | None = None, *, limit: int = MAX_QUERY_COST,
              variable: str = "first") -> int:
    """The largest ``$first`` (at most 250) that keeps ``query`` within ``limit`` points."""
    variables = dict(variables or {})
    one = estimate_cost(query, {**variables, variable: 1})
    two = estimate_cost(query, {**variables, variable: 2})
    per_item = max(1, two - one)
    fixed = one - per_item
    return max(1, min(MAX_PAGE, (limit - fixed) // per_item))


# -- the client ---------------------------------------------------------------

@dataclass
class Bucket:
    """The throttle status of the last answer, and when it was seen."""

    maximum: float
    available: float
    restore_rate: float
    seen_at: float

    def available_at(self, now: float) -> float:
        return min(self.maximum, self.available + self.restore_rate * max(0.0, now - self.seen_at))


class GraphQLClient:
    """Runs queries against one shop, obeying its cost bucket, 429s and server errors."""

    def __init__(
        self,
        graphql: ShopifyGraphQL,
        *,
        policy: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        max_wait: float = 60.0,
    ) -> None:
        self.graphql = graphql
        self.policy = policy or RetryPolicy()
        self.sleep = sleep
        self.clock = clock
        self.max_wait = max_wait
        self.bucket: Bucket | None = None
        self.waits: list[float] = []  # every throttle wait taken (seconds), for the curious
        self.requests = 0

    @property
    def max_query_cost(self) -> int:
        if self.bucket is None:
            return MAX_QUERY_COST
        return int(min(MAX_QUERY_COST, self.bucket.maximum))

    def page_size(self, query: str, variables: Mapping[str, Any] | None = None) -> int:
        return page_size(query, variables, limit=self.max_query_cost)

    def execute(self, query: str, variables: Mapping[str, Any] | None = None, *, what: str) -> dict:
        """The ``data`` of ``query``; raises :class:`SyncError` with one sentence when it cannot be had."""
        cost = estimate_cost(query, variables)

        def attempt() -> dict:
            self._wait_for(cost)
            self.requests += 1
            try:
                text = self.graphql.execute(query, dict(variables or {}))
            except urllib.error.HTTPError as exc:
                raise self._http_error(exc, what) from None
            except urllib.error.URLError as exc:
                if isinstance(exc.reason, (TimeoutError, socket.timeout)):
                    raise Retry("the request timed out") from None
                raise Retry(f"the connection failed ({exc.reason.__class__.__name__})") from None
            # The status describes the bucket no later than now: counting its refill from
            # here never promises points the server does not have yet.
            received_at = self.clock()
            try:
                body = json.loads(text)
            except ValueError:
                raise Retry("the answer was not JSON") from None
            return self._answer(body, cost, what, received_at)

        return call_with_retries(attempt, what=f"Shopify {what}", policy=self.policy)

    # -- internals --------------------------------------------------------
    def _wait_for(self, cost: int) -> None:
        if self.bucket is None or self.bucket.restore_rate <= 0:
            return
        need = min(cost, self.bucket.maximum)
        have = self.bucket.available_at(self.clock())
        if need <= have:
            return
        wait = min(self.max_wait, (need - have) / self.bucket.restore_rate)
        # A wait of a second or more is worth a line at INFO; shorter ones pace every large sync.
        log.log(logging.INFO if wait >= 1 else logging.DEBUG,
                "Shopify query cost %s exceeds the %.0f points available; waiting %.2f s", cost, have, wait)
        self.waits.append(wait)
        self.sleep(wait)

    def _note_cost(self, extensions: Any, seen_at: float) -> dict:
        cost = (extensions or {}).get("cost") or {}
        status = cost.get("throttleStatus") or {}
        try:
            self.bucket = Bucket(
                maximum=float(status["maximumAvailable"]),
                available=float(status["currentlyAvailable"]),
                restore_rate=float(status["restoreRate"]),
                seen_at=seen_at,
            )
        except (KeyError, TypeError, ValueError):
            pass
        return cost

    def _answer(self, body: Any, cost: int, what: str, received_at: float) -> dict:
        if not isinstance(body, dict):
            raise Retry("the answer was not a JSON object")
        reported = self._note_cost(body.get("extensions"), received_at)
        errors = body.get("errors")
        if isinstance(errors, str):  # Shopify's REST-style error answers
            raise SyncError(f"Shopify refused the {what} request: {errors}")
        if errors:
            codes = {((e or {}).get("extensions") or {}).get("code") for e in errors if isinstance(e, dict)}
            if "THROTTLED" in codes:
                requested = reported.get("requestedQueryCost") or cost
                wait = 1.0
                if self.bucket and self.bucket.restore_rate > 0:
                    wait = max(0.0, (min(requested, self.bucket.maximum) - self.bucket.available)
                               / self.bucket.restore_rate)
                self.waits.append(wait)
                raise Retry("throttled", retry_after=wait, throttled=True)
            if "INTERNAL_SERVER_ERROR" in codes:
                raise Retry("Shopify reported an internal error")
            message = next((e.get("message") for e in errors if isinstance(e, dict) and e.get("message")), "error")
            raise SyncError(f"Shopify rejected the {what} query: {message}")
        data = body.get("data")
        if not isinstance(data, dict):
            raise Retry("the answer had no data")
        return data

    def _http_error(self, exc: urllib.error.HTTPError, what: str) -> Exception:
        code = exc.code
        try:
            exc.read()
        except Exception:  # noqa: BLE001 - the body is not needed
            pass
        if code == 429:
            return Retry("HTTP 429", retry_after=parse_retry_after(exc.headers.get("Retry-After")), throttled=True)
        if code >= 500:
            return Retry(f"HTTP {code}", retry_after=parse_retry_after(exc.headers.get("Retry-After")))
        if code in (401, 403):
            return SyncError(
                f"Shopify refused the access token (HTTP {code}): check SHOPIFY_ACCESS_TOKEN and the app's "
                "access scopes."
            )
        if code == 404:
            return SyncError(f"Shopify answered 404 for {what}: check SHOPIFY_STORE and SHOPIFY_API_VERSION.")
        return SyncError(f"Shopify answered HTTP {code} for {what}.")


def download_lines(url: str, *, what: str, policy: RetryPolicy | None = None, timeout: float = 60.0):
    """The lines of a bulk operation's JSONL file (a signed URL: no credentials are sent)."""

    def fetch() -> list[bytes]:
        try:
            # Shopify's bulk file: the https URL its API answered with
            with urllib.request.urlopen(urllib.request.Request(url), timeout=timeout) as response:  # noqa: S310
                return response.read().splitlines()
        except urllib.error.HTTPError as exc:
            if exc.code == 429:
                raise Retry("HTTP 429", retry_after=parse_retry_after(exc.headers.get("Retry-After")),
                            throttled=True) from None
            if exc.code >= 500:
                raise Retry(f"HTTP {exc.code}") from None
            raise SyncError(f"Shopify's bulk file could not be downloaded (HTTP {exc.code}).") from None
        except urllib.error.URLError as exc:
            if isinstance(exc.reason, (TimeoutError, socket.timeout)):
                raise Retry("the request timed out") from None
            raise Retry(f"the connection failed ({exc.reason.__class__.__name__})") from None

    return call_with_retries(fetch, what=f"Shopify {what}", policy=policy)
