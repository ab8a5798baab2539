"""Local stand-ins for the store platforms' APIs, served over real HTTP in tests."""

from pathlib import Path

# Real payloads published by Shopify, Stripe and WooCommerce (and Shopify's
# GraphQL Admin schema), copied unchanged with their sources and licences in
# tests/fixtures/README.md.
FIXTURES_DIR = Path(__file__).resolve().parent.parent / "fixtures"
