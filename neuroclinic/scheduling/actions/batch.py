"""Induction series for many new patients at once: the joint plan (batch.py) against the
calendar, then each visit given its room, nurse and devices by the booking rules.

Reads only: a proposal. Each series is booked through the usual confirm path
(series.book_series), which checks everything again under row locks.
"""

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db.models import QuerySet
from django.utils import timezone

from neuroclinic.accounts.models import User
from neuroclinic.clinics.models import Location
from neuroclinic.scheduling import availability, batch, rules
from neuroclinic.scheduling.actions.series import (
    ProposedVisit,
    _infusion_type,
    book_series,
)
from neuroclinic.scheduling.errors import SchedulingError
from neuroclinic.scheduling.models import Appointment, AppointmentType, Series
from neuroclinic.treatment.models import InfusionOrder, TreatmentPlan

# The widest span of start days one batch is planned over: the model grows with days
# (the 300-patient benchmark plans starts within 49 days) [D].
MAX_START_SPAN_DAYS = 63


@dataclass(frozen=True)
class BatchItem:
    plan: TreatmentPlan
    preferred_times: Sequence[time] = ()


@dataclass
class BatchProposal:
    status: str  # the solver's: optimal, feasible, infeasible, unknown
    series: dict[int, list[ProposedVisit]] = field(default_factory=dict)  # plan id ->
    unplaced: dict[int, str] = field(default_factory=dict)  # plan id -> why
    objective: float = 0.0
    best_bound: float = 0.0
    gap: float = 0.0
    solve_s: float = 0.0
    visits: int = 0
    preferred_met: int = 0
    finish_days: dict[int, int] = field(default_factory=dict)  # plan id -> days

    @property
    def feasible(self) -> bool:
        return bool(self.series)


def _free_count(
    candidates: Sequence[int],
    cell: rules.Interval,
    calendar: rules.Calendar,
    *,
    closures: dict[int, list[rules.Interval]],
    held_by: str,
) -> int:
    """How many of these rooms (or devices) nothing holds during `cell`."""
    taken: set[int] = set()
    for b in calendar.bookings:
        if b.held.overlaps(cell):
            if held_by == "room" and b.room_id is not None:
                taken.add(b.room_id)
            elif held_by == "device":
                taken |= b.device_ids
    if held_by == "room":
        for room_id, spans in calendar.rooms_in_use.items():
            if any(s.overlaps(cell) for s in spans):
                taken.add(room_id)
    for pk, spans in closures.items():
        if any(s.overlaps(cell) for s in spans):
            taken.add(pk)
    return sum(1 for pk in candidates if pk not in taken)


def patient_visits(
    patient_ids: Sequence[int],
    *,
    start: datetime,
    end: datetime,
    exclude_location: Location | None = None,
) -> dict[int, list[rules.Booking]]:
    """The visits these patients hold between `start` and `end` (at every location but
    `exclude_location`), as the rules see bookings, by patient."""
    rows = Appointment.objects.filter(
        patient_id__in=patient_ids,
        status__in=Appointment.HOLDING,
        starts_at__lt=end,
        held_until__gt=start,
    ).select_related("appointment_type")
    if exclude_location is not None:
        rows = rows.exclude(location=exclude_location)
    found: dict[int, list[rules.Booking]] = {pk: [] for pk in patient_ids}
    devices: dict[int, list[int]] = {}
    listed = list(rows)
    for link in Appointment.devices.through.objects.filter(
        appointment_id__in=[a.pk for a in listed]
    ):
        devices.setdefault(link.appointment_id, []).append(link.device_id)
    for a in listed:
        found[a.patient_id].append(availability.as_booking(a, devices.get(a.pk, ())))
    return found


def propose_batch(
    items: Sequence[BatchItem],
    *,
    location: Location,
    start: date,
    latest_start: date,
    now: datetime | None = None,
    time_limit_s: float = 50.0,
    workers: int = 2,
) -> BatchProposal:
    """Series for every plan at once, best for the clinic (finish soonest, then preferred
    times), each starting between `start` and `latest_start`; nothing is booked."""
    now = now or timezone.now()
    if not items:
        raise SchedulingError("Give at least one plan.", field="plans")
    if latest_start < start:
        raise SchedulingError(
            "The latest start is before the first start.", field="latest_start"
        )
    if start < now.astimezone(ZoneInfo(location.time_zone)).date():
        raise SchedulingError("Choose today or a later day.", field="start")
    if (latest_start - start).days > MAX_START_SPAN_DAYS:
        raise SchedulingError(
            f"Give at most {MAX_START_SPAN_DAYS} days between the first and the latest "
            "start.",
            field="latest_start",
        )
    if len({i.plan.pk for i in items}) != len(items):
        raise SchedulingError("Each plan may appear once.", field="plans")
    if any(i.plan.organization_id != location.organization_id for i in items):
        raise SchedulingError(
            "Choose a location of the patients' clinic.", field="location"
        )
    spacings = {availability.spacing_of(i.plan) for i in items}
    if len(spacings) != 1:
        raise SchedulingError(
            "Plan one induction protocol at a time: these plans space their series "
            "differently.",
            field="plans",
        )
    spacing = spacings.pop()
    itype = _infusion_type(location)
    settings = availability.settings_for(location.organization_id)
    tz = ZoneInfo(location.time_zone)
    first_at = datetime.combine(start, time(0), tzinfo=tz)
    last_day = latest_start + timedelta(days=spacing.window_days)
    end_at = datetime.combine(last_day + timedelta(days=1), time(0), tzinfo=tz)
    calendar = availability.calendar_for(location, first_at, end_at)
    # The patients' own visits anywhere in the clinic: their times are not offered to
    # them, and the placement sees them as the booking would (rules: patient_busy).
    held_by_patient = patient_visits(
        [i.plan.patient_id for i in items],
        start=first_at,
        end=end_at,
        exclude_location=location,
    )
    calendar = dataclasses.replace(
        calendar,
        bookings=[
            *calendar.bookings,
            *(b for visits in held_by_patient.values() for b in visits),
        ],
    )
    for b in calendar.bookings:
        mine = held_by_patient.get(b.patient_id)
        if mine is not None and b not in mine:
            mine.append(b)
    resources = availability.resources_at(location)
    step = timedelta(minutes=settings.slot_minutes or 30)
    duration = timedelta(minutes=itype.duration_minutes)
    turnover = timedelta(minutes=itype.turnover_minutes)
    rooms = [r.pk for r in resources.rooms if r.kind == itype.room_kind]
    devices = {
        kind: [d.pk for d in resources.devices_by_kind.get(kind, [])]
        for kind in itype.device_kinds
    }
    nurses = [u.pk for u in resources.staff_by_role.get(itype.staff_role, [])]

    days: dict[date, batch.Day] = {}
    at_label: dict[str, datetime] = {}
    local_day_spans: dict[date, list[rules.Interval]] = {}
    for day in availability.local_days(
        location, first_at, end_at - timedelta(seconds=1)
    ):
        spans = availability.opening_intervals(location, [day], resources.hours)
        local_day_spans[day] = spans
        starts: dict[str, list[str]] = {}
        limits: dict[str, int] = {}
        for span in spans:
            near = calendar.around(rules.Interval(span.start, span.end + turnover))
            cells: list[rules.Interval] = []
            at = span.start
            while at < span.end + turnover:
                cells.append(rules.Interval(at, at + step))
                at += step
            for cell in cells:
                key = cell.start.isoformat()
                here = near.around(cell)
                if itype.room_kind:
                    limits[f"room@{key}"] = _free_count(
                        rooms,
                        cell,
                        here,
                        closures=here.room_closures,
                        held_by="room",
                    )
                for kind, pks in devices.items():
                    limits[f"{kind}@{key}"] = _free_count(
                        pks,
                        cell,
                        here,
                        closures=here.device_closures,
                        held_by="device",
                    )
                watch = 0
                for pk in nurses:
                    if not rules._covered(cell, here.shifts.get(pk, [])):
                        continue
                    theirs = [
                        b
                        for b in here.bookings
                        if b.staff_id == pk and b.visit.overlaps(cell)
                    ]
                    if any(not b.is_infusion for b in theirs):
                        continue
                    watch += max(0, here.nurse_max_running - len(theirs))
                limits[f"nurse@{key}"] = watch
            at = span.start
            while at + duration <= span.end:
                visit = rules.Interval(at, at + duration)
                held = rules.Interval(at, at + duration + turnover)
                allowed = (
                    at >= now
                    and not any(visit.overlaps(c) for c in near.location_closures)
                    and (
                        not (itype.is_infusion and near.prescriber_required)
                        or rules._covered(visit, near.prescriber_shifts)
                    )
                )
                if allowed:
                    label = at.isoformat()
                    at_label[label] = at
                    takes = []
                    for cell in cells:
                        key = cell.start.isoformat()
                        if cell.overlaps(held):
                            if itype.room_kind:
                                takes.append(f"room@{key}")
                            takes += [f"{kind}@{key}" for kind in devices]
                        if cell.overlaps(visit):
                            takes.append(f"nurse@{key}")
                    starts[label] = takes
                at += step
        if starts:
            days[day] = batch.Day(starts=starts, limits=limits)

    requests = []
    for item in items:
        wanted = set(item.preferred_times)
        busy = held_by_patient.get(item.plan.patient_id, [])
        requests.append(
            batch.Request(
                key=str(item.plan.pk),
                earliest=start,
                latest_start=latest_start,
                preferred=frozenset(
                    label
                    for label, at in at_label.items()
                    if at.astimezone(tz).time() in wanted
                ),
                blocked=frozenset(
                    (at.astimezone(tz).date(), label)
                    for label, at in at_label.items()
                    if any(
                        b.visit.overlaps(rules.Interval(at, at + duration))
                        for b in busy
                    )
                ),
            )
        )
    result = batch.plan_batch(
        requests, days, spacing, time_limit_s=time_limit_s, workers=workers
    )
    proposal = BatchProposal(
        status=result.status,
        objective=result.objective,
        best_bound=result.best_bound,
        gap=result.gap,
        solve_s=result.wall_s,
        visits=result.visits,
        preferred_met=result.preferred_met,
        finish_days={int(k): v for k, v in result.finish_days.items()},
    )
    if not result.series:
        return proposal
    _place(
        proposal, result, items, itype, calendar, resources, at_label, tz, spacing, now
    )
    return proposal


def _place(
    proposal: BatchProposal,
    result: batch.BatchResult,
    items: Sequence[BatchItem],
    itype: AppointmentType,
    calendar: rules.Calendar,
    resources: availability.Resources,
    at_label: dict[str, datetime],
    tz: ZoneInfo,
    spacing: rules.SeriesSpacing,
    now: datetime,
) -> None:
    """Give each visit a room, nurse and devices with the booking rules, in start order
    (each sees those placed before it). A series with a visit the rules refuse is left
    out, with the reason."""
    by_plan = {i.plan.pk: i.plan for i in items}
    visits = sorted(
        (at_label[label], int(key), n)
        for key, chosen in result.series.items()
        for n, (_day, label) in enumerate(chosen, start=1)
    )
    choices: dict[tuple[int, int], availability.Choice] = {}
    # One calendar a local day, holding what the visits placed so far hold.
    day_calendars: dict[date, rules.Calendar] = {}
    placed: dict[date, list[rules.Booking]] = {}
    for at, plan_id, n in visits:
        if plan_id in proposal.unplaced:
            continue
        day = at.astimezone(tz).date()
        if day not in day_calendars:
            begins = datetime.combine(day, time(0), tzinfo=tz)
            day_calendars[day] = calendar.around(
                rules.Interval(
                    begins - timedelta(hours=6), begins + timedelta(hours=30)
                )
            )
        here = day_calendars[day]
        found = availability.choose_resources(
            itype,
            patient_id=by_plan[plan_id].patient_id,
            starts_at=at,
            calendar=dataclasses.replace(
                here, bookings=[*here.bookings, *placed.get(day, [])]
            ),
            resources=resources,
            now=now,
        )
        if isinstance(found, availability.Choice):
            choices[(plan_id, n)] = found
            placed.setdefault(day, []).append(found.booking)
        else:
            proposal.unplaced[plan_id] = (
                f"Infusion {n} ({at.astimezone(tz):%a %d %b %H:%M}): "
                + (found[0].message if found else "nothing free")
            )
    for key, chosen in result.series.items():
        plan_id = int(key)
        if plan_id in proposal.unplaced:
            continue
        first = at_label[chosen[0][1]].astimezone(tz).date()
        out = []
        for n, (_day, label) in enumerate(chosen, start=1):
            choice = choices[(plan_id, n)]
            local = at_label[label].astimezone(tz)
            out.append(
                ProposedVisit(
                    starts_at=at_label[label],
                    local_label=f"{local:%a %d %b %H:%M}",
                    room=choice.room.name if choice.room else "",
                    staff=choice.staff.get_full_name() if choice.staff else "",
                    devices=[d.name for d in choice.devices],
                    reason=(
                        f"infusion {n} of {spacing.count}, week "
                        f"{rules.week_of(first, local.date()) + 1}; planned with the "
                        "other new patients"
                    ),
                    local_at=local,
                )
            )
        proposal.series[plan_id] = out


def waiting_plans(
    plans: "QuerySet[TreatmentPlan]", *, limit: int = 500
) -> list[TreatmentPlan]:
    """Of these plans, those whose induction series is still to book: active, a signed
    induction order, no induction infusion given and none booked. Oldest plan first."""
    booked = Appointment.objects.filter(
        status__in=Appointment.HOLDING,
        appointment_type__code=AppointmentType.Code.INFUSION,
        plan__isnull=False,
    ).values("plan_id")
    candidates = (
        plans.filter(
            status=TreatmentPlan.Status.ACTIVE,
            induction_completed_at__isnull=True,
            orders__kind=InfusionOrder.Kind.INDUCTION,
            orders__status=InfusionOrder.Status.ACTIVE,
        )
        .exclude(pk__in=booked)
        .select_related("patient", "induction_protocol")
        .distinct()
        .order_by("created_at", "id")
    )
    return [p for p in candidates[: limit * 2] if not p.induction_dates][:limit]


@dataclass
class BatchBooking:
    booked: dict[int, Series] = field(default_factory=dict)  # plan id ->
    refused: dict[int, str] = field(default_factory=dict)  # plan id -> why


def book_batch(
    proposal: BatchProposal,
    plans: Sequence[TreatmentPlan],
    *,
    location: Location,
    now: datetime | None = None,
    by: User,
) -> BatchBooking:
    """Book the accepted plans' proposed series, each through `series.book_series` in its
    own transaction (all its visits or none): one that can no longer be booked (a time
    taken since) is reported and the others still book."""
    done = BatchBooking()
    for plan in plans:
        visits = proposal.series.get(plan.pk)
        if not visits:
            done.refused[plan.pk] = proposal.unplaced.get(
                plan.pk, "No series was proposed for this patient."
            )
            continue
        try:
            done.booked[plan.pk] = book_series(
                plan,
                location=location,
                starts=[v.starts_at for v in visits],
                now=now,
                by=by,
            )
        except SchedulingError as exc:
            done.refused[plan.pk] = exc.message
    return done
