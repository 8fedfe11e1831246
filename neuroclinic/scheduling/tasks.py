"""The calendar's timed work, run by `neuroclinic worker` (schedule in operations/schedule.py)."""

from django.tasks import task

from neuroclinic.scheduling.actions import reminders


@task
def send_appointment_reminders() -> int:
    """Send the reminders now due (every 10 minutes); each is claimed once."""
    return reminders.send_due_reminders()
