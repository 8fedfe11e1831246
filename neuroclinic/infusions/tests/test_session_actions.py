"""The infusion day through its actions: check-in, every hard stop, dose and draw, the pump,
events, recovery, discharge, waste and the signed note."""

from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from conftest import TEST_PASSWORD
from neuroclinic.accounts.models import User
from neuroclinic.audit.models import AuditEvent
from neuroclinic.audit.tests.helpers import unguarded_update
from neuroclinic.clinics.models import Device, Room
from neuroclinic.infusions.actions import (
    dose_draw,
    events,
    monitoring,
    notes,
    recovery_discharge,
    session_flow,
)
from neuroclinic.infusions.errors import InfusionError
from neuroclinic.infusions.models import (
    InfusionNote,
    InfusionSession,
    PrnGiven,
    SessionEvent,
    VitalReading,
)
from neuroclinic.infusions.readiness import hard_stops, session_checklist
from neuroclinic.infusions.tests import factories
from neuroclinic.intake.models import ConsentDocument, EligibilityDecision
from neuroclinic.ledger.actions import sessions as ledger
from neuroclinic.ledger.models import Container, LedgerEntry
from neuroclinic.ledger.tests.factories import confirmed
from neuroclinic.measures.models import DueMeasure
from neuroclinic.patients.models import Patient
from neuroclinic.treatment.actions.orders import discontinue_order
from neuroclinic.treatment.models import InfusionOrder, Protocol, TreatmentPlan
from neuroclinic.treatment.tests import factories as treatment_factories


def stops(session: InfusionSession) -> list[str]:
    session.refresh_from_db()
    return hard_stops(session_checklist(session))


def test_check_in_opens_infusion_1_of_6_and_schedules_the_pre_infusion_phq9(
    session: InfusionSession, nurse: User
) -> None:
    assert session.progress == "1 of 6"
    assert session.status == InfusionSession.Status.CHECKED_IN
    assert session.escort_name == ""  # the test patient has no escort on file
    assert DueMeasure.objects.filter(
        patient=session.patient,
        trigger="before_infusion",
        event_ref=f"infusion:{session.uuid}",
    ).exists()
    assert (
        AuditEvent.objects.filter(
            action=AuditEvent.Action.INFUSION_CHECKED_IN, patient=session.patient
        ).count()
        == 1
    )


def test_check_in_needs_a_plan_with_a_signed_order(
    patient: Patient, room: Room, nurse: User
) -> None:
    with pytest.raises(InfusionError, match="no active treatment plan"):
        session_flow.check_in(patient, room=room, by=nurse)
    assert not InfusionSession.objects.exists()


def test_one_patient_per_room(
    session: InfusionSession,
    room: Room,
    nurse: User,
    front_desk: User,
    prescriber: User,
    director: User,
) -> None:
    other = Patient.objects.create(
        organization_id=session.organization_id,
        mrn="LK-9",
        family_name="Fauxley",
        given_name="Gray",
        birth_date=session.patient.birth_date,
        sex_at_birth="male",
    )
    treatment_factories.ready_for_treatment(other, prescriber)
    plan = treatment_factories.make_plan(other, prescriber, director)
    treatment_factories.sign_order(plan, prescriber)
    with pytest.raises(InfusionError, match="already has a patient"):
        session_flow.check_in(other, room=room, by=nurse)


def test_a_complete_checklist_has_no_hard_stop(ready: InfusionSession) -> None:
    items = session_checklist(ready)
    assert [i.key for i in items if not i.ok] == []
    assert ready.checklist_confirmed_at is not None


# --- every hard stop --------------------------------------------------------------------


def _discontinue(s: InfusionSession, u: dict[str, User]) -> None:
    discontinue_order(s.order, by=u["prescriber"], reason="Paused")


def _new_consent_version(s: InfusionSession, u: dict[str, User]) -> None:
    ConsentDocument.objects.create(
        organization_id=s.organization_id,
        kind=ConsentDocument.Kind.KETAMINE,
        version=2,
        title="Ketamine v2",
        body="New text.",
    )


def _not_eligible(s: InfusionSession, u: dict[str, User]) -> None:
    EligibilityDecision.objects.create(
        organization_id=s.organization_id,
        patient=s.patient,
        outcome=EligibilityDecision.Outcome.NOT_ELIGIBLE,
        rules_version="defaults-1",
        patient_message="-",
        decided_by=u["prescriber"],
    )


def _safety_alert(s: InfusionSession, u: dict[str, User]) -> None:
    factories.phq9_today(s, u["nurse"], item9=1)


def _ate_an_hour_ago(s: InfusionSession, u: dict[str, User]) -> None:
    unguarded_update(
        InfusionSession.objects.filter(pk=s.pk),
        last_solids_at=timezone.now() - timedelta(hours=1),
    )


def _escort_unconfirmed(s: InfusionSession, u: dict[str, User]) -> None:
    unguarded_update(InfusionSession.objects.filter(pk=s.pk), escort_confirmed=False)


def _pregnancy_unrecorded(s: InfusionSession, u: dict[str, User]) -> None:
    unguarded_update(InfusionSession.objects.filter(pk=s.pk), pregnancy_status="")


def _pregnant(s: InfusionSession, u: dict[str, User]) -> None:
    unguarded_update(
        InfusionSession.objects.filter(pk=s.pk), pregnancy_status="pregnant"
    )


def _no_phq9_today(s: InfusionSession, u: dict[str, User]) -> None:
    """fill_checklist skips the PHQ-9 for this case (responses are append-only)."""


def _high_baseline(s: InfusionSession, u: dict[str, User]) -> None:
    unguarded_update(s.vitals, systolic_mmhg=192, diastolic_mmhg=104)


def _low_spo2_baseline(s: InfusionSession, u: dict[str, User]) -> None:
    unguarded_update(s.vitals, spo2_percent=89)


def _weight_from_yesterday(s: InfusionSession, u: dict[str, User]) -> None:
    unguarded_update(
        InfusionSession.objects.filter(pk=s.pk),
        weight_recorded_at=timezone.now() - timedelta(days=1),
    )


def _infused_today_already(s: InfusionSession, u: dict[str, User]) -> None:
    unguarded_update(
        TreatmentPlan.objects.filter(pk=s.plan_id),
        induction_dates=[s.service_date.isoformat()],
    )


HARD_STOPS: list[tuple[Callable[[InfusionSession, dict[str, User]], None], str]] = [
    (_discontinue, "Signed active order: The order is discontinued"),
    (_infused_today_already, "Signed active order: The last infusion was on"),
    (_new_consent_version, "Consent current: Consent missing or outdated"),
    (_not_eligible, "Eligibility decision: The eligibility decision is: not eligible"),
    (_safety_alert, "No unresolved safety alert: Unresolved safety alert"),
    (_ate_an_hour_ago, "Nothing by mouth per policy: Last solid food 1 h 00 min ago"),
    (_escort_unconfirmed, "Escort confirmed: Confirm the adult escort"),
    (_pregnancy_unrecorded, "Pregnancy status: Record pregnancy status"),
    (_pregnant, "Pregnancy status: Pregnant or possibly pregnant"),
    (
        _no_phq9_today,
        "Today's pre-infusion PHQ-9: The patient has not completed today's PHQ-9",
    ),
    (
        _high_baseline,
        "Baseline vital signs inside the limits: Baseline BP 192/104 is above 180/100",
    ),
    (
        _low_spo2_baseline,
        "Baseline vital signs inside the limits: Baseline: SpO2 89% is below 92%",
    ),
    (_weight_from_yesterday, "Today's weight: The weight is not from today"),
]


@pytest.mark.parametrize(
    ("breach", "expected"), HARD_STOPS, ids=[b.__name__ for b, _ in HARD_STOPS]
)
def test_every_hard_stop_blocks_the_checklist_and_the_start(
    breach: Callable[[InfusionSession, dict[str, User]], None],
    expected: str,
    session: InfusionSession,
    nurse: User,
    prescriber: User,
    vials: list[Container],
) -> None:
    factories.fill_checklist(session, nurse, phq9=breach is not _no_phq9_today)
    if breach is not _no_phq9_today:
        assert stops(session) == []
    breach(session, {"nurse": nurse, "prescriber": prescriber})

    found = stops(session)
    assert any(s.startswith(expected) for s in found), found
    with pytest.raises(InfusionError) as refused:
        session_flow.confirm_checklist(session, by=nurse)
    assert expected in refused.value.message
    session.refresh_from_db()
    assert session.checklist_confirmed_at is None


def test_a_hard_stop_that_appears_after_the_checklist_still_stops_the_start(
    dosed: InfusionSession, nurse: User
) -> None:
    factories.phq9_today(
        dosed, nurse, item9=2
    )  # a safety alert raised after confirming

    with pytest.raises(InfusionError, match="Not started: No unresolved safety alert"):
        session_flow.start(dosed, by=nurse)
    dosed.refresh_from_db()
    assert dosed.status == InfusionSession.Status.CHECKED_IN
    assert dosed.started_at is None
    assert not AuditEvent.objects.filter(
        action=AuditEvent.Action.INFUSION_STARTED
    ).exists()


# --- weight and dose ---------------------------------------------------------------------


def test_a_7000_kg_patient_is_refused_as_a_unit_error(
    session: InfusionSession, nurse: User
) -> None:
    with pytest.raises(InfusionError) as refused:
        session_flow.save_checklist(session, by=nurse, weight="7000", weight_unit="kg")
    assert (
        "outside the plausible adult range 30-300 kg"
        in refused.value.errors["weight"][0]
    )
    session.refresh_from_db()
    assert session.weight_kg is None


def test_a_weight_in_pounds_is_converted(session: InfusionSession, nurse: User) -> None:
    session_flow.save_checklist(session, by=nurse, weight="176", weight_unit="lb")
    session.refresh_from_db()
    assert session.weight_kg == Decimal("79.8")
    assert session.weight_entered == "176 lb"


def test_the_dose_comes_from_the_order_and_todays_weight(
    ready: InfusionSession, nurse: User
) -> None:
    dose = dose_draw.calculate_dose(
        ready, by=nurse, concentration_mg_per_ml=Decimal(50)
    )
    assert (
        dose.dose_mg,
        dose.drug_volume_ml,
        dose.total_volume_ml,
        dose.rate_ml_per_hour,
    ) == (
        Decimal("40.0"),
        Decimal("0.80"),
        Decimal("100.80"),
        Decimal("151.2"),
    )
    assert dose.working
    assert not dose.capped


def test_the_orders_absolute_cap_limits_the_dose_and_says_so(
    session: InfusionSession, nurse: User
) -> None:
    factories.fill_checklist(session, nurse, weight="250")
    session_flow.confirm_checklist(session, by=nurse)
    dose = dose_draw.calculate_dose(
        session, by=nurse, concentration_mg_per_ml=Decimal(50)
    )
    assert (dose.dose_mg, dose.capped, dose.cap_reason) == (
        Decimal("100.0"),
        True,
        "max_dose_mg",
    )
    assert any("capped at 100" in w for w in dose.warnings)


def test_the_dose_waits_for_the_checklist(
    session: InfusionSession, nurse: User
) -> None:
    with pytest.raises(InfusionError, match="Confirm the checklist"):
        dose_draw.calculate_dose(session, by=nurse, concentration_mg_per_ml=Decimal(50))


def test_a_second_nurse_check_when_the_protocol_asks(
    ready: InfusionSession,
    nurse: User,
    prescriber: User,
    custodian: User,
    vials: list[Container],
) -> None:
    protocol = ready.order.protocol
    # The director signs a version that asks for it (here written straight in).
    unguarded_update(
        Protocol.objects.filter(pk=protocol.pk), second_check_required=True
    )
    protocol.second_check_required = True
    dose_draw.calculate_dose(ready, by=nurse, concentration_mg_per_ml=Decimal(50))
    with pytest.raises(InfusionError, match="second nurse"):
        dose_draw.draw(ready, by=nurse, container=vials[0], volume_ml=Decimal("1.0"))
    with pytest.raises(InfusionError, match="does not run infusions"):
        dose_draw.check_dose(ready, by=nurse, checker=confirmed(custodian))
    with pytest.raises(InfusionError, match="someone other"):
        dose_draw.check_dose(ready, by=nurse, checker=confirmed(nurse))
    dose = dose_draw.check_dose(ready, by=nurse, checker=confirmed(prescriber))
    assert dose.checked_by == prescriber
    dose_draw.draw(ready, by=nurse, container=vials[0], volume_ml=Decimal("1.0"))


def test_the_draw_goes_to_the_ledger_under_the_session(
    dosed: InfusionSession, vials: list[Container]
) -> None:
    summary = ledger.session_summary(dosed.uuid, organization_id=dosed.organization_id)
    assert summary.drawn_ml == Decimal("1.00")
    assert summary.entries[0].patient == dosed.patient
    vials[0].refresh_from_db()
    assert vials[0].balance_ml == Decimal("9.00")


def test_the_draw_refuses_a_vial_of_another_strength(
    ready: InfusionSession, nurse: User, custodian: User, vials: list[Container]
) -> None:
    dose_draw.calculate_dose(ready, by=nurse, concentration_mg_per_ml=Decimal(10))
    with pytest.raises(InfusionError) as refused:
        dose_draw.draw(ready, by=nurse, container=vials[0], volume_ml=Decimal("4.0"))
    assert refused.value.field == "container"
    assert not LedgerEntry.objects.filter(kind=LedgerEntry.Kind.DRAW).exists()


def test_the_start_waits_for_enough_drawn(
    ready: InfusionSession, nurse: User, vials: list[Container]
) -> None:
    dose_draw.calculate_dose(ready, by=nurse, concentration_mg_per_ml=Decimal(50))
    dose_draw.draw(ready, by=nurse, container=vials[0], volume_ml=Decimal("0.5"))
    with pytest.raises(InfusionError, match=r"Draw 0.80 mL"):
        session_flow.start(ready, by=nurse)


# --- the pump ----------------------------------------------------------------------------


def test_pause_resume_and_rate_changes_within_the_titration(
    running: InfusionSession, nurse: User
) -> None:
    with pytest.raises(InfusionError, match="why"):
        session_flow.pause(running, by=nurse, reason="")
    session_flow.pause(running, by=nurse, reason="Nausea")
    session_flow.resume(running, by=nurse)
    with pytest.raises(InfusionError, match=r"37.8-151.2 mL/h"):
        session_flow.change_rate(
            running, by=nurse, rate_ml_per_hour=Decimal(200), reason="Catch up"
        )
    session_flow.change_rate(
        running, by=nurse, rate_ml_per_hour=Decimal("100.0"), reason="BP rising"
    )
    running.refresh_from_db()
    assert running.rate_ml_per_hour == Decimal("100.0")
    kinds = list(running.events.values_list("kind", flat=True))
    assert kinds[-4:] == ["started", "paused", "resumed", "rate_changed"]


def test_a_replayed_tablet_action_is_recorded_once(
    running: InfusionSession, nurse: User
) -> None:
    key = __import__("uuid").uuid4()
    session_flow.pause(running, by=nurse, reason="Anxiety", client_key=key)
    session_flow.pause(running, by=nurse, reason="Anxiety", client_key=key)
    assert running.events.filter(kind=SessionEvent.Kind.PAUSED).count() == 1


def test_an_early_stop_gives_mg_per_kg_actually_delivered(
    running: InfusionSession, nurse: User
) -> None:
    session_flow.stop(
        running,
        by=nurse,
        reason="Patient asked to stop (anxiety)",
        completed=False,
        volume_infused_ml=Decimal("50.40"),
    )
    running.refresh_from_db()
    assert running.status == InfusionSession.Status.RECOVERY
    assert running.stopped_early
    assert (running.mg_given, running.mg_per_kg_given) == (
        Decimal("20.00"),
        Decimal("0.250"),
    )
    summary = ledger.session_summary(
        running.uuid, organization_id=running.organization_id
    )
    assert summary.administered_ml == Decimal("0.40")
    assert DueMeasure.objects.filter(
        patient=running.patient,
        trigger="after_infusion",
        event_ref=f"infusion:{running.uuid}",
    ).exists()
    plan = TreatmentPlan.objects.get(pk=running.plan_id)
    assert plan.induction_dates == [running.service_date.isoformat()]


def test_an_early_stop_needs_a_reason(running: InfusionSession, nurse: User) -> None:
    with pytest.raises(InfusionError, match="why"):
        session_flow.stop(running, by=nurse, reason="", completed=False)


# --- events ------------------------------------------------------------------------------


def test_nausea_treated_with_ondansetron_from_the_order(
    running: InfusionSession, nurse: User
) -> None:
    event = events.record_adverse_event(
        running,
        by=nurse,
        kind="nausea",
        severity="moderate",
        intervention="Paused 5 min",
    )
    ondansetron = running.order.prn_medications.get(drug="Ondansetron")
    with pytest.raises(InfusionError, match="at most"):
        events.give_prn(running, by=nurse, prn_order=ondansetron, dose=Decimal(8))
    with pytest.raises(InfusionError, match="Intravenous"):
        events.give_prn(running, by=nurse, prn_order=ondansetron, route="PO")
    given = events.give_prn(
        running, by=nurse, prn_order=ondansetron, adverse_event=event
    )
    assert (given.drug, given.dose, given.route, given.given_by) == (
        "Ondansetron",
        Decimal(4),
        "IV",
        nurse,
    )
    with pytest.raises(InfusionError, match="1 time"):
        events.give_prn(running, by=nurse, prn_order=ondansetron)
    assert PrnGiven.objects.count() == 1


def test_sedation_and_cadss6_are_charted(running: InfusionSession, nurse: User) -> None:
    events.record_sedation(running, by=nurse, score=4)
    with pytest.raises(InfusionError, match="0-5"):
        events.record_sedation(running, by=nurse, score=6)
    link = events.record_cadss6(
        running, by=nurse, answers={f"cadss6-{n}": 1 for n in range(1, 7)}
    )
    assert link.response.total == 6
    assert link.phase == "infusion"
    with pytest.raises(InfusionError):
        events.record_cadss6(running, by=nurse, answers={"cadss6-1": 9})


# --- recovery, discharge, waste, note ----------------------------------------------------


def _ended_minutes_ago(session: InfusionSession, minutes: int) -> None:
    ended = timezone.now() - timedelta(minutes=minutes)
    unguarded_update(InfusionSession.objects.filter(pk=session.pk), ended_at=ended)
    session.refresh_from_db()


def test_the_whole_day_ends_in_a_signed_note(
    running: InfusionSession, nurse: User, prescriber: User, custodian: User
) -> None:
    factories.ran_for(running, 40)
    session_flow.stop(
        running,
        by=nurse,
        reason="",
        completed=True,
        volume_infused_ml=Decimal("100.80"),
    )
    running.refresh_from_db()
    assert (running.mg_given, running.mg_per_kg_given) == (
        Decimal("40.00"),
        Decimal("0.500"),
    )

    recovery_discharge.assess_recovery(
        running,
        by=nurse,
        activity=2,
        respiration=2,
        circulation=2,
        consciousness=2,
        spo2=2,
        moaas_score=5,
    )
    with pytest.raises(InfusionError, match="of the required 30 minutes"):
        recovery_discharge.discharge(
            running, by=nurse, escort_name="Sam Testova", instructions_channel="paper"
        )

    _ended_minutes_ago(running, 35)
    with pytest.raises(InfusionError, match="Name the adult"):
        recovery_discharge.discharge(
            running, by=nurse, escort_name=" ", instructions_channel="paper"
        )
    recovery_discharge.discharge(
        running, by=nurse, escort_name="Sam Testova", instructions_channel="paper"
    )

    with pytest.raises(InfusionError, match=r"0.20 mL is not accounted for"):
        notes.sign_note(running, by=nurse, password=TEST_PASSWORD)
    with pytest.raises(InfusionError, match="someone other"):
        dose_draw.waste(
            running, by=nurse, volume_ml=Decimal("0.20"), witness=confirmed(nurse)
        )
    dose_draw.waste(
        running, by=nurse, volume_ml=Decimal("0.20"), witness=confirmed(custodian)
    )

    with pytest.raises(InfusionError, match="password"):
        notes.sign_note(running, by=nurse, password="nope")
    note = notes.sign_note(running, by=nurse, password=TEST_PASSWORD)
    running.refresh_from_db()
    assert running.status == InfusionSession.Status.CLOSED
    assert "ketamine given 40 mg = 0.5 mg/kg" in note.body
    assert "Remainder wasted (witnessed): 0.20 mL, witnessed by custodian" in note.body
    assert "modified Aldrete 10/10" in note.body
    assert ledger.check_session_reconciled(
        running.uuid, organization_id=running.organization_id
    ).reconciled

    with pytest.raises(InfusionError, match="Only a prescriber"):
        notes.cosign_note(note, by=nurse, password=TEST_PASSWORD)
    notes.cosign_note(note, by=prescriber, password=TEST_PASSWORD)
    notes.add_addendum(note, by=nurse, text="Escort confirmed arrival home by phone.")
    note = InfusionNote.objects.get(pk=note.pk)
    assert note.cosigned_by == prescriber
    assert note.addenda.count() == 1
    # Issue 15 item 1: the database itself refuses a raw edit of the signed words, of the
    # co-signature once given, and of the calculated dose; nothing is deleted.
    dose = running.doses.order_by("-pk")[0]
    for statement, row in [
        ("UPDATE infusions_infusionnote SET body = body || 'X' WHERE id = %s", note),
        ("UPDATE infusions_infusionnote SET cosigned_at = NULL WHERE id = %s", note),
        ("DELETE FROM infusions_infusionnote WHERE id = %s", note),
        ("UPDATE infusions_doserecord SET dose_mg = dose_mg + 1 WHERE id = %s", dose),
        ("DELETE FROM infusions_doserecord WHERE id = %s", dose),
    ]:
        with (
            pytest.raises(DatabaseError),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(statement, [row.pk])
    actions_seen = set(
        AuditEvent.objects.filter(patient=running.patient).values_list(
            "action", flat=True
        )
    )
    assert {
        "infusions.started",
        "infusions.stopped",
        "infusions.discharged",
        "infusions.wasted",
        "infusions.note_signed",
        "infusions.note_cosigned",
        "ledger.administered",
        "ledger.wasted",
    } <= actions_seen


def test_an_unacknowledged_alarm_holds_the_discharge(
    running: InfusionSession, nurse: User, monitor: Device
) -> None:
    now = timezone.now()
    unguarded_update(
        running.vitals, taken_at=now - timedelta(minutes=20)
    )  # the baseline, earlier
    monitoring.ingest_readings(
        running,
        [
            factories.reading(
                now - timedelta(minutes=6),
                monitor,
                systolic_mmhg=186,
                diastolic_mmhg=100,
            ),
            factories.reading(
                now - timedelta(minutes=1),
                monitor,
                systolic_mmhg=184,
                diastolic_mmhg=98,
            ),
        ],
        source=VitalReading.Source.MONITOR,
        by=nurse,
    )
    alarm = running.alarms.get()
    assert alarm.code == "bp_high"
    assert alarm.needs_acknowledgment
    factories.ran_for(running, 40)
    session_flow.stop(running, by=nurse, reason="", completed=True)
    _ended_minutes_ago(running, 40)
    recovery_discharge.assess_recovery(
        running,
        by=nurse,
        activity=2,
        respiration=2,
        circulation=2,
        consciousness=2,
        spo2=2,
    )
    with pytest.raises(InfusionError, match="Acknowledge every alarm"):
        recovery_discharge.discharge(
            running, by=nurse, escort_name="Sam", instructions_channel="paper"
        )
    monitoring.acknowledge_alarm(alarm, by=nurse, note="Slowed the pump; BP settling")
    recovery_discharge.discharge(
        running, by=nurse, escort_name="Sam", instructions_channel="paper"
    )


def test_the_sixth_infusion_completes_the_series_and_schedules_weekly_phq9(
    running: InfusionSession, nurse: User
) -> None:
    earlier = running.service_date - timedelta(days=12)
    unguarded_update(
        TreatmentPlan.objects.filter(pk=running.plan_id),
        induction_dates=[
            (earlier + timedelta(days=2 * n)).isoformat() for n in range(5)
        ],
    )
    factories.ran_for(running, 40)
    session_flow.stop(
        running,
        by=nurse,
        reason="",
        completed=True,
        volume_infused_ml=Decimal("100.80"),
    )
    plan = TreatmentPlan.objects.get(pk=running.plan_id)
    assert len(plan.induction_dates) == 6
    assert plan.induction_completed_at is not None
    assert (
        InfusionOrder.objects.get(pk=running.order_id).status
        == InfusionOrder.Status.COMPLETED
    )
    assert (
        DueMeasure.objects.filter(
            patient=running.patient, trigger="after_induction_weekly"
        ).count()
        == 8
    )


def test_cancel_before_the_start_needs_the_draw_wasted(
    dosed: InfusionSession, nurse: User, custodian: User
) -> None:
    with pytest.raises(InfusionError, match="not accounted for"):
        session_flow.cancel(dosed, by=nurse, reason="Patient unwell")
    dose_draw.waste(
        dosed,
        by=nurse,
        volume_ml=Decimal("1.00"),
        witness=confirmed(custodian),
        reason="Cancelled",
    )
    session_flow.cancel(dosed, by=nurse, reason="Patient unwell")
    dosed.refresh_from_db()
    assert dosed.status == InfusionSession.Status.CANCELLED
