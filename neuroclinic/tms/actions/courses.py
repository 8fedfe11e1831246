"""The prescriber's TMS course order (the sessions it needs booked: reads.sessions_to_book)."""

from datetime import date, datetime
from decimal import Decimal

from django.db import transaction

from neuroclinic.accounts.models import User
from neuroclinic.audit.models import AuditEvent
from neuroclinic.audit.record import record
from neuroclinic.clinics.models import Location
from neuroclinic.patients.models import Patient
from neuroclinic.tms import course_plan, protocols, reads
from neuroclinic.tms.actions.common import now_or
from neuroclinic.tms.errors import TmsError
from neuroclinic.tms.models import TmsCourse


@transaction.atomic
def order_course(
    patient: Patient,
    *,
    protocol_code: str,
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
    """A course needs a cleared safety screen; its intensity is checked against the protocol."""
    try:
        parameters = protocols.protocol(protocol_code)
    except protocols.ProtocolError as exc:
        raise TmsError(exc.message, field=exc.field) from None
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
        protocol_code=parameters.code,
        protocol_name=parameters.name,
        parameters=protocols.snapshot(parameters),
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
        protocol=parameters.code,
        sessions=len(plan),
    )
    return course
