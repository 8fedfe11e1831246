"""Stock: products, suppliers, lots, receipts (invoices) and containers (vials)."""

import uuid
from decimal import Decimal

from django.conf import settings
from django.db import models

from neuroclinic.ledger.models.fields import (
    TWO_PLACES,
    Schedule,
    dea_number_validator,
    quantity_field,
)
from neuroclinic.ledger.models.registration import Registrant, StorageLocation


class Product(models.Model):
    """A finished form of a controlled substance, as the DEA record names it (1304.22(c))."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey(
        "clinics.Organization", on_delete=models.PROTECT, related_name="+"
    )
    name = models.CharField(max_length=200, help_text="e.g. Ketamine HCl injection")
    ndc = models.CharField("NDC", max_length=13, help_text="e.g. 0409-2051-05")
    dosage_form = models.CharField(max_length=60, default="Injection, solution")
    concentration_mg_per_ml = models.DecimalField(
        "Concentration (mg/mL)", max_digits=8, decimal_places=2
    )
    container_volume_ml = quantity_field("Container volume (mL)")
    schedule = models.CharField(
        max_length=4, choices=Schedule.choices, default=Schedule.CIII
    )
    dea_drug_code = models.CharField(max_length=4, default="7285")
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "concentration_mg_per_ml", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "ndc"], name="ledger_product_ndc_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(concentration_mg_per_ml__gt=0)
                & models.Q(container_volume_ml__gt=0),
                name="ledger_product_positive",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.strength} ({self.ndc})"

    @property
    def strength(self) -> str:
        return f"{self.concentration_mg_per_ml.normalize():f} mg/mL x {self.container_volume_ml.normalize():f} mL"

    @property
    def container_mg(self) -> Decimal:
        return Decimal(
            self.concentration_mg_per_ml * self.container_volume_ml
        ).quantize(TWO_PLACES)


class Supplier(models.Model):
    """Another DEA registrant the clinic deals with: a distributor or a reverse distributor."""

    class Kind(models.TextChoices):
        DISTRIBUTOR = "distributor", "Supplier (distributor)"
        REVERSE_DISTRIBUTOR = "reverse_distributor", "Reverse distributor"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey(
        "clinics.Organization", on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(
        max_length=20, choices=Kind.choices, default=Kind.DISTRIBUTOR
    )
    name = models.CharField(max_length=200)
    address = models.CharField(max_length=300)
    dea_number = models.CharField(
        "DEA registration number", max_length=9, validators=[dea_number_validator]
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "dea_number", "kind"],
                name="ledger_supplier_dea_unique",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.dea_number})"


class Lot(models.Model):
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey(
        "clinics.Organization", on_delete=models.PROTECT, related_name="+"
    )
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="lots")
    lot_number = models.CharField(max_length=40)
    expiry_date = models.DateField(
        help_text="Last day of use; a label that gives only a month means its last day."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["product", "expiry_date", "lot_number", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "product", "lot_number"],
                name="ledger_lot_unique",
            )
        ]

    def __str__(self) -> str:
        return f"Lot {self.lot_number} (exp {self.expiry_date:%Y-%m-%d})"


def invoice_scan_path(instance: "Receipt", filename: str) -> str:
    # Our own name, never the uploaded one: no path tricks, no PHI in file names.
    extension = filename.rsplit(".", 1)[-1] if "." in filename else "bin"
    return f"ledger/invoices/{instance.organization.uuid}/{instance.uuid}.{extension}"


class Receipt(models.Model):
    """A supplier's invoice: the Schedule III receiving record (21 CFR 1304.22(c); D2)."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey(
        "clinics.Organization", on_delete=models.PROTECT, related_name="+"
    )
    registrant = models.ForeignKey(
        Registrant, on_delete=models.PROTECT, related_name="receipts"
    )
    supplier = models.ForeignKey(
        Supplier, on_delete=models.PROTECT, related_name="receipts"
    )
    # The supplier as the invoice names it, kept even if the supplier record changes.
    supplier_name = models.CharField(max_length=200)
    supplier_address = models.CharField(max_length=300)
    supplier_dea_number = models.CharField(max_length=9)
    invoice_number = models.CharField(max_length=60)
    invoice_date = models.DateField()
    received_at = models.DateTimeField()
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    storage_location = models.ForeignKey(
        StorageLocation, on_delete=models.PROTECT, related_name="+"
    )
    invoice_scan = models.FileField(upload_to=invoice_scan_path, blank=True)
    scan_content_type = models.CharField(max_length=40, blank=True)
    scan_sha256 = models.CharField(max_length=64, blank=True)
    scan_size_bytes = models.PositiveIntegerField(null=True, blank=True)
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-received_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "supplier", "invoice_number"],
                name="ledger_receipt_invoice_unique",
            )
        ]

    def __str__(self) -> str:
        return f"Invoice {self.invoice_number} from {self.supplier_name}"


class Container(models.Model):
    """One vial. `balance_ml` caches the sum of its entries; verify re-adds it."""

    class Status(models.TextChoices):
        SEALED = "sealed", "Sealed"
        OPEN = "open", "Opened"
        EMPTY = "empty", "Empty"
        DESTROYED = "destroyed", "Destroyed on site"
        RETURNED = "returned", "Sent to reverse distributor"
        LOST = "lost", "Lost or stolen"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey(
        "clinics.Organization", on_delete=models.PROTECT, related_name="+"
    )
    registrant = models.ForeignKey(
        Registrant, on_delete=models.PROTECT, related_name="containers"
    )
    product = models.ForeignKey(
        Product, on_delete=models.PROTECT, related_name="containers"
    )
    lot = models.ForeignKey(Lot, on_delete=models.PROTECT, related_name="containers")
    storage_location = models.ForeignKey(
        StorageLocation, on_delete=models.PROTECT, related_name="containers"
    )
    receipt = models.ForeignKey(
        Receipt,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="containers",
    )
    vial_identifier = models.CharField(max_length=40)
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.SEALED
    )
    initial_volume_ml = quantity_field()
    balance_ml = quantity_field(default=Decimal("0.00"))
    received_at = models.DateTimeField()
    opened_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["lot__expiry_date", "vial_identifier", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "vial_identifier"],
                name="ledger_container_vial_unique",
            ),
            models.CheckConstraint(
                condition=models.Q(balance_ml__gte=0),
                name="ledger_container_balance_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"Vial {self.vial_identifier}"

    @property
    def balance_mg(self) -> Decimal:
        return Decimal(self.balance_ml * self.product.concentration_mg_per_ml).quantize(
            TWO_PLACES
        )

    @property
    def is_in_stock(self) -> bool:
        return self.status in (self.Status.SEALED, self.Status.OPEN)
