"""What was charged, estimated and paid is append-only and tamper-evident (issue #15 item 1,
and its tamper suite).

A package sold with its deposit, an infusion invoiced against it, a payment, a refund,
two estimates, two superbills and two statements touch every sealed billing table. The database refuses
UPDATE and DELETE of each record; with the triggers switched off, as the table's owner
could, `neuroclinic verify` names each edited, deleted, inserted or reordered record.
Runs on SQLite and PostgreSQL.
"""

from datetime import date
from decimal import Decimal

import pytest
from django.apps import apps
from django.db import connection

from neuroclinic.accounts.models import User
from neuroclinic.audit.seals import SEALED_MODELS, verify_seals
from neuroclinic.audit.tests.tamper import (
    assert_attacks_named,
    assert_refused,
    attack,
)
from neuroclinic.billing.actions import estimates, invoices, statements, superbills
from neuroclinic.billing.models import Invoice
from neuroclinic.billing.tests import factories
from neuroclinic.clinics.models import Organization
from neuroclinic.infusions.models import InfusionSession
from neuroclinic.patients.models import Patient

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("priced")]

BILLING_MODELS = [label for label in SEALED_MODELS if label.startswith("billing.")]


@pytest.fixture
def billed(
    organization: Organization,
    diagnosed: Patient,
    infused: InfusionSession,
    billing: User,
) -> Invoice:
    package = factories.induction_package(organization, billing)
    estimates.record_payer_status(diagnosed, status="self_pay", by=billing)
    for service_on in (date(2026, 12, 21), date(2026, 12, 28)):
        estimates.give_estimate(
            diagnosed,
            package_version=package.versions.get(),
            items=[estimates.EstimateItem("consult")],
            scheduled_on=date(2026, 12, 7),
            service_on=service_on,
            by=billing,
        )
    estimates.sell_package(
        diagnosed, package=package, method="card", reference="T-9", by=billing
    )
    invoice = invoices.invoice_session(infused, by=billing)
    # The package's deposit paid the visit: this payment is credit on account.
    made = invoices.record_payment(
        invoice, amount="100", method="cash", excess_as_credit=True, by=billing
    )
    invoices.refund_payment(made[-1], amount="20", reason="Goodwill", by=billing)
    for _ in range(2):
        superbills.make_superbill(diagnosed, invoice=invoice, by=billing)
        statements.make_statement(
            diagnosed,
            period_start=invoice.service_date,
            period_end=invoice.service_date,
            by=billing,
        )
    return invoice


def test_every_billing_record_refuses_update_and_delete_and_each_attack_is_named(
    billed: Invoice,
) -> None:
    assert billing_problems() == []
    reordered = []
    for label in BILLING_MODELS:
        model = apps.get_model(label)
        pks = list(model._base_manager.order_by("pk").values_list("pk", flat=True))
        assert pks, f"nothing was billed in {label}"
        assert_refused(model, pks[-1])
        made = assert_attacks_named(model, pks[-1], pks[0] if len(pks) > 1 else None)
        assert {"edit", "delete", "insert"} <= set(made), label
        if "reorder" in made:
            reordered.append(label)
    # One package sold and one visit invoiced: nothing to swap with.
    assert set(BILLING_MODELS) - set(reordered) == {
        "billing.packagesale",
        "billing.invoice",
    }
    assert billing_problems() == []  # every attack was rolled back


@pytest.mark.parametrize(
    ("table", "column", "label"),
    [
        ("billing_invoice", "total", "billing.invoice"),
        ("billing_invoiceline", "amount", "billing.invoiceline"),
        ("billing_payment", "amount", "billing.payment"),
    ],
)
def test_an_amount_changed_in_the_database_is_caught(
    billed: Invoice, table: str, column: str, label: str
) -> None:
    row = {
        "billing_invoice": billed.pk,
        "billing_invoiceline": billed.lines.values_list("pk", flat=True).first(),
        "billing_payment": billed.payments.values_list("pk", flat=True).first(),
    }[table]
    with attack(table):
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} SET {column} = %s WHERE id = %s",
                [Decimal("1.00"), row],
            )
        assert billing_problems() == [(label, str(row))]


def billing_problems() -> list[tuple[str, str]]:
    return [
        (p.model, p.object_id)
        for p in verify_seals(limit=100)
        if p.model.startswith("billing.")
    ]
