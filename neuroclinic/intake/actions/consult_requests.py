"""Consult requests from the public site and the API: the self-check a visitor may
attach, the staff queue (status, assignment, notes) and conversion to a patient."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.utils import timezone

from neuroclinic.accounts.models import User
from neuroclinic.audit.models import AuditEvent
from neuroclinic.audit.record import record
from neuroclinic.clinics.models import Organization
from neuroclinic.intake.actions.packets import open_packet
from neuroclinic.intake.errors import DuplicatesFound, IntakeError
from neuroclinic.intake.models import (
    ConsultNote,
    ConsultRequest,
)
from neuroclinic.lib import ratelimit
from neuroclinic.lib.messaging import send_email
from neuroclinic.measures.actions.responses import record_response
from neuroclinic.measures.instruments import (
    INSTRUMENTS,
    InvalidResponse,
    ScoreFlag,
    get_instrument,
    score,
)
from neuroclinic.measures.models import (
    QuestionnaireResponse,
)
from neuroclinic.patients import actions as patient_actions
from neuroclinic.patients.models import CareTeamProvider, Patient

SELF_CHECK_SALT = "neuroclinic.intake.self-check"
SELF_CHECK_INSTRUMENTS = ("phq9", "gad7")
SELF_CHECK_MAX_AGE_SECONDS = 6 * 60 * 60
# Form posts from one address: this many per window (per kind of form).
RATE_LIMIT = 5
RATE_WINDOW_SECONDS = 60 * 60


def public_organization() -> Organization | None:
    """The clinic the public site speaks for: PUBLIC_SITE_ORGANIZATION (a UUID), else the first one."""
    wanted = getattr(settings, "PUBLIC_SITE_ORGANIZATION", "")
    organizations = Organization.objects.order_by("id")
    if wanted:
        return organizations.filter(uuid=wanted).first()
    return organizations.first()


def rate_limited(kind: str, address: str | None, *, limit: int = RATE_LIMIT) -> bool:
    """Count one more post of this kind from this address; True when over the limit.

    Keyed on REMOTE_ADDR only (audit.record.client_ip explains why), through the
    project's one rate limiter (neuroclinic/lib/ratelimit.py).
    """
    return ratelimit.hit(
        f"intake:{kind}",
        address or "unknown",
        limit=limit,
        window_seconds=RATE_WINDOW_SECONDS,
    ).over


# Self-check -----------------------------------------------------------------------


@dataclass(frozen=True)
class SelfCheckResult:
    instrument_code: str
    answers: dict[str, int]
    total: int | None
    severity: str
    item9_positive: bool
    completed_at: str

    @property
    def name(self) -> str:
        return INSTRUMENTS[self.instrument_code].name


def score_self_check(code: str, answers: Mapping[str, object]) -> SelfCheckResult:
    """Score an anonymous self-check with the measures scorer. Stores nothing.

    Raises InvalidResponse when the answers cannot be scored.
    """
    if code not in SELF_CHECK_INSTRUMENTS:
        raise IntakeError("That self-check is not offered.", field="instrument")
    instrument = get_instrument(code)
    result = score(instrument, answers)
    return SelfCheckResult(
        instrument_code=code,
        answers={k: int(v) for k, v in answers.items() if isinstance(v, int)},
        total=result.total,
        severity=str(result.severity or ""),
        item9_positive=ScoreFlag.PHQ9_ITEM9_POSITIVE in result.flags,
        completed_at=timezone.now().isoformat(),
    )


def self_check_token(results: Sequence[SelfCheckResult]) -> str:
    """The visitor's results, signed, to carry to the consult form. Nothing is stored."""
    return signing.dumps(
        [
            {
                "instrument_code": r.instrument_code,
                "answers": r.answers,
                "completed_at": r.completed_at,
            }
            for r in results
        ],
        salt=SELF_CHECK_SALT,
        compress=True,
    )


def self_check_results(token: str) -> list[SelfCheckResult]:
    """The results a token carries, re-scored; an empty list for a bad or stale token."""
    if not token:
        return []
    try:
        payload = signing.loads(
            token, salt=SELF_CHECK_SALT, max_age=SELF_CHECK_MAX_AGE_SECONDS
        )
    except signing.BadSignature:
        return []
    results: dict[str, SelfCheckResult] = {}
    for entry in payload if isinstance(payload, list) else []:
        try:
            result = score_self_check(entry["instrument_code"], entry["answers"])
        except (IntakeError, InvalidResponse, KeyError, TypeError):
            continue
        results[result.instrument_code] = SelfCheckResult(
            **{**result.__dict__, "completed_at": str(entry.get("completed_at", ""))}
        )
    return list(results.values())


# Consult requests -------------------------------------------------------------------

CONSULT_FIELDS = (
    "given_name",
    "family_name",
    "phone",
    "email",
    "contact_method",
    "contact_time",
    "interest",
    "seeking_help_for",
    "referring_provider",
    "heard_about",
)


@transaction.atomic
def submit_consult_request(
    organization: Organization,
    *,
    given_name: str,
    family_name: str,
    seeking_help_for: str,
    consent_to_contact: bool,
    phone: str = "",
    email: str = "",
    contact_method: str = ConsultRequest.ContactMethod.PHONE,
    contact_time: str = ConsultRequest.ContactTime.ANY,
    interest: str = ConsultRequest.Interest.UNSURE,
    referring_provider: str = "",
    heard_about: str = "",
    self_check: Sequence[SelfCheckResult] = (),
    source: ConsultRequest.Source = ConsultRequest.Source.SITE,
) -> ConsultRequest:
    """A visitor's request for a consultation. Self-check results are stored only if passed in.

    The model's own checks (choices, email format, lengths) raise ValidationError.
    """
    if not consent_to_contact:
        raise IntakeError(
            "Please agree that we may contact you, or we cannot reply.",
            field="consent_to_contact",
        )
    if not (phone or email):
        raise IntakeError("Give a phone number or an email address.", field="phone")
    request = ConsultRequest(
        organization=organization,
        consent_to_contact=True,
        source=source,
        self_check=[
            {
                "instrument_code": r.instrument_code,
                "answers": r.answers,
                "total": r.total,
                "severity": r.severity,
                "item9_positive": r.item9_positive,
                "completed_at": r.completed_at,
            }
            for r in self_check
        ],
        given_name=given_name,
        family_name=family_name,
        phone=phone,
        email=email,
        contact_method=contact_method,
        contact_time=contact_time,
        interest=interest,
        seeking_help_for=seeking_help_for,
        referring_provider=referring_provider,
        heard_about=heard_about,
    )
    request.full_clean(exclude=["organization"])
    request.save(force_insert=True)
    record(
        AuditEvent.Action.CONSULT_REQUESTED,
        actor=None,
        organization=organization,
        subject=request,
        source=source,
        self_check_attached=bool(self_check),
    )
    if request.email:
        email = request.email
        name = organization.name
        transaction.on_commit(
            lambda: send_email(
                email,
                f"{name}: we have your request",
                f"Thank you for contacting {name}. We received your request for a "
                "consultation and will be in touch within one working day.\n\n"
                "If you are in crisis, call or text 988 (Suicide & Crisis Lifeline) or call 911.",
            )
        )
    return request


def record_refused_consult(organization: Organization | None, reason: str) -> None:
    with transaction.atomic():
        record(
            AuditEvent.Action.CONSULT_REFUSED,
            actor=None,
            organization=organization,
            outcome=AuditEvent.Outcome.DENIED,
            reason=reason,
        )


@transaction.atomic
def update_consult_request(
    request: ConsultRequest,
    *,
    status: str | None = None,
    assigned_to: User | bool | None = False,
    by: User,
) -> ConsultRequest:
    """Change status and/or assignment (`assigned_to=None` unassigns; False leaves it)."""
    request = ConsultRequest.objects.select_for_update().get(pk=request.pk)
    changes: dict[str, Any] = {}
    fields = []
    if status is not None and status != request.status:
        if status not in ConsultRequest.Status.values:
            raise IntakeError("Choose a status from the list.", field="status")
        if (
            status == ConsultRequest.Status.CONVERTED
            or request.status == ConsultRequest.Status.CONVERTED
        ):
            raise IntakeError(
                "Converting is done with “Convert to patient”, and a converted request stays converted.",
                field="status",
            )
        changes["status"] = {"old": request.status, "new": status}
        request.status = status
        request.status_changed_at = timezone.now()
        fields += ["status", "status_changed_at"]
    if assigned_to is not False:
        assert assigned_to is None or isinstance(assigned_to, User)
        if assigned_to is not None and (
            assigned_to.organization_id != request.organization_id
            or not assigned_to.is_active
        ):
            raise IntakeError("Assign to an active colleague.", field="assigned_to")
        new_id = assigned_to.pk if assigned_to else None
        if new_id != request.assigned_to_id:
            changes["assigned_to"] = {
                "old": request.assigned_to.username if request.assigned_to else None,
                "new": assigned_to.username if assigned_to else None,
            }
            request.assigned_to = assigned_to
            fields.append("assigned_to")
    if fields:
        request.save(update_fields=fields)
        record(
            AuditEvent.Action.CONSULT_UPDATED,
            actor=by,
            organization=request.organization,
            subject=request,
            changes=changes,
        )
    return request


@transaction.atomic
def add_consult_note(request: ConsultRequest, *, text: str, by: User) -> ConsultNote:
    text = text.strip()
    if not text:
        raise IntakeError("Write the note first.", field="text")
    if len(text) > 4000:
        raise IntakeError("Keep a note under 4000 characters.", field="text")
    note = ConsultNote.objects.create(request=request, author=by, text=text)
    record(
        AuditEvent.Action.CONSULT_NOTE_ADDED,
        actor=by,
        organization=request.organization,
        subject=request,
    )
    return note


def record_consult_viewed(request: ConsultRequest, *, by: User) -> None:
    with transaction.atomic():
        record(
            AuditEvent.Action.CONSULT_VIEWED,
            actor=by,
            organization=request.organization,
            subject=request,
        )


def duplicates_for(
    request: ConsultRequest, *, birth_date: date, family_name: str, given_name: str
) -> list[Patient]:
    return list(
        patient_actions.possible_duplicates(
            request.organization,
            family_name=family_name,
            given_name=given_name,
            birth_date=birth_date,
        ).order_by("id")[: patient_actions.DUPLICATE_LIMIT]
    )


@transaction.atomic
def convert_consult_request(
    request: ConsultRequest,
    *,
    birth_date: date,
    sex_at_birth: str,
    family_name: str | None = None,
    given_name: str | None = None,
    existing: Patient | None = None,
    confirm_new: bool = False,
    by: User,
) -> Patient:
    """Turn a request into a patient (new, or an existing one after the duplicate check).

    Registers the patient, opens the intake packet, adds the referring
    provider, and stores an attached self-check as the baseline questionnaire
    response (source "self_check"). Raises DuplicatesFound when similar
    patients exist and neither `existing` nor `confirm_new` says what to do.
    """
    request = ConsultRequest.objects.select_for_update().get(pk=request.pk)
    if request.status == ConsultRequest.Status.CONVERTED:
        raise IntakeError("This request was already converted.", field="status")
    family_name = (family_name or request.family_name).strip()
    given_name = (given_name or request.given_name).strip()
    if existing is not None:
        if existing.organization_id != request.organization_id:
            raise IntakeError("No such patient.", field="existing")
        patient = existing
    else:
        duplicates = duplicates_for(
            request,
            birth_date=birth_date,
            family_name=family_name,
            given_name=given_name,
        )
        if duplicates and not confirm_new:
            raise DuplicatesFound(duplicates)
        if sex_at_birth not in Patient.SexAtBirth.values:
            raise IntakeError("Choose the sex at birth.", field="sex_at_birth")
        if birth_date > timezone.localdate():
            raise IntakeError("The date of birth is in the future.", field="birth_date")
        patient = patient_actions.register_patient(
            request.organization,
            by=by,
            family_name=family_name,
            given_name=given_name,
            birth_date=birth_date,
            sex_at_birth=sex_at_birth,
            phone=request.phone,
            email=request.email,
        )
    already_listed = patient.care_team.filter(
        role=CareTeamProvider.Role.REFERRING,
        name__iexact=request.referring_provider[:200],
    ).exists()
    if request.referring_provider and not already_listed:
        patient_actions.add_care_team_provider(
            patient,
            by=by,
            role=CareTeamProvider.Role.REFERRING,
            name=request.referring_provider[:200],
        )
    for entry in request.self_check:
        completed = (
            datetime.fromisoformat(entry["completed_at"])
            if entry.get("completed_at")
            else request.created_at
        )
        record_response(
            patient,
            instrument_code=entry["instrument_code"],
            answers=entry["answers"],
            source=QuestionnaireResponse.Source.SELF_CHECK,
            by=by,
            completed_at=completed,
        )
    open_packet(patient, consult_request=request)
    request.status = ConsultRequest.Status.CONVERTED
    request.status_changed_at = timezone.now()
    request.patient = patient
    request.converted_by = by
    request.converted_at = timezone.now()
    request.save(
        update_fields=[
            "status",
            "status_changed_at",
            "patient",
            "converted_by",
            "converted_at",
        ]
    )
    record(
        AuditEvent.Action.CONSULT_CONVERTED,
        actor=by,
        patient=patient,
        subject=request,
        existing_patient=existing is not None,
        self_check_responses=len(request.self_check),
    )
    return patient
