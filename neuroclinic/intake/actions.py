"""Every write in intake goes through here: consult requests, portal sign-in, the
packet, documents, eligibility decisions and consents.

Each action runs in one transaction and records an audit event. Callers check
capabilities and patient access first (staff) or hold a portal session for
the patient (portal).
"""

import hashlib
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from io import BytesIO
from typing import Any

from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from PIL import Image, UnidentifiedImageError

from neuroclinic.accounts.models import User
from neuroclinic.accounts.roles import Capability
from neuroclinic.audit.models import AuditEvent
from neuroclinic.audit.record import record
from neuroclinic.clinics.models import Organization
from neuroclinic.intake import eligibility, packet, pdf, uploads
from neuroclinic.intake.checks import latest_decision
from neuroclinic.intake.models import (
    ConsentDocument,
    ConsentSignature,
    ConsultNote,
    ConsultRequest,
    EligibilityDecision,
    EligibilityRuleSet,
    IntakeDocument,
    IntakePacket,
    IntakeSettings,
    PortalSignInLink,
)
from neuroclinic.lib.messaging import send_email, send_sms
from neuroclinic.measures import actions as measures_actions
from neuroclinic.measures.instruments import (
    INSTRUMENTS,
    InvalidResponse,
    Rater,
    ScoreFlag,
    get_instrument,
    score,
)
from neuroclinic.measures.models import (
    InstrumentWording,
    PortalLink,
    QuestionnaireResponse,
)
from neuroclinic.notifications.actions import notify
from neuroclinic.patients import actions as patient_actions
from neuroclinic.patients.models import CareTeamProvider, Patient

SIGN_IN_SALT = "neuroclinic.intake.portal-sign-in"
SELF_CHECK_SALT = "neuroclinic.intake.self-check"
SIGN_IN_LINK_HOURS = 72
TABLET_LINK_MINUTES = 30
SELF_CHECK_INSTRUMENTS = ("phq9", "gad7")
SELF_CHECK_MAX_AGE_SECONDS = 6 * 60 * 60
# Form posts from one address: this many per window (per kind of form).
RATE_LIMIT = 5
RATE_WINDOW_SECONDS = 60 * 60
# A baseline questionnaire counts if answered this long before the packet began.
BASELINE_WINDOW = timedelta(days=30)


class IntakeError(Exception):
    """A refused request, with a message for the person who made it and the field at fault."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class SignInLinkInvalid(IntakeError):
    pass


class DuplicatesFound(IntakeError):
    def __init__(self, duplicates: list[Patient]) -> None:
        super().__init__(
            "Possible duplicates found: link the request to one of them, or confirm a new patient.",
            field="confirm_new",
        )
        self.duplicates = duplicates


def _sha256(data: bytes | str) -> str:
    return hashlib.sha256(data.encode() if isinstance(data, str) else data).hexdigest()


def public_organization() -> Organization | None:
    """The clinic the public site speaks for: PUBLIC_SITE_ORGANIZATION (a UUID), else the first one."""
    wanted = getattr(settings, "PUBLIC_SITE_ORGANIZATION", "")
    organizations = Organization.objects.order_by("id")
    if wanted:
        return organizations.filter(uuid=wanted).first()
    return organizations.first()


def rate_limited(kind: str, address: str | None, *, limit: int = RATE_LIMIT) -> bool:
    """Count one more post of this kind from this address; True when over the limit.

    Keyed on REMOTE_ADDR only (audit.record.client_ip explains why), in the
    shared database cache so every web worker counts together.
    """
    key = f"intake:rate:{kind}:{address or 'unknown'}"
    if cache.add(key, 1, timeout=RATE_WINDOW_SECONDS):
        return False
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, timeout=RATE_WINDOW_SECONDS)
        return False
    return count > limit


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
    fields: Mapping[str, Any],
    consent_to_contact: bool,
    self_check: Sequence[SelfCheckResult] = (),
    source: ConsultRequest.Source = ConsultRequest.Source.SITE,
) -> ConsultRequest:
    """A visitor's request for a consultation. Self-check results are stored only if passed in."""
    if not consent_to_contact:
        raise IntakeError(
            "Please agree that we may contact you, or we cannot reply.",
            field="consent_to_contact",
        )
    if not (fields.get("phone") or fields.get("email")):
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
        **{k: fields[k] for k in CONSULT_FIELDS if k in fields},
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
    by: User,
    status: str | None = None,
    assigned_to: User | bool | None = False,
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
def add_consult_note(request: ConsultRequest, *, by: User, text: str) -> ConsultNote:
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
    by: User,
    birth_date: date,
    sex_at_birth: str,
    family_name: str | None = None,
    given_name: str | None = None,
    existing: Patient | None = None,
    confirm_new: bool = False,
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
            registered_by=by,
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
            added_by=by,
            role=CareTeamProvider.Role.REFERRING,
            name=request.referring_provider[:200],
        )
    for entry in request.self_check:
        completed = (
            datetime.fromisoformat(entry["completed_at"])
            if entry.get("completed_at")
            else request.created_at
        )
        measures_actions.record_response(
            patient,
            instrument_code=entry["instrument_code"],
            answers=entry["answers"],
            source=QuestionnaireResponse.Source.SELF_CHECK,
            entered_by=by,
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


# Portal sign-in ------------------------------------------------------------------------


@transaction.atomic
def create_sign_in_link(
    patient: Patient,
    *,
    channel: PortalSignInLink.Channel,
    created_by: User | None,
    lifetime: timedelta = timedelta(hours=SIGN_IN_LINK_HOURS),
) -> tuple[PortalSignInLink, str]:
    """A single-use, expiring sign-in link; returns it and its token (stored only hashed)."""
    token = signing.dumps(secrets.token_urlsafe(24), salt=SIGN_IN_SALT, compress=True)
    link = PortalSignInLink.objects.create(
        organization_id=patient.organization_id,
        patient=patient,
        token_hash=_sha256(token),
        channel=channel,
        created_by=created_by,
        expires_at=timezone.now() + lifetime,
    )
    record(
        AuditEvent.Action.PORTAL_SIGN_IN_SENT,
        actor=created_by,
        patient=patient,
        subject=link,
        channel=channel,
    )
    return link, token


def sign_in_url(token: str) -> str:
    return settings.PUBLIC_BASE_URL.rstrip("/") + reverse(
        "intake_portal:sign_in", kwargs={"token": token}
    )


def send_sign_in_link(
    link: PortalSignInLink, token: str, *, reminder: bool = False
) -> None:
    """Send the link by its channel after commit. The message carries no clinical content."""
    patient = link.patient
    clinic = patient.organization.name
    what = "finish" if reminder else "complete"
    text = (
        f"{clinic}: please {what} your intake forms before your visit. "
        f"This link works once and expires in {SIGN_IN_LINK_HOURS} hours: {sign_in_url(token)}"
    )
    if link.channel == PortalSignInLink.Channel.EMAIL:
        if not patient.email:
            raise IntakeError(
                "The patient has no email address on file.", field="channel"
            )
        email = patient.email
        transaction.on_commit(
            lambda: send_email(email, f"{clinic}: your intake forms", text)
        )
    elif link.channel == PortalSignInLink.Channel.SMS:
        if not patient.phone:
            raise IntakeError(
                "The patient has no phone number on file.", field="channel"
            )
        phone = patient.phone
        transaction.on_commit(lambda: send_sms(phone, text))


INVALID_LINK = "This sign-in link is not valid. Check you copied all of it, or ask the clinic for a new one."


@transaction.atomic
def use_sign_in_link(token: str) -> PortalSignInLink:
    """Spend a sign-in link: returns it, marked used; else SignInLinkInvalid saying why and nothing more.

    Refusals are audited without naming the patient.
    """
    try:
        signing.loads(token, salt=SIGN_IN_SALT)
    except signing.BadSignature:
        raise SignInLinkInvalid(INVALID_LINK) from None
    link = (
        PortalSignInLink.objects.select_for_update()
        .select_related("patient", "patient__organization")
        .filter(token_hash=_sha256(token))
        .first()
    )
    if link is None:
        raise SignInLinkInvalid(INVALID_LINK)
    if link.used_at is not None:
        raise SignInLinkInvalid(
            "This sign-in link was already used: each link works once. "
            "Ask the clinic to send you a new one."
        )
    if link.expires_at <= timezone.now():
        raise SignInLinkInvalid(
            "This sign-in link has expired. Ask the clinic to send you a new one."
        )
    link.used_at = timezone.now()
    link.save(update_fields=["used_at"])
    record(
        AuditEvent.Action.PORTAL_SIGNED_IN,
        actor=None,
        patient=link.patient,
        subject=link,
        channel=link.channel,
    )
    return link


def record_refused_sign_in(reason: str) -> None:
    with transaction.atomic():
        record(
            AuditEvent.Action.PORTAL_SIGN_IN_REFUSED,
            actor=None,
            outcome=AuditEvent.Outcome.DENIED,
            reason=reason,
        )


# The intake packet ----------------------------------------------------------------------


@transaction.atomic
def open_packet(
    patient: Patient, *, consult_request: ConsultRequest | None = None
) -> IntakePacket:
    packet_row, _ = IntakePacket.objects.get_or_create(
        patient=patient,
        defaults={
            "organization_id": patient.organization_id,
            "consult_request": consult_request,
        },
    )
    return packet_row


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


def patient_can_complete(organization_id: int, code: str) -> bool:
    """Patient-rated, with wording we may show: shipped, or loaded by the clinic for every item."""
    instrument = get_instrument(code)
    if instrument.rater != Rater.PATIENT:
        return False
    if instrument.wording_redistributable:
        return True
    loaded = set(
        InstrumentWording.objects.filter(
            organization_id=organization_id, instrument_code=code
        ).values_list("link_id", flat=True)
    )
    return all(item.link_id in loaded for item in instrument.items)


def instrument_statuses(
    packet_row: IntakePacket, codes: Sequence[str] = packet.INTAKE_INSTRUMENTS
) -> list[InstrumentStatus]:
    since = packet_row.created_at - BASELINE_WINDOW
    latest: dict[str, QuestionnaireResponse] = {}
    for response in QuestionnaireResponse.objects.filter(
        patient_id=packet_row.patient_id,
        instrument_code__in=codes,
        completed_at__gte=since,
        amended_by__isnull=True,
    ).order_by("-completed_at", "-id"):
        latest.setdefault(response.instrument_code, response)
    return [
        InstrumentStatus(
            code=code,
            name=INSTRUMENTS[code].name,
            done=code in latest,
            by_patient=patient_can_complete(packet_row.organization_id, code),
            optional=code in packet.OPTIONAL_INSTRUMENTS,
            response=latest.get(code),
        )
        for code in codes
    ]


def packet_status(packet_row: IntakePacket) -> list[SectionStatus]:
    """Complete or missing, section by section (questionnaires and documents included)."""
    statuses = []
    instruments = {s.code: s for s in instrument_statuses(packet_row)}
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
            started = IntakeDocument.objects.filter(
                patient_id=packet_row.patient_id
            ).exists()
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
    packet_row: IntakePacket, *, by: User, channel: PortalSignInLink.Channel
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
    link, token = create_sign_in_link(
        packet_row.patient, channel=channel, created_by=by
    )
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


def questionnaire_link(packet_row: IntakePacket) -> PortalLink | None:
    """A measures portal link for the intake questionnaires the patient still has to answer.

    Answers go through `measures` (scoring, safety alerts as answered, source
    "portal"); the link is never sent, only used by the signed-in portal.
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
    link, _token = measures_actions.create_portal_link(
        packet_row.patient,
        instrument_codes=to_do,
        channel=PortalLink.Channel.NONE,
        created_by=None,
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
        sha256=_sha256(content),
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


# Eligibility ---------------------------------------------------------------------------


def current_rules(organization_id: int) -> EligibilityRuleSet | None:
    return (
        EligibilityRuleSet.objects.filter(organization_id=organization_id)
        .order_by("-version")
        .first()
    )


def screens_for(packet_row: IntakePacket) -> packet.ScreenResults:
    statuses = {s.code: s for s in instrument_statuses(packet_row)}

    def response(code: str) -> QuestionnaireResponse | None:
        return statuses[code].response

    audit_c = response("audit-c")
    dast = response("dast10")
    mdq = response("mdq")
    phq9 = response("phq9")
    cssrs = response("cssrs-screener")
    suicide: bool | None = None
    if phq9 is not None or cssrs is not None:
        suicide = any(r is not None and r.raises_safety_alert for r in (phq9, cssrs))
    return packet.ScreenResults(
        audit_c_positive=None
        if audit_c is None
        else ScoreFlag.AUDIT_C_POSITIVE in audit_c.flags,
        dast10_total=None if dast is None else dast.total,
        mdq_positive=None if mdq is None else ScoreFlag.MDQ_POSITIVE in mdq.flags,
        suicide_screen_positive=suicide,
    )


@dataclass(frozen=True)
class EligibilityReview:
    review: eligibility.Review
    facts: eligibility.IntakeFacts
    rules: EligibilityRuleSet | None


def review_for(patient: Patient) -> EligibilityReview:
    """The rules run over this patient's intake as it stands now."""
    packet_row = open_packet(patient)
    rules = current_rules(patient.organization_id)
    overrides = rules.overrides if rules else {}
    min_weeks = int(
        overrides.get("trd_indication", {})
        .get("params", {})
        .get("min_weeks", eligibility.ADEQUATE_TRIAL_WEEKS)
    )
    complete = [s.key for s in packet_status(packet_row) if s.complete]
    facts = packet.facts_from(
        packet_row.sections,
        age_years=packet.age_on(patient.birth_date, timezone.localdate()),
        screens=screens_for(packet_row),
        complete=complete,
        min_weeks=min_weeks,
    )
    review = eligibility.evaluate(
        facts, overrides=overrides, clinic_version=rules.version if rules else None
    )
    return EligibilityReview(review=review, facts=facts, rules=rules)


def record_review_opened(patient: Patient, *, by: User) -> None:
    with transaction.atomic():
        record(AuditEvent.Action.ELIGIBILITY_REVIEWED, actor=by, patient=patient)


def intake_settings(organization_id: int) -> IntakeSettings:
    found = IntakeSettings.objects.filter(organization_id=organization_id).first()
    return found or IntakeSettings(organization_id=organization_id)


def patient_message(decision: EligibilityDecision, settings_row: IntakeSettings) -> str:
    """The clinic's wording for this outcome, with the decision's details filled in."""
    template = {
        EligibilityDecision.Outcome.ELIGIBLE: settings_row.message_eligible,
        EligibilityDecision.Outcome.ELIGIBLE_WITH_CONDITIONS: settings_row.message_eligible_with_conditions,
        EligibilityDecision.Outcome.NEEDS_CLEARANCE: settings_row.message_needs_clearance,
        EligibilityDecision.Outcome.NOT_ELIGIBLE: settings_row.message_not_eligible,
    }[EligibilityDecision.Outcome(decision.outcome)]
    values = {
        "{conditions}": decision.conditions,
        "{provider}": decision.clearance_provider_name or "your provider",
        "{resources}": decision.referral_resources or settings_row.referral_resources,
    }
    for placeholder, value in values.items():
        template = template.replace(placeholder, value)
    return template


@transaction.atomic
def decide_eligibility(
    patient: Patient,
    *,
    by: User,
    password: str,
    outcome: str,
    conditions: str = "",
    reason: str = "",
    referral_resources: str = "",
    clearance_provider_name: str = "",
    clearance_provider_practice: str = "",
    clearance_provider_fax: str = "",
    clearance_provider_email: str = "",
    clearance_question: str = "",
) -> EligibilityDecision:
    """Record and sign (by re-entering the password) a decision, with the rules version used."""
    if outcome not in EligibilityDecision.Outcome.values:
        raise IntakeError("Choose a decision.", field="outcome")
    Outcome = EligibilityDecision.Outcome
    if outcome == Outcome.ELIGIBLE_WITH_CONDITIONS and not conditions.strip():
        raise IntakeError("Say what the conditions are.", field="conditions")
    if outcome == Outcome.NEEDS_CLEARANCE:
        if not clearance_provider_name.strip():
            raise IntakeError(
                "Name the provider who must clear the patient.",
                field="clearance_provider_name",
            )
        if not clearance_question.strip():
            raise IntakeError(
                "Say what you are asking the provider.", field="clearance_question"
            )
    if outcome == Outcome.NOT_ELIGIBLE and not reason.strip():
        raise IntakeError("Give the reason.", field="reason")
    if not password or not by.check_password(password):
        # The caller audits the refusal (record_refused_signature) after this rollback.
        raise IntakeError(
            "That password is not right. The decision was not signed.", field="password"
        )
    review = review_for(patient)
    settings_row = intake_settings(patient.organization_id)
    decision = EligibilityDecision(
        organization_id=patient.organization_id,
        patient=patient,
        outcome=outcome,
        conditions=conditions.strip(),
        reason=reason.strip(),
        referral_resources=(
            referral_resources.strip() or settings_row.referral_resources
        )
        if outcome == Outcome.NOT_ELIGIBLE
        else referral_resources.strip(),
        clearance_provider_name=clearance_provider_name.strip(),
        clearance_provider_practice=clearance_provider_practice.strip(),
        clearance_provider_fax=clearance_provider_fax.strip(),
        clearance_provider_email=clearance_provider_email.strip(),
        clearance_question=clearance_question.strip(),
        rules_version=review.review.version,
        findings=[f.as_dict() for f in review.review.findings],
        facts=_facts_snapshot(review.facts),
        decided_by=by,
        signed_at=timezone.now(),
    )
    decision.patient_message = patient_message(decision, settings_row)
    if outcome == Outcome.NEEDS_CLEARANCE:
        letter = pdf.clearance_letter(decision, patient=patient, prescriber=by)
        decision.clearance_letter.save(
            f"{decision.uuid}.pdf", ContentFile(letter), save=False
        )
    decision.save(force_insert=True)
    record(
        AuditEvent.Action.ELIGIBILITY_DECIDED,
        actor=by,
        patient=patient,
        subject=decision,
        decision=outcome,
        rules_version=decision.rules_version,
        exclusions=len(review.review.exclusions),
        cautions=len(review.review.cautions),
        missing=len(review.review.missing),
    )
    return decision


def record_refused_signature(patient: Patient, *, by: User) -> None:
    with transaction.atomic():
        record(
            AuditEvent.Action.ELIGIBILITY_SIGN_REFUSED,
            actor=by,
            patient=patient,
            outcome=AuditEvent.Outcome.DENIED,
        )


def _facts_snapshot(facts: eligibility.IntakeFacts) -> dict[str, Any]:
    snapshot: dict[str, Any] = {}
    for name in eligibility.IntakeFacts.__dataclass_fields__:
        value = getattr(facts, name)
        if isinstance(value, frozenset):
            value = sorted(str(v) for v in value)
        elif isinstance(value, Mapping):
            value = dict(value)
        snapshot[name] = value
    return snapshot


@transaction.atomic
def save_rules(
    organization: Organization, *, by: User, overrides: Mapping[str, Any], reason: str
) -> EligibilityRuleSet:
    """A new numbered version of the clinic's rule settings (the old ones stay, for old decisions)."""
    if not reason.strip():
        raise IntakeError("Say why the rules change.", field="reason")
    try:
        eligibility.configured_rules(overrides)
    except eligibility.InvalidOverrides as exc:
        raise IntakeError(str(exc), field="overrides") from None
    previous = current_rules(organization.pk)
    rules = EligibilityRuleSet.objects.create(
        organization=organization,
        version=(previous.version + 1) if previous else 1,
        overrides=dict(overrides),
        reason=reason.strip(),
        created_by=by,
    )
    record(
        AuditEvent.Action.ELIGIBILITY_RULES_CHANGED,
        actor=by,
        organization=organization,
        subject=rules,
        version=rules.version,
        overrides=dict(overrides),
    )
    return rules


@transaction.atomic
def save_intake_settings(
    organization: Organization, *, by: User, **fields: str
) -> IntakeSettings:
    settings_row = intake_settings(organization.pk)
    changed = [k for k, v in fields.items() if getattr(settings_row, k) != v]
    for key, value in fields.items():
        setattr(settings_row, key, value)
    settings_row.save()
    record(
        AuditEvent.Action.INTAKE_SETTINGS_CHANGED,
        actor=by,
        organization=organization,
        fields=changed,
    )
    return settings_row


def portal_status_message(patient: Patient) -> str:
    decision = latest_decision(patient)
    if decision is None:
        return intake_settings(patient.organization_id).message_pending
    return decision.patient_message


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
        text_sha256=_sha256(body),
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


@transaction.atomic
def sign_consent(
    patient: Patient,
    document: ConsentDocument,
    *,
    typed_name: str,
    signature_png: bytes,
    ip_address: str | None,
    channel: ConsentSignature.Channel,
    witnessed_by: User | None = None,
) -> ConsentSignature:
    """Sign the current version of a form: the exact text's hash, time, address, drawn
    signature and typed name, and a signed PDF, all stored."""
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
    typed_name = " ".join(typed_name.split())
    if not typed_name:
        raise IntakeError("Type your full name.", field="typed_name")
    if len(typed_name) > 200:
        raise IntakeError("Type your name in under 200 characters.", field="typed_name")
    _check_signature_png(signature_png)
    text = signed_text(document)
    signature = ConsentSignature(
        organization_id=patient.organization_id,
        patient=patient,
        document=document,
        typed_name=typed_name,
        signed_text=text,
        text_sha256=_sha256(text),
        signed_at=timezone.now(),
        ip_address=ip_address or "",
        channel=channel,
        witnessed_by=witnessed_by,
    )
    signature.signature_image.save(
        f"{signature.uuid}.png", ContentFile(signature_png), save=False
    )
    rendered = pdf.signed_consent(
        signature, document=document, patient=patient, signature_png=signature_png
    )
    signature.pdf.save(f"{signature.uuid}.pdf", ContentFile(rendered), save=False)
    signature.pdf_sha256 = _sha256(rendered)
    signature.save(force_insert=True)
    record(
        AuditEvent.Action.CONSENT_SIGNED,
        actor=witnessed_by,
        patient=patient,
        subject=signature,
        kind=document.kind,
        version=document.version,
        text_sha256=signature.text_sha256,
        pdf_sha256=signature.pdf_sha256,
        channel=channel,
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


def record_letter_viewed(decision: EligibilityDecision, *, by: User) -> None:
    with transaction.atomic():
        record(
            AuditEvent.Action.CLEARANCE_LETTER_VIEWED,
            actor=by,
            patient=decision.patient,
            subject=decision,
        )


@transaction.atomic
def start_consent_tablet(patient: Patient, *, by: User) -> str:
    """A short-lived sign-in for the clinic tablet; returns its token. The staff member is the witness."""
    link, token = create_sign_in_link(
        patient,
        channel=PortalSignInLink.Channel.TABLET,
        created_by=by,
        lifetime=timedelta(minutes=TABLET_LINK_MINUTES),
    )
    record(
        AuditEvent.Action.CONSENT_TABLET_STARTED,
        actor=by,
        patient=patient,
        subject=link,
    )
    return token
