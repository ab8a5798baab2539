"""Exchange rates: the ECB's euro reference rates in ``fx_rates`` (see :mod:`connectors.fx.ecb`)."""
