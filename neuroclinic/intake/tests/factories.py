"""Plain factory functions for intake tests."""

from typing import Any

from neuroclinic.clinics.models import Organization
from neuroclinic.intake.actions import consents, consult_requests, packets
from neuroclinic.intake.demo import FULL_PACKET, _answers, signature_png
from neuroclinic.intake.models import ConsentDocument, ConsultRequest, IntakePacket
from neuroclinic.measures.actions.responses import record_response
from neuroclinic.measures.models import QuestionnaireResponse
from neuroclinic.patients.models import Patient

__all__ = ["FULL_PACKET", "signature_png"]


def consult_request(organization: Organization, **changes: Any) -> ConsultRequest:
    fields = {
        "given_name": "Robin",
        "family_name": "Examplewood",
        "phone": "555-0170",
        "email": "robin@example.com",
        "contact_method": "phone",
        "contact_time": "morning",
        "interest": "ketamine",
        "seeking_help_for": "Depression for years.",
        "referring_provider": "Dr Sample",
        "heard_about": "provider",
    } | changes
    return consult_requests.submit_consult_request(
        organization, **fields, consent_to_contact=True
    )


def fill_packet(patient: Patient, **section_changes: dict[str, Any]) -> IntakePacket:
    packet_row = packets.open_packet(patient)
    for key, data in FULL_PACKET.items():
        packet_row = packets.save_section(
            packet_row, key, {**data, **section_changes.get(key, {})}
        )
    return packet_row


def baselines(patient: Patient, *, phq9_item9: int = 0) -> None:
    for code in ("phq9", "gad7", "audit-c", "mdq", "cssrs-screener", "dast10"):
        answers = _answers(code, 10 if code == "phq9" else 0)
        if code == "phq9":
            answers["phq9-9"] = phq9_item9
        record_response(
            patient,
            instrument_code=code,
            answers=answers,
            source=QuestionnaireResponse.Source.PORTAL,
            by=None,
            sex="female",
        )


def publish_all(organization: Organization) -> dict[str, ConsentDocument]:
    from neuroclinic.intake.consent_defaults import DEFAULTS

    return {
        kind: consents.publish_consent(
            organization, kind=kind, title=title, body=body, by=None
        )
        for kind, (title, body) in DEFAULTS.items()
    }
