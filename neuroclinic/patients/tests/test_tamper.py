"""The chart's diagnoses, medications and allergies are append-only and tamper-evident
(issue #15 item 1: every charted clinical record). An entry is only ever ended, once,
with who, when and why; the database refuses any other UPDATE and every DELETE, and
with the triggers off `neuroclinic verify` names each edit, delete, insert and
reorder as its first problem. The patient row stays sealed only (demographics are
corrected in place: audit/tests/test_append_only.py). SQLite and PostgreSQL.
"""

import pytest
from django.db import models

from neuroclinic.accounts.models import User
from neuroclinic.audit.seals import verify_seals
from neuroclinic.audit.tests.tamper import (
    assert_attacks_named,
    assert_refused,
    assert_statement_refused,
)
from neuroclinic.patients.actions import (
    add_allergy,
    add_diagnosis,
    add_medication,
    end_list_entry,
)
from neuroclinic.patients.models import (
    Allergy,
    ClinicalListEntry,
    Diagnosis,
    Medication,
    Patient,
)

pytestmark = pytest.mark.django_db


def _entries(patient: Patient, by: User) -> list[ClinicalListEntry]:
    return [
        add_diagnosis(
            patient,
            icd10_code="F33.2",
            description="Major depressive disorder, recurrent, severe",
            by=by,
        ),
        add_diagnosis(
            patient, icd10_code="F41.1", description="Generalized anxiety", by=by
        ),
        add_medication(patient, name="Sertraline", dose="100 mg daily", by=by),
        add_medication(patient, name="Lithium", dose="300 mg twice daily", by=by),
        add_allergy(patient, substance="Penicillin", reaction="Rash", by=by),
        add_allergy(patient, substance="Latex", by=by),
    ]


MODELS: list[type[models.Model]] = [Diagnosis, Medication, Allergy]


def test_every_list_entry_refuses_update_and_delete_and_each_attack_is_named(
    patient: Patient, prescriber: User
) -> None:
    _entries(patient, prescriber)
    assert verify_seals() == []
    for model in MODELS:
        first, last = model._base_manager.order_by("pk").values_list("pk", flat=True)
        assert_refused(model, last)
        made = assert_attacks_named(model, last, first)
        assert made == ["edit", "delete", "insert", "reorder"], model
    assert verify_seals() == []


def test_an_entry_is_ended_once_and_nothing_else_changes(
    patient: Patient, prescriber: User
) -> None:
    entries = _entries(patient, prescriber)
    lithium = entries[3]
    table = "patients_medication"
    for statement in (
        f"UPDATE {table} SET name = 'Lamotrigine' WHERE id = %s",
        f"UPDATE {table} SET dose = '900 mg' WHERE id = %s",
        f"UPDATE {table} SET end_reason = 'resolved' WHERE id = %s",  # not ended
        f"DELETE FROM {table} WHERE id = %s",
    ):
        assert_statement_refused(statement, [lithium.pk])

    end_list_entry(lithium, reason=Medication.EndReason.ENTERED_IN_ERROR, by=prescriber)
    lithium.refresh_from_db()
    assert lithium.ended_at is not None
    for statement in (
        f"UPDATE {table} SET ended_at = NULL, end_reason = '' WHERE id = %s",
        f"UPDATE {table} SET end_reason = 'resolved' WHERE id = %s",
        f"UPDATE {table} SET ended_by_id = NULL WHERE id = %s",
        f"DELETE FROM {table} WHERE id = %s",
    ):
        assert_statement_refused(statement, [lithium.pk])
    assert verify_seals() == []
