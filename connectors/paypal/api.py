"""Calls to PayPal's Transaction Search through the official ``paypal-server-sdk``.

- **An address of our own.** The SDK knows only PayPal's production and sandbox
  servers; :class:`AddressedConfiguration` overrides ``get_base_uri`` so
  ``PAYPAL_API_BASE`` (a proxy, a local emulator) is used instead. Plain
  ``http://`` is accepted only for a local address (the client secret travels
  in the token request).
- **The token, fetched explicitly.** ``client.oauth_2.fetch_token()`` is called
  before the first read (and again when the token expires): left to itself the
  SDK swallows a refused secret and answers every call with "OAuthToken is
  undefined or expired", so a wrong secret would not say so.
- **Retries** follow :mod:`connectors.sync.retry` (the SDK's own are off): a 429
  ``RATE_LIMIT_REACHED`` waits as ``Retry-After`` says, a 5xx or a dropped
  connection backs off, anything else is one :class:`SyncError` sentence that
  never carries the secret.
- **Too large.** More than 10,000 matching records answers HTTP 400
  ``RESULTSET_TOO_LARGE``; it is raised as :class:`ResultTooLarge` so the
  source splits the window.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

from apimatic_core.utilities.auth_helper import AuthHelper
from paypalserversdk.configuration import Configuration, Environment, Server
from paypalserversdk.exceptions.api_exception import ApiException
from paypalserversdk.http.auth.o_auth_2 import ClientCredentialsAuthCredentials
from paypalserversdk.paypal_serversdk_client import PaypalServersdkClient

from connectors.sync.retry import Retry, RetryPolicy, call_with_retries, parse_retry_after
from connectors.sync.runner import SyncError

PAGE_SIZE = 500  # PayPal's largest page
PRODUCTION = "https://api-m.paypal.com"
SANDBOX = "https://api-m.sandbox.paypal.com"


class ResultTooLarge(Exception):
    """PayPal's answer to a window holding more than 10,000 records: split it."""


class AddressedConfiguration(Configuration):
    """The SDK's configuration, sending every call to ``base_uri``."""

    def __init__(self, base_uri: str, **options: Any) -> None:
        self._base_uri = base_uri.rstrip("/")
        super().__init__(**options)

    def get_base_uri(self, server: Server = Server.DEFAULT) -> str:
        return self._base_uri


def check_address(address: str) -> str:
    """``address`` when it is https, or http to this machine or a private network; SyncError otherwise."""
    parts = urlsplit(address.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SyncError(f"PAYPAL_API_BASE must be an http(s) address such as {PRODUCTION}, not {address!r}.")
    if parts.scheme == "http" and not _local(parts.hostname):
        raise SyncError("PAYPAL_API_BASE may use plain http only for a local address (localhost or a private "
                        "network); use https for any other.")
    return address.strip().rstrip("/")


def _local(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return False
    return ip.is_loopback or ip.is_private


def _error_of(exc: ApiException) -> dict:
    """PayPal's error body (``name``, ``message``, or OAuth's ``error``), {} when it is not JSON."""
    try:
        body = json.loads(getattr(exc.response, "text", "") or "{}")
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _header(exc: ApiException, name: str) -> str | None:
    for key, value in (getattr(exc.response, "headers", None) or {}).items():
        if key.lower() == name:
            return value
    return None


class PayPalApi:
    """The reads the connector makes, each retried by the shared rules."""

    def __init__(self, client_id: str, client_secret: str, *, api_base: str | None = None,
                 timeout: float = 30.0, policy: RetryPolicy | None = None) -> None:
        self.policy = policy
        self._token = None
        credentials = ClientCredentialsAuthCredentials(
            o_auth_client_id=client_id, o_auth_client_secret=client_secret,
            o_auth_token_provider=lambda _last, auth: self._current_token(auth),
        )
        options = dict(timeout=timeout, max_retries=0, client_credentials_auth_credentials=credentials)
        if api_base:
            config = AddressedConfiguration(check_address(api_base), **options)
        else:
            config = Configuration(environment=Environment.PRODUCTION, **options)
        self.client = PaypalServersdkClient(config=config)
        self._current_token(self.client.oauth_2)

    # -- the token ---------------------------------------------------------
    def _current_token(self, auth: Any) -> Any:
        if self._token is None or auth.is_token_expired(self._token):
            self._token = self._fetch_token(auth)
        return self._token

    def _fetch_token(self, auth: Any) -> Any:
        def attempt() -> Any:
            try:
                return auth.fetch_token()
            except ApiException as exc:
                status = exc.response_code
                if status == 429:
                    raise Retry("HTTP 429 (rate limited)", throttled=True,
                                retry_after=parse_retry_after(_header(exc, "retry-after"))) from None
                if status >= 500:
                    raise Retry(f"HTTP {status}") from None
                code = _error_of(exc).get("error")
                detail = f"HTTP {status}" + (f", {code}" if code else "")
                raise SyncError(f"PayPal refused the client id and secret ({detail}): check PAYPAL_CLIENT_ID "
                                "and PAYPAL_CLIENT_SECRET (a live app's credentials, or a sandbox app's with "
                                "the sandbox PAYPAL_API_BASE).") from None

        token = call_with_retries(attempt, what="PayPal token request", policy=self.policy)
        if getattr(token, "expires_in", None) and not getattr(token, "expiry", None):
            token.expiry = AuthHelper.get_token_expiry(AuthHelper.get_current_utc_timestamp(), token.expires_in)
        return token

    # -- one call ----------------------------------------------------------
    def _call(self, what: str, request: Any) -> dict:
        def attempt() -> dict:
            try:
                response = request()
            except ApiException as exc:
                status = exc.response_code
                error = _error_of(exc)
                name = error.get("name")
                if status == 429 or name == "RATE_LIMIT_REACHED":
                    raise Retry("HTTP 429 (rate limited)", throttled=True,
                                retry_after=parse_retry_after(_header(exc, "retry-after"))) from None
                if name == "RESULTSET_TOO_LARGE":
                    raise ResultTooLarge(error.get("message") or name) from None
                if status >= 500:
                    raise Retry(f"HTTP {status}") from None
                if status in (401, 403):
                    raise SyncError(f"PayPal refused to send {what} (HTTP {status}"
                                    + (f", {name}" if name else "")
                                    + "): the app needs the Transaction Search permission.") from None
                detail = f"HTTP {status}" + (f", {name}" if name else "")
                message = error.get("message")
                raise SyncError(f"PayPal refused to send {what} ({detail})"
                                + (f": {message}" if message else ".")) from None
            return json.loads(response.text or "{}", parse_float=Decimal)

        return call_with_retries(attempt, what=f"PayPal {what}", policy=self.policy)

    # -- reads -------------------------------------------------------------
    def balances(self) -> dict:
        """``GET /v1/reporting/balances``: the account id and its currencies (the primary one first)."""
        return self._call("balances", lambda: self.client.transaction_search.search_balances({}))

    def transactions_page(self, start: dt.datetime, end: dt.datetime, page: int) -> dict:
        """One page of ``GET /v1/reporting/transactions`` for ``[start, end)`` (at most 31 days)."""
        options = {
            "start_date": _rfc3339(start), "end_date": _rfc3339(end), "fields": "transaction_info",
            "balance_affecting_records_only": "Y", "page_size": PAGE_SIZE, "page": page,
        }
        return self._call(f"transactions {start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M} page {page}",
                          lambda: self.client.transaction_search.search_transactions(options))


def _rfc3339(value: dt.datetime) -> str:
    """``2026-07-01T13:15:22Z``: whole seconds in UTC, as the API's pattern asks."""
    return value.astimezone(dt.timezone.utc).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")
