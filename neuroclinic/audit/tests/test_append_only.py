"""Every sealed model is append-only by database trigger, or is listed here with the reason
it is not (issue #15 item 1). A model added to `SEALED_MODELS` without either fails here,
and so does a migration that rebuilt a table on SQLite and lost its triggers.

The tamper suite proper, per table, is `neuroclinic/audit/tests/tamper.py`, run by
infusions/tests/test_tamper.py, tms/tests/test_tamper.py, letters/tests/test_tamper.py
and billing/tests/test_tamper.py.
"""

import pytest
from django.apps import apps

from neuroclinic.audit.seals import SEALED_MODELS
from neuroclinic.audit.tests.tamper import append_only_tables
from neuroclinic.audit.triggers import Guard, statements

pytestmark = pytest.mark.django_db

# Records that actions edit in place (each change sealed anew): `neuroclinic verify`
# names a raw edit of any of them, but the database does not refuse it.
NOT_APPEND_ONLY: dict[str, str] = {
    # People, not clinical records: rows edited in place by legitimate actions (a
    # patient's demographics corrected by `patients.actions.update_patient`; a user's
    # sign-in bookkeeping: last sign-in, failed count, lock; roles and deactivation).
    # A trigger would have to leave nearly every column open and guard nothing a
    # signed record relies on. What a record displays about them (MRN, names, birth
    # date, address; username, names, title) is sealed, so `neuroclinic verify` names a
    # raw edit, and ledger entries keep the names as they were at the time.
    "patients.patient": "demographics are corrected by actions (names and address sealed)",
    "accounts.user": "sign-in bookkeeping, roles and locks change (names sealed)",
}


def test_every_sealed_model_is_append_only_or_says_why_not() -> None:
    protected = append_only_tables()
    for label in SEALED_MODELS:
        table = apps.get_model(label)._meta.db_table
        if label in NOT_APPEND_ONLY:
            assert table not in protected, (
                f"{label} is append-only now: take it off NOT_APPEND_ONLY"
            )
        else:
            assert table in protected, (
                f"{label} is sealed but has no append-only trigger: add one "
                "(neuroclinic/audit/triggers.py) or list it in NOT_APPEND_ONLY with why"
            )


def test_the_audit_log_seals_and_ledger_are_append_only_too() -> None:
    protected = append_only_tables()
    assert {"audit_auditevent", "audit_seal", "ledger_ledgerentry"} <= protected


def test_a_record_with_a_life_cycle_guards_every_column_but_the_open_ones() -> None:
    guard = Guard(
        "letters_letter",
        open_while="OLD.status = 'draft'",
        open_columns=("body",),
        delete_while_open=True,
    )
    columns = ["id", "patient_id", "body", "status"]
    for vendor in ("sqlite", "postgresql"):
        update, delete = statements(vendor, guard, columns)
        assert "NOT (OLD.status = 'draft')" in update
        assert all(f'OLD."{c}"' in update for c in ("id", "patient_id", "status"))
        assert 'OLD."body"' not in update
        assert "BEFORE DELETE" in delete
        assert "NOT (OLD.status = 'draft')" in delete
    (both,) = statements("postgresql", Guard("billing_invoice"), ["id"])
    assert "BEFORE UPDATE OR DELETE" in both
    assert "WHEN" not in both
