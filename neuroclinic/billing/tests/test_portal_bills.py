"""The patient downloads their own invoices, superbills and estimates in the portal;
another patient's documents answer 404; every opening is audited."""

import pytest
from django.test import Client

from neuroclinic.accounts.models import User
from neuroclinic.audit.models import AuditEvent
from neuroclinic.billing.actions import invoices, superbills
from neuroclinic.billing.models import Invoice, Superbill
from neuroclinic.infusions.models import InfusionSession
from neuroclinic.patients import actions as patient_actions
from neuroclinic.patients.models import Patient
from neuroclinic.portal.tests.test_portal import portal
from tests.pdf_text import pdf_text, squeezed

pytestmark = pytest.mark.django_db


@pytest.fixture
def invoice(priced: None, infused: InfusionSession, billing: User) -> Invoice:
    return invoices.invoice_session(infused, by=billing)


@pytest.fixture
def superbill(invoice: Invoice, diagnosed: Patient, billing: User) -> Superbill:
    invoices.record_payment(
        invoice, amount=str(invoice.total), method="card", reference="T-1", by=billing
    )
    return superbills.make_superbill(diagnosed, invoice=invoice, by=billing)


def test_the_patient_downloads_their_own_receipt_and_superbill(
    client: Client,
    patient: Patient,
    front_desk: User,
    invoice: Invoice,
    superbill: Superbill,
) -> None:
    signed_in = portal(client, patient, front_desk)
    page = signed_in.get("/portal/bills/")
    assert page.status_code == 200
    body = page.content.decode()
    assert f"Receipt {invoice.number}" in body
    response = signed_in.get(f"/portal/bills/invoices/{invoice.uuid}.pdf")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert "no-store" in response["Cache-Control"]
    assert invoice.number in pdf_text(response.content)
    response = signed_in.get(f"/portal/bills/superbills/{superbill.uuid}.pdf")
    assert response.status_code == 200
    text = squeezed(pdf_text(response.content))
    assert "RenderingNPI1234567893" in text
    assert "Paidinfull" in text
    events = AuditEvent.objects.filter(
        action=AuditEvent.Action.BILLING_DOCUMENT_VIEWED, patient=patient
    )
    assert sorted(e.data["document"] for e in events) == ["invoice", "superbill"]
    assert all(e.actor is None and e.data["via"] == "portal" for e in events)
    assert AuditEvent.objects.filter(
        action=AuditEvent.Action.BILLING_ACCOUNT_VIEWED, patient=patient
    ).exists()


def test_another_patient_gets_404_for_these_documents(
    client: Client,
    patient: Patient,
    front_desk: User,
    invoice: Invoice,
    superbill: Superbill,
) -> None:
    assert patient.organization is not None
    other = patient_actions.register_patient(
        patient.organization,
        by=front_desk,
        family_name="Otherova",
        given_name="Olive",
        birth_date=patient.birth_date,
        sex_at_birth=patient.sex_at_birth,
    )
    signed_in = portal(client, other, front_desk)
    assert invoice.number not in signed_in.get("/portal/bills/").content.decode()
    for url in (
        f"/portal/bills/invoices/{invoice.uuid}.pdf",
        f"/portal/bills/superbills/{superbill.uuid}.pdf",
    ):
        response = signed_in.get(url)
        assert response.status_code == 404
        assert b"%PDF" not in response.content
    assert not AuditEvent.objects.filter(
        action=AuditEvent.Action.BILLING_DOCUMENT_VIEWED
    ).exists()


def test_the_bills_need_the_portal_session(client: Client, invoice: Invoice) -> None:
    response = client.get(f"/portal/bills/invoices/{invoice.uuid}.pdf")
    assert response.status_code == 401
    assert b"%PDF" not in response.content
