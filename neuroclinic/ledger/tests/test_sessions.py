"""A session: draw, administer, waste; what it reconciles to; what is refused.

Every refusal writes nothing (assertions.refused checks it)."""

import uuid
from datetime import timedelta
from decimal import Decimal

import pytest

from neuroclinic.accounts.models import User
from neuroclinic.audit.models import AuditEvent
from neuroclinic.audit.tests.helpers import unguarded_update
from neuroclinic.ledger.actions.sessions import (
    check_session_reconciled,
    draw_for_session,
    record_administration,
    session_summary,
    waste_remainder,
)
from neuroclinic.ledger.errors import LedgerError
from neuroclinic.ledger.models import (
    Container,
    LedgerEntry,
    Lot,
)
from neuroclinic.ledger.tests import factories
from neuroclinic.ledger.tests.assertions import refused
from neuroclinic.ledger.tests.conftest import Stock
from neuroclinic.ledger.verify import verify_ledger
from neuroclinic.patients.models import Patient

D = Decimal


def test_a_session_draws_administers_and_wastes_to_a_reconciled_zero(
    stock: Stock, nurse: User, custodian: User, patient: Patient
) -> None:
    ref = factories.draw(stock.vials[0], patient=patient, by=nurse, volume_ml="0.80")
    record_administration(ref, volume_ml=D("0.70"), by=nurse)
    waste_remainder(
        ref,
        volume_ml=D("0.10"),
        by=nurse,
        witness=factories.confirmed(custodian),
    )

    summary = session_summary(ref, organization_id=nurse.organization_pk)
    assert (summary.drawn_ml, summary.administered_ml, summary.wasted_ml) == (
        D("0.80"),
        D("0.70"),
        D("0.10"),
    )
    assert summary.reconciled
    check_session_reconciled(ref, organization_id=nurse.organization_pk)
    vial = Container.objects.get(pk=stock.vials[0].pk)
    assert vial.balance_ml == D("9.20")
    assert vial.status == Container.Status.OPEN
    assert vial.opened_at is not None
    waste = LedgerEntry.objects.get(kind="waste")
    assert waste.witness == custodian
    assert waste.patient == patient
    assert waste.quantity_mg == D("5.00")
    assert waste.session_balance_after_ml == D("0.00")
    assert (
        AuditEvent.objects.filter(
            action=AuditEvent.Action.LEDGER_DRAWN, patient=patient
        ).count()
        == 1
    )
    assert all(r.ok for r in verify_ledger())


def test_an_unreconciled_session_says_what_is_unaccounted(
    stock: Stock, nurse: User, patient: Patient
) -> None:
    ref = factories.draw(stock.vials[0], patient=patient, by=nurse, volume_ml="0.80")
    record_administration(ref, volume_ml=D("0.70"), by=nurse)

    with pytest.raises(LedgerError, match=r"0.10 mL unaccounted for"):
        check_session_reconciled(ref, organization_id=nurse.organization_pk)


def test_administration_spans_two_vials_first_drawn_first(
    stock: Stock, nurse: User, patient: Patient
) -> None:
    ref = str(uuid.uuid4())
    for vial in stock.vials:
        draw_for_session(
            vial, session_ref=ref, patient=patient, volume_ml=D("0.50"), by=nurse
        )

    entries = record_administration(ref, volume_ml=D("0.80"), by=nurse)

    assert [(e.container_id, e.quantity_ml) for e in entries] == [
        (stock.vials[0].pk, D("0.50")),
        (stock.vials[1].pk, D("0.30")),
    ]
    assert entries[-1].session_balance_after_ml == D("0.20")


@pytest.mark.parametrize(
    ("volume", "code"),
    [
        ("0", "draw_not_positive"),
        ("-1.00", "draw_not_positive"),
        ("10.01", "draw_exceeds_balance"),
        ("0.005", "quantity_too_precise"),
    ],
)
def test_bad_draw_quantities_are_refused_and_write_nothing(
    stock: Stock, nurse: User, patient: Patient, volume: str, code: str
) -> None:
    expected = "quantity_not_positive" if code == "draw_not_positive" else code
    with refused(expected, "volume_ml"):
        factories.draw(stock.vials[0], patient=patient, by=nurse, volume_ml=volume)
    assert Container.objects.get(pk=stock.vials[0].pk).balance_ml == D("10.00")


def test_an_expired_lot_cannot_be_drawn(
    stock: Stock, nurse: User, patient: Patient, custodian: User
) -> None:
    vial = stock.vials[0]
    vial.lot.expiry_date = factories.clinic_today() - timedelta(days=1)
    unguarded_update(
        Lot.objects.filter(pk=vial.lot.pk), expiry_date=vial.lot.expiry_date
    )

    with refused("lot_expired", "container"):
        factories.draw(stock.vials[0], patient=patient, by=nurse)


def test_more_than_was_drawn_cannot_be_administered_or_wasted(
    stock: Stock, nurse: User, custodian: User, patient: Patient
) -> None:
    ref = factories.draw(stock.vials[0], patient=patient, by=nurse, volume_ml="0.80")

    with refused("exceeds_session_balance", "volume_ml"):
        record_administration(ref, volume_ml=D("0.81"), by=nurse)
    with refused("exceeds_session_balance", "volume_ml"):
        waste_remainder(
            ref,
            volume_ml=D("0.90"),
            by=nurse,
            witness=factories.confirmed(custodian),
        )
    with refused("quantity_not_positive", "volume_ml"):
        record_administration(ref, volume_ml=D("0"), by=nurse)
    with refused("session_unknown", "session_ref"):
        record_administration(uuid.uuid4(), volume_ml=D("0.10"), by=nurse)


def test_a_session_belongs_to_one_patient(
    stock: Stock, nurse: User, patient: Patient, front_desk: User
) -> None:
    ref = factories.draw(stock.vials[0], patient=patient, by=nurse)
    other = Patient.objects.create(
        organization=patient.organization,
        mrn="LK-999999",
        family_name="Otherova",
        given_name="Sam",
        birth_date=patient.birth_date,
        sex_at_birth=Patient.SexAtBirth.MALE,
    )

    with refused("session_patient_mismatch", "patient"):
        draw_for_session(
            stock.vials[1],
            session_ref=ref,
            patient=other,
            volume_ml=D("0.5"),
            by=nurse,
        )


def test_a_vial_drawn_for_the_session_between_read_and_lock_is_refused_not_a_crash(
    stock: Stock, nurse: User, patient: Patient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another nurse's draw from a second vial lands after the session's entries were
    read and its vials locked: that vial is not locked, so nothing is taken from it."""
    from neuroclinic.ledger import chain
    from neuroclinic.ledger.actions import sessions

    ref = factories.draw(stock.vials[0], patient=patient, by=nurse, volume_ml="0.50")
    real_lock = chain.lock_containers

    def lock_then_another_draw(ids: list[int]) -> dict[int, Container]:
        locked = real_lock(ids)
        monkeypatch.setattr(sessions, "lock_containers", real_lock)
        draw_for_session(
            stock.vials[1],
            session_ref=ref,
            patient=patient,
            volume_ml=D("0.50"),
            by=nurse,
        )
        return locked

    monkeypatch.setattr(sessions, "lock_containers", lock_then_another_draw)

    with refused("session_changed", field="session_ref"):
        record_administration(ref, volume_ml=D("0.80"), by=nurse)
