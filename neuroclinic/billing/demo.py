"""Demo billing: a price list and packages, estimates given, packages sold, invoices paid
and open, one refund, superbills, a patient statement. Synthetic: the practice's tax id
and NPIs are made up (valid check digits, numbers nobody holds: 00-prefixed EIN)."""

from contextlib import suppress
from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from neuroclinic.billing.actions import (
    estimates,
    invoices,
    setup,
    statements,
    superbills,
)
from neuroclinic.billing.errors import BillingError
from neuroclinic.billing.models import Invoice, Package, Service
from neuroclinic.clinics.demo import DemoContext, main_address_lines
from neuroclinic.infusions.models import InfusionSession
from neuroclinic.lib.identifiers import complete_npi

DEMO_PRICES = {
    Service.Key.CONSULT: "450.00",
    Service.Key.INFUSION: "475.00",
    Service.Key.INFUSION_ADDITIONAL_HOUR: "150.00",
    Service.Key.IV_PUSH: "250.00",
    Service.Key.BOOSTER: "495.00",
    Service.Key.KETAMINE: "0.00",
    Service.Key.PRN_MEDICATION: "15.00",
    Service.Key.TMS_INITIAL: "600.00",
    Service.Key.TMS_SESSION: "300.00",
    Service.Key.TMS_MOTOR_THRESHOLD: "350.00",
    Service.Key.PSYCH_EVAL: "400.00",
    Service.Key.EM_99202: "210.00",
    Service.Key.EM_99203: "300.00",
    Service.Key.EM_99204: "395.00",
    Service.Key.EM_99205: "495.00",
    Service.Key.EM_99212: "125.00",
    Service.Key.EM_99213: "185.00",
    Service.Key.EM_99214: "260.00",
    Service.Key.EM_99215: "335.00",
}


def load(context: DemoContext) -> None:
    organization = context.organization
    clerk = context.staff["billing"]
    rng = context.rng
    setup.save_billing_identity(
        organization,
        legal_name=f"{organization.name} PLLC (demo)",
        tax_id_number="00-0000001",
        organization_npi=complete_npi("199999999"),
        address=", ".join(main_address_lines()) + " (demo)",
        phone=organization.phone,
        by=clerk,
    )
    for n, username in enumerate(("prescriber", "director")):
        setup.save_rendering_provider(
            context.staff[username],
            npi_number=complete_npi(f"19999999{n}"),
            license_number=f"DEMO-{n + 1:05d}",
            license_state="NY",
            taxonomy_code="2084P0800X",
            by=clerk,
        )
    for key, amount in DEMO_PRICES.items():
        setup.set_price(organization, service_key=key, amount=amount, by=clerk)
    # A price change, so the list shows its history.
    setup.set_price(
        organization,
        service_key=Service.Key.INFUSION,
        amount="495.00",
        reason="Demo: yearly price review",
        by=clerk,
    )
    induction = setup.set_package_terms(
        organization,
        name="Induction series of six infusions",
        service_key=Service.Key.INFUSION,
        sessions=6,
        price=Decimal("2550.00"),
        deposit=Decimal("500.00"),
        unused_sessions=Package.UnusedSessions.REFUND,
        by=clerk,
    ).package
    setup.set_package_terms(
        organization,
        name="TMS course of 36 sessions",
        service_key=Service.Key.TMS_SESSION,
        sessions=36,
        price=Decimal("9900.00"),
        deposit=Decimal("1000.00"),
        unused_sessions=Package.UnusedSessions.CREDIT,
        by=clerk,
    )

    sessions = list(
        InfusionSession.objects.filter(
            organization=organization,
            status__in=invoices.BILLABLE_SESSION_STATUSES,
            started_at__isnull=False,
            ended_at__isnull=False,
        )
        .select_related("patient", "order")
        .order_by("patient_id", "service_date", "id")
    )
    by_patient: dict[int, list[InfusionSession]] = {}
    for session in sessions:
        by_patient.setdefault(session.patient_id, []).append(session)
    today = timezone.localdate()
    refunded = False
    # The newest infusion of the last patient not sold a package waits for the front
    # desk to invoice it (the account lists it under "Infusions not yet invoiced").
    patients_sessions = list(by_patient.values())
    waiting = next(
        (
            sessions_[-1]
            for index, sessions_ in reversed(list(enumerate(patients_sessions)))
            if index % 2 == 1
        ),
        None,
    )
    for index, patient_sessions in enumerate(patients_sessions):
        patient = patient_sessions[0].patient
        estimates.record_payer_status(
            patient, status="self_pay" if index % 3 else "uninsured", by=clerk
        )
        first = patient_sessions[0].service_date
        estimates.give_estimate(
            patient,
            package_version=induction.versions.order_by("-version").first(),
            items=[estimates.EstimateItem("consult")],
            scheduled_on=first - timedelta(days=14),
            service_on=first,
            by=clerk,
        )
        if index % 2 == 0:
            estimates.sell_package(
                patient,
                package=induction,
                method="card",
                reference=f"DEMO-T{index:04d}",
                by=clerk,
            )
        for number, session in enumerate(patient_sessions):
            if session is waiting:
                continue
            try:
                invoice = invoices.invoice_session(session, by=clerk)
            except BillingError:
                continue
            due = invoice.total - sum(
                (p.signed_amount for p in invoice.payments.all()), Decimal("0.00")
            )
            # Most are paid; the newest visit of every third patient stays open.
            stays_open = index % 3 == 0 and number == len(patient_sessions) - 1
            if due > 0 and not stays_open:
                method = rng.choice(["card", "card", "cash", "check"])
                [payment, *_] = invoices.record_payment(
                    invoice,
                    amount=due,
                    method=method,
                    reference="" if method == "cash" else f"DEMO-{invoice.number}",
                    by=clerk,
                )
                if not refunded:
                    invoices.refund_payment(
                        payment,
                        amount=Decimal("25.00"),
                        reason="Demo: infusion started late, goodwill credit",
                        by=clerk,
                    )
                    refunded = True
        visits = Invoice.objects.filter(patient=patient, kind=Invoice.Kind.VISIT)
        if index % 2 == 1 and visits.exists():
            with suppress(BillingError):  # no diagnosis on file for this demo patient
                superbills.make_superbill(
                    patient,
                    period_start=min(v.service_date for v in visits),
                    period_end=today,
                    by=clerk,
                )
        if index == 0:
            # One statement for the last 30 days, in the first patient's portal.
            statements.make_statement(
                patient,
                period_start=today - timedelta(days=30),
                period_end=today,
                by=clerk,
            )
