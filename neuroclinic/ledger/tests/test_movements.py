"""Whole-vial movements and corrections: transfer, destruction, reverse distributor, reversal.

Every refusal writes nothing (assertions.refused checks it)."""

from decimal import Decimal
from typing import Any

from neuroclinic.accounts.models import User
from neuroclinic.ledger.actions.movements import (
    destroy_on_site,
    reverse_entry,
    send_to_reverse_distributor,
    transfer_container,
    waste_from_container,
)
from neuroclinic.ledger.actions.sessions import (
    record_administration,
    session_summary,
)
from neuroclinic.ledger.models import (
    Container,
    LedgerEntry,
    Supplier,
)
from neuroclinic.ledger.tests import factories
from neuroclinic.ledger.tests.assertions import refused
from neuroclinic.ledger.tests.conftest import Stock
from neuroclinic.ledger.verify import verify_ledger
from neuroclinic.patients.models import Patient

D = Decimal


def test_a_transfer_moves_both_sides_in_one_go(stock: Stock, custodian: User) -> None:
    cart = factories.make_safe(stock.registrant, by=custodian, name="Cart lockbox")

    out, into = transfer_container(
        stock.vials[0], to_storage_location=cart, by=custodian
    )

    assert (out.kind, out.container_change_ml, out.storage_location) == (
        "transfer_out",
        D("-10.00"),
        stock.safe,
    )
    assert (into.kind, into.container_change_ml, into.storage_location) == (
        "transfer_in",
        D("10.00"),
        cart,
    )
    vial = Container.objects.get(pk=stock.vials[0].pk)
    assert (vial.storage_location, vial.balance_ml, vial.status) == (
        cart,
        D("10.00"),
        "sealed",
    )
    assert into.stock_on_hand_after_mg == D("1000.00")
    assert all(r.ok for r in verify_ledger())


def test_a_transfer_to_another_registration_goes_on_both_chains(
    stock: Stock, custodian: User, organization: Any
) -> None:
    annex = factories.make_location(organization, name="Annex")
    other = factories.make_registrant(
        organization, by=custodian, dea_number="BL7654329", location=annex, name="Annex"
    )
    annex_safe = factories.make_safe(other, by=custodian, name="Annex safe")

    transfer_container(stock.vials[0], to_storage_location=annex_safe, by=custodian)

    assert (
        LedgerEntry.objects.filter(
            registrant=stock.registrant, kind="transfer_out"
        ).count()
        == 1
    )
    assert LedgerEntry.objects.filter(registrant=other, kind="transfer_in").count() == 1
    assert Container.objects.get(pk=stock.vials[0].pk).registrant == other
    assert [r.ok for r in verify_ledger()] == [True, True]


def test_destruction_and_reverse_distribution_empty_the_vial_with_a_witness(
    stock: Stock, custodian: User, nurse: User, organization: Any
) -> None:
    distributor = factories.make_supplier(
        organization,
        by=custodian,
        kind=Supplier.Kind.REVERSE_DISTRIBUTOR,
        dea_number=factories.REVERSE_DISTRIBUTOR_DEA,
    )

    destroyed = destroy_on_site(
        stock.vials[0],
        method="Chemical digestion kit",
        by=custodian,
        witness=factories.confirmed(nurse),
    )
    returned = send_to_reverse_distributor(
        stock.vials[1],
        reverse_distributor=distributor,
        by=custodian,
        witness=factories.confirmed(nurse),
    )

    assert destroyed.details["method"] == "Chemical digestion kit"
    assert (
        returned.details["reverse_distributor_dea_number"]
        == factories.REVERSE_DISTRIBUTOR_DEA
    )
    statuses = dict(Container.objects.values_list("pk", "status"))
    assert statuses[stock.vials[0].pk] == Container.Status.DESTROYED
    assert statuses[stock.vials[1].pk] == Container.Status.RETURNED
    assert returned.stock_on_hand_after_mg == D("0.00")
    with refused("container_not_in_stock", "container"):
        waste_from_container(
            stock.vials[0],
            volume_ml=D("1"),
            reason="x",
            by=custodian,
            witness=factories.confirmed(nurse),
        )


def test_a_supplier_is_not_a_reverse_distributor(
    stock: Stock, custodian: User, nurse: User
) -> None:
    with refused("not_reverse_distributor", "reverse_distributor"):
        send_to_reverse_distributor(
            stock.vials[0],
            reverse_distributor=stock.supplier,
            by=custodian,
            witness=factories.confirmed(nurse),
        )


def test_a_reversal_undoes_an_entry_and_points_at_it(
    stock: Stock, nurse: User, custodian: User, patient: Patient
) -> None:
    ref = factories.draw(stock.vials[0], patient=patient, by=nurse, volume_ml="0.80")
    wrong = record_administration(ref, volume_ml=D("0.80"), by=nurse)[0]

    reversal = reverse_entry(
        wrong,
        reason="Typed 0.80, gave 0.70",
        by=custodian,
        witness=factories.confirmed(nurse),
    )

    assert reversal.reverses == wrong
    assert reversal.session_change_ml == D("0.80")
    assert reversal.session_balance_after_ml == D("0.80")
    summary = session_summary(ref, organization_id=nurse.organization_pk)
    assert summary.administered_ml == D("0.00")
    assert summary.outstanding_ml == D("0.80")
    with refused("already_reversed", "entry"):
        reverse_entry(
            wrong,
            reason="again",
            by=custodian,
            witness=factories.confirmed(nurse),
        )
    with refused("not_reversible", "entry"):
        reverse_entry(
            reversal,
            reason="no",
            by=custodian,
            witness=factories.confirmed(nurse),
        )
    assert all(r.ok for r in verify_ledger())


def test_reversing_a_receipt_after_a_draw_would_go_below_zero(
    stock: Stock, nurse: User, custodian: User, patient: Patient
) -> None:
    factories.draw(stock.vials[0], patient=patient, by=nurse, volume_ml="0.80")
    receive = LedgerEntry.objects.filter(kind="receive", container=stock.vials[0]).get()

    with refused("balance_below_zero", "volume_ml"):
        reverse_entry(
            receive,
            reason="wrong vial",
            by=custodian,
            witness=factories.confirmed(nurse),
        )
