"""Dashboard breakdowns by dose and diagnosis, the reporting period, and the patients
behind each figure (linked for those who may read charts, audited per patient listed)."""

from datetime import date, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.db.models import Min
from django.urls import reverse

from conftest import EVERYONE, expected_status, personas_with
from neuroclinic.accounts.models import User
from neuroclinic.accounts.roles import ROLE_CAPABILITIES, Capability, Role
from neuroclinic.audit.models import AuditEvent
from neuroclinic.audit.tests.helpers import unguarded_update
from neuroclinic.clinics.models import Location, Organization
from neuroclinic.infusions.models import InfusionSession
from neuroclinic.outcomes import dashboard
from neuroclinic.outcomes.actions import summaries
from neuroclinic.outcomes.actions.summaries import first_icd10_code
from neuroclinic.outcomes.models import EpisodeSummaryCount
from neuroclinic.outcomes.tests import factories
from neuroclinic.patients import actions as patient_actions
from neuroclinic.patients.models import Patient
from neuroclinic.treatment.models import InfusionOrder, TreatmentPlan

A = date(2026, 3, 2)
B = date(2026, 6, 1)
TODAY = date(2026, 12, 1)

# Week 4 (the last score 14-28 days after the first infusion), against the baseline:
# 0 remits (20 -> 4), 1 responds (22 -> 9), 2 has no baseline (never scored),
# 3 partly responds (18 -> 12).
COHORT: list[dict[str, Any]] = [
    {
        "start": A,
        "dose": "0.50",
        "indication": "Major depressive disorder, recurrent (F33.2)",
        "scores": ((-1, 20), (4, 12), (11, 3), (25, 4), (30, 14), (34, 15)),
    },
    {
        "start": A,
        "dose": "0.75",
        "indication": "Single episode (f32.2), severe",
        "scores": ((-1, 22), (11, 10), (27, 9), (55, 8)),
    },
    {
        "start": B,
        "dose": "0.50",
        "indication": "Depression, no code recorded",
        "scores": ((11, 6), (25, 5)),
    },
    {
        "start": B,
        "dose": "0.75",
        "indication": "F33.2 recurrent; also F41.1",
        "scores": ((-2, 18), (11, 12), (27, 12), (84, 11)),
    },
]


@pytest.fixture
def cohort(
    organization: Organization, prescriber: User, director: User, nurse: User
) -> list[TreatmentPlan]:
    plans = []
    for i, spec in enumerate(COHORT):
        patient = patient_actions.register_patient(
            organization,
            by=prescriber,
            family_name=f"Filterova{i}",
            given_name="Demo",
            birth_date=date(1980, 3, 1 + i),
            sex_at_birth=Patient.SexAtBirth.FEMALE,
        )
        plan = factories.course(
            patient,
            prescriber=prescriber,
            director=director,
            nurse=nurse,
            start=spec["start"],
            scores=spec["scores"],
        )
        # Test data written straight into the tables (as the factories do).
        unguarded_update(
            TreatmentPlan.objects.filter(pk=plan.pk), indication=spec["indication"]
        )
        unguarded_update(
            InfusionOrder.objects.filter(plan=plan),
            dose_mg_per_kg=Decimal(spec["dose"]),
        )
        plans.append(plan)
    summaries.refresh_all(organization)
    return plans


def names(rows: Any) -> set[int]:
    return {int(r.patient.family_name.removeprefix("Filterova")) for r in rows}


@pytest.mark.parametrize(
    ("indication", "code"),
    [
        ("Major depressive disorder, recurrent (F33.2)", "F33.2"),
        ("single episode (f32.2)", "F32.2"),
        ("F33.2 recurrent; also F41.1", "F33.2"),
        ("Depression, no code recorded", ""),
        ("", ""),
    ],
)
def test_the_diagnosis_is_the_first_icd10_code_of_the_indication(
    indication: str, code: str
) -> None:
    assert first_icd10_code(indication) == code


def week_4(group: dashboard.Group) -> tuple[int, int, int]:
    c = next(c for c in group.checkpoints if c.column == "at_week_4")
    return (c.response.total, c.response.count, c.remission.count)


@pytest.mark.parametrize(
    ("breakdown", "expected"),
    [
        # label: (episodes, (week 4 scored, responders, in remission))
        ("by_dose", [("0.50 mg/kg", 2, (1, 1, 1)), ("0.75 mg/kg", 2, (2, 1, 0))]),
        (
            "by_diagnosis",
            [
                ("No ICD-10 code in the indication", 1, (0, 0, 0)),
                ("F32.2", 1, (1, 1, 0)),
                ("F33.2", 2, (2, 1, 1)),
            ],
        ),
    ],
)
def test_breakdowns_by_dose_and_diagnosis(
    organization: Organization,
    cohort: list[TreatmentPlan],
    breakdown: str,
    expected: list[tuple[str, int, tuple[int, int, int]]],
) -> None:
    data = dashboard.from_table(organization.pk, today=TODAY)
    groups = getattr(data, breakdown)
    assert [(g.label, g.episodes, week_4(g)) for g in groups] == expected
    assert sum(g.episodes for g in groups) == data.episodes == 4


@pytest.mark.parametrize(
    ("start", "end", "episodes", "week_4_scored"),
    [
        (None, None, 4, 3),
        (date(2026, 3, 1), date(2026, 3, 31), 2, 2),
        (A, A, 2, 2),  # both ends are included
        (date(2026, 5, 1), None, 2, 1),
        (None, date(2026, 3, 1), 0, 0),
    ],
)
def test_the_reporting_period_counts_episodes_by_their_first_infusion(
    organization: Organization,
    cohort: list[TreatmentPlan],
    start: date | None,
    end: date | None,
    episodes: int,
    week_4_scored: int,
) -> None:
    data = dashboard.from_table(
        organization.pk, today=TODAY, period=dashboard.Period(start, end)
    )
    assert data.episodes == episodes
    week = next(c for c in data.checkpoints if c.column == "at_week_4")
    assert week.response.total == week_4_scored
    assert sum(g.episodes for g in data.by_dose) == episodes


def location_key(plan: TreatmentPlan) -> str:
    session = InfusionSession.objects.filter(plan=plan).first()
    assert session is not None
    return str(session.location_id)


@pytest.mark.parametrize(
    ("checkpoint", "measure", "by", "key", "period", "expected"),
    [
        ("at_week_4", "scored", "", "", None, {0, 1, 3}),
        ("at_week_4", "response", "", "", None, {0, 1}),
        ("at_week_4", "remission", "", "", None, {0}),
        ("at_week_4", "scored", "dose", "0.75", None, {1, 3}),
        ("at_week_4", "response", "dose", "0.50", None, {0}),
        ("at_week_4", "response", "diagnosis", "F33.2", None, {0}),
        ("at_week_4", "scored", "diagnosis", "", None, set()),
        ("at_week_4", "scored", "location", "LOCATION", None, {0, 1, 3}),
        ("at_week_4", "scored", "protocol", "PROTOCOL", None, {0, 1, 3}),
        ("at_week_4", "scored", "", "", B, {3}),
    ],
)
def test_the_patients_behind_each_figure(
    organization: Organization,
    cohort: list[TreatmentPlan],
    checkpoint: str,
    measure: str,
    by: str,
    key: str,
    period: date | None,
    expected: set[int],
) -> None:
    key = {
        "LOCATION": location_key(cohort[0]),
        "PROTOCOL": cohort[0].induction_protocol.name,
    }.get(key, key)
    rows = dashboard.figure_rows(
        organization.pk,
        instrument_code="phq9",
        period=dashboard.Period(start=period),
        checkpoint=checkpoint,
        measure=measure,
        by=by,
        key=key,
    ).select_related("patient")
    assert names(rows) == expected


def test_each_figure_counts_the_patients_its_link_lists(
    organization: Organization, cohort: list[TreatmentPlan]
) -> None:
    data = dashboard.from_table(organization.pk, today=TODAY)
    for by, groups in (("dose", data.by_dose), ("diagnosis", data.by_diagnosis)):
        for group in groups:
            for c in group.checkpoints:
                for measure, n in (
                    ("scored", c.response.total),
                    ("response", c.response.count),
                    ("remission", c.remission.count),
                ):
                    rows = dashboard.figure_rows(
                        organization.pk,
                        instrument_code="phq9",
                        period=dashboard.Period(),
                        checkpoint=c.column,
                        measure=measure,
                        by=by,
                        key=group.key,
                    )
                    assert rows.count() == n, (by, group.label, c.label, measure)


@pytest.mark.parametrize(
    ("checkpoint", "measure", "by", "key"),
    [
        ("at_week_5", "scored", "", ""),
        ("at_week_4", "everyone", "", ""),
        ("at_week_4", "scored", "sex", "female"),
        ("at_week_4", "scored", "location", "Lakeside"),
        ("at_week_4", "scored", "dose", "a lot"),
    ],
)
def test_a_figure_that_does_not_exist_is_refused(
    organization: Organization, checkpoint: str, measure: str, by: str, key: str
) -> None:
    with pytest.raises(ValueError, match="No such"):
        dashboard.figure_rows(
            organization.pk,
            instrument_code="phq9",
            period=dashboard.Period(),
            checkpoint=checkpoint,
            measure=measure,
            by=by,
            key=key,
        )


# Pages ---------------------------------------------------------------------------


def dashboard_reads() -> int:
    return AuditEvent.objects.filter(
        action=AuditEvent.Action.OUTCOMES_VIEWED, data__report="dashboard"
    ).count()


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"start": "2026-13-01"}, "Enter a valid date."),
        ({"end": "yesterday"}, "Enter a valid date."),
        ({"start": "2026-05-01", "end": "2026-04-01"}, "The period ends before it"),
    ],
)
def test_bad_period_dates_are_a_form_error(
    as_persona: Any, cohort: list[TreatmentPlan], query: dict[str, str], message: str
) -> None:
    response = as_persona("director").get(reverse("outcomes:dashboard"), query)
    assert response.status_code == 422
    assert message in response.content.decode()
    assert dashboard_reads() == 0


def test_the_period_filters_the_page_and_its_links(
    as_persona: Any, cohort: list[TreatmentPlan]
) -> None:
    response = as_persona("director").get(
        reverse("outcomes:dashboard"), {"start": "2026-05-01"}
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "Reporting period" in page
    assert "2 treatment episodes" in page
    assert "By dose of the first induction order" in page
    assert "By diagnosis" in page
    assert "&amp;start=2026-05-01" in page
    event = AuditEvent.objects.get(
        action=AuditEvent.Action.OUTCOMES_VIEWED, data__report="dashboard"
    )
    assert event.data["period"] == "2026-05-01.."


def test_the_director_follows_a_figure_to_its_patients_and_each_read_is_audited(
    as_persona: Any, cohort: list[TreatmentPlan]
) -> None:
    client = as_persona("director")
    page = client.get(reverse("outcomes:dashboard")).content.decode()
    link = (
        f"{reverse('outcomes:figure_patients')}?instrument=phq9&amp;"
        "checkpoint=at_week_4&amp;measure=response&amp;by=dose&amp;key=0.75"
    )
    assert link in page
    response = client.get(
        reverse("outcomes:figure_patients"),
        {
            "instrument": "phq9",
            "checkpoint": "at_week_4",
            "measure": "response",
            "by": "dose",
            "key": "0.75",
        },
    )
    listed = response.content.decode()
    assert response.status_code == 200
    assert "Filterova1" in listed
    assert "Filterova0" not in listed
    assert "Filterova3" not in listed
    reads = AuditEvent.objects.filter(
        action=AuditEvent.Action.OUTCOMES_VIEWED,
        data__report="dashboard_figure_patients",
    )
    assert [e.patient_id for e in reads] == [cohort[1].patient_id]


@pytest.mark.parametrize(
    "query",
    [
        {"checkpoint": "at_week_5", "measure": "scored"},
        {"checkpoint": "at_week_4", "measure": "scored", "by": "dose", "key": "x"},
        {"checkpoint": "at_week_4", "measure": "scored", "start": "2026-02-30"},
    ],
)
def test_a_bad_figure_link_is_refused_and_reads_no_one(
    as_persona: Any, cohort: list[TreatmentPlan], query: dict[str, str]
) -> None:
    response = as_persona("director").get(reverse("outcomes:figure_patients"), query)
    assert response.status_code == 422
    assert 'role="alert"' in response.content.decode()
    assert not AuditEvent.objects.filter(
        action=AuditEvent.Action.OUTCOMES_VIEWED, patient__isnull=False
    ).exists()


@pytest.fixture
def aggregates_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """The director's role without chart reads: dashboards, but no patient in them."""
    monkeypatch.setitem(
        ROLE_CAPABILITIES,
        Role.MEDICAL_DIRECTOR,
        ROLE_CAPABILITIES[Role.MEDICAL_DIRECTOR] - {Capability.VIEW_CHART},
    )


def test_a_role_that_may_see_aggregates_only_gets_no_links(
    as_persona: Any, cohort: list[TreatmentPlan], aggregates_only: None
) -> None:
    client = as_persona("director")
    response = client.get(reverse("outcomes:dashboard"))
    assert response.status_code == 200
    assert "By dose of the first induction order" in response.content.decode()
    assert reverse("outcomes:figure_patients") not in response.content.decode()
    behind = client.get(
        reverse("outcomes:figure_patients"),
        {"checkpoint": "at_week_4", "measure": "scored"},
    )
    assert behind.status_code == 403
    assert not AuditEvent.objects.filter(
        action=AuditEvent.Action.OUTCOMES_VIEWED, patient__isnull=False
    ).exists()


@pytest.mark.parametrize("persona", EVERYONE)
def test_figure_patients_access_by_persona(as_persona: Any, persona: str) -> None:
    response = as_persona(persona).get(
        reverse("outcomes:figure_patients"),
        {"checkpoint": "at_week_4", "measure": "scored"},
    )
    allowed = personas_with(Capability.VIEW_OUTCOMES) & personas_with(
        Capability.VIEW_CHART
    )
    assert response.status_code == expected_status(persona, allowed)


# Kaplan-Meier curves: the period and the patients behind them --------------------


@pytest.mark.parametrize(
    ("start", "relapse", "first_booster"),
    [
        # Patient 0 remits on day 11 and relapses (14 and 15 after a baseline of 20);
        # every series is complete and no one has had a booster yet (all censored).
        (None, (1, 1), (4, 0)),
        (B, (0, 0), (2, 0)),
    ],
)
def test_the_period_filters_the_curves(
    organization: Organization,
    cohort: list[TreatmentPlan],
    start: date | None,
    relapse: tuple[int, int],
    first_booster: tuple[int, int],
) -> None:
    data = dashboard.from_table(
        organization.pk, today=TODAY, period=dashboard.Period(start=start)
    )
    assert (data.relapse.at_risk, data.relapse.events) == relapse
    assert (data.first_booster.at_risk, data.first_booster.events) == first_booster


@pytest.mark.parametrize(
    ("curve", "measure", "start", "expected"),
    [
        ("relapse", "patients", None, {0}),
        ("relapse", "events", None, {0}),
        ("relapse", "censored", None, set()),
        ("first_booster", "patients", None, {0, 1, 2, 3}),
        ("first_booster", "events", None, set()),
        ("first_booster", "censored", B, {2, 3}),
    ],
)
def test_the_patients_behind_each_curve(
    organization: Organization,
    cohort: list[TreatmentPlan],
    curve: str,
    measure: str,
    start: date | None,
    expected: set[int],
) -> None:
    rows = dashboard.curve_rows(
        organization.pk,
        instrument_code="phq9",
        period=dashboard.Period(start=start),
        curve=curve,
        measure=measure,
    ).select_related("patient")
    assert names(rows) == expected


@pytest.mark.parametrize("start", [None, A, B])
def test_each_curve_counts_the_patients_its_links_list(
    organization: Organization, cohort: list[TreatmentPlan], start: date | None
) -> None:
    period = dashboard.Period(start=start)
    data = dashboard.from_table(organization.pk, today=TODAY, period=period)
    for name, curve in (
        ("relapse", data.relapse),
        ("first_booster", data.first_booster),
    ):
        for measure, n in (
            ("patients", curve.at_risk),
            ("events", curve.events),
            ("censored", curve.at_risk - curve.events),
        ):
            rows = dashboard.curve_rows(
                organization.pk,
                instrument_code="phq9",
                period=period,
                curve=name,
                measure=measure,
            )
            assert rows.count() == n, (name, measure)


@pytest.mark.parametrize(
    ("curve", "measure"), [("survival", "patients"), ("relapse", "everyone")]
)
def test_a_curve_that_does_not_exist_is_refused(
    organization: Organization, curve: str, measure: str
) -> None:
    with pytest.raises(ValueError, match="No such curve"):
        dashboard.curve_rows(
            organization.pk,
            instrument_code="phq9",
            period=dashboard.Period(),
            curve=curve,
            measure=measure,
        )


def test_the_director_follows_a_curve_to_its_patients_and_each_read_is_audited(
    as_persona: Any, cohort: list[TreatmentPlan]
) -> None:
    client = as_persona("director")
    page = client.get(reverse("outcomes:dashboard"), {"start": "2026-03-01"})
    link = (
        f"{reverse('outcomes:figure_patients')}?instrument=phq9&amp;curve=relapse"
        "&amp;measure=events&amp;start=2026-03-01"
    )
    assert link in page.content.decode()
    response = client.get(
        reverse("outcomes:figure_patients"),
        {
            "instrument": "phq9",
            "curve": "relapse",
            "measure": "events",
            "start": "2026-03-01",
        },
    )
    listed = response.content.decode()
    assert response.status_code == 200
    assert "time from remission to relapse, the episodes with the event" in listed
    assert "Filterova0" in listed
    assert "Filterova1" not in listed
    reads = AuditEvent.objects.filter(
        action=AuditEvent.Action.OUTCOMES_VIEWED,
        data__report="dashboard_figure_patients",
    )
    assert [(e.patient_id, e.data["curve"]) for e in reads] == [
        (cohort[0].patient_id, "relapse")
    ]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"curve": "relapse", "measure": "events", "end": "2026-02-30"}, "valid date"),
        ({"curve": "survival", "measure": "events"}, "No such curve."),
        ({"curve": "relapse", "measure": "all"}, "No such curve."),
    ],
)
def test_a_bad_curve_link_is_refused_and_reads_no_one(
    as_persona: Any, cohort: list[TreatmentPlan], query: dict[str, str], message: str
) -> None:
    response = as_persona("director").get(reverse("outcomes:figure_patients"), query)
    assert response.status_code == 422
    assert message in response.content.decode()
    assert not AuditEvent.objects.filter(
        action=AuditEvent.Action.OUTCOMES_VIEWED, patient__isnull=False
    ).exists()


def test_a_role_that_may_see_aggregates_only_gets_no_curve_links(
    as_persona: Any, cohort: list[TreatmentPlan], aggregates_only: None
) -> None:
    page = as_persona("director").get(reverse("outcomes:dashboard")).content.decode()
    assert "Time from remission to relapse" in page
    assert "curve=relapse" not in page


@pytest.mark.parametrize(
    "period",
    [
        dashboard.Period(),
        dashboard.Period(A, A),
        dashboard.Period(B, None),
        dashboard.Period(None, B),
        dashboard.Period(A + timedelta(days=1), B - timedelta(days=1)),
    ],
)
def test_the_breakdowns_from_the_stored_counts_equal_those_of_the_rows(
    organization: Organization, cohort: list[TreatmentPlan], period: dashboard.Period
) -> None:
    from neuroclinic.outcomes.tests.test_episode_counts import figures

    stored = dashboard.from_table(organization.pk, today=TODAY, period=period)
    direct = dashboard.from_rows(organization.pk, today=TODAY, period=period)
    assert figures(stored) == figures(direct)
    if period == dashboard.Period():
        assert [g.label for g in stored.by_dose] == ["0.50 mg/kg", "0.75 mg/kg"]
        assert {g.key for g in stored.by_diagnosis} == {"F33.2", "F32.2", ""}


def test_the_summaries_time_is_shown_in_the_clinic_s_zone(
    as_persona: Any, cohort: list[TreatmentPlan], organization: Organization
) -> None:
    # Staff pages speak the clinic's zone, named once at the foot of the page; the
    # summaries' time said "UTC" after a time already shown in the clinic's zone.
    Location.objects.filter(organization=organization).update(
        time_zone="America/Chicago"
    )
    as_of = EpisodeSummaryCount.objects.filter(
        organization=organization, instrument_code="phq9"
    ).aggregate(oldest=Min("as_of"))["oldest"]
    shown = as_of.astimezone(ZoneInfo("America/Chicago")).strftime("%Y-%m-%d %H:%M")

    page = as_persona("director").get(reverse("outcomes:dashboard")).content.decode()

    assert f"Episode summaries as of {shown};" in page
    assert "Times are America/Chicago" in page
