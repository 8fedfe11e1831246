"""Every write to billing goes through a function in this package.

- `setup`: the practice's billing identity, clinicians' NPIs, prices and package terms (versions).
- `estimates`: the uninsured/self-pay answer, good-faith estimates, package sales.
- `invoices`: invoices from what was charted, payments, refunds, credit applied.
- `superbills`: superbills for a visit or a period.

Each action checks nothing about permissions (views and API handlers check
capabilities first), runs in one transaction, records an audit event, and
raises BillingError on refusal, writing nothing. The acting user is `by=`.
"""
