"""The stored episode summaries: the table-based dashboard gives the same figures as the
reference computation, and the incremental refresh rewrites only the changed patients."""

from datetime import date, timedelta
from typing import Any

import pytest

from neuroclinic.accounts.models import User
from neuroclinic.clinics.models import Organization
from neuroclinic.infusions.models import InfusionSession
from neuroclinic.outcomes import dashboard
from neuroclinic.outcomes.actions import summaries
from neuroclinic.outcomes.models import EpisodeSummaryRow, SummaryWatermark
from neuroclinic.outcomes.tests import factories
from neuroclinic.patients import actions as patient_actions
from neuroclinic.patients.models import Patient
from neuroclinic.treatment.models import TreatmentPlan

START = date(2026, 3, 2)
TODAY = START + timedelta(days=200)

COURSES: list[dict[str, Any]] = [
    # remits, relapses, two boosters
    {
        "boosters": (40, 75),
        "scores": ((-1, 20), (4, 12), (11, 3), (25, 4), (30, 14), (34, 15), (60, 8)),
    },
    # responds without remission; three boosters (two intervals)
    {"boosters": (35, 63, 110), "scores": ((-1, 22), (11, 10), (27, 9), (55, 8))},
    # no baseline: never judged
    {"boosters": (), "scores": ((11, 6), (25, 5))},
    # partial response, no booster
    {"boosters": (), "scores": ((-2, 18), (11, 12), (27, 12), (84, 11))},
]


def make_cohort(
    organization: Organization, prescriber: User, director: User, nurse: User
) -> list[TreatmentPlan]:
    plans = []
    for i, spec in enumerate(COURSES):
        p = patient_actions.register_patient(
            organization,
            by=prescriber,
            family_name=f"Summarova{i}",
            given_name="Demo",
            birth_date=date(1980, 2, 1 + i),
            sex_at_birth=Patient.SexAtBirth.FEMALE,
        )
        plans.append(
            factories.course(
                p,
                prescriber=prescriber,
                director=director,
                nurse=nurse,
                start=START,
                **spec,
            )
        )
    return plans


@pytest.fixture
def cohort(
    organization: Organization, prescriber: User, director: User, nurse: User
) -> list[TreatmentPlan]:
    return make_cohort(organization, prescriber, director, nurse)


def test_table_dashboard_equals_the_reference_computation(
    organization: Organization, cohort: list[TreatmentPlan]
) -> None:
    summaries.refresh_all(organization)
    stored = dashboard.from_table(organization.pk, today=TODAY)
    live = dashboard.build(
        list(TreatmentPlan.objects.filter(organization=organization)), today=TODAY
    )
    assert stored.episodes == live.episodes == 4
    assert stored.judged == live.judged == 3
    assert [
        (c.label, c.response.count, c.remission.count, c.response.total)
        for c in stored.checkpoints
    ] == [
        (c.label, c.response.count, c.remission.count, c.response.total)
        for c in live.checkpoints
    ]
    assert stored.relapse.points == live.relapse.points
    assert (stored.relapse.at_risk, stored.relapse.events) == (1, 1)
    assert stored.first_booster.points == live.first_booster.points
    assert (stored.first_booster.at_risk, stored.first_booster.events) == (4, 2)
    assert stored.intervals == live.intervals
    assert sum(n for _label, n in stored.intervals) == 3
    assert stored.as_of is not None


def test_breakdowns_by_protocol_and_location_add_up(
    organization: Organization, cohort: list[TreatmentPlan]
) -> None:
    summaries.refresh_all(organization)
    data = dashboard.from_table(organization.pk, today=TODAY)
    assert sum(g.episodes for g in data.by_protocol) == data.episodes
    assert sum(g.episodes for g in data.by_location) == data.episodes
    given_at = InfusionSession.objects.filter(plan=cohort[0]).first()
    assert given_at is not None
    assert [g.label for g in data.by_location] == [given_at.location.name]
    assert data.by_protocol[0].label == cohort[0].induction_protocol.name


def test_one_row_per_plan_and_instrument_and_a_refresh_is_idempotent(
    organization: Organization, cohort: list[TreatmentPlan]
) -> None:
    first = summaries.refresh_all(organization)
    # phq9 (scored) plus the two other dashboard instruments, for each plan
    assert first == 4 * len(dashboard.DASHBOARD_INSTRUMENTS)
    assert summaries.refresh_all(organization) == first
    assert EpisodeSummaryRow.objects.count() == first
    row = EpisodeSummaryRow.objects.get(plan=cohort[0], instrument_code="phq9")
    assert (row.baseline_total, row.nadir_total, row.latest_total) == (20, 3, 8)
    assert row.status == "response"
    assert row.relapse_on == START + timedelta(days=30)
    assert row.at_week_4 == "remission"
    none = EpisodeSummaryRow.objects.get(plan=cohort[2], instrument_code="phq9")
    assert none.status == "no_baseline"
    assert none.at_end_of_series == ""


def test_incremental_refresh_rewrites_only_the_changed_patient(
    organization: Organization, cohort: list[TreatmentPlan]
) -> None:
    summaries.refresh_all(organization)
    mark = SummaryWatermark.objects.get(organization=organization)
    # Pretend the last refresh was an hour ago so only what follows counts as a change.
    SummaryWatermark.objects.filter(pk=mark.pk).update(
        changes_through=mark.changes_through + timedelta(minutes=10)
    )
    before = dict(
        EpisodeSummaryRow.objects.filter(instrument_code="phq9").values_list(
            "plan_id", "refreshed_at"
        )
    )
    changed = cohort[3]
    # A new, lower score: partial response becomes remission.
    factories.score(changed.patient, START + timedelta(days=90), 3)
    assert summaries.changed_patients(
        organization.pk,
        SummaryWatermark.objects.get(pk=mark.pk).changes_through
        - timedelta(minutes=10),
    ) >= {changed.patient_id}
    summaries.refresh_patients(organization.pk, [changed.patient_id])
    after = dict(
        EpisodeSummaryRow.objects.filter(instrument_code="phq9").values_list(
            "plan_id", "refreshed_at"
        )
    )
    assert after[changed.pk] > before[changed.pk]
    assert all(after[p.pk] == before[p.pk] for p in cohort[:3])
    row = EpisodeSummaryRow.objects.get(plan=changed, instrument_code="phq9")
    assert (row.latest_total, row.status) == (3, "remission")


def test_refresh_changed_starts_with_a_full_refresh_then_moves_the_watermark(
    organization: Organization, cohort: list[TreatmentPlan]
) -> None:
    assert not SummaryWatermark.objects.exists()
    assert summaries.refresh_changed(organization) == 12
    mark = SummaryWatermark.objects.get(organization=organization)
    # Nothing new since: the rows written are those of patients changed in the overlap.
    summaries.refresh_changed(organization)
    assert (
        SummaryWatermark.objects.get(pk=mark.pk).changes_through >= mark.changes_through
    )


def test_the_dashboard_is_empty_but_honest_before_the_first_refresh(
    organization: Organization, cohort: list[TreatmentPlan]
) -> None:
    data = dashboard.from_table(organization.pk, today=TODAY)
    assert data.episodes == 0
    assert data.as_of is None
    assert data.relapse.points == ()
