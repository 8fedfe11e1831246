"""The stored per-day counts (`EpisodeSummaryCount`): the dashboard read from them gives
the same figures as the count over the episode rows themselves (`dashboard.from_rows`),
for every reporting period, and a refresh keeps them equal to a count made afresh."""

from datetime import timedelta
from typing import Any

import pytest

from neuroclinic.accounts.models import User
from neuroclinic.audit.tests.helpers import unguarded_update
from neuroclinic.clinics.models import Organization
from neuroclinic.infusions.models import InfusionSession
from neuroclinic.outcomes import dashboard
from neuroclinic.outcomes.actions import summaries
from neuroclinic.outcomes.models import EpisodeSummaryCount, EpisodeSummaryRow
from neuroclinic.outcomes.tests import factories
from neuroclinic.outcomes.tests.test_summaries import START, TODAY, make_cohort
from neuroclinic.treatment.models import TreatmentPlan

Period = dashboard.Period
LATER = START + timedelta(days=40)


def figures(d: dashboard.Dashboard) -> dict[str, Any]:
    """Everything the page shows from a dashboard, as plain values."""

    def checkpoints(cs: tuple[dashboard.Checkpoint, ...]) -> list[Any]:
        return [
            (c.label, c.column, c.response.count, c.remission.count, c.response.total)
            for c in cs
        ]

    def groups(gs: tuple[dashboard.Group, ...]) -> list[Any]:
        return [(g.label, g.key, g.episodes, checkpoints(g.checkpoints)) for g in gs]

    return {
        "episodes": d.episodes,
        "judged": d.judged,
        "checkpoints": checkpoints(d.checkpoints),
        "relapse": (d.relapse.points, d.relapse.at_risk, d.relapse.events),
        "first_booster": (
            d.first_booster.points,
            d.first_booster.at_risk,
            d.first_booster.events,
        ),
        "intervals": d.intervals,
        "by_protocol": groups(d.by_protocol),
        "by_location": groups(d.by_location),
        "by_dose": groups(d.by_dose),
        "by_diagnosis": groups(d.by_diagnosis),
        "as_of": d.as_of,
    }


def stored_counts(organization: Organization) -> list[tuple[Any, ...]]:
    fields = [
        f.attname
        for f in EpisodeSummaryCount._meta.concrete_fields
        if not f.primary_key
    ]
    return sorted(
        EpisodeSummaryCount.objects.filter(organization=organization).values_list(
            *fields
        ),
        key=repr,
    )


@pytest.fixture
def cohort(
    organization: Organization, prescriber: User, director: User, nurse: User
) -> list[TreatmentPlan]:
    plans = make_cohort(organization, prescriber, director, nurse)
    # A second start date, so that periods split the cohort.
    for plan in plans[2:]:
        unguarded_update(
            InfusionSession.objects.filter(plan=plan),
            started_at=factories.at(LATER, 10),
        )
    summaries.refresh_all(organization)
    return plans


@pytest.mark.parametrize(
    "period",
    [
        Period(),
        Period(START, START),
        Period(START - timedelta(days=1), START + timedelta(days=10)),
        Period(LATER, None),
        Period(None, LATER - timedelta(days=1)),
        Period(START + timedelta(days=1), LATER - timedelta(days=1)),  # no one
    ],
)
@pytest.mark.parametrize("code", ["phq9", "qids-sr16"])
def test_the_stored_counts_give_the_figures_of_the_rows_themselves(
    organization: Organization,
    cohort: list[TreatmentPlan],
    period: dashboard.Period,
    code: str,
) -> None:
    stored = dashboard.from_table(
        organization.pk, today=TODAY, instrument_code=code, period=period
    )
    direct = dashboard.from_rows(
        organization.pk, today=TODAY, instrument_code=code, period=period
    )
    assert figures(stored) == figures(direct)


def test_the_periods_split_the_cohort_as_expected(
    organization: Organization, cohort: list[TreatmentPlan]
) -> None:
    whole = dashboard.from_table(organization.pk, today=TODAY)
    first = dashboard.from_table(
        organization.pk, today=TODAY, period=Period(START, START)
    )
    later = dashboard.from_table(
        organization.pk, today=TODAY, period=Period(LATER, None)
    )
    none = dashboard.from_table(
        organization.pk,
        today=TODAY,
        period=Period(START + timedelta(days=1), LATER - timedelta(days=1)),
    )
    assert (whole.episodes, first.episodes, later.episodes, none.episodes) == (
        4,
        2,
        2,
        0,
    )
    assert [c.response.total for c in first.checkpoints] != [
        c.response.total for c in whole.checkpoints
    ]
    assert none.as_of is None


def test_one_count_row_per_day_and_breakdown_adding_up_to_the_episodes(
    organization: Organization, cohort: list[TreatmentPlan]
) -> None:
    counts = EpisodeSummaryCount.objects.filter(
        organization=organization, instrument_code="phq9"
    )
    assert sorted({c.first_infusion_on for c in counts}) == [START, LATER]
    assert (
        sum(c.episodes for c in counts)
        == EpisodeSummaryRow.objects.filter(
            organization=organization,
            instrument_code="phq9",
            first_infusion_at__isnull=False,
        ).count()
    )


def test_a_refresh_of_one_patient_keeps_the_counts_equal_to_a_fresh_count(
    organization: Organization, cohort: list[TreatmentPlan]
) -> None:
    changed = cohort[3]
    # A new low score (partial response becomes remission) ...
    factories.score(changed.patient, START + timedelta(days=90), 3)
    # ... and the first infusion moved to late on an earlier day: the counts leave
    # the old day and arrive on the new one.
    moved_to = LATER - timedelta(days=3)
    unguarded_update(
        InfusionSession.objects.filter(plan=changed),
        started_at=factories.at(moved_to, 23),
    )
    summaries.refresh_patients(organization.pk, [changed.patient_id])
    incremental = stored_counts(organization)
    summaries.recount(organization.pk)
    assert incremental == stored_counts(organization)
    days = set(
        EpisodeSummaryCount.objects.filter(
            organization=organization, instrument_code="phq9"
        ).values_list("first_infusion_on", flat=True)
    )
    assert days == {START, moved_to, LATER}
    later = dashboard.from_table(
        organization.pk, today=TODAY, period=Period(moved_to, moved_to)
    )
    assert later.episodes == 1
    assert figures(later) == figures(
        dashboard.from_rows(
            organization.pk, today=TODAY, period=Period(moved_to, moved_to)
        )
    )


def test_a_recount_of_days_leaves_other_days_alone(
    organization: Organization, cohort: list[TreatmentPlan]
) -> None:
    before = stored_counts(organization)
    assert summaries.recount(organization.pk, [START]) == len(
        [c for c in before if c[2] == START]
    )
    assert stored_counts(organization) == before
    assert summaries.recount(organization.pk, []) == 0
    assert stored_counts(organization) == before


def test_the_counts_follow_the_rows_when_the_refresh_runs_on_changes(
    organization: Organization, cohort: list[TreatmentPlan]
) -> None:
    factories.score(cohort[0].patient, START + timedelta(days=80), 2)
    summaries.refresh_changed(organization)
    incremental = stored_counts(organization)
    summaries.recount(organization.pk)
    assert incremental == stored_counts(organization)
    assert figures(dashboard.from_table(organization.pk, today=TODAY)) == figures(
        dashboard.from_rows(organization.pk, today=TODAY)
    )
