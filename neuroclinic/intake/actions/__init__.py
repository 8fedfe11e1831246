"""Every write in intake, one module per sub-domain (as Zulip's `zerver/actions/`):

- `consult_requests`: the public self-check, consult requests, the queue and conversion;
- `sign_in`: portal sign-in links;
- `packets`: the intake packet, its questionnaires and documents, sending and reminders;
- `eligibility_decisions`: the rules over the intake, signed decisions, rule settings and wording;
- `consents`: consent forms, signatures and the clinic tablet.

Each action runs in one transaction and records an audit event. Callers check
capabilities and patient access first (staff) or hold a portal session for
the patient (portal). Refusals raise `neuroclinic.intake.errors.IntakeError`.
"""
