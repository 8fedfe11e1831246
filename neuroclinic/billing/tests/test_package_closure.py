"""A package's unused-session terms applied when it closes (issue #12): refund at the
unused sessions' share (refund rows), keep as credit (nothing moves), or forfeit (a
`forfeited` row takes the credit). Always new records, never an edit; once per sale;
refused inputs write nothing; the totals still add up (`billing verify`)."""

from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal as D

import pytest
from django.test import Client
from django.utils import timezone

from conftest import EVERYONE, expected_status, personas_with
from neuroclinic.accounts.models import User
from neuroclinic.accounts.roles import Capability
from neuroclinic.audit.models import AuditEvent
from neuroclinic.billing.accounting import account_credit
from neuroclinic.billing.actions import estimates, invoices, packages, setup, statements
from neuroclinic.billing.errors import BillingError
from neuroclinic.billing.models import (
    Package,
    PackageClosure,
    PackageSale,
    Payment,
    Service,
)
from neuroclinic.billing.tests import factories
from neuroclinic.billing.verify import verify_totals
from neuroclinic.clinics.models import Organization
from neuroclinic.infusions.models import InfusionSession
from neuroclinic.patients.models import Patient

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("priced")]


def _sale(
    organization: Organization,
    patient: Patient,
    billing: User,
    policy: str,
    deposit: str = "500.00",
) -> PackageSale:
    version = setup.set_package_terms(
        organization,
        name=f"Induction series of six ({policy})",
        service_key=Service.Key.INFUSION,
        sessions=6,
        price=D("2400.00"),
        deposit=D("500.00"),
        unused_sessions=policy,
        by=billing,
    )
    return estimates.sell_package(
        patient,
        package=version.package,
        deposit_amount=deposit,
        method="card",
        reference="T-1",
        by=billing,
    )


@pytest.mark.parametrize(
    ("policy", "deposit", "settled", "credit_after", "new_kinds"),
    [
        # Nothing used: 6 x 400.00 unused; only what is on account can be settled.
        ("refund", "500.00", "500.00", "0.00", ["refund"]),
        ("refund", "2400.00", "2400.00", "0.00", ["refund"]),
        ("credit", "500.00", "500.00", "500.00", []),
        ("forfeit", "500.00", "500.00", "0.00", ["forfeited"]),
        ("forfeit", "2400.00", "2400.00", "0.00", ["forfeited"]),
    ],
)
def test_each_policy_settles_the_unused_sessions_with_new_rows(
    organization: Organization,
    patient: Patient,
    billing: User,
    policy: str,
    deposit: str,
    settled: str,
    credit_after: str,
    new_kinds: list[str],
) -> None:
    sale = _sale(organization, patient, billing, policy, deposit)
    paid = list(Payment.objects.values_list("pk", "amount"))
    closure = packages.close_package(sale, reason="course_ended", by=billing)
    assert (closure.policy, closure.reason) == (policy, "course_ended")
    assert (closure.sessions_sold, closure.sessions_used) == (6, 0)
    assert closure.unused_value == D("2400.00")
    assert closure.settled_amount == D(settled)
    assert account_credit(patient) == D(credit_after)
    # The deposit payment is untouched; what settles is new rows.
    assert (
        list(
            Payment.objects.filter(pk__in=[p for p, _ in paid]).values_list(
                "pk", "amount"
            )
        )
        == paid
    )
    new = Payment.objects.exclude(pk__in=[p for p, _ in paid])
    assert [p.kind for p in new] == new_kinds
    assert sum((p.amount for p in new), D("0")) == (D(settled) if new_kinds else D("0"))
    if new_kinds == ["refund"]:
        original = new.get().refund_of
        assert original is not None
        assert original.package_sale == sale
    assert (
        AuditEvent.objects.filter(
            action=AuditEvent.Action.BILLING_PACKAGE_CLOSED, patient=patient
        ).count()
        == 1
    )
    assert verify_totals(organization.pk) == []


def test_used_sessions_are_not_settled_and_a_closed_package_prices_no_more(
    organization: Organization,
    patient: Patient,
    running: InfusionSession,
    billing: User,
) -> None:
    sale = _sale(
        organization, patient, billing, Package.UnusedSessions.REFUND, "2400.00"
    )
    first = invoices.invoice_session(factories.finish(running, minutes=40), by=billing)
    assert first.package_sale == sale
    assert first.lines.all()[0].unit_price == D("400.00")
    credit = account_credit(patient)  # 2400 less the first infusion and its drug
    assert credit == D("2400.00") - first.total
    closure = packages.close_package(
        sale, reason="cancelled", note="Moved away", by=billing
    )
    assert (closure.sessions_used, closure.unused_sessions) == (1, 5)
    assert closure.unused_value == D("2000.00")  # 5 x 400.00
    # The drug on the first invoice used credit too: only what is left is refunded.
    assert credit == D("1975.00")
    assert closure.settled_amount == D("1975.00")
    assert account_credit(patient) == D("0.00")
    assert closure.note == "Moved away"
    assert verify_totals(organization.pk) == []
    assert packages.sessions_used(sale) == 1
    # The open-package lookup skips a closed sale: the next infusion is at list price.
    assert invoices._open_package_sale(patient, Service.Key.INFUSION) is None


@pytest.mark.parametrize(
    ("reason", "field", "code"),
    [
        ("", "reason", "reason"),
        ("whenever", "reason", "reason"),
        ("completed", "reason", "not_completed"),  # sessions are left
    ],
)
def test_bad_closures_are_refused_and_write_nothing(
    organization: Organization,
    patient: Patient,
    billing: User,
    reason: str,
    field: str,
    code: str,
) -> None:
    sale = _sale(organization, patient, billing, Package.UnusedSessions.FORFEIT)
    payments = Payment.objects.count()
    with pytest.raises(BillingError) as refused:
        packages.close_package(sale, reason=reason, by=billing)
    assert (refused.value.field, refused.value.code) == (field, code)
    assert PackageClosure.objects.count() == 0
    assert Payment.objects.count() == payments


def test_a_package_closes_once(
    organization: Organization, patient: Patient, billing: User
) -> None:
    sale = _sale(organization, patient, billing, Package.UnusedSessions.REFUND)
    packages.close_package(sale, reason="expired", by=billing)
    payments = Payment.objects.count()
    with pytest.raises(BillingError) as refused:
        packages.close_package(sale, reason="expired", by=billing)
    assert refused.value.field == "package_sale"
    assert PackageClosure.objects.count() == 1
    assert Payment.objects.count() == payments


def test_a_forfeit_shows_on_the_statement_and_it_still_adds_up(
    organization: Organization, diagnosed: Patient, billing: User
) -> None:
    sale = _sale(organization, diagnosed, billing, Package.UnusedSessions.FORFEIT)
    packages.close_package(sale, reason="expired", by=billing)
    today = timezone.localdate()
    statement = statements.make_statement(
        diagnosed, period_start=today - timedelta(days=1), period_end=today, by=billing
    )
    assert statement.content["totals"]["forfeited"] == "500.00"
    assert statement.content["credit_on_account"] == "0.00"
    assert statement.closing_balance == D("0.00")
    assert verify_totals(organization.pk) == []


def test_the_end_of_day_reconciliation_does_not_count_a_forfeit(
    client: Client,
    organization: Organization,
    patient: Patient,
    billing: User,
) -> None:
    from conftest import login

    sale = _sale(organization, patient, billing, Package.UnusedSessions.FORFEIT)
    packages.close_package(sale, reason="expired", by=billing)
    login(client, billing)
    page = client.get("/billing/reports/day-end/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "500.00" in html  # the deposit taken by card
    assert "Credit on account" not in html  # the forfeit moved no money


# ---------------------------------------------------------------------------- the API


@pytest.mark.parametrize("persona", EVERYONE)
def test_who_closes_a_package_over_the_api(
    client: Client,
    persona: str,
    organization: Organization,
    patient: Patient,
    billing: User,
    request: pytest.FixtureRequest,
    bearer: Callable[[User], dict[str, str]],
) -> None:
    sale = _sale(organization, patient, billing, Package.UnusedSessions.CREDIT)
    headers = {} if persona == "anonymous" else bearer(request.getfixturevalue(persona))
    response = client.post(
        f"/api/billing/package-sales/{sale.uuid}/close",
        {"reason": "course_ended"},
        content_type="application/json",
        headers=headers,
    )
    assert response.status_code == expected_status(
        persona,
        personas_with(Capability.BILLING_REFUND),
        ok=201,
        anonymous=401,
    )
    assert PackageClosure.objects.count() == (1 if response.status_code == 201 else 0)


def test_closing_over_the_api(
    client: Client,
    organization: Organization,
    patient: Patient,
    billing: User,
    bearer: Callable[[User], dict[str, str]],
) -> None:
    sale = _sale(organization, patient, billing, Package.UnusedSessions.REFUND)
    url = f"/api/billing/package-sales/{sale.uuid}/close"
    headers = bearer(billing)
    bad = client.post(
        url, {"reason": "soon"}, content_type="application/json", headers=headers
    )
    assert bad.status_code == 422
    assert bad["Content-Type"] == "application/problem+json"
    assert [e["field"] for e in bad.json()["errors"]] == ["reason"]
    malformed = client.post(url, "{", content_type="application/json", headers=headers)
    assert 400 <= malformed.status_code < 500
    assert malformed["Content-Type"] == "application/problem+json"
    assert PackageClosure.objects.count() == 0
    done = client.post(
        url, {"reason": "expired"}, content_type="application/json", headers=headers
    )
    assert done.status_code == 201, done.content
    body = done.json()
    assert (body["policy"], body["settled_amount"], body["unused_value"]) == (
        "refund",
        "500.00",
        "2400.00",
    )
    again = client.post(
        url, {"reason": "expired"}, content_type="application/json", headers=headers
    )
    assert again.status_code == 422
    assert [e["field"] for e in again.json()["errors"]] == ["package_sale"]
    unknown = client.post(
        "/api/billing/package-sales/00000000-0000-0000-0000-000000000000/close",
        {"reason": "expired"},
        content_type="application/json",
        headers=headers,
    )
    assert unknown.status_code == 404
    assert unknown["Content-Type"] == "application/problem+json"


# ---------------------------------------------------------------------------- the page


def test_billing_closes_a_package_on_the_account_page(
    client: Client,
    organization: Organization,
    patient: Patient,
    billing: User,
    front_desk: User,
) -> None:
    from conftest import login

    sale = _sale(organization, patient, billing, Package.UnusedSessions.FORFEIT)
    url = f"/billing/package-sales/{sale.uuid}/close"
    login(client, front_desk)
    assert client.post(url, {"reason": "expired"}).status_code == 403
    login(client, billing)
    page = client.get(f"/billing/patients/{patient.uuid}/").content.decode()
    assert "Close the package" in page
    refused = client.post(url, {"reason": "completed"})
    assert refused.status_code == 422
    assert "sessions are not used" in refused.content.decode()
    assert PackageClosure.objects.count() == 0
    done = client.post(url, {"reason": "expired", "note": "Twelve months passed"})
    assert done.status_code == 302
    closure = PackageClosure.objects.get()
    assert (closure.policy, closure.settled_amount) == ("forfeit", D("500.00"))
    page = client.get(f"/billing/patients/{patient.uuid}/").content.decode()
    assert "500.00 USD forfeited of 2400.00 unused" in page
    assert "Close the package" not in page
