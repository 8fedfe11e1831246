"""A patient's course built straight into the tables: plan, orders, given infusions, scores.

The infusion day itself is the infusions app's (and tested there); here only its
result matters, so sessions are written as given, with the plan's counters set as
`record_infusion_given` would leave them.
"""

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from neuroclinic.accounts.models import User
from neuroclinic.audit.tests.helpers import unguarded_update
from neuroclinic.clinics.models import Location, Room
from neuroclinic.infusions.models import InfusionSession
from neuroclinic.ledger.tests import factories as ledger_factories
from neuroclinic.measures.models import QuestionnaireResponse
from neuroclinic.measures.tests.factories import answers_with_total
from neuroclinic.patients.models import Patient
from neuroclinic.treatment.defaults import ProtocolKind
from neuroclinic.treatment.models import InfusionOrder, TreatmentPlan
from neuroclinic.treatment.tests import factories as treatment_factories


def at(on: date, hour: int = 10) -> datetime:
    return datetime.combine(on, time(hour), tzinfo=UTC)


def room_for(patient: Patient) -> Room:
    location = Location.objects.filter(organization_id=patient.organization_id).first()
    if location is None:
        location = ledger_factories.make_location(
            patient.organization, phone="555-0100", time_zone="UTC"
        )
    room = Room.objects.filter(location=location).first()
    return room or Room.objects.create(
        location=location, name="Infusion 1", kind=Room.Kind.INFUSION
    )


def give(
    order: InfusionOrder, on: date, nurse: User, *, number: int, total: int
) -> InfusionSession:
    room = room_for(order.patient)
    return InfusionSession.objects.create(
        organization_id=order.organization_id,
        patient=order.patient,
        plan=order.plan,
        order=order,
        location=room.location,
        room=room,
        status=InfusionSession.Status.CLOSED,
        sequence_number=number,
        sequence_total=total,
        service_date=on,
        checked_in_by=nurse,
        checked_in_at=at(on, 9),
        nurse=nurse,
        started_at=at(on, 10),
        ended_at=at(on, 11),
    )


def score(
    patient: Patient, on: date, total: int, code: str = "phq9", hour: int = 8
) -> QuestionnaireResponse:
    return QuestionnaireResponse.objects.create(
        organization_id=patient.organization_id,
        patient=patient,
        instrument_code=code,
        instrument_version="1",
        answers=answers_with_total(code, total) if code == "phq9" else {},
        total=total,
        source=QuestionnaireResponse.Source.STAFF,
        completed_at=at(on, hour),
    )


def course(
    patient: Patient,
    *,
    prescriber: User,
    director: User,
    nurse: User,
    start: date,
    induction: int = 6,
    boosters: tuple[int, ...] = (),
    scores: tuple[tuple[int, int], ...] = (),
    **_: Any,
) -> TreatmentPlan:
    """Induction infusions every other day from `start`, boosters on day offsets, scores as (day, total)."""
    treatment_factories.ready_for_treatment(patient, prescriber)
    plan = treatment_factories.make_plan(patient, prescriber, director)
    order = treatment_factories.sign_order(plan, prescriber)
    days = [start + timedelta(days=2 * i) for i in range(induction)]
    for i, on in enumerate(days):
        give(order, on, nurse, number=i + 1, total=induction)
    last = days[-1] if days else None
    if days and induction >= plan.induction_protocol.infusion_count:
        plan.induction_completed_at = at(days[-1], 11)
        plan.induction_dates = [d.isoformat() for d in days]
        unguarded_update(
            TreatmentPlan.objects.filter(pk=plan.pk),
            induction_completed_at=plan.induction_completed_at,
            induction_dates=plan.induction_dates,
        )
    booster = (
        treatment_factories.sign_order(plan, prescriber, kind=ProtocolKind.BOOSTER)
        if boosters
        else None
    )
    for offset in boosters:
        assert booster is not None
        on = start + timedelta(days=offset)
        give(booster, on, nurse, number=1, total=1)
        last = on
    plan.induction_dates = [d.isoformat() for d in days]
    plan.booster_count = len(boosters)
    plan.last_infusion_at = at(last, 11) if last else None
    unguarded_update(
        TreatmentPlan.objects.filter(pk=plan.pk),
        induction_dates=plan.induction_dates,
        induction_completed_at=plan.induction_completed_at,
        booster_count=plan.booster_count,
        last_infusion_at=plan.last_infusion_at,
    )
    for offset, total in scores:
        score(patient, start + timedelta(days=offset), total)
    return plan
