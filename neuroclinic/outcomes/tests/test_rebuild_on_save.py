"""Issue 11: saving new outcome definitions rebuilds the clinic's stored episode summaries
through the task system, once, when the save commits; the worker's run updates the counts."""

from typing import Any

import pytest
from django.db import transaction
from django_tasks_db.models import DBTaskResult

from neuroclinic.accounts.models import User
from neuroclinic.clinics.models import Organization
from neuroclinic.measures.outcome_rules import clinic_outcome_rules
from neuroclinic.measures.outcomes import OutcomeRules
from neuroclinic.operations.worker import run_queued_tasks
from neuroclinic.outcomes.actions import boosters, summaries
from neuroclinic.outcomes.models import EpisodeSummaryCount, EpisodeSummaryRow
from neuroclinic.outcomes.summary import Status
from neuroclinic.outcomes.tests.test_rules_everywhere import phq9_course
from neuroclinic.treatment.models import TreatmentPlan

REBUILD_TASK = "neuroclinic.outcomes.tasks.rebuild_outcome_summaries"


def _rebuilds() -> int:
    return DBTaskResult.objects.filter(task_path=REBUILD_TASK).count()


@pytest.mark.django_db
def test_saving_outcome_rules_rebuilds_the_stored_summaries_once_on_commit(
    organization: Organization,
    other_organization: Organization,
    director: User,
    django_capture_on_commit_callbacks: Any,
) -> None:
    plan = phq9_course(organization, "Taskholm", 11)  # 45 % below baseline
    theirs = phq9_course(other_organization, "Otherholm", 11)
    summaries.refresh_all(organization)
    summaries.refresh_all(other_organization)

    def stored(p: TreatmentPlan) -> str:
        return EpisodeSummaryRow.objects.get(plan=p, instrument_code="phq9").status

    def responded(org: Organization) -> int:
        return sum(
            row.at_end_of_series_resp
            + row.at_week_4_resp
            + row.at_week_8_resp
            + row.at_week_12_resp
            + row.at_week_26_resp
            for row in EpisodeSummaryCount.objects.filter(organization=org)
        )

    assert (stored(plan), responded(organization)) == (Status.PARTIAL, 0)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        boosters.change_booster_rules(
            organization,
            values={"response_reduction_percent": 40},
            change_note="Ours",
            by=director,
        )
    assert (len(callbacks), _rebuilds()) == (1, 0)  # nothing before the commit
    callbacks[0]()
    assert _rebuilds() == 1
    row = DBTaskResult.objects.get(task_path=REBUILD_TASK)
    assert row.args_kwargs["args"] == [organization.pk]
    assert stored(plan) == Status.PARTIAL  # the worker has not run yet
    assert run_queued_tasks() == 1
    assert stored(plan) == Status.RESPONSE
    assert responded(organization) > 0
    # The other clinic's summaries were not rebuilt under our rules.
    assert (stored(theirs), responded(other_organization)) == (Status.PARTIAL, 0)


@pytest.mark.django_db
def test_a_booster_only_change_or_a_rolled_back_one_queues_no_rebuild(
    organization: Organization,
    director: User,
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        boosters.change_booster_rules(
            organization, values={"rise_points": 6}, change_note="Boost", by=director
        )
        # The same outcome values again: nothing to rebuild.
        boosters.change_booster_rules(
            organization,
            values={"response_reduction_percent": 50},
            change_note="Same",
            by=director,
        )
    assert (callbacks, _rebuilds()) == ([], 0)

    def change_then_fail() -> None:
        with transaction.atomic():
            boosters.change_booster_rules(
                organization,
                values={"remission_max_phq9": 6},
                change_note="Undone",
                by=director,
            )
            raise RuntimeError("rolled back")

    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError, match="rolled back"),
    ):
        change_then_fail()
    assert (callbacks, _rebuilds()) == ([], 0)
    assert clinic_outcome_rules(organization.pk) == OutcomeRules()
