"""Consent forms: versioned publishing, signing (portal or clinic tablet, witnessed),
the signed PDF, and the tablet hand-over."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from io import BytesIO

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from PIL import Image, UnidentifiedImageError

from neuroclinic.accounts.models import User
from neuroclinic.audit.models import AuditEvent
from neuroclinic.audit.record import record
from neuroclinic.clinics.models import Organization
from neuroclinic.intake import pdf, uploads
from neuroclinic.intake.actions.sign_in import TABLET_LINK_MINUTES, create_sign_in_link
from neuroclinic.intake.errors import IntakeError
from neuroclinic.intake.models import (
    ConsentDocument,
    ConsentSignature,
    PortalSignInLink,
)
from neuroclinic.patients.models import Patient

# Consent -------------------------------------------------------------------------------


@transaction.atomic
def publish_consent(
    organization: Organization,
    *,
    kind: str,
    title: str,
    body: str,
    by: User | None,
) -> ConsentDocument:
    """Publish a new version of a consent form. Patients sign it again before their next treatment."""
    if kind not in ConsentDocument.Kind.values:
        raise IntakeError("Choose which consent form this is.", field="kind")
    if not title.strip():
        raise IntakeError("Give the form a title.", field="title")
    if not body.strip():
        raise IntakeError("Write the text of the form.", field="body")
    previous = (
        ConsentDocument.objects.select_for_update()
        .filter(organization=organization, kind=kind)
        .order_by("-version")
        .first()
    )
    if (
        previous is not None
        and previous.body == body
        and previous.title == title.strip()
    ):
        raise IntakeError("Nothing changed since the current version.", field="body")
    document = ConsentDocument.objects.create(
        organization=organization,
        kind=kind,
        version=(previous.version + 1) if previous else 1,
        title=title.strip(),
        body=body,
        published_by=by,
    )
    record(
        AuditEvent.Action.CONSENT_PUBLISHED,
        actor=by,
        organization=organization,
        subject=document,
        kind=kind,
        version=document.version,
        text_sha256=uploads.sha256_hex(body),
    )
    return document


def signed_text(document: ConsentDocument) -> str:
    """Exactly what the patient signs: the title, the version and the body as shown."""
    return f"{document.title} (version {document.version})\n\n{document.body}"


def _check_signature_png(data: bytes) -> None:
    if not data or uploads.sniff(data[:16]) != uploads.PNG:
        raise IntakeError("Draw your signature in the box.", field="signature")
    if len(data) > uploads.MAX_SIGNATURE_BYTES:
        raise IntakeError("The signature image is too large.", field="signature")
    try:
        with Image.open(BytesIO(data)) as image:
            image.load()
            alpha = image.convert("RGBA").getchannel("A")
            inked = sum(alpha.histogram()[1:])
    except (UnidentifiedImageError, OSError, ValueError):
        raise IntakeError(
            "Draw your signature in the box.", field="signature"
        ) from None
    if inked < 30:
        raise IntakeError("Draw your signature in the box.", field="signature")


@dataclass(frozen=True)
class ConsentToSign:
    """One signature for `sign_consents`: the arguments of `sign_consent`."""

    patient: Patient
    document: ConsentDocument
    typed_name: str
    signature_png: bytes
    ip_address: str | None
    channel: ConsentSignature.Channel
    by: User | None = None


@transaction.atomic
def sign_consent(
    patient: Patient,
    document: ConsentDocument,
    *,
    typed_name: str,
    signature_png: bytes,
    ip_address: str | None,
    channel: ConsentSignature.Channel,
    by: User | None = None,
) -> ConsentSignature:
    """Sign the current version of a form: the exact text's hash, time, address, drawn
    signature and typed name, and a signed PDF, all stored.

    The patient signs; `by` is the staff member witnessing on the clinic tablet
    (None in the portal), recorded as the witness and the audit event's actor.
    """
    item = ConsentToSign(
        patient, document, typed_name, signature_png, ip_address, channel, by
    )
    signature = _prepared(item)
    rendered = pdf.signed_consent(
        signature, document=document, patient=patient, signature_png=signature_png
    )
    return _stored(signature, item, rendered)


@transaction.atomic
def sign_consents(items: Sequence[ConsentToSign]) -> list[ConsentSignature]:
    """Several signatures at once, as `sign_consent` makes each: every one checked and
    prepared, their PDFs rendered side by side (`pdf.render_all`), then each stored and
    recorded in the given order. One that fails its checks stores none of them."""
    prepared = [(_prepared(item), item) for item in items]
    rendered = pdf.render_all(
        [
            pdf.signed_consent_html(
                signature,
                document=item.document,
                patient=item.patient,
                signature_png=item.signature_png,
            )
            for signature, item in prepared
        ]
    )
    return [
        _stored(signature, item, document_pdf)
        for (signature, item), document_pdf in zip(prepared, rendered, strict=True)
    ]


def _prepared(item: ConsentToSign) -> ConsentSignature:
    """The signature checked and built, its drawn image stored; not saved yet."""
    patient, document = item.patient, item.document
    if document.organization_id != patient.organization_id:
        raise IntakeError("No such form.", field="document")
    latest = (
        ConsentDocument.objects.filter(
            organization_id=document.organization_id, kind=document.kind
        )
        .order_by("-version")
        .first()
    )
    if latest is None or latest.pk != document.pk:
        raise IntakeError(
            "This form has a newer version: please read that one.", field="document"
        )
    typed_name = " ".join(item.typed_name.split())
    if not typed_name:
        raise IntakeError("Type your full name.", field="typed_name")
    if len(typed_name) > 200:
        raise IntakeError("Type your name in under 200 characters.", field="typed_name")
    _check_signature_png(item.signature_png)
    text = signed_text(document)
    signature = ConsentSignature(
        organization_id=patient.organization_id,
        patient=patient,
        document=document,
        typed_name=typed_name,
        signed_text=text,
        text_sha256=uploads.sha256_hex(text),
        signed_at=timezone.now(),
        ip_address=item.ip_address or "",
        channel=item.channel,
        witnessed_by=item.by,
    )
    signature.signature_image.save(
        f"{signature.uuid}.png", ContentFile(item.signature_png), save=False
    )
    return signature


def _stored(
    signature: ConsentSignature, item: ConsentToSign, rendered: bytes
) -> ConsentSignature:
    """The prepared signature saved with its signed PDF, and the signing recorded."""
    signature.pdf.save(f"{signature.uuid}.pdf", ContentFile(rendered), save=False)
    signature.pdf_sha256 = uploads.sha256_hex(rendered)
    signature.save(force_insert=True)
    record(
        AuditEvent.Action.CONSENT_SIGNED,
        actor=item.by,
        patient=item.patient,
        subject=signature,
        kind=item.document.kind,
        version=item.document.version,
        text_sha256=signature.text_sha256,
        pdf_sha256=signature.pdf_sha256,
        channel=item.channel,
    )
    return signature


def record_consent_viewed(signature: ConsentSignature, *, by: User) -> None:
    with transaction.atomic():
        record(
            AuditEvent.Action.CONSENT_VIEWED,
            actor=by,
            patient=signature.patient,
            subject=signature,
        )


@transaction.atomic
def start_consent_tablet(patient: Patient, *, by: User) -> str:
    """A short-lived sign-in for the clinic tablet; returns its token. The staff member is the witness."""
    link, token = create_sign_in_link(
        patient,
        channel=PortalSignInLink.Channel.TABLET,
        lifetime=timedelta(minutes=TABLET_LINK_MINUTES),
        by=by,
    )
    record(
        AuditEvent.Action.CONSENT_TABLET_STARTED,
        actor=by,
        patient=patient,
        subject=link,
    )
    return token
