"""Clearance requests are letters (issue 12): drafted from the eligibility decision that asks
for clearance, then edited, signed (password), locked, given addenda, printed as PDF and
emailed as a link like every letter. Clearance PDFs made in intake before stay readable."""

from collections.abc import Callable

import pytest
from django.core import mail
from django.core.files.base import ContentFile
from django.test import Client
from django.urls import reverse

from conftest import EVERYONE, TEST_PASSWORD, expected_status, login, personas_with
from neuroclinic.accounts.models import User
from neuroclinic.accounts.roles import Capability
from neuroclinic.audit.models import AuditEvent
from neuroclinic.intake.actions import eligibility_decisions
from neuroclinic.intake.models import EligibilityDecision
from neuroclinic.intake.tests.factories import fill_packet
from neuroclinic.letters import pdf
from neuroclinic.letters.actions import letters
from neuroclinic.letters.errors import LettersError
from neuroclinic.letters.models import Letter, LetterSend
from neuroclinic.letters.tests.conftest import give_communication_consent
from neuroclinic.patients import actions as patient_actions
from neuroclinic.patients.models import CareTeamProvider, Patient
from tests.pdf_text import pdf_text, squeezed

pytestmark = pytest.mark.django_db


def _needs_clearance(
    patient: Patient, prescriber: User, **extra: str
) -> EligibilityDecision:
    fill_packet(patient, medical={"heart_disease": "yes"})
    return eligibility_decisions.decide_eligibility(
        patient,
        by=prescriber,
        password=TEST_PASSWORD,
        outcome="needs_clearance",
        clearance_provider_name="Dr Hana Heartwell (test)",
        clearance_provider_practice="Test Cardiology",
        clearance_provider_email="heart@example.test",
        clearance_question="Is a blood pressure rise of 20 mmHg for an hour safe?",
        **extra,
    )


@pytest.fixture
def decision(patient: Patient, prescriber: User) -> EligibilityDecision:
    return _needs_clearance(patient, prescriber)


def test_the_request_is_a_clearance_letter_quoting_the_decision(
    decision: EligibilityDecision, patient: Patient, prescriber: User
) -> None:
    letter = letters.request_clearance(decision, by=prescriber)
    assert letter.template.kind == "clearance"
    assert letter.status == Letter.Status.DRAFT
    assert letter.eligibility_decision_id == decision.pk
    assert "Is a blood pressure rise of 20 mmHg for an hour safe?" in letter.body
    assert "Heart disease" in letter.body  # the intake finding that needs clearance
    assert "Dr Hana Heartwell (test)" in letter.body
    # The provider was not on the care team: added as a specialist, audited.
    recipient = letter.recipient
    assert recipient.role == CareTeamProvider.Role.SPECIALIST
    assert recipient.patient_id == patient.pk
    assert recipient.email == "heart@example.test"
    assert recipient.practice == "Test Cardiology"
    assert (
        AuditEvent.objects.filter(action=AuditEvent.Action.PROVIDER_ADDED).count() == 1
    )
    # Asking again gives the same letter, writes nothing.
    assert letters.request_clearance(decision, by=prescriber).pk == letter.pk
    assert Letter.objects.count() == 1
    assert CareTeamProvider.objects.filter(patient=patient).count() == 1


def test_a_provider_already_on_the_care_team_is_the_recipient(
    patient: Patient, prescriber: User, front_desk: User
) -> None:
    existing = patient_actions.add_care_team_provider(
        patient,
        role=CareTeamProvider.Role.REFERRING,
        name="Dr Hana Heartwell (test)",
        fax="555-0100",
        by=front_desk,
    )
    decision = _needs_clearance(patient, prescriber)
    letter = letters.request_clearance(decision, by=prescriber)
    assert letter.recipient_id == existing.pk
    assert CareTeamProvider.objects.filter(patient=patient).count() == 1


def test_edit_sign_addendum_pdf_and_email_like_every_letter(
    decision: EligibilityDecision, patient: Patient, prescriber: User
) -> None:
    letter = letters.request_clearance(decision, by=prescriber)
    letters.edit_draft(
        letter, body=letter.body + "\nPlease reply by fax.", by=prescriber
    )
    with pytest.raises(LettersError) as wrong:
        letters.sign_letter(letter, password="wrong", by=prescriber)
    assert wrong.value.field == "password"
    letters.sign_letter(letter, password=TEST_PASSWORD, by=prescriber)
    letter.refresh_from_db()
    assert letter.status == Letter.Status.SIGNED
    with pytest.raises(LettersError) as locked:
        letters.edit_draft(letter, body="changed", by=prescriber)
    assert locked.value.code == "locked"
    letters.add_addendum(
        letter, body="Reply received by phone.", password=TEST_PASSWORD, by=prescriber
    )
    text = squeezed(pdf_text(pdf.letter_pdf(letter)))
    assert squeezed("Is a blood pressure rise of 20 mmHg") in text
    assert squeezed("Reply received by phone.") in text
    # Release rules hold: nothing leaves without the communication consent.
    with pytest.raises(LettersError) as no_consent:
        letters.record_send(letter, channel="email", by=prescriber)
    assert no_consent.value.code == "no_consent"
    assert LetterSend.objects.count() == 0
    give_communication_consent(patient)
    with pytest.raises(LettersError) as no_fax:
        letters.record_send(letter, channel="fax", by=prescriber)
    assert no_fax.value.code == "no_address"
    send = letters.record_send(letter, channel="email", by=prescriber)
    assert send.address == "heart@example.test"
    assert send.link_expires_at is not None


def test_email_is_a_link_never_the_letter(
    decision: EligibilityDecision,
    patient: Patient,
    prescriber: User,
    django_capture_on_commit_callbacks: Callable[..., object],
) -> None:
    give_communication_consent(patient)
    letter = letters.request_clearance(decision, by=prescriber)
    letters.sign_letter(letter, password=TEST_PASSWORD, by=prescriber)
    with django_capture_on_commit_callbacks(execute=True):  # type: ignore[attr-defined]
        letters.record_send(letter, channel="email", by=prescriber)
    assert len(mail.outbox) == 1
    body = mail.outbox[0].body
    assert "/letters/link/" in body
    assert patient.legal_name not in body
    assert not mail.outbox[0].attachments


def test_drafting_a_clearance_letter_needs_a_decision_asking_for_it(
    patient: Patient, prescriber: User, front_desk: User
) -> None:
    provider = patient_actions.add_care_team_provider(
        patient, role=CareTeamProvider.Role.REFERRING, name="Dr A (test)", by=front_desk
    )
    with pytest.raises(LettersError) as refused:
        letters.draft_letter(
            patient, kind="clearance", recipient=provider, by=prescriber
        )
    assert refused.value.field == "kind"
    assert refused.value.code == "no_clearance_decision"
    assert Letter.objects.count() == 0
    eligible = eligibility_decisions.decide_eligibility(
        patient,
        by=prescriber,
        password=TEST_PASSWORD,
        outcome="eligible",
        reason="Reviewed at the consultation (test)",
    )
    with pytest.raises(LettersError):
        letters.request_clearance(eligible, by=prescriber)
    with pytest.raises(LettersError) as other_kind:
        letters.draft_letter(
            patient,
            kind="consult",
            recipient=provider,
            by=prescriber,
            decision=eligible,
        )
    assert other_kind.value.field == "kind"
    assert Letter.objects.count() == 0


def test_the_letters_page_drafts_a_clearance_letter_from_the_latest_decision(
    client: Client, decision: EligibilityDecision, patient: Patient, prescriber: User
) -> None:
    provider = patient_actions.add_care_team_provider(
        patient,
        role=CareTeamProvider.Role.PRIMARY_CARE,
        name="Dr GP (test)",
        by=prescriber,
    )
    login(client, prescriber)
    response = client.post(
        reverse("letters:patient_letters", args=[patient.uuid]),
        {"kind": "clearance", "recipient": provider.pk},
    )
    letter = Letter.objects.get()
    assert response.status_code == 302
    assert letter.eligibility_decision_id == decision.pk
    assert letter.recipient_id == provider.pk


@pytest.mark.parametrize("persona", EVERYONE)
def test_clearance_page_access(
    as_persona: Callable[[str], Client], persona: str, decision: EligibilityDecision
) -> None:
    response = as_persona(persona).get(
        reverse("letters:clearance", args=[decision.uuid])
    )
    assert response.status_code == expected_status(
        persona, personas_with(Capability.WRITE_LETTERS)
    )


def test_clearance_page_drafts_once_and_then_leads_to_the_letter(
    client: Client, decision: EligibilityDecision, prescriber: User
) -> None:
    login(client, prescriber)
    url = reverse("letters:clearance", args=[decision.uuid])
    page = client.get(url)
    assert page.status_code == 200
    assert "Dr Hana Heartwell (test)" in page.content.decode()
    assert Letter.objects.count() == 0  # a GET writes nothing
    drafted = client.post(url)
    letter = Letter.objects.get()
    assert drafted["Location"] == reverse("letters:letter", args=[letter.uuid])
    again = client.get(url)
    assert again.status_code == 302
    assert again["Location"] == reverse("letters:letter", args=[letter.uuid])
    client.post(url)
    assert Letter.objects.count() == 1


def test_clearance_page_is_404_for_a_decision_not_asking_or_unknown(
    client: Client, patient: Patient, prescriber: User
) -> None:
    eligible = eligibility_decisions.decide_eligibility(
        patient,
        by=prescriber,
        password=TEST_PASSWORD,
        outcome="eligible",
        reason="Reviewed at the consultation (test)",
    )
    login(client, prescriber)
    assert (
        client.get(reverse("letters:clearance", args=[eligible.uuid])).status_code
        == 404
    )
    assert (
        client.post(reverse("letters:clearance", args=[eligible.uuid])).status_code
        == 404
    )
    assert Letter.objects.count() == 0


def test_clearance_over_the_api(
    client: Client,
    decision: EligibilityDecision,
    patient: Patient,
    prescriber: User,
    front_desk: User,
    bearer: Callable[[User], dict[str, str]],
) -> None:
    url = f"/api/letters/clearance/{decision.uuid}"
    forbidden = client.post(url, headers=bearer(front_desk))
    assert forbidden.status_code == 403
    assert forbidden["Content-Type"] == "application/problem+json"
    auth = bearer(prescriber)
    created = client.post(url, headers=auth)
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["kind"] == "clearance"
    assert body["clearance_decision"] == str(decision.uuid)
    assert body["recipient"] == "Dr Hana Heartwell (test)"
    again = client.post(url, headers=auth)
    assert again.status_code == 200
    assert again.json()["id"] == body["id"]
    signed = client.post(
        f"/api/letters/{body['id']}/sign",
        {"password": TEST_PASSWORD},
        content_type="application/json",
        headers=auth,
    )
    assert signed.json()["status"] == "signed"
    unknown = client.post(
        "/api/letters/clearance/00000000-0000-0000-0000-000000000000", headers=auth
    )
    assert unknown.status_code == 404
    assert unknown["Content-Type"] == "application/problem+json"
    generic = client.post(
        f"/api/letters/patients/{patient.uuid}",
        {"kind": "clearance", "recipient_id": str(Letter.objects.get().recipient.uuid)},
        content_type="application/json",
        headers=auth,
    )
    assert generic.status_code == 201  # the generic path quotes the latest decision
    assert Letter.objects.count() == 2


def test_a_clearance_pdf_made_in_intake_before_stays_readable(
    client: Client, patient: Patient, prescriber: User
) -> None:
    """Records from before the fold: the decision keeps its PDF, linked from the letters page."""
    decision = _needs_clearance(patient, prescriber)
    legacy = EligibilityDecision(
        organization_id=patient.organization_id,
        patient=patient,
        outcome=EligibilityDecision.Outcome.NEEDS_CLEARANCE,
        clearance_provider_name="Dr Old Request (test)",
        clearance_question="Old question",
        rules_version=decision.rules_version,
        findings=[],
        facts={},
        patient_message="We have written to them.",
        decided_by=prescriber,
    )
    legacy.clearance_letter.save(
        f"{legacy.uuid}.pdf", ContentFile(b"%PDF-1.4 made in intake"), save=False
    )
    legacy.save(force_insert=True)
    login(client, prescriber)
    page = client.get(reverse("letters:patient_letters", args=[patient.uuid]))
    html = page.content.decode()
    assert "Clearance requests made before letters" in html
    link = reverse("intake:clearance_letter", args=[legacy.uuid])
    assert link in html
    assert reverse("intake:clearance_letter", args=[decision.uuid]) not in html
    served = client.get(link)
    assert b"".join(served.streaming_content).startswith(b"%PDF-1.4 made in intake")  # type: ignore[attr-defined]


def test_the_intake_api_decision_points_to_the_letters_path(
    client: Client,
    patient: Patient,
    prescriber: User,
    bearer: Callable[[User], dict[str, str]],
) -> None:
    """Every path that asks for clearance (here the intake API) leads to the letter."""
    fill_packet(patient, medical={"heart_disease": "yes"})
    auth = bearer(prescriber)
    decided = client.post(
        f"/api/patients/{patient.uuid}/eligibility/decisions",
        {
            "outcome": "needs_clearance",
            "password": TEST_PASSWORD,
            "clearance_provider_name": "Dr API Heart (test)",
            "clearance_question": "Safe over the API?",
        },
        content_type="application/json",
        headers=auth,
    )
    assert decided.status_code == 201, decided.content
    body = decided.json()
    assert body["clearance_letter"] is False
    request_url = body["clearance_request"]
    assert request_url == f"/api/letters/clearance/{body['uuid']}"
    drafted = client.post(request_url, headers=auth)
    assert drafted.status_code == 201
    assert "Safe over the API?" in drafted.json()["body"]
    eligible = client.post(
        f"/api/patients/{patient.uuid}/eligibility/decisions",
        {
            "outcome": "eligible",
            "password": TEST_PASSWORD,
            "reason": "Cleared by the cardiologist (test)",
        },
        content_type="application/json",
        headers=auth,
    )
    assert eligible.status_code == 201, eligible.content
    assert eligible.json()["clearance_request"] is None
