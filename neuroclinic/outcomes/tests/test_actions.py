"""Booster rules, suggestions and follow-up tasks: writes through actions, audited."""

from datetime import date, timedelta

import pytest

from conftest import TEST_PASSWORD
from neuroclinic.accounts.models import User
from neuroclinic.audit.models import AuditEvent
from neuroclinic.clinics.models import Organization
from neuroclinic.outcomes.actions import boosters, follow_up
from neuroclinic.outcomes.actions.common import OutcomesError
from neuroclinic.outcomes.boosters import Urgency
from neuroclinic.outcomes.episodes import load_episodes
from neuroclinic.outcomes.models import BoosterRuleSet, BoosterSuggestion, FollowUpTask
from neuroclinic.outcomes.summary import Status
from neuroclinic.outcomes.tests import factories
from neuroclinic.patients.models import Patient
from neuroclinic.treatment.models import InfusionOrder, TreatmentPlan

START = date(2026, 3, 2)


@pytest.fixture
def rising(
    patient: Patient, prescriber: User, director: User, nurse: User
) -> TreatmentPlan:
    """Responded, remitted, and now PHQ-9 is rising again 3 weeks after the series."""
    return factories.course(
        patient,
        prescriber=prescriber,
        director=director,
        nurse=nurse,
        start=START,
        scores=((-1, 20), (4, 12), (11, 3), (18, 4), (25, 6), (31, 9)),
    )


def events(action: AuditEvent.Action) -> int:
    return AuditEvent.objects.filter(action=action).count()


def test_episode_summary_reads_the_plan(rising: TreatmentPlan) -> None:
    (episode,) = load_episodes([rising])
    summary = episode.summary("phq9")
    assert summary.baseline is not None
    assert summary.baseline.total == 20
    assert summary.remission_on == START + timedelta(days=11)
    assert summary.status is Status.RESPONSE


def test_rising_patient_gets_a_suggestion_with_its_basis(
    rising: TreatmentPlan, organization: Organization
) -> None:
    today = START + timedelta(days=32)
    made = boosters.refresh_booster_suggestions(organization, today=today)
    assert len(made) == 1
    suggestion = made[0]
    rules = {b["rule"] for b in suggestion.basis}
    assert {"rise_from_nadir", "rising_scores", "protocol_minimum"} <= rules
    assert suggestion.rules_version == 0
    # Symptoms came back before the booster protocol's shortest interval: due soon.
    assert boosters.urgency_today(suggestion, today) is Urgency.DUE_SOON
    assert boosters.urgency_today(suggestion, suggestion.due_on) is Urgency.DUE_NOW
    assert events(AuditEvent.Action.BOOSTER_SUGGESTED) == 1
    # The daily job runs again: one open suggestion per plan.
    assert boosters.refresh_booster_suggestions(organization, today=today) == []


def test_rule_change_is_a_new_version_and_old_suggestions_keep_theirs(
    rising: TreatmentPlan, organization: Organization, director: User
) -> None:
    old = boosters.refresh_booster_suggestions(
        organization, today=START + timedelta(days=32)
    )[0]
    rule_set = boosters.change_booster_rules(
        organization, values={"rise_points": 8}, change_note="Fewer alerts", by=director
    )
    assert rule_set.version == 1
    assert boosters.current_rules(organization.pk).rise_points == 8
    old.refresh_from_db()
    assert old.rules_version == 0
    assert old.rules["rise_points"] == 5
    assert events(AuditEvent.Action.BOOSTER_RULES_CHANGED) == 1


@pytest.mark.parametrize(
    ("values", "note", "match"),
    [
        ({"rise_points": 0}, "x", "cannot apply"),
        ({"bogus": 1}, "x", "Unknown"),
        ({"rise_points": 4}, "  ", "why"),
    ],
)
def test_bad_rule_changes_write_nothing(
    organization: Organization,
    director: User,
    values: dict[str, int],
    note: str,
    match: str,
) -> None:
    with pytest.raises(OutcomesError, match=match):
        boosters.change_booster_rules(
            organization, values=values, change_note=note, by=director
        )
    assert not BoosterRuleSet.objects.exists()


def test_confirm_signs_the_booster_order(
    rising: TreatmentPlan, organization: Organization, prescriber: User
) -> None:
    suggestion = boosters.refresh_booster_suggestions(
        organization, today=START + timedelta(days=32)
    )[0]
    confirmed = boosters.confirm_booster(
        suggestion, password=TEST_PASSWORD, by=prescriber
    )
    assert confirmed.status == BoosterSuggestion.Status.CONFIRMED
    assert confirmed.order is not None
    assert confirmed.order.kind == InfusionOrder.Kind.BOOSTER
    assert events(AuditEvent.Action.BOOSTER_CONFIRMED) == 1
    with pytest.raises(OutcomesError, match="already"):
        boosters.dismiss_booster(confirmed, reason="late", by=prescriber)


def test_wrong_password_confirms_nothing(
    rising: TreatmentPlan, organization: Organization, prescriber: User
) -> None:
    suggestion = boosters.refresh_booster_suggestions(
        organization, today=START + timedelta(days=32)
    )[0]
    with pytest.raises(OutcomesError):
        boosters.confirm_booster(suggestion, password="wrong", by=prescriber)
    suggestion.refresh_from_db()
    assert suggestion.status == BoosterSuggestion.Status.OPEN
    assert not InfusionOrder.objects.filter(kind=InfusionOrder.Kind.BOOSTER).exists()


def test_dismiss_needs_a_reason(
    rising: TreatmentPlan, organization: Organization, prescriber: User
) -> None:
    suggestion = boosters.refresh_booster_suggestions(
        organization, today=START + timedelta(days=32)
    )[0]
    with pytest.raises(OutcomesError, match="reason"):
        boosters.dismiss_booster(suggestion, reason=" ", by=prescriber)
    dismissed = boosters.dismiss_booster(
        suggestion, reason="Doing well by phone", by=prescriber
    )
    assert dismissed.status == BoosterSuggestion.Status.DISMISSED
    assert events(AuditEvent.Action.BOOSTER_DISMISSED) == 1


def test_follow_up_tasks_open_once_in_the_window(
    rising: TreatmentPlan, organization: Organization, nurse: User
) -> None:
    made = follow_up.open_follow_up_tasks(organization)
    assert {t.kind for t in made} == set(FollowUpTask.Kind)
    last_infusion = START + timedelta(days=10)
    protocol = rising.induction_protocol
    assert made[0].due_from == last_infusion + timedelta(
        days=protocol.follow_up_window_start_days
    )
    assert made[0].due_until == last_infusion + timedelta(
        days=protocol.follow_up_window_end_days
    )
    assert follow_up.open_follow_up_tasks(organization) == []
    done = follow_up.complete_follow_up_task(made[0], note="Seen", by=nurse)
    assert done.status == FollowUpTask.Status.DONE
    with pytest.raises(OutcomesError):
        follow_up.complete_follow_up_task(made[0], by=nurse)
    assert events(AuditEvent.Action.FOLLOW_UP_TASK_OPENED) == 2
    assert events(AuditEvent.Action.FOLLOW_UP_TASK_DONE) == 1


def test_unfinished_series_gets_no_tasks_or_suggestions(
    patient: Patient,
    prescriber: User,
    director: User,
    nurse: User,
    organization: Organization,
) -> None:
    factories.course(
        patient,
        prescriber=prescriber,
        director=director,
        nurse=nurse,
        start=START,
        induction=3,
    )
    assert follow_up.open_follow_up_tasks(organization) == []
    assert (
        boosters.refresh_booster_suggestions(
            organization, today=START + timedelta(days=90)
        )
        == []
    )
