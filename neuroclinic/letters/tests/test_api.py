"""/api/letters: access by persona, draft-sign-send, and problem+json for every refusal."""

from collections.abc import Callable

import pytest
from django.test import Client

from conftest import EVERYONE, TEST_PASSWORD, expected_status, personas_with
from neuroclinic.accounts.models import User
from neuroclinic.accounts.roles import Capability
from neuroclinic.audit.models import AuditEvent
from neuroclinic.letters.models import Letter, LetterSend
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


@pytest.mark.parametrize("persona", EVERYONE)
def test_list_access(
    client: Client,
    persona: str,
    patient: Patient,
    request: pytest.FixtureRequest,
    bearer: Callable[[User], dict[str, str]],
) -> None:
    headers = {} if persona == "anonymous" else bearer(request.getfixturevalue(persona))
    response = client.get(f"/api/letters/patients/{patient.uuid}", headers=headers)
    assert response.status_code == expected_status(
        persona, personas_with(Capability.WRITE_LETTERS), anonymous=401
    )
    if response.status_code != 200:
        assert response["Content-Type"] == "application/problem+json"


def test_draft_sign_send_over_the_api(
    client: Client,
    patient: Patient,
    referrer: CareTeamProvider,
    prescriber: User,
    bearer: Callable[[User], dict[str, str]],
) -> None:
    auth = bearer(prescriber)
    base = f"/api/letters/patients/{patient.uuid}"
    drafted = client.post(
        base,
        {"kind": "therapist", "recipient_id": str(referrer.uuid)},
        content_type="application/json",
        headers=auth,
    )
    assert drafted.status_code == 201, drafted.content
    letter_id = drafted.json()["id"]
    assert drafted.json()["status"] == "draft"
    wrong = client.post(
        f"/api/letters/{letter_id}/sign",
        {"password": "nope"},
        content_type="application/json",
        headers=auth,
    )
    assert wrong.status_code == 422
    assert wrong["Content-Type"] == "application/problem+json"
    assert "password" in str(wrong.json())
    signed = client.post(
        f"/api/letters/{letter_id}/sign",
        {"password": TEST_PASSWORD},
        content_type="application/json",
        headers=auth,
    )
    assert signed.json()["status"] == "signed"
    no_consent = client.post(
        f"/api/letters/{letter_id}/send",
        {"channel": "fax"},
        content_type="application/json",
        headers=auth,
    )
    assert no_consent.status_code == 422
    assert "communication consent" in str(no_consent.json())
    assert not LetterSend.objects.exists()
    give_communication_consent(patient)
    no_email = client.post(
        f"/api/letters/{letter_id}/send",
        {"channel": "email"},
        content_type="application/json",
        headers=auth,
    )
    assert no_email.status_code == 422
    assert "channel" in str(no_email.json())
    sent = client.post(
        f"/api/letters/{letter_id}/send",
        {"channel": "fax"},
        content_type="application/json",
        headers=auth,
    )
    assert sent.status_code == 201
    assert sent.json()["address"] == "555-0199"
    listed = client.get(base, headers=auth).json()
    assert [item["id"] for item in listed] == [letter_id]
    assert client.get(f"/api/letters/{letter_id}", headers=auth).status_code == 200
    assert (
        AuditEvent.objects.filter(
            action=AuditEvent.Action.LETTER_VIEWED, patient_id=patient.pk
        ).count()
        == 2
    )


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "poem"}, "kind"),
        (
            {"kind": "consult", "recipient_id": "00000000-0000-0000-0000-000000000000"},
            "recipient_id",
        ),
    ],
)
def test_bad_drafts_are_problem_documents(
    client: Client,
    patient: Patient,
    referrer: CareTeamProvider,
    prescriber: User,
    bearer: Callable[[User], dict[str, str]],
    body: dict[str, str],
    field: str,
) -> None:
    body = {"recipient_id": str(referrer.uuid), **body}
    response = client.post(
        f"/api/letters/patients/{patient.uuid}",
        body,
        content_type="application/json",
        headers=bearer(prescriber),
    )
    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    assert field in str(response.json())
    assert not Letter.objects.exists()


def test_another_clinics_staff_get_a_problem_not_the_letter(
    client: Client,
    patient: Patient,
    referrer: CareTeamProvider,
    prescriber: User,
    outsider: User,
    bearer: Callable[[User], dict[str, str]],
) -> None:
    from neuroclinic.letters.actions import letters

    letter = letters.draft_letter(
        patient, kind="consult", recipient=referrer, by=prescriber
    )
    response = client.get(f"/api/letters/{letter.uuid}", headers=bearer(outsider))
    assert response.status_code in (403, 404)
    assert response["Content-Type"] == "application/problem+json"
