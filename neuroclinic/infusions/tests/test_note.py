"""The signed note's text, letter for letter: two infusion days charted through the real
actions on a fixed clock, compared with golden files.

The golden files were written by the note builder before it became a template
(issue #16), so these tests prove the template says exactly what the code said. A
change to the note's wording changes the golden files in the same commit.
"""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import timezone

from conftest import TEST_PASSWORD, make_staff
from neuroclinic.accounts.models import User
from neuroclinic.accounts.roles import Role
from neuroclinic.clinics.models import Device, Room
from neuroclinic.infusions.actions import (
    dose_draw,
    events,
    monitoring,
    notes,
    recovery_discharge,
    session_flow,
)
from neuroclinic.infusions.models import InfusionSession, SessionAlarm, VitalReading
from neuroclinic.infusions.note_text import build_note
from neuroclinic.infusions.tests import factories
from neuroclinic.ledger.models import Container
from neuroclinic.ledger.tests.factories import confirmed
from neuroclinic.measures.actions.responses import record_response
from neuroclinic.measures.models import QuestionnaireResponse
from neuroclinic.measures.tests.factories import phq9
from neuroclinic.patients.models import Patient
from neuroclinic.treatment.models import InfusionOrder
from neuroclinic.treatment.tests import factories as treatment_factories

GOLDEN = Path(__file__).parent / "golden"
# A Monday, 09:00 at the Lakeside test clinic (America/Chicago). In the past, so rows
# that take the real time (defaults) are always after it, whenever the test runs.
START = datetime(2026, 11, 16, 15, 0, tzinfo=UTC)


class Clock:
    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def at(self, minutes: float) -> datetime:
        """Set the clock to `minutes` after START and return that moment."""
        self.now = START + timedelta(minutes=minutes)
        return self.now


@pytest.fixture(autouse=True)
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    # Autouse, so it runs before the personas, the patient and the stock are made.
    fixed = Clock(START)
    monkeypatch.setattr(timezone, "now", fixed)
    return fixed


def _check_in(
    patient: Patient,
    prescriber: User,
    director: User,
    room: Room,
    nurse: User,
    max_dose_mg: Decimal = Decimal(100),
) -> InfusionSession:
    treatment_factories.ready_for_treatment(patient, prescriber)
    plan = treatment_factories.make_plan(patient, prescriber, director)
    treatment_factories.sign_order(plan, prescriber, max_dose_mg=max_dose_mg)
    return session_flow.check_in(patient, room=room, by=nurse)


def _checklist(
    session: InfusionSession,
    nurse: User,
    clock: Clock,
    *,
    weight: str,
    unit: str,
    systolic_mmhg: int = 128,
) -> None:
    now = clock.at(3)
    session_flow.save_checklist(
        session,
        by=nurse,
        weight=weight,
        weight_unit=unit,
        height_cm=Decimal(178),
        last_solids_at=now - timedelta(hours=9),
        last_clear_liquids_at=now - timedelta(hours=3),
        escort_name="Sam Demowitz",
        escort_phone="555-0143",
        escort_confirmed=True,
        pregnancy_status=InfusionSession.PregnancyStatus.REPORTED_NOT_PREGNANT,
    )
    record_response(
        session.patient,
        instrument_code="phq9",
        answers=phq9(12),
        source=QuestionnaireResponse.Source.STAFF,
        by=nurse,
        completed_at=clock.at(4),
    )
    monitoring.record_typed_vitals(
        session, factories.NORMAL | {"systolic_mmhg": systolic_mmhg}, by=nurse
    )
    clock.at(6)
    session_flow.confirm_checklist(session, by=nurse)


def _monitor(session: InfusionSession, monitor: Device, **values: int) -> None:
    monitoring.ingest_readings(
        session,
        [factories.reading(timezone.now(), monitor, **values)],
        source=VitalReading.Source.MONITOR,
        by=None,
    )


def _golden(name: str) -> str:
    return (GOLDEN / name).read_text(encoding="utf-8").removesuffix("\n")


def test_the_note_of_a_full_day_reads_as_it_always_has(
    clock: Clock,
    patient: Patient,
    prescriber: User,
    director: User,
    nurse: User,
    custodian: User,
    room: Room,
    monitor: Device,
    vials: list[Container],
) -> None:
    """Pounds, a baseline BP to watch, a capped dose, a second check, an alarm, a pause, a rate change, nausea
    treated from the order, sedation and CADSS-6, an early stop, a recovery not yet ready
    then ready, discharge, witnessed waste and the signature."""
    assert nurse.organization is not None
    second_nurse = make_staff(nurse.organization, "nurse2", Role.NURSE)
    session = _check_in(
        patient, prescriber, director, room, nurse, max_dose_mg=Decimal(50)
    )
    _checklist(session, nurse, clock, weight="250", unit="lb", systolic_mmhg=146)
    clock.at(8)
    dose = dose_draw.calculate_dose(
        session, by=nurse, concentration_mg_per_ml=Decimal(50)
    )
    clock.at(9)
    dose_draw.check_dose(session, by=nurse, checker=confirmed(second_nurse))
    clock.at(10)
    dose_draw.draw(
        session,
        by=nurse,
        container=vials[0],
        volume_ml=dose.drug_volume_ml + Decimal("0.2"),
    )
    clock.at(15)
    session_flow.start(session, by=nurse)
    clock.at(25)
    _monitor(session, monitor, systolic_mmhg=186, diastolic_mmhg=100)
    clock.at(30)
    _monitor(session, monitor, systolic_mmhg=184, diastolic_mmhg=98)
    clock.at(31)
    session_flow.pause(session, by=nurse, reason="BP 184/98: paused per protocol")
    clock.at(32)
    alarm = session.alarms.get()
    monitoring.acknowledge_alarm(alarm, by=nurse, note="Paused; BP rechecked")
    clock.at(33)
    nausea = events.record_adverse_event(
        session,
        by=nurse,
        kind="nausea",
        severity="moderate",
        description="Queasy after the pause",
        intervention="Ondansetron from the order",
    )
    clock.at(34)
    events.give_prn(
        session,
        by=nurse,
        prn_order=session.order.prn_medications.get(drug="Ondansetron"),
        adverse_event=nausea,
        note="Settled within 10 min",
    )
    clock.at(35)
    events.record_sedation(session, by=nurse, score=4)
    clock.at(38)
    _monitor(session, monitor, systolic_mmhg=150, diastolic_mmhg=90)
    clock.at(40)
    session_flow.resume(session, by=nurse, reason="BP 150/90")
    clock.at(41)
    session.refresh_from_db()
    low, _ = session_flow.rate_limits(session) or (Decimal(0), Decimal(0))
    session_flow.change_rate(
        session, by=nurse, rate_ml_per_hour=low, reason="Slower after the BP rise"
    )
    clock.at(45)
    events.record_cadss6(
        session, by=nurse, answers={f"cadss6-{n}": 1 for n in range(1, 7)}
    )
    clock.at(55)
    session_flow.stop(
        session, by=nurse, reason="Patient asked to stop", completed=False
    )
    clock.at(60)
    _monitor(session, monitor, systolic_mmhg=132, diastolic_mmhg=84)
    clock.at(70)
    recovery_discharge.assess_recovery(
        session,
        by=nurse,
        activity=2,
        respiration=2,
        circulation=2,
        consciousness=1,
        spo2=2,
        moaas_score=4,
    )
    clock.at(90)
    recovery_discharge.assess_recovery(
        session,
        by=nurse,
        activity=2,
        respiration=2,
        circulation=2,
        consciousness=2,
        spo2=2,
        moaas_score=5,
    )
    clock.at(92)
    recovery_discharge.discharge(
        session, by=nurse, escort_name="Sam Demowitz", instructions_channel="paper"
    )
    clock.at(95)
    dose_draw.waste(
        session,
        by=nurse,
        volume_ml=dose_draw.ledger_summary(session).outstanding_ml,
        witness=confirmed(custodian),
    )
    clock.at(100)
    note = notes.sign_note(session, by=nurse, password=TEST_PASSWORD)

    assert note.body == _golden("note_full_day.txt")


def test_the_preview_of_a_plain_day_reads_as_it_always_has(
    clock: Clock,
    patient: Patient,
    prescriber: User,
    director: User,
    nurse: User,
    room: Room,
    vials: list[Container],
) -> None:
    """Kilograms, no second check, no alarm or event, completed as ordered; the unsigned
    preview the nurse reads before signing."""
    session = _check_in(patient, prescriber, director, room, nurse)
    _checklist(session, nurse, clock, weight="80", unit="kg")
    clock.at(8)
    dose = dose_draw.calculate_dose(
        session, by=nurse, concentration_mg_per_ml=Decimal(50)
    )
    clock.at(10)
    dose_draw.draw(session, by=nurse, container=vials[0], volume_ml=dose.drug_volume_ml)
    clock.at(15)
    session_flow.start(session, by=nurse)
    clock.at(55)
    session_flow.stop(session, by=nurse, reason="", completed=True)
    clock.at(90)
    recovery_discharge.assess_recovery(
        session,
        by=nurse,
        activity=2,
        respiration=2,
        circulation=2,
        consciousness=2,
        spo2=2,
    )
    clock.at(91)
    recovery_discharge.discharge(
        session, by=nurse, escort_name="Sam Demowitz", instructions_channel="email"
    )
    session = InfusionSession.objects.get(pk=session.pk)

    preview = build_note(session)

    assert preview == _golden("note_plain_preview.txt")

    # The branches a signed day never takes, set on the rows in memory: a booster, a
    # checklist item not met, an alarm nobody acknowledged, no escort on the checklist,
    # no one named as discharging.
    SessionAlarm.objects.create(
        session=session,
        code="spo2_low",
        severity="critical",
        message="SpO2 89% is below 90%",
        action="Stimulate; oxygen",
        source="K17",
        raised_at=clock.at(50),
        reading_taken_at=clock.now,
    )
    session.order.kind = InfusionOrder.Kind.BOOSTER
    session.sequence_number = 3
    session.checklist_confirmed_by = None
    session.discharged_by = None
    session.escort_name, session.escort_phone = "", ""
    session.checklist_snapshot = [
        {
            "key": "escort",
            "label": "Escort confirmed",
            "ok": False,
            "messages": ["Confirm the escort.", "Ask for a phone number."],
            "detail": "",
        },
        {
            "key": "weight",
            "label": "Today's weight",
            "ok": True,
            "messages": [],
            "detail": "",
        },
    ]

    odd = build_note(session)

    assert odd == _golden("note_odd_branches.txt")
