"""Outcomes work run by `neuroclinic worker`: daily and ten-minute jobs (schedule in
neuroclinic/operations/schedule.py), and the rebuild after a change of outcome definitions.

Safe to run twice: a plan has at most one open booster suggestion and one task of
each kind (database constraints), and both actions skip plans that have them.
"""

from django.tasks import task

from neuroclinic.clinics.models import Organization
from neuroclinic.outcomes.actions.boosters import refresh_booster_suggestions
from neuroclinic.outcomes.actions.follow_up import open_follow_up_tasks
from neuroclinic.outcomes.actions.summaries import refresh_all, refresh_changed


@task
def daily_outcomes_work() -> dict[str, int]:
    """Suggest boosters that are due now or soon, open post-series follow-up tasks and
    recompute every stored episode summary (checkpoints move with the calendar)."""
    suggested = tasks = rows = 0
    for organization in Organization.objects.order_by("id"):
        suggested += len(refresh_booster_suggestions(organization))
        tasks += len(open_follow_up_tasks(organization))
        rows += refresh_all(organization)
    return {"suggested": suggested, "tasks": tasks, "summary_rows": rows}


@task
def refresh_changed_summaries() -> dict[str, int]:
    """Every ten minutes: the stored episode summaries of patients whose scores, plans or
    infusions changed since the last run (a new score shows on the dashboard within ten
    minutes, not the next morning)."""
    rows = 0
    for organization in Organization.objects.order_by("id"):
        rows += refresh_changed(organization)
    return {"summary_rows": rows}


@task(queue_name="bulk")
def rebuild_outcome_summaries(organization_id: int) -> dict[str, int]:
    """After the medical director changed the clinic's outcome definitions (enqueued by
    `change_booster_rules` when its transaction commits): every stored episode summary
    of that clinic rebuilt under the rules in force when it runs, so the dashboard
    follows at once rather than at the daily job. The same work as
    `refresh_outcome_summaries --organization`; safe to run twice (a rebuild replaces
    each patient's rows)."""
    organization = Organization.objects.filter(pk=organization_id).first()
    if organization is None:
        return {"summary_rows": 0}
    return {"summary_rows": refresh_all(organization)}
