"""The session lock every infusion action takes: the row and its six related tables as
the queryset reads them, fresh on each call, with the statement compiled once."""

from unittest import mock

import pytest
from django.db import connection, transaction
from django.db.models.sql.compiler import SQLCompiler
from django.test.utils import CaptureQueriesContext

from neuroclinic.clinics.models import Room
from neuroclinic.infusions.actions.common import LOCKED_SESSION_RELATED, lock_session
from neuroclinic.infusions.models import InfusionSession
from neuroclinic.patients.models import Patient

RELATED = LOCKED_SESSION_RELATED


def _queryset_lock(session: InfusionSession) -> InfusionSession:
    return (
        InfusionSession.objects.select_for_update(of=("self",))
        .select_related(*RELATED)
        .get(pk=session.pk)
    )


def _values(instance: object) -> dict[str, object]:
    return {k: v for k, v in vars(instance).items() if k != "_state"}


@pytest.mark.django_db
def test_the_lock_reads_what_the_queryset_reads_in_one_statement(
    session: InfusionSession,
) -> None:
    with transaction.atomic():
        expected = _queryset_lock(session)
        with CaptureQueriesContext(connection) as expected_queries:
            _queryset_lock(session)
        with CaptureQueriesContext(connection) as queries:
            locked = lock_session(session)
    assert [q["sql"] for q in queries] == [q["sql"] for q in expected_queries]
    assert _values(locked) == _values(expected)
    for path in RELATED:
        mine, theirs = locked, expected
        for name in path.split("__"):
            assert name in mine._state.fields_cache  # loaded, no query on access
            mine, theirs = getattr(mine, name), getattr(theirs, name)
        assert type(mine) is type(theirs)
        assert _values(mine) == _values(theirs)


@pytest.mark.django_db
def test_the_statement_is_compiled_once_and_each_call_reads_the_rows_afresh(
    session: InfusionSession,
) -> None:
    with transaction.atomic():
        lock_session(session)  # compiled here, if no earlier test did
        Patient.objects.filter(pk=session.patient_id).update(preferred_name="Changed")
        Room.objects.filter(pk=session.room_id).update(name="Changed too")
        with mock.patch.object(SQLCompiler, "as_sql", side_effect=AssertionError):
            locked = lock_session(session)
    assert locked.patient.preferred_name == "Changed"
    assert locked.room.name == "Changed too"


@pytest.mark.django_db
def test_a_session_that_does_not_exist_is_not_found(session: InfusionSession) -> None:
    gone = InfusionSession(pk=session.pk + 1000)
    with transaction.atomic(), pytest.raises(InfusionSession.DoesNotExist):
        lock_session(gone)


@pytest.mark.django_db
def test_the_lock_still_needs_a_transaction_where_rows_can_be_locked(
    session: InfusionSession,
) -> None:
    if not connection.features.has_select_for_update:
        pytest.skip("SQLite locks the whole database, not rows")
    lock_session(session)  # compiled inside the test's transaction
    # As outside any transaction (a transactional test cannot flush the audit log).
    with (
        mock.patch.object(connection, "get_autocommit", return_value=True),
        pytest.raises(transaction.TransactionManagementError),
    ):
        lock_session(session)
