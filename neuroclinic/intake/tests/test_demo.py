"""The demo clinic has consult requests in every status and patients at every intake stage."""

from neuroclinic.audit.verify import verify_audit_chain
from neuroclinic.clinics.demo import load_demo
from neuroclinic.intake.checks import (
    consent_blocks_treatment,
    eligibility_blocks_treatment,
)
from neuroclinic.intake.models import (
    ConsentDocument,
    ConsultRequest,
    EligibilityDecision,
    IntakePacket,
)


def test_the_demo_covers_every_status_and_stage(db: None) -> None:
    organization = load_demo(patient_count=8)

    statuses = set(
        ConsultRequest.objects.filter(organization=organization).values_list(
            "status", flat=True
        )
    )
    assert statuses == set(ConsultRequest.Status.values)
    kinds = set(
        ConsentDocument.objects.filter(organization=organization).values_list(
            "kind", flat=True
        )
    )
    assert kinds == set(ConsentDocument.Kind.values)
    packets = IntakePacket.objects.filter(organization=organization)
    assert packets.filter(
        submitted_at__isnull=True, started_at__isnull=False
    ).exists()  # started
    assert packets.filter(submitted_at__isnull=False).count() >= 5  # complete
    outcomes = set(EligibilityDecision.objects.values_list("outcome", flat=True))
    assert outcomes == set(EligibilityDecision.Outcome.values)
    consented = [
        p.patient
        for p in packets
        if consent_blocks_treatment(p.patient, treatment="ketamine") is None
    ]
    assert consented  # later demo loaders (infusions) may consent more patients
    assert all(eligibility_blocks_treatment(p) is None for p in consented)
    assert verify_audit_chain().ok
