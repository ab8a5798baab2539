"""Customers (not built yet): who buys, who comes back, who is slipping away."""

from ui.planned import planned_page

planned_page(
    "Customers",
    "Who buys, who comes back, and who is about to stop buying.",
    [
        "New and returning customers over time, and the repeat purchase rate.",
        "RFM segments (Champions, Loyal, At risk, Hibernating, …) with the customers in each, to export.",
        "Cohorts by month of first order: retention and net sales per customer month by month.",
        "Customer lifetime value to date and predicted for the next year (BG/NBD and Gamma-Gamma).",
        "Time between orders, products bought together, and the cost of a new customer per channel.",
    ],
)
