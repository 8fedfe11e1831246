"""Billing actions: what each writes, what each refuses (and that a refusal writes nothing)."""

from datetime import date
from decimal import Decimal

import pytest

from neuroclinic.accounts.models import User
from neuroclinic.audit.models import AuditEvent
from neuroclinic.audit.tests.helpers import triggers_off, unguarded_update
from neuroclinic.billing.accounting import account_credit, invoice_balance
from neuroclinic.billing.actions import estimates, invoices, setup, superbills
from neuroclinic.billing.errors import BillingError
from neuroclinic.billing.models import (
    GoodFaithEstimate,
    Invoice,
    Payment,
    Price,
    Service,
)
from neuroclinic.billing.tests import factories
from neuroclinic.billing.verify import verify_totals
from neuroclinic.clinics.models import Organization
from neuroclinic.infusions.models import InfusionSession
from neuroclinic.patients.models import Patient

D = Decimal
pytestmark = pytest.mark.django_db


def test_a_new_price_is_a_new_version_and_the_old_one_stays(
    organization: Organization, billing: User
) -> None:
    first = setup.set_price(
        organization, service_key="infusion", amount="450", by=billing
    )
    second = setup.set_price(
        organization, service_key="infusion", amount="475.00", by=billing
    )
    assert (first.version, second.version) == (1, 2)
    assert Price.objects.get(pk=first.pk).amount == D("450.00")
    assert second.service.code == "96365"
    event = AuditEvent.objects.filter(action=AuditEvent.Action.BILLING_PRICE_SET).last()
    assert event is not None
    assert event.data["old_amount"] == "450.00"


@pytest.mark.parametrize(
    ("amount", "field"), [("-1", "amount"), ("1.005", "amount"), ("x", "amount")]
)
def test_bad_prices_are_refused_and_nothing_written(
    organization: Organization, billing: User, amount: str, field: str
) -> None:
    with pytest.raises(BillingError) as error:
        setup.set_price(organization, service_key="infusion", amount=amount, by=billing)
    assert error.value.field == field
    assert not Price.objects.exists()


def test_an_unknown_service_is_refused(
    organization: Organization, billing: User
) -> None:
    with pytest.raises(BillingError):
        setup.set_price(organization, service_key="massage", amount="1", by=billing)


def test_package_deposit_cannot_exceed_price(
    organization: Organization, billing: User
) -> None:
    with pytest.raises(BillingError) as error:
        setup.set_package_terms(
            organization,
            name="Series",
            service_key="infusion",
            sessions=6,
            price="100",
            deposit="200",
            unused_sessions="refund",
            by=billing,
        )
    assert error.value.field == "deposit"


def test_bad_npi_and_tax_id_are_refused(
    organization: Organization, billing: User, prescriber: User
) -> None:
    with pytest.raises(BillingError) as error:
        setup.save_rendering_provider(
            prescriber,
            npi_number="12345",
            license_number="X",
            license_state="NY",
            by=billing,
        )
    assert error.value.field == "npi_number"
    with pytest.raises(BillingError) as error:
        setup.save_billing_identity(
            organization,
            legal_name="X",
            tax_id_number="1",
            address="a",
            phone="1",
            by=billing,
        )
    assert error.value.field == "tax_id_number"


# ------------------------------------------------------------------ invoices


@pytest.mark.usefixtures("priced")
@pytest.mark.parametrize(
    ("minutes", "codes"),
    [
        (12, [("96374", 1)]),
        (40, [("96365", 1)]),
        (100, [("96365", 1), ("96366", 1)]),
        (160, [("96365", 1), ("96366", 2)]),
    ],
)
def test_an_infusion_invoice_carries_the_codes_for_its_time(
    running: InfusionSession, billing: User, minutes: int, codes: list[tuple[str, int]]
) -> None:
    session = factories.finish(running, minutes=minutes)
    invoice = invoices.invoice_session(session, by=billing)
    lines = list(invoice.lines.all())
    assert [(line.code, line.units) for line in lines][: len(codes)] == codes
    assert lines[-1].code == "J3490"  # the ketamine itself
    assert invoice.total == sum(line.amount for line in lines)
    assert invoice.rendering_provider == session.order.signed_by


@pytest.mark.usefixtures("priced")
def test_invoice_amounts_come_from_the_price_list(
    infused: InfusionSession, billing: User
) -> None:
    invoice = invoices.invoice_session(infused, by=billing)
    assert [line.amount for line in invoice.lines.all()] == [D("475.00"), D("25.00")]
    assert invoice.total == D("500.00")
    assert invoice.number == "INV-000001"


@pytest.mark.usefixtures("priced")
def test_an_infusion_that_did_not_happen_is_not_invoiced(
    running: InfusionSession, billing: User
) -> None:
    with pytest.raises(BillingError) as error:
        invoices.invoice_session(running, by=billing)
    assert error.value.code == "visit_not_held"
    unguarded_update(
        InfusionSession.objects.filter(pk=running.pk),
        status=InfusionSession.Status.CANCELLED,
    )
    running.refresh_from_db()
    with pytest.raises(BillingError) as error:
        invoices.invoice_session(running, by=billing)
    assert error.value.code == "visit_not_held"
    assert not Invoice.objects.exists()


@pytest.mark.usefixtures("priced")
def test_an_infusion_is_invoiced_once(infused: InfusionSession, billing: User) -> None:
    invoices.invoice_session(infused, by=billing)
    with pytest.raises(BillingError) as error:
        invoices.invoice_session(infused, by=billing)
    assert error.value.code == "invoiced"
    assert Invoice.objects.count() == 1


def test_an_invoice_without_a_price_is_refused(
    infused: InfusionSession, billing: User
) -> None:
    with pytest.raises(BillingError) as error:
        invoices.invoice_session(infused, by=billing)
    assert error.value.code == "no_price"
    assert not Invoice.objects.exists()


# ------------------------------------------------------------------ payments


@pytest.fixture
def invoice(priced: None, infused: InfusionSession, billing: User) -> Invoice:
    return invoices.invoice_session(infused, by=billing)


def test_a_payment_closes_the_invoice(invoice: Invoice, billing: User) -> None:
    invoices.record_payment(
        invoice, amount="500.00", method="card", reference="T-1", by=billing
    )
    assert invoice_balance(invoice).due == D("0.00")


@pytest.mark.parametrize(
    ("amount", "method", "reference", "field", "code"),
    [
        ("-5", "cash", "", "amount", "negative"),
        ("0", "cash", "", "amount", "not_positive"),
        ("500.01", "cash", "", "amount", "exceeds_balance"),
        ("100", "card", "", "reference", "reference"),
        ("100", "bitcoin", "", "method", "method"),
    ],
)
def test_bad_payments_are_refused_and_nothing_written(
    invoice: Invoice,
    billing: User,
    amount: str,
    method: str,
    reference: str,
    field: str,
    code: str,
) -> None:
    with pytest.raises(BillingError) as error:
        invoices.record_payment(
            invoice, amount=amount, method=method, reference=reference, by=billing
        )
    assert (error.value.field, error.value.code) == (field, code)
    assert not Payment.objects.exists()


def test_an_overpayment_becomes_credit_only_when_said_so(
    invoice: Invoice, billing: User, patient: Patient
) -> None:
    made = invoices.record_payment(
        invoice, amount="600", method="cash", excess_as_credit=True, by=billing
    )
    assert [(p.invoice_id, p.amount) for p in made] == [
        (invoice.pk, D("500.00")),
        (None, D("100.00")),
    ]
    assert invoice_balance(invoice).due == 0
    assert account_credit(patient) == D("100.00")


def test_refunds_are_new_rows_and_never_exceed_what_was_paid(
    invoice: Invoice, billing: User
) -> None:
    [payment] = invoices.record_payment(
        invoice, amount="200", method="cash", by=billing
    )
    invoices.refund_payment(payment, amount="50", reason="Goodwill", by=billing)
    assert invoice_balance(invoice).due == D("350.00")
    with pytest.raises(BillingError) as error:
        invoices.refund_payment(payment, amount="150.01", reason="Too much", by=billing)
    assert error.value.code == "exceeds_paid"
    assert Payment.objects.get(pk=payment.pk).amount == D("200.00")
    assert Payment.objects.filter(kind=Payment.Kind.REFUND).count() == 1


def test_a_refund_needs_a_reason(invoice: Invoice, billing: User) -> None:
    [payment] = invoices.record_payment(
        invoice, amount="200", method="cash", by=billing
    )
    with pytest.raises(BillingError) as error:
        invoices.refund_payment(payment, amount="10", reason=" ", by=billing)
    assert error.value.field == "reason"


# ------------------------------------------------------------------ packages


@pytest.mark.usefixtures("priced")
def test_a_package_deposit_is_credit_used_by_the_first_infusion(
    organization: Organization,
    patient: Patient,
    running: InfusionSession,
    billing: User,
) -> None:
    package = factories.induction_package(organization, billing)
    sale = estimates.sell_package(
        patient, package=package, method="card", reference="T-9", by=billing
    )
    assert account_credit(patient) == D("500.00")
    invoice = invoices.invoice_session(
        factories.finish(running, minutes=40), by=billing
    )
    assert invoice.package_sale == sale
    assert invoice.lines.all()[0].unit_price == D("416.66")  # 2500 / 6, rounded down
    assert invoice.total == D("441.66")
    assert invoice_balance(invoice).due == D("0.00")
    assert account_credit(patient) == D("58.34")


@pytest.mark.usefixtures("priced")
def test_a_short_deposit_is_refused(
    organization: Organization, patient: Patient, billing: User
) -> None:
    package = factories.induction_package(organization, billing)
    with pytest.raises(BillingError) as error:
        estimates.sell_package(
            patient, package=package, deposit_amount="100", method="cash", by=billing
        )
    assert error.value.code == "deposit_short"
    assert not Payment.objects.exists()


# ------------------------------------------------------------------ estimates


@pytest.mark.usefixtures("priced")
def test_an_estimate_needs_the_self_pay_answer(patient: Patient, billing: User) -> None:
    with pytest.raises(BillingError) as error:
        estimates.give_estimate(
            patient,
            items=[estimates.EstimateItem("consult")],
            scheduled_on=date(2026, 12, 7),
            service_on=date(2026, 12, 21),
            by=billing,
        )
    assert error.value.code == "payer_status_unknown"
    estimates.record_payer_status(patient, status="insured", by=billing)
    with pytest.raises(BillingError) as error:
        estimates.give_estimate(
            patient,
            items=[estimates.EstimateItem("consult")],
            scheduled_on=date(2026, 12, 7),
            by=billing,
        )
    assert error.value.code == "insured"
    assert not GoodFaithEstimate.objects.exists()


@pytest.mark.usefixtures("priced")
def test_an_estimate_lists_items_codes_diagnoses_and_its_deadline(
    organization: Organization, diagnosed: Patient, billing: User
) -> None:
    estimates.record_payer_status(diagnosed, status="self_pay", by=billing)
    package = factories.induction_package(organization, billing)
    estimate = estimates.give_estimate(
        diagnosed,
        package_version=package.versions.get(),
        items=[estimates.EstimateItem("consult")],
        scheduled_on=date(2026, 12, 7),
        service_on=date(2026, 12, 21),
        by=billing,
    )
    assert estimate.total == D("2950.00")
    assert estimate.due_by == date(2026, 12, 10)
    assert [line["code"] for line in estimate.content["lines"]] == ["96365", "90792"]
    assert estimate.content["diagnoses"][0]["code"] == "F33.2"
    assert "right to dispute" in estimate.content["disclaimer"]


# ------------------------------------------------------------------ superbills


def test_a_superbill_has_every_field(
    invoice: Invoice, diagnosed: Patient, billing: User
) -> None:
    invoices.record_payment(
        invoice, amount="500", method="card", reference="T-1", by=billing
    )
    bill = superbills.make_superbill(diagnosed, invoice=invoice, by=billing)
    content = bill.content
    assert content["provider"]["rendering_npi"] == factories.NPI
    assert content["provider"]["tax_id"] == "12-3456789"
    assert content["provider"]["license"] == "MD-000001 (NY)"
    assert content["diagnoses"][0] == {
        "pointer": "A",
        "code": "F33.2",
        "description": "Major depressive disorder, recurrent severe",
    }
    assert [
        (x["code"], x["units"], x["pointers"], x["place_of_service"])
        for x in content["lines"]
    ] == [
        ("96365", 1, "A", "11"),
        ("J3490", 1, "A", "11"),
    ]
    assert content["paid_in_full"] is True
    assert content["total_charged"] == "500.00"


def test_a_superbill_without_a_diagnosis_is_refused(
    invoice: Invoice, patient: Patient, billing: User
) -> None:
    with pytest.raises(BillingError) as error:
        superbills.make_superbill(patient, invoice=invoice, by=billing)
    assert error.value.code == "no_diagnosis"


def test_a_superbill_without_an_npi_is_refused(
    organization: Organization,
    infused: InfusionSession,
    diagnosed: Patient,
    billing: User,
) -> None:
    factories.price_list(organization, billing)
    invoice = invoices.invoice_session(infused, by=billing)
    with pytest.raises(BillingError) as error:
        superbills.make_superbill(diagnosed, invoice=invoice, by=billing)
    assert error.value.code == "no_npi"


def test_totals_verify(invoice: Invoice, billing: User) -> None:
    invoices.record_payment(invoice, amount="100", method="cash", by=billing)
    assert verify_totals(invoice.organization_id) == []
    # As someone with the database would, past the append-only trigger.
    with triggers_off("billing_invoice"):
        Invoice.objects.filter(pk=invoice.pk).update(total=D("1.00"))
    assert verify_totals(invoice.organization_id)


def test_services_have_codes(organization: Organization, billing: User) -> None:
    factories.price_list(organization, billing)
    assert dict(Service.objects.values_list("key", "code"))["tms_session"] == "90868"


def test_the_verify_command_names_a_bad_invoice(invoice: Invoice) -> None:
    from io import StringIO

    from django.core.management import CommandError, call_command

    out = StringIO()
    call_command("billing", "verify", stdout=out)
    assert "ok" in out.getvalue()
    with triggers_off("billing_invoice"):
        Invoice.objects.filter(pk=invoice.pk).update(total=D("1.00"))
    with pytest.raises(CommandError):
        call_command("billing", "verify", stdout=StringIO(), stderr=StringIO())
