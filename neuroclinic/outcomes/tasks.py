"""Daily outcomes work, run by `neuroclinic worker` (schedule in neuroclinic/operations/schedule.py).

Safe to run twice: a plan has at most one open booster suggestion and one task of
each kind (database constraints), and both actions skip plans that have them.
"""

from django.tasks import task

from neuroclinic.clinics.models import Organization
from neuroclinic.outcomes.actions.boosters import refresh_booster_suggestions
from neuroclinic.outcomes.actions.follow_up import open_follow_up_tasks


@task
def daily_outcomes_work() -> dict[str, int]:
    """Suggest boosters that are due now or soon and open post-series follow-up tasks."""
    suggested = tasks = 0
    for organization in Organization.objects.order_by("id"):
        suggested += len(refresh_booster_suggestions(organization))
        tasks += len(open_follow_up_tasks(organization))
    return {"suggested": suggested, "tasks": tasks}
