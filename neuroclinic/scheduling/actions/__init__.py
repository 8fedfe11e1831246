"""Every write to the calendar goes through a function in this package.

- `appointments`: book one visit, move, cancel, no-show, confirm, a patient's
  request to move, check-in (which opens the infusion session through the
  infusions app's own check-in action).
- `series`: propose and book a whole induction series (OR-Tools CP-SAT, planner.py).
- `reminders`: the reminders the worker sends, each claimed once.

Each action runs in one transaction, records an audit event, and raises
SchedulingError when refused: nothing is written. The acting user is `by=`.
Bookings lock the rows of the room, staff member and devices they hold before
they look at the calendar again, so two desks booking the last chair at the
same moment get one booking and one refusal (PostgreSQL row locks; SQLite
serializes writers with IMMEDIATE transactions).
"""
