"""Plain factories for treatment tests: an eligible, consented patient with a plan and an order.

Consent and eligibility rows are made the way intake's own tests make them (its
actions render PDFs and need drawn signatures, which these tests do not exercise).
"""

from typing import Any

from conftest import TEST_PASSWORD
from neuroclinic.accounts.models import User
from neuroclinic.intake.models import (
    ConsentDocument,
    ConsentSignature,
    EligibilityDecision,
)
from neuroclinic.patients.models import Patient
from neuroclinic.treatment.actions import orders, plans, protocols
from neuroclinic.treatment.defaults import ProtocolKind
from neuroclinic.treatment.models import InfusionOrder, Protocol, TreatmentPlan

KETAMINE_CONSENTS = (
    ConsentDocument.Kind.KETAMINE,
    ConsentDocument.Kind.PRIVACY,
    ConsentDocument.Kind.FINANCIAL,
)


def publish_consents(organization_id: int) -> dict[str, ConsentDocument]:
    documents: dict[str, ConsentDocument] = {}
    for kind in ConsentDocument.Kind:
        document = (
            ConsentDocument.objects.filter(organization_id=organization_id, kind=kind)
            .order_by("-version")
            .first()
        )
        if document is None:
            document = ConsentDocument.objects.create(
                organization_id=organization_id,
                kind=kind,
                version=1,
                title=f"{kind.label} v1",
                body="Text.",
            )
        documents[kind] = document
    return documents


def consent(patient: Patient) -> None:
    documents = publish_consents(patient.organization_id)
    for kind in KETAMINE_CONSENTS:
        ConsentSignature.objects.create(
            organization_id=patient.organization_id,
            patient=patient,
            document=documents[kind],
            typed_name=patient.legal_name,
            signature_image="intake/signatures/x.png",
            signed_text=documents[kind].body,
            text_sha256="0" * 64,
            channel=ConsentSignature.Channel.PORTAL,
        )


def decide_eligible(patient: Patient, prescriber: User) -> EligibilityDecision:
    return EligibilityDecision.objects.create(
        organization_id=patient.organization_id,
        patient=patient,
        outcome=EligibilityDecision.Outcome.ELIGIBLE,
        rules_version="defaults-1",
        patient_message="-",
        decided_by=prescriber,
    )


def ready_for_treatment(patient: Patient, prescriber: User) -> Patient:
    decide_eligible(patient, prescriber)
    consent(patient)
    patient.prescriber = prescriber
    patient.save(update_fields=["prescriber"])
    return patient


def default_protocols(organization_id: int, director: User) -> dict[str, Protocol]:
    existing = {
        p.kind: p
        for p in Protocol.objects.filter(
            organization_id=organization_id, status=Protocol.Status.ACTIVE
        )
    }
    if len(existing) == 2:
        return existing
    assert director.organization is not None
    # The infusion tests draw without a second nurse; the check itself has its own
    # tests. Switched off the way a director must: with a written reason.
    made = protocols.install_default_protocols(
        director.organization,
        by=director,
        password=TEST_PASSWORD,
        changes={"second_check_required": False},
        change_note="Test clinic: the second nurse's check is tested on its own.",
    )
    return {p.kind: p for p in made}


def make_plan(patient: Patient, prescriber: User, director: User) -> TreatmentPlan:
    protocols = default_protocols(patient.organization_id, director)
    return plans.create_plan(
        patient,
        induction_protocol=protocols[ProtocolKind.INDUCTION],
        booster_protocol=protocols[ProtocolKind.BOOSTER],
        indication="Treatment-resistant depression (F33.2)",
        by=prescriber,
    )


def order_fields(protocol: Protocol, **overrides: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "dose_mg_per_kg": protocol.dose_mg_per_kg,
        "duration_minutes": protocol.duration_minutes,
        "dosing_weight_rule": protocol.dosing_weight_rule,
        "max_dose_mg_per_kg": protocol.max_dose_mg_per_kg,
        "max_dose_mg": protocol.max_dose_mg,
        "diluent_volume_ml": protocol.diluent_volume_ml,
        "rate_min_percent": protocol.rate_min_percent,
        "rate_max_percent": protocol.rate_max_percent,
        "titration_instructions": "",
        "prn": orders.protocol_prn(protocol),
    }
    return fields | overrides


def sign_order(
    plan: TreatmentPlan,
    prescriber: User,
    *,
    kind: ProtocolKind = ProtocolKind.INDUCTION,
    **overrides: Any,
) -> InfusionOrder:
    protocol = (
        plan.induction_protocol
        if kind is ProtocolKind.INDUCTION
        else plan.booster_protocol
    )
    assert protocol is not None
    return orders.sign_order(
        plan,
        kind=kind,
        by=prescriber,
        password=TEST_PASSWORD,
        **order_fields(protocol, **overrides),
    )
