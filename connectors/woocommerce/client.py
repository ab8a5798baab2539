"""Talking to a WooCommerce site through the official ``woocommerce`` library (REST API v3).

- Over https the library sends HTTP Basic auth; over plain http it signs
  every request with OAuth 1.0a in the query string (WooCommerce refuses
  Basic auth without TLS). Both work; nothing here turns http away.
- The library puts the query parameters in the signed URL *and* passes them
  again to ``requests``, so each appears twice; PHP keeps one, and the
  signature covers the values as sent. Every value is therefore sent as a
  string (``"true"``, not ``True``, which would be signed as ``1`` but sent as
  ``True``).
- Every call goes through :func:`connectors.sync.retry.call_with_retries`:
  429 waits as ``Retry-After`` says; 5xx (503 often comes from the host, not
  WooCommerce), timeouts and dropped connections back off and try again.
- Errors never carry the request URL (its query holds the OAuth parameters)
  nor the credentials.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any, Callable, Iterator, Mapping
from urllib.parse import urlsplit

import requests
from woocommerce import API

from connectors.sync.retry import Retry, RetryPolicy, call_with_retries, parse_retry_after
from connectors.sync.runner import SyncError

log = logging.getLogger(__name__)

USER_AGENT = "ecommerce-analytics-woocommerce-connector"
MAX_PER_PAGE = 100
_PAST_THE_END = ("woocommerce_rest_invalid_page_number", "rest_post_invalid_page_number")


def normalize_site_url(url: str) -> str:
    """The site's address with a scheme and without a trailing slash; SyncError when unusable."""
    url = (url or "").strip()
    if not url:
        raise SyncError("WOOCOMMERCE_URL is not set: give the store's address, e.g. https://shop.example.")
    if "://" not in url:
        url = "https://" + url
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SyncError("WOOCOMMERCE_URL must be the store's http(s) address, e.g. https://shop.example.")
    path = parts.path.rstrip("/")
    for suffix in ("/wp-json/wc/v3", "/wp-json"):
        if path.endswith(suffix):
            path = path[: -len(suffix)]
    return f"{parts.scheme}://{parts.netloc}{path}"


def store_id_for(url: str) -> str:
    """``woocommerce:<host>`` (with a non-default port and a sub-folder install's path)."""
    parts = urlsplit(normalize_site_url(url))
    host = (parts.hostname or "").lower()
    default_port = {"http": 80, "https": 443}[parts.scheme]
    if parts.port and parts.port != default_port:
        host = f"{host}:{parts.port}"
    path = parts.path.strip("/")
    return f"woocommerce:{host}" + (f"/{path}" if path else "")


def gmt_param(value: dt.datetime) -> str:
    """A time as WooCommerce's filters take it with ``dates_are_gmt=true`` (no offset, seconds)."""
    return value.astimezone(dt.timezone.utc).replace(tzinfo=None, microsecond=0).isoformat()


class WooClient:
    """The few calls the connector makes, with retries and clear errors."""

    def __init__(
        self,
        url: str,
        key: str,
        secret: str,
        *,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
    ) -> None:
        self.site = normalize_site_url(url)
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self.api = API(
            url=self.site,
            consumer_key=key,
            consumer_secret=secret,
            version="wc/v3",
            timeout=timeout,
            user_agent=USER_AGENT,
        )

    # -- one request ---------------------------------------------------------
    def get(self, endpoint: str, params: Mapping[str, Any] | None = None) -> requests.Response:
        """GET ``wc/v3/<endpoint>``; the response of a 2xx answer, else SyncError."""
        response = self._fetch(endpoint, params)
        if response.status_code >= 400:
            raise SyncError(self._error_sentence(endpoint, response))
        return response

    def _fetch(self, endpoint: str, params: Mapping[str, Any] | None) -> requests.Response:
        """The answer to GET ``wc/v3/<endpoint>`` once throttling and server errors are behind."""
        query = {k: _param(v) for k, v in (params or {}).items() if v is not None}
        what = f"WooCommerce {endpoint}" + (f" page {query['page']}" if "page" in query else "")

        def call() -> requests.Response:
            response = self.api.get(endpoint, params=dict(query))
            _raise_for_retry(response)
            return response

        return self._send(call, what)

    def _send(self, call: Callable[[], requests.Response], what: str) -> requests.Response:
        try:
            return call_with_retries(call, what=what, policy=self.retry)
        except requests.RequestException as exc:  # not a transient failure: a bad address, say
            # requests' messages carry the URL, whose query holds the OAuth parameters: not repeated.
            raise SyncError(
                f"{what} could not be requested ({exc.__class__.__name__}): check WOOCOMMERCE_URL."
            ) from None

    def get_json(self, endpoint: str, params: Mapping[str, Any] | None = None) -> Any:
        return _json(self.get(endpoint, params), f"WooCommerce {endpoint}")

    def pages(self, endpoint: str, params: Mapping[str, Any], *,
              per_page: int = MAX_PER_PAGE) -> Iterator[tuple[list[dict], int, int | None]]:
        """Walk ``page`` until ``X-WP-TotalPages``: yields (records, page, X-WP-Total or None)."""
        page = 1
        per_page = min(per_page, MAX_PER_PAGE)
        while True:
            response = self._fetch(endpoint, {**params, "per_page": per_page, "page": page})
            if response.status_code == 400 and page > 1 and _wc_error(response)[0] in _PAST_THE_END:
                return  # walked without the total headers, one page too far
            if response.status_code >= 400:
                raise SyncError(self._error_sentence(endpoint, response))
            records = _json(response, f"WooCommerce {endpoint}")
            if not isinstance(records, list):
                raise SyncError(f"WooCommerce {endpoint} did not answer with a list of records.")
            total = _header_int(response, "X-WP-Total", None)
            # A cache that drops the X-WP-* headers: go on while pages come back full.
            total_pages = _header_int(response, "X-WP-TotalPages", page + 1 if len(records) >= per_page else page)
            yield records, page, total
            if not records or page >= total_pages:
                return
            page += 1

    def site_index(self) -> dict:
        """The WordPress REST index (``/wp-json/``): site name, ``timezone_string``, ``gmt_offset``.

        WooCommerce's own API has no site timezone (``system_status`` only shows
        PHP's default, which WordPress pins to UTC); WordPress publishes it here,
        without authentication.
        """
        url = f"{self.site}/wp-json/"

        def call() -> requests.Response:
            response = requests.get(
                url,
                params={"_fields": "name,url,home,timezone_string,gmt_offset"},
                headers={"user-agent": USER_AGENT, "accept": "application/json"},
                timeout=self.timeout,
            )
            _raise_for_retry(response)
            return response

        response = self._send(call, "WordPress site index")
        if response.status_code >= 400:
            raise SyncError(
                f"{self.site} answered HTTP {response.status_code} for its REST API index (/wp-json/): "
                "is WOOCOMMERCE_URL the WordPress site's address?"
            )
        data = _json(response, "WordPress site index")
        return data if isinstance(data, dict) else {}

    # -- errors --------------------------------------------------------------
    def _error_sentence(self, endpoint: str, response: requests.Response) -> str:
        status = response.status_code
        code, message = _wc_error(response)
        detail = f": {message.rstrip('.') or code}" if (message or code) else ""
        if status in (401, 403):
            return (
                f"WooCommerce at {self.site} refused the API key for {endpoint} (HTTP {status}{detail}): "
                "check WOOCOMMERCE_KEY and WOOCOMMERCE_SECRET and that the key has Read access."
            )
        if status == 404 and code in ("rest_no_route", ""):
            return (
                f"{self.site} has no WooCommerce REST API v3 route for {endpoint} (HTTP 404): is WOOCOMMERCE_URL "
                "the site's address, with WooCommerce 3.5 or later and pretty permalinks?"
            )
        if status == 400 and "modified_" in message:
            return (
                f"WooCommerce at {self.site} does not understand modified_after (HTTP 400{detail}): "
                "incremental sync needs WooCommerce 5.8 or later."
            )
        return f"WooCommerce at {self.site} answered HTTP {status} for {endpoint}{detail}."


def _param(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return gmt_param(value)
    return str(value)


def _raise_for_retry(response: requests.Response) -> None:
    status = response.status_code
    retry_after = parse_retry_after(response.headers.get("Retry-After"))
    if status == 429:
        raise Retry("HTTP 429 (rate limited)", retry_after=retry_after, throttled=True)
    if status >= 500:
        raise Retry(f"HTTP {status}", retry_after=retry_after)


def _json(response: requests.Response, what: str) -> Any:
    try:
        return response.json()
    except ValueError:
        kind = response.headers.get("Content-Type", "unknown content").split(";")[0]
        raise SyncError(
            f"{what} answered with {kind} instead of JSON (a security plugin or cache in front of the site?)."
        ) from None


def _header_int(response: requests.Response, name: str, default: int | None) -> int | None:
    try:
        return int(response.headers.get(name, default))
    except (TypeError, ValueError):
        return default


def _wc_error(response: requests.Response) -> tuple[str, str]:
    try:
        body = response.json()
    except ValueError:
        return "", ""
    if isinstance(body, dict):
        return str(body.get("code") or ""), str(body.get("message") or "")
    return "", ""
