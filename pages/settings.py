"""Settings (not built yet): stores, connections and preferences."""

from ui.planned import planned_page

planned_page(
    "Settings",
    "Which stores are connected, how fresh their data is, and how the app is set up.",
    [
        "Connect a Shopify or WooCommerce store and Stripe, and see when each last synced.",
        "Import orders from a CSV file.",
        "Unit costs, supplier lead times and the default store, date range and currency.",
        "The settings the app runs with (secrets shown masked).",
    ],
)
