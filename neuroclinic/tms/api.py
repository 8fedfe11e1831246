"""The TMS API at /api/tms/: screens, thresholds, courses (and their planned sessions, the seam
to scheduling), sessions, the daily check, seizures, and the intensity calculator.

Permission by capability here, in one place (the role first, then the patient: 403, then
404). A refused action answers 422 problem+json naming the field (api_errors); nothing
is written.
"""

from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404, HttpRequest
from ninja import Router, Schema, Status

from neuroclinic.accounts.models import User
from neuroclinic.accounts.roles import Capability
from neuroclinic.api_errors import FieldErrors, problem
from neuroclinic.audit.models import AuditEvent
from neuroclinic.audit.record import record
from neuroclinic.clinics.models import Device, Location
from neuroclinic.tms import intensity, postictal, protocols, reads
from neuroclinic.tms.access import (
    get_adverse_event_for_user,
    get_course_for_user,
    get_patient_for_user,
    get_seizure_for_user,
    get_session_for_user,
)
from neuroclinic.tms.actions import (
    adverse,
    courses,
    missed,
    seizures,
    sessions,
    thresholds,
)
from neuroclinic.tms.actions import protocols as protocol_actions
from neuroclinic.tms.actions import screening as screening_actions
from neuroclinic.tms.errors import TmsError
from neuroclinic.tms.models import (
    AdverseEvent,
    SafetyScreen,
    SeizureEvent,
    TmsCourse,
    TmsProtocol,
    TmsSession,
)

router = Router(tags=["tms"])


def _user(request: HttpRequest, capability: Capability) -> User:
    user = request.user
    assert isinstance(user, User)  # auth= guarantees it
    if not user.can(capability):
        raise PermissionDenied  # the role first: 403 says nothing of a patient
    return user


def _org(user: User) -> int:
    if user.organization_id is None:
        raise PermissionDenied
    return user.organization_id


def _physician(user: User, physician: UUID | None) -> User | None:
    if physician is None:
        return None
    return User.objects.filter(uuid=physician, organization_id=_org(user)).first()


def _device(user: User, device: UUID | None) -> Device | None:
    """One of this clinic's TMS units, or a 422 naming the field."""
    if device is None:
        return None
    found = (
        Device.objects.filter(
            uuid=device,
            kind=Device.Kind.TMS_UNIT,
            location__organization_id=_org(user),
        )
        .select_related("location")
        .first()
    )
    if found is None:
        raise FieldErrors({"device": ["Choose one of this clinic's TMS units."]})
    return found


class ScreenIn(Schema):
    answers: dict[str, bool]


class ScreenOut(Schema):
    id: UUID
    outcome: str
    exclusions: list[str]
    cautions: list[str]


class DecisionIn(Schema):
    cleared: bool
    rationale: str


class ThresholdIn(Schema):
    value_percent_output: int
    observation: str
    procedure: str
    coil: str
    supervising_physician: UUID | None = None
    reason: str = "initial"
    determined_on: date | None = None
    device: UUID | None = None  # the TMS unit it was found on


class ThresholdOut(Schema):
    id: UUID
    value_percent_output: int
    observation: str


class CourseIn(Schema):
    protocol: str  # the protocol's code; the order is under its newest signed version
    # When given, it must be that version: an order reviewed under a version that has
    # since been superseded is refused (422).
    protocol_version: UUID | None = None
    target: str
    target_detail: str = ""
    percent_of_mt: Decimal | None = None
    acute_sessions: int
    taper: bool = False
    start_date: date
    location: UUID


class CourseOut(Schema):
    id: UUID
    protocol: str
    protocol_version: UUID | None
    percent_of_mt: float
    target: str
    total_sessions: int  # as planned now (missed days not made up are dropped)
    sessions_ended: int
    on_hold: bool
    stopped: bool
    progress: str
    phase: str
    missed: int
    made_up: int
    rethreshold_prompts: list[str]


class MissedIn(Schema):
    planned_on: date
    reason: str
    detail: str = ""
    make_up: bool = False


class MissedOut(Schema):
    id: UUID
    planned_on: date
    phase: str
    reason: str
    made_up: bool
    course: CourseOut


class AddendumIn(Schema):
    text: str


class AddendumOut(Schema):
    id: UUID
    session: UUID
    text: str
    written_at: Any


class PlannedOut(Schema):
    number: int
    on: date
    phase: str
    slot_in_day: int
    earliest_offset_minutes: int


class SessionIn(Schema):
    daily_check: dict[str, bool] = {}
    supervising_physician: UUID | None = None
    trains: int | None = None
    # The TMS unit it runs on (an active unit of the clinic); left out, the unit the
    # threshold was found on, else the only one at the course's location (docs/tms.md).
    device: UUID | None = None
    # The calendar visit the session is for: left out, the course's booked visit today
    # nearest now; its booked TMS unit is the default before the threshold's.
    appointment: UUID | None = None


class SessionOut(Schema):
    id: UUID
    number: int
    status: str
    output_percent: int
    percent_of_mt: float
    pulses_planned: int
    pulses_delivered: int | None
    cpt_code: str
    daily_cautions: list[str]
    device: (
        UUID | None
    )  # the unit it ran on (none for sessions before units were recorded)
    max_output_percent: int  # the limit its intensities were checked against


class EndIn(Schema):
    pulses_delivered: int
    trains_delivered: int | None = None
    interruption_reason: str = ""
    interruption_detail: str = ""
    note: str = ""


class IntensityChangeIn(Schema):
    percent_of_mt: Decimal
    reason: str


class SideEffectIn(Schema):
    kind: str
    severity: str
    description: str = ""


class SeizureIn(Schema):
    """Post-ictal vitals are structured (each optional; any vital needs its time)."""

    post_ictal_status: str = ""
    # Free-text vitals are no longer taken: sent, they are refused (422), not dropped.
    vitals: str | None = None
    vitals_taken_at: datetime | None = None
    heart_rate_bpm: int | None = None
    systolic_mmhg: int | None = None
    diastolic_mmhg: int | None = None
    spo2_percent: int | None = None
    consciousness_avpu: str | None = None
    gcs_total: int | None = None
    description: str = ""


class SeizureAfterIn(SeizureIn):
    """A seizure after the last session ended: its onset (with offset) is required."""

    onset_at: datetime
    ended_at: datetime | None = None


class SeizureOut(Schema):
    id: UUID
    course_on_hold: bool
    safety_alert: UUID | None = None
    adverse_event: UUID | None = None


class ReviewIn(Schema):
    decision: str
    note: str


class IntensityIn(Schema):
    threshold_percent_output: int
    percent_of_mt: Decimal
    protocol: str = "rtms-10hz"
    device: UUID | None = None  # the unit's maximum output; 100 % without one


class IntensityOut(Schema):
    output_percent: int
    exact_output_percent: float
    delivered_percent_of_mt: float
    working: str


def _session_out(session: TmsSession) -> dict[str, Any]:
    return {
        "id": session.uuid,
        "number": session.number,
        "status": session.status,
        "output_percent": session.output_percent,
        "percent_of_mt": float(session.percent_of_mt),
        "pulses_planned": session.pulses_planned,
        "pulses_delivered": session.pulses_delivered,
        "cpt_code": session.cpt_code,
        "daily_cautions": session.daily_cautions,
        "device": session.device.uuid if session.device else None,
        "max_output_percent": reads.session_max_output_percent(session),
    }


def _course_out(course: TmsCourse) -> dict[str, Any]:
    progress = reads.progress(course)
    return {
        "id": course.uuid,
        "protocol": course.protocol_code,
        "protocol_version": (
            course.protocol_version.uuid if course.protocol_version else None
        ),
        "percent_of_mt": float(course.percent_of_mt),
        "target": course.target_text,
        "total_sessions": progress.total,
        "sessions_ended": progress.delivered,
        "on_hold": progress.on_hold,
        "stopped": progress.stopped,
        "progress": progress.label,
        "phase": progress.phase,
        "missed": progress.missed,
        "made_up": progress.made_up,
        "rethreshold_prompts": [
            p.text for p in reads.rethreshold_prompts(course.patient)
        ],
    }


@router.post("/tms/patients/{patient_id}/screens", response={201: ScreenOut})
def record_screen(request: HttpRequest, patient_id: UUID, payload: ScreenIn) -> Any:
    """The pre-course safety screen: every IFCN topic answered true or false."""
    user = _user(request, Capability.RUN_TMS)
    patient = get_patient_for_user(user, patient_id, capability=Capability.RUN_TMS)
    screen = screening_actions.record_screen(patient, answers=payload.answers, by=user)
    return Status(
        201,
        {
            "id": screen.uuid,
            "outcome": screen.outcome,
            "exclusions": screen.exclusions,
            "cautions": screen.cautions,
        },
    )


@router.post("/tms/screens/{screen_id}/decision", response={201: ScreenOut})
def decide_screen(request: HttpRequest, screen_id: UUID, payload: DecisionIn) -> Any:
    user = _user(request, Capability.ORDER_TMS)
    screen = SafetyScreen.objects.filter(
        uuid=screen_id, organization_id=_org(user)
    ).first()
    if screen is None:
        raise Http404("No such screen.")
    screening_actions.decide_screen(
        screen, cleared=payload.cleared, rationale=payload.rationale, by=user
    )
    return Status(
        201,
        {
            "id": screen.uuid,
            "outcome": screen.outcome,
            "exclusions": screen.exclusions,
            "cautions": screen.cautions,
        },
    )


@router.post("/tms/patients/{patient_id}/thresholds", response={201: ThresholdOut})
def record_threshold(
    request: HttpRequest, patient_id: UUID, payload: ThresholdIn
) -> Any:
    """A motor threshold: 1-100 % of machine output, with method, coil and supervising physician."""
    user = _user(request, Capability.RUN_TMS)
    patient = get_patient_for_user(user, patient_id, capability=Capability.RUN_TMS)
    threshold = thresholds.record_threshold(
        patient,
        value_percent_output=payload.value_percent_output,
        observation=payload.observation,
        procedure=payload.procedure,
        coil=payload.coil,
        supervising_physician=_physician(user, payload.supervising_physician),
        reason=payload.reason,
        determined_on=payload.determined_on,
        device=_device(user, payload.device),
        by=user,
    )
    return Status(
        201,
        {
            "id": threshold.uuid,
            "value_percent_output": threshold.value_percent_output,
            "observation": threshold.observation,
        },
    )


@router.post("/tms/patients/{patient_id}/courses", response={201: CourseOut})
def order_course(request: HttpRequest, patient_id: UUID, payload: CourseIn) -> Any:
    """A prescriber's course order; refused without a cleared safety screen."""
    user = _user(request, Capability.ORDER_TMS)
    patient = get_patient_for_user(user, patient_id, capability=Capability.ORDER_TMS)
    location = Location.objects.filter(
        uuid=payload.location, organization_id=_org(user)
    ).first()
    if location is None:
        raise FieldErrors({"location": ["Choose one of this clinic's locations."]})
    version = None
    if payload.protocol_version is not None:
        version = TmsProtocol.objects.filter(
            uuid=payload.protocol_version, organization_id=_org(user)
        ).first()
        if version is None:
            raise FieldErrors(
                {"protocol_version": ["Not one of this clinic's protocol versions."]}
            )
    course = courses.order_course(
        patient,
        protocol_code=payload.protocol,
        protocol_version=version,
        target=payload.target,
        target_detail=payload.target_detail,
        percent_of_mt=payload.percent_of_mt,
        acute_sessions=payload.acute_sessions,
        taper=payload.taper,
        start_date=payload.start_date,
        location=location,
        by=user,
    )
    return Status(201, _course_out(course))


@router.get("/tms/courses/{course_id}", response=CourseOut)
def course_detail(request: HttpRequest, course_id: UUID) -> Any:
    user = _user(request, Capability.VIEW_TMS)
    course = get_course_for_user(user, course_id, capability=Capability.VIEW_TMS)
    with transaction.atomic():
        record(
            AuditEvent.Action.TMS_COURSE_VIEWED,
            actor=user,
            patient=course.patient,
            subject=course,
            page="api",
        )
    return _course_out(course)


@router.get("/tms/courses/{course_id}/planned-sessions", response=list[PlannedOut])
def planned_sessions(request: HttpRequest, course_id: UUID) -> Any:
    """Every session the course needs, by day and slot: what the calendar books."""
    user = _user(request, Capability.VIEW_TMS)
    course = get_course_for_user(user, course_id, capability=Capability.VIEW_TMS)
    return [
        {
            "number": p.number,
            "on": p.on,
            "phase": p.phase.value,
            "slot_in_day": p.slot_in_day,
            "earliest_offset_minutes": p.earliest_offset_minutes,
        }
        for p in reads.sessions_to_book(course)
    ]


@router.post("/tms/courses/{course_id}/missed-sessions", response={201: MissedOut})
def record_missed(request: HttpRequest, course_id: UUID, payload: MissedIn) -> Any:
    """A missed planned day: made up at the end of its phase (within the limit) or dropped."""
    user = _user(request, Capability.RUN_TMS)
    course = get_course_for_user(user, course_id, capability=Capability.RUN_TMS)
    row = missed.record_missed_session(
        course,
        planned_on=payload.planned_on,
        reason=payload.reason,
        detail=payload.detail,
        make_up=payload.make_up,
        by=user,
    )
    return Status(
        201,
        {
            "id": row.uuid,
            "planned_on": row.planned_on,
            "phase": row.phase,
            "reason": row.reason,
            "made_up": row.made_up,
            "course": _course_out(course),
        },
    )


@router.post("/tms/sessions/{session_id}/addenda", response={201: AddendumOut})
def add_addendum(request: HttpRequest, session_id: UUID, payload: AddendumIn) -> Any:
    """An addendum to a signed session note (the note never changes)."""
    user = _user(request, Capability.RUN_TMS)
    session = get_session_for_user(user, session_id, capability=Capability.RUN_TMS)
    addendum = sessions.add_addendum(session, text=payload.text, by=user)
    return Status(
        201,
        {
            "id": addendum.uuid,
            "session": session.uuid,
            "text": addendum.text,
            "written_at": addendum.written_at,
        },
    )


@router.post("/tms/courses/{course_id}/sessions", response={201: SessionOut})
def start_session(request: HttpRequest, course_id: UUID, payload: SessionIn) -> Any:
    """The daily pre-session check and the start: hard stops, hold, screen and intensity refusals."""
    user = _user(request, Capability.RUN_TMS)
    course = get_course_for_user(user, course_id, capability=Capability.RUN_TMS)
    session = sessions.start_session(
        course,
        daily_check=payload.daily_check,
        supervising_physician=_physician(user, payload.supervising_physician),
        trains=payload.trains,
        device=_device(user, payload.device),
        appointment=payload.appointment,
        by=user,
    )
    return Status(201, _session_out(session))


@router.post("/tms/sessions/{session_id}/intensity", response={201: SessionOut})
def change_intensity(
    request: HttpRequest, session_id: UUID, payload: IntensityChangeIn
) -> Any:
    """A change during the session (e.g. a tolerability ramp-up): never above the order,
    the protocol's maximum % MT or the device's maximum output."""
    user = _user(request, Capability.RUN_TMS)
    session = get_session_for_user(user, session_id, capability=Capability.RUN_TMS)
    sessions.change_intensity(
        session, percent_of_mt=payload.percent_of_mt, reason=payload.reason, by=user
    )
    session.refresh_from_db()
    return Status(201, _session_out(session))


@router.post("/tms/sessions/{session_id}/side-effects", response={201: SessionOut})
def side_effect(request: HttpRequest, session_id: UUID, payload: SideEffectIn) -> Any:
    user = _user(request, Capability.RUN_TMS)
    session = get_session_for_user(user, session_id, capability=Capability.RUN_TMS)
    sessions.record_side_effect(
        session,
        kind=payload.kind,
        severity=payload.severity,
        description=payload.description,
        by=user,
    )
    return Status(201, _session_out(session))


@router.post("/tms/sessions/{session_id}/end", response=SessionOut)
def end_session(request: HttpRequest, session_id: UUID, payload: EndIn) -> Any:
    """Pulses delivered (never above planned); fewer needs the interruption reason."""
    user = _user(request, Capability.RUN_TMS)
    session = get_session_for_user(user, session_id, capability=Capability.RUN_TMS)
    ended = sessions.end_session(
        session,
        pulses_delivered=payload.pulses_delivered,
        trains_delivered=payload.trains_delivered,
        interruption_reason=payload.interruption_reason,
        interruption_detail=payload.interruption_detail,
        note=payload.note,
        by=user,
    )
    return _session_out(ended)


def _post_ictal(payload: SeizureIn) -> postictal.PostIctal:
    """The structured post-ictal vitals; free text and a time without offset refused."""
    if payload.vitals:
        raise TmsError(
            "Post-ictal vitals are structured: send heart_rate_bpm, systolic_mmhg, "
            "diastolic_mmhg, spo2_percent, consciousness_avpu, gcs_total and "
            "vitals_taken_at.",
            field="vitals",
        )
    _require_offset(payload.vitals_taken_at, "vitals_taken_at")
    return postictal.PostIctal(
        heart_rate_bpm=payload.heart_rate_bpm,
        systolic_mmhg=payload.systolic_mmhg,
        diastolic_mmhg=payload.diastolic_mmhg,
        spo2_percent=payload.spo2_percent,
        consciousness_avpu=payload.consciousness_avpu,
        gcs_total=payload.gcs_total,
        taken_at=payload.vitals_taken_at,
    )


def _require_offset(moment: datetime | None, field: str) -> None:
    if moment is not None and moment.tzinfo is None:
        raise TmsError(
            "Give the time with its offset (e.g. 2026-12-07T10:42:00Z).", field=field
        )


def _seizure_out(event: SeizureEvent) -> Status[dict[str, Any]]:
    return Status(
        201,
        {
            "id": event.uuid,
            "course_on_hold": True,
            "safety_alert": event.safety_alert.uuid if event.safety_alert else None,
            "adverse_event": event.adverse_event.uuid,
        },
    )


@router.post("/tms/sessions/{session_id}/seizure", response={201: SeizureOut})
def seizure(request: HttpRequest, session_id: UUID, payload: SeizureIn) -> Any:
    """Stops the session, notifies the supervising physician, holds the course."""
    user = _user(request, Capability.RUN_TMS)
    session = get_session_for_user(user, session_id, capability=Capability.RUN_TMS)
    event = seizures.record_seizure(
        session,
        post_ictal_status=payload.post_ictal_status,
        vitals=_post_ictal(payload),
        description=payload.description,
        by=user,
    )
    return _seizure_out(event)


@router.post(
    "/tms/courses/{course_id}/seizure-after-session", response={201: SeizureOut}
)
def seizure_after_session(
    request: HttpRequest, course_id: UUID, payload: SeizureAfterIn
) -> Any:
    """A seizure after the course's last session ended: the same alert, report and hold
    (the session is not changed); refused while a session runs or once recorded."""
    user = _user(request, Capability.RUN_TMS)
    course = get_course_for_user(user, course_id, capability=Capability.RUN_TMS)
    _require_offset(payload.onset_at, "onset_at")
    _require_offset(payload.ended_at, "ended_at")
    event = seizures.record_seizure_after_session(
        course,
        onset_at=payload.onset_at,
        ended_at=payload.ended_at,
        post_ictal_status=payload.post_ictal_status,
        vitals=_post_ictal(payload),
        description=payload.description,
        by=user,
    )
    return _seizure_out(event)


@router.post("/tms/seizures/{seizure_id}/review", response={201: SeizureOut})
def review(request: HttpRequest, seizure_id: UUID, payload: ReviewIn) -> Any:
    user = _user(request, Capability.ORDER_TMS)
    event = get_seizure_for_user(user, seizure_id, capability=Capability.ORDER_TMS)
    seizures.review_seizure(
        event, decision=payload.decision, note=payload.note, by=user
    )
    return Status(
        201,
        {
            "id": event.uuid,
            "course_on_hold": reads.unreviewed_seizures(event.course).exists(),
        },
    )


class AdverseEventIn(Schema):
    kind: str
    session: UUID | None = None  # a session of the course, when it happened in one
    description: str = ""
    severity: str
    serious: bool = False
    seriousness: list[str] = []
    onset_at: datetime
    action_taken: str
    outcome: str


class AdverseEventReviewOut(Schema):
    causality: str
    outcome: str
    note: str
    reviewed_by: str
    reviewed_at: datetime
    content_sha256: str


class AdverseEventOut(Schema):
    id: UUID
    course: UUID
    session: UUID | None
    seizure: UUID | None
    kind: str
    description: str
    severity: str
    serious: bool
    seriousness: list[str]
    onset_at: datetime
    action_taken: str
    outcome: str
    recorded_by: str
    recorded_at: datetime
    review: AdverseEventReviewOut | None


class AdverseEventReviewIn(Schema):
    causality: str
    outcome: str
    note: str
    password: str


def _name(user: object) -> str:
    full_name = getattr(user, "get_full_name", None)
    return str(full_name()) if callable(full_name) else ""


def _adverse_out(event: AdverseEvent) -> dict[str, Any]:
    review = getattr(event, "review", None)
    return {
        "id": event.uuid,
        "course": event.course.uuid,
        "session": event.session.uuid if event.session else None,
        "seizure": event.seizure.uuid if event.seizure else None,
        "kind": event.kind,
        "description": event.description,
        "severity": event.severity,
        "serious": event.serious,
        "seriousness": list(event.seriousness),
        "onset_at": event.onset_at,
        "action_taken": event.action_taken,
        "outcome": event.outcome,
        "recorded_by": _name(event.recorded_by),
        "recorded_at": event.recorded_at,
        "review": None
        if review is None
        else {
            "causality": review.causality,
            "outcome": review.outcome,
            "note": review.note,
            "reviewed_by": _name(review.reviewed_by),
            "reviewed_at": review.reviewed_at,
            "content_sha256": review.content_sha256,
        },
    }


@router.get("/tms/courses/{course_id}/adverse-events", response=list[AdverseEventOut])
def adverse_event_list(request: HttpRequest, course_id: UUID) -> Any:
    """The course's adverse-event reports, newest onset first, with their reviews."""
    user = _user(request, Capability.VIEW_TMS)
    course = get_course_for_user(user, course_id, capability=Capability.VIEW_TMS)
    with transaction.atomic():
        record(
            AuditEvent.Action.TMS_COURSE_VIEWED,
            actor=user,
            patient=course.patient,
            subject=course,
            page="api-adverse-events",
        )
    return [_adverse_out(e) for e in reads.adverse_events(course)]


@router.post("/tms/courses/{course_id}/adverse-events", response={201: AdverseEventOut})
def adverse_event_file(
    request: HttpRequest, course_id: UUID, payload: AdverseEventIn
) -> Any:
    """File a report (a seizure is recorded with the session's seizure call instead)."""
    user = _user(request, Capability.RUN_TMS)
    course = get_course_for_user(user, course_id, capability=Capability.RUN_TMS)
    session = None
    if payload.session is not None:
        session = course.sessions.filter(uuid=payload.session).first()
        if session is None:
            raise TmsError("That session is not of this course.", field="session")
    if payload.onset_at.tzinfo is None:
        raise TmsError(
            "Give the time with its offset (e.g. 2026-12-07T10:42:00Z).",
            field="onset_at",
        )
    event = adverse.record_adverse_event(
        course,
        session=session,
        kind=payload.kind,
        description=payload.description,
        severity=payload.severity,
        serious=payload.serious,
        seriousness=payload.seriousness,
        onset_at=payload.onset_at,
        action_taken=payload.action_taken,
        outcome=payload.outcome,
        by=user,
    )
    return Status(201, _adverse_out(event))


@router.get("/tms/adverse-events/{event_id}", response=AdverseEventOut)
def adverse_event_detail(request: HttpRequest, event_id: UUID) -> Any:
    user = _user(request, Capability.VIEW_TMS)
    event = get_adverse_event_for_user(user, event_id, capability=Capability.VIEW_TMS)
    with transaction.atomic():
        record(
            AuditEvent.Action.TMS_COURSE_VIEWED,
            actor=user,
            patient=event.patient,
            subject=event.course,
            page="api-adverse-event",
        )
    return _adverse_out(event)


@router.post("/tms/adverse-events/{event_id}/review", response={201: AdverseEventOut})
def adverse_event_review(
    request: HttpRequest, event_id: UUID, payload: AdverseEventReviewIn
) -> Any:
    """A physician's signed review (password): causality, the outcome now, a note."""
    user = _user(request, Capability.ORDER_TMS)
    event = get_adverse_event_for_user(user, event_id, capability=Capability.ORDER_TMS)
    adverse.review_adverse_event(
        event,
        causality=payload.causality,
        outcome=payload.outcome,
        note=payload.note,
        password=payload.password,
        by=user,
    )
    event.refresh_from_db()
    return Status(201, _adverse_out(AdverseEvent.objects.get(pk=event.pk)))


@router.post("/tms/intensity-calculation", response=IntensityOut)
def intensity_calculation(request: HttpRequest, payload: IntensityIn) -> Any:
    """Treatment intensity in % output from the threshold, with the working; stores nothing."""
    user = _user(request, Capability.VIEW_TMS)
    unit = _device(user, payload.device)
    signed = protocol_actions.latest_signed(_org(user), payload.protocol)
    try:
        parameters = (
            protocols.protocol(payload.protocol)
            if signed is None
            else protocols.from_snapshot(signed.parameters)
        )
        dose = intensity.treatment_intensity(
            threshold_percent_output=payload.threshold_percent_output,
            percent_of_mt=payload.percent_of_mt,
            max_percent_of_mt=parameters.max_percent_of_mt,
            device_max_output_percent=(
                intensity.DEVICE_MAX_OUTPUT_PERCENT
                if unit is None
                else unit.max_output_percent
            ),
        )
    except (intensity.IntensityError, protocols.ProtocolError) as exc:
        raise FieldErrors({exc.field: [exc.message]}) from None
    return {
        "output_percent": dose.output_percent,
        "exact_output_percent": float(dose.exact_output_percent),
        "delivered_percent_of_mt": float(dose.delivered_percent_of_mt),
        "working": dose.working,
    }


# Protocol versions ----------------------------------------------------------------


class ProtocolOut(Schema):
    id: UUID
    code: str
    version: int
    name: str
    status: str  # draft, active (the newest signed) or superseded
    parameters: dict[str, Any]
    change_note: str
    signed_by: str | None
    signed_at: datetime | None
    supersedes: UUID | None


class ProtocolDraftIn(Schema):
    code: str | None = None  # a cited default the clinic has no version of yet
    base: UUID | None = None  # or: the next version of this one
    changes: dict[str, Any] = {}
    change_note: str = ""


class ProtocolChangeIn(Schema):
    changes: dict[str, Any]
    change_note: str | None = None


class ProtocolSignIn(Schema):
    password: str


def _protocol_out(version: TmsProtocol) -> dict[str, Any]:
    return {
        "id": version.uuid,
        "code": version.code,
        "version": version.version,
        "name": version.name,
        "status": protocol_actions.status(version),
        "parameters": version.parameters,
        "change_note": version.change_note,
        "signed_by": version.signer_name or None,
        "signed_at": version.signed_at,
        "supersedes": version.supersedes.uuid if version.supersedes else None,
    }


def _protocol(user: User, version_id: UUID) -> TmsProtocol:
    found = (
        TmsProtocol.objects.filter(uuid=version_id, organization_id=_org(user))
        .select_related("signed_by", "supersedes")
        .first()
    )
    if found is None:
        raise Http404("No such protocol.")
    return found


def _signed_refusal(request: HttpRequest, exc: TmsError) -> Any:
    return problem(
        request,
        status=409,
        title="A signed protocol version never changes",
        detail=exc.message,
        errors=[{"field": "__all__", "message": exc.message}],
    )


@router.get("/tms/protocols", response=list[ProtocolOut])
def protocol_list(request: HttpRequest) -> Any:
    """Every version of the clinic's TMS protocols, newest first within each."""
    user = _user(request, Capability.VIEW_TMS)
    return [
        _protocol_out(v)
        for v in TmsProtocol.objects.filter(organization_id=_org(user))
        .select_related("signed_by", "supersedes")
        .order_by("code", "-version")
    ]


@router.get("/tms/protocols/{version_id}", response=ProtocolOut)
def protocol_detail(request: HttpRequest, version_id: UUID) -> Any:
    user = _user(request, Capability.VIEW_TMS)
    return _protocol_out(_protocol(user, version_id))


@router.post("/tms/protocols", response={201: ProtocolOut})
def protocol_draft(request: HttpRequest, payload: ProtocolDraftIn) -> Any:
    """Draft a cited default (`code`) or the next version of a signed one (`base`)."""
    user = _user(request, Capability.MANAGE_PROTOCOLS)
    assert user.organization is not None
    base = None if payload.base is None else _protocol(user, payload.base)
    draft = protocol_actions.draft_protocol(
        user.organization,
        code=payload.code,
        base=base,
        changes=payload.changes,
        change_note=payload.change_note,
        by=user,
    )
    return Status(201, _protocol_out(draft))


@router.patch(
    "/tms/protocols/{version_id}", response={200: ProtocolOut, 409: dict[str, Any]}
)
def protocol_change(
    request: HttpRequest, version_id: UUID, payload: ProtocolChangeIn
) -> Any:
    """Change a draft; a signed version answers 409 and is not changed."""
    user = _user(request, Capability.MANAGE_PROTOCOLS)
    version = _protocol(user, version_id)
    try:
        changed = protocol_actions.change_draft(
            version,
            changes=payload.changes,
            change_note=payload.change_note,
            by=user,
        )
    except protocol_actions.SignedProtocolError as exc:
        return _signed_refusal(request, exc)
    return _protocol_out(changed)


@router.post(
    "/tms/protocols/{version_id}/sign",
    response={200: ProtocolOut, 409: dict[str, Any]},
)
def protocol_sign(
    request: HttpRequest, version_id: UUID, payload: ProtocolSignIn
) -> Any:
    """The medical director signs a draft with their password; it supersedes the last."""
    user = _user(request, Capability.MANAGE_PROTOCOLS)
    version = _protocol(user, version_id)
    try:
        signed = protocol_actions.sign_protocol(
            version, password=payload.password, by=user
        )
    except protocol_actions.SignedProtocolError as exc:
        return _signed_refusal(request, exc)
    return _protocol_out(signed)
