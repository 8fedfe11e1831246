"""Every write to questionnaires, safety alerts, portal links and schedules goes through this package.

One module per sub-domain; import from the module:

- `common`: MeasuresError (every refusal) and which score flag raises which alert.
- `responses`: record a response (scored, its alerts raised, its due measure fulfilled) and amend one.
- `alerts`: raise, acknowledge (with a structured risk assessment) and escalate safety alerts.
- `portal_links`: portal links and the clinic tablet, and the answers submitted through them.
- `due_measures`: measurement schedules, reminders, the day's worklist and audited API reads.
- `configuration`: item wording and measurement rules the medical director sets.

Each action runs in one transaction and records an audit event. Callers
check capabilities and patient access first. The acting user is the keyword `by=`.
"""
