"""Stock that agrees with the sales: a day-by-day simulation per variant and location.

Every stocked (variant, location) pair is a *slot*. Each local day:

1. purchase orders due that day are received before opening (08:00);
2. the day's order lines are served in time order; a line is sold only if the
   units sold before it that day plus its own fit in the opening stock,
   otherwise it is dropped (an order left with no line is dropped too);
   voided orders' lines must fit but take no stock;
3. refunds marked ``restock`` put their units back on the refund's day;
4. the stock at the end of the day is that day's ``inventory_snapshots`` row;
5. on its supplier's weekly order day, a slot whose stock plus stock on order
   is below the forecast demand over lead time and review period (times a
   safety factor) is reordered up to a cover target, in pack sizes, at least
   the MOQ. Deliveries may be late.

So, per slot and day: ``opening = previous snapshot + received``,
``units sold ≤ opening`` and ``snapshot = opening − sold + restocked``.
Most slots are well run; some carry too little safety stock and run out,
some are overstocked, and the products that stop selling leave dead stock.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from connectors.demo.catalogue import EU, LOCATIONS, SUPPLIERS, Catalogue
from connectors.demo.clock import US_PER_DAY, StoreClock
from connectors.demo.money import dates, decimal_from_minor, pick, prefixed_ids, repeated, timestamps
from connectors.demo.orders import VOIDED, Candidates

REVIEW_DAYS = 7
EU_EXTRA_LEAD = 10  # ocean freight to Rotterdam
RECEIVING_HOUR = 8.0
ORDERING_HOUR = 16.0


@dataclass
class StockResult:
    keep_lines: np.ndarray
    slot_variant: np.ndarray
    slot_location: np.ndarray
    snapshots: np.ndarray  # [slot, day] stock at the end of each local day
    po_supplier: np.ndarray
    po_location: np.ndarray
    po_created_day: np.ndarray
    po_arrival_day: np.ndarray
    po_lead: np.ndarray
    po_received: np.ndarray
    pol_po: np.ndarray
    pol_variant: np.ndarray
    pol_qty: np.ndarray

    @property
    def final_stock(self) -> np.ndarray:
        return self.snapshots[:, -1]


def slots_of(catalogue: Catalogue) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(slot variant, slot location, slot index by [variant, location] or -1)."""
    variant, location = np.nonzero(catalogue.stocked)
    index = np.full(catalogue.stocked.shape, -1, dtype=np.int64)
    index[variant, location] = np.arange(len(variant))
    return variant, location, index


def smoothed_demand(slot: np.ndarray, day: np.ndarray, units: np.ndarray, n_slots: int, n_days: int,
                    horizon: int) -> np.ndarray:
    """Cumulative forecast demand per slot, ``[slot, day]`` for days 0..horizon (a 29-day centred mean)."""
    flat = np.bincount(slot * n_days + day, weights=units, minlength=n_slots * n_days).reshape(n_slots, n_days)
    padded = np.concatenate([np.zeros((n_slots, 15)), flat, np.zeros((n_slots, 15))], axis=1)
    c = np.cumsum(padded, axis=1)
    window = np.concatenate([np.zeros((n_slots, 1)), c], axis=1)
    smooth = (window[:, 29:29 + n_days] - window[:, :n_days]) / 29.0
    tail = flat[:, max(0, n_days - 28):].mean(axis=1, keepdims=True)
    future = np.repeat(tail, horizon - n_days, axis=1)
    return np.concatenate([np.zeros((n_slots, 1)), np.cumsum(np.concatenate([smooth, future], axis=1), axis=1)],
                          axis=1)


def simulate_stock(rng: np.random.Generator, cand: Candidates, catalogue: Catalogue, clock: StoreClock
                   ) -> StockResult:
    n_days = clock.n_days
    slot_variant, slot_location, slot_index = slots_of(catalogue)
    n_slots = len(slot_variant)
    line_slot = slot_index[cand.line_variant, cand.location[cand.line_order]]
    tracked = line_slot >= 0
    order_day = cand.day[cand.line_order]
    consumes = tracked & (cand.status[cand.line_order] != VOIDED)
    qty = cand.line_qty
    take = np.where(consumes, qty, 0)

    supplier = catalogue.supplier[slot_variant]
    lead = np.array([SUPPLIERS[s][1] for s in np.maximum(supplier, 0)]) + np.where(slot_location == EU,
                                                                                   EU_EXTRA_LEAD, 0)
    max_cover = 200
    horizon = n_days + int(lead.max()) + REVIEW_DAYS + max_cover + 60
    t = np.flatnonzero(tracked)
    cum_demand = smoothed_demand(line_slot[t], order_day[t], take[t].astype(float), n_slots, n_days, horizon)

    # How each slot is run.
    kind = rng.random(n_slots)
    prone = kind < 0.12
    over = (kind > 0.94) | (catalogue.last_day[slot_variant] < n_days)
    safety = np.where(prone, 0.65, rng.uniform(1.15, 1.45, n_slots))
    cover = np.where(over, max_cover, rng.integers(21, 45, n_slots))
    jitter_scale = np.where(prone, 0.35, 0.12)
    pack = catalogue.pack_size[slot_variant]
    moq = catalogue.moq[slot_variant]
    ordering_weekday = np.maximum(supplier, 0) % 5

    rows = np.arange(n_slots)
    first_window = cum_demand[rows, np.minimum(lead + REVIEW_DAYS + 30, horizon)]
    stock = np.ceil(first_window * rng.uniform(0.8, 1.5, n_slots) * np.where(over, 3.0, 1.0)).astype(np.int64)
    on_order = np.zeros(n_slots, dtype=np.int64)
    arrivals = np.zeros((n_days + 1, n_slots), dtype=np.int64)
    restock_in = np.zeros((n_days + 1, n_slots), dtype=np.int64)
    snapshots = np.zeros((n_slots, n_days), dtype=np.int64)

    # Lines by (day, slot, time); untracked lines (gift cards) always stand.
    order = np.lexsort((cand.line_order, line_slot, order_day))
    s_day, s_slot, s_take, s_qty = order_day[order], line_slot[order], take[order], qty[order]
    s_tracked = tracked[order]
    refund_day = np.where(cand.refund_us >= 0, clock.day_index(np.maximum(cand.refund_us, 0)), -1)
    ret_day = refund_day[cand.line_order][order]
    ret_qty = np.where(cand.restock[cand.line_order], cand.line_return_qty, 0)[order]
    keep_sorted = np.ones(len(order), dtype=bool)
    day_edges = np.searchsorted(s_day, np.arange(n_days + 1))
    receive_cutoff_day = received_by_cutoff(clock)

    po_rows: list[tuple[int, int, int, int, int, bool]] = []
    pol: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    weekday = (clock.days + 3) % 7
    for d in range(n_days):
        stock += arrivals[d]
        on_order -= arrivals[d]
        a, b = day_edges[d], day_edges[d + 1]
        if b > a:
            sl, tk, q, tr = s_slot[a:b], s_take[a:b], s_qty[a:b], s_tracked[a:b]
            cs = np.cumsum(tk)
            new_group = np.ones(b - a, dtype=bool)
            new_group[1:] = sl[1:] != sl[:-1]
            base = (cs - tk)[new_group]
            cum = cs - base[np.cumsum(new_group) - 1]
            opening = stock[np.maximum(sl, 0)]
            ok = ~tr | (cum - tk + q <= opening)
            # A dropped line leaves its units to nobody: later lines of that slot see them as taken.
            keep_sorted[a:b] = ok
            sold = np.bincount(sl[ok & tr], weights=tk[ok & tr], minlength=n_slots).astype(np.int64)
            stock -= sold
            back = ok & tr & (ret_qty[a:b] > 0) & (ret_day[a:b] >= d) & (ret_day[a:b] < n_days)
            if back.any():
                np.add.at(restock_in, (ret_day[a:b][back], sl[back]), ret_qty[a:b][back])
        stock += restock_in[d]
        snapshots[:, d] = stock
        # Weekly purchase orders, one per supplier and location.
        due = ordering_weekday == weekday[d] if d < n_days - 1 else np.zeros(n_slots, dtype=bool)
        if not due.any():
            continue
        start = d + 1
        need_lt = cum_demand[rows, np.minimum(start + lead + REVIEW_DAYS, horizon)] - cum_demand[:, start]
        position = stock + on_order
        # Slow sellers still keep a couple of units while they have any demand ahead.
        alive = cum_demand[rows, np.minimum(start + 90, horizon)] - cum_demand[:, start] > 0.5
        reorder = due & alive & (position < np.maximum(2.0, safety * need_lt))
        if not reorder.any():
            continue
        target = cum_demand[rows, np.minimum(start + lead + REVIEW_DAYS + cover, horizon)] - cum_demand[:, start]
        qty_needed = np.ceil(np.maximum(safety * target - position, 1) / pack) * pack
        po_qty = np.maximum(qty_needed, moq).astype(np.int64)
        late = np.maximum(0, np.round(rng.normal(0, 1, n_slots) * lead * jitter_scale)).astype(np.int64)
        late += np.where(rng.random(n_slots) < 0.04, (lead * 0.5).astype(np.int64), 0)
        arrival = d + lead + late
        sel = np.flatnonzero(reorder)
        groups = {}
        for s in sel:
            groups.setdefault((int(supplier[s]), int(slot_location[s])), []).append(s)
        for (sup, loc), members in sorted(groups.items()):
            members = np.array(members)
            # One truck per PO: the whole order arrives together, with the slowest line.
            arrive = int(arrival[members].max())
            received = arrive <= receive_cutoff_day
            po_rows.append((sup, loc, d, arrive, int(lead[members[0]]), received))
            pol.append((np.full(len(members), len(po_rows) - 1), slot_variant[members], po_qty[members]))
            on_order[members] += po_qty[members]
            if received:
                arrivals[arrive, members] += po_qty[members]
    keep_lines = np.ones(len(order), dtype=bool)
    keep_lines[order] = keep_sorted
    po = np.array(po_rows, dtype=np.int64).reshape(-1, 6)

    def cat(i: int) -> np.ndarray:
        return np.concatenate([p[i] for p in pol]) if pol else np.zeros(0, dtype=np.int64)

    return StockResult(
        keep_lines=keep_lines, slot_variant=slot_variant, slot_location=slot_location, snapshots=snapshots,
        po_supplier=po[:, 0], po_location=po[:, 1], po_created_day=po[:, 2], po_arrival_day=po[:, 3],
        po_lead=po[:, 4], po_received=po[:, 5].astype(bool), pol_po=cat(0), pol_variant=cat(1), pol_qty=cat(2),
    )


def received_by_cutoff(clock: StoreClock) -> int:
    """The last day index whose 08:00 delivery happened before the end of the history."""
    last = clock.n_days - 1
    morning = clock.local_time_us(np.array([last]), np.array([RECEIVING_HOUR]))[0]
    return last if morning < clock.cutoff_us else last - 1


# -- frames ---------------------------------------------------------------------------------------------------

def location_ids(store_id: str) -> list[str]:
    return [f"loc-{key}" for key, *_ in LOCATIONS]


def supplier_ids(store_id: str) -> list[str]:
    return [f"{store_id}-sup-{i + 1}" for i in range(len(SUPPLIERS))]


def inventory_frames(store_id: str, result: StockResult, catalogue: Catalogue, clock: StoreClock,
                     variant_ids: pl.Series) -> dict[str, pl.DataFrame]:
    n_slots, n_days = result.snapshots.shape
    locs = pl.Series("location_id", location_ids(store_id))
    slot_variant_ids = variant_ids.gather(result.slot_variant)
    slot_location_ids = locs.gather(result.slot_location)
    slot_of_row = np.repeat(np.arange(n_slots), n_days)
    snapshot_frame = pl.DataFrame([
        repeated(store_id, n_slots * n_days, "store_id"),
        dates(np.tile(clock.days, n_slots), "snapshot_date"),
        pick(variant_ids.to_list(), result.slot_variant[slot_of_row], "variant_id"),
        pick(locs.to_list(), result.slot_location[slot_of_row], "location_id"),
        pl.Series("available", result.snapshots.reshape(-1).astype(np.int32)),
    ])
    levels = pl.DataFrame([
        pl.Series("store_id", [store_id] * n_slots, dtype=pl.String),
        slot_variant_ids.alias("variant_id"),
        slot_location_ids.alias("location_id"),
        pl.Series("available", result.final_stock.astype(np.int32)),
        timestamps(np.full(n_slots, clock.cutoff_us), "updated_at"),
    ])
    sup_ids = supplier_ids(store_id)
    suppliers = pl.DataFrame({
        "supplier_id": sup_ids,
        "name": [s[0] for s in SUPPLIERS],
        "email": [s[2] for s in SUPPLIERS],
        "currency": ["USD"] * len(SUPPLIERS),
        "lead_time_days": [s[1] for s in SUPPLIERS],
        "notes": [f"Supplier of the {store_id} demo store." for _ in SUPPLIERS],
    }, schema_overrides={"lead_time_days": pl.Int32})
    items = np.flatnonzero(catalogue.supplier >= 0)
    item_lead = np.array([SUPPLIERS[s][1] for s in catalogue.supplier[items]])
    # A few items ship slower or faster than the supplier's usual lead time (null: the supplier's).
    override = np.where((items % 17) == 3, item_lead + 14, np.where((items % 23) == 5, item_lead - 4, -1))
    supplier_items = pl.DataFrame([
        pl.Series("supplier_id", sup_ids, dtype=pl.String).gather(catalogue.supplier[items]),
        pl.Series("store_id", [store_id] * len(items), dtype=pl.String),
        variant_ids.gather(items).alias("variant_id"),
        pl.Series("supplier_sku", [f"S{catalogue.supplier[v] + 1}-{catalogue.variant_sku[v]}" for v in items],
                  dtype=pl.String),
        decimal_from_minor(catalogue.supplier_cost_e4[items], 4, "unit_cost"),
        pl.Series("moq", catalogue.moq[items].astype(np.int32)),
        pl.Series("pack_size", catalogue.pack_size[items].astype(np.int32)),
        pl.Series("lead_time_days", [int(x) if x > 0 else None for x in override], dtype=pl.Int32),
    ])
    n_po = len(result.po_supplier)
    created = clock.local_time_us(result.po_created_day, np.full(n_po, ORDERING_HOUR))
    expected = created + result.po_lead * US_PER_DAY
    arrival_day = np.minimum(result.po_arrival_day, n_days - 1)
    received_at = np.where(result.po_received,
                           clock.local_time_us(arrival_day, np.full(n_po, RECEIVING_HOUR)), -1)
    po_ids = prefixed_ids(f"{store_id}-po-", np.arange(1, n_po + 1), "po_id")
    purchase_orders = pl.DataFrame([
        po_ids,
        pl.Series("supplier_id", sup_ids, dtype=pl.String).gather(result.po_supplier),
        pl.Series("store_id", [store_id] * n_po, dtype=pl.String),
        pl.Series("status", np.where(result.po_received, "received", "sent").tolist(), dtype=pl.String),
        timestamps(created, "created_at"),
        timestamps(expected, "expected_at"),
        pl.Series("received_at", received_at).cast(pl.Int64),
        pl.Series("currency", ["USD"] * n_po, dtype=pl.String),
    ]).with_columns(
        pl.when(pl.col("received_at") >= 0).then(pl.col("received_at")).otherwise(None)
        .cast(pl.Datetime("us", "UTC")).alias("received_at")
    )
    received_line = result.po_received[result.pol_po]
    po_lines = pl.DataFrame([
        po_ids.gather(result.pol_po),
        pl.Series("store_id", [store_id] * len(result.pol_po), dtype=pl.String),
        variant_ids.gather(result.pol_variant).alias("variant_id"),
        pl.Series("quantity", result.pol_qty.astype(np.int32)),
        decimal_from_minor(catalogue.supplier_cost_e4[result.pol_variant], 4, "unit_cost"),
        pl.Series("received_quantity", np.where(received_line, result.pol_qty, 0).astype(np.int32)),
    ])
    locations = pl.DataFrame({
        "store_id": [store_id] * len(LOCATIONS),
        "location_id": location_ids(store_id),
        "name": [loc[1] for loc in LOCATIONS],
        "country": [loc[2] for loc in LOCATIONS],
    })
    return {
        "locations": locations, "inventory_levels": levels, "inventory_snapshots": snapshot_frame,
        "suppliers": suppliers, "supplier_items": supplier_items, "purchase_orders": purchase_orders,
        "purchase_order_lines": po_lines,
    }
