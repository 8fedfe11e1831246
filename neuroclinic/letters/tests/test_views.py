"""Letter pages: clinicians only (letters quote scores), the draft-sign-send flow, audited reads."""

from collections.abc import Callable

import pytest
from django.test import Client
from django.urls import reverse

from conftest import EVERYONE, TEST_PASSWORD, expected_status, personas_with
from neuroclinic.accounts.models import User
from neuroclinic.accounts.roles import Capability
from neuroclinic.audit.models import AuditEvent
from neuroclinic.letters.actions import letters
from neuroclinic.letters.models import Letter, LetterSend
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
