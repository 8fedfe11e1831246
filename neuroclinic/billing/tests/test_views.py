"""Billing pages: access by persona, each form's success and refusal, documents, audited reads."""

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from conftest import EVERYONE, expected_status, personas_with
from neuroclinic.accounts.models import User
from neuroclinic.accounts.roles import Capability
from neuroclinic.audit.models import AuditEvent
from neuroclinic.billing import pdf
from neuroclinic.billing.actions import estimates, invoices, superbills
from neuroclinic.billing.models import (
    GoodFaithEstimate,
    Invoice,
    Package,
    Payment,
    Price,
    Superbill,
)
from neuroclinic.billing.tests import factories
from neuroclinic.clinics.models import Organization
from neuroclinic.infusions.models import InfusionSession
from neuroclinic.patients.models import Patient

pytestmark = pytest.mark.django_db


@pytest.fixture
def invoice(priced: None, infused: InfusionSession, billing: User) -> Invoice:
    return invoices.invoice_session(infused, by=billing)


@pytest.fixture
def superbill(invoice: Invoice, diagnosed: Patient, billing: User) -> Superbill:
    invoices.record_payment(
        invoice, amount="500", method="card", reference="T-1", by=billing
    )
    return superbills.make_superbill(diagnosed, invoice=invoice, by=billing)


@pytest.mark.parametrize("persona", EVERYONE)
def test_account_page_access(
    as_persona: Callable[[str], Client], persona: str, patient: Patient
) -> None:
    response = as_persona(persona).get(reverse("billing:account", args=[patient.uuid]))
    assert response.status_code == expected_status(
        persona, personas_with(Capability.BILLING_VIEW)
    )


@pytest.mark.parametrize("persona", EVERYONE)
def test_billing_home_access(as_persona: Callable[[str], Client], persona: str) -> None:
    response = as_persona(persona).get(reverse("billing:home"))
    assert response.status_code == expected_status(
        persona, personas_with(Capability.BILLING_VIEW)
    )


@pytest.mark.parametrize("persona", EVERYONE)
def test_superbill_pdf_access(
    as_persona: Callable[[str], Client], persona: str, superbill: Superbill
) -> None:
    response = as_persona(persona).get(
        reverse("billing:superbill_pdf", args=[superbill.uuid])
    )
    assert response.status_code == expected_status(
        persona, personas_with(Capability.BILLING_VIEW)
    )
    if response.status_code == 200:
        assert response.content.startswith(b"%PDF")


@pytest.mark.parametrize("persona", EVERYONE)
def test_set_price_access(
    as_persona: Callable[[str], Client], persona: str, organization: Organization
) -> None:
    response = as_persona(persona).post(
        reverse("billing:set_price"),
        {"service_key": "consult", "amount": "400", "currency_code": "USD"},
    )
    allowed = personas_with(Capability.BILLING_SETUP)
    assert response.status_code == expected_status(persona, allowed, ok=302)
    assert Price.objects.exists() is (persona in allowed)


@pytest.mark.parametrize("persona", EVERYONE)
def test_refund_access(
    as_persona: Callable[[str], Client], persona: str, invoice: Invoice, billing: User
) -> None:
    [payment] = invoices.record_payment(
        invoice, amount="100", method="cash", by=billing
    )
    response = as_persona(persona).post(
        reverse("billing:refund", args=[payment.uuid]),
        {"amount": "10", "reason": "Goodwill"},
    )
    allowed = personas_with(Capability.BILLING_REFUND)
    assert response.status_code == expected_status(persona, allowed, ok=302)
    assert Payment.objects.filter(kind="refund").exists() is (persona in allowed)


def test_billing_sees_codes_and_money_never_scores_or_notes(
    as_persona: Callable[[str], Client], superbill: Superbill, diagnosed: Patient
) -> None:
    client = as_persona("billing")
    page = client.get(
        reverse("billing:account", args=[diagnosed.uuid])
    ).content.decode()
    assert "F33.2" in page
    assert "INV-000001" in page
    assert "PHQ" not in page
    assert "Infusion note" not in page
    # And the clinical chart's scores and notes stay closed to the billing role.
    assert (
        client.get(reverse("infusions:patient_log", args=[diagnosed.uuid])).status_code
        == 403
    )


def test_opening_an_account_is_audited(
    as_persona: Callable[[str], Client], patient: Patient
) -> None:
    as_persona("billing").get(reverse("billing:account", args=[patient.uuid]))
    assert AuditEvent.objects.filter(
        action=AuditEvent.Action.BILLING_ACCOUNT_VIEWED, patient_id=patient.pk
    ).exists()


def test_the_whole_flow_through_the_pages(
    as_persona: Callable[[str], Client],
    organization: Organization,
    diagnosed: Patient,
    priced: None,
    infused: InfusionSession,
    billing: User,
) -> None:
    factories.induction_package(organization, billing)
    client = as_persona("billing")
    account = reverse("billing:account", args=[diagnosed.uuid])
    assert (
        client.post(
            reverse("billing:payer_status", args=[diagnosed.uuid]),
            {"status": "self_pay", "member_id": "XYZ1"},
        ).status_code
        == 302
    )
    package = Package.objects.get()
    response = client.post(
        reverse("billing:give_estimate", args=[diagnosed.uuid]),
        {
            "package": package.pk,
            "consult": "on",
            "scheduled_on": "2026-12-07",
            "service_on": "2026-12-21",
        },
    )
    assert response.status_code == 302
    estimate = GoodFaithEstimate.objects.get()
    assert client.get(
        reverse("billing:estimate_pdf", args=[estimate.uuid])
    ).content.startswith(b"%PDF")
    response = client.post(
        reverse("billing:sell_package", args=[diagnosed.uuid]),
        {"package": package.pk, "method": "card", "reference": "T-55"},
    )
    assert response.status_code == 302
    response = client.post(
        reverse("billing:invoice_session", args=[diagnosed.uuid, infused.uuid])
    )
    assert response.status_code == 302
    invoice = Invoice.objects.get()
    assert [line.code for line in invoice.lines.all()] == ["96365", "J3490"]
    assert (
        client.post(
            reverse("billing:invoice_superbill", args=[invoice.uuid])
        ).status_code
        == 302
    )
    bill = Superbill.objects.get()
    csv_text = client.get(
        reverse("billing:superbill_csv", args=[bill.uuid])
    ).content.decode()
    for expected in (factories.NPI, "96365", "F33.2"):
        assert expected in csv_text
    assert client.get(account).status_code == 200


@pytest.mark.usefixtures("priced")
@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"amount": "-5", "method": "cash"}, "cannot be negative"),
        ({"amount": "9999", "method": "cash"}, "more than the"),
        ({"amount": "10", "method": "card"}, "reference"),
        ({"amount": "ten", "method": "cash"}, "such as 250.00"),
    ],
)
def test_bad_payments_show_a_field_error_and_write_nothing(
    as_persona: Callable[[str], Client],
    invoice: Invoice,
    data: dict[str, str],
    message: str,
) -> None:
    response = as_persona("billing").post(
        reverse("billing:pay", args=[invoice.uuid]), data
    )
    assert response.status_code == 422
    assert message in response.content.decode()
    assert not Payment.objects.exists()


def test_invoicing_a_session_still_running_is_refused_on_the_page(
    as_persona: Callable[[str], Client], priced: None, running: InfusionSession
) -> None:
    response = as_persona("billing").post(
        reverse("billing:invoice_session", args=[running.patient.uuid, running.uuid])
    )
    assert response.status_code == 422
    assert "has not ended" in response.content.decode()
    assert not Invoice.objects.exists()


def test_superbill_html_has_every_field(superbill: Superbill) -> None:
    html = pdf.superbill_html(superbill)
    for expected in (
        factories.NPI,
        "12-3456789",
        "MD-000001 (NY)",
        "96365",
        "J3490",
        "F33.2",
        "Casey Testova",
        "1985-04-12",
        "500.00",
        "Paid in full",
        ">11<",
    ):
        assert expected in html, expected


def test_superbill_csv_never_starts_a_cell_with_a_formula(superbill: Superbill) -> None:
    superbill.content["patient"]["name"] = "=HYPERLINK(1)"
    assert "'=HYPERLINK" in pdf.superbill_csv(superbill)


def test_aging_report_costs_the_same_queries_however_many_invoices(
    as_persona: Callable[[str], Client],
    invoice: Invoice,
    billing: User,
    django_assert_num_queries: Callable[[int], Any],
) -> None:
    client = as_persona("billing")
    with django_assert_num_queries(14):
        response = client.get(reverse("billing:aging"))
    assert "INV-000001" in response.content.decode()
    for n in range(2, 5):
        Invoice.objects.create(
            organization_id=invoice.organization_id,
            patient=invoice.patient,
            number=f"INV-00000{n}",
            kind=Invoice.Kind.VISIT,
            service_date=invoice.service_date,
            total=invoice.total,
            issued_by=billing,
        )
    with django_assert_num_queries(14):
        response = client.get(reverse("billing:aging"))
    assert "INV-000004" in response.content.decode()


def test_day_end_adds_payments_less_refunds(
    as_persona: Callable[[str], Client], invoice: Invoice, billing: User
) -> None:
    [payment] = invoices.record_payment(
        invoice, amount="300", method="cash", by=billing
    )
    invoices.refund_payment(payment, amount="50", reason="Goodwill", by=billing)
    page = as_persona("billing").get(reverse("billing:day_end")).content.decode()
    assert "250.00" in page


def test_estimate_refused_without_the_self_pay_answer_on_the_page(
    as_persona: Callable[[str], Client], priced: None, patient: Patient
) -> None:
    response = as_persona("billing").post(
        reverse("billing:give_estimate", args=[patient.uuid]),
        {"consult": "on", "scheduled_on": "2026-12-07", "service_on": "2026-12-21"},
    )
    assert response.status_code == 422
    assert "uninsured or paying" in response.content.decode()
    assert not GoodFaithEstimate.objects.exists()
    assert estimates.ESTIMATE_DISCLAIMER


ACCOUNT_PAGE_QUERIES = 30  # measured (TMS sessions and visits to invoice: +2; statements: +1; no audit savepoint: -2; the audit event one statement: -2); flat in sales and payments


@pytest.mark.usefixtures("priced")
def test_account_page_costs_the_same_queries_however_many_sales_and_payments(
    as_persona: Callable[[str], Client],
    organization: Organization,
    patient: Patient,
    billing: User,
    django_assert_num_queries: Callable[[int], Any],
) -> None:
    package = factories.induction_package(organization, billing)
    client = as_persona("billing")
    url = reverse("billing:account", args=[patient.uuid])

    def sell_and_refund() -> None:
        sale = estimates.sell_package(
            patient, package=package, deposit_amount="500", reference="T-1", by=billing
        )
        deposit = Payment.objects.filter(
            package_sale=sale, kind=Payment.Kind.PAYMENT
        ).first()
        assert deposit is not None
        invoices.refund_payment(deposit, amount="10", reason="Test", by=billing)

    sell_and_refund()
    with django_assert_num_queries(ACCOUNT_PAGE_QUERIES):
        first = client.get(url)
    assert first.status_code == 200
    for _ in range(3):
        sell_and_refund()
    with django_assert_num_queries(ACCOUNT_PAGE_QUERIES):
        assert client.get(url).status_code == 200
