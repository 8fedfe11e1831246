"""A whole induction series in one action: propose (CP-SAT, planner.py) and book."""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone

from neuroclinic.accounts.models import User
from neuroclinic.audit.models import AuditEvent
from neuroclinic.audit.record import record
from neuroclinic.clinics.models import Location
from neuroclinic.scheduling import availability, planner, rules
from neuroclinic.scheduling.actions import appointments, slots
from neuroclinic.scheduling.errors import SchedulingError
from neuroclinic.scheduling.models import Appointment, AppointmentType, Series
from neuroclinic.treatment.models import TreatmentPlan

# How many days after the asked-for start the planner may start the series instead.
START_SEARCH_DAYS = 14


@dataclass(frozen=True)
class ProposedVisit:
    starts_at: datetime
    local_label: str  # "Tue 3 Mar 09:00"
    room: str
    staff: str
    devices: list[str]
    reason: str
    local_at: datetime  # starts_at in the location's zone, for the adjust fields

    @property
    def local_day(self) -> date:
        return self.local_at.date()

    @property
    def local_time(self) -> time:
        return self.local_at.time()


@dataclass
class Proposal:
    visits: list[ProposedVisit] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    optimal: bool = False
    gap: float = 0.0

    @property
    def feasible(self) -> bool:
        return bool(self.visits)


def _infusion_type(location: Location) -> AppointmentType:
    found = AppointmentType.objects.filter(
        organization_id=location.organization_id,
        code=AppointmentType.Code.INFUSION,
        is_active=True,
    ).first()
    if found is None:
        raise SchedulingError(
            "The clinic has no infusion appointment type yet.", field="appointment_type"
        )
    return found


def _summary(refusals: list[rules.Refusal]) -> str:
    codes = {r.code for r in refusals}
    if "staff_off" in codes or "no_staff" in codes:
        return "no nurse on shift"
    if "no_prescriber" in codes:
        return "no prescriber on site"
    if "room_taken" in codes or "room_closed" in codes:
        return "rooms full"
    if "device_taken" in codes or "device_closed" in codes:
        return "devices in use"
    if "nurse_ratio" in codes:
        return "nurses at their infusion limit"
    if "outside_hours" in codes or "location_closed" in codes:
        return "closed"
    return refusals[0].message if refusals else "nothing free"


def propose_series(
    plan: TreatmentPlan,
    *,
    location: Location,
    start: date,
    preferred_times: list[time] | None = None,
    now: datetime | None = None,
) -> Proposal:
    """The best series from `start` (or the closest later start), with the reason for each visit.

    Reads only. Start times are every `slot_minutes` within opening hours; a time is
    an option on a day when the booking rules find a free room, nurse and devices.
    """
    now = now or timezone.now()
    spacing = availability.spacing_of(plan)
    itype = _infusion_type(location)
    settings = availability.settings_for(location.organization_id)
    tz = ZoneInfo(location.time_zone)
    preferred = set(preferred_times or [])
    last_day = start + timedelta(days=START_SEARCH_DAYS + spacing.window_days)
    first_at = datetime.combine(start, time(0), tzinfo=tz)
    end_at = datetime.combine(last_day + timedelta(days=1), time(0), tzinfo=tz)
    calendar = availability.calendar_for(
        location, first_at, end_at, patient_id=plan.patient_id
    )
    resources = availability.resources_at(location)
    options: dict[date, list[planner.Option]] = {}
    choices: dict[str, availability.Choice] = {}
    blocked: dict[date, str] = {}
    step = timedelta(minutes=settings.slot_minutes or 30)
    duration = timedelta(minutes=itype.duration_minutes)
    turnover = timedelta(minutes=itype.turnover_minutes)
    for day in availability.local_days(
        location, first_at, end_at - timedelta(seconds=1)
    ):
        spans = availability.opening_intervals(location, [day], resources.hours)
        if not spans:
            blocked[day] = "closed"
            continue
        day_refusals: list[rules.Refusal] = []
        first_refused: tuple[datetime, rules.Calendar] | None = None
        for span in spans:
            # Only what overlaps this opening span (and the turnover after it) matters to its times.
            near = calendar.around(rules.Interval(span.start, span.end + turnover))
            at = span.start
            while at + duration <= span.end:
                # Only what overlaps this visit's held time can conflict with it, and only
                # whether a time is free matters here: why a day is full is worked out once,
                # below, for the day's first refused time (the same answer as before).
                around = near.around(rules.Interval(at, at + duration + turnover))
                found = availability.choose_resources(
                    itype,
                    patient_id=plan.patient_id,
                    starts_at=at,
                    calendar=around,
                    resources=resources,
                    now=now,
                    explain=False,
                )
                if isinstance(found, availability.Choice):
                    local = at.astimezone(tz)
                    key = at.isoformat()
                    choices[key] = found
                    options.setdefault(day, []).append(
                        planner.Option(key, f"{local:%H:%M}", local.time() in preferred)
                    )
                elif first_refused is None:
                    first_refused = (at, around)
                at += step
        if day not in options:
            if first_refused is not None:
                explained = availability.choose_resources(
                    itype,
                    patient_id=plan.patient_id,
                    starts_at=first_refused[0],
                    calendar=first_refused[1],
                    resources=resources,
                    now=now,
                )
                if not isinstance(explained, availability.Choice):
                    day_refusals = explained
            blocked[day] = _summary(day_refusals)
    result, notes = planner.plan_series(
        options,
        spacing,
        earliest=start,
        latest_start=start + timedelta(days=START_SEARCH_DAYS),
        blocked=blocked,
    )
    proposal = Proposal(notes=notes)
    if result is None:
        return proposal
    proposal.optimal, proposal.gap = result.optimal, result.gap
    for n, chosen in enumerate(result.chosen, start=1):
        choice = choices[chosen.option.key]
        at = choice.booking.visit.start
        why = [f"infusion {n} of {spacing.count}, week {chosen.week}"]
        why.append(
            "a preferred time"
            if chosen.option.preferred
            else "the earliest free time that keeps the series soonest"
        )
        proposal.visits.append(
            ProposedVisit(
                starts_at=at,
                local_label=f"{at.astimezone(tz):%a %d %b %H:%M}",
                room=choice.room.name if choice.room else "",
                staff=choice.staff.get_full_name() if choice.staff else "",
                devices=[d.name for d in choice.devices],
                reason="; ".join(why),
                local_at=at.astimezone(tz),
            )
        )
    return proposal


@transaction.atomic
def book_series(
    plan: TreatmentPlan,
    *,
    location: Location,
    starts: list[datetime],
    now: datetime | None = None,
    by: User,
) -> Series:
    """Book the induction series at these times (a proposal, perhaps adjusted) in one transaction.

    The times must make a valid series (rules.check_series) and each visit must find a
    free room, nurse and devices; otherwise nothing is booked and every reason is given.
    """
    now = now or timezone.now()
    if plan.organization_id != location.organization_id:
        raise SchedulingError(
            "Choose a location of the patient's clinic.", field="location"
        )
    itype = _infusion_type(location)
    tz = ZoneInfo(location.time_zone)
    spacing = availability.spacing_of(plan)
    already = Appointment.objects.filter(
        plan=plan, appointment_type=itype, status__in=Appointment.HOLDING
    ).exists()
    if already:
        raise SchedulingError(
            "This plan already has induction infusions booked: move or cancel those instead.",
            field="plan",
        )
    breaks = rules.check_series([s.astimezone(tz).date() for s in starts], spacing)
    if breaks:
        raise appointments.refused(
            [rules.Refusal(r.code, "starts", r.message) for r in breaks]
        )
    series = Series.objects.create(
        organization_id=plan.organization_id,
        patient=plan.patient,
        plan=plan,
        explanation=[f"{s.astimezone(tz):%a %d %b %H:%M}" for s in sorted(starts)],
        created_by=by,
    )
    for n, starts_at in enumerate(sorted(starts), start=1):
        try:
            appointments.book_appointment(
                plan.patient,
                appointment_type=itype,
                location=location,
                starts_at=starts_at,
                series=series,
                now=now,
                by=by,
            )
        except SchedulingError as exc:
            raise SchedulingError(
                f"Infusion {n} ({starts_at.astimezone(tz):%a %d %b %H:%M}): {exc.message}",
                field="starts",
            ) from None
    record(
        AuditEvent.Action.SERIES_BOOKED,
        actor=by,
        patient=plan.patient,
        subject=series,
        visits=len(starts),
    )
    book_follow_up(plan, location=location, after=max(starts), now=now, by=by)
    return series


def follow_up_for(plan: TreatmentPlan) -> Appointment | None:
    """The plan's booked follow-up visit still to come, if any."""
    return (
        Appointment.objects.filter(
            plan=plan,
            appointment_type__code=AppointmentType.Code.FOLLOW_UP,
            status__in=Appointment.HOLDING,
        )
        .order_by("starts_at")
        .first()
    )


def book_follow_up(
    plan: TreatmentPlan,
    *,
    location: Location,
    after: datetime,
    now: datetime | None = None,
    by: User,
) -> Appointment | None:
    """Book the follow-up visit in the protocol's window after the series' last infusion
    (10-14 days by default, issue #6, K5): the first free time, day by day. None (and
    nothing written) when the plan has one already or no time in the window is free;
    the series stands either way."""
    now = now or timezone.now()
    protocol = plan.induction_protocol
    itype = AppointmentType.objects.filter(
        organization_id=location.organization_id,
        code=AppointmentType.Code.FOLLOW_UP,
        is_active=True,
    ).first()
    if itype is None or follow_up_for(plan) is not None:
        return None
    tz = ZoneInfo(location.time_zone)
    last_day = after.astimezone(tz).date()
    first = last_day + timedelta(days=protocol.follow_up_window_start_days)
    final = last_day + timedelta(days=protocol.follow_up_window_end_days)
    for at in slots.free_starts(
        itype,
        location=location,
        patient_id=plan.patient_id,
        first=first,
        last=final,
        now=now,
        limit=5,
        per_day=1,  # the first free time of each day in the window
    ):
        try:
            with transaction.atomic():
                return appointments.book_appointment(
                    plan.patient,
                    appointment_type=itype,
                    location=location,
                    starts_at=at,
                    now=now,
                    by=by,
                )
        except SchedulingError:
            continue  # taken since the calendar was read: try the next time
    return None
