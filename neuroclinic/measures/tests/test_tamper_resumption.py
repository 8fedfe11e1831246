"""A prescriber's signed decision to resume treatment after a safety alert is
append-only and tamper-evident (issue #15 item 1: signed decisions): the database
refuses UPDATE and DELETE, and with the triggers off `neuroclinic verify` names each
edit, delete and insert as its first problem. SQLite and PostgreSQL.
"""

import pytest

from neuroclinic.accounts.models import User
from neuroclinic.audit.seals import verify_seals
from neuroclinic.audit.tests.tamper import assert_attacks_named, assert_refused
from neuroclinic.measures.actions.alerts import (
    acknowledge_alert,
    resume_treatment_after_alert,
)
from neuroclinic.measures.models import SafetyAlert, TreatmentResumption
from neuroclinic.measures.tests.test_actions import (  # noqa: F401 (fixtures)
    ASSESSMENT,
    open_alert,
    treated,
)
from neuroclinic.measures.tests.test_safety_alert_hold import PASSWORD
from neuroclinic.patients.models import Patient

pytestmark = pytest.mark.django_db


def test_a_resumption_refuses_update_and_delete_and_each_attack_is_named(
    open_alert: SafetyAlert,  # noqa: F811
    prescriber: User,
    treated: Patient,  # noqa: F811
) -> None:
    acknowledge_alert(
        open_alert,
        by=prescriber,
        risk_level="high",
        disposition="urgent_evaluation",
        disposition_note="Seen by crisis team",
        assessment=ASSESSMENT,
    )
    resume_treatment_after_alert(
        open_alert,
        reason="Urgent evaluation done; safe to continue with weekly C-SSRS",
        password=PASSWORD,
        by=prescriber,
    )
    resumption = TreatmentResumption.objects.get()
    assert verify_seals() == []
    assert_refused(TreatmentResumption, resumption.pk)
    made = assert_attacks_named(TreatmentResumption, resumption.pk)
    assert {"edit", "delete"} <= set(made)
    assert verify_seals() == []
