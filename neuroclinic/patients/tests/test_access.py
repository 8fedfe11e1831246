"""Who may open which patient page: one table per endpoint (persona x status)."""

from collections.abc import Callable

import pytest
from django.test import Client

from conftest import EVERYONE, assert_sent_to_sign_in, expected_status
from neuroclinic.audit.models import AuditEvent
from neuroclinic.patients.models import Patient

# endpoint -> personas answered 200 (GET); anonymous is always sent to sign-in,
# the outsider (another clinic) gets 404 for a patient's pages, anyone else 403.
MATRIX = {
    "/patients/": {
        "admin",
        "director",
        "prescriber",
        "nurse",
        "front_desk",
        "tms",
        "billing",
        "auditor",
        "outsider",
    },
    "/patients/new/": {
        "admin",
        "director",
        "prescriber",
        "nurse",
        "front_desk",
        "outsider",
    },
    "/patients/{uuid}/": {
        "admin",
        "director",
        "prescriber",
        "nurse",
        "front_desk",
        "tms",
        "billing",
        "auditor",
    },
    "/patients/{uuid}/edit/": {
        "admin",
        "director",
        "prescriber",
        "nurse",
        "front_desk",
    },
    "/patients/{uuid}/print/": {"director", "prescriber", "nurse", "auditor"},
    "/patients/{uuid}/export.json": {"director", "prescriber", "nurse", "auditor"},
    "/patients/{uuid}/diagnosis/new/": {"director", "prescriber", "nurse"},
    "/patients/{uuid}/contact/new/": {
        "admin",
        "director",
        "prescriber",
        "nurse",
        "front_desk",
    },
}
PATIENT_SCOPED = [path for path in MATRIX if "{uuid}" in path]


@pytest.mark.parametrize("path", list(MATRIX))
@pytest.mark.parametrize("persona", EVERYONE)
def test_who_may_open_each_patient_page(
    as_persona: Callable[[str], Client], patient: Patient, path: str, persona: str
) -> None:
    response = as_persona(persona).get(path.format(uuid=patient.uuid))

    # Another clinic's patient looks like no patient at all.
    outsider = 404 if path in PATIENT_SCOPED else None
    assert response.status_code == expected_status(
        persona, MATRIX[path], outsider=outsider
    )
    if response.status_code != 200:
        assert "Testova" not in response.content.decode()
    if persona == "anonymous":
        assert_sent_to_sign_in(response)


@pytest.mark.parametrize("path", PATIENT_SCOPED)
def test_an_unknown_patient_is_404_like_another_clinics(
    as_persona: Callable[[str], Client], patient: Patient, path: str
) -> None:
    response = as_persona("director").get(
        path.format(uuid="00000000-0000-4000-8000-000000000000")
    )

    assert response.status_code == 404


def test_the_outsiders_refused_read_is_not_audited_as_a_chart_view(
    as_persona: Callable[[str], Client], patient: Patient
) -> None:
    as_persona("outsider").get(f"/patients/{patient.uuid}/")

    assert (
        AuditEvent.objects.filter(action=AuditEvent.Action.CHART_VIEWED).exists()
        is False
    )


def test_the_outsiders_search_finds_nothing_of_ours(
    as_persona: Callable[[str], Client], patient: Patient
) -> None:
    response = as_persona("outsider").post("/patients/", {"q": "testova"})

    assert response.context["patients"] == []


@pytest.mark.parametrize(
    ("persona", "sees_clinical"),
    [("front_desk", False), ("billing", False), ("nurse", True)],
)
def test_roles_without_clinical_access_see_demographics_only(
    as_persona: Callable[[str], Client],
    patient: Patient,
    persona: str,
    sees_clinical: bool,
) -> None:
    body = as_persona(persona).get(f"/patients/{patient.uuid}/").content.decode()

    assert "Emergency contacts" in body
    assert ("Current medications" in body) is sees_clinical
    assert ("Allergies:" in body) is sees_clinical
    event = AuditEvent.objects.get(action=AuditEvent.Action.CHART_VIEWED)
    assert event.data["scope"] == ("full" if sees_clinical else "demographics")
