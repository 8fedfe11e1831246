"""The calendar over the API, under /api/scheduling/.

Appointment types; a day's appointments at a location; book, move, cancel,
no-show and check-in; series proposals and booking; series for many waiting patients
at once (batch proposals); the waitlist (entries, offers,
accepting or declining an offer on the patient's behalf). Times in requests are the
location's wall-clock date and time (a time the clocks skip is refused, 422);
times in answers are UTC ISO 8601. Refusals answer 422 problem documents naming
the field; access is checked in access.py against accounts/roles.py.
"""

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from django.http import Http404, HttpRequest
from ninja import Router, Schema, Status
from pydantic import Field

from neuroclinic.accounts.models import User
from neuroclinic.accounts.roles import Capability
from neuroclinic.api_errors import FieldErrors
from neuroclinic.audit.models import AuditEvent
from neuroclinic.audit.record import record
from neuroclinic.clinics.models import Location
from neuroclinic.patients.access import get_patient_for_user
from neuroclinic.scheduling import rules
from neuroclinic.scheduling.access import (
    check_in_capabilities,
    get_appointment_for_user,
    get_waitlist_entry_for_user,
    get_waitlist_offer_for_user,
    plans_for,
    require,
    waitlist_entries_for,
)
from neuroclinic.scheduling.actions import appointments, series, waitlist
from neuroclinic.scheduling.actions import batch as batch_actions
from neuroclinic.scheduling.actions import tms as tms_booking
from neuroclinic.scheduling.errors import SchedulingError
from neuroclinic.scheduling.models import (
    Appointment,
    AppointmentType,
    WaitlistEntry,
    WaitlistOffer,
)
from neuroclinic.tms.access import get_course_for_user
from neuroclinic.treatment.actions.plans import active_plan
from neuroclinic.treatment.models import TreatmentPlan

router = Router(tags=["scheduling"])


class TypeOut(Schema):
    code: str
    name: str
    duration_minutes: int
    turnover_minutes: int
    room_kind: str
    device_kinds: list[str]
    staff_role: str


class AppointmentOut(Schema):
    id: UUID
    patient: UUID
    type: str
    status: str
    starts_at: datetime
    ends_at: datetime
    room: str
    staff: str
    devices: list[str]


OVERRIDE_DESCRIPTION = (
    "A prescriber's written reason to book a booster outside the booster protocol's "
    "interval after the last infusion (write_orders only; audited)."
)


class BookIn(Schema):
    patient: UUID
    appointment_type: str = Field(max_length=20)
    location: UUID
    date: date
    time: time
    interval_override_reason: str = Field(
        default="", max_length=500, description=OVERRIDE_DESCRIPTION
    )


class MoveIn(Schema):
    date: date
    time: time
    reason: str = Field(default="", max_length=300)
    interval_override_reason: str = Field(
        default="", max_length=500, description=OVERRIDE_DESCRIPTION
    )


class CheckInIn(Schema):
    spacing_override_reason: str = Field(default="", max_length=500)


class CancelIn(Schema):
    reason: str = Field(max_length=300)


class ProposalIn(Schema):
    patient: UUID
    location: UUID
    start: date
    preferred_times: list[time] = Field(default_factory=list, max_length=12)


class VisitOut(Schema):
    starts_at: datetime
    local: str
    room: str
    staff: str
    devices: list[str]
    reason: str


class ProposalOut(Schema):
    feasible: bool
    visits: list[VisitOut]
    notes: list[str]


class SeriesIn(Schema):
    patient: UUID
    location: UUID
    starts: list[datetime] = Field(min_length=1, max_length=30)


class SeriesOut(Schema):
    id: UUID
    appointments: list[AppointmentOut]


def _user(request: HttpRequest, *capabilities: Capability) -> User:
    user = request.user
    assert isinstance(user, User)  # auth= guarantees it
    require(user, *capabilities)
    return user


def _location(user: User, location_uuid: UUID) -> Location:
    found = Location.objects.filter(
        uuid=location_uuid, organization_id=user.organization_id or 0, is_active=True
    ).first()
    if found is None:
        raise FieldErrors({"location": ["No such location."]})
    return found


def _wall(location: Location, day: date, at: time, field: str = "time") -> datetime:
    try:
        return rules.local_to_utc(day, at, location.time_zone)
    except rules.LocalTimeError as exc:
        raise FieldErrors({field: [str(exc)]}) from None


def _out(a: Appointment) -> dict[str, Any]:
    return {
        "id": a.uuid,
        "patient": a.patient.uuid,
        "type": a.appointment_type.code,
        "status": a.status,
        "starts_at": a.starts_at,
        "ends_at": a.ends_at,
        "room": a.room.name if a.room else "",
        "staff": a.staff.get_full_name() if a.staff else "",
        "devices": [d.name for d in a.devices.all()],
    }


def _refused(exc: SchedulingError) -> FieldErrors:
    return FieldErrors(exc.errors)


@router.get("/scheduling/appointment-types", response=list[TypeOut])
def list_types(request: HttpRequest) -> list[AppointmentType]:
    """The clinic's appointment types and the resources each holds."""
    user = _user(request, Capability.VIEW_SCHEDULE)
    return list(
        AppointmentType.objects.filter(
            organization_id=user.organization_id or 0, is_active=True
        )
    )


@router.get("/scheduling/appointments", response=list[AppointmentOut])
def list_appointments(
    request: HttpRequest, location: UUID, date: date
) -> list[dict[str, Any]]:
    """A location's appointments on one local day (audited: it names patients)."""
    user = _user(request, Capability.VIEW_SCHEDULE)
    place = _location(user, location)
    tz = ZoneInfo(place.time_zone)
    start = datetime.combine(date, time(0), tzinfo=tz)
    rows = list(
        Appointment.objects.filter(
            location=place,
            starts_at__gte=start,
            starts_at__lt=start + timedelta(days=1),
        )
        .select_related("appointment_type", "patient", "room", "staff")
        .prefetch_related("devices")
        .order_by("starts_at", "id")
    )
    record(
        AuditEvent.Action.CALENDAR_VIEWED,
        actor=user,
        organization=place.organization,
        location=str(place.uuid),
        day=date.isoformat(),
        patients=sorted({str(a.patient.uuid) for a in rows}),
    )
    return [_out(a) for a in rows]


@router.post("/scheduling/appointments", response={201: AppointmentOut})
def book(request: HttpRequest, payload: BookIn) -> Status[dict[str, Any]]:
    """Book one visit; the first free room, staff member and devices are taken. A booster
    outside the booster protocol's interval is refused (422 on `starts_at`, naming the
    earliest allowed date) unless a prescriber gives `interval_override_reason`."""
    user = _user(request, Capability.BOOK_APPOINTMENTS)
    patient = get_patient_for_user(
        user, payload.patient, capability=Capability.VIEW_PATIENT_LIST
    )
    place = _location(user, payload.location)
    itype = AppointmentType.objects.filter(
        organization_id=user.organization_id or 0, code=payload.appointment_type
    ).first()
    if itype is None:
        raise FieldErrors({"appointment_type": ["No such appointment type."]})
    try:
        appointment = appointments.book_appointment(
            patient,
            appointment_type=itype,
            location=place,
            starts_at=_wall(place, payload.date, payload.time),
            interval_override_reason=payload.interval_override_reason,
            by=user,
        )
    except SchedulingError as exc:
        raise _refused(exc) from None
    return Status(201, _out(appointment))


@router.post("/scheduling/appointments/{appointment_id}/move", response=AppointmentOut)
def move(request: HttpRequest, appointment_id: UUID, payload: MoveIn) -> dict[str, Any]:
    user = _user(request)
    appointment = get_appointment_for_user(
        user, appointment_id, capability=Capability.BOOK_APPOINTMENTS
    )
    try:
        moved = appointments.move_appointment(
            appointment,
            starts_at=_wall(appointment.location, payload.date, payload.time),
            reason=payload.reason,
            interval_override_reason=payload.interval_override_reason,
            by=user,
        )
    except SchedulingError as exc:
        raise _refused(exc) from None
    return _out(moved)


@router.post(
    "/scheduling/appointments/{appointment_id}/cancel", response=AppointmentOut
)
def cancel(
    request: HttpRequest, appointment_id: UUID, payload: CancelIn
) -> dict[str, Any]:
    user = _user(request)
    appointment = get_appointment_for_user(
        user, appointment_id, capability=Capability.BOOK_APPOINTMENTS
    )
    try:
        done = appointments.cancel_appointment(
            appointment, reason=payload.reason, by=user
        )
    except SchedulingError as exc:
        raise _refused(exc) from None
    return _out(done)


@router.post(
    "/scheduling/appointments/{appointment_id}/no-show", response=AppointmentOut
)
def no_show(request: HttpRequest, appointment_id: UUID) -> dict[str, Any]:
    user = _user(request)
    appointment = get_appointment_for_user(
        user, appointment_id, capability=Capability.BOOK_APPOINTMENTS
    )
    try:
        done = appointments.mark_no_show(appointment, by=user)
    except SchedulingError as exc:
        raise _refused(exc) from None
    return _out(done)


@router.post(
    "/scheduling/appointments/{appointment_id}/check-in", response=AppointmentOut
)
def check_in(
    request: HttpRequest, appointment_id: UUID, payload: CheckInIn | None = None
) -> dict[str, Any]:
    """Check the patient in; an infusion opens its infusion session. A nurse or prescriber
    may check in over the protocol's rhythm with `spacing_override_reason`."""
    user = _user(request)
    appointment = get_appointment_for_user(
        user, appointment_id, capability=Capability.CHECK_IN_PATIENTS
    )
    require(user, *check_in_capabilities(appointment))
    try:
        done = appointments.check_in(
            appointment,
            spacing_override_reason=payload.spacing_override_reason if payload else "",
            by=user,
        )
    except SchedulingError as exc:
        raise _refused(exc) from None
    return _out(done)


def _plan_for(user: User, patient_uuid: UUID) -> TreatmentPlan:
    patient = get_patient_for_user(
        user, patient_uuid, capability=Capability.VIEW_PATIENT_LIST
    )
    plan = active_plan(patient)
    if plan is None:
        raise FieldErrors({"patient": ["The patient has no active treatment plan."]})
    return plan


@router.post("/scheduling/series/proposals", response=ProposalOut)
def propose(request: HttpRequest, payload: ProposalIn) -> dict[str, Any]:
    """Propose a whole induction series (nothing is booked), with the reason for each visit
    or, when none fits, why not."""
    user = _user(request, Capability.BOOK_APPOINTMENTS)
    plan = _plan_for(user, payload.patient)
    place = _location(user, payload.location)
    try:
        proposal = series.propose_series(
            plan,
            location=place,
            start=payload.start,
            preferred_times=payload.preferred_times,
        )
    except SchedulingError as exc:
        raise _refused(exc) from None
    return {
        "feasible": proposal.feasible,
        "visits": [
            {
                "starts_at": v.starts_at,
                "local": v.local_label,
                "room": v.room,
                "staff": v.staff,
                "devices": v.devices,
                "reason": v.reason,
            }
            for v in proposal.visits
        ],
        "notes": proposal.notes,
    }


@router.post("/scheduling/series", response={201: SeriesOut})
def book_series(request: HttpRequest, payload: SeriesIn) -> Status[dict[str, Any]]:
    """Book an induction series at these times (a proposal, perhaps adjusted): all or nothing."""
    user = _user(request, Capability.BOOK_APPOINTMENTS)
    plan = _plan_for(user, payload.patient)
    place = _location(user, payload.location)
    if any(s.tzinfo is None for s in payload.starts):
        raise FieldErrors({"starts": ["Give each time with its UTC offset."]})
    try:
        made = series.book_series(plan, location=place, starts=payload.starts, by=user)
    except SchedulingError as exc:
        raise _refused(exc) from None
    rows = made.appointments.select_related(
        "appointment_type", "patient", "room", "staff"
    ).prefetch_related("devices")
    return Status(201, {"id": made.uuid, "appointments": [_out(a) for a in rows]})


# Series for many new patients at once ----------------------------------------------


class BatchIn(Schema):
    location: UUID
    start: date
    latest_start: date
    patients: list[UUID] = Field(
        default_factory=list,
        max_length=500,
        description="Patients whose induction series is still to book; empty: every "
        "such patient of the clinic (oldest plan first, at most 500).",
    )
    preferred_times: list[time] = Field(default_factory=list, max_length=12)
    time_limit_s: float = Field(default=20.0, ge=1, le=60)


class BatchSeriesOut(Schema):
    patient: UUID
    visits: list[VisitOut]


class BatchUnplacedOut(Schema):
    patient: UUID
    reason: str


class BatchOut(Schema):
    status: str
    objective: float
    best_bound: float
    gap: float
    series: list[BatchSeriesOut]
    unplaced: list[BatchUnplacedOut]


def _visit_out(v: series.ProposedVisit) -> dict[str, Any]:
    return {
        "starts_at": v.starts_at,
        "local": v.local_label,
        "room": v.room,
        "staff": v.staff,
        "devices": v.devices,
        "reason": v.reason,
    }


@router.post("/scheduling/batch/proposals", response=BatchOut)
def propose_batch(request: HttpRequest, payload: BatchIn) -> dict[str, Any]:
    """Propose induction series for many waiting patients at once, planned jointly
    against the calendar and the visits they already hold anywhere in the clinic
    (nothing is booked). Book each accepted series with POST /scheduling/series.
    All or nothing: when not every patient fits, `series` is empty and the status says
    why (infeasible, or unknown when the time ran out)."""
    user = _user(request, Capability.BOOK_APPOINTMENTS)
    place = _location(user, payload.location)
    visible = plans_for(user, capability=Capability.BOOK_APPOINTMENTS)
    waiting = batch_actions.waiting_plans(visible)
    if payload.patients:
        by_patient = {p.patient.uuid: p for p in waiting}
        unknown = [str(u) for u in payload.patients if u not in by_patient]
        if unknown:
            raise FieldErrors(
                {
                    "patients": [
                        f"{u}: no patient of this clinic waiting for an induction "
                        "series (unknown, or their series is booked or begun)."
                        for u in unknown
                    ]
                }
            )
        if len(set(payload.patients)) != len(payload.patients):
            raise FieldErrors({"patients": ["Give each patient once."]})
        chosen = [by_patient[u] for u in payload.patients]
    else:
        chosen = waiting
    if not chosen:
        raise FieldErrors(
            {"patients": ["No patient is waiting for an induction series."]}
        )
    try:
        proposal = batch_actions.propose_batch(
            [
                batch_actions.BatchItem(p, preferred_times=payload.preferred_times)
                for p in chosen
            ],
            location=place,
            start=payload.start,
            latest_start=payload.latest_start,
            time_limit_s=payload.time_limit_s,
        )
    except SchedulingError as exc:
        raise _refused(exc) from None
    record(
        AuditEvent.Action.CALENDAR_VIEWED,
        actor=user,
        organization=place.organization,
        via="api_batch_proposal",
        location=str(place.uuid),
        patients=sorted(str(p.patient.uuid) for p in chosen),
    )
    patient_of = {p.pk: p.patient.uuid for p in chosen}
    return {
        "status": proposal.status,
        "objective": proposal.objective,
        "best_bound": proposal.best_bound,
        "gap": proposal.gap,
        "series": [
            {"patient": patient_of[pk], "visits": [_visit_out(v) for v in visits]}
            for pk, visits in proposal.series.items()
        ],
        "unplaced": [
            {"patient": patient_of[pk], "reason": why}
            for pk, why in proposal.unplaced.items()
        ],
    }


class TmsCourseIn(Schema):
    preferred_time: time | None = None


@router.post(
    "/scheduling/tms-courses/{course_id}/appointments",
    response={201: list[AppointmentOut]},
)
def book_tms_course(
    request: HttpRequest, course_id: UUID, payload: TmsCourseIn
) -> Status[list[dict[str, Any]]]:
    """Book every planned session of a TMS course (all or nothing), at the preferred local
    time or the first free time after it."""
    user = _user(request, Capability.BOOK_APPOINTMENTS)
    course = get_course_for_user(
        user, course_id, capability=Capability.BOOK_APPOINTMENTS
    )
    try:
        made = tms_booking.book_tms_course(
            course, preferred_time=payload.preferred_time, by=user
        )
    except SchedulingError as exc:
        raise _refused(exc) from None
    rows = (
        Appointment.objects.filter(pk__in=[a.pk for a in made])
        .select_related("appointment_type", "patient", "room", "staff")
        .prefetch_related("devices")
        .order_by("starts_at")
    )
    return Status(201, [_out(a) for a in rows])


# The waitlist ---------------------------------------------------------------------------


class WaitlistEntryIn(Schema):
    patient: UUID
    appointment_type: str = Field(max_length=20)
    location: UUID | None = None
    appointment: UUID | None = Field(
        default=None, description="A booked visit of the patient's to bring forward."
    )
    note: str = Field(default="", max_length=300)


class WaitlistEntryOut(Schema):
    id: UUID
    patient: UUID
    type: str
    location: UUID | None
    appointment: UUID | None
    status: str
    note: str
    created_at: datetime


class WaitlistOfferOut(Schema):
    id: UUID
    entry: UUID
    patient: UUID
    type: str
    location: UUID
    starts_at: datetime
    freed_because: str
    status: str
    expires_at: datetime
    sent_at: datetime | None
    answered_at: datetime | None
    booked: UUID | None


OPEN_ENTRY_STATUSES = (WaitlistEntry.Status.WAITING, WaitlistEntry.Status.OFFERED)


def _entry_out(e: WaitlistEntry) -> dict[str, Any]:
    return {
        "id": e.uuid,
        "patient": e.patient.uuid,
        "type": e.appointment_type.code,
        "location": e.location.uuid if e.location else None,
        "appointment": e.appointment.uuid if e.appointment else None,
        "status": e.status,
        "note": e.note,
        "created_at": e.created_at,
    }


def _offer_out(o: WaitlistOffer) -> dict[str, Any]:
    return {
        "id": o.uuid,
        "entry": o.entry.uuid,
        "patient": o.entry.patient.uuid,
        "type": o.entry.appointment_type.code,
        "location": o.location.uuid,
        "starts_at": o.starts_at,
        "freed_because": o.freed_because,
        "status": o.status,
        "expires_at": o.expires_at,
        "sent_at": o.sent_at,
        "answered_at": o.answered_at,
        "booked": o.booked.uuid if o.booked else None,
    }


def _made_between(since: date | None, until: date | None) -> dict[str, datetime]:
    """Filters on `created_at` for a span of UTC days, both ends included; `until` before
    `since` is refused, and so is a day past the calendar's end."""
    if since is not None and until is not None and until < since:
        raise FieldErrors({"until": ["The last day is before the first."]})
    filters: dict[str, datetime] = {}
    if since is not None:
        filters["created_at__gte"] = datetime.combine(since, time(0), tzinfo=UTC)
    if until is not None:
        if until >= date(9999, 12, 31):
            raise FieldErrors({"until": ["Give a real day."]})
        filters["created_at__lt"] = datetime.combine(
            until + timedelta(days=1), time(0), tzinfo=UTC
        )
    return filters


def _status(
    value: str, choices: type[WaitlistEntry.Status] | type[WaitlistOffer.Status]
) -> str:
    if value and value not in choices.values:
        raise FieldErrors(
            {"status": [f"Choose one of: {', '.join(choices.values)} (or none)."]}
        )
    return value


@router.get("/scheduling/waitlist", response=list[WaitlistEntryOut])
def list_waitlist(
    request: HttpRequest,
    status: str = "",
    since: date | None = None,
    until: date | None = None,
) -> list[dict[str, Any]]:
    """The waitlist in order (first made first). Without `status`, the open entries
    (waiting or offered a time); `since`/`until` (UTC days) narrow by when an entry was
    made. Audited: it names patients."""
    user = _user(request)
    rows = waitlist_entries_for(user, capability=Capability.BOOK_APPOINTMENTS)
    wanted = _status(status, WaitlistEntry.Status)
    rows = (
        rows.filter(status=wanted)
        if wanted
        else rows.filter(status__in=OPEN_ENTRY_STATUSES)
    )
    rows = rows.filter(**_made_between(since, until))
    entries = list(
        rows.select_related(
            "patient", "appointment_type", "location", "appointment"
        ).order_by("created_at", "id")[:500]
    )
    record(
        AuditEvent.Action.CALENDAR_VIEWED,
        actor=user,
        via="api_waitlist",
        patients=sorted({str(e.patient.uuid) for e in entries}),
    )
    return [_entry_out(e) for e in entries]


@router.post("/scheduling/waitlist", response={201: WaitlistEntryOut})
def join_waitlist(
    request: HttpRequest, payload: WaitlistEntryIn
) -> Status[dict[str, Any]]:
    """Put a patient on the waitlist for an earlier time: a new visit of a type, or a booked
    visit of theirs (`appointment`) to bring forward; at a location or (none given) any."""
    user = _user(request, Capability.BOOK_APPOINTMENTS)
    try:
        patient = get_patient_for_user(
            user, payload.patient, capability=Capability.BOOK_APPOINTMENTS
        )
    except Http404:
        raise FieldErrors({"patient": ["No such patient."]}) from None
    itype = AppointmentType.objects.filter(
        organization_id=user.organization_id or 0,
        code=payload.appointment_type,
        is_active=True,
    ).first()
    if itype is None:
        raise FieldErrors({"appointment_type": ["No such appointment type."]})
    place = _location(user, payload.location) if payload.location else None
    visit = None
    if payload.appointment is not None:
        visit = Appointment.objects.filter(
            uuid=payload.appointment, organization_id=user.organization_id or 0
        ).first()
        if visit is None:
            raise FieldErrors({"appointment": ["No such appointment."]})
    try:
        entry = waitlist.join_waitlist(
            patient,
            appointment_type=itype,
            location=place,
            appointment=visit,
            note=payload.note,
            by=user,
        )
    except SchedulingError as exc:
        raise _refused(exc) from None
    return Status(201, _entry_out(entry))


@router.post("/scheduling/waitlist/{entry_id}/withdraw", response=WaitlistEntryOut)
def withdraw_from_waitlist(request: HttpRequest, entry_id: UUID) -> dict[str, Any]:
    """Take the patient off the waitlist (an open offer to them closes as declined)."""
    user = _user(request)
    entry = get_waitlist_entry_for_user(
        user, entry_id, capability=Capability.BOOK_APPOINTMENTS
    )
    try:
        done = waitlist.withdraw(entry, by=user)
    except SchedulingError as exc:
        raise _refused(exc) from None
    done = get_waitlist_entry_for_user(
        user, done.uuid, capability=Capability.BOOK_APPOINTMENTS
    )
    return _entry_out(done)


@router.get("/scheduling/waitlist/offers", response=list[WaitlistOfferOut])
def list_offers(
    request: HttpRequest,
    status: str = "",
    since: date | None = None,
    until: date | None = None,
) -> list[dict[str, Any]]:
    """Offers of freed times, newest first; `status` (open, accepted, declined, expired,
    taken) and `since`/`until` (UTC days the offer was made) narrow them. Audited."""
    user = _user(request, Capability.BOOK_APPOINTMENTS)
    entries = waitlist_entries_for(user, capability=Capability.BOOK_APPOINTMENTS)
    rows = WaitlistOffer.objects.filter(entry__in=entries)
    wanted = _status(status, WaitlistOffer.Status)
    if wanted:
        rows = rows.filter(status=wanted)
    rows = rows.filter(**_made_between(since, until))
    offers = list(
        rows.select_related(
            "entry__patient", "entry__appointment_type", "location", "booked"
        ).order_by("-created_at", "-id")[:500]
    )
    record(
        AuditEvent.Action.CALENDAR_VIEWED,
        actor=user,
        via="api_waitlist_offers",
        patients=sorted({str(o.entry.patient.uuid) for o in offers}),
    )
    return [_offer_out(o) for o in offers]


@router.post("/scheduling/waitlist/offers/{offer_id}/accept", response=AppointmentOut)
def accept_offer(request: HttpRequest, offer_id: UUID) -> dict[str, Any]:
    """Accept an open offer on the patient's behalf (on the phone): the time is booked (or
    the visit brought forward) in the caller's name. A closed or expired offer, or a time
    booked meanwhile, is refused (422) and nothing is booked."""
    user = _user(request)
    offer = get_waitlist_offer_for_user(
        user, offer_id, capability=Capability.BOOK_APPOINTMENTS
    )
    try:
        booked = waitlist.accept_offer(offer, by=user)
    except SchedulingError as exc:
        raise _refused(exc) from None
    return _out(
        get_appointment_for_user(
            user, booked.uuid, capability=Capability.BOOK_APPOINTMENTS
        )
    )


@router.post(
    "/scheduling/waitlist/offers/{offer_id}/decline", response=WaitlistOfferOut
)
def decline_offer(request: HttpRequest, offer_id: UUID) -> dict[str, Any]:
    """Say no on the patient's behalf: the entry keeps its place and the time goes to the
    next in line. A closed or expired offer is refused (422)."""
    user = _user(request)
    offer = get_waitlist_offer_for_user(
        user, offer_id, capability=Capability.BOOK_APPOINTMENTS
    )
    try:
        waitlist.decline_offer(offer, by=user)
    except SchedulingError as exc:
        raise _refused(exc) from None
    return _offer_out(
        get_waitlist_offer_for_user(
            user, offer.uuid, capability=Capability.BOOK_APPOINTMENTS
        )
    )
