"""Marketing figures: sessions and conversion, ad spend, ROAS, MER and acquisition cost (see METRICS.md)."""
