"""/api/billing: access by persona, the flow, and problem+json for every refusal."""

from collections.abc import Callable

import pytest
from django.test import Client

from conftest import EVERYONE, expected_status, personas_with
from neuroclinic.accounts.models import User
from neuroclinic.accounts.roles import Capability
from neuroclinic.audit.models import AuditEvent
from neuroclinic.billing.actions import estimates, invoices
from neuroclinic.billing.models import Invoice, Payment, Price
from neuroclinic.billing.tests import factories
from neuroclinic.clinics.models import Organization
from neuroclinic.infusions.models import InfusionSession
from neuroclinic.patients.models import Patient

pytestmark = pytest.mark.django_db


@pytest.fixture
def invoice(priced: None, infused: InfusionSession, billing: User) -> Invoice:
    return invoices.invoice_session(infused, by=billing)


@pytest.mark.parametrize("persona", EVERYONE)
def test_account_read_access(
    client: Client,
    persona: str,
    patient: Patient,
    request: pytest.FixtureRequest,
    bearer: Callable[[User], dict[str, str]],
) -> None:
    headers = {} if persona == "anonymous" else bearer(request.getfixturevalue(persona))
    response = client.get(f"/api/billing/patients/{patient.uuid}", headers=headers)
    assert response.status_code == expected_status(
        persona, personas_with(Capability.BILLING_VIEW), anonymous=401
    )
    if response.status_code != 200:
        assert response["Content-Type"] == "application/problem+json"


def test_account_read_is_audited(
    client: Client,
    patient: Patient,
    billing: User,
    bearer: Callable[[User], dict[str, str]],
) -> None:
    client.get(f"/api/billing/patients/{patient.uuid}", headers=bearer(billing))
    event = AuditEvent.objects.filter(
        action=AuditEvent.Action.BILLING_ACCOUNT_VIEWED
    ).get()
    assert event.patient_id == patient.pk


def test_another_clinics_invoice_is_not_found(
    client: Client,
    invoice: Invoice,
    outsider: User,
    bearer: Callable[[User], dict[str, str]],
    other_organization: Organization,
) -> None:
    outsider.groups.add(*User.objects.get(username="billing").groups.all())
    response = client.post(
        f"/api/billing/invoices/{invoice.uuid}/payments",
        {"amount": "1", "method": "cash"},
        content_type="application/json",
        headers=bearer(outsider),
    )
    assert response.status_code == 404
    assert not Payment.objects.exists()


def test_the_flow_over_the_api(
    client: Client,
    organization: Organization,
    diagnosed: Patient,
    priced: None,
    infused: InfusionSession,
    billing: User,
    bearer: Callable[[User], dict[str, str]],
) -> None:
    headers = bearer(billing)
    package = factories.induction_package(organization, billing)
    assert (
        client.post(
            f"/api/billing/patients/{diagnosed.uuid}/payer-status",
            {"status": "uninsured"},
            content_type="application/json",
            headers=headers,
        ).status_code
        == 201
    )
    response = client.post(
        f"/api/billing/patients/{diagnosed.uuid}/estimates",
        {
            "package_id": str(package.uuid),
            "items": [{"service": "consult"}],
            "scheduled_on": "2026-12-07",
            "service_on": "2026-12-10",
        },
        content_type="application/json",
        headers=headers,
    )
    assert response.status_code == 201
    assert response.json()["due_by"] == "2026-12-08"
    response = client.post(
        f"/api/billing/sessions/{infused.uuid}/invoice", headers=headers
    )
    assert response.status_code == 201
    body = response.json()
    assert [(line["code"], line["units"]) for line in body["lines"]] == [
        ("96365", 1),
        ("J3490", 1),
    ]
    invoice_id = body["id"]
    response = client.post(
        f"/api/billing/invoices/{invoice_id}/payments",
        {"amount": "500.00", "method": "card", "reference": "T-7"},
        content_type="application/json",
        headers=headers,
    )
    assert response.status_code == 201
    payment_id = response.json()[0]["id"]
    response = client.post(
        f"/api/billing/payments/{payment_id}/refunds",
        {"amount": "20", "reason": "Goodwill"},
        content_type="application/json",
        headers=headers,
    )
    assert response.status_code == 201
    response = client.post(
        f"/api/billing/patients/{diagnosed.uuid}/superbills",
        {"invoice_id": invoice_id},
        content_type="application/json",
        headers=headers,
    )
    assert response.status_code == 201
    content = response.json()["content"]
    assert content["provider"]["rendering_npi"] == factories.NPI
    assert content["total_paid"] == "480.00"
    superbill_id = response.json()["id"]
    assert (
        client.get(
            f"/api/billing/superbills/{superbill_id}", headers=headers
        ).status_code
        == 200
    )
    account = client.get(
        f"/api/billing/patients/{diagnosed.uuid}", headers=headers
    ).json()
    assert account["invoices"][0]["due"] == "20.00"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"amount": "-1", "method": "cash"}, "amount"),
        ({"amount": "600", "method": "cash"}, "amount"),
        ({"amount": "1", "method": "card"}, "reference"),
        ({"amount": "1", "method": "barter"}, "method"),
        ({"method": "cash"}, "amount"),
    ],
)
def test_bad_payments_are_problem_documents_naming_the_field(
    client: Client,
    invoice: Invoice,
    billing: User,
    bearer: Callable[[User], dict[str, str]],
    body: dict[str, str],
    field: str,
) -> None:
    response = client.post(
        f"/api/billing/invoices/{invoice.uuid}/payments",
        body,
        content_type="application/json",
        headers=bearer(billing),
    )
    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    assert field in str(response.json())
    assert not Payment.objects.exists()


def test_refund_beyond_paid_is_refused(
    client: Client,
    invoice: Invoice,
    billing: User,
    bearer: Callable[[User], dict[str, str]],
) -> None:
    [payment] = invoices.record_payment(
        invoice, amount="100", method="cash", by=billing
    )
    response = client.post(
        f"/api/billing/payments/{payment.uuid}/refunds",
        {"amount": "100.01", "reason": "x"},
        content_type="application/json",
        headers=bearer(billing),
    )
    assert response.status_code == 422
    assert not Payment.objects.filter(kind="refund").exists()


def test_invoice_for_a_running_infusion_is_refused(
    client: Client,
    priced: None,
    running: InfusionSession,
    billing: User,
    bearer: Callable[[User], dict[str, str]],
) -> None:
    response = client.post(
        f"/api/billing/sessions/{running.uuid}/invoice", headers=bearer(billing)
    )
    assert response.status_code == 422
    assert not Invoice.objects.exists()


def test_superbill_without_diagnosis_is_refused(
    client: Client,
    invoice: Invoice,
    billing: User,
    bearer: Callable[[User], dict[str, str]],
) -> None:
    response = client.post(
        f"/api/billing/patients/{invoice.patient.uuid}/superbills",
        {"invoice_id": str(invoice.uuid)},
        content_type="application/json",
        headers=bearer(billing),
    )
    assert response.status_code == 422
    assert "diagnos" in response.json()["detail"] + str(response.json())


@pytest.mark.parametrize("persona", ["billing", "admin", "front_desk", "nurse"])
def test_set_price_over_the_api(
    client: Client,
    persona: str,
    request: pytest.FixtureRequest,
    bearer: Callable[[User], dict[str, str]],
) -> None:
    user = request.getfixturevalue(persona)
    response = client.post(
        "/api/billing/prices",
        {"service": "infusion", "amount": "475.00"},
        content_type="application/json",
        headers=bearer(user),
    )
    allowed = personas_with(Capability.BILLING_SETUP)
    assert response.status_code == expected_status(persona, allowed, ok=201)
    assert Price.objects.exists() is (persona in allowed)


def test_negative_price_over_the_api_is_refused(
    client: Client, billing: User, bearer: Callable[[User], dict[str, str]]
) -> None:
    response = client.post(
        "/api/billing/prices",
        {"service": "infusion", "amount": "-1"},
        content_type="application/json",
        headers=bearer(billing),
    )
    assert response.status_code == 422
    assert "negative" in str(response.json())


def test_estimate_needs_the_self_pay_answer_over_the_api(
    client: Client,
    priced: None,
    patient: Patient,
    billing: User,
    bearer: Callable[[User], dict[str, str]],
) -> None:
    response = client.post(
        f"/api/billing/patients/{patient.uuid}/estimates",
        {"items": [{"service": "consult"}], "scheduled_on": "2026-12-07"},
        content_type="application/json",
        headers=bearer(billing),
    )
    assert response.status_code == 422
    assert "payer_status" in str(response.json())
    assert estimates.ESTIMATE_DISCLAIMER
