"""Every write to an infusion session goes through a function in this package.

One module per sub-domain (as Zulip's zerver/actions/); import from the module:

- `session_flow`: check-in, the checklist, the pump (start, pause, resume, rate,
  stop) and cancel.
- `dose_draw`: the dose and its second check; the draw, the administration and the
  witnessed waste, handed to the ledger (the one module that calls it).
- `monitoring`: vital signs in (typed, API, HL7 v2), alarms out, acknowledgments.
- `events`: adverse events, as-needed medications, sedation and CADSS-6 scores.
- `recovery_discharge`: recovery assessments and discharge with instructions.
- `notes`: the signed nurse's note, the prescriber's co-signature, addenda.
- `common`: what they share (the session lock, the status check, entry times, the
  session's timeline).

Each action runs in one transaction, locks the session row, checks the session is at
the right step, records an audit event (and a timeline event), and raises InfusionError
when refused: nothing is written. The acting user is the keyword `by=`. Measures are
scheduled and recorded through measures' actions, the plan's infusion count through
treatment's, controlled-substance movements through the ledger's.
"""
