"""Missed session days and the make-up rule.

A planned day the patient did not come is recorded with its reason. Made up, the rest
of the course moves one weekday on, so the make-up is at the end of its phase (acute or
taper); not made up, that day's session is dropped from the course. Up to the protocol's
`max_makeup_sessions` days are made up [D]; the questionnaires due under the course move
with the plan. Accelerated protocols re-book a day through the calendar instead.
"""

from datetime import date, datetime

from django.db import transaction

from neuroclinic.accounts.models import User
from neuroclinic.audit.models import AuditEvent
from neuroclinic.audit.record import record
from neuroclinic.tms import reads
from neuroclinic.tms.actions.common import lock_course, now_or
from neuroclinic.tms.actions.courses import schedule_course_measures
from neuroclinic.tms.errors import TmsError
from neuroclinic.tms.models import MissedSession, TmsCourse


@transaction.atomic
def record_missed_session(
    course: TmsCourse,
    *,
    planned_on: date,
    reason: str,
    detail: str = "",
    make_up: bool,
    now: datetime | None = None,
    by: User,
) -> MissedSession:
    course = lock_course(course)
    parameters = reads.parameters_of(course)
    if parameters.is_accelerated:
        raise TmsError(
            "On an accelerated protocol a missed day is re-booked through the calendar."
        )
    errors: dict[str, list[str]] = {}
    if reason not in MissedSession.Reason.values:
        errors["reason"] = ["Choose why the session was missed."]
    elif reason == MissedSession.Reason.OTHER and not detail.strip():
        errors["detail"] = ["Say why the session was missed."]
    if errors:
        raise TmsError(next(iter(errors.values()))[0], errors=errors)
    at = now_or(now)
    if planned_on > reads.local_date(course, at):
        raise TmsError(
            "A missed session is recorded on the day or after it.", field="planned_on"
        )
    missed = reads.missed_sessions(course)
    if missed and planned_on <= missed[-1].planned_on:
        raise TmsError(
            f"Missed days are recorded in order: {missed[-1].planned_on:%Y-%m-%d} is "
            "already recorded, so this one must be later.",
            field="planned_on",
        )
    plan = reads.sessions_to_book(course, missed=missed)
    planned = next((p for p in plan if p.on == planned_on), None)
    if planned is None:
        raise TmsError(
            f"{planned_on:%Y-%m-%d} is not a planned session day of this course.",
            field="planned_on",
        )
    if any(
        reads.local_date(course, s.started_at) == planned_on
        for s in course.sessions.all()
    ):
        raise TmsError(
            f"A session was given on {planned_on:%Y-%m-%d}.", field="planned_on"
        )
    made_up = sum(1 for m in missed if m.made_up)
    if make_up and made_up >= parameters.max_makeup_sessions:
        raise TmsError(
            f"This course has had its {parameters.max_makeup_sessions} make-up "
            "session(s), the protocol's limit: record the day as not made up.",
            field="make_up",
        )
    row = MissedSession.objects.create(
        course=course,
        patient=course.patient,
        planned_on=planned_on,
        phase=planned.phase.value,
        reason=reason,
        detail=detail.strip()[:300],
        made_up=make_up,
        recorded_by=by,
        recorded_at=at,
    )
    record(
        AuditEvent.Action.TMS_SESSION_MISSED,
        actor=by,
        patient=course.patient,
        subject=course,
        planned_on=planned_on.isoformat(),
        made_up=make_up,
    )
    schedule_course_measures(course, by=by)
    return row
