"""What the TMS pages, API and actions read: the current screen, threshold, hold and progress."""

import zoneinfo
from dataclasses import dataclass
from datetime import date, datetime

from django.db.models import QuerySet

from neuroclinic.patients.models import Patient
from neuroclinic.tms import course_plan, protocols
from neuroclinic.tms.models import (
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
    total: int
    open_session: TmsSession | None
    on_hold: bool
    stopped: bool

    @property
    def label(self) -> str:
        if self.delivered >= self.total:
            return f"Course complete ({self.delivered} of {self.total})"
        return f"Session {self.delivered + 1} of {self.total}"

    @property
    def finished(self) -> bool:
        return self.delivered >= self.total


def progress(course: TmsCourse) -> Progress:
    sessions = list(course.sessions.all())
    ended = [s for s in sessions if not s.is_open]
    open_session = next((s for s in sessions if s.is_open), None)
    return Progress(
        delivered=len(ended),
        total=course.total_sessions,
        open_session=open_session,
        on_hold=unreviewed_seizures(course).exists(),
        stopped=is_stopped(course),
    )


def active_course(patient: Patient) -> TmsCourse | None:
    return (
        TmsCourse.objects.filter(patient=patient)
        .select_related("location", "patient", "ordered_by")
        .order_by("-ordered_at", "-id")
        .first()
    )


def sessions_to_book(course: TmsCourse) -> list[course_plan.PlannedSession]:
    """The seam to scheduling (issue 9): every planned session of the course, by day and slot.

    The scheduling app books each against the TMS room, unit and technician; it reads
    this list and writes nothing here. docs/tms.md says how they connect.
    """
    return course_plan.planned_sessions(
        parameters_of(course),
        start=course.start_date,
        acute_sessions=course.acute_sessions,
        taper=course.taper,
    )


def ended_sessions(courses: list[TmsCourse]) -> list[int]:
    """The course id of every ended session of these courses (one query)."""
    return list(
        TmsSession.objects.filter(course__in=courses)
        .exclude(status=TmsSession.Status.IN_PROGRESS)
        .values_list("course_id", flat=True)
    )


def held_course_ids(courses: list[TmsCourse]) -> set[int]:
    return set(
        SeizureEvent.objects.filter(
            course__in=courses, review__isnull=True
        ).values_list("course_id", flat=True)
    )
