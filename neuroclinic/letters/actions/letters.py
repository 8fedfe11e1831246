"""Letter templates, drafts filled from the chart, the prescriber's signature, and each send."""

import hashlib
import logging
from datetime import date, timedelta

from django.core import signing
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from neuroclinic.accounts.models import User
from neuroclinic.audit.models import AuditEvent
from neuroclinic.audit.record import record
from neuroclinic.clinics.models import Organization
from neuroclinic.intake.models import (
    ConsentDocument,
    ConsentSignature,
    EligibilityDecision,
)
from neuroclinic.letters import course_scores, defaults
from neuroclinic.letters.chart import chart_values
from neuroclinic.letters.errors import LettersError
from neuroclinic.letters.fields import LetterFieldError, fill, unknown_fields
from neuroclinic.letters.models import (
    Letter,
    LetterAddendum,
    LetterSend,
    LetterTemplate,
    Part2Consent,
)
from neuroclinic.lib.links import absolute_url
from neuroclinic.measures.instruments import INSTRUMENTS
from neuroclinic.measures.models import QuestionnaireResponse
from neuroclinic.measures.outcome_rules import clinic_outcome_rules
from neuroclinic.patients.actions import add_care_team_provider
from neuroclinic.patients.models import CareTeamProvider, Patient
from neuroclinic.tms.models import SeizureEvent, SideEffect, TmsCourse, TmsSession
from neuroclinic.treatment.actions.signatures import confirm_signature
from neuroclinic.treatment.errors import TreatmentError

logger = logging.getLogger(__name__)

DEFAULT_BODIES: dict[str, str] = {
    LetterTemplate.Kind.END_OF_SERIES.value: defaults.END_OF_SERIES,
    LetterTemplate.Kind.CONSULT.value: defaults.CONSULT,
    LetterTemplate.Kind.THERAPIST.value: defaults.THERAPIST,
    LetterTemplate.Kind.BOOSTER.value: defaults.BOOSTER,
    LetterTemplate.Kind.TMS_COURSE.value: defaults.TMS_COURSE,
    LetterTemplate.Kind.CONCERNS.value: defaults.CONCERNS,
    LetterTemplate.Kind.CLEARANCE.value: defaults.CLEARANCE,
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
    patient: Patient,
    *,
    kind: str,
    recipient: CareTeamProvider,
    by: User,
    part2: bool = False,
    decision: EligibilityDecision | None = None,
) -> Letter:
    """A draft filled from the chart for one of the patient's care-team providers.

    A clearance request also quotes the signed eligibility decision that asks for it
    (`decision`, or the patient's latest decision needing clearance).
    """
    if recipient.patient_id != patient.pk:
        raise LettersError(
            "That provider is not on this patient's care team.", field="recipient"
        )
    extra: dict[str, str] = {}
    if kind == LetterTemplate.Kind.CLEARANCE:
        decision = decision or latest_clearance_decision(patient)
        if (
            decision is None
            or decision.patient_id != patient.pk
            or decision.outcome != EligibilityDecision.Outcome.NEEDS_CLEARANCE
        ):
            raise LettersError(
                "A clearance request needs a signed eligibility decision asking for "
                "clearance: decide on the eligibility page first.",
                field="kind",
                code="no_clearance_decision",
            )
        extra = clearance_values(decision)
    elif decision is not None:
        raise LettersError(
            "Only a clearance request quotes an eligibility decision.", field="kind"
        )
    assert patient.organization is not None
    template = current_template(patient.organization, kind, by=by)
    values = chart_values(patient, recipient=recipient, prescriber=by)
    if kind == LetterTemplate.Kind.TMS_COURSE:
        values.update(course_values(patient))
    values.update(extra)
    body = fill(template.body, values)
    letter = Letter.objects.create(
        organization_id=patient.organization_id,
        patient=patient,
        template=template,
        recipient=recipient,
        body=body,
        created_by=by,
        part2=part2,
        eligibility_decision=decision,
    )
    record(
        AuditEvent.Action.LETTER_DRAFTED,
        actor=by,
        patient=patient,
        subject=letter,
        kind=kind,
        template_version=template.version,
        part2=part2,
    )
    return letter


# TMS course summary ---------------------------------------------------------------------

# Scores taken up to this long before a course's first session can be its baseline, and
# up to this long after its last session count as its end-of-course scores.
COURSE_BASELINE_LOOKBACK = timedelta(days=14)
COURSE_END_GRACE = timedelta(days=7)


def course_values(patient: Patient) -> dict[str, str]:
    """The patient's latest TMS course as letter text: sessions, protocol, side effects,
    and a row per instrument the course recorded (`course_scores`)."""
    course = (
        TmsCourse.objects.filter(patient=patient).order_by("-start_date", "-id").first()
    )
    if course is None:
        return {}
    sessions = list(course.sessions.order_by("number"))
    done = [s for s in sessions if s.status == TmsSession.Status.COMPLETED]
    values = {
        "tms_protocol": f"{course.protocol_name}, {course.target_text}",
        "tms_sessions_completed": f"{len(done)} of {course.total_sessions}",
        "tms_first_session_date": sessions[0].started_at.date().isoformat()
        if sessions
        else "",
        "tms_last_session_date": sessions[-1].started_at.date().isoformat()
        if sessions
        else "",
    }
    effects = [
        f"{e.get_kind_display()} ({e.get_severity_display().lower()}, session "
        f"{e.session.number})"
        for e in SideEffect.objects.filter(session__course=course)
        .select_related("session")
        .order_by("recorded_at", "id")
    ]
    effects += [
        f"Seizure (session {s.session.number})"
        for s in SeizureEvent.objects.filter(course=course).select_related("session")
    ]
    values["tms_side_effects"] = "; ".join(effects) or "none recorded"
    if not sessions:
        return values
    start = sessions[0].started_at
    finished = (
        len(done) >= course.total_sessions
        or course.sessions.filter(status=TmsSession.Status.SEIZURE).exists()
    )
    last = sessions[-1].ended_at or sessions[-1].started_at
    until = last + COURSE_END_GRACE if finished else timezone.now()
    responses = QuestionnaireResponse.objects.filter(
        patient=patient,
        total__isnull=False,
        amended_by__isnull=True,
        completed_at__gte=start - COURSE_BASELINE_LOOKBACK,
        completed_at__lte=until,
    ).values_list("instrument_code", "completed_at", "total")
    rows = course_scores.summarise(
        [
            course_scores.Score(code, at, total)
            for code, at, total in responses
            if code in INSTRUMENTS and total is not None
        ],
        course_start=start,
        names={code: i.name for code, i in INSTRUMENTS.items()},
        side_effect_scales=frozenset(
            code for code, i in INSTRUMENTS.items() if i.side_effect_scale
        ),
        rules=clinic_outcome_rules(patient.organization_id),
    )
    values["course_scores"] = course_scores.markdown_table(rows)
    return values


# Clearance requests ---------------------------------------------------------------------


def latest_clearance_decision(patient: Patient) -> EligibilityDecision | None:
    return (
        EligibilityDecision.objects.filter(
            patient=patient, outcome=EligibilityDecision.Outcome.NEEDS_CLEARANCE
        )
        .order_by("-signed_at", "-id")
        .first()
    )


def clearance_values(decision: EligibilityDecision) -> dict[str, str]:
    """The decision's question and the intake findings that need clearance, as letter text."""
    reasons = [
        f"{f.get('title', '')} (patient's answer: {f.get('value', '')})"
        for f in decision.findings
        if isinstance(f, dict)
        and f.get("severity") in ("exclusion", "caution")
        and f.get("action") == "clearance"
    ]
    return {
        "clearance_question": decision.clearance_question,
        "clearance_reasons": "; ".join(reasons) or "none beyond the question above",
    }


def clearance_letter_for(decision: EligibilityDecision) -> Letter | None:
    return (
        Letter.objects.filter(eligibility_decision=decision)
        .order_by("-created_at", "-id")
        .first()
    )


def _clearance_recipient(
    decision: EligibilityDecision, *, by: User
) -> CareTeamProvider:
    """The care-team provider the decision names, added to the care team if not on it."""
    name = decision.clearance_provider_name.strip()
    found = CareTeamProvider.objects.filter(
        patient_id=decision.patient_id, name__iexact=name
    ).first()
    if found is not None:
        return found
    return add_care_team_provider(
        decision.patient,
        role=CareTeamProvider.Role.SPECIALIST,
        name=name,
        practice=decision.clearance_provider_practice,
        fax=decision.clearance_provider_fax,
        email=decision.clearance_provider_email,
        by=by,
    )


@transaction.atomic
def request_clearance(decision: EligibilityDecision, *, by: User) -> Letter:
    """The clearance request for a decision that asks for one: a letter of kind "clearance"
    (drafted once; a second call returns the same letter), then edited, signed and sent
    like every letter."""
    EligibilityDecision.objects.select_for_update().filter(pk=decision.pk).first()
    existing = clearance_letter_for(decision)
    if existing is not None:
        return existing
    if decision.outcome != EligibilityDecision.Outcome.NEEDS_CLEARANCE:
        raise LettersError(
            "This decision does not ask for clearance.",
            field="decision",
            code="no_clearance_decision",
        )
    recipient = _clearance_recipient(decision, by=by)
    return draft_letter(
        decision.patient,
        kind=LetterTemplate.Kind.CLEARANCE,
        recipient=recipient,
        decision=decision,
        by=by,
    )


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


def release_problem(letter: Letter, *, on: date | None = None) -> LettersError | None:
    """Why this letter may not leave the clinic, or None (issue 12 release rules; 42 CFR 2.31).

    The patient must have signed the clinic's communication consent; a letter flagged as quoting
    42 CFR Part 2 records also needs the patient's Part 2 consent naming this recipient, not expired.
    """
    if not ConsentSignature.objects.filter(
        patient_id=letter.patient_id,
        document__kind=ConsentDocument.Kind.COMMUNICATION,
    ).exists():
        return LettersError(
            "The patient has not signed the communication consent: nothing is sent "
            "until they do.",
            field="channel",
            code="no_consent",
        )
    if letter.part2:
        today = on or timezone.localdate()
        if not Part2Consent.objects.filter(
            patient_id=letter.patient_id,
            recipient_id=letter.recipient_id,
            expires_on__gte=today,
        ).exists():
            return LettersError(
                "This letter quotes records covered by 42 CFR Part 2 and the patient has no "
                "current Part 2 consent naming this recipient: it is not sent.",
                field="channel",
                code="part2",
            )
    return None


@transaction.atomic
def record_part2_consent(
    patient: Patient,
    *,
    recipient: CareTeamProvider,
    purpose: str,
    expires_on: date,
    by: User,
) -> Part2Consent:
    """Record the patient's written consent to disclose Part 2 records to one recipient."""
    if recipient.patient_id != patient.pk:
        raise LettersError(
            "That provider is not on this patient's care team.", field="recipient"
        )
    if not purpose.strip():
        raise LettersError("Say what the disclosure is for.", field="purpose")
    if expires_on < timezone.localdate():
        raise LettersError("The consent has already expired.", field="expires_on")
    consent = Part2Consent.objects.create(
        organization_id=patient.organization_id,
        patient=patient,
        recipient=recipient,
        purpose=purpose.strip(),
        expires_on=expires_on,
        recorded_by=by,
    )
    record(
        AuditEvent.Action.LETTER_PART2_CONSENT,
        actor=by,
        patient=patient,
        subject=consent,
        expires_on=expires_on.isoformat(),
    )
    return consent


@transaction.atomic
def add_addendum(
    letter: Letter, *, body: str, password: str, by: User
) -> LetterAddendum:
    """Text added to a signed letter and signed; the letter's own text never changes."""
    if letter.status != Letter.Status.SIGNED:
        raise LettersError(
            "Edit the draft instead: addenda are for signed letters.",
            field="body",
            code="unsigned",
        )
    if not body.strip():
        raise LettersError("Write the addendum.", field="body")
    try:
        confirm_signature(password, what=f"addendum to letter {letter.uuid}", by=by)
    except TreatmentError as exc:
        raise LettersError(exc.message, field="password", code="password") from None
    addendum = LetterAddendum.objects.create(
        letter=letter,
        body=body,
        body_sha256=hashlib.sha256(body.encode()).hexdigest(),
        signed_by=by,
    )
    record(
        AuditEvent.Action.LETTER_ADDENDUM,
        actor=by,
        patient=letter.patient,
        subject=letter,
        sha256=addendum.body_sha256,
    )
    return addendum


@transaction.atomic
def record_send(letter: Letter, *, channel: str, by: User) -> LetterSend:
    """Record that a signed letter left the clinic, to the address on file for the channel."""
    if letter.status != Letter.Status.SIGNED:
        raise LettersError(
            "Sign the letter before it is sent.", field="channel", code="unsigned"
        )
    if channel not in LetterSend.Channel.values:
        raise LettersError("Choose how it is sent.", field="channel")
    problem = release_problem(letter)
    if problem is not None:
        raise problem
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
    emailed = channel == LetterSend.Channel.EMAIL
    send = LetterSend.objects.create(
        letter=letter,
        channel=channel,
        address=address,
        sent_by=by,
        link_expires_at=timezone.now() + LINK_LIFETIME if emailed else None,
    )
    record(
        AuditEvent.Action.LETTER_SENT,
        actor=by,
        patient=letter.patient,
        subject=letter,
        channel=channel,
    )
    if emailed:
        link = absolute_url(
            reverse("letters:shared", kwargs={"token": link_token(send)})
        )
        clinic = letter.organization.name
        transaction.on_commit(lambda: _email_link(address, clinic, link))
    return send


LINK_LIFETIME = timedelta(days=7)
_SALT = "neuroclinic.letters.link"


def link_token(send: LetterSend) -> str:
    """A signed token naming the send (a number, no PHI); checked for age when opened."""
    return signing.dumps({"send": send.pk}, salt=_SALT)


def open_link(token: str) -> LetterSend:
    """The send a link names, if the signature holds and the link has not expired."""
    try:
        data = signing.loads(token, salt=_SALT, max_age=LINK_LIFETIME)
        send = LetterSend.objects.select_related("letter", "letter__patient").get(
            pk=data["send"], channel=LetterSend.Channel.EMAIL
        )
    except (signing.BadSignature, LetterSend.DoesNotExist, KeyError, TypeError):
        raise LettersError(
            "This link is not valid or has expired. Ask the clinic to send it again.",
            code="bad_link",
        ) from None
    if send.link_expires_at is None or send.link_expires_at <= timezone.now():
        raise LettersError(
            "This link has expired. Ask the clinic to send it again.", code="bad_link"
        )
    with transaction.atomic():
        record(
            AuditEvent.Action.LETTER_LINK_OPENED,
            actor=None,
            patient=send.letter.patient,
            subject=send.letter,
            send=send.pk,
        )
    return send


def _email_link(address: str, clinic: str, link: str) -> None:
    """The email says only that a letter waits behind the link: no name, no diagnosis."""
    try:
        send_mail(
            subject=f"A letter from {clinic}",
            message=(
                f"{clinic} has sent you a letter about a shared patient.\n"
                f"Open it here (the link works for {LINK_LIFETIME.days} days):\n{link}\n"
            ),
            from_email=None,
            recipient_list=[address],
        )
    except Exception:  # the send stands; the failure is in the log for the admins
        logger.exception("Could not email a letter link")
