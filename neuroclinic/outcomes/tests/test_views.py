"""Outcomes pages: who may reach each (by persona), bad input, query counts, the export."""

import io
import zipfile
from datetime import date, timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from conftest import EVERYONE, TEST_PASSWORD, expected_status, personas_with
from neuroclinic.accounts.models import User
from neuroclinic.accounts.roles import Capability
from neuroclinic.audit.models import AuditEvent
from neuroclinic.clinics.models import Organization
from neuroclinic.outcomes.actions import boosters, follow_up
from neuroclinic.outcomes.models import BoosterRuleSet, BoosterSuggestion
from neuroclinic.outcomes.tests import factories
from neuroclinic.patients.models import Patient
from neuroclinic.treatment.models import TreatmentPlan

START = date(2026, 3, 2)

PAGES = [
    ("outcomes:boosters", Capability.WRITE_ORDERS),
    ("outcomes:to_book", Capability.BOOK_APPOINTMENTS),
    ("outcomes:follow_ups", Capability.WORK_FOLLOW_UPS),
    ("outcomes:dashboard", Capability.VIEW_OUTCOMES),
    ("outcomes:quality", Capability.VIEW_OUTCOMES),
    ("outcomes:rules", Capability.CONFIGURE_BOOSTER_RULES),
    ("outcomes:export", Capability.RESEARCH_EXPORT),
]


@pytest.fixture
def rising(
    patient: Patient, prescriber: User, director: User, nurse: User
) -> TreatmentPlan:
    return factories.course(
        patient,
        prescriber=prescriber,
        director=director,
        nurse=nurse,
        start=START,
        scores=((-1, 20), (4, 12), (11, 3), (18, 4), (25, 6), (31, 9)),
    )


@pytest.mark.parametrize("persona", EVERYONE)
@pytest.mark.parametrize(("name", "capability"), PAGES)
def test_access_by_persona(
    as_persona: Any, persona: str, name: str, capability: Capability
) -> None:
    response = as_persona(persona).get(reverse(name))
    allowed = personas_with(capability)
    # The outsider is a nurse at another clinic: a list page shows their own clinic's.
    outsider = expected_status("nurse", allowed)
    assert response.status_code == expected_status(persona, allowed, outsider=outsider)


@pytest.mark.parametrize("persona", EVERYONE)
def test_only_prescribers_decide_boosters(
    as_persona: Any, persona: str, rising: TreatmentPlan, organization: Organization
) -> None:
    suggestion = boosters.refresh_booster_suggestions(
        organization, today=START + timedelta(days=32)
    )[0]
    response = as_persona(persona).post(
        reverse("outcomes:dismiss", args=[suggestion.uuid]), {"reason": "Fine by phone"}
    )
    allowed = personas_with(Capability.WRITE_ORDERS)
    # The role is checked first: the outsider (a nurse elsewhere) may not decide at all.
    assert response.status_code == expected_status(persona, allowed, ok=302)
    suggestion.refresh_from_db()
    dismissed = suggestion.status == BoosterSuggestion.Status.DISMISSED
    assert dismissed == (persona in allowed)


def test_prescriber_reads_the_basis_and_confirms(
    as_persona: Any, rising: TreatmentPlan, organization: Organization
) -> None:
    suggestion = boosters.refresh_booster_suggestions(
        organization, today=START + timedelta(days=32)
    )[0]
    client: Client = as_persona("prescriber")
    page = client.get(reverse("outcomes:boosters")).content.decode()
    assert "rise_from_nadir" in page
    assert "points above" in page
    bad = client.post(
        reverse("outcomes:confirm", args=[suggestion.uuid]), {"password": "no"}
    )
    assert bad.status_code == 422
    good = client.post(
        reverse("outcomes:confirm", args=[suggestion.uuid]), {"password": TEST_PASSWORD}
    )
    assert good.status_code == 302
    suggestion.refresh_from_db()
    assert suggestion.status == BoosterSuggestion.Status.CONFIRMED


def test_dismiss_without_reason_is_a_field_error(
    as_persona: Any, rising: TreatmentPlan, organization: Organization
) -> None:
    suggestion = boosters.refresh_booster_suggestions(
        organization, today=START + timedelta(days=32)
    )[0]
    response = as_persona("prescriber").post(
        reverse("outcomes:dismiss", args=[suggestion.uuid]), {"reason": ""}
    )
    assert response.status_code == 422
    suggestion.refresh_from_db()
    assert suggestion.status == BoosterSuggestion.Status.OPEN


def test_follow_up_done(
    as_persona: Any, rising: TreatmentPlan, organization: Organization
) -> None:
    task = follow_up.open_follow_up_tasks(organization)[0]
    client = as_persona("nurse")
    assert (
        "Follow-up visit" in client.get(reverse("outcomes:follow_ups")).content.decode()
    )
    response = client.post(
        reverse("outcomes:follow_up_done", args=[task.uuid]), {"note": "ok"}
    )
    assert response.status_code == 302
    task.refresh_from_db()
    assert task.done_by is not None


def test_rules_page_saves_a_version_and_refuses_bad_input(as_persona: Any) -> None:
    client = as_persona("director")
    values = {
        "rise_points": 6,
        "consecutive_rises": 2,
        "band_threshold": 10,
        "learn_after_boosters": 2,
        "lead_days": 3,
        "due_soon_days": 7,
        "overdue_after_days": 7,
        "response_reduction_percent": 50,
        "partial_reduction_percent": 25,
        "relapse_consecutive": 2,
        "remission_max_phq9": 4,
        "remission_max_qids_sr16": 5,
        "remission_max_madrs": 10,
        "remission_max_hamd17": 7,
        "change_note": "Calmer",
    }
    assert client.post(reverse("outcomes:rules"), values).status_code == 302
    assert BoosterRuleSet.objects.get().rise_points == 6
    bad = client.post(reverse("outcomes:rules"), {**values, "rise_points": 0})
    assert bad.status_code == 422
    nonsense = client.post(reverse("outcomes:rules"), {**values, "lead_days": "soon"})
    assert nonsense.status_code == 422
    assert BoosterRuleSet.objects.count() == 1


def test_dashboard_shows_svg_and_tables(as_persona: Any, rising: TreatmentPlan) -> None:
    client = as_persona("director")
    page = client.get(reverse("outcomes:dashboard")).content.decode()
    assert "<svg" in page
    assert "Remission by checkpoint" in page
    assert "<script" not in page.split("<svg", 1)[1].split("</svg>", 1)[0]
    assert AuditEvent.objects.filter(action=AuditEvent.Action.OUTCOMES_VIEWED).exists()
    assert (
        client.get(reverse("outcomes:dashboard"), {"instrument": "nope"}).status_code
        == 200
    )
    csv_response = client.get(reverse("outcomes:dashboard"), {"format": "csv"})
    assert csv_response["Content-Type"] == "text/csv"
    body = csv_response.content.decode()
    assert body.startswith("table,label,count,total,percent,ci_low,ci_high")
    assert "remission,Week 4" in body


def test_quality_page_lists_patients_and_refuses_reversed_period(
    as_persona: Any, rising: TreatmentPlan
) -> None:
    client = as_persona("director")
    page = client.get(
        reverse("outcomes:quality"), {"start": "2026-01-01", "end": "2026-12-31"}
    )
    assert page.status_code == 200
    assert "CMS159" in page.content.decode()
    bad = client.get(
        reverse("outcomes:quality"), {"start": "2026-12-31", "end": "2026-01-01"}
    )
    assert bad.status_code == 422
    junk = client.get(reverse("outcomes:quality"), {"start": "yesterday"})
    assert junk.status_code == 422


def test_research_export_has_none_of_the_identifiers(
    as_persona: Any, rising: TreatmentPlan, patient: Patient
) -> None:
    response = as_persona("director").get(reverse("outcomes:export"))
    assert response.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    assert set(archive.namelist()) == {
        "episodes.csv",
        "infusions.csv",
        "scores.csv",
        "outcomes.csv",
        "data_dictionary.csv",
    }
    text = "\n".join(
        archive.read(n).decode()
        for n in archive.namelist()
        if n != "data_dictionary.csv"
    )
    identifiers = [
        patient.family_name,
        patient.given_name,
        patient.mrn,
        patient.phone,
        patient.email,
        str(patient.uuid),
        patient.birth_date.isoformat(),
        str(patient.birth_date.year),
        START.isoformat(),
        "2026-03",
    ]
    for value in identifiers:
        assert value
        assert value not in text, value
    assert "F33.2" in archive.read("episodes.csv").decode()
    assert (
        AuditEvent.objects.filter(action=AuditEvent.Action.RESEARCH_EXPORTED).count()
        == 1
    )


@pytest.mark.parametrize(
    "name", ["outcomes:dashboard", "outcomes:boosters", "outcomes:quality"]
)
def test_query_counts_do_not_grow_with_patients(
    as_persona: Any,
    name: str,
    organization: Organization,
    prescriber: User,
    director: User,
    nurse: User,
    django_assert_max_num_queries: Any,
) -> None:
    from neuroclinic.patients import actions as patient_actions

    for i in range(3):
        p = patient_actions.register_patient(
            organization,
            by=prescriber,
            family_name=f"Testova{i}",
            given_name="Demo",
            birth_date=date(1980, 1, 1 + i),
            sex_at_birth=Patient.SexAtBirth.FEMALE,
        )
        factories.course(
            p,
            prescriber=prescriber,
            director=director,
            nurse=nurse,
            start=START,
            scores=((-1, 20), (11, 3), (25, 6), (31, 9)),
        )
    boosters.refresh_booster_suggestions(organization, today=START + timedelta(days=32))
    client = as_persona("director")
    # Session, user, two-factor, groups, clinic zone, bulk reads, audit: none per patient.
    # The dashboard: 8 aggregates over the stored summaries and 6 for the clinic's rates.
    with django_assert_max_num_queries(30 if name == "outcomes:dashboard" else 22):
        assert client.get(reverse(name)).status_code == 200
