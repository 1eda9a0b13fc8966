"""The promotion engine: evaluate, claim, redeem and revert on a counter store."""
