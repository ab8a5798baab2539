"""The definitions shown beside the customer figures (docs/METRICS.md, Customers), in the words of a
merchant; the page, the report and the exports take them from here, next to the code that computes them."""

from __future__ import annotations

from analytics.customers.views import AT_RISK_P_ALIVE

CUSTOMER_DEFINITIONS: dict[str, str] = {
    "rfm": "Recency (days since the last order), frequency (orders) and monetary (net sales) over the window, "
           "each scored 1–5 by quintile (most recent = 5); segments from the grid of R's rfm package.",
    "historical": "Historical value: net sales per customer up to the scores' day.",
    "predicted": "Predicted value: the expected purchases over the horizon (BG/NBD, MBG/NBD or BG/NBD with "
                 "priors, whichever predicted the held-out days best) × the expected spend per purchase "
                 "(Gamma-Gamma model), not discounted.",
    "p_alive": "Chance still active: the BG/NBD model's probability that the customer has not stopped buying.",
    "range": "The 90 % range of the predicted value: how sure the model is of the customer's expected value "
             "(its parameters' uncertainty), not how much one customer's spend can vary.",
    "at_risk": f"The fifth of customers with the highest historical value whose chance of still being active is "
               f"below {AT_RISK_P_ALIVE:.0%}.",
    "cohort": "Customers grouped by the month of their first order; retention in month k = share of the cohort "
              "who ordered in month k; cumulative net sales per customer by month k.",
    "funnel": "From web events: sessions → viewed a product → added to cart → began checkout → purchased; a "
              "session counts at a step when it reached it and every step before. From Google Analytics (when "
              "the store has its daily traffic): sessions → engaged sessions → add-to-carts → checkouts → "
              "purchases, the last three counting events. Each step as a share of sessions and of the step "
              "before.",
    "conversion": "Conversion rate (Shopify's definition): online-store orders ÷ sessions over the range.",
    "affinity": "Pairs bought in the same order: support = orders with both ÷ orders, confidence = orders with "
                "both ÷ orders with the first, lift = confidence ÷ share of orders with the second.",
    "cac": "Cost of a new customer: ad spend ÷ new customers (first order ever in the range through that "
           "channel), where spend is known.",
}
