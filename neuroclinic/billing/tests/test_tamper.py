"""What was charged, estimated and paid is append-only and tamper-evident (issue #15 item 1,
and its tamper suite).

A package sold with its deposit, an infusion invoiced against it, a payment, a refund,
the package closed (its unused sessions refunded),
two estimates, two superbills, two statements, two versions of the office-visit time
rules and two follow-up visits invoiced under them touch every sealed billing table. The database refuses
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
from neuroclinic.billing.actions import (
    em_settings,
    estimates,
    invoices,
    packages,
    statements,
    superbills,
    visits,
)
from neuroclinic.billing.models import Invoice
from neuroclinic.billing.tests import factories
from neuroclinic.billing.tests.test_visits import (  # noqa: F401  (fixtures)
    _visit,
    appointment_types,
)
from neuroclinic.clinics.models import Organization
from neuroclinic.infusions.models import InfusionSession
from neuroclinic.patients.models import Patient
from neuroclinic.scheduling.models import AppointmentType

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("priced")]

BILLING_MODELS = [label for label in SEALED_MODELS if label.startswith("billing.")]


@pytest.fixture
def billed(
    organization: Organization,
    diagnosed: Patient,
    infused: InfusionSession,
    billing: User,
    director: User,
    prescriber: User,
    front_desk: User,
    appointment_types: dict[str, AppointmentType],  # noqa: F811
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
    sale = estimates.sell_package(
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
    for top in (54, 59):
        em_settings.change_em_rules(
            organization,
            new_patient_starts={"99202": 15, "99203": 30, "99204": 45, "99205": 60},
            new_patient_top=74,
            established_starts={"99212": 10, "99213": 20, "99214": 30, "99215": 40},
            established_top=top,
            lookback_years=3,
            change_note="Clinic policy",
            by=director,
        )
        follow_up = _visit(
            diagnosed,
            appointment_types["follow_up"],
            prescriber,
            "checked_in",
            front_desk,
        )
        visits.invoice_visit(follow_up, minutes=25, by=billing)
    # The series ends early: the package closes and its terms refund what is left.
    packages.close_package(sale, reason="course_ended", by=billing)
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
    # One package sold and closed: nothing to swap with. (Invoices: the infusion's and
    # two visits'.)
    assert set(BILLING_MODELS) - set(reordered) == {
        "billing.packagesale",
        "billing.packageclosure",
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
