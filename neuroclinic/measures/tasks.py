"""Timed measurement work, run by `neuroclinic worker` (schedule in neuroclinic/operations/schedule.py).

Both are safe with several workers: each alert and each due item is locked and
re-checked inside the transaction that sends for it.
"""

from django.tasks import task

from neuroclinic.measures.actions.alerts import escalate_overdue_alerts
from neuroclinic.measures.actions.due_measures import send_due_reminders


@task
def escalate_safety_alerts() -> int:
    """Send overdue unacknowledged safety alerts to the medical director (every minute)."""
    return len(escalate_overdue_alerts())


@task
def send_questionnaire_reminders() -> int:
    """Send each patient one link for the questionnaires now due (hourly)."""
    return send_due_reminders()
