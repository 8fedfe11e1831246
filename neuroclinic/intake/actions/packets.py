"""The intake packet: sections saved as the patient goes, what is complete or missing,
the baseline questionnaires, documents, sending, and reminders."""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from neuroclinic.accounts.models import User
from neuroclinic.accounts.roles import Capability
from neuroclinic.audit.models import AuditEvent
from neuroclinic.audit.record import record
from neuroclinic.intake import eligibility, packet, uploads
from neuroclinic.intake.actions.sign_in import create_sign_in_link, send_sign_in_link
from neuroclinic.intake.errors import IntakeError
from neuroclinic.intake.models import (
    ConsultRequest,
    IntakeDocument,
    IntakePacket,
    PortalSignInLink,
)
from neuroclinic.measures.actions.portal_links import create_portal_link
from neuroclinic.measures.instruments import (
    INSTRUMENTS,
    Rater,
    get_instrument,
)
from neuroclinic.measures.models import (
    InstrumentWording,
    PortalLink,
    QuestionnaireResponse,
)
from neuroclinic.notifications.actions import notify
from neuroclinic.patients.models import Patient

# A baseline questionnaire counts if answered this long before the packet began.
BASELINE_WINDOW = timedelta(days=30)


# The intake packet ----------------------------------------------------------------------


@transaction.atomic
def open_packet(
    patient: Patient, *, consult_request: ConsultRequest | None = None
) -> IntakePacket:
    """The patient's packet, created if none is open yet. A write: never from a GET."""
    packet_row, _ = IntakePacket.objects.get_or_create(
        patient=patient,
        defaults={
            "organization_id": patient.organization_id,
            "consult_request": consult_request,
        },
    )
    return packet_row


def packet_for(patient: Patient) -> IntakePacket:
    """The patient's packet to read: the open one, else an unsaved empty one.

    Pages and API reads use this, so a GET never creates a row; the packet is
    created when a sign-in link is issued (`send_intake_link`), at conversion,
    or by the patient's first save.
    """
    found = IntakePacket.objects.filter(patient=patient).first()
    if found is not None:
        return found
    return IntakePacket(patient=patient, organization_id=patient.organization_id)


@transaction.atomic
def send_intake_link(
    patient: Patient, *, channel: PortalSignInLink.Channel, by: User
) -> str:
    """Open the packet and issue a sign-in link to it, sent by email or SMS or shown once.

    Returns the token (for "shown", the page shows it once). A link that cannot
    be sent (no address on file) is refused and nothing is written.
    """
    if channel == PortalSignInLink.Channel.TABLET:
        raise IntakeError("Send the link by email, text or show it.", field="channel")
    open_packet(patient)
    link, token = create_sign_in_link(patient, channel=channel, by=by)
    send_sign_in_link(link, token)
    return token


def _clean_section(key: str, data: Mapping[str, Any]) -> dict[str, Any]:
    """Only the known fields of a section, as strings or rows; everything else dropped."""
    if key in packet.LIST_FIELDS:
        names = packet.LIST_FIELDS[key]
        rows_in = data.get("rows", [])
        cleaned_rows = [
            {name: str(row.get(name, "") or "")[:200].strip() for name in names}
            for row in (rows_in if isinstance(rows_in, list) else [])
            if isinstance(row, Mapping)
        ]
        return {
            "rows": [r for r in cleaned_rows if any(r.values())][:30],
            packet.NONE_FLAGS[key]: bool(data.get(packet.NONE_FLAGS[key])),
        }
    allowed = SECTION_FIELDS.get(key)
    if allowed is None:
        raise IntakeError("No such section.", field="section")
    cleaned: dict[str, Any] = {}
    for name in allowed:
        value = data.get(name)
        if isinstance(value, bool):
            cleaned[name] = value
        elif value is not None:
            cleaned[name] = str(value)[:2000].strip()
    return cleaned


SECTION_FIELDS: dict[str, tuple[str, ...]] = {
    "about": (
        "preferred_name",
        "pronouns",
        "address_line1",
        "address_line2",
        "city",
        "state",
        "postal_code",
        "phone",
        "email",
        "preferred_language",
        "treatment",
    ),
    "contacts": (
        "emergency_name",
        "emergency_relationship",
        "emergency_phone",
        "escort_name",
        "escort_relationship",
        "escort_phone",
    ),
    "medical": (
        *eligibility.MEDICAL_HISTORY,
        "hypertension_controlled",
        "details",
    ),
    "psychiatric": (
        "diagnoses",
        *packet.PSYCHIATRIC_QUESTIONS,
        "psychosis_past_year",
        "hospitalized_details",
        "suicide_attempt_details",
    ),
    "substance": ("ketamine_misuse", "details"),
    "measurements": (
        "height_in",
        "weight_lb",
        "bp_systolic",
        "bp_diastolic",
        "height_unknown",
        "weight_unknown",
        "bp_unknown",
    ),
}


@transaction.atomic
def save_section(
    packet_row: IntakePacket,
    key: str,
    data: Mapping[str, Any],
    *,
    by: User | None = None,
) -> IntakePacket:
    """Save one section as it stands, complete or not: a dropped connection loses nothing saved."""
    if key not in packet.FORM_SECTIONS:
        raise IntakeError("No such section.", field="section")
    packet_row = IntakePacket.objects.select_for_update().get(pk=packet_row.pk)
    if packet_row.submitted_at is not None and by is None:
        raise IntakeError(
            "Your intake was already sent to the clinic. Call us if something has changed.",
            field="section",
        )
    cleaned = _clean_section(key, data)
    now = timezone.now()
    previous = packet_row.sections.get(key, {})
    changed = {k: v for k, v in cleaned.items() if k != "saved_at"} != {
        k: v for k, v in previous.items() if k != "saved_at"
    }
    cleaned["saved_at"] = now.isoformat()
    packet_row.sections = {**packet_row.sections, key: cleaned}
    packet_row.updated_at = now
    packet_row.started_at = packet_row.started_at or now
    packet_row.save(update_fields=["sections", "updated_at", "started_at"])
    if changed:
        record(
            AuditEvent.Action.INTAKE_SECTION_SAVED,
            actor=by,
            patient=packet_row.patient,
            subject=packet_row,
            section=key,
            complete=not packet.missing_fields(key, cleaned),
        )
    return packet_row


@dataclass(frozen=True)
class InstrumentStatus:
    code: str
    name: str
    done: bool
    by_patient: bool  # the patient may complete it in the portal (else staff ask it)
    optional: bool
    response: QuestionnaireResponse | None


@dataclass(frozen=True)
class SectionStatus:
    key: str
    title: str
    intro: str
    complete: bool
    missing: list[str]
    saved_at: str
    started: bool

    @property
    def patient_missing(self) -> list[str]:
        """What the patient can still do here (items only staff ask are left out)."""
        return [m for m in self.missing if not m.endswith(STAFF_ASKS)]

    @property
    def staff_missing(self) -> list[str]:
        return [
            m.removesuffix(STAFF_ASKS) for m in self.missing if m.endswith(STAFF_ASKS)
        ]

    @property
    def patient_done(self) -> bool:
        return not self.patient_missing


STAFF_ASKS = " (staff will ask)"


def _completable(organization_id: int, codes: Iterable[str]) -> frozenset[str]:
    """Of these instruments, those the patient may complete in the portal (one query).

    Patient-rated, with wording we may show: shipped, or loaded by the clinic
    for every item.
    """
    patient_rated = [c for c in codes if get_instrument(c).rater == Rater.PATIENT]
    licensed = [c for c in patient_rated if not INSTRUMENTS[c].wording_redistributable]
    loaded: dict[str, set[str]] = {}
    if licensed:
        for code, link_id in InstrumentWording.objects.filter(
            organization_id=organization_id, instrument_code__in=licensed
        ).values_list("instrument_code", "link_id"):
            loaded.setdefault(code, set()).add(link_id)
    return frozenset(
        c
        for c in patient_rated
        if c not in licensed
        or all(item.link_id in loaded.get(c, set()) for item in INSTRUMENTS[c].items)
    )


def patient_can_complete(organization_id: int, code: str) -> bool:
    """Patient-rated, with wording we may show: shipped, or loaded by the clinic for every item."""
    return code in _completable(organization_id, [code])


@dataclass(frozen=True)
class PacketReads:
    """What the statuses read besides the packets, loaded once for a page of packets."""

    responses: Mapping[int, Sequence[QuestionnaireResponse]]  # by patient, newest first
    completable: Mapping[int, frozenset[str]]  # by organization
    with_documents: frozenset[int]  # patient ids with an uploaded document


def load_packet_reads(packet_rows: Sequence[IntakePacket]) -> PacketReads:
    """Three queries per organization for any number of packets (list pages pin this)."""
    if not packet_rows:
        return PacketReads(responses={}, completable={}, with_documents=frozenset())
    patient_ids = {p.patient_id for p in packet_rows}
    earliest = min(p.created_at for p in packet_rows) - BASELINE_WINDOW
    responses: dict[int, list[QuestionnaireResponse]] = {}
    for response in QuestionnaireResponse.objects.filter(
        patient_id__in=patient_ids,
        instrument_code__in=packet.INTAKE_INSTRUMENTS,
        completed_at__gte=earliest,
        amended_by__isnull=True,
    ).order_by("-completed_at", "-id"):
        responses.setdefault(response.patient_id, []).append(response)
    return PacketReads(
        responses=responses,
        completable={
            org: _completable(org, packet.INTAKE_INSTRUMENTS)
            for org in {p.organization_id for p in packet_rows}
        },
        with_documents=frozenset(
            IntakeDocument.objects.filter(patient_id__in=patient_ids).values_list(
                "patient_id", flat=True
            )
        ),
    )


def instrument_statuses(
    packet_row: IntakePacket,
    codes: Sequence[str] = packet.INTAKE_INSTRUMENTS,
    *,
    reads: PacketReads | None = None,
) -> list[InstrumentStatus]:
    """Each intake instrument: answered within the baseline window, and by whom it is asked."""
    reads = reads or load_packet_reads([packet_row])
    since = packet_row.created_at - BASELINE_WINDOW
    latest: dict[str, QuestionnaireResponse] = {}
    for response in reads.responses.get(packet_row.patient_id, ()):
        if response.instrument_code in codes and response.completed_at >= since:
            latest.setdefault(response.instrument_code, response)
    completable = reads.completable[packet_row.organization_id]
    return [
        InstrumentStatus(
            code=code,
            name=INSTRUMENTS[code].name,
            done=code in latest,
            by_patient=code in completable,
            optional=code in packet.OPTIONAL_INSTRUMENTS,
            response=latest.get(code),
        )
        for code in codes
    ]


def packet_status(
    packet_row: IntakePacket, *, reads: PacketReads | None = None
) -> list[SectionStatus]:
    """Complete or missing, section by section (questionnaires and documents included)."""
    reads = reads or load_packet_reads([packet_row])
    statuses = []
    instruments = {s.code: s for s in instrument_statuses(packet_row, reads=reads)}
    for section in packet.SECTIONS:
        data = packet_row.sections.get(section.key, {})
        if section.key == "questionnaires":
            missing = [
                s.name + ("" if s.by_patient else STAFF_ASKS)
                for code in packet.BASELINE_INSTRUMENTS
                if not (s := instruments[code]).done and not s.optional
            ]
            started = any(instruments[c].done for c in packet.BASELINE_INSTRUMENTS)
        elif section.key == "documents":
            missing = []
            started = packet_row.patient_id in reads.with_documents
        else:
            missing = (
                packet.missing_fields(section.key, data) if data else ["Not started"]
            )
            if section.key == "substance":
                missing += [
                    s.name + ("" if s.by_patient else STAFF_ASKS)
                    for code in packet.SUBSTANCE_INSTRUMENTS
                    if not (s := instruments[code]).done
                ]
            started = bool(data)
        statuses.append(
            SectionStatus(
                key=section.key,
                title=section.title,
                intro=section.intro,
                complete=not missing,
                missing=missing,
                saved_at=str(data.get("saved_at", "")),
                started=started,
            )
        )
    return statuses


def patient_part_complete(statuses: Sequence[SectionStatus]) -> bool:
    """Everything the patient can do is done (items only staff can ask may remain)."""
    return all(s.patient_done for s in statuses)


@transaction.atomic
def submit_packet(packet_row: IntakePacket) -> IntakePacket:
    packet_row = (
        IntakePacket.objects.select_for_update()
        .select_related("patient")
        .get(pk=packet_row.pk)
    )
    if packet_row.submitted_at is not None:
        return packet_row
    statuses = packet_status(packet_row)
    if not patient_part_complete(statuses):
        missing = [s.title for s in statuses if not s.complete]
        raise IntakeError(
            "Some sections are not finished: " + ", ".join(missing) + ".",
            field="section",
        )
    packet_row.submitted_at = timezone.now()
    packet_row.save(update_fields=["submitted_at"])
    record(
        AuditEvent.Action.INTAKE_SUBMITTED,
        actor=None,
        patient=packet_row.patient,
        subject=packet_row,
    )
    patient = packet_row.patient
    recipients = (
        [patient.prescriber]
        if patient.prescriber and patient.prescriber.is_active
        else _deciders(patient.organization_id)
    )
    for recipient in recipients:
        notify(
            recipient,
            subject="An intake is ready for eligibility review",
            body="A patient finished their intake packet.",
            link=reverse("intake:eligibility", kwargs={"patient_uuid": patient.uuid}),
        )
    return packet_row


def _deciders(organization_id: int) -> list[User]:
    return [
        u
        for u in User.objects.filter(
            organization_id=organization_id, is_active=True
        ).order_by("id")
        if u.can(Capability.DECIDE_ELIGIBILITY)
    ][:3]


@transaction.atomic
def send_reminder(
    packet_row: IntakePacket, *, channel: PortalSignInLink.Channel, by: User
) -> PortalSignInLink:
    """Remind the patient to finish, with a fresh sign-in link."""
    packet_row = (
        IntakePacket.objects.select_for_update()
        .select_related("patient")
        .get(pk=packet_row.pk)
    )
    if packet_row.submitted_at is not None:
        raise IntakeError("The patient already sent their intake.", field="channel")
    if channel not in (PortalSignInLink.Channel.EMAIL, PortalSignInLink.Channel.SMS):
        raise IntakeError("Remind by email or text message.", field="channel")
    link, token = create_sign_in_link(packet_row.patient, channel=channel, by=by)
    send_sign_in_link(link, token, reminder=True)
    packet_row.last_reminder_at = timezone.now()
    packet_row.reminder_count += 1
    packet_row.save(update_fields=["last_reminder_at", "reminder_count"])
    record(
        AuditEvent.Action.INTAKE_REMINDER_SENT,
        actor=by,
        patient=packet_row.patient,
        subject=packet_row,
        channel=channel,
    )
    return link


@transaction.atomic
def questionnaire_link(packet_row: IntakePacket) -> PortalLink | None:
    """A measures portal link for the intake questionnaires the patient still has to answer.

    Answers go through `measures` (scoring, safety alerts as answered, source
    "portal"); the link is never sent, only used by the signed-in portal. It
    may create the link, so only a POST calls it.
    """
    to_do = [
        s.code for s in instrument_statuses(packet_row) if not s.done and s.by_patient
    ]
    if not to_do:
        return None
    existing = (
        PortalLink.objects.filter(
            patient_id=packet_row.patient_id,
            channel=PortalLink.Channel.NONE,
            created_by__isnull=True,
            used_at__isnull=True,
            expires_at__gt=timezone.now(),
        )
        .order_by("-created_at")
        .first()
    )
    if existing is not None and set(to_do) <= set(existing.instrument_codes):
        return existing
    link, _token = create_portal_link(
        packet_row.patient,
        instrument_codes=to_do,
        channel=PortalLink.Channel.NONE,
        by=None,
    )
    return link


# Documents ---------------------------------------------------------------------------


@transaction.atomic
def upload_document(
    patient: Patient,
    *,
    kind: str,
    name: str,
    content: bytes,
    by: User | None,
) -> IntakeDocument:
    """Store a PDF, JPEG or PNG (checked by content) under MEDIA_ROOT, never the web root."""
    if kind not in IntakeDocument.Kind.values:
        raise IntakeError("Choose what kind of document this is.", field="kind")
    if not content:
        raise IntakeError("The file is empty.", field="file")
    limit = getattr(settings, "INTAKE_UPLOAD_MAX_BYTES", uploads.MAX_DOCUMENT_BYTES)
    if len(content) > limit:
        raise IntakeError(
            f"Files must be under {limit // (1024 * 1024)} MB.", field="file"
        )
    content_type = uploads.sniff(content[:16])
    if content_type is None:
        raise IntakeError("Upload a PDF, JPEG or PNG file.", field="file")
    document = IntakeDocument(
        organization_id=patient.organization_id,
        patient=patient,
        kind=kind,
        original_name=(name or "document")[-200:],
        content_type=content_type,
        size_bytes=len(content),
        sha256=uploads.sha256_hex(content),
        uploaded_by=by,
    )
    # The stored name is random: the patient's file name never reaches the disk.
    document.file.save(
        f"{document.uuid}.{uploads.EXTENSIONS[content_type]}",
        ContentFile(content),
        save=False,
    )
    document.save(force_insert=True)
    record(
        AuditEvent.Action.DOCUMENT_UPLOADED,
        actor=by,
        patient=patient,
        subject=document,
        content_type=content_type,
        size_bytes=len(content),
    )
    return document


def record_intake_viewed(patient: Patient, *, by: User) -> None:
    with transaction.atomic():
        record(AuditEvent.Action.INTAKE_VIEWED, actor=by, patient=patient)


def record_document_viewed(document: IntakeDocument, *, by: User) -> None:
    with transaction.atomic():
        record(
            AuditEvent.Action.DOCUMENT_VIEWED,
            actor=by,
            patient=document.patient,
            subject=document,
        )
