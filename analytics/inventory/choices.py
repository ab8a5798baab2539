"""The inventory choices a user makes on the page, saved per store in ``app_settings``."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

from data.app_settings import get_choices, set_choice
from data.warehouse import Warehouse

PREFIX = "inventory."


@dataclass(frozen=True)
class InventoryChoices:
    """Thresholds of the stock lists and the reorder policy.

    ``service_level``: the chance of not running out during a lead time (0.5–0.999);
    ``review_days``: days between two ordering rounds (the order covers them);
    ``overstock_days``: more days of cover than this is overstock;
    ``dead_stock_days``: stock with no sale for this many days is dead stock;
    ``default_lead_days``: the lead time of a variant without a supplier.
    """

    service_level: float = 0.95
    review_days: int = 7
    overstock_days: int = 180
    dead_stock_days: int = 90
    default_lead_days: int = 14

    def validated(self) -> "InventoryChoices":
        """Itself, or ``ValueError`` with one sentence naming the bad value."""
        if not 0.5 <= self.service_level <= 0.999:
            raise ValueError("The service level must be between 50 % and 99.9 %.")
        for name, low, high in (("review_days", 1, 90), ("overstock_days", 1, 3650),
                                ("dead_stock_days", 1, 3650), ("default_lead_days", 0, 365)):
            value = getattr(self, name)
            if int(value) != value or not low <= value <= high:
                raise ValueError(f"{name.replace('_', ' ').capitalize()} must be a whole number from {low} to {high}.")
        return self


def load_choices(wh: Warehouse, store_id: str) -> InventoryChoices:
    """The store's saved choices, defaults for the rest (a bad saved value falls back to its default)."""
    saved = get_choices(wh, PREFIX, scope=store_id)
    defaults = InventoryChoices()
    values = {}
    for f in fields(InventoryChoices):
        value = saved.get(PREFIX + f.name, getattr(defaults, f.name))
        values[f.name] = float(value) if f.type == "float" else int(value)
    try:
        return InventoryChoices(**values).validated()
    except ValueError:
        return defaults


def save_choices(wh: Warehouse, store_id: str, choices: InventoryChoices, *, by: str | None = None) -> None:
    """Validate and save every choice (one transaction)."""
    choices.validated()
    with wh.transaction():
        for name, value in asdict(choices).items():
            set_choice(wh, PREFIX + name, value, scope=store_id, by=by)
