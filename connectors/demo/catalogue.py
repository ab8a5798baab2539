"""The demo store's catalogue: ~120 products, ~400 variants, 3 locations, 6 suppliers.

An outdoor-casual apparel and goods brand. Products have a type, a vendor, a
launch date (most exist before the history starts, some launch during it, a
few stop selling part-way and become dead stock) and a long-tail popularity:
product weights follow a Zipf law over a random ranking, variants split
their product's weight by colour and size. Prices end in .99 (some in .00),
unit costs are 28-42 % of the price, supplier costs carry up to 4 decimals.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# (type, code, products, price range in dollars, sizes, max colours, multi-buy propensity,
#  vendor, supplier index, MOQ range, pack sizes, adjectives, nouns)
PRODUCT_TYPES = (
    ("T-Shirts", "TEE", 20, (28, 42), ("S", "M", "L", "XL", "XXL"), 2, 0.10, "Harbor & Pine", 0,
     (36, 72), (6, 12), ("Organic Cotton", "Heavyweight", "Slub", "Everyday", "Vintage Wash", "Pima",
                         "Garment-Dyed", "Merino"), ("Tee", "Pocket Tee", "Long Sleeve Tee", "Henley")),
    ("Hoodies & Sweatshirts", "SWT", 14, (68, 98), ("S", "M", "L", "XL"), 2, 0.04, "Harbor & Pine", 0,
     (24, 48), (6, 12), ("Fleece", "French Terry", "Heavyweight", "Recycled", "Loopback", "Brushed"),
     ("Hoodie", "Zip Hoodie", "Crewneck Sweatshirt", "Quarter-Zip")),
    ("Pants", "PNT", 10, (68, 110), ("S", "M", "L", "XL"), 2, 0.03, "Harbor & Pine", 0,
     (24, 48), (6,), ("Stretch", "Organic", "Relaxed", "Tapered", "Canvas"),
     ("Jogger", "Chino", "Sweatpant", "Climbing Pant")),
    ("Outerwear", "OUT", 8, (128, 248), ("S", "M", "L", "XL"), 1, 0.01, "Alder Outdoor", 1,
     (12, 24), (4, 6), ("Waxed Canvas", "Packable", "Recycled", "Sherpa", "Wool"),
     ("Chore Coat", "Rain Shell", "Puffer Vest", "Fleece Jacket", "Overshirt")),
    ("Socks", "SCK", 10, (14, 28), ("S/M", "L/XL"), 1, 0.35, "Kestrel Mills", 2,
     (48, 120), (12, 24), ("Merino", "Cushioned", "Everyday", "Striped", "Trail"),
     ("Crew Socks", "Ankle Socks", "Hiking Socks", "Boot Socks")),
    ("Headwear", "HAT", 10, (28, 42), (), 3, 0.06, "Alder Outdoor", 1,
     (24, 48), (6, 12), ("Merino", "Ribbed", "Six-Panel", "Waxed", "Corduroy"), ("Beanie", "Cap", "Bucket Hat")),
    ("Bags", "BAG", 12, (48, 168), (), 2, 0.02, "Northfield Goods", 4,
     (12, 24), (4, 6), ("Canvas", "Waxed Canvas", "Ripstop", "Leather", "Market"),
     ("Tote", "Backpack", "Dopp Kit", "Duffel", "Sling Bag")),
    ("Drinkware", "MUG", 12, (18, 42), (), 3, 0.25, "Tidewater Ceramics", 3,
     (24, 48), (6, 12), ("Stoneware", "Enamel", "Insulated", "Speckled", "Glass"),
     ("Mug", "Tumbler", "Water Bottle", "Camp Mug")),
    ("Home", "HOM", 12, (24, 128), (), 2, 0.08, "Northfield Goods", 4,
     (12, 36), (4, 6), ("Cedar & Smoke", "Sea Salt", "Wool", "Stonewashed", "Fig Leaf"),
     ("Candle", "Throw Blanket", "Linen Napkins", "Tea Towel")),
    ("Stationery", "STN", 11, (8, 32), (), 2, 0.18, "Fernwood Paper Co.", 5,
     (50, 100), (10, 25), ("Dot Grid", "Lay-Flat", "Weekly", "Trail Map", "Brass"),
     ("Notebook", "Planner", "Sticker Pack", "Poster", "Pen Set")),
)
COLOURS = (("Black", "BLK"), ("Heather Grey", "HGR"), ("Navy", "NVY"), ("Forest", "FOR"), ("Sand", "SND"),
           ("Rust", "RST"), ("Olive", "OLV"), ("Oatmeal", "OAT"), ("Slate", "SLT"), ("White", "WHT"))
SIZE_SHARE = {"XS": 0.35, "S": 0.8, "M": 1.2, "L": 1.15, "XL": 0.7, "XXL": 0.35, "S/M": 1.0, "L/XL": 0.9}
COLOUR_SHARE = (1.0, 0.6, 0.35)
GIFT_CARD_AMOUNTS = (25, 50, 100)

# (supplier name, lead time in days, contact)
SUPPLIERS = (
    ("Pacific Apparel Manufacturing", 35, "orders@pacific-apparel.example"),
    ("Alder Outdoor Supply", 45, "wholesale@alder-outdoor.example"),
    ("Kestrel Mills", 21, "sales@kestrel-mills.example"),
    ("Tidewater Ceramics", 14, "studio@tidewater-ceramics.example"),
    ("Northfield Goods", 28, "trade@northfield-goods.example"),
    ("Fernwood Paper Co.", 10, "hello@fernwood-paper.example"),
)

# (location id suffix, name, country, share of the most popular products it stocks)
LOCATIONS = (
    ("main", "Main warehouse - Secaucus, NJ", "US", 1.0),
    ("soho", "SoHo store - New York", "US", 0.6),
    ("rtm", "EU fulfilment - Rotterdam", "NL", 0.4),
)
MAIN, STORE, EU = 0, 1, 2
NEVER = 10**9  # last_day of a variant that keeps selling


@dataclass
class Catalogue:
    """Products and variants as parallel arrays (index = position)."""

    product_title: list[str]
    product_type: list[str]
    product_vendor: list[str]
    product_status: list[str]
    product_created_day: np.ndarray  # day index relative to the first day of history (may be negative)
    variant_product: np.ndarray
    variant_sku: list[str]
    variant_title: list[str]
    price_cents: np.ndarray
    cost_cents: np.ndarray
    weight: np.ndarray  # popularity (sums to 1 over sellable variants)
    is_gift_card: np.ndarray
    launch_day: np.ndarray  # first day index the variant sells
    last_day: np.ndarray  # last day index the variant sells
    multibuy: np.ndarray  # propensity to buy several units
    supplier: np.ndarray  # supplier index (-1 for gift cards)
    supplier_cost_e4: np.ndarray  # supplier unit cost in 1e-4 dollars
    moq: np.ndarray
    pack_size: np.ndarray
    stocked: np.ndarray  # bool [variant, location]

    @property
    def n_products(self) -> int:
        return len(self.product_title)

    @property
    def n_variants(self) -> int:
        return len(self.variant_sku)

    def sellable(self, variant: np.ndarray, day_index: np.ndarray) -> np.ndarray:
        return (self.launch_day[variant] <= day_index) & (day_index <= self.last_day[variant])


def retail_price(rng: np.random.Generator, low: float, high: float) -> int:
    """A shelf price in cents: 34.99, 129.99, sometimes 38.00."""
    dollars = rng.uniform(low, high)
    if dollars >= 100:
        whole = int(round(dollars / 10.0)) * 10
    else:
        whole = int(round(dollars / 2.0)) * 2
    return whole * 100 if rng.random() < 0.15 else whole * 100 - 1


def build_catalogue(rng: np.random.Generator, n_days: int) -> Catalogue:
    """The catalogue, its popularity, launch dates, assortments and supplier terms."""
    titles, types, vendors, product_supplier, product_type_index = [], [], [], [], []
    v_product, v_sku, v_title, v_price, v_weight_in_product, v_gift = [], [], [], [], [], []
    seen_titles: set[str] = set()
    for t_index, (ptype, code, count, (lo, hi), sizes, max_colours, _mb, vendor, sup, _moq, _packs,
                  adjectives, nouns) in enumerate(PRODUCT_TYPES):
        for k in range(count):
            for _ in range(50):
                title = f"{adjectives[rng.integers(len(adjectives))]} {nouns[rng.integers(len(nouns))]}"
                if title not in seen_titles:
                    break
            else:
                title = f"{title} {k + 2}"
            seen_titles.add(title)
            p = len(titles)
            titles.append(title)
            types.append(ptype)
            vendors.append(vendor)
            product_supplier.append(sup)
            product_type_index.append(t_index)
            price = retail_price(rng, lo, hi)
            n_colours = int(rng.integers(1, max_colours + 1))
            colours = rng.choice(len(COLOURS), size=n_colours, replace=False)
            for c_rank, c in enumerate(colours):
                colour, ccode = COLOURS[c]
                for size in sizes or (None,):
                    v_product.append(p)
                    label = colour if size is None else f"{colour} / {size}"
                    v_title.append(label if (n_colours > 1 or size) else "Default Title")
                    v_sku.append(f"{code}-{p + 1:03d}-{ccode}" + (f"-{size.replace('/', '')}" if size else ""))
                    v_price.append(price + (300 if size == "XXL" else 0))
                    v_weight_in_product.append(COLOUR_SHARE[c_rank] * (SIZE_SHARE[size] if size else 1.0))
                    v_gift.append(False)
    # Gift card: not discounted, not taxed, not stocked.
    gift_product = len(titles)
    titles.append("Gift Card")
    types.append("Gift Cards")
    vendors.append("Harbor & Pine")
    product_supplier.append(-1)
    product_type_index.append(-1)
    for amount in GIFT_CARD_AMOUNTS:
        v_product.append(gift_product)
        v_title.append(f"${amount}")
        v_sku.append(f"GIFT-{amount}")
        v_price.append(amount * 100)
        v_weight_in_product.append({25: 0.5, 50: 1.0, 100: 0.6}[amount])
        v_gift.append(True)

    n_products = len(titles)
    variant_product = np.array(v_product, dtype=np.int64)
    is_gift = np.array(v_gift, dtype=bool)
    price_cents = np.array(v_price, dtype=np.int64)
    n_variants = len(v_sku)

    # Long tail: Zipf over a random ranking of the products.
    rank = rng.permutation(n_products - 1)
    product_weight = np.append(1.0 / (rank + 1.5) ** 1.05, 0.0)
    within = np.array(v_weight_in_product)
    totals = np.bincount(variant_product, weights=within, minlength=n_products)
    weight = product_weight[variant_product] * within / totals[variant_product]
    weight[is_gift] = 0.0
    weight /= weight.sum()

    # Launches: most products exist before the history; about a fifth launch during it.
    created_day = -rng.integers(60, 900, size=n_products)
    launched = rng.random(n_products) < 0.2
    launched[gift_product] = False
    created_day[launched] = rng.integers(int(n_days * 0.05) + 1, max(int(n_days * 0.85), int(n_days * 0.05) + 2),
                                         size=int(launched.sum()))
    launch_day = np.maximum(created_day + 3, 0)[variant_product]
    # A few products stop selling part-way through: their stock left over is dead stock.
    candidates = np.flatnonzero(~launched[:-1] & (rank >= 20))
    dead = rng.choice(candidates, size=min(4, len(candidates)), replace=False) if len(candidates) else []
    last_day = np.full(n_variants, NEVER, dtype=np.int64)
    for p in dead:
        last_day[variant_product == p] = int(rng.integers(int(n_days * 0.3), int(n_days * 0.6) + 1))
    statuses = ["active"] * n_products

    type_of_variant = np.array(product_type_index)[variant_product]
    multibuy = np.array([PRODUCT_TYPES[t][6] if t >= 0 else 0.0 for t in type_of_variant])
    supplier = np.array(product_supplier)[variant_product]
    cost_ratio = rng.uniform(0.28, 0.42, size=n_products)[variant_product]
    cost_cents = np.round(price_cents * cost_ratio).astype(np.int64)
    cost_cents[is_gift] = 0
    # Suppliers quote per unit from a pack price: up to 4 decimals, below the landed cost.
    supplier_cost_e4 = np.round(cost_cents * 100 * rng.uniform(0.9, 0.97, size=n_variants)).astype(np.int64)
    moq = np.zeros(n_variants, dtype=np.int64)
    pack = np.ones(n_variants, dtype=np.int64)
    for v in range(n_variants):
        t = type_of_variant[v]
        if t < 0:
            continue
        lo_moq, hi_moq = PRODUCT_TYPES[t][9]
        packs = PRODUCT_TYPES[t][10]
        pack[v] = packs[int(rng.integers(len(packs)))]
        moq[v] = int(np.ceil(rng.integers(lo_moq, hi_moq + 1) / pack[v]) * pack[v])

    # Assortments: every location carries the most popular share of the products.
    by_popularity = np.argsort(-product_weight[:-1])
    stocked = np.zeros((n_variants, len(LOCATIONS)), dtype=bool)
    for loc, (_key, _name, _country, share) in enumerate(LOCATIONS):
        carried = by_popularity[: int(round(share * (n_products - 1)))]
        stocked[:, loc] = np.isin(variant_product, carried) & ~is_gift
    return Catalogue(
        product_title=titles, product_type=types, product_vendor=vendors, product_status=statuses,
        product_created_day=created_day, variant_product=variant_product, variant_sku=v_sku,
        variant_title=v_title, price_cents=price_cents, cost_cents=cost_cents, weight=weight,
        is_gift_card=is_gift, launch_day=launch_day, last_day=last_day, multibuy=multibuy,
        supplier=supplier, supplier_cost_e4=supplier_cost_e4, moq=moq, pack_size=pack, stocked=stocked,
    )


class VariantSampler:
    """Draws variants by popularity among those a location stocks and sells on a given day."""

    def __init__(self, catalogue: Catalogue) -> None:
        self.cat = catalogue
        self.cdf = []
        self.evergreen_cdf = []
        evergreen = (catalogue.launch_day <= 0) & (catalogue.last_day == NEVER)
        for loc in range(catalogue.stocked.shape[1]):
            w = catalogue.weight * catalogue.stocked[:, loc]
            cdf = np.cumsum(w)
            self.cdf.append(cdf / cdf[-1])
            evergreen_cdf = np.cumsum(w * evergreen)
            self.evergreen_cdf.append(evergreen_cdf / evergreen_cdf[-1])

    def draw(self, rng: np.random.Generator, location: np.ndarray, day_index: np.ndarray) -> np.ndarray:
        out = np.empty(len(location), dtype=np.int64)
        for loc in range(len(self.cdf)):
            sel = np.flatnonzero(location == loc)
            if len(sel) == 0:
                continue
            v = np.searchsorted(self.cdf[loc], rng.random(len(sel)), side="right")
            for _ in range(3):
                bad = ~self.cat.sellable(v, day_index[sel])
                if not bad.any():
                    break
                v[bad] = np.searchsorted(self.cdf[loc], rng.random(int(bad.sum())), side="right")
            bad = ~self.cat.sellable(v, day_index[sel])
            if bad.any():
                v[bad] = np.searchsorted(self.evergreen_cdf[loc], rng.random(int(bad.sum())), side="right")
            out[sel] = np.minimum(v, self.cat.n_variants - 1)
        return out
