"""The tablet screen, the nurse-station board and the reports, one module per sub-domain
(as the actions are). Views stay thin: access check, form, action, render.

- `screen`: the session's page, its live part, the printed instructions, and what
  the step views share.
- `steps`: the one POST endpoint of the screen, dispatching to the step views in
  `session_flow`, `dose_draw`, `monitoring`, `events`, `recovery_discharge`, `notes`.
- `reports`: the day's infusions and a patient's infusion log; `board`: the nurse
  station.
"""
