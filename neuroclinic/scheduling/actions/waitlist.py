"""The waitlist (issue 9 item 8): patients who want an earlier time are offered a freed one.

When a visit is cancelled (`appointments.cancel_appointment` calls `offer_freed_time`
in its transaction), the first waiting entry that matches it (same visit type, same
location or any, a different patient, and for an entry bringing a visit forward, a
freed time earlier than that visit) is offered the time by message with a signed link.
Offers go one at a time, in the order the entries were made: a decline, an expired
offer (`expire_offers`, run with the reminders every 10 minutes) or a time that turns
out not to be bookable any more passes it to the next entry. Accepting books the time
through the booking actions (the same rules, row locks and, on PostgreSQL, the room
exclusion constraint): the first to accept gets it, and if the time has been booked
meanwhile the patient is told and nothing is written.

The offer's message carries the clinic's name, the time and the link; no visit type.
Audit: joining is recorded as the patient asking to move (`scheduling.move_requested`,
`waitlist=joined`), an offer sent as a reminder (`scheduling.reminded`,
`kind=waitlist_offer`), the booking as a booking or a move (`via=waitlist`).
"""

import logging
from datetime import datetime, timedelta
from functools import partial
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMessage
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from neuroclinic.accounts.models import User
from neuroclinic.audit.models import AuditEvent
from neuroclinic.audit.record import record
from neuroclinic.clinics.models import Location
from neuroclinic.lib.messaging import send_sms
from neuroclinic.patients.models import Patient
from neuroclinic.scheduling.actions import appointments
from neuroclinic.scheduling.errors import SchedulingError
from neuroclinic.scheduling.models import (
    Appointment,
    AppointmentType,
    WaitlistEntry,
    WaitlistOffer,
)

logger = logging.getLogger(__name__)

OFFER_SALT = "neuroclinic.scheduling.waitlist-offer"
# How long an offer stays open, and the least notice a freed time must give to be offered.
OFFER_HOURS = 4
LEAST_NOTICE = timedelta(hours=3)


# Joining and leaving ------------------------------------------------------------------


@transaction.atomic
def join_waitlist(
    patient: Patient,
    *,
    appointment_type: AppointmentType,
    location: Location | None = None,
    appointment: Appointment | None = None,
    note: str = "",
    now: datetime | None = None,
    by: User,
) -> WaitlistEntry:
    """Put the patient on the waitlist for an earlier time (the front desk, on the phone)."""
    now = now or timezone.now()
    if appointment_type.organization_id != patient.organization_id or (
        location is not None and location.organization_id != patient.organization_id
    ):
        raise SchedulingError(
            "Choose a visit type and location of the patient's clinic.",
            field="appointment_type",
        )
    if appointment is not None:
        if appointment.patient_id != patient.pk:
            raise SchedulingError(
                "That visit is another patient's.", field="appointment"
            )
        if not appointment.is_holding or appointment.starts_at <= now:
            raise SchedulingError(
                "Only a visit still to come can be brought forward.",
                field="appointment",
            )
        if appointment.appointment_type_id != appointment_type.pk:
            raise SchedulingError(
                "The visit to bring forward is of another type.",
                field="appointment_type",
            )
    if WaitlistEntry.objects.filter(
        patient=patient,
        appointment_type=appointment_type,
        status__in=(WaitlistEntry.Status.WAITING, WaitlistEntry.Status.OFFERED),
    ).exists():
        raise SchedulingError(
            "The patient is already on the waitlist for this kind of visit.",
            field="appointment_type",
        )
    entry = WaitlistEntry.objects.create(
        organization_id=patient.organization_id,
        patient=patient,
        appointment_type=appointment_type,
        location=location,
        appointment=appointment,
        note=note.strip()[:300],
        created_by=by,
        created_at=now,
    )
    record(
        AuditEvent.Action.APPOINTMENT_MOVE_REQUESTED,
        actor=by,
        patient=patient,
        subject=entry,
        waitlist="joined",
        type=appointment_type.code,
    )
    return entry


@transaction.atomic
def withdraw(entry: WaitlistEntry, *, by: User) -> WaitlistEntry:
    entry = WaitlistEntry.objects.select_for_update().get(pk=entry.pk)
    if entry.status not in (WaitlistEntry.Status.WAITING, WaitlistEntry.Status.OFFERED):
        raise SchedulingError("This waitlist entry is closed.", field="status")
    WaitlistOffer.objects.filter(entry=entry, status=WaitlistOffer.Status.OPEN).update(
        status=WaitlistOffer.Status.DECLINED, answered_at=timezone.now()
    )
    entry.status = WaitlistEntry.Status.WITHDRAWN
    entry.save(update_fields=["status"])
    record(
        AuditEvent.Action.APPOINTMENT_MOVE_REQUESTED,
        actor=by,
        patient=entry.patient,
        subject=entry,
        waitlist="withdrawn",
    )
    return entry


# Offers --------------------------------------------------------------------------------


def offer_token(offer: WaitlistOffer) -> str:
    return signing.dumps(str(offer.uuid), salt=OFFER_SALT, compress=True)


def offer_from_token(token: str) -> WaitlistOffer | None:
    try:
        value = signing.loads(token, salt=OFFER_SALT, max_age=7 * 86400)
    except signing.BadSignature:
        return None
    if not isinstance(value, str):
        return None
    return (
        WaitlistOffer.objects.select_related(
            "entry__patient", "entry__appointment_type", "location__organization"
        )
        .filter(uuid=value)
        .first()
    )


def offer_url(offer: WaitlistOffer) -> str:
    return settings.PUBLIC_BASE_URL.rstrip("/") + reverse(
        "scheduling:offer", kwargs={"token": offer_token(offer)}
    )


def _matching(freed: Appointment) -> list[WaitlistEntry]:
    tried = WaitlistOffer.objects.filter(freed_from=freed).values("entry_id")
    candidates = (
        WaitlistEntry.objects.filter(
            organization_id=freed.organization_id,
            status=WaitlistEntry.Status.WAITING,
            appointment_type_id=freed.appointment_type_id,
        )
        .exclude(patient_id=freed.patient_id)
        .exclude(pk__in=tried)
        .select_related("appointment", "patient")
        .order_by("created_at", "id")
    )
    return [
        e
        for e in candidates
        if (e.location_id is None or e.location_id == freed.location_id)
        and (e.appointment is None or e.appointment.starts_at > freed.starts_at)
    ]


def offer_freed_time(freed: Appointment, *, now: datetime) -> WaitlistOffer | None:
    """Offer a freed time to the first matching entry not yet offered it (in the caller's
    transaction; the message goes after commit). None when nobody matches or it is too soon."""
    if freed.starts_at - now < LEAST_NOTICE:
        return None
    if WaitlistOffer.objects.filter(
        freed_from=freed,
        status__in=(WaitlistOffer.Status.OPEN, WaitlistOffer.Status.ACCEPTED),
    ).exists():
        return None
    for entry in _matching(freed):
        locked = (
            WaitlistEntry.objects.select_for_update()
            .filter(pk=entry.pk, status=WaitlistEntry.Status.WAITING)
            .first()
        )
        if locked is None:
            continue
        offer = WaitlistOffer.objects.create(
            entry=locked,
            freed_from=freed,
            location=freed.location,
            starts_at=freed.starts_at,
            created_at=now,
            expires_at=min(
                now + timedelta(hours=OFFER_HOURS), freed.starts_at - timedelta(hours=1)
            ),
        )
        locked.status = WaitlistEntry.Status.OFFERED
        locked.save(update_fields=["status"])
        transaction.on_commit(partial(send_offer, offer))
        return offer
    return None


def _subject(offer: WaitlistOffer) -> str:
    when = offer.starts_at.astimezone(ZoneInfo(offer.location.time_zone))
    return f"{offer.location.organization.name}: an earlier time on {when:%a %d %b at %H:%M}"


def offer_text(offer: WaitlistOffer) -> str:
    when = offer.starts_at.astimezone(ZoneInfo(offer.location.time_zone))
    ends = offer.expires_at.astimezone(ZoneInfo(offer.location.time_zone))
    return (
        f"{offer.location.organization.name}: a time is free on {when:%a %d %b at %H:%M} "
        f"at {offer.location.name}. The first to accept gets it; this offer ends "
        f"{ends:%a %d %b at %H:%M}. Accept or say no: {offer_url(offer)}"
    )


def send_offer(offer: WaitlistOffer) -> str:
    """Send the offer's message (email, else SMS); a failure is logged and the next
    `expire_offers` run sends it again."""
    offer = WaitlistOffer.objects.select_related(
        "entry__patient", "location__organization"
    ).get(pk=offer.pk)
    if offer.status != WaitlistOffer.Status.OPEN or offer.sent_at is not None:
        return ""
    patient = offer.entry.patient
    try:
        if patient.email:
            EmailMessage(
                subject=_subject(offer), body=offer_text(offer), to=[patient.email]
            ).send()
            channel = "email"
        elif patient.phone:
            send_sms(patient.phone, offer_text(offer))
            channel = "sms"
        else:
            channel = "none"
    except Exception:
        logger.exception("waitlist offer not sent")
        return ""
    with transaction.atomic():
        WaitlistOffer.objects.filter(pk=offer.pk).update(sent_at=timezone.now())
        record(
            AuditEvent.Action.APPOINTMENT_REMINDED,
            actor=None,
            patient=patient,
            subject=offer,
            kind="waitlist_offer",
            channel=channel,
        )
    return channel


def _close(
    offer: WaitlistOffer, status: WaitlistOffer.Status, *, now: datetime
) -> WaitlistOffer | None:
    """Close an open offer and pass the time to the next entry; returns the next offer.
    A time that could not be booked (taken) is passed on too: it may have failed for
    this patient only (a series it would break); the next acceptance is checked again."""
    offer.status = status
    offer.answered_at = now
    offer.save(update_fields=["status", "answered_at"])
    WaitlistEntry.objects.filter(
        pk=offer.entry_id, status=WaitlistEntry.Status.OFFERED
    ).update(status=WaitlistEntry.Status.WAITING)
    return offer_freed_time(offer.freed_from, now=now)


def _lock_open(offer: WaitlistOffer, now: datetime) -> WaitlistOffer:
    offer = (
        WaitlistOffer.objects.select_for_update(of=("self",))
        .select_related(
            "entry__patient", "entry__appointment", "freed_from", "location"
        )
        .get(pk=offer.pk)
    )
    # An offer past its time is closed by expire_offers (in its own transaction).
    if offer.status != WaitlistOffer.Status.OPEN or offer.expires_at <= now:
        raise SchedulingError(
            "This offer is closed: the time has gone or the offer has ended.",
            field="status",
        )
    return offer


def accept_offer(offer: WaitlistOffer, *, now: datetime | None = None) -> Appointment:
    """The patient accepts: book the time (or move the visit to it). If it is no longer
    free, the offer closes as taken and the patient is told; the entry keeps its place."""
    now = now or timezone.now()
    refusal: SchedulingError | None = None
    with transaction.atomic():
        offer = _lock_open(offer, now)
        entry = offer.entry
        # Booked for the patient by the staff member who put them on the list.
        by = entry.created_by
        try:
            with transaction.atomic():
                if entry.appointment is not None:
                    booked = appointments.move_appointment(
                        entry.appointment,
                        starts_at=offer.starts_at,
                        reason="An earlier time from the waitlist",
                        now=now,
                        by=by,
                    )
                else:
                    booked = appointments.book_appointment(
                        entry.patient,
                        appointment_type=entry.appointment_type,
                        location=offer.location,
                        starts_at=offer.starts_at,
                        now=now,
                        by=by,
                    )
        except SchedulingError as exc:
            # The savepoint is rolled back; the offer closes in this same transaction.
            refusal = exc
            _close(offer, WaitlistOffer.Status.TAKEN, now=now)
        else:
            WaitlistOffer.objects.filter(pk=offer.pk).update(
                status=WaitlistOffer.Status.ACCEPTED, answered_at=now, booked=booked
            )
            WaitlistEntry.objects.filter(pk=entry.pk).update(
                status=WaitlistEntry.Status.BOOKED
            )
            record(
                AuditEvent.Action.APPOINTMENT_BOOKED,
                actor=None,
                patient=entry.patient,
                subject=booked,
                via="waitlist",
                offer=str(offer.uuid),
            )
    if refusal is not None:
        raise SchedulingError(
            f"Sorry, this time cannot be booked any more: {refusal.message}",
            field="status",
        )
    return booked


@transaction.atomic
def decline_offer(offer: WaitlistOffer, *, now: datetime | None = None) -> None:
    """The patient says no: the entry keeps its place and the next entry is offered the time."""
    now = now or timezone.now()
    offer = _lock_open(offer, now)
    _close(offer, WaitlistOffer.Status.DECLINED, now=now)


def expire_offers(*, now: datetime | None = None) -> int:
    """Close offers past their time (passing each freed time on) and resend unsent ones."""
    now = now or timezone.now()
    closed = 0
    for offer in WaitlistOffer.objects.filter(
        status=WaitlistOffer.Status.OPEN, expires_at__lte=now
    ):
        with transaction.atomic():
            fresh = (
                WaitlistOffer.objects.select_for_update()
                .filter(pk=offer.pk, status=WaitlistOffer.Status.OPEN)
                .first()
            )
            if fresh is not None:
                _close(fresh, WaitlistOffer.Status.EXPIRED, now=now)
                closed += 1
    for offer in WaitlistOffer.objects.filter(
        status=WaitlistOffer.Status.OPEN, sent_at=None
    ):
        send_offer(offer)
    return closed
