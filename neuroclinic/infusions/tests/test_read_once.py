"""Read once, pass along (issue 18, item 10): the ledger authority judges a claim from
the session the asking infusion action locked, the same as from a fresh read; and the
statements compiled once per connection (lib.compiled.CompiledObjects) give what
their querysets give."""

import uuid
from datetime import timedelta
from decimal import Decimal
from unittest import mock

import pytest
from django.db import connection, transaction
from django.db.models.sql.compiler import SQLCompiler
from django.test.utils import CaptureQueriesContext

from neuroclinic.accounts.models import User
from neuroclinic.infusions.actions.common import current_dose, lock_session
from neuroclinic.infusions.ledger_authority import locked_session, vouch
from neuroclinic.infusions.models import DoseRecord, InfusionSession
from neuroclinic.ledger.authority import SessionClaim, SessionStep
from neuroclinic.lib.compiled import CompiledObjects

_DOSES = CompiledObjects(
    lambda session_id: DoseRecord.objects.filter(session_id=session_id).order_by(
        "-calculated_at", "-id"
    )
)
_LOCKED_DOSES = CompiledObjects(
    lambda session_id: DoseRecord.objects.select_for_update().filter(
        session_id=session_id
    )
)


def _claim(
    session: InfusionSession, nurse: User, volume: str, *, ref: uuid.UUID | None = None
) -> SessionClaim:
    registrant = session.location.registrant
    return SessionClaim(
        step=SessionStep.DRAW,
        session_ref=ref or session.uuid,
        patient=session.patient,
        registrant_id=registrant.pk,
        volume_ml=Decimal(volume),
        concentration_mg_per_ml=Decimal(50),
        by=nurse,
    )


@pytest.mark.django_db
@pytest.mark.parametrize("volume", ["0.5", "4.0", "400"])
def test_a_claim_is_judged_alike_from_the_locked_session_and_from_a_fresh_read(
    dosed: InfusionSession, nurse: User, volume: str
) -> None:
    claim = _claim(dosed, nurse, volume)
    fresh = vouch(claim)
    with transaction.atomic():
        locked = lock_session(dosed)
        dose = current_dose(locked)
        with locked_session(locked, dose), CaptureQueriesContext(connection) as seen:
            passed_along = vouch(claim)
    assert passed_along == fresh
    # Only the ledger's summary is read: not the session, not its dose.
    assert not [q for q in seen if "infusions_" in q["sql"]]


@pytest.mark.django_db
def test_a_claim_for_another_session_is_not_judged_from_the_locked_one(
    dosed: InfusionSession, nurse: User
) -> None:
    claim = _claim(dosed, nurse, "0.5", ref=uuid.uuid4())
    with transaction.atomic():
        locked = lock_session(dosed)
        with locked_session(locked, current_dose(locked)):
            problem = vouch(claim)
    assert problem is not None
    assert "No infusion has this session reference" in problem


@pytest.mark.django_db
def test_compiled_objects_give_the_querysets_rows_and_compile_once(
    dosed: InfusionSession,
) -> None:
    expected = list(
        DoseRecord.objects.filter(session_id=dosed.pk).order_by("-calculated_at", "-id")
    )
    assert expected
    first = _DOSES.all(dosed.pk)  # compiled here, if no earlier test did
    assert [vars(d) | {"_state": None} for d in first] == [
        vars(d) | {"_state": None} for d in expected
    ]
    newer = DoseRecord.objects.get(pk=expected[0].pk)
    newer.pk, newer.uuid = None, uuid.uuid4()
    newer.calculated_at += timedelta(minutes=1)
    newer.save()
    with mock.patch.object(SQLCompiler, "as_sql", side_effect=AssertionError):
        again = _DOSES.all(dosed.pk)
    assert [d.pk for d in again] == [newer.pk, *(d.pk for d in expected)]  # afresh
    assert _DOSES.all(dosed.pk + 1000) == []
    assert _DOSES.first(dosed.pk + 1000) is None


@pytest.mark.django_db
def test_a_compiled_lock_still_needs_a_transaction_where_rows_can_be_locked(
    dosed: InfusionSession,
) -> None:
    if not connection.features.has_select_for_update:
        pytest.skip("SQLite locks the whole database, not rows")
    _LOCKED_DOSES.all(dosed.pk)  # compiled inside the test's transaction
    with (
        mock.patch.object(connection, "get_autocommit", return_value=True),
        pytest.raises(transaction.TransactionManagementError),
    ):
        _LOCKED_DOSES.all(dosed.pk)
