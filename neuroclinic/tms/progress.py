"""TMS sessions marked on the questionnaire trajectories (measures reads this by name)."""

from neuroclinic.measures.trajectory import TrajectoryEvent
from neuroclinic.patients.models import Patient
from neuroclinic.tms.models import TmsCourse, TmsSession


def _events(sessions: list[TmsSession]) -> list[TrajectoryEvent]:
    # One mark per treatment day, labelled with the day's first session number.
    marks: dict[object, TrajectoryEvent] = {}
    for s in sessions:
        day = s.started_at.date()
        if day not in marks:
            marks[day] = TrajectoryEvent(on=day, label=f"TMS {s.number}")
    return list(marks.values())


def trajectory_events(patient: Patient) -> list[TrajectoryEvent]:
    return _events(
        list(TmsSession.objects.filter(patient=patient).order_by("started_at", "id"))
    )


def course_events(course: TmsCourse) -> list[TrajectoryEvent]:
    return _events(list(course.sessions.order_by("started_at", "id")))
