"""Billing set-ups for tests: a practice identity, an NPI, a price list and an induction package."""

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from neuroclinic.accounts.models import User
from neuroclinic.audit.seals import seal_objects
from neuroclinic.audit.tests.helpers import unguarded_update
from neuroclinic.billing.actions import setup
from neuroclinic.billing.models import Package, Service
from neuroclinic.clinics.models import Organization
from neuroclinic.infusions.models import InfusionSession

PRICES = {
    Service.Key.CONSULT: "450.00",
    Service.Key.INFUSION: "475.00",
    Service.Key.INFUSION_ADDITIONAL_HOUR: "150.00",
    Service.Key.IV_PUSH: "200.00",
    Service.Key.BOOSTER: "500.00",
    Service.Key.KETAMINE: "25.00",
    Service.Key.PRN_MEDICATION: "15.00",
    Service.Key.TMS_INITIAL: "600.00",
    Service.Key.TMS_SESSION: "300.00",
    Service.Key.TMS_MOTOR_THRESHOLD: "350.00",
    Service.Key.PSYCH_EVAL: "400.00",
    Service.Key.EM_99202: "200.00",
    Service.Key.EM_99203: "290.00",
    Service.Key.EM_99204: "380.00",
    Service.Key.EM_99205: "480.00",
    Service.Key.EM_99212: "120.00",
    Service.Key.EM_99213: "180.00",
    Service.Key.EM_99214: "250.00",
    Service.Key.EM_99215: "320.00",
}

NPI = "1234567893"


def price_list(organization: Organization, by: User) -> None:
    setup.save_billing_identity(
        organization,
        legal_name="Lakeside Test Clinic PLLC",
        tax_id_number="12-3456789",
        organization_npi="1987654328",
        address="1 Test Way, Testville, NY 10001",
        phone="555-0100",
        by=by,
    )
    for key, amount in PRICES.items():
        setup.set_price(organization, service_key=key, amount=amount, by=by)


def npi_for(clinician: User, by: User) -> None:
    setup.save_rendering_provider(
        clinician,
        npi_number=NPI,
        license_number="MD-000001",
        license_state="NY",
        taxonomy_code="2084P0800X",
        by=by,
    )


def induction_package(organization: Organization, by: User) -> Package:
    version = setup.set_package_terms(
        organization,
        name="Induction series of six",
        service_key=Service.Key.INFUSION,
        sessions=6,
        price=Decimal("2500.00"),
        deposit=Decimal("500.00"),
        unused_sessions=Package.UnusedSessions.REFUND,
        by=by,
    )
    return version.package


def finish(
    session: InfusionSession, *, minutes: int, seconds: int = 0
) -> InfusionSession:
    """Mark a running session as infused for `minutes` and discharged (test set-up only)."""
    started = timezone.now() - timedelta(hours=3)
    unguarded_update(
        InfusionSession.objects.filter(pk=session.pk),
        status=InfusionSession.Status.DISCHARGED,
        started_at=started,
        ended_at=started + timedelta(minutes=minutes, seconds=seconds),
        mg_given=Decimal("35.00"),
        discharged_at=started + timedelta(minutes=minutes + 45),
    )
    session.refresh_from_db()
    seal_objects(
        [session]
    )  # as an action's save would, so `neuroclinic verify` stays intact
    return session
