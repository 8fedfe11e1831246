"""The ledger's compiled statements give what the ORM gives, for each call's values,
and a session's actions run a fixed, small number of queries (issue 18, item 10)."""

import uuid
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from neuroclinic.accounts.models import User
from neuroclinic.ledger.actions.sessions import (
    draw_for_session,
    record_administration,
    session_summary,
    waste_remainder,
)
from neuroclinic.ledger.chain import lock_containers, lock_head, lot_balance_ml
from neuroclinic.ledger.models import LedgerEntry, LedgerHead
from neuroclinic.ledger.tests import factories
from neuroclinic.ledger.tests.conftest import Stock
from neuroclinic.lib.compiled import STAND_IN_IDS, STAND_IN_REF, Compiled
from neuroclinic.patients.models import Patient

D = Decimal

_ROWS = Compiled(
    lambda organization_id, ref: (
        LedgerEntry.objects.filter(organization_id=organization_id, session_ref=ref)
        .order_by("seq")
        .values_list("seq", "kind", "quantity_ml")
    ),
    STAND_IN_IDS[0],
    STAND_IN_REF,
)
_OBJECTS = Compiled(
    lambda organization_id, ref: (
        LedgerEntry.objects.filter(organization_id=organization_id, session_ref=ref)
        .select_related("container", "patient")
        .order_by("seq")
    ),
    STAND_IN_IDS[0],
    STAND_IN_REF,
)


def test_compiled_rows_and_objects_are_the_orms_for_each_session(
    history: list[LedgerEntry], nurse: User
) -> None:
    refs = list(dict.fromkeys(e.session_ref for e in history if e.session_ref))
    assert len(refs) == 2
    org = nurse.organization_pk
    for ref in [*refs, str(uuid.uuid4())]:
        orm = LedgerEntry.objects.filter(organization_id=org, session_ref=ref)
        assert _ROWS.rows(org, ref) == list(
            orm.order_by("seq").values_list("seq", "kind", "quantity_ml")
        )
        objects = _OBJECTS.objects(org, ref)
        assert objects == list(orm.order_by("seq"))
        for entry in objects:
            # The related objects come with the row, as select_related's do.
            with CaptureQueriesContext(connection) as queries:
                assert entry.container.pk == entry.container_id
                assert entry.patient is not None
                assert entry.patient.pk == entry.patient_id
            assert len(queries) == 0
            assert entry.quantity_ml == LedgerEntry.objects.get(pk=entry.pk).quantity_ml
    assert _ROWS.rows(org + 1, refs[0]) == []  # the organization is a value too


def test_the_compiled_head_lock_finds_the_registrants_head(stock: Stock) -> None:
    with transaction.atomic():
        head = lock_head(stock.registrant)
        assert head == LedgerHead.objects.get(registrant=stock.registrant)
        with pytest.raises(LedgerHead.DoesNotExist):
            lock_head(STAND_IN_IDS[1])


def test_locked_containers_come_with_product_and_lot(stock: Stock) -> None:
    ids = [v.pk for v in stock.vials]
    with transaction.atomic():
        for wanted in ([ids[0]], ids):
            locked = lock_containers(wanted)
            assert sorted(locked) == sorted(wanted)
            with CaptureQueriesContext(connection) as queries:
                for vial in locked.values():
                    assert vial.product.pk == stock.product.pk
                    assert vial.lot.pk == vial.lot_id
            assert len(queries) == 0


def test_lot_balance_is_the_lots_last_entry(history: list[LedgerEntry]) -> None:
    last = history[-1]
    assert lot_balance_ml(last.registrant_id, last.lot_id) == (
        last.lot_balance_after_ml
    )
    assert lot_balance_ml(last.registrant_id, STAND_IN_IDS[1]) == D("0.00")


def test_a_sessions_actions_run_a_fixed_number_of_queries(
    stock: Stock, nurse: User, custodian: User, patient: Patient
) -> None:
    """Pinned: a change is a question for review (a query per vial, a read repeated)."""
    ref = uuid.uuid4()
    # The first draw of a connection compiles the statements; count the second session.
    factories.draw(stock.vials[0], patient=patient, by=nurse, volume_ml="0.20")
    with CaptureQueriesContext(connection) as draw:
        draw_for_session(
            stock.vials[0],
            session_ref=ref,
            patient=patient,
            volume_ml=D("0.80"),
            by=nurse,
        )
    with CaptureQueriesContext(connection) as administer:
        record_administration(ref, volume_ml=D("0.70"), by=nurse)
    with CaptureQueriesContext(connection) as waste:
        waste_remainder(
            ref, volume_ml=D("0.10"), by=nurse, witness=factories.confirmed(custodian)
        )
    with CaptureQueriesContext(connection) as summary:
        assert session_summary(ref, organization_id=nurse.organization_pk).reconciled
    ledger = [
        sum("ledger_" in q["sql"] for q in c.captured_queries)
        for c in (draw, administer, waste, summary)
    ]
    assert ledger == [9, 9, 9, 1]
