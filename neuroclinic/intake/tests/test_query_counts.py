"""Query counts of the intake list pages and API lists, pinned, and the same for more rows.

Each list is measured with a few rows and again with more: the count must not
grow with the rows (no query per row). The pinned numbers include the request's
own (session, user, two-factor device, audit of reads); a change that adds
queries shows here first.
"""

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from django.test import Client

from conftest import TEST_PASSWORD, login
from neuroclinic.accounts.models import User
from neuroclinic.clinics.models import Organization
from neuroclinic.intake.actions import (
    consents,
    consult_requests,
    eligibility_decisions,
    packets,
)
from neuroclinic.intake.models import ConsentSignature
from neuroclinic.intake.tests.factories import (
    baselines,
    consult_request,
    fill_packet,
    publish_all,
    signature_png,
)
from neuroclinic.patients import actions as patient_actions
from neuroclinic.patients.models import Patient

AssertNumQueries = Callable[..., Any]


def _busy_requests(organization: Organization, staff: User, count: int) -> None:
    """Requests with what each row shows: an assignee, notes and a self-check."""
    for n in range(count):
        request = consult_request(
            organization, given_name=f"Demo{n}", family_name="Requestwood"
        )
        consult_requests.update_consult_request(request, assigned_to=staff, by=staff)
        for text in ("Called, no answer.", "Called back."):
            consult_requests.add_consult_note(request, text=text, by=staff)


def _patient_in_intake(
    organization: Organization,
    n: int,
    *,
    front_desk: User,
    prescriber: User,
    forms: dict[str, Any],
) -> Patient:
    """A patient with what a worklist row shows: answers, a decision, a consent, a document."""
    patient = patient_actions.register_patient(
        organization,
        by=front_desk,
        family_name="Listington",
        given_name=f"Demo{n}",
        birth_date=date(1980, 1, 1 + n),
        sex_at_birth=Patient.SexAtBirth.FEMALE,
    )
    fill_packet(patient)
    baselines(patient)
    packets.upload_document(
        patient, kind="referral", name="r.pdf", content=b"%PDF-1.4 x", by=front_desk
    )
    eligibility_decisions.decide_eligibility(
        patient, password=TEST_PASSWORD, outcome="eligible", by=prescriber
    )
    consents.sign_consent(
        patient,
        forms["ketamine"],
        typed_name=f"Demo{n} Listington",
        signature_png=signature_png(n),
        ip_address="127.0.0.1",
        channel=ConsentSignature.Channel.TABLET,
        by=front_desk,
    )
    return patient


@pytest.fixture
def forms(organization: Organization) -> dict[str, Any]:
    return publish_all(organization)


def test_the_consult_queue_page(
    client: Client,
    organization: Organization,
    front_desk: User,
    django_assert_num_queries: AssertNumQueries,
) -> None:
    login(client, front_desk)
    _busy_requests(organization, front_desk, 2)
    with django_assert_num_queries(11):
        first = client.get("/intake/requests/?status=all")
    _busy_requests(organization, front_desk, 3)
    with django_assert_num_queries(11):
        second = client.get("/intake/requests/?status=all")

    assert first.content.decode().count("Requestwood") == 2
    assert second.content.decode().count("Requestwood") == 5


def test_the_consult_queue_api_list(
    client: Client,
    organization: Organization,
    front_desk: User,
    django_assert_num_queries: AssertNumQueries,
) -> None:
    login(client, front_desk)
    _busy_requests(organization, front_desk, 2)
    with django_assert_num_queries(9):
        first = client.get("/api/consult-requests")
    _busy_requests(organization, front_desk, 3)
    with django_assert_num_queries(9):
        second = client.get("/api/consult-requests")

    assert len(first.json()) == 2
    assert len(second.json()) == 5
    assert all(len(r["notes"]) == 2 for r in second.json())


def test_the_intake_worklist_page(
    client: Client,
    organization: Organization,
    front_desk: User,
    prescriber: User,
    forms: dict[str, Any],
    django_assert_num_queries: AssertNumQueries,
) -> None:
    login(client, front_desk)
    for n in range(2):
        _patient_in_intake(
            organization, n, front_desk=front_desk, prescriber=prescriber, forms=forms
        )
    with django_assert_num_queries(16):
        first = client.get("/intake/")
    for n in range(2, 5):
        _patient_in_intake(
            organization, n, front_desk=front_desk, prescriber=prescriber, forms=forms
        )
    with django_assert_num_queries(16):
        second = client.get("/intake/")

    assert first.content.decode().count("Demo") == 2
    assert second.content.decode().count("Demo") == 5
    assert "Eligible" in second.content.decode()


def test_the_consent_form_pages(
    client: Client,
    admin: User,
    forms: dict[str, Any],
    django_assert_num_queries: AssertNumQueries,
) -> None:
    login(client, admin)
    with django_assert_num_queries(10):
        assert client.get("/intake/consent-forms/").status_code == 200
    with django_assert_num_queries(11):
        assert client.get("/intake/consent-forms/ketamine/").status_code == 200


def test_a_patients_intake_api_lists(
    client: Client,
    patient: Patient,
    prescriber: User,
    forms: dict[str, Any],
    django_assert_num_queries: AssertNumQueries,
) -> None:
    fill_packet(patient)
    baselines(patient)
    eligibility_decisions.decide_eligibility(
        patient, password=TEST_PASSWORD, outcome="eligible", by=prescriber
    )
    login(client, prescriber)
    base = f"/api/patients/{patient.uuid}"

    with django_assert_num_queries(12):
        assert client.get(f"{base}/intake").status_code == 200
    with django_assert_num_queries(18):
        assert client.get(f"{base}/eligibility").status_code == 200
    with django_assert_num_queries(10):
        assert client.get(f"{base}/consents").status_code == 200
