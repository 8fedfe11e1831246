"""Safety alerts are append-only by trigger except for the steps of their life cycle
(issue #15 item 1 and its tamper suite): escalated once while nobody has acknowledged
it, acknowledged once with the assessment, linked once to the response that raised it.

Two alerts raised by PHQ-9 item 9 answers, one escalated and both acknowledged through
the actions: the database refuses UPDATE and DELETE of each, and with the triggers off
`neuroclinic verify` names each edit, delete, insert and reorder. SQLite and PostgreSQL.
"""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.utils import timezone

from neuroclinic.accounts.models import User
from neuroclinic.audit.seals import verify_seals
from neuroclinic.audit.tests.helpers import unguarded_update
from neuroclinic.audit.tests.tamper import (
    assert_attacks_named,
    assert_refused,
    assert_statement_refused,
)
from neuroclinic.measures.actions.alerts import (
    acknowledge_alert,
    escalate_overdue_alerts,
)
from neuroclinic.measures.actions.responses import record_response
from neuroclinic.measures.models import QuestionnaireResponse, SafetyAlert
from neuroclinic.measures.tests.factories import phq9
from neuroclinic.measures.tests.test_actions import (  # noqa: F401 (fixtures)
    ASSESSMENT,
    open_alert,
    treated,
)
from neuroclinic.patients.models import Patient

pytestmark = pytest.mark.django_db

TABLE = "measures_safetyalert"


def _raise(patient: Patient, nurse: User) -> SafetyAlert:
    return record_response(
        patient,
        instrument_code="phq9",
        answers=phq9(6, item9=1),
        source=QuestionnaireResponse.Source.STAFF,
        by=nurse,
    ).alerts[0]


def _acknowledge(alert: SafetyAlert, by: User) -> None:
    acknowledge_alert(
        alert,
        by=by,
        risk_level="low",
        disposition="safety_plan",
        disposition_note="Plan reviewed.",
        assessment=ASSESSMENT,
    )


def test_acknowledged_alerts_refuse_every_change_and_each_attack_is_named(
    treated: Patient,  # noqa: F811
    nurse: User,
    prescriber: User,
    director: User,
) -> None:
    first = _raise(treated, nurse)
    # Overdue: the escalation job routes it to the medical director (a step of its own).
    unguarded_update(
        SafetyAlert.objects.filter(pk=first.pk),
        raised_at=timezone.now() - timedelta(hours=3),
    )
    assert escalate_overdue_alerts() == [SafetyAlert.objects.get(pk=first.pk)]
    _acknowledge(first, prescriber)
    second = _raise(treated, nurse)
    _acknowledge(second, prescriber)
    assert verify_seals() == []
    call_command("verify", stdout=_Quiet())
    for pk in (first.pk, second.pk):
        assert_refused(SafetyAlert, pk)
    made = assert_attacks_named(SafetyAlert, second.pk, first.pk)
    assert set(made) == {"edit", "delete", "insert", "reorder"}
    for statement in (
        f"UPDATE {TABLE} SET risk_level = 'high' WHERE id = %s",
        f"UPDATE {TABLE} SET disposition_note = 'Rewritten' WHERE id = %s",
        f"UPDATE {TABLE} SET acknowledged_at = NULL WHERE id = %s",
        f"UPDATE {TABLE} SET escalated_at = NULL WHERE id = %s",
        f"UPDATE {TABLE} SET response_id = NULL WHERE id = %s",
    ):
        assert_statement_refused(statement, [first.pk])
    assert verify_seals() == []


def test_an_open_alert_is_escalated_or_acknowledged_and_nothing_else(
    open_alert: SafetyAlert,  # noqa: F811
    prescriber: User,
) -> None:
    for statement in (
        f"UPDATE {TABLE} SET reason = 'clinician_flag' WHERE id = %s",
        f"UPDATE {TABLE} SET raised_at = raised_at + INTERVAL '1' DAY WHERE id = %s"
        if connection.vendor == "postgresql"
        else f"UPDATE {TABLE} SET raised_at = '2020-01-01 00:00:00' WHERE id = %s",
        f"UPDATE {TABLE} SET assigned_to_id = NULL WHERE id = %s",
        f"UPDATE {TABLE} SET patient_id = patient_id + 1 WHERE id = %s",
        # Half an acknowledgment: a risk level with no time or person.
        f"UPDATE {TABLE} SET risk_level = 'low' WHERE id = %s",
        f"DELETE FROM {TABLE} WHERE id = %s",
    ):
        assert_statement_refused(statement, [open_alert.pk])
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {TABLE} SET escalated_at = raised_at WHERE id = %s",
            [open_alert.pk],
        )
    # Escalated once: not again.
    assert_statement_refused(
        f"UPDATE {TABLE} SET escalated_to_id = NULL, escalated_at = NULL WHERE id = %s",
        [open_alert.pk],
    )
    _acknowledge(SafetyAlert.objects.get(pk=open_alert.pk), prescriber)


class _Quiet:
    def write(self, text: str) -> int:
        return len(text)

    def flush(self) -> None:
        pass
