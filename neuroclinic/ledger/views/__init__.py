"""Ledger pages: capability -> objects of the user's organization -> form -> action -> page.

A refused action (LedgerError) becomes a form error on the field it names, and
nothing is written. Every POST redirects to the page that shows its result.

One module per sub-domain (`dashboard`, `receiving`, `sessions`, `vials`, `counts`,
`inventories`, `reports`); `frame` holds what every page shares. `urls.py` names
each view by its module.
"""
