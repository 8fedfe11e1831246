"""The clinic's rates on the dashboard: the funnel, no-shows, adverse events per 100
infusions and CADSS-6 by infusion number, on a small clinic whose answers are known."""

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from django.urls import reverse

from conftest import EVERYONE, expected_status, personas_with
from neuroclinic.accounts.models import User
from neuroclinic.accounts.roles import ROLE_CAPABILITIES, Capability, Role
from neuroclinic.audit.models import AuditEvent
from neuroclinic.clinics.models import Organization
from neuroclinic.infusions.models import (
    AdverseEvent,
    InfusionSession,
    SessionQuestionnaire,
)
from neuroclinic.intake.models import ConsultRequest
from neuroclinic.intake.tests.factories import consult_request
from neuroclinic.outcomes import rates
from neuroclinic.outcomes.dashboard import Period
from neuroclinic.outcomes.tests import factories
from neuroclinic.patients.models import Patient
from neuroclinic.scheduling.actions import setup
from neuroclinic.scheduling.models import Appointment, AppointmentType

START = date(2026, 3, 2)


@pytest.fixture
def clinic(
    organization: Organization,
    patient: Patient,
    prescriber: User,
    director: User,
    nurse: User,
    admin: User,
) -> Patient:
    plan = factories.course(
        patient,
        prescriber=prescriber,
        director=director,
        nurse=nurse,
        start=START,
        scores=((-1, 20), (11, 3)),
    )
    # Three consult requests: one became this patient (treated, series complete), two did not.
    # Made on 1 February (the converted one), 15 February and 15 March.
    converted = consult_request(organization)
    converted.patient = patient
    converted.save(update_fields=["patient"])
    others = [
        consult_request(organization, email=f"{name}@example.com") for name in "bc"
    ]
    made_on = (date(2026, 2, 1), date(2026, 2, 15), date(2026, 3, 15))
    for request, made in zip([converted, *others], made_on, strict=True):
        ConsultRequest.objects.filter(pk=request.pk).update(
            created_at=factories.at(made)
        )

    sessions = list(InfusionSession.objects.filter(plan=plan).order_by("started_at"))
    assert len(sessions) == 6
    for session in sessions[:2]:
        AdverseEvent.objects.create(
            session=session,
            kind=AdverseEvent.Kind.NAUSEA,
            severity=AdverseEvent.Severity.MILD,
            onset_at=factories.at(session.service_date),
            recorded_by=nurse,
        )
    AdverseEvent.objects.create(
        session=sessions[0],
        kind=AdverseEvent.Kind.HYPERTENSION,
        severity=AdverseEvent.Severity.MODERATE,
        onset_at=factories.at(sessions[0].service_date),
        recorded_by=nurse,
    )
    for session, total in zip(sessions[:2], (12, 6), strict=True):
        response = factories.score(
            patient, session.service_date, total, code="cadss6", hour=11
        )
        SessionQuestionnaire.objects.create(
            session=session, response=response, phase="post"
        )

    setup.install_default_types(organization, by=admin)
    booster = AppointmentType.objects.get(organization=organization, code="booster")
    location = sessions[0].location
    past = datetime(2026, 4, 1, 15, tzinfo=UTC)
    for n, status in enumerate(
        [Appointment.Status.CHECKED_IN] * 3
        + [Appointment.Status.NO_SHOW, Appointment.Status.CANCELLED]
    ):
        at = past + timedelta(days=n)
        Appointment.objects.create(
            organization=organization,
            location=location,
            patient=patient,
            appointment_type=booster,
            starts_at=at,
            ends_at=at + timedelta(hours=2),
            held_until=at + timedelta(hours=2),
            status=status,
            booked_by=admin,
        )

    return patient


def test_rates_on_a_known_clinic(organization: Organization, clinic: Patient) -> None:
    found = rates.clinic_rates(organization.pk)

    assert [(s.label, s.count) for s in found.funnel] == [
        ("Consult requested", 3),
        ("Became a patient", 1),
        ("Treatment plan made", 1),
        ("First infusion given", 1),
        ("Induction series completed", 1),
    ]
    assert str(found.funnel[-1].of_requests.percent) == "33.3"
    # 1 no-show of 4 attended-or-missed visits; the cancelled one is not counted.
    assert (found.no_show.count, found.no_show.total) == (1, 4)
    assert [(r.label, r.count, r.total) for r in found.no_show_by_type] == [
        ("Booster infusion", 1, 4)
    ]
    assert found.infusions_given == 6
    per_100 = {e.label: (e.events, str(e.per_100)) for e in found.adverse_events}
    assert per_100["Nausea"] == (2, "33.3")
    assert per_100["Hypertension"] == (1, "16.7")
    assert per_100["Headache"] == (0, "0.0")
    assert [(r.infusion_number, r.count, str(r.mean)) for r in found.cadss] == [
        (1, 1, "12.0"),
        (2, 1, "6.0"),
    ]


def test_an_empty_clinic_has_no_rates_and_no_division_by_zero(
    organization: Organization,
) -> None:
    found = rates.clinic_rates(organization.pk)
    assert all(s.count == 0 and s.of_requests.percent is None for s in found.funnel)
    assert found.no_show.percent is None
    assert all(e.per_100 is None for e in found.adverse_events)
    assert found.cadss == ()


# The reporting period: each rate by its own date ---------------------------------


def figures(found: rates.ClinicRates) -> dict[str, Any]:
    return {
        "requests": found.funnel[0].count,
        "converted": found.funnel[1].count,
        "visits": (found.no_show.count, found.no_show.total),
        "infusions": found.infusions_given,
        "nausea": next(e.events for e in found.adverse_events if e.key == "nausea"),
        "cadss": [(r.infusion_number, r.count) for r in found.cadss],
    }


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (
            None,
            None,
            {
                "requests": 3,
                "converted": 1,
                "visits": (1, 4),
                "infusions": 6,
                "nausea": 2,
                "cadss": [(1, 1), (2, 1)],
            },
        ),
        # From the second infusion (4 March) to the end of March: one request
        # (15 March, not converted), five infusions, no visits.
        (
            date(2026, 3, 4),
            date(2026, 3, 31),
            {
                "requests": 1,
                "converted": 0,
                "visits": (0, 0),
                "infusions": 5,
                "nausea": 1,
                "cadss": [(2, 1)],
            },
        ),
        # Visits from 3 April: one checked in, the no-show on 4 April.
        (
            date(2026, 4, 3),
            None,
            {
                "requests": 0,
                "converted": 0,
                "visits": (1, 2),
                "infusions": 0,
                "nausea": 0,
                "cadss": [],
            },
        ),
        # Both ends are included: 1 February is the converted request's day.
        (
            None,
            date(2026, 2, 1),
            {
                "requests": 1,
                "converted": 1,
                "visits": (0, 0),
                "infusions": 0,
                "nausea": 0,
                "cadss": [],
            },
        ),
        (
            date(2026, 4, 4),
            date(2026, 4, 4),
            {
                "requests": 0,
                "converted": 0,
                "visits": (1, 1),
                "infusions": 0,
                "nausea": 0,
                "cadss": [],
            },
        ),
    ],
)
def test_the_period_counts_each_rate_by_its_own_date(
    organization: Organization,
    clinic: Patient,
    start: date | None,
    end: date | None,
    expected: dict[str, Any],
) -> None:
    found = rates.clinic_rates(organization.pk, Period(start, end))
    assert figures(found) == expected


# The patients behind each rate ---------------------------------------------------


def booster_type_key(organization: Organization) -> str:
    return str(
        AppointmentType.objects.get(organization=organization, code="booster").pk
    )


@pytest.mark.parametrize(
    ("figure", "key", "period", "total", "details"),
    [
        ("funnel", "completed", Period(), 1, {"Consult requested"}),
        ("funnel", "converted", Period(start=date(2026, 2, 2)), 0, set()),
        ("no_shows", "", Period(), 1, {"Booster infusion: No-show"}),
        (
            "visits",
            "BOOSTER",
            Period(),
            4,
            {"Booster infusion: Checked in", "Booster infusion: No-show"},
        ),
        ("infusions", "", Period(end=START), 1, {"Infusion 1 of 6"}),
        ("adverse_events", "nausea", Period(), 2, {"Nausea (Mild)"}),
        ("adverse_events", "headache", Period(), 0, set()),
        ("cadss", "1", Period(), 1, {"CADSS-6 total 12 at infusion 1"}),
        ("cadss", "2", Period(end=START), 0, set()),
    ],
)
def test_the_rows_behind_each_rate(
    organization: Organization,
    clinic: Patient,
    figure: str,
    key: str,
    period: Period,
    total: int,
    details: set[str],
) -> None:
    key = booster_type_key(organization) if key == "BOOSTER" else key
    found, rows = rates.figure_rows(
        organization.pk, figure=figure, key=key, period=period, limit=500
    )
    assert found == total == len(rows)
    assert {r.detail for r in rows} == details
    assert {r.patient.pk for r in rows} <= {clinic.pk}


@pytest.mark.parametrize(
    "period", [Period(), Period(date(2026, 3, 4), date(2026, 4, 3))]
)
def test_each_rate_counts_the_rows_its_link_lists(
    organization: Organization, clinic: Patient, period: Period
) -> None:
    found = rates.clinic_rates(organization.pk, period)
    counted = [("funnel", s.key, s.count) for s in found.funnel if s.key]
    counted += [("no_shows", "", found.no_show.count)]
    counted += [("visits", "", found.no_show.total)]
    for r in found.no_show_by_type:
        counted += [("no_shows", r.key, r.count), ("visits", r.key, r.total)]
    counted += [("infusions", "", found.infusions_given)]
    counted += [("adverse_events", e.key, e.events) for e in found.adverse_events]
    counted += [("cadss", str(r.infusion_number), r.count) for r in found.cadss]
    for figure, key, n in counted:
        total, rows = rates.figure_rows(
            organization.pk, figure=figure, key=key, period=period, limit=500
        )
        assert total == len(rows) == n, (figure, key)


@pytest.mark.parametrize(
    ("figure", "key"),
    [
        ("funnel", "requests"),  # requests not converted are not patients
        ("no_shows", "Booster infusion"),
        ("adverse_events", "sneezing"),
        ("cadss", "first"),
        ("infusions", "1"),
        ("everything", ""),
    ],
)
def test_a_rate_that_does_not_exist_is_refused(
    organization: Organization, figure: str, key: str
) -> None:
    with pytest.raises(ValueError, match="No such"):
        rates.figure_rows(
            organization.pk, figure=figure, key=key, period=Period(), limit=500
        )


# Pages ---------------------------------------------------------------------------


def patient_reads() -> Any:
    return AuditEvent.objects.filter(
        action=AuditEvent.Action.OUTCOMES_VIEWED, patient__isnull=False
    )


def test_the_director_follows_a_rate_to_its_patients_and_each_read_is_audited(
    as_persona: Any, clinic: Patient
) -> None:
    client = as_persona("director")
    page = client.get(reverse("outcomes:dashboard"), {"start": "2026-03-01"})
    assert page.status_code == 200
    html = page.content.decode()
    assert "each by its own date" in html
    link = (
        f"{reverse('outcomes:rate_patients')}?figure=adverse_events&amp;key=nausea"
        "&amp;start=2026-03-01"
    )
    assert link in html
    response = client.get(
        reverse("outcomes:rate_patients"),
        {"figure": "adverse_events", "key": "nausea", "start": "2026-03-01"},
    )
    assert response.status_code == 200
    listed = response.content.decode()
    assert clinic.family_name in listed
    assert "Nausea (Mild)" in listed
    # Two events of one patient: one read of that patient.
    reads = patient_reads().filter(data__report="dashboard_rate_patients")
    assert [(e.patient_id, e.data["figure"], e.data["period"]) for e in reads] == [
        (clinic.pk, "adverse_events", "2026-03-01..")
    ]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"figure": "infusions", "start": "2026-02-30"}, "Enter a valid date."),
        (
            {"figure": "infusions", "start": "2026-05-01", "end": "2026-04-01"},
            "The period ends before it starts.",
        ),
        ({"figure": "adverse_events", "key": "sneezing"}, "No such adverse event"),
        ({"figure": "everything"}, "No such figure."),
    ],
)
def test_a_bad_rate_link_is_a_form_error_and_reads_no_one(
    as_persona: Any, clinic: Patient, query: dict[str, str], message: str
) -> None:
    response = as_persona("director").get(reverse("outcomes:rate_patients"), query)
    assert response.status_code == 422
    assert 'role="alert"' in response.content.decode()
    assert message in response.content.decode()
    assert not patient_reads().exists()


def test_a_role_that_may_see_aggregates_only_gets_no_rate_links(
    as_persona: Any, clinic: Patient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(
        ROLE_CAPABILITIES,
        Role.MEDICAL_DIRECTOR,
        ROLE_CAPABILITIES[Role.MEDICAL_DIRECTOR] - {Capability.VIEW_CHART},
    )
    client = as_persona("director")
    page = client.get(reverse("outcomes:dashboard")).content.decode()
    assert "Adverse events per 100 infusions" in page
    assert reverse("outcomes:rate_patients") not in page
    behind = client.get(reverse("outcomes:rate_patients"), {"figure": "infusions"})
    assert behind.status_code == 403
    assert not patient_reads().exists()


@pytest.mark.parametrize("persona", EVERYONE)
def test_rate_patients_access_by_persona(as_persona: Any, persona: str) -> None:
    response = as_persona(persona).get(
        reverse("outcomes:rate_patients"), {"figure": "infusions"}
    )
    allowed = personas_with(Capability.VIEW_OUTCOMES) & personas_with(
        Capability.VIEW_CHART
    )
    assert response.status_code == expected_status(persona, allowed)
