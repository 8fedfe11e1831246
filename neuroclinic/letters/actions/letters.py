"""Letter templates, drafts filled from the chart, the prescriber's signature, and each send."""

import hashlib

from django.db import transaction
from django.utils import timezone

from neuroclinic.accounts.models import User
from neuroclinic.audit.models import AuditEvent
from neuroclinic.audit.record import record
from neuroclinic.clinics.models import Organization
from neuroclinic.letters import defaults
from neuroclinic.letters.chart import chart_values
from neuroclinic.letters.errors import LettersError
from neuroclinic.letters.fields import LetterFieldError, fill, unknown_fields
from neuroclinic.letters.models import Letter, LetterSend, LetterTemplate
from neuroclinic.patients.models import CareTeamProvider, Patient
from neuroclinic.treatment.actions.signatures import confirm_signature
from neuroclinic.treatment.errors import TreatmentError

DEFAULT_BODIES: dict[str, str] = {
    LetterTemplate.Kind.END_OF_SERIES.value: defaults.END_OF_SERIES
}


@transaction.atomic
def save_template(
    organization: Organization, *, kind: str, body: str, by: User
) -> LetterTemplate:
    """A new version of the clinic's template of this kind (the old ones stay for their letters)."""
    if kind not in LetterTemplate.Kind.values:
        raise LettersError("No such kind of letter.", field="kind")
    if not body.strip():
        raise LettersError("Write the letter.", field="body")
    unknown = unknown_fields(body)
    if unknown:
        raise LettersError(
            str(LetterFieldError(unknown)), field="body", code="unknown_field"
        )
    latest = (
        LetterTemplate.objects.filter(organization=organization, kind=kind)
        .order_by("-version")
        .first()
    )
    template = LetterTemplate.objects.create(
        organization=organization,
        kind=kind,
        version=(latest.version + 1) if latest else 1,
        body=body,
        created_by=by,
    )
    record(
        AuditEvent.Action.LETTER_TEMPLATE_SAVED,
        actor=by,
        organization=organization,
        subject=template,
        kind=kind,
        version=template.version,
    )
    return template


def current_template(
    organization: Organization, kind: str, *, by: User
) -> LetterTemplate:
    """The clinic's newest template of this kind, made from the default when there is none."""
    template = (
        LetterTemplate.objects.filter(organization=organization, kind=kind)
        .order_by("-version")
        .first()
    )
    if template is not None:
        return template
    if kind not in DEFAULT_BODIES:
        raise LettersError(
            "Write a template of this kind first.", field="kind", code="no_template"
        )
    return save_template(organization, kind=kind, body=DEFAULT_BODIES[kind], by=by)


@transaction.atomic
def draft_letter(
    patient: Patient, *, kind: str, recipient: CareTeamProvider, by: User
) -> Letter:
    """A draft filled from the chart for one of the patient's care-team providers."""
    if recipient.patient_id != patient.pk:
        raise LettersError(
            "That provider is not on this patient's care team.", field="recipient"
        )
    assert patient.organization is not None
    template = current_template(patient.organization, kind, by=by)
    body = fill(
        template.body, chart_values(patient, recipient=recipient, prescriber=by)
    )
    letter = Letter.objects.create(
        organization_id=patient.organization_id,
        patient=patient,
        template=template,
        recipient=recipient,
        body=body,
        created_by=by,
    )
    record(
        AuditEvent.Action.LETTER_DRAFTED,
        actor=by,
        patient=patient,
        subject=letter,
        kind=kind,
        template_version=template.version,
    )
    return letter


@transaction.atomic
def edit_draft(letter: Letter, *, body: str, by: User) -> Letter:
    if letter.status != Letter.Status.DRAFT:
        raise LettersError(
            "A signed letter is locked: add a new letter instead.",
            field="body",
            code="locked",
        )
    if not body.strip():
        raise LettersError("Write the letter.", field="body")
    old = letter.body
    letter.body = body
    letter.save(update_fields=["body"])
    record(
        AuditEvent.Action.LETTER_DRAFTED,
        actor=by,
        patient=letter.patient,
        subject=letter,
        edited=True,
        old_sha256=hashlib.sha256(old.encode()).hexdigest(),
    )
    return letter


@transaction.atomic
def sign_letter(letter: Letter, *, password: str, by: User) -> Letter:
    """The prescriber re-enters their password; the letter is locked and its text hashed."""
    Letter.objects.select_for_update().filter(pk=letter.pk).first()
    letter.refresh_from_db()
    if letter.status != Letter.Status.DRAFT:
        raise LettersError(
            "This letter is already signed.", field="password", code="locked"
        )
    try:
        confirm_signature(password, what=f"letter {letter.uuid}", by=by)
    except TreatmentError as exc:
        raise LettersError(exc.message, field="password", code="password") from None
    letter.status = Letter.Status.SIGNED
    letter.signed_by = by
    letter.signed_at = timezone.now()
    letter.body_sha256 = hashlib.sha256(letter.body.encode()).hexdigest()
    letter.save(update_fields=["status", "signed_by", "signed_at", "body_sha256"])
    record(
        AuditEvent.Action.LETTER_SIGNED,
        actor=by,
        patient=letter.patient,
        subject=letter,
        sha256=letter.body_sha256,
    )
    return letter


@transaction.atomic
def record_send(letter: Letter, *, channel: str, by: User) -> LetterSend:
    """Record that a signed letter left the clinic, to the address on file for the channel."""
    if letter.status != Letter.Status.SIGNED:
        raise LettersError(
            "Sign the letter before it is sent.", field="channel", code="unsigned"
        )
    if channel not in LetterSend.Channel.values:
        raise LettersError("Choose how it is sent.", field="channel")
    recipient = letter.recipient
    address = {
        LetterSend.Channel.FAX: recipient.fax,
        LetterSend.Channel.EMAIL: recipient.email,
        LetterSend.Channel.PRINT: recipient.practice or recipient.name,
    }[LetterSend.Channel(channel)]
    if not address.strip():
        raise LettersError(
            f"{recipient.name} has no {LetterSend.Channel(channel).label.split(' ')[0].lower()} "
            "address on file: add it to the care team first.",
            field="channel",
            code="no_address",
        )
    send = LetterSend.objects.create(
        letter=letter, channel=channel, address=address, sent_by=by
    )
    record(
        AuditEvent.Action.LETTER_SENT,
        actor=by,
        patient=letter.patient,
        subject=letter,
        channel=channel,
    )
    return send
