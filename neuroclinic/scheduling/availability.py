"""What the calendar holds around a time: the rules' `Calendar` built from the database.

Reads only. Actions call it inside their transaction (after locking the rows
they will hold), pages and the API call it to show free slots.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.utils import timezone

from neuroclinic.accounts.models import User
from neuroclinic.accounts.roles import Role
from neuroclinic.clinics.models import (
    Device,
    Location,
    OpeningHours,
    Organization,
    Room,
)
from neuroclinic.infusions.models import InfusionSession
from neuroclinic.scheduling import rules
from neuroclinic.scheduling.models import (
    Appointment,
    AppointmentType,
    Closure,
    SchedulingSettings,
    StaffShift,
)
from neuroclinic.treatment.models import InfusionOrder, Protocol, TreatmentPlan

DEFAULT_REMINDER_HOURS = [48, 2]
# How long an infusion checked in without an appointment holds its room when the clinic
# has no infusion visit type to read it from: the default type's 120 minutes and turnover.
DEFAULT_INFUSION_HOLD_MINUTES = 135
# Roles that count as "a prescriber on site" for infusions.
PRESCRIBING_ROLES = (Role.PRESCRIBER.value, Role.MEDICAL_DIRECTOR.value)


def settings_for(organization: Organization | int) -> SchedulingSettings:
    """The clinic's scheduling settings, or the defaults (unsaved) when none are set."""
    organization_id = organization if isinstance(organization, int) else organization.pk
    found = SchedulingSettings.objects.filter(organization_id=organization_id).first()
    return found or SchedulingSettings(
        organization_id=organization_id, reminder_hours=list(DEFAULT_REMINDER_HOURS)
    )


def spacing_of(plan: TreatmentPlan) -> rules.SeriesSpacing:
    """The induction protocol's spacing (treatment.defaults: K4, K5)."""
    protocol = plan.induction_protocol
    return rules.SeriesSpacing(
        count=protocol.infusion_count,
        per_week_min=protocol.infusions_per_week_min,
        per_week_max=protocol.infusions_per_week_max,
        window_days=protocol.series_window_days,
        min_days_between=protocol.min_days_between_infusions,
    )


def local_days(location: Location, start: datetime, end: datetime) -> list[date]:
    tz = ZoneInfo(location.time_zone)
    first, last = start.astimezone(tz).date(), end.astimezone(tz).date()
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def _wall(day: date, at: time, zone: str) -> datetime:
    try:
        return rules.local_to_utc(day, at, zone)
    except rules.LocalTimeError:
        # Opening hours that begin in a skipped hour begin when the clock resumes.
        return rules.local_to_utc(
            day, (datetime.combine(day, at) + timedelta(hours=1)).time(), zone
        )


def opening_intervals(
    location: Location, days: Iterable[date], hours: list[OpeningHours] | None = None
) -> list[rules.Interval]:
    hours = hours if hours is not None else list(location.hours.all())
    spans = []
    for day in days:
        for h in hours:
            if h.weekday == day.weekday():
                spans.append(
                    rules.Interval(
                        _wall(day, h.opens_at, location.time_zone),
                        _wall(day, h.closes_at, location.time_zone),
                    )
                )
    return spans


def _span(start: datetime, end: datetime) -> rules.Interval:
    return rules.Interval(start, end)


def as_booking(
    appointment: Appointment, device_ids: Iterable[int] = ()
) -> rules.Booking:
    return rules.Booking(
        visit=_span(appointment.starts_at, appointment.ends_at),
        held=_span(appointment.starts_at, appointment.held_until),
        patient_id=appointment.patient_id,
        room_id=appointment.room_id,
        staff_id=appointment.staff_id,
        device_ids=frozenset(device_ids),
        is_infusion=appointment.appointment_type.is_infusion,
        ref=str(appointment.uuid),
    )


@dataclass
class Resources:
    """The rooms, staff and devices of a location, loaded once per request."""

    rooms: list[Room]
    staff_by_role: dict[str, list[User]]
    devices_by_kind: dict[str, list[Device]]
    hours: list[OpeningHours]
    names: dict[int, str] = field(default_factory=dict)


def resources_at(location: Location) -> Resources:
    rooms = list(
        Room.objects.filter(location=location, is_active=True).order_by("name", "id")
    )
    staff_by_role: dict[str, list[User]] = {}
    for user in (
        User.objects.filter(organization_id=location.organization_id, is_active=True)
        .prefetch_related("groups")
        .order_by("username")
    ):
        for group in user.groups.all():
            staff_by_role.setdefault(group.name, []).append(user)
    devices_by_kind: dict[str, list[Device]] = {}
    for device in Device.objects.filter(location=location, is_active=True).order_by(
        "name", "id"
    ):
        devices_by_kind.setdefault(device.kind, []).append(device)
    return Resources(
        rooms=rooms,
        staff_by_role=staff_by_role,
        devices_by_kind=devices_by_kind,
        hours=list(location.hours.all()),
    )


def calendar_for(
    location: Location,
    start: datetime,
    end: datetime,
    *,
    patient_id: int | None = None,
    hours: list[OpeningHours] | None = None,
) -> rules.Calendar:
    """Everything the rules need between `start` and `end` at a location (and the patient's
    own visits anywhere in the clinic)."""
    settings = settings_for(location.organization_id)
    holding = Appointment.objects.filter(status__in=Appointment.HOLDING).filter(
        starts_at__lt=end, held_until__gt=start
    )
    rows = list(holding.filter(location=location).select_related("appointment_type"))
    if patient_id is not None:
        rows += list(
            holding.filter(patient_id=patient_id)
            .exclude(location=location)
            .select_related("appointment_type")
        )
    devices: dict[int, list[int]] = {}
    for link in Appointment.devices.through.objects.filter(
        appointment_id__in=[a.pk for a in rows]
    ):
        devices.setdefault(link.appointment_id, []).append(link.device_id)
    shifts: dict[int, list[rules.Interval]] = {}
    prescriber_shifts: list[rules.Interval] = []
    for shift in StaffShift.objects.filter(
        location=location, starts_at__lt=end, ends_at__gt=start
    ).prefetch_related("user__groups"):
        span = _span(shift.starts_at, shift.ends_at)
        shifts.setdefault(shift.user_id, []).append(span)
        if any(g.name in PRESCRIBING_ROLES for g in shift.user.groups.all()):
            prescriber_shifts.append(span)
    room_closures: dict[int, list[rules.Interval]] = {}
    device_closures: dict[int, list[rules.Interval]] = {}
    location_closures: list[rules.Interval] = []
    for closure in Closure.objects.filter(
        location=location, starts_at__lt=end, ends_at__gt=start
    ):
        span = _span(closure.starts_at, closure.ends_at)
        if closure.room_id is not None:
            room_closures.setdefault(closure.room_id, []).append(span)
        elif closure.device_id is not None:
            device_closures.setdefault(closure.device_id, []).append(span)
        else:
            location_closures.append(span)
    return rules.Calendar(
        bookings=[as_booking(a, devices.get(a.pk, ())) for a in rows],
        rooms_in_use=_rooms_in_use(location, start, end),
        opening_hours=opening_intervals(
            location, local_days(location, start, end), hours
        ),
        shifts=shifts,
        prescriber_shifts=prescriber_shifts,
        room_closures=room_closures,
        device_closures=device_closures,
        location_closures=location_closures,
        nurse_max_running=settings.nurse_max_running_infusions,
        prescriber_required=settings.prescriber_on_site_for_infusions,
    )


def _rooms_in_use(
    location: Location, start: datetime, end: datetime
) -> dict[int, list[rules.Interval]]:
    """Rooms held by open infusions: from check-in until an infusion visit's usual length
    and turnover have passed, and while the infusion is still open, at least until a
    turnover from now (the room is cleaned after the patient leaves). An infusion booked
    through an appointment is held by it too; this covers the one that overruns it."""
    infusion = AppointmentType.objects.filter(
        organization_id=location.organization_id, code=AppointmentType.Code.INFUSION
    ).first()
    usual = timedelta(
        minutes=(infusion.duration_minutes + infusion.turnover_minutes)
        if infusion is not None
        else DEFAULT_INFUSION_HOLD_MINUTES
    )
    turnover = timedelta(minutes=infusion.turnover_minutes if infusion else 0)
    now = timezone.now()
    held: dict[int, list[rules.Interval]] = {}
    for room_id, checked_in_at in InfusionSession.objects.filter(
        location=location,
        status__in=InfusionSession.OPEN_STATUSES,
        checked_in_at__lt=end,
    ).values_list("room_id", "checked_in_at"):
        span = _span(checked_in_at, max(now + turnover, checked_in_at + usual))
        if span.end > start:
            held.setdefault(room_id, []).append(span)
    return held


@dataclass(frozen=True)
class Choice:
    """A room, staff member and devices that are free for a visit."""

    room: Room | None
    staff: User | None
    devices: tuple[Device, ...]
    booking: rules.Booking


def choose_resources(
    appointment_type: AppointmentType,
    *,
    patient_id: int,
    starts_at: datetime,
    calendar: rules.Calendar,
    resources: Resources,
    room: Room | None = None,
    staff: User | None = None,
    devices: tuple[Device, ...] | None = None,
    ref: str = "",
    now: datetime | None = None,
    explain: bool = True,
) -> Choice | list[rules.Refusal]:
    """The first free room, staff member and devices for this visit, or why there are none.

    Given a room, staff member or devices, only those are tried. The refusals
    returned are those of the attempt that came closest (fewest refusals).
    explain=False (a caller that needs only whether a time is free, such as the planner
    once it knows why a day is full) skips taken rooms without working out why: the same
    Choice, but refusals that may be fewer.
    """
    ends_at = starts_at + timedelta(minutes=appointment_type.duration_minutes)
    held = ends_at + timedelta(minutes=appointment_type.turnover_minutes)
    if room is not None:
        rooms: list[Room | None] = [room]
    elif appointment_type.room_kind:
        rooms = [r for r in resources.rooms if r.kind == appointment_type.room_kind]
    else:
        rooms = [None]
    staff_list: list[User | None] = (
        [staff]
        if staff is not None
        else list(resources.staff_by_role.get(appointment_type.staff_role, []))
    )
    if not rooms:
        return [
            rules.Refusal(
                "no_room",
                "room",
                "The location has no room of the kind this visit needs.",
            )
        ]
    if not staff_list:
        return [
            rules.Refusal(
                "no_staff",
                "staff",
                "Nobody at the clinic has the role this visit needs.",
            )
        ]
    kinds: list[str] = list(appointment_type.device_kinds)
    best: list[rules.Refusal] | None = None
    # Device and room checks see only other bookings' holds and the closures.
    device_calendar = rules.Calendar(
        bookings=calendar.bookings,
        opening_hours=[rules.Interval(starts_at, held)],
        device_closures=calendar.device_closures,
        prescriber_required=False,
    )

    room_calendar = rules.Calendar(
        bookings=calendar.bookings,
        opening_hours=[rules.Interval(starts_at, held)],
        room_closures=calendar.room_closures,
        prescriber_required=False,
    )

    def device_free(device: Device) -> bool:
        return not rules.conflicts(
            rules.Booking(
                visit=rules.Interval(starts_at, ends_at),
                held=rules.Interval(starts_at, held),
                patient_id=-1,
                device_ids=frozenset({device.pk}),
                ref=ref,
            ),
            device_calendar,
        )

    def room_is_free(room_option: Room | None) -> bool:
        return room_option is None or not rules.conflicts(
            rules.Booking(
                visit=rules.Interval(starts_at, ends_at),
                held=rules.Interval(starts_at, held),
                patient_id=-1,
                room_id=room_option.pk,
                ref=ref,
            ),
            room_calendar,
        )

    for room_option in rooms:
        room_free = room_is_free(room_option)
        if not room_free and not explain:
            # A taken or closed room never gives a Choice: skip the devices and staff.
            best = best or [
                rules.Refusal(
                    "room_taken", "room", "The room is booked for another visit then."
                )
            ]
            continue
        # The devices depend on the room only (prefer the one that lives in it, then any free one).
        picked: list[Device] = []
        if devices is not None:
            picked = list(devices)
        else:
            for kind in kinds:
                pool = sorted(
                    resources.devices_by_kind.get(kind, []),
                    key=lambda d: (
                        d.room_id != getattr(room_option, "pk", None),
                        d.name,
                    ),
                )
                free = next(
                    (d for d in pool if d not in picked and device_free(d)),
                    pool[0] if pool else None,
                )
                if free is None:
                    return [
                        rules.Refusal(
                            "no_device",
                            "devices",
                            f"The location has no {kind.replace('_', ' ')}.",
                        )
                    ]
                picked.append(free)
        # A taken or closed room fails with everyone: one attempt says why, the rest are skipped.
        for person in staff_list if room_free else staff_list[:1]:
            booking = rules.Booking(
                visit=rules.Interval(starts_at, ends_at),
                held=rules.Interval(starts_at, held),
                patient_id=patient_id,
                room_id=room_option.pk if room_option else None,
                staff_id=person.pk if person else None,
                device_ids=frozenset(d.pk for d in picked),
                is_infusion=appointment_type.is_infusion,
                ref=ref,
            )
            refusals = rules.conflicts(booking, calendar, now=now)
            if not refusals:
                return Choice(room_option, person, tuple(picked), booking)
            if best is None or len(refusals) < len(best):
                best = refusals
    return best or []


# Boosters: the booster protocol's interval, from what was given and what is booked ------


def booster_protocol_of(patient_id: int) -> Protocol | None:
    """The booster protocol a booster of this patient falls under: the signed booster
    order's (as check-in reads it), else the active plan's; None without either."""
    plan = (
        TreatmentPlan.objects.filter(
            patient_id=patient_id, status=TreatmentPlan.Status.ACTIVE
        )
        .select_related("booster_protocol")
        .first()
    )
    if plan is None:
        return None
    order = (
        InfusionOrder.objects.filter(
            plan=plan,
            kind=InfusionOrder.Kind.BOOSTER,
            status=InfusionOrder.Status.ACTIVE,
        )
        .select_related("protocol")
        .order_by("-signed_at", "-id")
        .first()
    )
    return order.protocol if order is not None else plan.booster_protocol


def _infusion_days(
    patient_id: int, zone: str, *, ref: str = ""
) -> tuple[list[date], list[date]]:
    """The local days of the patient's infusions, given (sessions started and not
    cancelled, as check-in counts them) or booked (holding infusion and booster visits,
    but not the visit `ref`), and the days of the booked boosters alone."""
    tz = ZoneInfo(zone)
    given = [
        started.astimezone(tz).date()
        for started in InfusionSession.objects.filter(
            patient_id=patient_id, started_at__isnull=False
        )
        .exclude(status=InfusionSession.Status.CANCELLED)
        .values_list("started_at", flat=True)
        if started is not None
    ]
    held = Appointment.objects.filter(
        patient_id=patient_id,
        status__in=Appointment.HOLDING,
        appointment_type__code__in=AppointmentType.INFUSION_CODES,
    )
    if ref:
        held = held.exclude(uuid=ref)
    booked: list[date] = []
    boosters: list[date] = []
    for starts_at, code in held.values_list("starts_at", "appointment_type__code"):
        day = starts_at.astimezone(tz).date()
        booked.append(day)
        if code == AppointmentType.Code.BOOSTER:
            boosters.append(day)
    return given + booked, boosters


def booster_window_for(
    patient_id: int,
    *,
    location: Location,
    now: datetime,
    on: date | None = None,
    ref: str = "",
) -> rules.BoosterWindow | None:
    """The booster interval after the patient's last infusion on or before `on` (any day
    when not given), given or booked; None when no interval applies (no booster protocol,
    or no infusion yet)."""
    protocol = booster_protocol_of(patient_id)
    if protocol is None:
        return None
    days, _ = _infusion_days(patient_id, location.time_zone, ref=ref)
    before = [d for d in days if on is None or d <= on]
    if not before:
        return None
    return rules.booster_window_on(
        max(before),
        today=now.astimezone(ZoneInfo(location.time_zone)).date(),
        min_days=protocol.booster_interval_days_min,
        max_days=max(
            protocol.booster_interval_days_max, protocol.booster_interval_days_min
        ),
    )


def booster_refusals_for(
    patient_id: int,
    *,
    location: Location,
    starts_at: datetime,
    now: datetime,
    ref: str = "",
) -> list[rules.Refusal]:
    """Why a booster for this patient cannot start at `starts_at` under the booster
    protocol's interval (rules.booster_refusals); empty when it can or none applies."""
    protocol = booster_protocol_of(patient_id)
    if protocol is None:
        return []
    tz = ZoneInfo(location.time_zone)
    on = starts_at.astimezone(tz).date()
    window = booster_window_for(patient_id, location=location, now=now, on=on, ref=ref)
    _, boosters = _infusion_days(patient_id, location.time_zone, ref=ref)
    later = [d for d in boosters if d > on]
    return rules.booster_refusals(
        on,
        window,
        today=now.astimezone(tz).date(),
        next_booster=min(later) if later else None,
        min_days=protocol.booster_interval_days_min,
    )
