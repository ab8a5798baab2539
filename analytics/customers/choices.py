"""The customer model choices a user makes in the app (per store, in ``app_settings``): the RFM window
and the lifetime value horizon. Read by the refresh steps; kept apart from them so that the page reads
them without loading the model fitting code."""

from __future__ import annotations

from analytics.customers.rfm import DEFAULT_WINDOW_DAYS
from data.app_settings import get_choice
from data.warehouse import Warehouse

__all__ = ["DEFAULT_HORIZON_DAYS", "DEFAULT_WINDOW_DAYS", "HORIZON_CHOICE", "WINDOW_CHOICE", "clv_horizon_days", "rfm_window_days"]

WINDOW_CHOICE = "customers.rfm_window_days"
HORIZON_CHOICE = "customers.clv_horizon_days"
DEFAULT_HORIZON_DAYS = 365


def rfm_window_days(wh: Warehouse, store_id: str) -> int:
    """Days of orders the RFM scores cover (default 365)."""
    return int(get_choice(wh, WINDOW_CHOICE, DEFAULT_WINDOW_DAYS, scope=store_id))


def clv_horizon_days(wh: Warehouse, store_id: str) -> int:
    """Days ahead the predicted lifetime value covers (default 365)."""
    return int(get_choice(wh, HORIZON_CHOICE, DEFAULT_HORIZON_DAYS, scope=store_id))
