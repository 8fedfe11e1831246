"""TMS records are append-only and tamper-evident (issue #15 item 1, and its tamper suite).

A charted course touches every TMS table: two screens and a decision, two thresholds,
the course order, three sessions (one with intensity changes, side effects, an
interruption and addenda; one stopped by a seizure with its review; one ended
early). The database refuses UPDATE and DELETE of each record; with the triggers
switched off, as the table's owner could, `neuroclinic verify` names each edited,
deleted, inserted or reordered record. Runs on SQLite and PostgreSQL.
"""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import connection

from conftest import TEST_PASSWORD
from neuroclinic.accounts.models import User
from neuroclinic.audit.seals import SEALED_MODELS, verify_seals
from neuroclinic.audit.tests.tamper import (
    assert_attacks_named,
    assert_refused,
    assert_statement_refused,
)
from neuroclinic.patients.models import Patient
from neuroclinic.tms.actions import adverse, missed, seizures, sessions
from neuroclinic.tms.actions import screening as screening_actions
from neuroclinic.tms.models import MissedSession, TmsCourse, TmsSession
from neuroclinic.tms.tests import factories
from neuroclinic.tms.tests.factories import NO_FINDINGS

pytestmark = pytest.mark.django_db

DAY1 = datetime(2026, 1, 5, 15, tzinfo=UTC)
TMS_MODELS = [label for label in SEALED_MODELS if label.startswith("tms.")]


@pytest.fixture
def charted(patient: Patient, tms: User, prescriber: User) -> TmsCourse:
    for answers in ({**NO_FINDINGS, "epilepsy": True}, NO_FINDINGS):
        screen = screening_actions.record_screen(patient, answers=answers, by=tms)
        if screen.outcome != "clear":
            screening_actions.decide_screen(
                screen, cleared=True, rationale="Febrile seizure only.", by=prescriber
            )
    factories.threshold(patient, tms, prescriber, now=DAY1 - timedelta(days=2))
    factories.threshold(patient, tms, prescriber, now=DAY1 - timedelta(hours=1))
    course = factories.course(patient, prescriber)

    first = factories.start(course, tms, prescriber, now=DAY1)
    for percent in (Decimal(100), Decimal(110)):
        sessions.change_intensity(
            first, percent_of_mt=percent, reason="Ramp-up", by=tms, now=DAY1
        )
    for kind in ("scalp_pain", "headache"):
        sessions.record_side_effect(first, kind=kind, severity="mild", by=tms, now=DAY1)
    sessions.end_session(
        first,
        pulses_delivered=1200,
        interruption_reason="discomfort",
        by=tms,
        now=DAY1 + timedelta(minutes=30),
    )
    for text in ("Tolerated the ramp-up.", "Called the next day: no headache."):
        sessions.add_addendum(first, text=text, by=tms)

    second = factories.start(course, tms, prescriber, now=DAY1 + timedelta(days=1))
    seizure = seizures.record_seizure(second, by=tms)
    seizures.review_seizure(
        seizure, decision="resume", note="EEG normal.", by=prescriber
    )
    # The seizure filed its adverse-event report; a second report, filed by hand, and
    # the physician's signed review of the first (tms10f).
    adverse.record_adverse_event(
        course,
        kind="syncope",
        severity="moderate",
        onset_at=datetime.now(UTC) - timedelta(minutes=5),
        action_taken="none",
        outcome="recovered",
        by=tms,
    )
    adverse.review_adverse_event(
        seizure.adverse_event,
        causality="related",
        outcome="recovered",
        note="Single seizure; EEG normal.",
        password=TEST_PASSWORD,
        by=prescriber,
    )

    third = factories.start(course, tms, prescriber, now=DAY1 + timedelta(days=2))
    sessions.end_session(
        third,
        pulses_delivered=600,
        interruption_reason="patient_request",
        by=tms,
        now=DAY1 + timedelta(days=2, minutes=20),
    )
    for day, make_up in ((3, True), (4, False)):  # Thursday and Friday missed
        missed.record_missed_session(
            course,
            planned_on=(DAY1 + timedelta(days=day)).date(),
            reason=MissedSession.Reason.ILLNESS,
            make_up=make_up,
            by=tms,
        )
    return course


def test_every_tms_record_refuses_update_and_delete_and_each_attack_is_named(
    charted: TmsCourse,
) -> None:
    assert verify_seals() == []
    call_command("verify", stdout=_Quiet())
    reordered = []
    for label in TMS_MODELS:
        model = apps.get_model(label)
        pks = list(model._base_manager.order_by("pk").values_list("pk", flat=True))
        assert pks, f"the charted course has no {label}"
        assert_refused(model, pks[-1])
        made = assert_attacks_named(model, pks[-1], pks[0] if len(pks) > 1 else None)
        assert {"edit", "delete", "insert"} <= set(made), label
        if "reorder" in made:
            reordered.append(label)
    # Tables with one row in this course (the decision, the order, the seizure and its
    # review) have nothing to swap with.
    assert set(TMS_MODELS) - set(reordered) == {
        "tms.screendecision",
        "tms.tmscourse",
        "tms.seizureevent",
        "tms.seizurereview",
        "tms.adverseeventreview",
    }
    assert verify_seals() == []  # every attack was rolled back


def test_an_open_session_changes_only_what_the_session_records(
    open_session: TmsSession,
) -> None:
    """While a session runs its intensity, pulses, status, end and note may change;
    who, which course, which number and the plan never do, and once it ends nothing does."""
    table = "tms_tmssession"
    allowed = "UPDATE tms_tmssession SET note = 'Comfortable.', output_percent = 50 WHERE id = %s"
    with connection.cursor() as cursor:
        cursor.execute(allowed, [open_session.pk])
    for column, value in (
        ("number", "7"),
        ("patient_id", "patient_id + 1"),
        ("pulses_planned", "pulses_planned + 1"),
        ("cpt_code", "'90869'"),
    ):
        assert_statement_refused(
            f"UPDATE {table} SET {column} = {value} WHERE id = %s", [open_session.pk]
        )
    assert_statement_refused(f"DELETE FROM {table} WHERE id = %s", [open_session.pk])


def test_an_ended_session_changes_no_more(open_session: TmsSession, tms: User) -> None:
    sessions.end_session(open_session, pulses_delivered=3000, by=tms)
    assert_statement_refused(
        "UPDATE tms_tmssession SET note = 'Rewritten.' WHERE id = %s", [open_session.pk]
    )
    open_session.refresh_from_db()
    assert open_session.note == ""


class _Quiet:
    def write(self, text: str) -> int:
        return len(text)

    def flush(self) -> None:
        pass
