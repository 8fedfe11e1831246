"""Counts, discrepancies and inventories: variances found, investigated, resolved or escalated.

Every refusal writes nothing (assertions.refused checks it)."""

from datetime import timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.core import mail

from neuroclinic.accounts.models import User
from neuroclinic.audit.tests.helpers import unguarded_update
from neuroclinic.ledger.actions.counts import (
    CountInput,
    complete_task,
    escalate_significant_loss,
    investigate_discrepancy,
    record_count,
    resolve_minor_variance,
)
from neuroclinic.ledger.actions.inventory import take_inventory
from neuroclinic.ledger.models import (
    ComplianceTask,
    Container,
    Count,
    Discrepancy,
    Form106Draft,
    Inventory,
    LedgerEntry,
    Registrant,
)
from neuroclinic.ledger.tests import factories
from neuroclinic.ledger.tests.assertions import refused
from neuroclinic.ledger.tests.conftest import Stock
from neuroclinic.ledger.verify import verify_ledger
from neuroclinic.patients.models import Patient

D = Decimal


def _count(stock: Stock, custodian: User, nurse: User, counted: list[str]) -> Count:
    return record_count(
        stock.safe,
        lines=[
            CountInput(container=v, counted_ml=D(c))
            for v, c in zip(stock.vials, counted, strict=True)
        ],
        by=custodian,
        witness=factories.confirmed(nurse),
    )


def test_a_matching_count_opens_no_discrepancy(
    stock: Stock, custodian: User, nurse: User
) -> None:
    count = _count(stock, custodian, nurse, ["10.00", "10.00"])

    assert count.has_variance is False
    assert count.second_counter == nurse
    assert Discrepancy.objects.exists() is False
    assert [line.variance_ml for line in count.lines.all()] == [D("0.00"), D("0.00")]


def test_a_count_must_include_every_vial_and_a_second_person(
    stock: Stock, custodian: User, nurse: User
) -> None:
    with refused("count_incomplete", "lines"):
        record_count(
            stock.safe,
            lines=[CountInput(stock.vials[0], D("10"))],
            by=custodian,
            witness=factories.confirmed(nurse),
        )
    with refused("witness_missing", "second_counter"):
        record_count(
            stock.safe,
            lines=[CountInput(v, D("10")) for v in stock.vials],
            by=custodian,
            witness=None,
        )
    assert Count.objects.exists() is False


def test_a_variance_is_investigated_and_resolved_as_minor(
    stock: Stock,
    custodian: User,
    nurse: User,
    patient: Patient,
    django_capture_on_commit_callbacks: Any,
) -> None:
    custodian.email = "custodian@example.com"
    custodian.save(update_fields=["email"])
    factories.draw(
        stock.vials[0], patient=patient, by=nurse, volume_ml="1.00"
    )  # opens vial 0: now estimated
    with django_capture_on_commit_callbacks(execute=True):
        count = _count(stock, custodian, nurse, ["8.80", "10.00"])
    discrepancy = Discrepancy.objects.get()
    assert (count.has_variance, discrepancy.variance_ml, discrepancy.variance_mg) == (
        True,
        D("-0.20"),
        D("-10.00"),
    )
    assert count.lines.get(container=stock.vials[0]).estimated is True
    assert len(mail.outbox) == 1

    with refused("wrong_status", "status"):
        resolve_minor_variance(discrepancy, notes="too soon", by=custodian)
    investigate_discrepancy(discrepancy, notes="Re-measured: dead space.", by=custodian)
    resolve_minor_variance(
        discrepancy, notes="Estimating error on an opened vial.", by=custodian
    )

    discrepancy.refresh_from_db()
    assert discrepancy.status == Discrepancy.Status.RESOLVED_MINOR
    adjustment = LedgerEntry.objects.get(kind="count_adjustment")
    assert (adjustment.container_change_ml, adjustment.discrepancy) == (
        D("-0.20"),
        discrepancy,
    )
    assert Container.objects.get(pk=stock.vials[0].pk).balance_ml == D("8.80")
    assert ComplianceTask.objects.exists() is False
    assert all(r.ok for r in verify_ledger())


def test_an_estimate_within_the_clinic_tolerance_is_not_a_discrepancy(
    stock: Stock, custodian: User, nurse: User, patient: Patient
) -> None:
    stock.registrant.opened_estimate_tolerance_ml = D("0.30")
    unguarded_update(
        Registrant.objects.filter(pk=stock.registrant.pk),
        opened_estimate_tolerance_ml=D("0.30"),
    )
    factories.draw(stock.vials[0], patient=patient, by=nurse, volume_ml="1.00")

    count = _count(stock, custodian, nurse, ["8.80", "10.00"])

    assert count.has_variance is False
    assert Discrepancy.objects.exists() is False


def test_a_significant_loss_opens_the_dea_tasks_and_the_form_106_draft(
    stock: Stock,
    custodian: User,
    nurse: User,
    django_capture_on_commit_callbacks: Any,
) -> None:
    custodian.email = "custodian@example.com"
    custodian.save(update_fields=["email"])
    with django_capture_on_commit_callbacks(execute=True):
        _count(stock, custodian, nurse, ["10.00", "0.00"])  # a sealed vial is missing
    discrepancy = Discrepancy.objects.get()

    with django_capture_on_commit_callbacks(execute=True):
        escalate_significant_loss(
            discrepancy,
            loss_kind=Discrepancy.LossKind.THEFT,
            notes="Vial missing from the locked safe.",
            by=custodian,
        )

    discrepancy.refresh_from_db()
    assert discrepancy.status == Discrepancy.Status.ESCALATED
    tasks = {t.kind: t for t in ComplianceTask.objects.all()}
    discovered = discrepancy.discovered_at.astimezone(
        ZoneInfo("America/Chicago")
    ).date()
    assert tasks["form_106"].due_date == discovered + timedelta(days=45)
    assert tasks["dea_notice"].due_date > discovered
    assert tasks["dea_notice"].due_date.weekday() < 5
    draft = Form106Draft.objects.get()
    assert draft.registrant_dea_number == factories.CLINIC_DEA
    assert draft.items[0]["quantity_lost_ml"] == "10.00"
    assert draft.items[0]["quantity_lost_mg"] == "500.00"
    loss = LedgerEntry.objects.get(kind="theft_loss")
    assert loss.container == stock.vials[1]
    assert Container.objects.get(pk=stock.vials[1].pk).status == Container.Status.LOST
    assert len(mail.outbox) == 2  # opened, then escalated
    assert "DEA notice due" in mail.outbox[1].subject
    task = tasks["dea_notice"]
    complete_task(task, reference="Faxed to the Chicago FDO", by=custodian)
    task.refresh_from_db()
    assert task.status == ComplianceTask.Status.DONE
    assert all(r.ok for r in verify_ledger())


def test_an_inventory_records_every_vial_and_opened_ones_as_estimated(
    stock: Stock, custodian: User, nurse: User, patient: Patient
) -> None:
    factories.draw(stock.vials[0], patient=patient, by=nurse, volume_ml="1.00")

    inventory = take_inventory(
        stock.registrant,
        kind=Inventory.Kind.INITIAL,
        time_of_day=Inventory.TimeOfDay.CLOSE,
        lines=[
            CountInput(stock.vials[0], D("9.00")),
            CountInput(stock.vials[1], D("10.00")),
        ],
        by=custodian,
        second_taker=factories.confirmed(nurse),
    )

    lines = list(inventory.lines.order_by("container_id"))
    assert [(line.opened, line.estimated, line.quantity_mg) for line in lines] == [
        (True, True, D("450.00")),
        (False, False, D("500.00")),
    ]
    assert inventory.registrant_dea_number == factories.CLINIC_DEA
    with refused("initial_exists", "kind"):
        take_inventory(
            stock.registrant,
            kind=Inventory.Kind.INITIAL,
            time_of_day=Inventory.TimeOfDay.CLOSE,
            lines=[],
            by=custodian,
        )
