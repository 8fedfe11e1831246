"""Names and identifiers refuse bidirectional override characters (U+202E and kin).

"Fiction\u202enos" displays as "Fictionsonn"-like reversed text: a chart, a
consult request, a staff account or a clinic room could be made to look like
another. Each path that takes a name or an identifier refuses them with a field
error (pages) or a 422 naming the field (API); the plain right-to-left marks
that Hebrew or Arabic names need are accepted.

Issue #15 item 10.
"""

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from conftest import login
from neuroclinic.accounts.models import User
from neuroclinic.clinics.models import Organization
from neuroclinic.intake.models import ConsultRequest
from neuroclinic.lib.bidi import BIDI_CONTROLS, has_bidi_controls
from neuroclinic.patients.models import Patient
from neuroclinic.patients.tests.factories import registration_form

SPOOFED = "Fiction\u202enoskcaJ"
RLM_NAME = "\u05db\u05d4\u05df\u200f"  # a Hebrew name with a right-to-left mark

PATIENT = {
    "family_name": "Examplar",
    "given_name": "Sage",
    "birth_date": "1988-08-08",
    "sex_at_birth": "male",
    "phone": "555-014-0001",
}
CONSULT = {
    "given_name": "Robin",
    "family_name": "Examplewood",
    "phone": "555-0170",
    "seeking_help_for": "Depression.",
    "consent_to_contact": True,
}


@pytest.mark.parametrize(
    "character", sorted(BIDI_CONTROLS), ids=lambda c: f"U+{ord(c):04X}"
)
def test_every_override_embedding_and_isolate_is_refused(character: str) -> None:
    assert has_bidi_controls(f"Smith{character}enoJ")


@pytest.mark.parametrize("mark", ["\u200e", "\u200f", "\u061c"])
def test_plain_direction_marks_are_allowed(mark: str) -> None:
    assert not has_bidi_controls(f"name{mark}")


def _fields(response: Any) -> set[str]:
    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    return {e["field"] for e in response.json()["errors"]}


@pytest.mark.parametrize("field", ["family_name", "given_name", "preferred_name"])
def test_the_api_refuses_a_patient_name_with_an_override(
    client: Client,
    front_desk: User,
    bearer: Callable[[User], dict[str, str]],
    field: str,
) -> None:
    response = client.post(
        "/api/patients",
        PATIENT | {field: SPOOFED},
        content_type="application/json",
        headers=bearer(front_desk),
    )

    assert _fields(response) == {field}
    assert Patient.objects.count() == 0


def test_the_api_refuses_a_renamed_patient_with_an_override(
    client: Client,
    front_desk: User,
    patient: Patient,
    bearer: Callable[[User], dict[str, str]],
) -> None:
    response = client.patch(
        f"/api/patients/{patient.uuid}",
        {"family_name": SPOOFED},
        content_type="application/json",
        headers=bearer(front_desk),
    )

    assert _fields(response) == {"family_name"}
    patient.refresh_from_db()
    assert patient.family_name == "Testova"


def test_the_api_accepts_a_name_with_a_right_to_left_mark(
    client: Client, front_desk: User, bearer: Callable[[User], dict[str, str]]
) -> None:
    response = client.post(
        "/api/patients",
        PATIENT | {"family_name": RLM_NAME},
        content_type="application/json",
        headers=bearer(front_desk),
    )

    assert response.status_code == 201
    assert Patient.objects.get().family_name == RLM_NAME


def test_the_registration_page_refuses_an_override(
    client: Client, front_desk: User
) -> None:
    login(client, front_desk)

    response = client.post("/patients/new/", registration_form(family_name=SPOOFED))

    assert response.status_code == 200
    assert "family_name" in response.context["form"].errors
    assert Patient.objects.count() == 0


def test_the_public_consult_api_refuses_an_override(
    client: Client, organization: Organization
) -> None:
    response = client.post(
        "/api/consult-requests",
        CONSULT | {"given_name": SPOOFED},
        content_type="application/json",
    )

    assert _fields(response) == {"given_name"}
    assert ConsultRequest.objects.count() == 0


def test_the_public_consult_page_refuses_an_override(
    client: Client, organization: Organization
) -> None:
    response = client.post(
        "/consultation/",
        {
            "given_name": "Robin",
            "family_name": SPOOFED,
            "phone": "555-0101",
            "email": "",
            "contact_method": "phone",
            "contact_time": "any",
            "interest": "ketamine",
            "seeking_help_for": "Depression.",
            "referring_provider": "",
            "heard_about": "",
            "consent_to_contact": "on",
        },
    )

    assert response.status_code == 200
    assert "family_name" in response.context["form"].errors
    assert ConsultRequest.objects.count() == 0


def test_the_staff_page_refuses_a_username_or_name_with_an_override(
    client: Client, admin: User
) -> None:
    login(client, admin)

    response = client.post(
        "/accounts/staff/new/",
        {
            "username": "nurse2",
            "first_name": SPOOFED,
            "last_name": "Tester",
            "email": "",
            "title": "",
            "roles": ["nurse"],
            "password": "correct-horse-battery-staple-2",
        },
    )

    assert response.status_code == 200
    assert "first_name" in response.context["form"].errors
    assert not User.objects.filter(username="nurse2").exists()


def test_the_clinic_page_refuses_a_location_name_with_an_override(
    client: Client, admin: User
) -> None:
    login(client, admin)

    response = client.post("/clinic/location/new/", {"name": SPOOFED})

    assert response.status_code == 200
    assert "name" in response.context["form"].errors
