"""What the TMS pages, API and actions read: the current screen, threshold, hold and progress."""

import uuid
import zoneinfo
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.apps import apps as django_apps
from django.db.models import QuerySet

from neuroclinic.clinics.models import Device, Location
from neuroclinic.patients.models import Medication, Patient
from neuroclinic.tms import course_plan, intensity, protocols, threshold_medicines
from neuroclinic.tms.models import (
    AdverseEvent,
    MissedSession,
    MotorThreshold,
    SafetyScreen,
    SeizureEvent,
    SeizureReview,
    TmsCourse,
    TmsSession,
)


def latest_screen(patient: Patient) -> SafetyScreen | None:
    return (
        SafetyScreen.objects.filter(patient=patient)
        .select_related("decision")
        .order_by("-screened_at", "-id")
        .first()
    )


def latest_threshold(patient: Patient) -> MotorThreshold | None:
    return (
        MotorThreshold.objects.filter(patient=patient)
        .select_related("operator", "supervising_physician", "device")
        .order_by("-recorded_at", "-id")
        .first()
    )


def max_output_percent(threshold: MotorThreshold | None) -> int:
    """The highest output the unit allows, in % of its machine output.

    A motor threshold is in % of the output of the machine it was found on, so the
    treatment intensity built on it is set on that unit and checked against its
    limit; a threshold recorded without a unit is checked against 100 %.
    """
    if threshold is None or threshold.device is None:
        return intensity.DEVICE_MAX_OUTPUT_PERCENT
    return threshold.device.max_output_percent


def tms_units(organization_id: int) -> QuerySet[Device]:
    """The clinic's active TMS units: the ones a session may run on."""
    return (
        Device.objects.filter(
            kind=Device.Kind.TMS_UNIT,
            is_active=True,
            location__organization_id=organization_id,
        )
        .select_related("location", "room")
        .order_by("location__name", "name", "id")
    )


def _appointments() -> Any:
    # The calendar sits above TMS (docs/architecture.md), so its model is read through
    # the app registry, never imported; TMS only reads it (docs/tms.md, "The session's unit").
    return django_apps.get_model("scheduling", "Appointment")


def booked_appointment(
    course: TmsCourse, *, at: datetime, appointment: uuid.UUID | None = None
) -> Any | None:
    """The calendar visit a session of this course is opened for: the one named (it must be
    a still-booked visit of this course), else the course's booked visit today (in the
    clinic's time zone) starting nearest to `at`; None when there is none."""
    model = _appointments()
    booked = model.objects.filter(tms_course=course, status__in=model.HOLDING)
    if appointment is not None:
        return booked.filter(uuid=appointment).first()
    zone = zoneinfo.ZoneInfo(course.location.time_zone)
    day_start = datetime.combine(at.astimezone(zone).date(), time.min, tzinfo=zone)
    today = list(
        booked.filter(
            starts_at__gte=day_start, starts_at__lt=day_start + timedelta(days=1)
        ).order_by("starts_at", "id")
    )
    if not today:
        return None
    return min(today, key=lambda a: abs((a.starts_at - at).total_seconds()))


def booked_unit(
    course: TmsCourse, *, at: datetime, appointment: uuid.UUID | None = None
) -> Device | None:
    """The TMS unit the calendar booked for the visit (booked_appointment), when it booked
    exactly one that is still an active TMS unit of the clinic."""
    visit = booked_appointment(course, at=at, appointment=appointment)
    if visit is None:
        return None
    units = list(
        tms_units(course.organization_id).filter(
            pk__in=visit.devices.values_list("pk", flat=True)
        )[:2]
    )
    return units[0] if len(units) == 1 else None


def default_unit(
    course: TmsCourse,
    threshold: MotorThreshold | None,
    *,
    at: datetime | None = None,
    appointment: uuid.UUID | None = None,
) -> Device | None:
    """The unit a session is offered on: the one the calendar booked for the visit
    (booked_unit, when `at` is given); else the one its motor threshold was found on (the
    threshold is in % of that unit's output), when it is still an active unit of the
    clinic; else the only active unit in the course location's rooms; else none, and
    the technician chooses (docs/tms.md, "The session's unit")."""
    if at is not None:
        booked = booked_unit(course, at=at, appointment=appointment)
        if booked is not None:
            return booked
    units = list(tms_units(course.organization_id))
    if threshold is not None and threshold.device_id is not None:
        for unit in units:
            if unit.pk == threshold.device_id:
                return unit
    here = [u for u in units if u.location_id == course.location_id]
    return here[0] if len(here) == 1 else None


def default_unit_at(location: Location) -> Device | None:
    """The only active TMS unit at a location, if it has exactly one."""
    here = list(tms_units(location.organization_id).filter(location=location)[:2])
    return here[0] if len(here) == 1 else None


def session_max_output_percent(session: TmsSession) -> int:
    """The limit every intensity of this session is checked against: its unit's (a
    session recorded before units were, the threshold's unit's)."""
    if session.device_id is not None:
        device = Device.objects.only("max_output_percent").get(pk=session.device_id)
        return device.max_output_percent
    return max_output_percent(session.threshold)


@dataclass(frozen=True)
class RethresholdPrompt:
    """A chart medication change since the latest motor threshold that can move it (T8c)."""

    medication: str
    change: str  # "started" or "stopped"
    at: datetime
    classes: tuple[str, ...]

    @property
    def text(self) -> str:
        return (
            f"{self.medication} ({', '.join(self.classes)}) {self.change} "
            f"{self.at:%Y-%m-%d}"
        )


def rethreshold_prompts(
    patient: Patient, *, latest: MotorThreshold | None = None
) -> list[RethresholdPrompt]:
    """Medication changes in the chart after the latest threshold that can move it.

    A medicine started or stopped (a dose change is a stop and a new entry) after the
    threshold was recorded; entries ended as entered in error are not changes. Empty
    when no threshold is on file (the first determination is asked for anyway).
    `latest`: the patient's latest threshold when the caller has just read it
    (latest_threshold), so it is not read twice.
    """
    if latest is None:
        latest = latest_threshold(patient)
    if latest is None:
        return []
    since = latest.recorded_at
    prompts: list[RethresholdPrompt] = []
    for med in Medication.objects.filter(patient=patient).exclude(
        end_reason=Medication.EndReason.ENTERED_IN_ERROR
    ):
        classes = threshold_medicines.threshold_classes(med.name)
        if not classes:
            continue
        name = str(med)
        if med.recorded_at > since:
            prompts.append(RethresholdPrompt(name, "started", med.recorded_at, classes))
        if med.ended_at is not None and med.ended_at > since:
            prompts.append(RethresholdPrompt(name, "stopped", med.ended_at, classes))
    return sorted(prompts, key=lambda p: p.at)


def unreviewed_seizures(course: TmsCourse) -> QuerySet[SeizureEvent]:
    return SeizureEvent.objects.filter(course=course, review__isnull=True)


def is_stopped(course: TmsCourse) -> bool:
    return SeizureReview.objects.filter(
        seizure__course=course, decision=SeizureReview.Decision.STOP
    ).exists()


def parameters_of(course: TmsCourse) -> protocols.ProtocolParameters:
    """The protocol as ordered (the snapshot on the course), not today's defaults."""
    return protocols.from_snapshot(course.parameters)


def local_date(course: TmsCourse, at: datetime) -> date:
    return at.astimezone(zoneinfo.ZoneInfo(course.location.time_zone)).date()


@dataclass(frozen=True)
class Progress:
    delivered: int  # sessions that ended (completed or early)
    total: int  # as planned now: made-up days keep it, days not made up lower it
    open_session: TmsSession | None
    on_hold: bool
    stopped: bool
    phase: str = course_plan.Phase.ACUTE.value  # of the next (or open) session
    missed: int = 0
    made_up: int = 0
    makeup_limit: int = 0

    @property
    def label(self) -> str:
        if self.delivered >= self.total:
            return f"Course complete ({self.delivered} of {self.total})"
        taper = " (taper)" if self.phase == course_plan.Phase.TAPER else ""
        return f"Session {self.delivered + 1} of {self.total}{taper}"

    @property
    def finished(self) -> bool:
        return self.delivered >= self.total


def progress(course: TmsCourse) -> Progress:
    sessions = list(course.sessions.all())
    ended = [s for s in sessions if not s.is_open]
    open_session = next((s for s in sessions if s.is_open), None)
    missed = missed_sessions(course)
    plan = sessions_to_book(course, missed=missed)
    # The open session, or the next one, is number len(ended) + 1.
    phase = (
        plan[min(len(ended), len(plan) - 1)].phase if plan else course_plan.Phase.ACUTE
    )
    return Progress(
        delivered=len(ended),
        total=len(plan),
        open_session=open_session,
        on_hold=unreviewed_seizures(course).exists(),
        stopped=is_stopped(course),
        phase=phase.value,
        missed=len(missed),
        made_up=sum(1 for m in missed if m.made_up),
        makeup_limit=parameters_of(course).max_makeup_sessions,
    )


def missed_sessions(course: TmsCourse) -> list[MissedSession]:
    return list(
        MissedSession.objects.filter(course=course)
        .select_related("recorded_by")
        .order_by("planned_on", "id")
    )


def active_course(patient: Patient) -> TmsCourse | None:
    return (
        TmsCourse.objects.filter(patient=patient)
        .select_related("location", "patient", "ordered_by")
        .order_by("-ordered_at", "-id")
        .first()
    )


def sessions_to_book(
    course: TmsCourse, *, missed: list[MissedSession] | None = None
) -> list[course_plan.PlannedSession]:
    """The seam to scheduling (issue 9): every planned session of the course, by day and slot.

    Missed days are in it: a made-up day moves the rest on, a day not made up drops its
    session. The scheduling app books each against the TMS room, unit and technician;
    it reads this list and writes nothing here. docs/tms.md says how they connect.
    """
    rows = missed_sessions(course) if missed is None else missed
    return course_plan.planned_sessions(
        parameters_of(course),
        start=course.start_date,
        acute_sessions=course.acute_sessions,
        taper=course.taper,
        missed=[(m.planned_on, m.made_up) for m in rows],
    )


def ended_sessions(courses: list[TmsCourse]) -> list[int]:
    """The course id of every ended session of these courses (one query)."""
    return list(
        TmsSession.objects.filter(course__in=courses)
        .exclude(status=TmsSession.Status.IN_PROGRESS)
        .values_list("course_id", flat=True)
    )


def missed_by_course(courses: list[TmsCourse]) -> dict[int, list[MissedSession]]:
    """Each course's missed days (one query)."""
    found: dict[int, list[MissedSession]] = {}
    for row in MissedSession.objects.filter(course__in=courses).order_by(
        "planned_on", "id"
    ):
        found.setdefault(row.course_id, []).append(row)
    return found


def held_course_ids(courses: list[TmsCourse]) -> set[int]:
    return set(
        SeizureEvent.objects.filter(
            course__in=courses, review__isnull=True
        ).values_list("course_id", flat=True)
    )


def adverse_events(course: TmsCourse) -> QuerySet[AdverseEvent]:
    """The course's adverse-event reports, newest onset first, with their reviews."""
    return AdverseEvent.objects.filter(course=course).select_related(
        "course",
        "session",
        "seizure",
        "recorded_by",
        "review__reviewed_by",
    )


def patient_adverse_events(patient: Patient) -> QuerySet[AdverseEvent]:
    return AdverseEvent.objects.filter(patient=patient).select_related(
        "course", "session", "seizure", "recorded_by", "review__reviewed_by"
    )
