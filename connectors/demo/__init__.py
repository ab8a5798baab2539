"""The demo store: a generated, consistent e-commerce history and a live feed.

``build_demo(wh, orders=..., days=...)`` writes two years (by default) of a
made-up outdoor apparel and goods brand into the warehouse: catalogue,
customers who come back as a BG/NBD process, orders with discounts, shipping,
taxes, refunds and payments, stock simulated against the sales, purchase
orders, web sessions and ad spend. ``DemoFeed`` and ``run_feed`` keep it
moving while the app runs. ``python -m connectors demo`` is the command line.
"""

from connectors.demo.build import build_demo

__all__ = ["build_demo", "DemoFeed", "run_feed"]


def __getattr__(name: str):
    if name in ("DemoFeed", "run_feed"):
        from connectors.demo import feed

        return getattr(feed, name)
    raise AttributeError(name)
