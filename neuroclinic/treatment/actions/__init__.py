"""Every write to protocols, plans and orders goes through a function in this package.

One module per sub-domain (as Zulip's zerver/actions/); import from the module:

- `protocols`: draft, validate and sign the clinic's protocol versions.
- `plans`: create and end a patient's plan; its phase; the infusions given.
- `orders`: sign, change (supersede) and discontinue ketamine orders.
- `signatures`: the password a signature re-enters; content hashes.

Each action runs in one transaction and records an audit event. Callers check
capabilities and patient access first; the actions check the clinical rules (who may
sign, what an order may say) and raise TreatmentError (treatment/errors.py), writing
nothing. The acting user is the keyword `by=`.
"""
