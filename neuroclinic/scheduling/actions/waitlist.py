"""The waitlist (issue 9 item 8): patients who want an earlier time are offered a freed one.

A time is freed when a visit is cancelled (also a late cancel: `cancel_appointment`),
moved to another time (`move_appointment`: the time it left) or marked a no-show
(`mark_no_show`: what is left of its held time, from the next start time that gives
enough notice). Each calls `offer_freed_time` in its own transaction; the first waiting
entry that matches (same visit type, same location or any, a different patient, for an
entry bringing a visit forward a freed time earlier than that visit, and a time the rules
let that patient book now) is offered the time by message with a signed link. A freed
time is offered only with the clinic's notice (`SchedulingSettings.waitlist_notice_minutes`,
default 3 hours [D]). Offers go one at a time, in the order the entries were made: a
decline, an expired offer (`expire_offers`, run with the reminders every 10 minutes) or a
time that turns out not to be bookable any more passes it to the next entry. Accepting
books the time through the booking actions (the same rules, row locks and, on PostgreSQL,
the room exclusion constraint): the first to accept gets it, and if the time has been
booked meanwhile the patient is told and nothing is written.

The patient accepts from the link (the visit is booked by the patient, `booked_by` empty,
`booked_via=waitlist_link`), or a staff member accepts or declines on the patient's
behalf (on the phone; the API), in their own name.

The offer's message carries the clinic's name, the time and the link; no visit type.
Audit: joining is recorded as the patient asking to move (`scheduling.move_requested`,
`waitlist=joined`), an offer sent as a reminder (`scheduling.reminded`,
`kind=waitlist_offer`), the booking as a booking or a move (`via=waitlist`), a decline
as `scheduling.offer_declined`.
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
from neuroclinic.scheduling import availability
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
# How long an offer stays open. The least notice a freed time must give to be offered is
# the clinic's setting (SchedulingSettings.waitlist_notice_minutes).
OFFER_HOURS = 4


def least_notice(organization_id: int) -> timedelta:
    return timedelta(
        minutes=availability.settings_for(organization_id).waitlist_notice_minutes
    )


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


def _matching(freed: Appointment, starts_at: datetime) -> list[WaitlistEntry]:
    tried = WaitlistOffer.objects.filter(freed_from=freed, starts_at=starts_at).values(
        "entry_id"
    )
    candidates = (
        WaitlistEntry.objects.filter(
            organization_id=freed.organization_id,
            status=WaitlistEntry.Status.WAITING,
            appointment_type_id=freed.appointment_type_id,
        )
        .exclude(patient_id=freed.patient_id)
        .exclude(pk__in=tried)
        .select_related("appointment", "appointment_type", "patient")
        .order_by("created_at", "id")
    )
    return [
        e
        for e in candidates
        if (e.location_id is None or e.location_id == freed.location_id)
        and (
            e.appointment is None
            or (e.appointment.is_holding and e.appointment.starts_at > starts_at)
        )
    ]


def _bookable(
    entry: WaitlistEntry, location: Location, starts_at: datetime, now: datetime
) -> bool:
    """Whether the rules would let this entry's patient book the time now (reads only; the
    acceptance checks again under the locks). A moved visit's old time may still be held in
    part by the visit itself, and a patient may be elsewhere then: no offer in vain. A
    booster is offered only inside the booster protocol's interval (no override here)."""
    if entry.appointment_type.code == AppointmentType.Code.BOOSTER and (
        availability.booster_refusals_for(
            entry.patient_id,
            location=location,
            starts_at=starts_at,
            now=now,
            ref=str(entry.appointment.uuid) if entry.appointment is not None else "",
        )
    ):
        return False
    calendar = availability.calendar_for(
        location,
        starts_at - appointments.CONTEXT,
        starts_at + appointments.CONTEXT,
        patient_id=entry.patient_id,
    )
    found = availability.choose_resources(
        entry.appointment_type,
        patient_id=entry.patient_id,
        starts_at=starts_at,
        calendar=calendar,
        resources=availability.resources_at(location),
        ref=str(entry.appointment.uuid) if entry.appointment is not None else "",
        now=now,
    )
    return isinstance(found, availability.Choice)


def offer_freed_time(
    freed: Appointment,
    *,
    now: datetime,
    starts_at: datetime | None = None,
    because: str = WaitlistOffer.Freed.CANCELLED,
) -> WaitlistOffer | None:
    """Offer a freed time (`starts_at`, by default the freed visit's own) to the first matching
    entry not yet offered it (in the caller's transaction; the message goes after commit).
    None when nobody matches or it gives less than the clinic's notice."""
    starts_at = starts_at or freed.starts_at
    if starts_at - now < least_notice(freed.organization_id):
        return None
    if WaitlistOffer.objects.filter(
        freed_from=freed,
        starts_at=starts_at,
        status__in=(WaitlistOffer.Status.OPEN, WaitlistOffer.Status.ACCEPTED),
    ).exists():
        return None
    for entry in _matching(freed, starts_at):
        if not _bookable(entry, freed.location, starts_at, now):
            continue
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
            freed_because=because,
            location=freed.location,
            starts_at=starts_at,
            created_at=now,
            expires_at=min(
                now + timedelta(hours=OFFER_HOURS), starts_at - timedelta(hours=1)
            ),
        )
        locked.status = WaitlistEntry.Status.OFFERED
        locked.save(update_fields=["status"])
        transaction.on_commit(partial(send_offer, offer))
        return offer
    return None


def offer_rest_of_no_show(freed: Appointment, *, now: datetime) -> WaitlistOffer | None:
    """A no-show is marked once the visit has begun, so its own start has passed; what is
    left of its held time (to `held_until`) is offered from the first start time on the
    clinic's step (opening time plus whole `slot_minutes`) that gives the clinic's notice.
    None when no such time is left, or nobody matches."""
    earliest = now + least_notice(freed.organization_id)
    if earliest >= freed.held_until:
        return None
    settings_row = availability.settings_for(freed.organization_id)
    step = timedelta(minutes=settings_row.slot_minutes or 30)
    location = freed.location
    days = availability.local_days(location, freed.starts_at, freed.held_until)
    for span in availability.opening_intervals(location, days):
        at = span.start
        while at < min(span.end, freed.held_until):
            if at >= earliest:
                return offer_freed_time(
                    freed, now=now, starts_at=at, because=WaitlistOffer.Freed.NO_SHOW
                )
            at += step
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
    return offer_freed_time(
        offer.freed_from,
        now=now,
        starts_at=offer.starts_at,
        because=offer.freed_because,
    )


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


def accept_offer(
    offer: WaitlistOffer, *, now: datetime | None = None, by: User | None = None
) -> Appointment:
    """Accept: book the time (or move the visit to it). by=None: the patient, from the
    offer's link (booked by the patient, `booked_via=waitlist_link`); else the staff member
    accepting on the patient's behalf. If the time is no longer free, the offer closes as
    taken and the caller is told; the entry keeps its place."""
    now = now or timezone.now()
    via = (
        Appointment.BookedVia.WAITLIST_LINK
        if by is None
        else Appointment.BookedVia.STAFF
    )
    refusal: SchedulingError | None = None
    with transaction.atomic():
        offer = _lock_open(offer, now)
        entry = offer.entry
        audit_data = {"via": "waitlist", "offer": str(offer.uuid)}
        try:
            with transaction.atomic():
                if entry.appointment is not None:
                    booked = appointments.move_appointment(
                        entry.appointment,
                        starts_at=offer.starts_at,
                        reason="An earlier time from the waitlist",
                        now=now,
                        moved_via=via,
                        audit_data=audit_data,
                        by=by,
                    )
                else:
                    booked = appointments.book_appointment(
                        entry.patient,
                        appointment_type=entry.appointment_type,
                        location=offer.location,
                        starts_at=offer.starts_at,
                        now=now,
                        booked_via=via,
                        audit_data=audit_data,
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
    if refusal is not None:
        raise SchedulingError(
            f"Sorry, this time cannot be booked any more: {refusal.message}",
            field="status",
        )
    return booked


@transaction.atomic
def decline_offer(
    offer: WaitlistOffer, *, now: datetime | None = None, by: User | None = None
) -> None:
    """Say no (the patient from the link, by=None, or staff on the patient's behalf): the
    entry keeps its place and the next entry is offered the time."""
    now = now or timezone.now()
    offer = _lock_open(offer, now)
    _close(offer, WaitlistOffer.Status.DECLINED, now=now)
    record(
        AuditEvent.Action.WAITLIST_OFFER_DECLINED,
        actor=by,
        actor_username="" if by else "(patient, waitlist offer link)",
        patient=offer.entry.patient,
        subject=offer,
    )


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
