"""The test suite (a package, so ``tests.*`` is this folder even when an installed library ships a ``tests`` package of its own, as apimatic-core does)."""
