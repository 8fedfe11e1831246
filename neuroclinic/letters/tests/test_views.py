"""Letter pages: clinicians only (letters quote scores), the draft-sign-send flow, audited reads."""

from collections.abc import Callable
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from conftest import EVERYONE, TEST_PASSWORD, expected_status, personas_with
from neuroclinic.accounts.models import User
from neuroclinic.accounts.roles import Capability
from neuroclinic.audit.models import AuditEvent
from neuroclinic.letters.actions import letters
from neuroclinic.letters.models import Letter, LetterSend, Part2Consent
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
        by=front_desk,
    )


@pytest.fixture
def letter(patient: Patient, referrer: CareTeamProvider, prescriber: User) -> Letter:
    return letters.draft_letter(
        patient, kind="end_of_series", recipient=referrer, by=prescriber
    )


@pytest.mark.parametrize("persona", EVERYONE)
def test_letter_page_access(
    as_persona: Callable[[str], Client], persona: str, letter: Letter
) -> None:
    response = as_persona(persona).get(reverse("letters:letter", args=[letter.uuid]))
    assert response.status_code == expected_status(
        persona, personas_with(Capability.WRITE_LETTERS)
    )


@pytest.mark.parametrize("persona", EVERYONE)
def test_patient_letters_access(
    as_persona: Callable[[str], Client], persona: str, patient: Patient
) -> None:
    response = as_persona(persona).get(
        reverse("letters:patient_letters", args=[patient.uuid])
    )
    assert response.status_code == expected_status(
        persona, personas_with(Capability.WRITE_LETTERS)
    )


def test_draft_sign_and_send_through_the_pages(
    as_persona: Callable[[str], Client],
    patient: Patient,
    referrer: CareTeamProvider,
    consented: object,
) -> None:
    client = as_persona("prescriber")
    response = client.post(
        reverse("letters:patient_letters", args=[patient.uuid]),
        {"kind": "end_of_series", "recipient": referrer.pk},
    )
    assert response.status_code == 302
    letter = Letter.objects.get()
    page = client.get(reverse("letters:letter", args=[letter.uuid])).content.decode()
    assert "Dr Rowan Referrer (test)" in page
    response = client.post(
        reverse("letters:sign", args=[letter.uuid]), {"password": "nope"}
    )
    assert response.status_code == 422
    assert (
        client.post(
            reverse("letters:sign", args=[letter.uuid]), {"password": TEST_PASSWORD}
        ).status_code
        == 302
    )
    response = client.post(
        reverse("letters:send", args=[letter.uuid]), {"channel": "fax"}
    )
    assert response.status_code == 302
    assert LetterSend.objects.get().address == "555-0199"
    pdf = client.get(reverse("letters:pdf", args=[letter.uuid]))
    assert pdf.content.startswith(b"%PDF")
    assert AuditEvent.objects.filter(
        action=AuditEvent.Action.LETTER_VIEWED, patient_id=patient.pk
    ).exists()


def test_sending_a_draft_is_refused_on_the_page(
    as_persona: Callable[[str], Client], letter: Letter
) -> None:
    response = as_persona("prescriber").post(
        reverse("letters:send", args=[letter.uuid]), {"channel": "fax"}
    )
    assert response.status_code == 422
    assert "Sign the letter" in response.content.decode()
    assert not LetterSend.objects.exists()


@pytest.mark.parametrize("persona", EVERYONE)
def test_part2_consent_page_access(
    as_persona: Callable[[str], Client], persona: str, patient: Patient
) -> None:
    response = as_persona(persona).get(
        reverse("letters:part2_consent", args=[patient.uuid])
    )
    assert response.status_code == expected_status(
        persona, personas_with(Capability.WRITE_LETTERS)
    )


def test_the_part2_consent_page_records_a_named_recipient_and_releases_the_letter(
    as_persona: Callable[[str], Client],
    patient: Patient,
    referrer: CareTeamProvider,
    prescriber: User,
) -> None:

    give_communication_consent(patient)
    flagged = letters.draft_letter(
        patient, kind="end_of_series", recipient=referrer, by=prescriber, part2=True
    )
    letters.sign_letter(flagged, password=TEST_PASSWORD, by=prescriber)
    assert letters.release_problem(flagged) is not None
    client = as_persona("prescriber")
    url = reverse("letters:part2_consent", args=[patient.uuid])
    expires = (timezone.localdate() + timedelta(days=180)).isoformat()
    response = client.post(
        url,
        {
            "recipient": referrer.pk,
            "purpose": "Coordination of care",
            "expires_on": expires,
        },
    )
    assert response.status_code == 302
    consent = Part2Consent.objects.get()
    assert (consent.recipient, consent.recorded_by) == (referrer, prescriber)
    assert AuditEvent.objects.filter(
        action=AuditEvent.Action.LETTER_PART2_CONSENT, patient=patient
    ).exists()
    assert letters.release_problem(flagged) is None
    listing = client.get(reverse("letters:patient_letters", args=[patient.uuid]))
    assert "Coordination of care" in listing.content.decode()


@pytest.mark.parametrize(
    ("purpose", "days", "field", "message"),
    [
        ("", 30, "purpose", "This field is required"),
        ("Care", -1, "expires_on", "already expired"),
    ],
)
def test_a_bad_part2_consent_is_refused_and_nothing_written(
    as_persona: Callable[[str], Client],
    patient: Patient,
    referrer: CareTeamProvider,
    purpose: str,
    days: int,
    field: str,
    message: str,
) -> None:

    response = as_persona("prescriber").post(
        reverse("letters:part2_consent", args=[patient.uuid]),
        {
            "recipient": referrer.pk,
            "purpose": purpose,
            "expires_on": (timezone.localdate() + timedelta(days=days)).isoformat(),
        },
    )
    assert response.status_code == 422
    assert message in response.content.decode()
    assert not Part2Consent.objects.exists()


def test_a_provider_of_another_patient_cannot_be_named(
    as_persona: Callable[[str], Client],
    patient: Patient,
    front_desk: User,
) -> None:

    assert patient.organization is not None
    other = patient_actions.register_patient(
        patient.organization,
        by=front_desk,
        family_name="Otherova",
        given_name="Olive",
        birth_date=patient.birth_date,
        sex_at_birth=patient.sex_at_birth,
    )
    theirs = patient_actions.add_care_team_provider(
        other, role=CareTeamProvider.Role.REFERRING, name="Dr Elsewhere", by=front_desk
    )
    response = as_persona("prescriber").post(
        reverse("letters:part2_consent", args=[patient.uuid]),
        {"recipient": theirs.pk, "purpose": "Care", "expires_on": "2099-01-01"},
    )
    assert response.status_code == 422
    assert not Part2Consent.objects.exists()
