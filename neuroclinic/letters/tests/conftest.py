"""Letters test helpers: the patient's communication consent, which every send checks."""

import pytest

from neuroclinic.intake.actions import consents
from neuroclinic.intake.demo import signature_png
from neuroclinic.intake.models import ConsentDocument, ConsentSignature
from neuroclinic.patients.models import Patient


def give_communication_consent(patient: Patient) -> ConsentSignature:
    assert patient.organization is not None
    document = consents.publish_consent(
        patient.organization,
        kind=ConsentDocument.Kind.COMMUNICATION,
        title="Communication preferences",
        body="The clinic may contact me and my care team.",
        by=None,
    )
    return consents.sign_consent(
        patient,
        document,
        typed_name=patient.legal_name,
        signature_png=signature_png(1),
        ip_address="127.0.0.1",
        channel=ConsentSignature.Channel.PORTAL,
    )


@pytest.fixture
def consented(patient: Patient) -> ConsentSignature:
    return give_communication_consent(patient)
