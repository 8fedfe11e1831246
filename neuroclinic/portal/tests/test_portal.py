"""The patient's portal: magic-link sign-in, autosaved sections, questionnaires, uploads, consent."""

import base64
import re

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from conftest import TEST_PASSWORD, login
from neuroclinic.accounts.models import User
from neuroclinic.audit.models import AuditEvent
from neuroclinic.clinics.models import Organization
from neuroclinic.intake.actions import eligibility_decisions, packets, sign_in
from neuroclinic.intake.models import ConsentSignature, IntakeDocument, PortalSignInLink
from neuroclinic.intake.tests.factories import (
    baselines,
    fill_packet,
    publish_all,
    signature_png,
)
from neuroclinic.measures.models import QuestionnaireResponse, SafetyAlert
from neuroclinic.patients.models import Patient

XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def portal(client: Client, patient: Patient, front_desk: User) -> Client:
    _, token = sign_in.create_sign_in_link(
        patient, channel=PortalSignInLink.Channel.SHOWN, by=front_desk
    )
    response = client.post(f"/portal/sign-in/{token}/")
    assert response.status_code == 302
    return client


def test_the_link_asks_for_a_tap_before_it_is_spent(
    client: Client, patient: Patient, front_desk: User
) -> None:
    _, token = sign_in.create_sign_in_link(
        patient, channel=PortalSignInLink.Channel.SHOWN, by=front_desk
    )
    assert (
        client.get(f"/portal/sign-in/{token}/").status_code == 200
    )  # a mail scanner's GET spends nothing
    assert client.post(f"/portal/sign-in/{token}/")["Location"] == "/portal/"
    home = client.get("/portal/").content.decode()
    assert "Hello Casey" in home
    assert "Find a patient" not in home
    assert "Sign out" in home


def test_a_reused_link_explains_itself_and_reveals_nothing(
    client: Client, patient: Patient, front_desk: User
) -> None:
    _, token = sign_in.create_sign_in_link(
        patient, channel=PortalSignInLink.Channel.SHOWN, by=front_desk
    )
    client.post(f"/portal/sign-in/{token}/")
    other = Client()
    response = other.post(f"/portal/sign-in/{token}/")
    html = response.content.decode()
    assert response.status_code == 410
    assert "already used" in html
    assert "Casey" not in html
    assert "Testova" not in html
    assert "Lakeside" not in html
    assert other.get("/portal/").status_code == 401
    refused = AuditEvent.objects.get(action=AuditEvent.Action.PORTAL_SIGN_IN_REFUSED)
    assert refused.patient is None


def test_expired_and_forged_links_are_refused(
    client: Client, patient: Patient, front_desk: User
) -> None:
    from datetime import timedelta

    _, token = sign_in.create_sign_in_link(
        patient,
        channel=PortalSignInLink.Channel.SHOWN,
        by=front_desk,
        lifetime=timedelta(seconds=-5),
    )
    assert "expired" in client.post(f"/portal/sign-in/{token}/").content.decode()
    assert "not valid" in client.post("/portal/sign-in/made-up/").content.decode()


def test_portal_pages_need_a_portal_session(client: Client, nurse: User) -> None:
    login(client, nurse)  # a staff session is not a portal session
    for path in (
        "/portal/",
        "/portal/section/about/",
        "/portal/questionnaires/",
        "/portal/documents/",
        "/portal/consents/",
    ):
        assert client.get(path).status_code == 401


def test_a_section_autosaves_and_comes_back(
    client: Client, patient: Patient, front_desk: User
) -> None:
    portal(client, patient, front_desk)
    response = client.post(
        "/portal/section/about/",
        {"city": "Springfield", "address_line1": XSS},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert "Saved." in response.content.decode()
    assert "Still needed" in response.content.decode()
    # The connection drops; the patient signs in again with a new link.
    again = portal(Client(), patient, front_desk)
    html = again.get("/portal/section/about/").content.decode()
    assert 'value="Springfield"' in html
    assert XSS not in html
    assert "&lt;script&gt;" in html


def test_save_and_continue_goes_to_the_next_section(
    client: Client, patient: Patient, front_desk: User
) -> None:
    portal(client, patient, front_desk)
    response = client.post("/portal/section/contacts/", {"emergency_name": "Pat"})
    assert response["Location"] == "/portal/section/medical/"


def test_list_sections_take_rows(
    client: Client, patient: Patient, front_desk: User
) -> None:
    portal(client, patient, front_desk)
    client.post(
        "/portal/section/trials/",
        {
            "drug-0": "Sertraline",
            "dose-0": "100 mg",
            "weeks-0": "8",
            "full_dose-0": "yes",
            "effect-0": "no_help",
            "drug-1": XSS,
            "weeks-1": "2",
            "effect-1": "worse",
        },
    )
    packet_row = packets.open_packet(patient)
    rows = packet_row.sections["trials"]["rows"]
    assert rows[0]["drug"] == "Sertraline"
    assert rows[1]["drug"] == XSS[:200]
    html = client.get("/portal/section/trials/").content.decode()
    assert XSS not in html


def test_unknown_sections_are_not_found(
    client: Client, patient: Patient, front_desk: User
) -> None:
    portal(client, patient, front_desk)
    assert client.get("/portal/section/secrets/").status_code == 404


def test_questionnaires_go_through_measures_and_item_9_shows_crisis_lines(
    client: Client, patient: Patient, front_desk: User
) -> None:
    portal(client, patient, front_desk)
    page = client.get("/portal/questionnaires/phq9/").content.decode()
    assert "PHQ-9" in page
    early = client.post(
        "/portal/questionnaires/phq9/check/",
        {"instrument": "phq9", "item": "phq9-9", "phq9-9": "2"},
    )
    assert "988" in early.content.decode()
    answers = {f"phq9-{n}": "1" for n in range(1, 10)}
    key = re.search(r'name="submission_key" value="([^"]+)"', page)
    assert key is not None
    response = client.post(
        "/portal/questionnaires/phq9/",
        answers | {"instrument": "phq9", "submission_key": key.group(1)},
    )
    assert "988" in response.content.decode()
    stored = QuestionnaireResponse.objects.get(patient=patient)
    assert stored.source == QuestionnaireResponse.Source.PORTAL
    assert (
        SafetyAlert.objects.filter(patient=patient).count() == 1
    )  # the early alert, not a second one


def test_a_staff_only_questionnaire_is_not_offered(
    client: Client, patient: Patient, front_desk: User
) -> None:
    portal(client, patient, front_desk)
    assert client.get("/portal/questionnaires/cssrs-screener/").status_code == 404
    assert (
        "We will ask you this at your visit"
        in client.get("/portal/questionnaires/").content.decode()
    )


def test_uploads_are_checked_by_content(
    client: Client, patient: Patient, front_desk: User
) -> None:
    portal(client, patient, front_desk)
    fake = SimpleUploadedFile(
        "referral.pdf",
        b"<html><script>alert(1)</script>",
        content_type="application/pdf",
    )
    response = client.post("/portal/documents/", {"kind": "referral", "file": fake})
    assert "Upload a PDF, JPEG or PNG file." in response.content.decode()
    real = SimpleUploadedFile(
        "referral.pdf", b"%PDF-1.4 test", content_type="application/pdf"
    )
    assert (
        client.post(
            "/portal/documents/", {"kind": "referral", "file": real}
        ).status_code
        == 302
    )
    assert IntakeDocument.objects.get().content_type == "application/pdf"


def test_sending_the_packet_when_complete(
    client: Client, patient: Patient, front_desk: User
) -> None:
    fill_packet(patient)
    baselines(patient)
    portal(client, patient, front_desk)
    assert "Send my intake to the clinic" in client.get("/portal/").content.decode()
    client.post("/portal/submit/")
    assert packets.open_packet(patient).submitted_at is not None
    assert "A prescriber is reviewing it" in client.get("/portal/").content.decode()


def test_the_patient_is_told_the_decision_in_clinic_wording_and_signs(
    client: Client,
    patient: Patient,
    front_desk: User,
    prescriber: User,
    organization: Organization,
) -> None:
    documents = publish_all(organization)
    eligibility_decisions.decide_eligibility(
        patient,
        by=prescriber,
        password=TEST_PASSWORD,
        outcome="eligible_with_conditions",
        conditions=XSS,
        # No intake packet: eligible over its unanswered facts is an override (issue #14).
        reason="Intake taken at the visit",
    )
    portal(client, patient, front_desk)
    home = client.get("/portal/").content.decode()
    assert "you can go ahead, with some conditions" in home
    assert XSS not in home
    assert "Consent forms" in home
    page = client.get(
        f"/portal/consents/{documents['ketamine'].uuid}/"
    ).content.decode()
    assert "off-label" in page
    assert "signature.js" in page
    assert "<script>" not in page.replace(
        '<script src="/static/js/signature.js" defer></script>', ""
    )
    data_url = "data:image/png;base64," + base64.b64encode(signature_png(4)).decode()
    response = client.post(
        f"/portal/consents/{documents['ketamine'].uuid}/",
        {"typed_name": "Casey Testova", "signature": data_url},
        REMOTE_ADDR="198.51.100.7",
    )
    assert response.status_code == 302
    signature = ConsentSignature.objects.get()
    assert signature.ip_address == "198.51.100.7"
    assert signature.channel == "portal"
    missing = client.post(
        f"/portal/consents/{documents['tms'].uuid}/",
        {"typed_name": "Casey", "signature": "data:image/png;base64,!!!"},
    )
    assert "Draw your signature" in missing.content.decode()


def test_the_clinic_tablet_locks_staff_pages_and_shows_only_consents(
    client: Client, patient: Patient, nurse: User, organization: Organization
) -> None:
    documents = publish_all(organization)
    login(client, nurse)
    response = client.post(f"/intake/patients/{patient.uuid}/consent-tablet/")
    sign_in = response["Location"]
    response = client.post(sign_in)
    assert response["Location"] == "/portal/consents/"
    staff_page = client.get("/staff/")
    assert staff_page["Location"] == "/accounts/hand-back/"  # locked to the portal
    assert client.get("/portal/").status_code == 302  # only consents on the tablet
    data_url = "data:image/png;base64," + base64.b64encode(signature_png(5)).decode()
    client.post(
        f"/portal/consents/{documents['privacy'].uuid}/",
        {"typed_name": "Casey Testova", "signature": data_url},
    )
    signature = ConsentSignature.objects.get()
    assert signature.channel == "tablet"
    assert signature.witnessed_by == nurse
    # Done: the tablet goes back to the nurse, still signed in, at the hand-back page.
    assert client.post("/portal/sign-out/")["Location"] == "/accounts/hand-back/"
