"""Release rules, addenda and the emailed link: nothing leaves without the patient's consent,
Part 2 records need their own consent, a signed letter gains addenda but never changes,
and email carries only an expiring signed link (no PHI, no attachment)."""

from collections.abc import Callable
from datetime import timedelta

import pytest
from django.core import mail, signing
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from conftest import TEST_PASSWORD
from neuroclinic.accounts.models import User
from neuroclinic.audit.models import AuditEvent
from neuroclinic.audit.tests.helpers import unguarded_update
from neuroclinic.letters.actions import letters
from neuroclinic.letters.errors import LettersError
from neuroclinic.letters.models import (
    Letter,
    LetterAddendum,
    LetterSend,
    LetterTemplate,
    Part2Consent,
)
from neuroclinic.letters.tests.conftest import give_communication_consent
from neuroclinic.patients import actions as patient_actions
from neuroclinic.patients.models import CareTeamProvider, Patient

pytestmark = pytest.mark.django_db


@pytest.fixture
def referrer(patient: Patient, front_desk: User) -> CareTeamProvider:
    return patient_actions.add_care_team_provider(
        patient,
        role=CareTeamProvider.Role.REFERRING,
        name="Dr Rowan Referrer (test)",
        fax="555-0199",
        email="rowan@example.com",
        by=front_desk,
    )


def _signed(
    patient: Patient,
    referrer: CareTeamProvider,
    prescriber: User,
    *,
    part2: bool = False,
) -> Letter:
    letter = letters.draft_letter(
        patient, kind="end_of_series", recipient=referrer, by=prescriber, part2=part2
    )
    return letters.sign_letter(letter, password=TEST_PASSWORD, by=prescriber)


@pytest.mark.parametrize(
    ("communication", "part2", "part2_consent_days", "refused_code"),
    [
        (False, False, None, "no_consent"),
        (False, True, 30, "no_consent"),
        (True, False, None, None),
        (True, True, None, "part2"),
        (True, True, -1, "part2"),  # expired yesterday
        (True, True, 0, None),  # good through today
        (True, True, 30, None),
    ],
)
def test_release_rules(
    patient: Patient,
    referrer: CareTeamProvider,
    prescriber: User,
    communication: bool,
    part2: bool,
    part2_consent_days: int | None,
    refused_code: str | None,
) -> None:
    if communication:
        give_communication_consent(patient)
    if part2_consent_days is not None:
        Part2Consent.objects.create(  # a past expiry cannot be recorded through the action
            organization_id=patient.organization_id,
            patient=patient,
            recipient=referrer,
            purpose="Coordination of care",
            expires_on=timezone.localdate() + timedelta(days=part2_consent_days),
            recorded_by=prescriber,
        )
    letter = _signed(patient, referrer, prescriber, part2=part2)
    if refused_code is None:
        assert letters.record_send(letter, channel="fax", by=prescriber).pk
    else:
        with pytest.raises(LettersError) as error:
            letters.record_send(letter, channel="fax", by=prescriber)
        assert error.value.code == refused_code
        assert not LetterSend.objects.exists()


def test_part2_consent_names_a_care_team_recipient_and_a_purpose(
    patient: Patient, referrer: CareTeamProvider, prescriber: User
) -> None:
    future = timezone.localdate() + timedelta(days=90)
    with pytest.raises(LettersError) as error:
        letters.record_part2_consent(
            patient, recipient=referrer, purpose=" ", expires_on=future, by=prescriber
        )
    assert error.value.field == "purpose"
    with pytest.raises(LettersError) as error:
        letters.record_part2_consent(
            patient,
            recipient=referrer,
            purpose="Care",
            expires_on=timezone.localdate() - timedelta(days=1),
            by=prescriber,
        )
    assert error.value.field == "expires_on"
    assert not Part2Consent.objects.exists()
    letters.record_part2_consent(
        patient, recipient=referrer, purpose="Care", expires_on=future, by=prescriber
    )
    assert AuditEvent.objects.filter(
        action=AuditEvent.Action.LETTER_PART2_CONSENT, patient_id=patient.pk
    ).exists()


def test_a_part2_consent_for_another_provider_does_not_release_the_letter(
    patient: Patient, referrer: CareTeamProvider, prescriber: User, front_desk: User
) -> None:
    give_communication_consent(patient)
    therapist = patient_actions.add_care_team_provider(
        patient,
        role=CareTeamProvider.Role.THERAPIST,
        name="Tess Therapist (test)",
        fax="555-0198",
        by=front_desk,
    )
    letters.record_part2_consent(
        patient,
        recipient=therapist,
        purpose="Care",
        expires_on=timezone.localdate() + timedelta(days=30),
        by=prescriber,
    )
    letter = _signed(patient, referrer, prescriber, part2=True)
    with pytest.raises(LettersError) as error:
        letters.record_send(letter, channel="fax", by=prescriber)
    assert error.value.code == "part2"


def test_addenda_are_signed_and_leave_the_letter_unchanged(
    patient: Patient, referrer: CareTeamProvider, prescriber: User
) -> None:
    draft = letters.draft_letter(
        patient, kind="end_of_series", recipient=referrer, by=prescriber
    )
    with pytest.raises(LettersError) as error:
        letters.add_addendum(
            draft, body="Late note", password=TEST_PASSWORD, by=prescriber
        )
    assert error.value.code == "unsigned"
    letter = letters.sign_letter(draft, password=TEST_PASSWORD, by=prescriber)
    body, digest = letter.body, letter.body_sha256
    with pytest.raises(LettersError) as error:
        letters.add_addendum(letter, body="Late note", password="wrong", by=prescriber)
    assert error.value.field == "password"
    with pytest.raises(LettersError) as error:
        letters.add_addendum(letter, body="  ", password=TEST_PASSWORD, by=prescriber)
    assert error.value.field == "body"
    assert not LetterAddendum.objects.exists()
    letters.add_addendum(
        letter, body="The PHQ-9 on day 12 was 5.", password=TEST_PASSWORD, by=prescriber
    )
    letter.refresh_from_db()
    assert (letter.body, letter.body_sha256) == (body, digest)
    assert letter.addenda.get().body == "The PHQ-9 on day 12 was 5."


@pytest.mark.parametrize("kind", LetterTemplate.Kind.values)
def test_every_kind_has_default_wording_that_fills(
    kind: str, patient: Patient, referrer: CareTeamProvider, prescriber: User
) -> None:
    if kind == LetterTemplate.Kind.CLEARANCE:  # drafted from a decision asking for it
        from neuroclinic.intake.actions import eligibility_decisions
        from neuroclinic.intake.tests.factories import fill_packet

        fill_packet(patient, medical={"heart_disease": "yes"})
        eligibility_decisions.decide_eligibility(
            patient,
            by=prescriber,
            password=TEST_PASSWORD,
            outcome="needs_clearance",
            clearance_provider_name="Dr Heart (test)",
            clearance_question="Safe?",
        )
    letter = letters.draft_letter(patient, kind=kind, recipient=referrer, by=prescriber)
    assert "Dr Rowan Referrer (test)" in letter.body
    assert "{{" not in letter.body


def test_email_carries_a_link_without_phi_and_the_link_expires(
    patient: Patient,
    referrer: CareTeamProvider,
    prescriber: User,
    client: Client,
    django_capture_on_commit_callbacks: Callable[..., object],
) -> None:
    give_communication_consent(patient)
    letter = _signed(patient, referrer, prescriber)
    with django_capture_on_commit_callbacks(execute=True):  # type: ignore[attr-defined]
        send = letters.record_send(letter, channel="email", by=prescriber)
    assert send.address == "rowan@example.com"
    assert send.link_expires_at is not None
    (message,) = mail.outbox
    assert message.to == ["rowan@example.com"]
    assert not message.attachments
    text = str(message.subject) + str(message.body)
    for phi in (patient.family_name, patient.given_name, str(patient.birth_date)):
        assert phi not in text
    link = next(w for w in message.body.split() if "/letters/link/" in w)
    path = link[link.index("/letters/") :]
    assert patient.family_name not in path
    response = client.get(path)
    assert response.status_code == 200
    assert response.content.startswith(b"%PDF")
    assert AuditEvent.objects.filter(
        action=AuditEvent.Action.LETTER_LINK_OPENED, patient_id=patient.pk
    ).exists()
    # a forged token and an expired link both answer 410 and serve nothing
    assert client.get(path[:-3] + "xx/").status_code == 410
    unguarded_update(  # sends are append-only: the test moves the expiry back
        LetterSend.objects.filter(pk=send.pk),
        link_expires_at=timezone.now() - timedelta(seconds=1),
    )
    expired = client.get(path)
    assert expired.status_code == 410
    assert b"%PDF" not in expired.content
    # a token for a fax send (not a link) is refused too
    fax = letters.record_send(letter, channel="fax", by=prescriber)
    token = signing.dumps({"send": fax.pk}, salt="neuroclinic.letters.link")
    assert client.get(reverse("letters:shared", args=[token])).status_code == 410


def test_template_editor_saves_versions_and_refuses_unknown_fields(
    as_persona: Callable[[str], Client],
) -> None:
    client = as_persona("prescriber")
    url = reverse("letters:template", args=["consult"])
    page = client.get(url)
    assert page.status_code == 200
    assert "recipient_name" in page.content.decode()
    bad = client.post(url, {"body": "Dear {{ recipient_name }}, {{ ssn }}"})
    assert bad.status_code == 422
    assert "Unknown field: ssn" in bad.content.decode()
    assert not LetterTemplate.objects.exists()
    for text in ("Dear {{ recipient_name }}", "Hello {{ recipient_name }}"):
        assert client.post(url, {"body": text}).status_code == 302
    versions = LetterTemplate.objects.filter(kind="consult").order_by("version")
    assert [v.version for v in versions] == [1, 2]
    assert versions[0].body == "Dear {{ recipient_name }}"  # the old version is kept
    assert client.get(reverse("letters:template", args=["nope"])).status_code == 404
    assert as_persona("billing").get(url).status_code == 403


def test_addendum_and_email_through_the_page(
    as_persona: Callable[[str], Client],
    patient: Patient,
    referrer: CareTeamProvider,
    prescriber: User,
) -> None:
    letter = _signed(patient, referrer, prescriber)
    client = as_persona("prescriber")
    refused = client.post(
        reverse("letters:send", args=[letter.uuid]), {"channel": "email"}
    )
    assert refused.status_code == 422
    assert "communication consent" in refused.content.decode()
    assert not mail.outbox
    bad = client.post(
        reverse("letters:addendum", args=[letter.uuid]), {"body": "x", "password": "no"}
    )
    assert bad.status_code == 422
    ok = client.post(
        reverse("letters:addendum", args=[letter.uuid]),
        {"body": "Seen again today.", "password": TEST_PASSWORD},
    )
    assert ok.status_code == 302
    assert (
        "Seen again today."
        in client.get(reverse("letters:letter", args=[letter.uuid])).content.decode()
    )
