"""The clinic's outcome definitions (issue 11 item 1): response %, partial %, relapse
consecutive scores and remission maximum per scale are the medical director's versioned
settings, and every summary (stored rows, chart, portal) judges by them."""

import io
from datetime import date, timedelta
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from conftest import EVERYONE, expected_status, make_staff, personas_with
from neuroclinic.accounts.models import User
from neuroclinic.accounts.roles import Capability, Role
from neuroclinic.clinics.models import Organization
from neuroclinic.outcomes import chart, dashboard
from neuroclinic.outcomes.actions import boosters, summaries
from neuroclinic.outcomes.actions.common import OutcomesError
from neuroclinic.outcomes.episodes import load_episodes, outcome_rules_for
from neuroclinic.outcomes.models import (
    REMISSION_MAX_FIELDS,
    BoosterRuleSet,
    EpisodeSummaryRow,
)
from neuroclinic.outcomes.progress import progress_for
from neuroclinic.outcomes.summary import (
    DEFAULT_REMISSION_MAX,
    OutcomeRules,
    Status,
    plain_words,
)
from neuroclinic.outcomes.tests import factories
from neuroclinic.patients import actions as patient_actions
from neuroclinic.patients.models import Patient
from neuroclinic.treatment.models import TreatmentPlan

pytestmark = pytest.mark.django_db

START = date(2026, 3, 2)

# PHQ-9 courses as (day, total); baseline on day -1 is 20 for each.
COHORT = {
    # 70 % below baseline, latest 6: response (remission needs 4 or less by default)
    "seventy": ((-1, 20), (11, 6), (25, 6)),
    # 45 % below baseline: partial response by default
    "forty_five": ((-1, 20), (11, 12), (25, 11)),
    # responds (60 %), then two scores without response: relapse by default
    "relapsing": ((-1, 20), (11, 8), (18, 15), (25, 16)),
}

DEFAULTS = {
    "seventy": Status.RESPONSE,
    "forty_five": Status.PARTIAL,
    "relapsing": Status.RELAPSE,
}

# The director's change -> the status each course is judged to have under it.
CASES: list[tuple[dict[str, int], dict[str, Status]]] = [
    ({}, DEFAULTS),
    ({"remission_max_phq9": 6}, {**DEFAULTS, "seventy": Status.REMISSION}),
    ({"response_reduction_percent": 40}, {**DEFAULTS, "forty_five": Status.RESPONSE}),
    (
        {"response_reduction_percent": 40, "partial_reduction_percent": 10},
        {**DEFAULTS, "forty_five": Status.RESPONSE},
    ),
    ({"relapse_consecutive": 3}, {**DEFAULTS, "relapsing": Status.NO_RESPONSE}),
    # 75 %: the 70 % course is partial, and the relapsing one never responded at all
    (
        {"response_reduction_percent": 75},
        {**DEFAULTS, "seventy": Status.PARTIAL, "relapsing": Status.NO_RESPONSE},
    ),
]

BOOSTER_VALUES = {
    "rise_points": 5,
    "consecutive_rises": 2,
    "band_threshold": 10,
    "learn_after_boosters": 2,
    "lead_days": 3,
    "due_soon_days": 7,
    "overdue_after_days": 7,
}
OUTCOME_DEFAULTS = {
    "response_reduction_percent": 50,
    "partial_reduction_percent": 25,
    "relapse_consecutive": 2,
    "remission_max_phq9": 4,
    "remission_max_qids_sr16": 5,
    "remission_max_madrs": 10,
    "remission_max_hamd17": 7,
}


@pytest.fixture
def cohort(
    organization: Organization, prescriber: User, director: User, nurse: User
) -> dict[str, TreatmentPlan]:
    plans = {}
    for i, (name, scores) in enumerate(COHORT.items()):
        p = patient_actions.register_patient(
            organization,
            by=prescriber,
            family_name=f"Regelova{i}",
            given_name="Demo",
            birth_date=date(1981, 3, 1 + i),
            sex_at_birth=Patient.SexAtBirth.FEMALE,
        )
        plans[name] = factories.course(
            p,
            prescriber=prescriber,
            director=director,
            nurse=nurse,
            start=START,
            scores=scores,
        )
    return plans


def stored_status(plan: TreatmentPlan) -> str:
    return EpisodeSummaryRow.objects.get(plan=plan, instrument_code="phq9").status


def test_the_stored_defaults_are_todays_constants() -> None:
    assert set(REMISSION_MAX_FIELDS) == set(DEFAULT_REMISSION_MAX)
    row = BoosterRuleSet(**BOOSTER_VALUES)
    assert row.outcome_rules() == OutcomeRules()
    assert {f: getattr(row, f) for f in OUTCOME_DEFAULTS} == OUTCOME_DEFAULTS


@pytest.mark.parametrize(("change", "expected"), CASES)
def test_a_clinic_change_changes_the_status_everywhere_it_is_computed(
    organization: Organization,
    director: User,
    cohort: dict[str, TreatmentPlan],
    change: dict[str, int],
    expected: dict[str, Status],
) -> None:
    summaries.refresh_all(organization)
    assert {n: stored_status(p) for n, p in cohort.items()} == DEFAULTS
    boosters.change_booster_rules(
        organization, values=change, change_note="Clinic definitions", by=director
    )
    # Stored rows are derived: they follow at the next refresh, not before.
    assert {n: stored_status(p) for n, p in cohort.items()} == DEFAULTS
    summaries.refresh_all(organization)
    assert {n: stored_status(p) for n, p in cohort.items()} == expected
    # The chart panel and the portal read the same clinic rules at once.
    for name, plan in cohort.items():
        (episode,) = load_episodes([plan])
        assert episode.summary("phq9").status is expected[name]
        # the dashboard's checkpoints judge by them too
        until = factories.at(START + timedelta(days=30))
        checkpoint = dashboard.summary_until(episode, "phq9", until, 30)
        assert checkpoint is not None
        assert checkpoint.status is expected[name]
        label = chart.status_label(expected[name], "phq9", episode.rules)
        assert "{" not in label
        (line,) = progress_for(plan.patient)
        assert line.words == plain_words(expected[name], episode.rules)


def test_another_clinics_rules_do_not_apply(
    organization: Organization,
    other_organization: Organization,
    director: User,
    cohort: dict[str, TreatmentPlan],
) -> None:
    other_director = make_staff(
        other_organization, "otherdirector", Role.MEDICAL_DIRECTOR
    )
    boosters.change_booster_rules(
        other_organization,
        values={"remission_max_phq9": 6},
        change_note="Theirs",
        by=other_director,
    )
    assert outcome_rules_for(organization.pk) == OutcomeRules()
    (episode,) = load_episodes([cohort["seventy"]])
    assert episode.summary("phq9").status is Status.RESPONSE


def test_a_booster_only_change_keeps_the_outcome_settings(
    organization: Organization, director: User
) -> None:
    boosters.change_booster_rules(
        organization,
        values={"remission_max_madrs": 12},
        change_note="MADRS",
        by=director,
    )
    boosters.change_booster_rules(
        organization, values={"rise_points": 6}, change_note="Calmer", by=director
    )
    rules = outcome_rules_for(organization.pk)
    assert rules.remission_max["madrs"] == 12
    assert BoosterRuleSet.objects.get(version=2).remission_max_madrs == 12


BAD = [
    ("response_reduction_percent", 0),
    ("response_reduction_percent", 101),
    ("partial_reduction_percent", 50),  # not below response (50)
    ("partial_reduction_percent", 60),
    ("partial_reduction_percent", 0),
    ("relapse_consecutive", 0),
    ("remission_max_phq9", 28),  # PHQ-9 totals are 0-27
    ("remission_max_qids_sr16", 28),
    ("remission_max_madrs", 61),  # MADRS 0-60
    ("remission_max_hamd17", 53),  # HAM-D17 0-52
    ("remission_max_phq9", -1),
]


@pytest.mark.parametrize(("field", "value"), BAD)
def test_bad_values_are_refused_by_field_with_nothing_written(
    as_persona: Any, organization: Organization, director: User, field: str, value: int
) -> None:
    client = as_persona("director")
    values = {**BOOSTER_VALUES, **OUTCOME_DEFAULTS, "change_note": "Try"}
    response = client.post(reverse("outcomes:rules"), {**values, field: value})
    assert response.status_code == 422
    errors = response.context["form"].errors
    assert list(errors) == [field]
    assert not BoosterRuleSet.objects.exists()
    with pytest.raises(OutcomesError):
        boosters.change_booster_rules(
            organization, values={field: value}, change_note="Try", by=director
        )
    assert not BoosterRuleSet.objects.exists()


def test_the_page_saves_the_outcome_settings_as_a_new_version(
    as_persona: Any, organization: Organization
) -> None:
    client = as_persona("director")
    page = client.get(reverse("outcomes:rules")).content.decode()
    assert 'name="remission_max_phq9"' in page
    assert 'value="4"' in page
    values = {**BOOSTER_VALUES, **OUTCOME_DEFAULTS, "change_note": "Stricter"}
    response = client.post(
        reverse("outcomes:rules"), {**values, "remission_max_phq9": 3}
    )
    assert response.status_code == 302
    saved = BoosterRuleSet.objects.get()
    assert (saved.version, saved.remission_max_phq9) == (1, 3)
    assert outcome_rules_for(organization.pk).remission_max["phq9"] == 3


@pytest.mark.parametrize("persona", EVERYONE)
def test_only_the_director_may_change_them(
    as_persona: Any, persona: str, organization: Organization
) -> None:
    values = {
        **BOOSTER_VALUES,
        **OUTCOME_DEFAULTS,
        "remission_max_phq9": 6,
        "change_note": "Mine",
    }
    response = as_persona(persona).post(reverse("outcomes:rules"), values)
    allowed = personas_with(Capability.CONFIGURE_BOOSTER_RULES)
    assert allowed == {"director"}
    if persona in allowed:
        assert response.status_code == 302
        assert outcome_rules_for(organization.pk).remission_max["phq9"] == 6
    else:
        assert response.status_code == expected_status(persona, allowed)
        assert not BoosterRuleSet.objects.exists()
        assert outcome_rules_for(organization.pk) == OutcomeRules()


def test_the_refresh_command_applies_a_change_now(
    organization: Organization, director: User, cohort: dict[str, TreatmentPlan]
) -> None:
    summaries.refresh_all(organization)
    boosters.change_booster_rules(
        organization,
        values={"remission_max_phq9": 6},
        change_note="Wider",
        by=director,
    )
    assert stored_status(cohort["seventy"]) == Status.RESPONSE
    out = io.StringIO()
    call_command(
        "refresh_outcome_summaries", "--organization", str(organization.pk), stdout=out
    )
    assert stored_status(cohort["seventy"]) == Status.REMISSION
    assert f"{organization.pk}: " in out.getvalue()
    with pytest.raises(CommandError, match="No clinic"):
        call_command("refresh_outcome_summaries", "--organization", "999999")
