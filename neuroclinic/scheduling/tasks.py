"""The calendar's timed work, run by `neuroclinic worker` (schedule in operations/schedule.py)."""

from django.tasks import task

from neuroclinic.scheduling.actions import reminders, waitlist


@task
def send_appointment_reminders() -> int:
    """Send the reminders now due (every 10 minutes); each is claimed once. Waitlist offers
    past their time are closed here too, passing each freed time to the next entry."""
    waitlist.expire_offers()
    return reminders.send_due_reminders()
