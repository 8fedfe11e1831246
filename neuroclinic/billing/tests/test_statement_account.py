"""Patient statements end to end: the action's figures, the PDF on the letterhead, the
account page, the portal, the API, the audit trail, `billing verify`, and bad input
(refused by name, nothing written)."""

import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from conftest import EVERYONE, expected_status, personas_with
from neuroclinic.accounts.models import User
from neuroclinic.accounts.roles import Capability
from neuroclinic.audit.models import AuditEvent
from neuroclinic.audit.tests.helpers import unguarded_update
from neuroclinic.billing import pdf
from neuroclinic.billing.actions import invoices, statements
from neuroclinic.billing.errors import BillingError
from neuroclinic.billing.models import Invoice, Payment, Statement
from neuroclinic.billing.verify import verify_totals
from neuroclinic.infusions.models import InfusionSession
from neuroclinic.patients import actions as patient_actions
from neuroclinic.patients.models import Patient
from neuroclinic.portal.tests.test_portal import portal
from tests.pdf_text import pdf_text

pytestmark = pytest.mark.django_db
D = Decimal
TODAY = timezone.localdate()
START, END = TODAY - timedelta(days=30), TODAY - timedelta(days=1)


def _at(day: date) -> datetime:
    return datetime.combine(day, time(12), tzinfo=UTC)


@pytest.fixture
def account(
    priced: None, diagnosed: Patient, infused: InfusionSession, billing: User
) -> Invoice:
    """Invoiced before the period; paid in part, overpaid into credit and part refunded
    inside it; one more payment after it."""
    invoice = invoices.invoice_session(infused, by=billing)
    unguarded_update(
        Invoice.objects.filter(pk=invoice.pk), issued_at=_at(START - timedelta(days=5))
    )
    first = invoices.record_payment(
        invoice, amount=invoice.total - 100, method="card", reference="T-1", by=billing
    )
    second = invoices.record_payment(
        invoice, amount="200", method="cash", excess_as_credit=True, by=billing
    )
    refund = invoices.refund_payment(
        second[-1], amount="20", reason="Goodwill", by=billing
    )
    unguarded_update(Payment.objects.filter(pk=first[0].pk), received_at=_at(START))
    unguarded_update(
        Payment.objects.filter(pk__in=[p.pk for p in second]),
        received_at=_at(START + timedelta(days=3)),
    )
    unguarded_update(Payment.objects.filter(pk=refund.pk), received_at=_at(END))
    after = invoices.record_payment(
        invoice, amount="5", method="cash", excess_as_credit=True, by=billing
    )
    unguarded_update(
        Payment.objects.filter(pk__in=[p.pk for p in after]), received_at=_at(TODAY)
    )
    invoice.refresh_from_db()
    return invoice


def test_the_statement_adds_up_and_is_audited(
    account: Invoice, diagnosed: Patient, billing: User
) -> None:
    statement = statements.make_statement(
        diagnosed, period_start=START, period_end=END, by=billing
    )
    c = statement.content
    total = account.total
    assert D(c["opening_balance"]) == total
    assert D(c["totals"]["invoice"]) == 0
    assert D(c["totals"]["payment"]) == total - 100 + 200
    assert D(c["totals"]["refund"]) == D("20.00")
    assert D(c["closing_balance"]) == D("-80.00") == statement.closing_balance
    assert (c["invoices_due"], c["credit_on_account"]) == ("0.00", "80.00")
    assert [e["kind"] for e in c["entries"]] == [
        "payment",
        "payment",
        "payment",
        "refund",
    ]
    assert [e["balance"] for e in c["entries"]][-1] == "-80.00"
    assert statement.number.startswith("ST-")
    # Minimum necessary: charges and payments, the patient's name and address; no diagnoses.
    assert "F33.2" not in str(c)
    assert set(c) == {
        "practice",
        "patient",
        "currency",
        "opening_balance",
        "entries",
        "totals",
        "closing_balance",
        "invoices_due",
        "credit_on_account",
        "aging",
    }
    event = AuditEvent.objects.get(action=AuditEvent.Action.BILLING_STATEMENT_MADE)
    assert (event.patient_id, event.data["period_end"]) == (
        diagnosed.pk,
        END.isoformat(),
    )
    assert verify_totals(diagnosed.organization_id) == []


def test_an_open_invoice_is_aged_at_the_periods_end(
    priced: None, diagnosed: Patient, infused: InfusionSession, billing: User
) -> None:
    invoice = invoices.invoice_session(infused, by=billing)
    statement = statements.make_statement(
        diagnosed, period_start=TODAY, period_end=TODAY, by=billing
    )
    aging = {a["bucket"]: a["amount"] for a in statement.content["aging"]}
    assert aging["0-30"] == str(invoice.total)
    assert statement.content["closing_balance"] == str(invoice.total)


def test_the_pdf_has_the_letterhead_and_the_figures(
    account: Invoice, diagnosed: Patient, billing: User
) -> None:
    statement = statements.make_statement(
        diagnosed, period_start=START, period_end=END, by=billing
    )
    text = pdf_text(pdf.statement_pdf(statement))
    for expected in (
        "Lakeside Test Clinic PLLC",
        "12-3456789",
        statement.number,
        "Opening balance",
        "-80.00",
        "Credit on account",
        "over 90",
    ):
        assert expected in text, expected
    assert "F33.2" not in text


@pytest.mark.parametrize(
    ("start", "end", "field", "words"),
    [
        (END, START, "period_end", "ends before it starts"),
        (START, TODAY + timedelta(days=1), "period_end", "after today"),
        (None, END, "period_start", "first day"),
    ],
)
def test_bad_periods_are_refused_and_nothing_written(
    priced: None,
    diagnosed: Patient,
    billing: User,
    start: date | None,
    end: date | None,
    field: str,
    words: str,
) -> None:
    with pytest.raises(BillingError) as error:
        statements.make_statement(
            diagnosed, period_start=start, period_end=end, by=billing
        )
    assert error.value.field == field
    assert words in error.value.message
    assert not Statement.objects.exists()
    assert not AuditEvent.objects.filter(
        action=AuditEvent.Action.BILLING_STATEMENT_MADE
    ).exists()


def test_without_a_billing_identity_it_is_refused(
    diagnosed: Patient, billing: User
) -> None:
    with pytest.raises(BillingError) as error:
        statements.make_statement(
            diagnosed, period_start=START, period_end=END, by=billing
        )
    assert error.value.field == "identity"
    assert not Statement.objects.exists()


def test_a_changed_closing_balance_is_caught_by_verify(
    account: Invoice, diagnosed: Patient, billing: User
) -> None:
    statement = statements.make_statement(
        diagnosed, period_start=START, period_end=END, by=billing
    )
    unguarded_update(
        Statement.objects.filter(pk=statement.pk), closing_balance=D("1.00")
    )
    problems = verify_totals(diagnosed.organization_id)
    assert problems == [
        f"{statement.number}: closing balance differs from the statement given"
    ]


# ------------------------------------------------------------------ the account page


@pytest.mark.parametrize("persona", EVERYONE)
def test_making_a_statement_on_the_page_needs_billing_charge(
    as_persona: Callable[[str], Client], persona: str, priced: None, diagnosed: Patient
) -> None:
    response = as_persona(persona).post(
        reverse("billing:make_statement", args=[diagnosed.uuid]),
        {"period_start": START.isoformat(), "period_end": END.isoformat()},
    )
    assert response.status_code == expected_status(
        persona, personas_with(Capability.BILLING_CHARGE), ok=302
    )
    made = Statement.objects.count()
    assert made == (1 if response.status_code == 302 and persona != "anonymous" else 0)


def test_the_page_makes_lists_and_downloads_a_statement(
    as_persona: Callable[[str], Client], account: Invoice, diagnosed: Patient
) -> None:
    client = as_persona("billing")
    response = client.post(
        reverse("billing:make_statement", args=[diagnosed.uuid]),
        {"period_start": START.isoformat(), "period_end": END.isoformat()},
    )
    assert response.status_code == 302
    statement = Statement.objects.get()
    page = client.get(
        reverse("billing:account", args=[diagnosed.uuid])
    ).content.decode()
    assert statement.number in page
    assert "closing balance -80.00 USD" in page
    response = client.get(reverse("billing:statement_pdf", args=[statement.uuid]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Cache-Control"] == "no-store"
    event = AuditEvent.objects.filter(
        action=AuditEvent.Action.BILLING_DOCUMENT_VIEWED
    ).get()
    assert (event.patient_id, event.data["document"]) == (diagnosed.pk, "statement")


def test_the_page_refuses_a_period_ending_before_it_starts(
    as_persona: Callable[[str], Client], priced: None, diagnosed: Patient
) -> None:
    response = as_persona("billing").post(
        reverse("billing:make_statement", args=[diagnosed.uuid]),
        {"period_start": END.isoformat(), "period_end": START.isoformat()},
    )
    assert response.status_code == 422
    assert "The period ends before it starts." in response.content.decode()
    assert not Statement.objects.exists()


def test_an_unknown_patient_on_the_page_is_404(
    as_persona: Callable[[str], Client], priced: None
) -> None:
    response = as_persona("billing").post(
        reverse("billing:make_statement", args=[uuid.uuid4()]),
        {"period_start": START.isoformat(), "period_end": END.isoformat()},
    )
    assert response.status_code == 404
    assert not Statement.objects.exists()


# ------------------------------------------------------------------ the portal


def test_the_patient_gets_the_statement_in_the_portal_and_no_one_else_does(
    client: Client,
    account: Invoice,
    diagnosed: Patient,
    billing: User,
    front_desk: User,
) -> None:
    statement = statements.make_statement(
        diagnosed, period_start=START, period_end=END, by=billing
    )
    signed_in = portal(client, diagnosed, front_desk)
    page = signed_in.get("/portal/bills/").content.decode()
    assert f"Statement {statement.number}" in page
    response = signed_in.get(f"/portal/bills/statements/{statement.uuid}.pdf")
    assert response.status_code == 200
    assert statement.number in pdf_text(response.content)
    event = AuditEvent.objects.get(
        action=AuditEvent.Action.BILLING_DOCUMENT_VIEWED, patient=diagnosed
    )
    assert (event.actor, event.data["document"], event.data["via"]) == (
        None,
        "statement",
        "portal",
    )
    assert diagnosed.organization is not None
    other = patient_actions.register_patient(
        diagnosed.organization,
        by=front_desk,
        family_name="Otherova",
        given_name="Olive",
        birth_date=diagnosed.birth_date,
        sex_at_birth=diagnosed.sex_at_birth,
    )
    client.logout()
    other_client = portal(Client(), other, front_desk)
    assert (
        other_client.get(f"/portal/bills/statements/{statement.uuid}.pdf").status_code
        == 404
    )


# ------------------------------------------------------------------ the API


def _post(
    client: Client, patient: uuid.UUID, body: dict[str, str], headers: dict[str, str]
) -> Any:
    return client.post(
        f"/api/billing/patients/{patient}/statements",
        body,
        content_type="application/json",
        headers=headers,
    )


def test_the_api_makes_and_reads_a_statement(
    client: Client,
    account: Invoice,
    diagnosed: Patient,
    billing: User,
    bearer: Callable[[User], dict[str, str]],
) -> None:
    headers = bearer(billing)
    response = _post(
        client,
        diagnosed.uuid,
        {"period_start": START.isoformat(), "period_end": END.isoformat()},
        headers,
    )
    assert response.status_code == 201
    body = response.json()
    assert (body["closing_balance"], body["content"]["credit_on_account"]) == (
        "-80.00",
        "80.00",
    )
    response = client.get(f"/api/billing/statements/{body['id']}", headers=headers)
    assert response.status_code == 200
    assert response.json()["number"] == body["number"]
    event = AuditEvent.objects.get(action=AuditEvent.Action.BILLING_DOCUMENT_VIEWED)
    assert (event.data["document"], event.data["via"]) == ("statement", "api")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (
            {"period_start": END.isoformat(), "period_end": START.isoformat()},
            "period_end",
        ),
        ({"period_end": END.isoformat()}, "period_start"),
        (
            {
                "period_start": START.isoformat(),
                "period_end": (TODAY + timedelta(days=2)).isoformat(),
            },
            "period_end",
        ),
    ],
)
def test_the_api_refuses_bad_periods_by_name(
    client: Client,
    priced: None,
    diagnosed: Patient,
    billing: User,
    bearer: Callable[[User], dict[str, str]],
    body: dict[str, str],
    field: str,
) -> None:
    response = _post(client, diagnosed.uuid, body, bearer(billing))
    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    assert [e["field"] for e in response.json()["errors"]] == [field]
    assert not Statement.objects.exists()


def test_the_api_answers_404_for_an_unknown_patient_and_403_without_billing(
    client: Client,
    priced: None,
    diagnosed: Patient,
    billing: User,
    prescriber: User,
    bearer: Callable[[User], dict[str, str]],
) -> None:
    ok = {"period_start": START.isoformat(), "period_end": END.isoformat()}
    response = _post(client, uuid.uuid4(), ok, bearer(billing))
    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"
    response = _post(client, diagnosed.uuid, ok, bearer(prescriber))
    assert response.status_code == 403
    assert not Statement.objects.exists()
