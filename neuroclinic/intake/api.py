"""Consult requests, intake status, eligibility and consent over the API.

Creating a consult request needs no sign-in (the public site's form, or a
clinic's own website) and is rate limited per address; everything else is
staff-only. Errors are problem documents naming the field.
"""

from typing import Any
from uuid import UUID

from django.core.exceptions import ValidationError
from django.db.models import Prefetch, QuerySet
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from ninja import Router, Status
from ninja.errors import HttpError

from neuroclinic.accounts.models import User
from neuroclinic.accounts.roles import Capability
from neuroclinic.api_errors import PROBLEM_CONTENT_TYPE, FieldErrors
from neuroclinic.audit.record import client_ip
from neuroclinic.intake.actions import consult_requests, eligibility_decisions, packets
from neuroclinic.intake.checks import (
    consent_blocks_treatment,
    consent_states,
    eligibility_blocks_treatment,
)
from neuroclinic.intake.errors import DuplicatesFound, IntakeError
from neuroclinic.intake.models import ConsultNote, ConsultRequest, EligibilityDecision
from neuroclinic.intake.schemas import (
    ConsentStatusOut,
    ConsultCreatedOut,
    ConsultPatch,
    ConsultRequestIn,
    ConsultRequestOut,
    ConvertedOut,
    ConvertIn,
    DecisionIn,
    DecisionOut,
    EligibilityOut,
    PacketOut,
)
from neuroclinic.measures.instruments import InvalidResponse
from neuroclinic.patients.access import get_patient_for_user
from neuroclinic.patients.models import Patient

router = Router(tags=["intake"])


def _staff(request: HttpRequest, capability: Capability) -> User:
    user = request.user
    assert isinstance(user, User)
    if not user.can(capability):
        raise HttpError(403, "Your role does not allow this.")
    return user


def _with_notes(requests: QuerySet[ConsultRequest]) -> QuerySet[ConsultRequest]:
    """Requests with their assignee, patient and notes in three queries, however many."""
    return requests.select_related("assigned_to", "patient").prefetch_related(
        Prefetch("notes", queryset=ConsultNote.objects.select_related("author"))
    )


def _consult(user: User, request_id: UUID) -> ConsultRequest:
    found = (
        _with_notes(ConsultRequest.objects.all())
        .filter(organization_id=user.organization_pk, uuid=request_id)
        .first()
    )
    if found is None:
        raise HttpError(404, "No such request.")
    return found


def _consult_out(r: ConsultRequest) -> dict[str, Any]:
    return {
        "uuid": r.uuid,
        "status": r.status,
        "given_name": r.given_name,
        "family_name": r.family_name,
        "phone": r.phone,
        "email": r.email,
        "contact_method": r.contact_method,
        "contact_time": r.contact_time,
        "interest": r.interest,
        "seeking_help_for": r.seeking_help_for,
        "referring_provider": r.referring_provider,
        "heard_about": r.heard_about,
        "self_check": r.self_check,
        "assigned_to": r.assigned_to.username if r.assigned_to else None,
        "created_at": r.created_at,
        "waiting_seconds": int((timezone.now() - r.created_at).total_seconds()),
        "patient": r.patient.uuid if r.patient else None,
        "notes": [
            {"author": n.author.username, "text": n.text, "created_at": n.created_at}
            for n in r.notes.all()
        ],
    }


def _error(exc: IntakeError, default: str) -> FieldErrors:
    return FieldErrors({exc.field or default: [exc.message]})


@router.post("/consult-requests", response={201: ConsultCreatedOut}, auth=None)
def create_consult_request(
    request: HttpRequest, payload: ConsultRequestIn
) -> Status[dict[str, Any]]:
    """A consult request from a website form. Rate limited per address (429)."""
    organization = consult_requests.public_organization()
    if consult_requests.rate_limited("consult", client_ip(request)):
        consult_requests.record_refused_consult(organization, "rate_limited")
        raise HttpError(
            429,
            "Too many requests from this address. Try again later or call the clinic.",
        )
    if organization is None:
        raise HttpError(404, "No clinic is set up.")
    errors: dict[str, list[str]] = {}
    for name, choices in (
        ("contact_method", ConsultRequest.ContactMethod.values),
        ("contact_time", ConsultRequest.ContactTime.values),
        ("interest", ConsultRequest.Interest.values),
        ("heard_about", ["", *ConsultRequest.HeardAbout.values]),
    ):
        if getattr(payload, name) not in choices:
            errors[name] = [f"Choose one of: {', '.join(c for c in choices if c)}."]
    results = []
    for index, entry in enumerate(payload.self_check):
        try:
            results.append(
                consult_requests.score_self_check(entry.instrument, entry.answers)
            )
        except IntakeError as exc:
            errors[f"self_check.{index}.instrument"] = [exc.message]
        except InvalidResponse as exc:
            errors[f"self_check.{index}.answers"] = [e.message for e in exc.errors]
    if errors:
        raise FieldErrors(errors)
    fields = payload.dict(exclude={"consent_to_contact", "self_check"})
    try:
        created = consult_requests.submit_consult_request(
            organization,
            **fields,
            consent_to_contact=payload.consent_to_contact,
            self_check=results,
            source=ConsultRequest.Source.API,
        )
    except IntakeError as exc:
        raise _error(exc, "body") from None
    except ValidationError as exc:  # the model's own checks (email format, lengths)
        raise FieldErrors(
            {k: [str(m) for m in v] for k, v in exc.message_dict.items()}
        ) from None
    return Status(201, {"uuid": created.uuid, "status": created.status})


@router.get("/consult-requests", response=list[ConsultRequestOut])
def list_consult_requests(
    request: HttpRequest, status: str | None = None
) -> list[dict[str, Any]]:
    user = _staff(request, Capability.WORK_CONSULT_QUEUE)
    found = _with_notes(
        ConsultRequest.objects.filter(organization_id=user.organization_pk)
    )
    if status:
        if status not in ConsultRequest.Status.values:
            raise FieldErrors(
                {
                    "status": [
                        f"Choose one of: {', '.join(ConsultRequest.Status.values)}."
                    ]
                }
            )
        found = found.filter(status=status)
    return [_consult_out(r) for r in found[:500]]


@router.get("/consult-requests/{request_id}", response=ConsultRequestOut)
def read_consult_request(request: HttpRequest, request_id: UUID) -> dict[str, Any]:
    user = _staff(request, Capability.WORK_CONSULT_QUEUE)
    consult = _consult(user, request_id)
    consult_requests.record_consult_viewed(consult, by=user)
    return _consult_out(consult)


@router.patch("/consult-requests/{request_id}", response=ConsultRequestOut)
def update_consult_request(
    request: HttpRequest, request_id: UUID, payload: ConsultPatch
) -> dict[str, Any]:
    user = _staff(request, Capability.WORK_CONSULT_QUEUE)
    consult = _consult(user, request_id)
    assignee: User | bool | None = False
    if payload.assigned_to is not None:
        if payload.assigned_to == "":
            assignee = None
        else:
            assignee = User.objects.filter(
                organization_id=user.organization_pk,
                username=payload.assigned_to,
                is_active=True,
            ).first()
            if assignee is None:
                raise FieldErrors(
                    {"assigned_to": ["No active colleague with that username."]}
                )
    try:
        consult = consult_requests.update_consult_request(
            consult, by=user, status=payload.status, assigned_to=assignee
        )
        if payload.note:
            consult_requests.add_consult_note(consult, by=user, text=payload.note)
    except IntakeError as exc:
        raise _error(exc, "status") from None
    return _consult_out(_consult(user, request_id))


@router.post("/consult-requests/{request_id}/convert", response={201: ConvertedOut})
def convert_consult_request(
    request: HttpRequest, request_id: UUID, payload: ConvertIn
) -> Status[dict[str, Any]] | HttpResponse:
    user = _staff(request, Capability.WORK_CONSULT_QUEUE)
    if not user.can(Capability.REGISTER_PATIENT):
        raise HttpError(403, "Your role does not allow this.")
    consult = _consult(user, request_id)
    existing = None
    if payload.existing_patient is not None:
        existing = get_patient_for_user(
            user, payload.existing_patient, capability=Capability.REGISTER_PATIENT
        )
    try:
        patient = consult_requests.convert_consult_request(
            consult,
            by=user,
            birth_date=payload.birth_date,
            sex_at_birth=payload.sex_at_birth,
            given_name=payload.given_name,
            family_name=payload.family_name,
            existing=existing,
            confirm_new=payload.confirm_new,
        )
    except DuplicatesFound as exc:
        return JsonResponse(
            {
                "type": "about:blank",
                "title": "Possible duplicates",
                "status": 409,
                "instance": request.path,
                "detail": exc.message,
                "errors": [{"field": "confirm_new", "message": exc.message}],
                "duplicates": [
                    {"uuid": str(p.uuid), "mrn": p.mrn} for p in exc.duplicates
                ],
            },
            status=409,
            content_type=PROBLEM_CONTENT_TYPE,
        )
    except IntakeError as exc:
        raise _error(exc, "body") from None
    return Status(201, {"patient": patient.uuid, "mrn": patient.mrn})


def _patient(
    request: HttpRequest, patient_id: UUID, capability: Capability
) -> tuple[User, Patient]:
    user = _staff(request, capability)
    return user, get_patient_for_user(user, patient_id, capability=capability)


@router.get("/patients/{patient_id}/intake", response=PacketOut)
def packet_status(request: HttpRequest, patient_id: UUID) -> dict[str, Any]:
    _, patient = _patient(request, patient_id, Capability.MANAGE_INTAKE)
    packet_row = packets.packet_for(patient)
    return {
        "patient": patient.uuid,
        "started_at": packet_row.started_at,
        "submitted_at": packet_row.submitted_at,
        "reminder_count": packet_row.reminder_count,
        "sections": [
            {
                "key": s.key,
                "title": s.title,
                "complete": s.complete,
                "missing": s.missing,
                "saved_at": s.saved_at,
            }
            for s in packets.packet_status(packet_row)
        ],
    }


def _decision_out(d: EligibilityDecision) -> dict[str, Any]:
    return {
        "uuid": d.uuid,
        "outcome": d.outcome,
        "conditions": d.conditions,
        "reason": d.reason,
        "rules_version": d.rules_version,
        "decided_by": d.decided_by.username,
        "signed_at": d.signed_at,
        "patient_message": d.patient_message,
        "clearance_letter": bool(d.clearance_letter),
        # The request itself is a letter (the letters app sits above intake: a path, not a call).
        "clearance_request": f"/api/letters/clearance/{d.uuid}"
        if d.outcome == EligibilityDecision.Outcome.NEEDS_CLEARANCE
        else None,
    }


@router.get("/patients/{patient_id}/eligibility", response=EligibilityOut)
def read_eligibility(request: HttpRequest, patient_id: UUID) -> dict[str, Any]:
    user, patient = _patient(request, patient_id, Capability.VIEW_INTAKE)
    review = eligibility_decisions.review_for(patient)
    eligibility_decisions.record_review_opened(patient, by=user)
    return {
        "patient": patient.uuid,
        "rules_version": review.review.version,
        "findings": [f.as_dict() for f in review.review.findings],
        "required_missing": list(review.review.required_missing),
        "decisions": [
            _decision_out(d)
            for d in EligibilityDecision.objects.filter(patient=patient).select_related(
                "decided_by"
            )
        ],
        "blocks_treatment": eligibility_blocks_treatment(patient),
    }


@router.post(
    "/patients/{patient_id}/eligibility/decisions", response={201: DecisionOut}
)
def decide(
    request: HttpRequest, patient_id: UUID, payload: DecisionIn
) -> Status[dict[str, Any]]:
    user, patient = _patient(request, patient_id, Capability.DECIDE_ELIGIBILITY)
    try:
        decision = eligibility_decisions.decide_eligibility(
            patient, by=user, **payload.dict()
        )
    except IntakeError as exc:
        if exc.field == "password":
            eligibility_decisions.record_refused_signature(patient, by=user)
        raise _error(exc, "outcome") from None
    return Status(201, _decision_out(decision))


@router.get("/patients/{patient_id}/consents", response=ConsentStatusOut)
def consent_status(request: HttpRequest, patient_id: UUID) -> dict[str, Any]:
    _, patient = _patient(request, patient_id, Capability.VIEW_CONSENTS)
    states = consent_states(patient)
    return {
        "patient": patient.uuid,
        "consents": [
            {
                "kind": str(s.kind),
                "label": s.label,
                "current_version": s.current.version if s.current else None,
                "signed_version": s.signed.document.version if s.signed else None,
                "signed_at": s.signed.signed_at if s.signed else None,
                "is_current": s.is_current,
                "status": s.status,
            }
            for s in states
        ],
        "ketamine_blocked": consent_blocks_treatment(
            patient, treatment="ketamine", states=states
        ),
        "tms_blocked": consent_blocks_treatment(
            patient, treatment="tms", states=states
        ),
    }
