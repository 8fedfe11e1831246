"""Every write to a TMS record goes through a function in this package.

One module per sub-domain; import from the module:

- `screening`: the pre-course safety screen and the prescriber's decision on it.
- `thresholds`: motor threshold determinations.
- `courses`: the prescriber's course order and the planned sessions it needs booked.
- `sessions`: the technician's session: start (after the daily check), intensity
  changes, side effects, the end with pulses delivered and the signed note.
- `seizures`: the seizure button (stops the session, notifies the physician, holds
  the course) and the physician's review that releases or stops the course.

Each action runs in one transaction, records an audit event, takes the acting user
as the keyword `by=`, and raises TmsError when refused: nothing is written.
"""
