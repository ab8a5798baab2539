"""Calls to the Stripe API through the official client, with our retry rules.

The client is ``stripe.StripeClient`` with ``max_network_retries=0``: its own
retries wait 0.5–5 s whatever the answer says, never retry a 429 unless
``Stripe-Should-Retry: true``, and would multiply ours. Every call goes through
:func:`connectors.sync.retry.call_with_retries` instead:

- ``Stripe-Should-Retry: false`` → no retry; ``true`` → retry;
- 429 → wait as ``Retry-After`` says (capped), bounded tries;
- 409, 5xx, timeouts, dropped connections → exponential backoff with jitter,
  bounded tries;
- then, or on any other error, one :class:`SyncError` sentence (never the key).
"""

from __future__ import annotations

from typing import Any, Callable, Iterator, Mapping

import stripe

from connectors.sync.retry import Retry, RetryPolicy, call_with_retries, parse_retry_after
from connectors.sync.runner import SyncError

PAGE_SIZE = 100  # Stripe's largest page


def _header(exc: stripe.StripeError, name: str) -> str | None:
    for key, value in (exc.headers or {}).items():
        if key.lower() == name:
            return value
    return None


def _refusal(exc: stripe.StripeError, what: str) -> SyncError:
    status = exc.http_status
    if isinstance(exc, stripe.AuthenticationError):
        return SyncError(f"Stripe refused the secret key while reading {what} (HTTP 401): check STRIPE_SECRET_KEY.")
    if isinstance(exc, stripe.PermissionError):
        return SyncError(f"The Stripe key may not read {what} (HTTP 403): give the restricted key read access.")
    code = getattr(exc, "code", None) or (exc.error.type if exc.error else None)
    detail = f"HTTP {status}" + (f", {code}" if code else "") if status else "no answer"
    return SyncError(f"Stripe refused to send {what} ({detail}).")


class StripeApi:
    """The few reads the connector makes, each retried by the shared rules."""

    def __init__(
        self,
        secret_key: str,
        *,
        api_base: str | None = None,
        timeout: float = 30.0,
        policy: RetryPolicy | None = None,
    ) -> None:
        self.client = stripe.StripeClient(
            secret_key,
            base_addresses={"api": api_base.rstrip("/")} if api_base else None,
            max_network_retries=0,
            http_client=stripe.RequestsClient(timeout=timeout),
        )
        self.policy = policy

    # -- one call ----------------------------------------------------------
    def call(self, what: str, request: Callable[[], Any]) -> Any:
        """``request()`` with retries; StripeObjects come back as plain dicts."""

        def attempt() -> Any:
            try:
                return request()
            except stripe.APIConnectionError as exc:
                if exc.should_retry:
                    raise Retry("no answer (a timeout or a dropped connection)") from None
                raise _refusal(exc, what) from None
            except stripe.StripeError as exc:
                should_retry = (_header(exc, "stripe-should-retry") or "").lower()
                status = exc.http_status or 0
                if should_retry == "false":
                    raise _refusal(exc, what) from None
                retry_after = parse_retry_after(_header(exc, "retry-after"))
                if status == 429 or isinstance(exc, stripe.RateLimitError):
                    raise Retry("HTTP 429 (rate limited)", retry_after=retry_after, throttled=True) from None
                if should_retry == "true" or status == 409 or status >= 500:
                    raise Retry(f"HTTP {status}", retry_after=retry_after) from None
                raise _refusal(exc, what) from None

        result = call_with_retries(attempt, what=f"Stripe {what}", policy=self.policy)
        return result.to_dict() if isinstance(result, stripe.StripeObject) else result

    # -- reads -------------------------------------------------------------
    def account(self) -> dict:
        return self.call("account", lambda: self.client.v1.accounts.retrieve_current())

    def pages(self, resource: str, params: Mapping[str, Any]) -> Iterator[tuple[list[dict], bool]]:
        """Every page of ``GET /v1/<resource>`` (newest first) as (objects, is last page).

        Follows ``has_more`` with ``starting_after``; the next page is asked
        for only when the caller has taken this one.
        """
        service = getattr(self.client.v1, resource)
        query = {"limit": PAGE_SIZE, **params}
        page_number = 1
        while True:
            page = self.call(f"{resource} page {page_number}", lambda q=dict(query): service.list(params=q))
            data = page.get("data") or []
            last = not page.get("has_more") or not data
            yield data, last
            if last:
                return
            query["starting_after"] = data[-1]["id"]
            page_number += 1

    def balance_transaction(self, transaction_id: str) -> dict:
        return self.call(
            "balance transaction",
            lambda: self.client.v1.balance_transactions.retrieve(transaction_id),
        )

    def refunds_of_charge(self, charge_id: str) -> list[dict]:
        params = {"charge": charge_id, "expand": ["data.balance_transaction", "data.failure_balance_transaction"]}
        return [refund for page, _ in self.pages("refunds", params) for refund in page]
