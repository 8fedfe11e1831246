"""Measurement schedules: which questionnaires fall due, their reminders, the day's worklist, audited API reads."""

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from neuroclinic.accounts.models import User
from neuroclinic.audit.models import AuditEvent
from neuroclinic.audit.record import record
from neuroclinic.clinics.models import Location
from neuroclinic.measures import schedules
from neuroclinic.measures.actions.portal_links import (
    create_portal_link,
    send_portal_link,
)
from neuroclinic.measures.instruments import INSTRUMENTS
from neuroclinic.measures.models import (
    DueMeasure,
    MeasurementRule,
    PortalLink,
)
from neuroclinic.patients.models import Patient

# Reminders ask the patient: a clinician-rated instrument (MADRS at a TMS milestone)
# stays on the clinic's worklist instead.
PATIENT_RATED = tuple(code for code, i in INSTRUMENTS.items() if i.rater == "patient")


def rules_for(organization_id: int) -> list[schedules.Rule]:
    """The clinic's rules, or the cited defaults when it has set none."""
    rows = MeasurementRule.objects.filter(
        organization_id=organization_id, is_active=True
    )
    if not MeasurementRule.objects.filter(organization_id=organization_id).exists():
        return list(schedules.DEFAULT_RULES)
    return [
        schedules.Rule(
            instrument_code=r.instrument_code,
            trigger=schedules.Trigger(r.trigger),
            offset_hours=r.offset_hours,
            repeat_count=r.repeat_count,
            repeat_every_days=r.repeat_every_days,
            window_hours=r.window_hours,
        )
        for r in rows
    ]


@transaction.atomic
def schedule_measures(
    patient: Patient,
    *,
    trigger: schedules.Trigger,
    event_at: datetime,
    event_ref: str,
    by: User | None = None,
) -> list[DueMeasure]:
    """Make the due questionnaires for a treatment event. Calling twice makes them once."""
    made = []
    for item in schedules.due_items(
        rules_for(patient.organization_id), trigger=trigger, event_at=event_at
    ):
        due, created = DueMeasure.objects.get_or_create(
            patient=patient,
            instrument_code=item.instrument_code,
            trigger=str(trigger),
            event_ref=event_ref,
            due_at=item.due_at,
            defaults={
                "organization_id": patient.organization_id,
                "overdue_at": item.overdue_at,
            },
        )
        if created:
            made.append(due)
    if made:
        record(
            AuditEvent.Action.MEASURES_SCHEDULED,
            actor=by,
            patient=patient,
            trigger=str(trigger),
            event_ref=event_ref,
            count=len(made),
        )
    return made


@transaction.atomic
def replace_scheduled_measures(
    patient: Patient,
    *,
    events: Sequence[tuple[schedules.Trigger, datetime, str]],
    event_ref_prefix: str,
    by: User | None = None,
) -> tuple[list[DueMeasure], int]:
    """Schedule for a set of events that replaces an earlier set (a treatment plan that moved).

    Items still due under `event_ref_prefix` that the new events no longer make are
    withdrawn (status cancelled, audited); the new ones are made once. Completed
    items are never touched. Returns the items made and how many were withdrawn.
    """
    if not event_ref_prefix or any(
        not ref.startswith(event_ref_prefix) for _, _, ref in events
    ):
        raise ValueError("every event_ref starts with event_ref_prefix")
    rules = rules_for(patient.organization_id)
    wanted = {
        (item.instrument_code, str(trigger), ref, item.due_at)
        for trigger, at, ref in events
        for item in schedules.due_items(rules, trigger=trigger, event_at=at)
    }
    stale = [
        due
        for due in DueMeasure.objects.select_for_update().filter(
            patient=patient,
            status=DueMeasure.Status.DUE,
            event_ref__startswith=event_ref_prefix,
        )
        if (due.instrument_code, due.trigger, due.event_ref, due.due_at) not in wanted
    ]
    if stale:
        DueMeasure.objects.filter(pk__in=[d.pk for d in stale]).update(
            status=DueMeasure.Status.CANCELLED
        )
        record(
            AuditEvent.Action.MEASURES_WITHDRAWN,
            actor=by,
            patient=patient,
            event_ref_prefix=event_ref_prefix,
            count=len(stale),
        )
    made: list[DueMeasure] = []
    for trigger, at, ref in events:
        made += schedule_measures(
            patient, trigger=trigger, event_at=at, event_ref=ref, by=by
        )
    return made, len(stale)


def send_due_reminders(*, now: datetime | None = None) -> int:
    """Send each patient one link for what is due now and not yet reminded (run hourly).

    A second reminder goes out when an item is still open a day after the first.
    Only patient-rated instruments are sent; clinician-rated ones are on the worklist.
    Safe with several workers: each patient's items are locked and looked at again
    inside the transaction that sends, so a second runner finds them reminded.
    """
    now = now or timezone.now()

    def unreminded() -> QuerySet[DueMeasure]:
        return (
            DueMeasure.objects.filter(
                status=DueMeasure.Status.DUE,
                due_at__lte=now,
                instrument_code__in=PATIENT_RATED,
            )
            .exclude(last_reminded_at__gt=now - timedelta(hours=24))
            .filter(reminders_sent__lt=2)
        )

    pending = unreminded().select_related("patient")
    by_patient: dict[int, list[DueMeasure]] = {}
    for item in pending:
        by_patient.setdefault(item.patient_id, []).append(item)
    sent = 0
    for items in by_patient.values():
        patient = items[0].patient
        channel = (
            PortalLink.Channel.EMAIL
            if patient.email
            else PortalLink.Channel.SMS
            if patient.phone
            else None
        )
        if channel is None:
            continue
        with transaction.atomic():
            items = list(
                unreminded()
                .select_for_update()
                .filter(pk__in=[i.pk for i in items])
                .order_by("pk")
            )
            if not items:
                continue  # another runner reminded them since we looked
            link, token = create_portal_link(
                patient,
                instrument_codes=[i.instrument_code for i in items],
                channel=channel,
                by=None,
            )
            send_portal_link(link, token)
            for item in items:
                item.reminders_sent += 1
                item.last_reminded_at = now
                item.save(update_fields=["reminders_sent", "last_reminded_at"])
        sent += 1
    return sent


def worklist(
    organization_id: int, *, now: datetime | None = None
) -> Iterable[DueMeasure]:
    """What is due or overdue by the end of today in the clinic's time zone, oldest first."""
    now = now or timezone.now()
    zone_name = (
        Location.objects.filter(organization_id=organization_id, is_active=True)
        .order_by("id")
        .values_list("time_zone", flat=True)
        .first()
    ) or "UTC"
    local = now.astimezone(ZoneInfo(zone_name))
    end_of_day = local.replace(hour=23, minute=59, second=59, microsecond=999999)
    return (
        DueMeasure.objects.filter(
            organization_id=organization_id,
            status=DueMeasure.Status.DUE,
            due_at__lte=end_of_day,
        )
        .select_related("patient")
        .order_by("due_at", "id")
    )


@transaction.atomic
def record_api_read(patient: Patient, *, by: User, what: str) -> None:
    record(
        AuditEvent.Action.TRAJECTORY_VIEWED,
        actor=by,
        patient=patient,
        subject=patient,
        via="api",
        what=what,
    )
