"""Letters over the API: a patient's letters, a draft, the signature, a send.

The same actions as the pages; a refusal is 422 problem+json naming the field;
a role without the capability 403; another clinic's letter or patient 404.
Every read of a letter is audited.
"""

from datetime import datetime
from typing import Any
from uuid import UUID

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404, HttpRequest
from ninja import Router, Schema, Status

from neuroclinic.accounts.models import User
from neuroclinic.accounts.roles import Capability
from neuroclinic.api_errors import FieldErrors
from neuroclinic.audit.models import AuditEvent
from neuroclinic.audit.record import record
from neuroclinic.letters.access import clearance_decision
from neuroclinic.letters.actions import letters
from neuroclinic.letters.errors import LettersError
from neuroclinic.letters.models import Letter, LetterSend
from neuroclinic.patients.access import get_patient_for_user
from neuroclinic.patients.models import CareTeamProvider

router = Router(tags=["letters"])


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)  # the API's auth guarantees a signed-in staff user
    if not user.can(Capability.WRITE_LETTERS):
        raise PermissionDenied
    return user


def _refused(exc: LettersError) -> FieldErrors:
    return FieldErrors({exc.field: [exc.message]})


def _letter(user: User, letter_id: UUID) -> Letter:
    letter = (
        Letter.objects.select_related(
            "patient", "recipient", "template", "eligibility_decision"
        )
        .filter(uuid=letter_id, organization_id=user.organization_pk)
        .first()
    )
    if letter is None:
        raise Http404("No such letter.")
    get_patient_for_user(user, letter.patient.uuid, capability=Capability.WRITE_LETTERS)
    return letter


class SendOut(Schema):
    channel: str
    address: str
    sent_at: datetime
    link_expires_at: datetime | None


class LetterOut(Schema):
    id: UUID
    kind: str
    status: str
    recipient: str
    part2: bool
    body: str
    signed_at: datetime | None
    body_sha256: str
    addenda: list[str]
    sends: list[SendOut]
    clearance_decision: UUID | None = None


class DraftIn(Schema):
    kind: str
    recipient_id: UUID
    part2: bool = False


class SignIn(Schema):
    password: str


class SendIn(Schema):
    channel: str


def _out(letter: Letter) -> dict[str, Any]:
    return {
        "id": letter.uuid,
        "kind": letter.template.kind,
        "status": letter.status,
        "recipient": letter.recipient.name,
        "part2": letter.part2,
        "body": letter.body,
        "signed_at": letter.signed_at,
        "body_sha256": letter.body_sha256,
        "addenda": [a.body for a in letter.addenda.all()],
        "sends": list(letter.sends.all()),
        "clearance_decision": letter.eligibility_decision.uuid
        if letter.eligibility_decision is not None
        else None,
    }


def _viewed(user: User, letter: Letter | None, patient: Any, what: str) -> None:
    with transaction.atomic():
        record(
            AuditEvent.Action.LETTER_VIEWED,
            actor=user,
            patient=patient,
            subject=letter or patient,
            what=what,
            via="api",
        )


@router.get(
    "/letters/patients/{patient_id}",
    response=list[LetterOut],
    summary="A patient's letters",
)
def list_letters(request: HttpRequest, patient_id: UUID) -> list[dict[str, Any]]:
    user = _user(request)
    patient = get_patient_for_user(
        user, patient_id, capability=Capability.WRITE_LETTERS
    )
    _viewed(user, None, patient, "list")
    return [
        _out(letter)
        for letter in Letter.objects.filter(patient=patient)
        .select_related("template", "recipient", "eligibility_decision")
        .prefetch_related("sends", "addenda")
    ]


@router.post(
    "/letters/patients/{patient_id}",
    response={201: LetterOut},
    summary="Draft a letter from the chart",
)
def draft(
    request: HttpRequest, patient_id: UUID, payload: DraftIn
) -> Status[dict[str, Any]]:
    user = _user(request)
    patient = get_patient_for_user(
        user, patient_id, capability=Capability.WRITE_LETTERS
    )
    recipient = CareTeamProvider.objects.filter(
        uuid=payload.recipient_id, patient=patient
    ).first()
    if recipient is None:
        raise FieldErrors(
            {"recipient_id": ["That provider is not on this patient's care team."]}
        )
    try:
        letter = letters.draft_letter(
            patient,
            kind=payload.kind,
            recipient=recipient,
            part2=payload.part2,
            by=user,
        )
    except LettersError as exc:
        raise _refused(exc) from None
    return Status(201, _out(letter))


@router.get("/letters/{letter_id}", response=LetterOut, summary="One letter")
def read_letter(request: HttpRequest, letter_id: UUID) -> dict[str, Any]:
    user = _user(request)
    letter = _letter(user, letter_id)
    _viewed(user, letter, letter.patient, "letter")
    return _out(letter)


@router.post(
    "/letters/{letter_id}/sign",
    response=LetterOut,
    summary="Sign and lock (password re-entered)",
)
def sign(request: HttpRequest, letter_id: UUID, payload: SignIn) -> dict[str, Any]:
    user = _user(request)
    letter = _letter(user, letter_id)
    try:
        letters.sign_letter(letter, password=payload.password, by=user)
    except LettersError as exc:
        raise _refused(exc) from None
    return _out(letter)


@router.post(
    "/letters/{letter_id}/send",
    response={201: SendOut},
    summary="Send a signed letter (consent checked; email is a link)",
)
def send(request: HttpRequest, letter_id: UUID, payload: SendIn) -> Status[LetterSend]:
    user = _user(request)
    letter = _letter(user, letter_id)
    try:
        sent = letters.record_send(letter, channel=payload.channel, by=user)
    except LettersError as exc:
        raise _refused(exc) from None
    return Status(201, sent)


@router.post(
    "/letters/clearance/{decision_id}",
    response={200: LetterOut, 201: LetterOut},
    summary="The clearance request for an eligibility decision that needs clearance",
    description="Drafts the letter of kind `clearance` from the decision (201), or returns "
    "the one already drafted for it (200). It is then signed and sent like every letter.",
)
def clearance(request: HttpRequest, decision_id: UUID) -> Status[dict[str, Any]]:
    user = _user(request)
    decision = clearance_decision(user, decision_id)
    existing = letters.clearance_letter_for(decision)
    if existing is not None:
        _viewed(user, existing, decision.patient, "letter")
        return Status(200, _out(existing))
    try:
        letter = letters.request_clearance(decision, by=user)
    except LettersError as exc:
        raise _refused(exc) from None
    return Status(201, _out(letter))
