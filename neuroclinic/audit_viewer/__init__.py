"""The audit log for people: filter, page and export it (auditors and the medical director).

It sits above `accounts` and `patients` (it finds a patient by MRN and checks
the reader's capability), so that `audit` itself imports no other app.
"""
