"""Instruments, scoring and a patient's questionnaires over the API.

The instrument list, definitions and scoring need no sign-in (the public
self-check uses them) and store nothing; scoring is rate limited per address,
or per person (higher) for signed-in staff.
"""

from collections.abc import Callable
from typing import Any
from uuid import UUID

from django.http import HttpRequest
from ninja import Router, Status
from ninja.errors import HttpError

from neuroclinic.accounts.models import User
from neuroclinic.accounts.roles import Capability
from neuroclinic.api_auth import CallerThrottle
from neuroclinic.api_errors import FieldErrors
from neuroclinic.measures.actions.common import MeasuresError
from neuroclinic.measures.actions.due_measures import record_api_read
from neuroclinic.measures.actions.responses import record_response
from neuroclinic.measures.instruments import (
    INSTRUMENTS,
    Instrument,
    InvalidResponse,
    UnknownInstrument,
    get_instrument,
    score,
)
from neuroclinic.measures.models import QuestionnaireResponse, SafetyAlert
from neuroclinic.measures.schemas import (
    AlertOut,
    InstrumentOut,
    InstrumentSummaryOut,
    ItemOut,
    OptionOut,
    ResponseIn,
    ResponseOut,
    ScoreIn,
    ScoreOut,
)
from neuroclinic.patients.access import get_patient_for_user

router = Router(tags=["measures"])

# Reads a FHIR QuestionnaireResponse body into {linkId: option value}, or returns
# (field, message) problems. The interop app registers it at start-up
# (InteropConfig.ready): measures may not import interop.
FhirAnswerReader = Callable[
    [Instrument, dict[str, Any]], dict[str, int] | list[tuple[str, str]]
]
FHIR_ANSWER_READERS: list[FhirAnswerReader] = []
# Which instrument a FHIR Questionnaire canonical url names (registered likewise).
FHIR_INSTRUMENT_FINDERS: list[Callable[[str], Instrument | None]] = []
# Scores a minute: per address for anyone, per person for signed-in staff.
SCORE_LIMIT_ANONYMOUS = 60
SCORE_LIMIT_SIGNED_IN = 600

CRISIS_RESOURCES = [
    "Call or text 988 (Suicide & Crisis Lifeline, 24/7); chat at 988lifeline.org/chat",
    "In immediate danger: call 911",
    "Veterans: dial 988 then press 1, or text 838255",
]


def _instrument(code: str) -> Instrument:
    try:
        return get_instrument(code)
    except UnknownInstrument:
        raise HttpError(404, f"No instrument {code!r}.") from None


def _invalid(exc: InvalidResponse) -> FieldErrors:
    errors: dict[str, list[str]] = {}
    for error in exc.errors:
        field = (
            f"answers.{error.link_id}"
            if error.link_id
            else ("sex" if "sex" in error.code else "answers")
        )
        errors.setdefault(field, []).append(error.message)
    return FieldErrors(errors)


def _summary(i: Instrument) -> dict[str, Any]:
    return {
        "code": i.code,
        "name": i.name,
        "version": i.version,
        "rater": str(i.rater),
        "recall_period": i.recall_period,
        "loinc_panel": i.loinc_panel,
        "loinc_total": i.loinc_total,
    }


def _is_fhir(payload: ScoreIn | ResponseIn) -> bool:
    return payload.resourceType is not None


def _answers(payload: ScoreIn | ResponseIn, instrument: Instrument) -> dict[str, Any]:
    """The body's answers: `answers`, or a FHIR QuestionnaireResponse's LOINC-coded items."""
    if not _is_fhir(payload):
        if payload.answers is None:
            raise FieldErrors(
                {"answers": ["Send answers, or a FHIR QuestionnaireResponse."]}
            )
        return payload.answers
    if payload.resourceType != "QuestionnaireResponse":
        raise FieldErrors({"resourceType": ["Only a QuestionnaireResponse is taken."]})
    if payload.answers is not None:
        raise FieldErrors(
            {"answers": ["Send answers or a QuestionnaireResponse, not both."]}
        )
    if payload.status not in ("completed", "amended"):
        raise FieldErrors(
            {"status": ["Only a completed QuestionnaireResponse is scored."]}
        )
    if not FHIR_ANSWER_READERS:
        raise FieldErrors(
            {"resourceType": ["FHIR bodies are not enabled on this server."]}
        )
    if payload.questionnaire and FHIR_INSTRUMENT_FINDERS:
        named = FHIR_INSTRUMENT_FINDERS[0](payload.questionnaire)
        if named is None or named.code != instrument.code:
            raise FieldErrors(
                {"questionnaire": [f"Not the {instrument.code} Questionnaire."]}
            )
    read = FHIR_ANSWER_READERS[0](instrument, payload.dict(exclude_none=True))
    if isinstance(read, list):
        errors: dict[str, list[str]] = {}
        for field, message in read:
            errors.setdefault(field, []).append(message)
        raise FieldErrors(errors)
    return dict(read)


@router.get("/instruments", response=list[InstrumentSummaryOut], auth=None)
def list_instruments(request: HttpRequest) -> list[dict[str, Any]]:
    return [_summary(i) for i in INSTRUMENTS.values()]


@router.get("/instruments/{code}", response=InstrumentOut, auth=None)
def read_instrument(request: HttpRequest, code: str) -> dict[str, Any]:
    i = _instrument(code)
    return _summary(i) | {
        "source": i.source,
        "licence": i.licence,
        "wording_redistributable": i.wording_redistributable,
        "preamble": i.preamble,
        "total_range": list(i.total_range) if i.total_range else None,
        "items": [
            ItemOut(
                linkId=item.link_id,
                text=item.text,
                required=item.required,
                loinc=item.loinc,
                options=[OptionOut(value=o.value, label=o.label) for o in item.options],
                enableWhen=(
                    {
                        "question": item.enable_when.link_id,
                        "answer": item.enable_when.answer,
                    }
                    if item.enable_when
                    else None
                ),
            )
            for item in i.items
        ],
    }


@router.post(
    "/instruments/{code}/score",
    response=ScoreOut,
    auth=None,
    throttle=[
        CallerThrottle(
            "measures:score",
            anonymous=SCORE_LIMIT_ANONYMOUS,
            signed_in=SCORE_LIMIT_SIGNED_IN,
        )
    ],
)
def score_answers(request: HttpRequest, code: str, payload: ScoreIn) -> dict[str, Any]:
    """Score answers without storing anything. 422 names the item at fault."""
    instrument = _instrument(code)
    try:
        result = score(instrument, _answers(payload, instrument), sex=payload.sex)
    except InvalidResponse as exc:
        raise _invalid(exc) from None
    return {
        "instrument": instrument.code,
        "version": instrument.version,
        "total": result.total,
        "severity": str(result.severity) if result.severity else None,
        "flags": [str(f) for f in result.flags],
        "subscales": result.subscales,
        "triage": str(result.triage) if result.triage else None,
        "safety_alert": result.safety_alert,
        "crisis_resources": CRISIS_RESOURCES if result.safety_alert else None,
    }


def _staff(request: HttpRequest, capability: Capability) -> User:
    user = request.user
    assert isinstance(user, User)
    if not user.can(capability):
        raise HttpError(403, "Your role does not allow this.")
    return user


def _alert_out(alert: SafetyAlert) -> dict[str, Any]:
    return {
        "uuid": alert.uuid,
        "reason": alert.reason,
        "status": alert.status,
        "raised_at": alert.raised_at,
        "assigned_to": alert.assigned_to.username if alert.assigned_to else None,
        "acknowledged_at": alert.acknowledged_at,
        "risk_level": alert.risk_level,
        "disposition": alert.disposition,
        "response_id": alert.response.uuid if alert.response else None,
    }


def _response_out(
    response: QuestionnaireResponse, alerts: list[SafetyAlert] | None = None
) -> dict[str, Any]:
    return {
        "uuid": response.uuid,
        "instrument": response.instrument_code,
        "instrument_version": response.instrument_version,
        "answers": response.answers,
        "total": response.total,
        "severity": response.severity or None,
        "flags": response.flags,
        "subscales": response.subscales,
        "triage": response.triage or None,
        "safety_alert": response.raises_safety_alert,
        "source": response.source,
        "entered_by": response.entered_by.username if response.entered_by else None,
        "completed_at": response.completed_at,
        "version": response.version,
        "amends": response.amends.uuid if response.amends else None,
        "alerts": [_alert_out(a) for a in alerts or []],
    }


@router.post(
    "/patients/{patient_id}/responses", response={200: ResponseOut, 201: ResponseOut}
)
def create_response(
    request: HttpRequest, patient_id: UUID, payload: ResponseIn
) -> Status[dict[str, Any]]:
    user = _staff(request, Capability.RECORD_MEASURES)
    patient = get_patient_for_user(
        user, patient_id, capability=Capability.RECORD_MEASURES
    )
    code = payload.instrument
    if code is None and _is_fhir(payload) and payload.questionnaire:
        named = next((f(payload.questionnaire) for f in FHIR_INSTRUMENT_FINDERS), None)
        code = named.code if named is not None else None
        if code is None:
            raise FieldErrors(
                {"questionnaire": ["Not one of this server's Questionnaires."]}
            )
    if code is None:
        raise FieldErrors({"instrument": ["Field required"]})
    if code not in INSTRUMENTS:
        raise FieldErrors({"instrument": [f"No instrument {code!r}."]})
    instrument = get_instrument(code)
    answers = _answers(payload, instrument)
    try:
        recorded = record_response(
            patient,
            instrument_code=instrument.code,
            answers=answers,
            source=QuestionnaireResponse.Source.API,
            by=user,
            completed_at=payload.completed_at or payload.authored,
            sex=payload.sex,
            submission_key=payload.submission_key,
        )
    except InvalidResponse as exc:
        raise _invalid(exc) from None
    except MeasuresError as exc:
        raise FieldErrors({exc.field or "submission_key": [exc.message]}) from None
    return Status(
        201 if recorded.created else 200,
        _response_out(recorded.response, recorded.alerts),
    )


@router.get("/patients/{patient_id}/responses", response=list[ResponseOut])
def list_responses(
    request: HttpRequest, patient_id: UUID, instrument: str | None = None
) -> list[dict[str, Any]]:
    user = _staff(request, Capability.VIEW_CHART)
    patient = get_patient_for_user(user, patient_id, capability=Capability.VIEW_CHART)
    responses = (
        QuestionnaireResponse.objects.filter(patient=patient)
        .select_related("entered_by", "amends")
        .order_by("completed_at", "id")
    )
    if instrument:
        responses = responses.filter(instrument_code=instrument)
    record_api_read(patient, by=user, what="responses")
    return [_response_out(r) for r in responses]


@router.get("/patients/{patient_id}/alerts", response=list[AlertOut])
def list_alerts(request: HttpRequest, patient_id: UUID) -> list[dict[str, Any]]:
    user = _staff(request, Capability.VIEW_CHART)
    patient = get_patient_for_user(user, patient_id, capability=Capability.VIEW_CHART)
    alerts = SafetyAlert.objects.filter(patient=patient).select_related(
        "assigned_to", "response"
    )
    record_api_read(patient, by=user, what="alerts")
    return [_alert_out(a) for a in alerts]
