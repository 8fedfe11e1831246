"""The prescriber's TMS course order (the sessions it needs booked: reads.sessions_to_book),
and the questionnaires the course makes due through measures."""

import zoneinfo
from datetime import date, datetime, time
from decimal import Decimal

from django.db import transaction

from neuroclinic.accounts.models import User
from neuroclinic.audit.models import AuditEvent
from neuroclinic.audit.record import record
from neuroclinic.clinics.models import Location
from neuroclinic.measures.actions.due_measures import replace_scheduled_measures
from neuroclinic.measures.schedules import Trigger
from neuroclinic.patients.models import Patient
from neuroclinic.tms import course_plan, intensity, protocols, reads
from neuroclinic.tms.actions import protocols as protocol_actions
from neuroclinic.tms.actions.common import now_or
from neuroclinic.tms.errors import TmsError
from neuroclinic.tms.models import TmsCourse, TmsProtocol


def schedule_course_measures(course: TmsCourse, *, by: User | None) -> None:
    """Weekly PHQ-9 and the milestone ratings for the course as planned now (measures' rules).

    Each event falls at the start of a planned day in the clinic's time zone: the course's
    first day, the first session day of each course week, its last day. Called when the
    course is ordered and whenever its plan moves (a missed day); items the new plan no
    longer makes, still due, are withdrawn.
    """
    plan = reads.sessions_to_book(course)
    zone = zoneinfo.ZoneInfo(course.location.time_zone)

    def at(day: date) -> datetime:
        return datetime.combine(day, time(0), tzinfo=zone)

    prefix = f"tms-course:{course.uuid}:"
    if not plan:  # every session dropped: nothing falls due any more
        replace_scheduled_measures(
            course.patient, events=[], event_ref_prefix=prefix, by=by
        )
        return
    events = [(Trigger.TMS_COURSE_START, at(plan[0].on), prefix + "start")]
    events += [
        (Trigger.TMS_COURSE_WEEK, at(day), f"{prefix}week-{n}")
        for n, day in enumerate(
            course_plan.week_starts(plan, start=course.start_date), start=1
        )
    ]
    events.append((Trigger.TMS_COURSE_END, at(plan[-1].on), prefix + "end"))
    replace_scheduled_measures(
        course.patient, events=events, event_ref_prefix=prefix, by=by
    )


@transaction.atomic
def order_course(
    patient: Patient,
    *,
    protocol_code: str,
    protocol_version: TmsProtocol | None = None,
    target: str,
    target_detail: str = "",
    percent_of_mt: Decimal | None = None,
    acute_sessions: int,
    taper: bool = False,
    start_date: date,
    location: Location,
    now: datetime | None = None,
    by: User,
) -> TmsCourse:
    """A course needs a cleared safety screen and a signed version of the protocol, the
    newest (`protocol_version`, when given, must be it: an order shown under a version
    that has since been superseded is refused); its intensity is checked against it."""
    version = protocol_actions.latest_signed(patient.organization_id, protocol_code)
    if version is None:
        raise TmsError(
            "The clinic has no signed version of that protocol: the medical director "
            "signs one first.",
            field="protocol",
        )
    if protocol_version is not None and protocol_version.pk != version.pk:
        raise TmsError(
            f"{protocol_version} is not the protocol's current signed version "
            f"({version}): review it and order again.",
            field="protocol_version",
        )
    parameters = protocols.from_snapshot(version.parameters)
    screen = reads.latest_screen(patient)
    if screen is None:
        raise TmsError("No TMS safety screen on file: screen the patient first.")
    if not screen.is_cleared:
        raise TmsError(
            "The latest safety screen is not cleared: "
            + (
                "a device contraindication excludes TMS."
                if screen.outcome == "excluded"
                else "the prescriber's decision on its cautions is needed."
            )
        )
    errors: dict[str, list[str]] = {}
    percent = parameters.percent_of_mt if percent_of_mt is None else percent_of_mt
    if not Decimal(0) < percent <= parameters.max_percent_of_mt:
        errors["percent_of_mt"] = [
            f"Intensity is above 0 and at most {parameters.max_percent_of_mt.normalize():f} % MT "
            f"on {parameters.name}."
        ]
    threshold = reads.latest_threshold(patient)
    if threshold is not None and "percent_of_mt" not in errors:
        # The maximum output of the unit the threshold was found on (T5): an order the
        # stimulator cannot deliver is refused now, not at the first session.
        try:
            intensity.treatment_intensity(
                threshold_percent_output=threshold.value_percent_output,
                percent_of_mt=percent,
                max_percent_of_mt=parameters.max_percent_of_mt,
                device_max_output_percent=reads.max_output_percent(threshold),
            )
        except intensity.IntensityError as exc:
            errors[exc.field] = [exc.message]
    if target not in TmsCourse.Target.values:
        errors["target"] = ["Choose Beam F3, the 5.5 cm rule or neuronavigation."]
    elif target == TmsCourse.Target.NEURONAVIGATION and not target_detail.strip():
        errors["target_detail"] = ["Give the neuronavigation coordinates."]
    if location.organization_id != patient.organization_id:
        errors["location"] = ["Choose one of this clinic's locations."]
    try:
        plan = course_plan.planned_sessions(
            parameters, start=start_date, acute_sessions=acute_sessions, taper=taper
        )
    except protocols.ProtocolError as exc:
        errors.setdefault("acute_sessions", []).append(exc.message)
        plan = []
    if errors:
        raise TmsError(next(iter(errors.values()))[0], errors=errors)
    course = TmsCourse.objects.create(
        organization_id=patient.organization_id,
        patient=patient,
        location=location,
        screen=screen,
        protocol_code=version.code,
        protocol_name=version.name,
        protocol_version=version,
        parameters=dict(version.parameters),
        target=target,
        target_detail=target_detail.strip()[:200],
        percent_of_mt=percent,
        acute_sessions=acute_sessions,
        taper=taper,
        total_sessions=len(plan),
        start_date=start_date,
        ordered_by=by,
        ordered_at=now_or(now),
    )
    record(
        AuditEvent.Action.TMS_COURSE_ORDERED,
        actor=by,
        patient=patient,
        subject=course,
        protocol=version.code,
        protocol_version=version.version,
        sessions=len(plan),
    )
    schedule_course_measures(course, by=by)
    return course
