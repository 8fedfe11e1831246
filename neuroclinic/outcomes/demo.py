"""Demo outcomes: booster rules v1, a few patients drifting back up after their series,
then the daily job, so the booster worklist, the follow-up tasks and every dashboard
chart have something to show. Synthetic data only, built on the infusions demo."""

from datetime import timedelta

from django.utils import timezone

from neuroclinic.clinics.demo import DemoContext
from neuroclinic.measures.actions.responses import record_response
from neuroclinic.measures.demo import answers_for
from neuroclinic.measures.models import QuestionnaireResponse
from neuroclinic.outcomes.actions.boosters import (
    change_booster_rules,
    refresh_booster_suggestions,
)
from neuroclinic.outcomes.actions.follow_up import open_follow_up_tasks
from neuroclinic.outcomes.actions.summaries import refresh_all
from neuroclinic.treatment.models import TreatmentPlan

RISING = (4, 6, 9, 12)  # PHQ-9 totals a week apart, ending today: a booster is due


def load(context: DemoContext) -> None:
    director = context.staff["director"]
    change_booster_rules(
        context.organization,
        values={},
        change_note="Demo: the built-in defaults, signed off as version 1.",
        by=director,
    )
    plans = list(
        TreatmentPlan.objects.filter(
            organization=context.organization,
            status=TreatmentPlan.Status.ACTIVE,
            induction_completed_at__isnull=False,
        ).select_related("patient")[:3]
    )
    now = timezone.now()
    for plan in plans:
        for weeks_ago, total in zip(
            range(len(RISING) - 1, -1, -1), RISING, strict=True
        ):
            record_response(
                plan.patient,
                instrument_code="phq9",
                answers=answers_for("phq9", total, context.rng),
                source=QuestionnaireResponse.Source.PORTAL,
                completed_at=now - timedelta(weeks=weeks_ago, hours=1),
                by=None,
            )
    refresh_booster_suggestions(context.organization, by=director)
    open_follow_up_tasks(context.organization, by=director)
    refresh_all(context.organization)  # the dashboard's stored episode summaries
