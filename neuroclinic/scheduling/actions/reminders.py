"""Reminders before each visit, sent by the worker (tasks.send_appointment_reminders).

Each reminder is claimed with a unique (appointment, lead hours) row in the
transaction that sends it, so two workers, or a rerun, never send it twice; a
send that fails rolls its claim back and the next run tries again. A cancelled
visit, a no-show or a checked-in one gets no reminder.
"""

import logging
from datetime import datetime, timedelta

from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.utils import timezone

from neuroclinic.audit.models import AuditEvent
from neuroclinic.audit.record import record
from neuroclinic.lib.messaging import send_sms
from neuroclinic.scheduling import messages
from neuroclinic.scheduling.availability import DEFAULT_REMINDER_HOURS, settings_for
from neuroclinic.scheduling.models import Appointment, ReminderClaim

logger = logging.getLogger(__name__)

REMINDED = (
    Appointment.Status.BOOKED,
    Appointment.Status.CONFIRMED,
    Appointment.Status.MOVED,
    Appointment.Status.MOVE_REQUESTED,
)


class RemindersFailed(Exception):
    pass


def due_lead(appointment: Appointment, leads: list[int], now: datetime) -> int | None:
    """The reminder due now: the smallest lead whose time has come (a visit booked late
    gets only the nearest reminder, not every one it missed)."""
    ahead = appointment.starts_at - now
    due = [h for h in sorted(leads) if ahead <= timedelta(hours=h)]
    return due[0] if due and ahead > timedelta(0) else None


def _send(appointment: Appointment) -> str:
    patient = appointment.patient
    if patient.email:
        email = EmailMessage(
            subject=messages.subject(appointment),
            body=messages.email_body(appointment),
            to=[patient.email],
        )
        email.attach("visit.ics", messages.ics(appointment), "text/calendar")
        email.send()
        return "email"
    if patient.phone:
        send_sms(patient.phone, messages.sms_text(appointment))
        return "sms"
    return ""


def send_due_reminders(*, now: datetime | None = None) -> int:
    """Send every reminder due now; returns how many went out."""
    now = now or timezone.now()
    longest = max([*DEFAULT_REMINDER_HOURS, 0])
    candidates = list(
        Appointment.objects.filter(
            status__in=REMINDED,
            starts_at__gt=now,
            starts_at__lte=now + timedelta(hours=max(longest, 168)),
        )
        .select_related(
            "organization",
            "location",
            "patient",
            "appointment_type",
            "plan__induction_protocol",
        )
        .order_by("starts_at", "id")
    )
    leads_by_org: dict[int, list[int]] = {}
    sent = 0
    failures = 0
    for appointment in candidates:
        org = appointment.organization_id
        if org not in leads_by_org:
            leads_by_org[org] = [
                int(h)
                for h in settings_for(org).reminder_hours or DEFAULT_REMINDER_HOURS
            ]
        lead = due_lead(appointment, leads_by_org[org], now)
        if (
            lead is None
            or ReminderClaim.objects.filter(
                appointment=appointment, lead_hours=lead
            ).exists()
        ):
            continue
        try:
            with transaction.atomic():
                fresh = (
                    Appointment.objects.select_for_update()
                    .filter(pk=appointment.pk, status__in=REMINDED)
                    .first()
                )
                if fresh is None:
                    continue  # cancelled since we looked
                claim = ReminderClaim.objects.create(
                    appointment=appointment, lead_hours=lead, channel="", claimed_at=now
                )
                channel = _send(appointment)
                claim.channel = channel or "none"
                claim.save(update_fields=["channel"])
                record(
                    AuditEvent.Action.APPOINTMENT_REMINDED,
                    actor=None,
                    patient=appointment.patient,
                    subject=appointment,
                    lead_hours=lead,
                    channel=claim.channel,
                )
        except IntegrityError:
            continue  # another worker claimed it
        except Exception:
            logger.exception("appointment reminder failed")
            failures += 1
            continue
        sent += 1 if channel else 0
    if failures:
        raise RemindersFailed(
            f"{failures} reminder(s) could not be sent; they will be retried."
        )
    return sent
