"""A GET writes nothing: every portal page, and the staff intake pages and API reads.

Only the audit of the read (and the session's idle timer) may change on a GET;
the intake packet is created when the sign-in link is issued or on the
patient's first save, and the measures link for the packet's questionnaires
on the first answer.
"""

from functools import partial

from django.test import Client

from conftest import login
from neuroclinic.accounts.models import User
from neuroclinic.clinics.models import Organization
from neuroclinic.intake.actions import packets, sign_in
from neuroclinic.intake.models import IntakePacket, PortalSignInLink
from neuroclinic.intake.tests.factories import publish_all
from neuroclinic.intake.tests.queries import writes_during
from neuroclinic.measures.actions.portal_links import create_portal_link
from neuroclinic.measures.models import PortalLink
from neuroclinic.patients.models import Patient
from neuroclinic.portal.tests.test_portal import portal

PORTAL_PAGES = [
    "/portal/",
    *(
        f"/portal/section/{key}/"
        for key in (
            "about",
            "contacts",
            "medical",
            "psychiatric",
            "trials",
            "substance",
            "medications",
            "allergies",
            "measurements",
        )
    ),
    "/portal/questionnaires/",
    "/portal/questionnaires/phq9/",
    "/portal/questionnaires/audit-c/",
    "/portal/documents/",
    "/portal/consents/",
    "/portal/progress/",
]


def test_no_portal_page_writes_on_a_get_not_even_the_packet(
    client: Client, patient: Patient, front_desk: User, organization: Organization
) -> None:
    documents = publish_all(organization)
    portal(client, patient, front_desk)
    pages = [*PORTAL_PAGES, f"/portal/consents/{documents['ketamine'].uuid}/"]

    for path in pages:
        response, written = writes_during(partial(client.get, path))
        assert response.status_code == 200, path
        assert written == [], path

    assert not IntakePacket.objects.filter(patient=patient).exists()
    assert not PortalLink.objects.filter(patient=patient).exists()


def test_the_packet_is_made_by_the_first_save_and_the_link_by_the_first_answer(
    client: Client, patient: Patient, front_desk: User
) -> None:
    portal(client, patient, front_desk)

    client.post("/portal/section/about/", {"city": "Springfield"})
    client.post(
        "/portal/questionnaires/gad7/",
        {"instrument": "gad7", **{f"gad7-{n}": "0" for n in range(1, 8)}},
    )

    assert IntakePacket.objects.get(patient=patient).sections["about"]["city"] == (
        "Springfield"
    )
    assert PortalLink.objects.get(patient=patient).channel == PortalLink.Channel.NONE


def test_issuing_the_sign_in_link_opens_the_packet(
    patient: Patient, front_desk: User
) -> None:
    packets.send_intake_link(
        patient, channel=PortalSignInLink.Channel.SHOWN, by=front_desk
    )

    assert IntakePacket.objects.filter(patient=patient).exists()


def test_the_sign_in_page_and_a_questionnaire_link_write_only_the_audit(
    client: Client, patient: Patient, front_desk: User
) -> None:
    _, sign_in_token = sign_in.create_sign_in_link(
        patient, channel=PortalSignInLink.Channel.EMAIL, by=front_desk
    )
    _, link_token = create_portal_link(
        patient,
        instrument_codes=["phq9"],
        channel=PortalLink.Channel.EMAIL,
        by=front_desk,
    )
    _, kiosk_token = create_portal_link(
        patient,
        instrument_codes=["gad7"],
        channel=PortalLink.Channel.KIOSK,
        by=front_desk,
    )

    for path in (
        f"/portal/sign-in/{sign_in_token}/",
        f"/q/{link_token}/",
        f"/kiosk/{kiosk_token}/",
    ):
        response, written = writes_during(partial(client.get, path))
        assert response.status_code == 200, path
        assert written == [], path

    assert PortalSignInLink.objects.get(patient=patient).used_at is None


def test_staff_intake_pages_and_api_reads_write_nothing(
    client: Client, patient: Patient, prescriber: User
) -> None:
    login(client, prescriber)
    base = f"/intake/patients/{patient.uuid}"

    for path in (
        "/intake/",
        "/intake/requests/",
        f"{base}/",
        f"{base}/answers/",
        f"{base}/eligibility/",
        f"/api/patients/{patient.uuid}/intake",
        f"/api/patients/{patient.uuid}/eligibility",
        f"/api/patients/{patient.uuid}/consents",
    ):
        response, written = writes_during(partial(client.get, path))
        assert response.status_code == 200, path
        assert written == [], path

    assert not IntakePacket.objects.filter(patient=patient).exists()
