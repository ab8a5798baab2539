"""Customers and when they buy: a BG/NBD process on the store's seasonal clock.

Each customer is acquired at a moment drawn uniformly in operational time (so
acquisitions follow the store's seasonality and growth) and buys then. While
alive, they buy again as a Poisson process of rate ``lambda ~ Gamma(r, alpha)``
per operational day; after every purchase they drop out with probability
``p ~ Beta(a, b)`` (Fader, Hardie & Lee 2005). Heterogeneous rates and
dropouts give the lifetime value models real signal to find.

The number of repeat purchases inside the history is ``min(K - 1, N)``, where
``K ~ Geometric(p)`` counts purchases up to dropout and ``N ~ Poisson(lambda
tau)`` counts the Poisson events left in the history. Their times are the first
order statistics of ``N`` uniform points, drawn from exponential spacings, so
the work is proportional to the orders kept.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import polars as pl

from connectors.demo.clock import US_PER_DAY, US_PER_SECOND
from connectors.demo.money import pick, prefixed_ids, timestamps

BGNBD = {"r": 0.55, "alpha": 80.0, "a": 1.6, "b": 3.2}

COUNTRIES = ("US", "CA", "GB", "DE", "FR", "NL", "AU", "JP")
COUNTRY_SHARE = np.array([0.70, 0.08, 0.07, 0.04, 0.03, 0.02, 0.04, 0.02])
CURRENCY_OF = {"US": "USD", "CA": "CAD", "GB": "GBP", "DE": "EUR", "FR": "EUR", "NL": "EUR", "AU": "AUD", "JP": "JPY"}
US, EU_COUNTRIES = 0, (2, 3, 4, 5)  # GB ships from Rotterdam too

CHANNELS = ("online_store", "pos", "marketplace", "social", "other")
ONLINE, POS, MARKETPLACE, SOCIAL, OTHER = range(5)
HOME_CHANNEL_US = np.array([0.66, 0.12, 0.10, 0.08, 0.04])
HOME_CHANNEL_INTL = np.array([0.80, 0.0, 0.08, 0.12, 0.0])

# US sales tax by ship-to state, in 1e-5 (8.875 % = 8875), with the share of customers.
US_TAX_RATES = np.array([8875, 6625, 6250, 7250, 6000, 8250, 0, 4000, 7000, 6500])
US_TAX_SHARE = np.array([0.22, 0.10, 0.08, 0.16, 0.10, 0.08, 0.06, 0.07, 0.08, 0.05])
COUNTRY_TAX = np.array([0, 13000, 20000, 19000, 20000, 21000, 10000, 10000])  # US is per state
STORE_TAX = 8875  # New York City, for point-of-sale orders

FIRST_NAMES = ("james", "mary", "olivia", "liam", "emma", "noah", "ava", "elijah", "sophia", "lucas", "mia",
               "mateo", "amelia", "levi", "harper", "ethan", "evelyn", "jack", "chloe", "leo", "nora", "hana",
               "yuki", "sofia", "louis", "lena", "finn", "maya", "omar", "priya", "aisha", "diego", "zoe")
LAST_NAMES = ("smith", "johnson", "brown", "garcia", "miller", "davis", "lopez", "wilson", "martin", "lee",
              "walker", "young", "king", "wright", "scott", "green", "baker", "adams", "nelson", "hill",
              "tanaka", "mueller", "dubois", "jansen", "patel", "nguyen", "kim", "rossi", "silva", "cohen")
# Reserved names (RFC 2606): made-up addresses that can never reach anyone.
DOMAINS = ("example.com", "example.net", "example.org", "mail.example", "post.example", "inbox.example",
           "shop.example")


@dataclass
class Customers:
    """Customers as parallel arrays, ordered by acquisition."""

    acquired_op: np.ndarray
    lam: np.ndarray
    p: np.ndarray
    country: np.ndarray
    home_channel: np.ndarray
    tax_rate: np.ndarray  # 1e-5
    paypal: np.ndarray
    accepts_marketing: np.ndarray
    signup_days_before: np.ndarray  # 0 = account created at the first checkout

    @property
    def n(self) -> int:
        return len(self.acquired_op)


def simulate_purchases(rng: np.random.Generator, n: int, op_total: float) -> tuple[Customers, np.ndarray, np.ndarray]:
    """``n`` customers and their purchases: (customers, purchase customer index, purchase op time)."""
    acquired = np.sort(rng.uniform(0.0, op_total, n))
    lam = rng.gamma(BGNBD["r"], 1.0 / BGNBD["alpha"], n)
    p = rng.beta(BGNBD["a"], BGNBD["b"], n)
    k = rng.geometric(p)
    tau = op_total - acquired
    poisson_events = rng.poisson(lam * tau)
    repeats = np.minimum(k - 1, poisson_events)
    # First `repeats` order statistics of `poisson_events` uniforms on [0, tau].
    owner = np.repeat(np.arange(n), repeats)
    spacing = rng.exponential(1.0, owner.size)
    csum = np.cumsum(spacing)
    starts = np.concatenate([[0], np.cumsum(repeats)[:-1]])
    offset = np.repeat(csum[starts - 1] * (starts > 0) if owner.size else np.zeros(n), repeats)
    partial = csum - offset
    last = np.zeros(n)
    has = repeats > 0
    last[has] = partial[np.cumsum(repeats)[has] - 1]
    rest = np.zeros(n)
    remaining = poisson_events + 1 - repeats
    rest[has] = rng.gamma(remaining[has].astype(float), 1.0)
    scale = tau / np.where(has, last + rest, 1.0)
    repeat_op = acquired[owner] + partial * scale[owner]
    purchase_customer = np.concatenate([np.arange(n), owner])
    purchase_op = np.concatenate([acquired, repeat_op])
    purchase_op = np.minimum(purchase_op, np.nextafter(op_total, 0))
    customers = Customers(
        acquired_op=acquired, lam=lam, p=p,
        country=rng.choice(len(COUNTRIES), size=n, p=COUNTRY_SHARE),
        home_channel=np.zeros(n, dtype=np.int64), tax_rate=np.zeros(n, dtype=np.int64),
        paypal=rng.random(n) < 0.22, accepts_marketing=np.zeros(n, dtype=bool),
        signup_days_before=np.zeros(n),
    )
    us = customers.country == US
    customers.home_channel[us] = rng.choice(5, size=int(us.sum()), p=HOME_CHANNEL_US)
    customers.home_channel[~us] = rng.choice(5, size=int((~us).sum()), p=HOME_CHANNEL_INTL)
    customers.tax_rate = COUNTRY_TAX[customers.country]
    customers.tax_rate[us] = rng.choice(US_TAX_RATES, size=int(us.sum()), p=US_TAX_SHARE)
    # Frequent buyers are likelier to have opted in to marketing.
    customers.accepts_marketing = rng.random(n) < np.where(lam > np.median(lam), 0.6, 0.35)
    early = rng.random(n) < 0.12
    customers.signup_days_before = np.where(early, rng.uniform(0.5, 60.0, n), 0.0)
    return customers, purchase_customer, purchase_op


def calibrated_purchases(rng: np.random.Generator, target_orders: int, op_total: float
                         ) -> tuple[Customers, np.ndarray, np.ndarray]:
    """Customers and purchases whose count is ``target_orders``.

    A pilot measures purchases per customer for this history length; the real
    draw uses a few more customers than needed and a random excess of
    purchases (never a customer's first) is dropped.
    """
    pilot_n = int(min(max(2000, target_orders // 2), 200_000))
    pilot_rng = np.random.default_rng(rng.integers(2**63))
    _, pilot_customer, _ = simulate_purchases(pilot_rng, pilot_n, op_total)
    per_customer = len(pilot_customer) / pilot_n
    n = max(1, int(np.ceil(target_orders / per_customer * 1.04)))
    customers, who, when = simulate_purchases(rng, n, op_total)
    while len(who) < target_orders:  # rare: the draw fell short of the pilot's rate
        n = int(np.ceil(n * 1.05)) + 1
        customers, who, when = simulate_purchases(rng, n, op_total)
    excess = len(who) - target_orders
    if excess > 0:
        repeats = np.arange(customers.n, len(who))
        firsts_to_drop = max(0, excess - len(repeats))
        drop = rng.choice(repeats, size=min(excess, len(repeats)), replace=False)
        keep = np.ones(len(who), dtype=bool)
        keep[drop] = False
        if firsts_to_drop:
            keep[rng.choice(customers.n, size=firsts_to_drop, replace=False)] = False
        who, when = who[keep], when[keep]
    return customers, who, when


def made_up_people(rng: np.random.Generator, numbers: np.ndarray) -> tuple[list[str], list[str], list[str]]:
    """A made-up name and address per customer, and the sha256 hex of the address (what ``customers`` keeps;
    the name and address go to ``customer_contacts``)."""
    first = rng.integers(len(FIRST_NAMES), size=len(numbers))
    last = rng.integers(len(LAST_NAMES), size=len(numbers))
    domain = rng.integers(len(DOMAINS), size=len(numbers))
    names, emails = [], []
    for f, s, n, d in zip(first.tolist(), last.tolist(), numbers.tolist(), domain.tolist()):
        names.append(f"{FIRST_NAMES[f]} {LAST_NAMES[s]}")
        emails.append(f"{FIRST_NAMES[f]}.{LAST_NAMES[s]}{n}@{DOMAINS[d]}".lower())
    sha = hashlib.sha256
    return [sha(e.encode()).hexdigest() for e in emails], names, emails


def contacts_frame(store_id: str, numbers: np.ndarray, names: list[str], emails: list[str],
                   updated_us: np.ndarray) -> pl.DataFrame:
    return pl.DataFrame([
        pl.Series("store_id", [store_id] * len(numbers), dtype=pl.String),
        prefixed_ids("c", numbers, "customer_id"),
        pl.Series("name", names, dtype=pl.String),
        pl.Series("email", emails, dtype=pl.String),
        timestamps(updated_us, "updated_at"),
    ])


def customer_created_us(rng: np.random.Generator, customers: Customers, first_order_us: np.ndarray,
                        store_created_us: int) -> np.ndarray:
    """Account creation: minutes before the first checkout, or days before for early sign-ups.

    Always strictly before the customer's first order, never before the store opened.
    """
    checkout = rng.integers(30, 1800, size=len(first_order_us)) * US_PER_SECOND
    early = (customers.signup_days_before * US_PER_DAY).astype(np.int64)
    created = first_order_us - np.maximum(checkout, early)
    created = np.maximum(created, store_created_us)
    created = np.minimum(created, first_order_us - US_PER_SECOND)
    return (created // US_PER_SECOND) * US_PER_SECOND


def customers_frame(store_id: str, numbers: np.ndarray, hashes: list[str], created_us: np.ndarray,
                    country: np.ndarray, accepts_marketing: np.ndarray, tags: list[str | None],
                    updated_us: np.ndarray) -> pl.DataFrame:
    return pl.DataFrame([
        pl.Series("store_id", [store_id] * len(numbers), dtype=pl.String),
        prefixed_ids("c", numbers, "customer_id"),
        pl.Series("email_hash", hashes, dtype=pl.String),
        timestamps(created_us, "created_at"),
        pick(COUNTRIES, country, "country"),
        pl.Series("accepts_marketing", np.asarray(accepts_marketing, dtype=bool)),
        pl.Series("tags", tags, dtype=pl.String),
        timestamps(updated_us, "updated_at"),
    ])

