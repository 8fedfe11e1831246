"""Controlled-substance ledger: DEA numbers, quantities, draws, waste, discrepancies."""
