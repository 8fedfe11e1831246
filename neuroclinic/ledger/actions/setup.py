"""Setting up the ledger: the DEA registration, its safes, products and suppliers."""

from datetime import date
from decimal import Decimal

from django.db import transaction

from neuroclinic.accounts.models import User
from neuroclinic.audit.models import AuditEvent
from neuroclinic.audit.record import record
from neuroclinic.clinics.models import Location, Organization
from neuroclinic.ledger.actions.guards import checked_quantity
from neuroclinic.ledger.errors import LedgerError
from neuroclinic.ledger.models import (
    LedgerHead,
    Product,
    Registrant,
    StorageLocation,
    Supplier,
)
from neuroclinic.ledger.rules import LedgerRuleError, validate_dea_number
from neuroclinic.lib.hashchain import GENESIS_HASH


@transaction.atomic
def register_registrant(
    location: Location,
    *,
    name: str,
    address_line1: str,
    address_line2: str = "",
    city: str,
    state: str,
    postal_code: str,
    dea_number: str,
    schedules: str = "CII,CIII,CIV,CV",
    registration_expiry_date: date | None = None,
    by: User,
) -> Registrant:
    try:
        number = validate_dea_number(dea_number)
    except LedgerRuleError as exc:
        raise LedgerError.from_rule(exc, field="dea_number") from None
    if "CIII" not in {s.strip() for s in schedules.split(",")}:
        raise LedgerError(
            "Ketamine is Schedule III: the registration must include CIII.",
            field="schedules",
            code="schedule_missing",
        )
    if Registrant.objects.filter(dea_number=number).exists():
        raise LedgerError(
            "That DEA number is already registered here.",
            field="dea_number",
            code="dea_number_taken",
        )
    if Registrant.objects.filter(location=location).exists():
        raise LedgerError(
            "That location already has a DEA registration.",
            field="location",
            code="location_taken",
        )
    registrant = Registrant.objects.create(
        organization_id=location.organization_id,
        location=location,
        name=name,
        address_line1=address_line1,
        address_line2=address_line2,
        city=city,
        state=state,
        postal_code=postal_code,
        dea_number=number,
        schedules=schedules,
        registration_expiry_date=registration_expiry_date,
    )
    LedgerHead.objects.create(
        organization_id=location.organization_id,
        registrant=registrant,
        seq=0,
        hash=GENESIS_HASH,
    )
    record(
        AuditEvent.Action.LEDGER_SETUP_SAVED,
        actor=by,
        subject=registrant,
        what="registrant",
        dea_number=number,
    )
    return registrant


@transaction.atomic
def add_storage_location(
    registrant: Registrant, *, name: str, description: str = "", by: User
) -> StorageLocation:
    if StorageLocation.objects.filter(registrant=registrant, name=name).exists():
        raise LedgerError(
            "There is already a safe with that name.", field="name", code="name_taken"
        )
    storage = StorageLocation.objects.create(
        organization_id=registrant.organization_id,
        registrant=registrant,
        location_id=registrant.location_id,
        name=name,
        description=description,
    )
    record(
        AuditEvent.Action.LEDGER_SETUP_SAVED,
        actor=by,
        subject=storage,
        what="storage_location",
        name=name,
    )
    return storage


@transaction.atomic
def add_product(
    organization: Organization,
    *,
    name: str,
    ndc: str,
    concentration_mg_per_ml: Decimal,
    container_volume_ml: Decimal,
    dosage_form: str = "Injection, solution",
    schedule: str = "CIII",
    dea_drug_code: str = "7285",
    by: User,
) -> Product:
    if concentration_mg_per_ml <= 0:
        raise LedgerError(
            "The concentration must be more than 0 mg/mL.",
            field="concentration_mg_per_ml",
            code="concentration_not_positive",
        )
    checked_quantity(container_volume_ml, "container_volume_ml")
    if Product.objects.filter(organization=organization, ndc=ndc).exists():
        raise LedgerError(
            "There is already a product with that NDC.", field="ndc", code="ndc_taken"
        )
    product = Product.objects.create(
        organization=organization,
        name=name,
        ndc=ndc,
        dosage_form=dosage_form,
        concentration_mg_per_ml=concentration_mg_per_ml,
        container_volume_ml=container_volume_ml,
        schedule=schedule,
        dea_drug_code=dea_drug_code,
    )
    record(
        AuditEvent.Action.LEDGER_SETUP_SAVED,
        actor=by,
        subject=product,
        what="product",
        ndc=ndc,
    )
    return product


@transaction.atomic
def add_supplier(
    organization: Organization,
    *,
    name: str,
    address: str,
    dea_number: str,
    kind: str = Supplier.Kind.DISTRIBUTOR,
    by: User,
) -> Supplier:
    try:
        number = validate_dea_number(dea_number)
    except LedgerRuleError as exc:
        raise LedgerError.from_rule(exc, field="dea_number") from None
    if Supplier.objects.filter(
        organization=organization, dea_number=number, kind=kind
    ).exists():
        raise LedgerError(
            "There is already a supplier with that DEA number.",
            field="dea_number",
            code="dea_number_taken",
        )
    supplier = Supplier.objects.create(
        organization=organization,
        kind=kind,
        name=name,
        address=address,
        dea_number=number,
    )
    record(
        AuditEvent.Action.LEDGER_SETUP_SAVED,
        actor=by,
        subject=supplier,
        what="supplier",
        dea_number=number,
    )
    return supplier
