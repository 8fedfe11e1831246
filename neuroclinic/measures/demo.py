"""Demo measurement histories: baselines and PHQ-9/GAD-7 trajectories that respond,
remit, relapse or do not respond, a few safety alerts (acknowledged and open),
and questionnaires due today. All synthetic."""

import random
from datetime import datetime, timedelta

from django.utils import timezone

from neuroclinic.clinics.demo import DemoContext
from neuroclinic.measures import schedules
from neuroclinic.measures.actions.alerts import acknowledge_alert
from neuroclinic.measures.actions.due_measures import schedule_measures
from neuroclinic.measures.actions.responses import (
    NewResponse,
    record_response,
    record_responses,
)
from neuroclinic.measures.instruments import get_instrument
from neuroclinic.measures.models import QuestionnaireResponse, SafetyAlert
from neuroclinic.patients import actions as patient_actions
from neuroclinic.patients.models import Patient

# Multipliers of the baseline PHQ-9 over ~10 weeks, by course.
COURSES = {
    "remits": [1.0, 0.85, 0.7, 0.55, 0.4, 0.3, 0.2, 0.15, 0.12, 0.1],
    "responds": [1.0, 0.9, 0.8, 0.7, 0.6, 0.55, 0.5, 0.45, 0.45, 0.42],
    "relapses": [1.0, 0.8, 0.6, 0.4, 0.3, 0.25, 0.35, 0.5, 0.65, 0.8],
    "no_response": [1.0, 0.95, 1.0, 0.9, 0.92, 0.88, 0.9, 0.85, 0.9, 0.88],
}


def answers_for(
    code: str, total: int, rng: random.Random, *, last_item: int = 0
) -> dict[str, object]:
    """Item answers that add up to `total` (the last item, the suicide item for PHQ-9, fixed)."""
    instrument = get_instrument(code)
    scored = [i for i in instrument.items if i.in_total and i.required]
    free = scored[:-1] if code == "phq9" else scored
    values = {i.link_id: 0 for i in scored}
    if code == "phq9":
        values[scored[-1].link_id] = last_item
        total -= last_item
    top = max(o.value for o in scored[0].options)
    remaining = max(0, min(total, top * len(free)))
    while remaining > 0:
        item = rng.choice(free)
        if values[item.link_id] < top:
            values[item.link_id] += 1
            remaining -= 1
    return dict(values)


def _history(
    patient: Patient, course: str, start: datetime, rng: random.Random
) -> list[NewResponse]:
    """The patient's weekly PHQ-9s and three GAD-7s, to record in one batch."""
    entries = []
    baseline = rng.randint(15, 24)
    for week, factor in enumerate(COURSES[course]):
        when = start + timedelta(days=week * 7, hours=rng.randint(0, 6))
        phq9 = max(0, min(27, round(baseline * factor + rng.uniform(-1.5, 1.5))))
        entries.append(
            NewResponse(
                patient=patient,
                instrument_code="phq9",
                answers=answers_for("phq9", phq9, rng),
                source=rng.choice(
                    [
                        QuestionnaireResponse.Source.PORTAL,
                        QuestionnaireResponse.Source.KIOSK,
                    ]
                ),
                by=None,
                completed_at=when,
            )
        )
        if week in (0, 4, 9):
            gad7 = max(0, min(21, round(rng.randint(8, 17) * factor)))
            entries.append(
                NewResponse(
                    patient=patient,
                    instrument_code="gad7",
                    answers=answers_for("gad7", gad7, rng),
                    source=QuestionnaireResponse.Source.PORTAL,
                    by=None,
                    completed_at=when,
                )
            )
    return entries


def load(context: DemoContext) -> None:
    rng = context.rng
    prescriber = context.staff["prescriber"]
    director = context.staff["director"]
    now = timezone.now()
    for patient in context.patients:
        patient_actions.update_patient(
            patient, by=context.staff["admin"], prescriber=prescriber
        )
    with_history = context.patients[: max(0, len(context.patients) * 3 // 5)]
    # Every history in one batch: the same responses, audit events and alerts as
    # one record_response each, in this order (record_responses).
    entries: list[NewResponse] = []
    for index, patient in enumerate(with_history):
        course = list(COURSES)[index % len(COURSES)]
        start = now - timedelta(days=rng.randint(75, 140))
        entries += _history(patient, course, start, rng)
    record_responses(entries)

    # Safety alerts: some acknowledged with a documented assessment, a few still open.
    for index, patient in enumerate(context.patients[-6:]):
        recorded = record_response(
            patient,
            instrument_code="phq9",
            answers=answers_for("phq9", rng.randint(14, 22), rng, last_item=1),
            source=QuestionnaireResponse.Source.PORTAL,
            by=None,
            completed_at=now - timedelta(hours=index * 5 + 1),
        )
        if index >= 3:
            for alert in recorded.alerts:
                acknowledge_alert(
                    alert,
                    by=director if index == 5 else prescriber,
                    risk_level=SafetyAlert.RiskLevel.LOW,
                    disposition=SafetyAlert.Disposition.SAFETY_PLAN,
                    disposition_note="Passive thoughts, no plan or intent; safety plan reviewed by phone (demo).",
                    assessment={
                        "ideation": "Passive wish to be dead on some days; no active ideation (demo).",
                        "plan": "None.",
                        "intent": "None.",
                        "behaviors": "No past attempts; no preparatory behaviour.",
                        "protective_factors": "Partner at home, engaged in care, future plans.",
                    },
                )

    # Due today: intake questionnaires for the newest patients, for the worklist.
    for patient in context.patients[len(with_history) : len(with_history) + 8]:
        schedule_measures(
            patient,
            trigger=schedules.Trigger.INTAKE,
            event_at=now - timedelta(hours=rng.randint(1, 80)),
            event_ref=f"demo-intake:{patient.uuid}",
        )
