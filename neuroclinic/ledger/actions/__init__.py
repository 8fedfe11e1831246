"""Every write to the controlled-substance ledger goes through a function in this package.

One module per sub-domain (as Zulip's zerver/actions/); import from the module:

- `setup`: the DEA registration, its safes, products and suppliers.
- `receiving`: stock received on a supplier's invoice, and the invoice scan.
- `sessions`: a patient's session: draw, administer, waste, return; its summary.
- `movements`: whole-vial movements (waste, transfer, destruction, reverse
  distributor, theft or loss) and the reversal that corrects a mistaken entry.
- `counts`: two-person counts, the discrepancies they open, and their compliance tasks.
- `inventory`: initial and biennial inventories.
- `report_access`: the audit of every report opened or exported.
- `guards`: the checks every action makes first.

Each action checks nothing about permissions (views and API handlers check
capabilities first), runs in one transaction, locks what it moves (containers,
then the registrant's chain head), appends hash-chained entries through
`chain.append`, and records an audit event. A refusal raises LedgerError, and
the transaction rolls back: nothing is written. The acting user is the keyword
`by=`.

The infusion app calls `sessions.draw_for_session`, `record_administration`,
`waste_remainder` and `session_summary` with its session's UUID; the ledger
knows nothing of infusions.
"""
