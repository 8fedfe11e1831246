"""The audit log for people: who may read it, filters, paging, CSV export, and its cost."""

import csv
import io
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from conftest import (
    EVERYONE,
    assert_sent_to_sign_in,
    expected_status,
    personas_with,
)
from neuroclinic.accounts.models import User
from neuroclinic.accounts.roles import Capability
from neuroclinic.audit.models import AuditEvent
from neuroclinic.audit.record import record
from neuroclinic.clinics.models import Organization
from neuroclinic.patients.models import Patient
from neuroclinic.patients.tests.factories import make_patient

Action = AuditEvent.Action
READERS = personas_with(Capability.VIEW_AUDIT_LOG)


def _rows(response: Any) -> list[dict[str, str]]:
    body = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(body)))


@pytest.mark.parametrize("path", ["/audit/", "/audit/export.csv"])
@pytest.mark.parametrize("persona", EVERYONE)
def test_who_may_read_the_audit_log(
    as_persona: Callable[[str], Client], persona: str, path: str
) -> None:
    response = as_persona(persona).get(path)

    assert response.status_code == expected_status(persona, READERS)
    if persona == "anonymous":
        assert_sent_to_sign_in(response)
    if response.status_code != 200:
        assert not AuditEvent.objects.filter(action=Action.AUDIT_LOG_EXPORTED).exists()


def test_the_log_shows_the_readers_clinic_only_newest_first(
    as_persona: Callable[[str], Client],
    patient: Patient,
    outsider: User,
    other_organization: Organization,
) -> None:
    theirs = make_patient(other_organization, by=outsider)

    page = as_persona("auditor").get("/audit/")

    events = list(page.context["page"])
    assert events == sorted(events, key=lambda e: e.seq, reverse=True)
    assert {e.organization_id for e in events} == {patient.organization_id}
    assert theirs.mrn not in page.content.decode()


def test_filtering_by_mrn_user_and_action(
    as_persona: Callable[[str], Client],
    organization: Organization,
    patient: Patient,
    front_desk: User,
    nurse: User,
) -> None:
    other = make_patient(organization, by=front_desk, family_name="Otherby")
    record(Action.CHART_VIEWED, actor=nurse, patient=patient, subject=patient)
    record(Action.CHART_VIEWED, actor=nurse, patient=other, subject=other)
    client = as_persona("auditor")

    by_mrn = client.get("/audit/", {"patient": patient.mrn.lower()}).context["page"]
    by_user = client.get("/audit/", {"user": "nurse"}).context["page"]
    by_action = client.get("/audit/", {"action": Action.CHART_VIEWED}).context["page"]

    assert {e.patient_id for e in by_mrn} == {patient.pk}
    assert {e.actor_username for e in by_user} == {"nurse"}
    assert len(by_action) == 2


def test_another_clinics_mrn_finds_nothing(
    as_persona: Callable[[str], Client],
    patient: Patient,
    outsider: User,
    other_organization: Organization,
) -> None:
    theirs = make_patient(other_organization, by=outsider)

    page = as_persona("auditor").get("/audit/", {"patient": theirs.mrn})

    assert list(page.context["page"]) == []


def test_an_end_date_before_the_start_is_a_field_error_and_lists_nothing(
    as_persona: Callable[[str], Client], patient: Patient
) -> None:
    response = as_persona("auditor").get(
        "/audit/", {"date_from": "2026-03-02", "date_to": "2026-03-01"}
    )

    assert response.status_code == 200
    assert response.context["form"].errors == {
        "date_to": ["The end date is before the start date."]
    }
    assert list(response.context["page"]) == []


def test_the_log_is_paged_fifty_at_a_time(
    as_persona: Callable[[str], Client], patient: Patient, nurse: User
) -> None:
    for _ in range(60):
        record(Action.CHART_VIEWED, actor=nurse, patient=patient, subject=patient)
    client = as_persona("auditor")

    first = client.get("/audit/", {"action": Action.CHART_VIEWED}).context["page"]
    second = client.get(
        "/audit/", {"action": Action.CHART_VIEWED, "page": "2"}
    ).context["page"]

    assert (len(first), len(second)) == (50, 10)
    assert first[0].seq > second[0].seq


def test_the_export_is_a_csv_of_the_filtered_events_and_is_itself_audited(
    as_persona: Callable[[str], Client], patient: Patient, nurse: User, auditor: User
) -> None:
    record(Action.CHART_VIEWED, actor=nurse, patient=patient, subject=patient)

    response = as_persona("auditor").get(
        "/audit/export.csv", {"action": Action.CHART_VIEWED}
    )

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv"
    assert response["Cache-Control"] == "no-store"
    rows = _rows(response)
    assert [(r["action"], r["actor_username"], r["patient_mrn"]) for r in rows] == [
        (Action.CHART_VIEWED, "nurse", patient.mrn)
    ]
    exported = AuditEvent.objects.get(action=Action.AUDIT_LOG_EXPORTED)
    assert exported.actor == auditor
    assert exported.data["filters"] == {"action": Action.CHART_VIEWED}


def test_the_page_costs_the_same_queries_however_many_events(
    as_persona: Callable[[str], Client],
    organization: Organization,
    patient: Patient,
    nurse: User,
    django_assert_num_queries: Callable[[int], Any],
) -> None:
    client = as_persona("auditor")
    client.get("/audit/")  # the first request after sign-in warms the session

    with django_assert_num_queries(11):
        assert client.get("/audit/").status_code == 200
    for n in range(30):
        other = make_patient(organization, family_name=f"Loggins{n}")
        record(Action.CHART_VIEWED, actor=nurse, patient=other, subject=other)
    with django_assert_num_queries(11):
        assert client.get("/audit/").status_code == 200


def test_details_read_as_labelled_fields_with_identifiers_shortened(
    as_persona: Callable[[str], Client], nurse: User, patient: Patient
) -> None:
    """Issue 18 item 8: not a Python dict, not a whole UUID in a table cell."""
    ref = "f72f83b8-acce-4ea5-9029-2cb8ebd93739"
    record(
        Action.CHART_VIEWED,
        actor=nurse,
        patient=patient,
        subject=patient,
        session_ref=ref,
        codes=["96365x1", "J3490x1"],
        escort_confirmed=True,
        weight_kg="80.0",
    )

    page = as_persona("auditor").get("/audit/").content.decode()

    assert "<dt>Session ref</dt> <dd><abbr title=" in page
    assert f'<abbr title="{ref}">f72f83b8…</abbr>' in page
    assert "<dt>Codes</dt> <dd>96365x1, J3490x1</dd>" in page
    assert "<dt>Escort confirmed</dt> <dd>yes</dd>" in page
    assert "<dt>Weight kg</dt> <dd>80.0</dd>" in page
    assert "{&#x27;" not in page  # no dict literal
    assert "{'" not in page
    # The export keeps the values whole.
    export = _rows(as_persona("auditor").get("/audit/export.csv"))
    assert any(ref in str(row) for row in export)
