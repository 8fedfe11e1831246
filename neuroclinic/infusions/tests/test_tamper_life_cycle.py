"""The infusion session, its alarms and its questionnaires are append-only by trigger
except for the steps of their life cycle (issue #15 item 1 and its tamper suite).

A day charted through the real actions on a fixed clock (an alarm raised, acknowledged
and cleared, a CADSS-6, the stop, recovery, discharge and the signed note) closes the
session: then the database refuses UPDATE and DELETE of the session, the alarm and the
questionnaire link, and with the triggers off `neuroclinic verify` names each attack.
While a session is open, each step changes only its own columns. SQLite and PostgreSQL.
"""

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.utils import timezone

from conftest import TEST_PASSWORD
from neuroclinic.accounts.models import User
from neuroclinic.audit.seals import verify_seals
from neuroclinic.audit.tests.tamper import (
    assert_attacks_named,
    assert_refused,
    assert_statement_refused,
)
from neuroclinic.clinics.models import Device, Room
from neuroclinic.infusions.actions import (
    dose_draw,
    events,
    monitoring,
    notes,
    recovery_discharge,
    session_flow,
)
from neuroclinic.infusions.models import (
    InfusionSession,
    SessionAlarm,
    SessionQuestionnaire,
)
from neuroclinic.infusions.tests.test_note import (
    START,
    Clock,
    _check_in,
    _checklist,
    _monitor,
)
from neuroclinic.ledger.models import Container
from neuroclinic.patients.models import Patient

pytestmark = pytest.mark.django_db

SESSION = "infusions_infusionsession"


@pytest.fixture(autouse=True)
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fixed = Clock(START)
    monkeypatch.setattr(timezone, "now", fixed)
    return fixed


@pytest.fixture
def closed(
    clock: Clock,
    patient: Patient,
    prescriber: User,
    director: User,
    nurse: User,
    room: Room,
    monitor: Device,
    vials: list[Container],
) -> InfusionSession:
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
    clock.at(25)
    _monitor(session, monitor, systolic_mmhg=186, diastolic_mmhg=100)
    clock.at(30)
    _monitor(session, monitor, systolic_mmhg=184, diastolic_mmhg=98)
    clock.at(32)
    monitoring.acknowledge_alarm(session.alarms.get(), by=nurse, note="Rechecked")
    clock.at(38)
    _monitor(session, monitor, systolic_mmhg=130, diastolic_mmhg=80)
    clock.at(45)
    events.record_cadss6(
        session, by=nurse, answers={f"cadss6-{n}": 1 for n in range(1, 7)}
    )
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
        session, by=nurse, escort_name="Sam Demowitz", instructions_channel="paper"
    )
    clock.at(100)
    notes.sign_note(session, by=nurse, password=TEST_PASSWORD)
    session.refresh_from_db()
    assert session.status == InfusionSession.Status.CLOSED
    return session


def test_a_closed_day_refuses_every_change_and_each_attack_is_named(
    closed: InfusionSession,
) -> None:
    alarm = SessionAlarm.objects.get(session=closed)
    assert alarm.cleared_at is not None
    assert alarm.acknowledged_at is not None
    link = SessionQuestionnaire.objects.get(session=closed)
    assert verify_seals() == []
    call_command("verify", stdout=_Quiet())
    for model, pk in (
        (InfusionSession, closed.pk),
        (SessionAlarm, alarm.pk),
        (SessionQuestionnaire, link.pk),
    ):
        assert_refused(model, pk)
        made = assert_attacks_named(model, pk)
        assert {"edit", "delete", "insert"} <= set(made), model
    for statement in (
        f"UPDATE {SESSION} SET mg_given = mg_given + 1 WHERE id = %s",
        f"UPDATE {SESSION} SET status = 'discharged' WHERE id = %s",
        f"UPDATE {SESSION} SET closed_at = NULL WHERE id = %s",
        "UPDATE infusions_sessionalarm SET acknowledgment_note = 'Later' WHERE id = %s",
        "UPDATE infusions_sessionalarm SET cleared_at = NULL WHERE id = %s",
    ):
        pk = closed.pk if SESSION in statement else alarm.pk
        assert_statement_refused(statement, [pk])
    assert verify_seals() == []


def _allowed(statement: str, params: list[Any]) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement, params)


def test_a_checked_in_session_changes_its_checklist_and_then_starts_or_is_cancelled(
    session: InfusionSession,
) -> None:
    for statement in (
        f"UPDATE {SESSION} SET patient_id = patient_id + 1 WHERE id = %s",
        f"UPDATE {SESSION} SET sequence_number = 7 WHERE id = %s",
        f"UPDATE {SESSION} SET started_at = checked_in_at WHERE id = %s",
        # Skipping the infusion: checked in straight to recovery or closed.
        f"UPDATE {SESSION} SET status = 'recovery' WHERE id = %s",
        f"UPDATE {SESSION} SET status = 'closed' WHERE id = %s",
        f"UPDATE {SESSION} SET status = 'cancelled', mg_given = 5 WHERE id = %s",
        f"DELETE FROM {SESSION} WHERE id = %s",
    ):
        assert_statement_refused(statement, [session.pk])
    _allowed(
        f"UPDATE {SESSION} SET escort_name = 'Sam', escort_confirmed = %s WHERE id = %s",
        [True, session.pk],
    )
    _allowed(
        f"UPDATE {SESSION} SET status = 'cancelled', cancelled_at = checked_in_at, "
        "cancel_reason = 'Unwell' WHERE id = %s",
        [session.pk],
    )
    # Cancelled: nothing changes any more.
    assert_statement_refused(
        f"UPDATE {SESSION} SET cancel_reason = 'Rewritten' WHERE id = %s", [session.pk]
    )


def test_an_infusing_session_changes_its_rate_and_pauses_until_it_stops(
    running: InfusionSession,
) -> None:
    for statement in (
        f"UPDATE {SESSION} SET weight_kg = weight_kg + 10 WHERE id = %s",
        f"UPDATE {SESSION} SET started_at = NULL WHERE id = %s",
        f"UPDATE {SESSION} SET checklist_snapshot = '[]' WHERE id = %s",
        f"UPDATE {SESSION} SET status = 'discharged' WHERE id = %s",
    ):
        assert_statement_refused(statement, [running.pk])
    _allowed(
        f"UPDATE {SESSION} SET status = 'paused', rate_ml_per_hour = 10 WHERE id = %s",
        [running.pk],
    )
    _allowed(
        f"UPDATE {SESSION} SET status = 'recovery', ended_at = %s, mg_given = 30 "
        "WHERE id = %s",
        [timezone.now() + timedelta(minutes=40), running.pk],
    )
    # In recovery the infusion's record is fixed: only the discharge may be written.
    for statement in (
        f"UPDATE {SESSION} SET mg_given = 31 WHERE id = %s",
        f"UPDATE {SESSION} SET ended_at = started_at WHERE id = %s",
        f"UPDATE {SESSION} SET status = 'running' WHERE id = %s",
    ):
        assert_statement_refused(statement, [running.pk])


class _Quiet:
    def write(self, text: str) -> int:
        return len(text)

    def flush(self) -> None:
        pass
