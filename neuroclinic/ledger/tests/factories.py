"""Plain factory functions for ledger tests. Stock is made through the actions, so
every container comes with its entries, chain links and audit events."""

import uuid
from datetime import date, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.utils import timezone

from neuroclinic.accounts.models import Authenticator, User
from neuroclinic.clinics.models import Location, Organization
from neuroclinic.ledger.actions.receiving import ReceiptItem, receive_invoice
from neuroclinic.ledger.actions.sessions import draw_for_session
from neuroclinic.ledger.actions.setup import (
    add_product,
    add_storage_location,
    add_supplier,
    register_registrant,
)
from neuroclinic.ledger.models import (
    Container,
    Product,
    Registrant,
    StorageLocation,
    Supplier,
)
from neuroclinic.ledger.witness import WitnessConfirmation
from neuroclinic.patients.models import Patient

# Valid check digits: 1+3+5 + 2*(2+4+6) = 33 -> 3, and so on.
CLINIC_DEA = "BL1234563"
SUPPLIER_DEA = "RE6125341"
REVERSE_DISTRIBUTOR_DEA = "LR1234563"


CLINIC_TIME_ZONE = "America/Chicago"


def clinic_today() -> date:
    """Today at the test clinic. The ledger dates everything in the clinic's zone,
    which is a day behind UTC every evening; tests must not assume UTC."""
    return timezone.now().astimezone(ZoneInfo(CLINIC_TIME_ZONE)).date()


def make_location(organization: Organization, **overrides: Any) -> Location:
    fields: dict[str, Any] = {
        "name": "Lakeside Main",
        "address_line1": "100 Example Avenue",
        "city": "Springfield",
        "state": "IL",
        "postal_code": "62701",
        "time_zone": CLINIC_TIME_ZONE,
    } | overrides
    return Location.objects.create(organization=organization, **fields)


def make_registrant(
    organization: Organization,
    *,
    by: User,
    dea_number: str = CLINIC_DEA,
    **overrides: Any,
) -> Registrant:
    location = overrides.pop("location", None) or make_location(organization)
    fields: dict[str, Any] = {
        "name": "Lakeside Test Clinic",
        "address_line1": "100 Example Avenue",
        "city": "Springfield",
        "state": "IL",
        "postal_code": "62701",
    } | overrides
    return register_registrant(location, dea_number=dea_number, by=by, **fields)


def make_safe(
    registrant: Registrant, *, by: User, name: str = "Main safe"
) -> StorageLocation:
    return add_storage_location(registrant, name=name, by=by)


def make_product(
    organization: Organization,
    *,
    by: User,
    ndc: str = "0409-2051-05",
    concentration_mg_per_ml: Decimal = Decimal("50"),
    container_volume_ml: Decimal = Decimal("10"),
) -> Product:
    return add_product(
        organization,
        name="Ketamine HCl injection",
        ndc=ndc,
        concentration_mg_per_ml=concentration_mg_per_ml,
        container_volume_ml=container_volume_ml,
        by=by,
    )


def make_supplier(
    organization: Organization,
    *,
    by: User,
    kind: str = Supplier.Kind.DISTRIBUTOR,
    dea_number: str = SUPPLIER_DEA,
) -> Supplier:
    return add_supplier(
        organization,
        name="Example Medical Supply"
        if kind == Supplier.Kind.DISTRIBUTOR
        else "Example Returns Co",
        address="1 Warehouse Way, Chicago, IL 60601",
        dea_number=dea_number,
        kind=kind,
        by=by,
    )


def receive(
    registrant: Registrant,
    *,
    by: User,
    product: Product,
    supplier: Supplier,
    safe: StorageLocation,
    count: int = 2,
    lot_number: str = "LOT-A1",
    expiry_date: date | None = None,
    invoice_number: str = "INV-1001",
) -> list[Container]:
    receipt = receive_invoice(
        registrant,
        supplier=supplier,
        invoice_number=invoice_number,
        invoice_date=clinic_today() - timedelta(days=1),
        storage_location=safe,
        items=[
            ReceiptItem(
                product=product,
                lot_number=lot_number,
                expiry_date=expiry_date or clinic_today() + timedelta(days=365),
                container_count=count,
            )
        ],
        by=by,
    )
    return list(receipt.containers.order_by("id"))


def confirmed(witness: User) -> WitnessConfirmation:
    """A witness confirmation as confirm_witness makes it (for tests of other rules)."""
    return WitnessConfirmation(witness=witness, confirmed_at=timezone.now())


def totp_device(user: User) -> Authenticator:
    device: Authenticator | None = Authenticator.objects.filter(
        user=user, confirmed=True
    ).first()
    if device is None:
        device = Authenticator.objects.create(user=user, name="test", confirmed=True)
    return device


def current_code(user: User) -> str:
    return totp_device(user).current_code()


def draw(
    vial: Container, *, patient: Patient, by: User, volume_ml: str = "0.80"
) -> str:
    """Draw from a vial for a new session; its reference."""
    ref = str(uuid.uuid4())
    draw_for_session(
        vial, session_ref=ref, patient=patient, volume_ml=Decimal(volume_ml), by=by
    )
    return ref
