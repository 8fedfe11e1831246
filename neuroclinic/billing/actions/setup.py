"""The practice's billing identity, clinicians' NPIs, the price list and package terms.

Nothing is edited: each save is a new version, and invoices keep the version
they were priced from.
"""

from decimal import Decimal

from django.db import transaction

from neuroclinic.accounts.models import User
from neuroclinic.audit.models import AuditEvent
from neuroclinic.audit.record import record
from neuroclinic.billing.actions.common import checked_money, rule
from neuroclinic.billing.errors import BillingError
from neuroclinic.billing.models import (
    BillingIdentity,
    Package,
    PackageVersion,
    Price,
    RenderingProvider,
    Service,
)
from neuroclinic.billing.rules import SERVICE_CODES, currency, npi, tax_id
from neuroclinic.clinics.models import Organization


@transaction.atomic
def save_billing_identity(
    organization: Organization,
    *,
    legal_name: str,
    tax_id_number: str,
    organization_npi: str = "",
    address: str,
    phone: str,
    currency_code: str = "USD",
    by: User,
) -> BillingIdentity:
    if not legal_name.strip():
        raise BillingError("Enter the practice's legal name.", field="legal_name")
    identity = BillingIdentity.objects.create(
        organization=organization,
        legal_name=legal_name.strip(),
        tax_id=rule(tax_id, tax_id_number, field="tax_id_number"),
        organization_npi=(
            rule(npi, organization_npi, field="organization_npi")
            if organization_npi.strip()
            else ""
        ),
        address=address.strip(),
        phone=phone.strip(),
        currency=rule(currency, currency_code, field="currency_code"),
        created_by=by,
    )
    record(
        AuditEvent.Action.BILLING_SETUP_SAVED,
        actor=by,
        organization=organization,
        subject=identity,
        what="identity",
    )
    return identity


@transaction.atomic
def save_rendering_provider(
    clinician: User,
    *,
    npi_number: str,
    license_number: str,
    license_state: str,
    taxonomy_code: str = "",
    by: User,
) -> RenderingProvider:
    if (
        clinician.organization_id is None
        or clinician.organization_id != by.organization_id
    ):
        raise BillingError("No such clinician here.", field="clinician")
    if not license_number.strip():
        raise BillingError("Enter the licence number.", field="license_number")
    state = license_state.strip().upper()
    if len(state) != 2 or not state.isalpha():
        raise BillingError(
            "Enter the licence state as two letters, such as NY.", field="license_state"
        )
    provider = RenderingProvider.objects.create(
        organization_id=clinician.organization_id,
        user=clinician,
        npi=rule(npi, npi_number, field="npi_number"),
        license_number=license_number.strip(),
        license_state=state,
        taxonomy_code=taxonomy_code.strip(),
        created_by=by,
    )
    record(
        AuditEvent.Action.BILLING_SETUP_SAVED,
        actor=by,
        subject=provider,
        organization=clinician.organization,
        what="rendering_provider",
        clinician=str(clinician.uuid),
    )
    return provider


def _service(organization: Organization, key: str) -> Service:
    try:
        service_key = Service.Key(key)
    except ValueError:
        raise BillingError(
            "No such service.", field="service", code="service"
        ) from None
    service, _ = Service.objects.get_or_create(
        organization=organization,
        key=service_key,
        defaults={"name": service_key.label, "code": SERVICE_CODES[service_key]},
    )
    return service


@transaction.atomic
def set_price(
    organization: Organization,
    *,
    service_key: str,
    amount: Decimal | str,
    currency_code: str = "USD",
    reason: str = "",
    by: User,
) -> Price:
    """A new version of a service's price; the old versions stay for the invoices that used them."""
    checked = checked_money(amount, field="amount")
    code = rule(currency, currency_code, field="currency_code")
    service = _service(organization, service_key)
    Service.objects.select_for_update().filter(pk=service.pk).first()
    latest = service.prices.order_by("-version").first()
    price = Price.objects.create(
        service=service,
        version=(latest.version + 1) if latest else 1,
        amount=checked,
        currency=code,
        reason=reason.strip(),
        created_by=by,
    )
    record(
        AuditEvent.Action.BILLING_PRICE_SET,
        actor=by,
        organization=organization,
        subject=price,
        service=service.key,
        version=price.version,
        amount=str(checked),
        old_amount=str(latest.amount) if latest else None,
        currency=code,
    )
    return price


@transaction.atomic
def set_package_terms(
    organization: Organization,
    *,
    name: str,
    service_key: str,
    sessions: int,
    price: Decimal | str,
    deposit: Decimal | str,
    unused_sessions: str,
    currency_code: str = "USD",
    package: Package | None = None,
    by: User,
) -> PackageVersion:
    """A new package, or new terms for one (a new version; sales keep the terms they were sold on)."""
    if not name.strip():
        raise BillingError("Name the package.", field="name")
    if not 1 <= sessions <= 60:
        raise BillingError("A package has 1 to 60 sessions.", field="sessions")
    checked_price = checked_money(price, field="price")
    checked_deposit = checked_money(deposit, field="deposit")
    if checked_deposit > checked_price:
        raise BillingError(
            "The deposit cannot be more than the package price.", field="deposit"
        )
    if unused_sessions not in Package.UnusedSessions.values:
        raise BillingError(
            "Say what happens to unused sessions.", field="unused_sessions"
        )
    code = rule(currency, currency_code, field="currency_code")
    service = _service(organization, service_key)
    if package is None:
        package = Package.objects.create(
            organization=organization, name=name.strip(), service=service
        )
    elif package.organization_id != organization.pk:
        raise BillingError("No such package.", field="package")
    latest = package.versions.order_by("-version").first()
    version = PackageVersion.objects.create(
        package=package,
        version=(latest.version + 1) if latest else 1,
        sessions=sessions,
        price=checked_price,
        deposit=checked_deposit,
        currency=code,
        unused_sessions=unused_sessions,
        created_by=by,
    )
    record(
        AuditEvent.Action.BILLING_PRICE_SET,
        actor=by,
        organization=organization,
        subject=version,
        package=str(package.uuid),
        version=version.version,
        price=str(checked_price),
        deposit=str(checked_deposit),
        sessions=sessions,
    )
    return version
