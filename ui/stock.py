"""Today's stock figures of a store, computed once and shared by the pages that show them (Products,
Inventory): cached on the sales data version and the inventory fingerprint, so a receipt or a refresh shows
at once and both pages read the same rows."""

from __future__ import annotations

import datetime as dt

import polars as pl

from analytics.inventory.choices import InventoryChoices, load_choices
from analytics.inventory.stock import inventory_version, stock_health
from ui.cache import cached_query


def _health(wh, store_id: str, as_of: dt.date, choice_values: tuple, stamp: tuple) -> pl.DataFrame:
    return stock_health(wh, store_id, as_of, InventoryChoices(*choice_values))


def store_stock(wh, store_id: str, as_of: dt.date, choices: InventoryChoices | None = None,
                stamp: tuple | None = None) -> pl.DataFrame:
    """:func:`analytics.inventory.stock.stock_health` of ``store_id`` on ``as_of``, cached."""
    choices = choices or load_choices(wh, store_id)
    stamp = stamp if stamp is not None else inventory_version(wh, store_id)
    return cached_query(_health, wh, store_id, as_of, tuple(vars(choices).values()), stamp)
