"""The two checks the infusion and TMS checklists call before treatment."""

import pytest

from neuroclinic.accounts.models import User
from neuroclinic.intake.checks import (
    consent_blocks_treatment,
    eligibility_blocks_treatment,
)
from neuroclinic.intake.models import (
    ConsentDocument,
    ConsentSignature,
    EligibilityDecision,
)
from neuroclinic.patients.models import Patient

Kind = ConsentDocument.Kind


def publish(
    patient: Patient, kind: ConsentDocument.Kind, version: int = 1
) -> ConsentDocument:
    return ConsentDocument.objects.create(
        organization_id=patient.organization_id,
        kind=kind,
        version=version,
        title=f"{kind.label} v{version}",
        body="Text.",
    )


def sign(patient: Patient, document: ConsentDocument) -> ConsentSignature:
    return ConsentSignature.objects.create(
        organization_id=patient.organization_id,
        patient=patient,
        document=document,
        typed_name=patient.legal_name,
        signature_image="intake/signatures/x.png",
        signed_text=document.body,
        text_sha256="0" * 64,
        channel=ConsentSignature.Channel.PORTAL,
    )


def decide(patient: Patient, prescriber: User, outcome: str) -> EligibilityDecision:
    return EligibilityDecision.objects.create(
        organization_id=patient.organization_id,
        patient=patient,
        outcome=outcome,
        rules_version="defaults-1",
        patient_message="-",
        decided_by=prescriber,
    )


def test_consent_blocks_when_nothing_is_signed(patient: Patient) -> None:
    for kind in Kind:
        publish(patient, kind)
    reason = consent_blocks_treatment(patient, treatment="ketamine")
    assert reason is not None
    assert "IV ketamine treatment (off-label): not signed" in reason


def test_consent_allows_ketamine_once_required_forms_are_signed(
    patient: Patient,
) -> None:
    docs = {kind: publish(patient, kind) for kind in Kind}
    for kind in (Kind.KETAMINE, Kind.PRIVACY, Kind.FINANCIAL):
        sign(patient, docs[kind])
    assert consent_blocks_treatment(patient, treatment="ketamine") is None
    # TMS needs its own consent.
    reason = consent_blocks_treatment(patient, treatment="tms")
    assert reason is not None
    assert "TMS treatment: not signed" in reason


def test_a_new_version_requires_consent_again(patient: Patient) -> None:
    docs = {kind: publish(patient, kind) for kind in Kind}
    for kind in (Kind.TMS, Kind.PRIVACY, Kind.FINANCIAL):
        sign(patient, docs[kind])
    assert consent_blocks_treatment(patient, treatment="tms") is None
    publish(patient, Kind.TMS, version=2)
    reason = consent_blocks_treatment(patient, treatment="tms")
    assert reason is not None
    assert "version 1 signed; version 2 needs signing" in reason


def test_consent_blocks_when_the_clinic_has_no_form(patient: Patient) -> None:
    reason = consent_blocks_treatment(patient, treatment="ketamine")
    assert reason is not None
    assert "no form published" in reason


def test_unknown_treatment_is_a_programming_error(patient: Patient) -> None:
    with pytest.raises(ValueError, match="Unknown treatment"):
        consent_blocks_treatment(patient, treatment="ect")


@pytest.mark.parametrize(
    ("outcome", "blocks"),
    [
        (EligibilityDecision.Outcome.ELIGIBLE, False),
        (EligibilityDecision.Outcome.ELIGIBLE_WITH_CONDITIONS, False),
        (EligibilityDecision.Outcome.NEEDS_CLEARANCE, True),
        (EligibilityDecision.Outcome.NOT_ELIGIBLE, True),
    ],
)
def test_eligibility_follows_the_signed_decision(
    patient: Patient, prescriber: User, outcome: str, blocks: bool
) -> None:
    decide(patient, prescriber, outcome)
    assert (eligibility_blocks_treatment(patient) is not None) == blocks


def test_eligibility_blocks_without_a_decision(patient: Patient) -> None:
    assert "No signed eligibility decision" in str(
        eligibility_blocks_treatment(patient)
    )


def test_the_newest_decision_wins(patient: Patient, prescriber: User) -> None:
    decide(patient, prescriber, EligibilityDecision.Outcome.NEEDS_CLEARANCE)
    decide(patient, prescriber, EligibilityDecision.Outcome.ELIGIBLE)
    assert eligibility_blocks_treatment(patient) is None
