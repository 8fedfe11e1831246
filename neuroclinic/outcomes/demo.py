"""Demo outcomes: booster rules v1, a few patients drifting back up after their series,
then the daily job, so the booster worklist, the follow-up tasks and every dashboard
chart have something to show. Synthetic data only, built on the infusions demo.

The patients whose PHQ-9 rises are those in maintenance with a booster protocol, the
one whose family name is `BOOSTER_DUE_FAMILY` first (the browser journey finds the
suggestion by that name). The infusions demo publishes a new ketamine consent after
the series; these patients sign it, as a patient due a booster would at the clinic, so
everything a prescriber's confirmation checks is in order.
"""

from datetime import timedelta

from django.utils import timezone

from neuroclinic.clinics.demo import DemoContext
from neuroclinic.intake.actions.consents import sign_consent
from neuroclinic.intake.checks import consent_states
from neuroclinic.intake.demo import signature_png
from neuroclinic.intake.models import ConsentSignature
from neuroclinic.measures.actions.responses import record_response
from neuroclinic.measures.demo import answers_for
from neuroclinic.measures.models import QuestionnaireResponse
from neuroclinic.outcomes.actions.boosters import (
    change_booster_rules,
    refresh_booster_suggestions,
)
from neuroclinic.outcomes.actions.follow_up import open_follow_up_tasks
from neuroclinic.outcomes.actions.summaries import refresh_all
from neuroclinic.patients.models import Patient
from neuroclinic.treatment.actions.plans import intake_blocks
from neuroclinic.treatment.models import TreatmentPlan

RISING = (4, 6, 9, 12)  # PHQ-9 totals a week apart, ending today: a booster is due
BOOSTER_DUE_FAMILY = "Dummington"  # invented, from FAMILY_NAMES in clinics/demo.py
BOOSTER_DUE_PATIENTS = 3


def _sign_outdated_consents(patient: Patient, context: DemoContext, n: int) -> None:
    for state in consent_states(patient):
        if (
            state.current is not None
            and state.signed is not None
            and not state.is_current
        ):
            sign_consent(
                patient,
                state.current,
                typed_name=patient.legal_name,
                signature_png=signature_png(80 + n),
                ip_address="127.0.0.1",
                channel=ConsentSignature.Channel.TABLET,
                by=context.staff["frontdesk"],
            )


def booster_due_plans(context: DemoContext) -> list[TreatmentPlan]:
    candidates = TreatmentPlan.objects.filter(
        organization=context.organization,
        status=TreatmentPlan.Status.ACTIVE,
        induction_completed_at__isnull=False,
        booster_protocol__isnull=False,
    ).select_related("patient")
    return sorted(
        candidates,
        key=lambda p: (p.patient.family_name != BOOSTER_DUE_FAMILY, p.pk),
    )[:BOOSTER_DUE_PATIENTS]


def load(context: DemoContext) -> None:
    director = context.staff["director"]
    change_booster_rules(
        context.organization,
        values={},
        change_note="Demo: the built-in defaults, signed off as version 1.",
        by=director,
    )
    now = timezone.now()
    for n, plan in enumerate(booster_due_plans(context)):
        _sign_outdated_consents(plan.patient, context, n)
        assert not intake_blocks(plan.patient), intake_blocks(plan.patient)
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
