"""Eligibility: the rules run over the intake, the prescriber's signed decision, the
clinic's versioned rule settings and the wording the patient is shown."""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from neuroclinic.accounts.models import User
from neuroclinic.audit.models import AuditEvent
from neuroclinic.audit.record import record
from neuroclinic.clinics.models import Organization
from neuroclinic.intake import eligibility, packet
from neuroclinic.intake.actions.packets import (
    PacketReads,
    instrument_statuses,
    load_packet_reads,
    packet_for,
    packet_status,
)
from neuroclinic.intake.checks import latest_decision
from neuroclinic.intake.errors import IntakeError
from neuroclinic.intake.models import (
    EligibilityDecision,
    EligibilityRuleSet,
    IntakePacket,
    IntakeSettings,
)
from neuroclinic.measures.instruments import (
    ScoreFlag,
    Triage,
)
from neuroclinic.measures.models import (
    QuestionnaireResponse,
)
from neuroclinic.patients.models import Patient

# Eligibility ---------------------------------------------------------------------------


def current_rules(organization_id: int) -> EligibilityRuleSet | None:
    return (
        EligibilityRuleSet.objects.filter(organization_id=organization_id)
        .order_by("-version")
        .first()
    )


def screens_for(
    packet_row: IntakePacket, *, reads: PacketReads | None = None
) -> packet.ScreenResults:
    statuses = {s.code: s for s in instrument_statuses(packet_row, reads=reads)}

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
        suicidal_intent_current=None
        if cssrs is None
        else cssrs.triage == Triage.HIGH.value,
    )


@dataclass(frozen=True)
class EligibilityReview:
    review: eligibility.Review
    facts: eligibility.IntakeFacts
    rules: EligibilityRuleSet | None


def review_for(patient: Patient) -> EligibilityReview:
    """The rules run over this patient's intake as it stands now."""
    packet_row = packet_for(patient)
    rules = current_rules(patient.organization_id)
    overrides = rules.overrides if rules else {}
    min_weeks = int(
        overrides.get("trd_indication", {})
        .get("params", {})
        .get("min_weeks", eligibility.ADEQUATE_TRIAL_WEEKS)
    )
    reads = load_packet_reads([packet_row])
    complete = [s.key for s in packet_status(packet_row, reads=reads) if s.complete]
    facts = packet.facts_from(
        packet_row.sections,
        age_years=packet.age_on(patient.birth_date, timezone.localdate()),
        screens=screens_for(packet_row, reads=reads),
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
    by: User,
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
    overridden = [f.title for f in review.review.exclusions] + [
        f.title for f in review.review.unanswered_required
    ]
    if (
        outcome in (Outcome.ELIGIBLE, Outcome.ELIGIBLE_WITH_CONDITIONS)
        and overridden
        and not reason.strip()
    ):
        # Issue 14, item 6: eligible over an exclusion is an override, written (shown
        # with the decision on the chart) and audited.
        raise IntakeError(
            "Eligible over "
            + "; ".join(overridden)
            + ": write the reason for this override.",
            field="reason",
        )
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
    # The clearance request itself is a letter (issue 12): drafted, edited, signed and
    # sent in the letters app from this decision (letters.actions.letters.request_clearance).
    # `clearance_letter` holds the PDFs made here before; they stay readable.
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
        override_of=overridden
        if outcome in (Outcome.ELIGIBLE, Outcome.ELIGIBLE_WITH_CONDITIONS)
        else [],
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
    organization: Organization, *, overrides: Mapping[str, Any], reason: str, by: User
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
    organization: Organization,
    *,
    message_pending: str | None = None,
    message_eligible: str | None = None,
    message_eligible_with_conditions: str | None = None,
    message_needs_clearance: str | None = None,
    message_not_eligible: str | None = None,
    referral_resources: str | None = None,
    by: User,
) -> IntakeSettings:
    """Change the clinic's wording for the patient (None leaves a text as it is).

    The audit event keeps each changed text's old and new value.
    """
    wanted = {
        "message_pending": message_pending,
        "message_eligible": message_eligible,
        "message_eligible_with_conditions": message_eligible_with_conditions,
        "message_needs_clearance": message_needs_clearance,
        "message_not_eligible": message_not_eligible,
        "referral_resources": referral_resources,
    }
    settings_row = intake_settings(organization.pk)
    changes: dict[str, dict[str, str]] = {}
    for name, value in wanted.items():
        if value is not None and getattr(settings_row, name) != value:
            changes[name] = {"old": getattr(settings_row, name), "new": value}
            setattr(settings_row, name, value)
    if not changes:
        return settings_row
    settings_row.save()
    record(
        AuditEvent.Action.INTAKE_SETTINGS_CHANGED,
        actor=by,
        organization=organization,
        fields=sorted(changes),
        changes=changes,
    )
    return settings_row


def portal_status_message(patient: Patient) -> str:
    decision = latest_decision(patient)
    if decision is None:
        return intake_settings(patient.organization_id).message_pending
    return decision.patient_message


def record_letter_viewed(decision: EligibilityDecision, *, by: User) -> None:
    with transaction.atomic():
        record(
            AuditEvent.Action.CLEARANCE_LETTER_VIEWED,
            actor=by,
            patient=decision.patient,
            subject=decision,
        )
