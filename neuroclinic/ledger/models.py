"""The controlled-substance ledger: stock, movements, counts, inventories, discrepancies.

The record of truth is `LedgerEntry`: append-only (database triggers refuse UPDATE
and DELETE), hash-chained per registrant, one row per movement. Containers and the
chain head cache current balances for fast pages; `neuroclinic ledger verify`
re-adds every entry and proves the caches and the chain agree.

Units are in the names (`_ml`, `_mg`, `_mg_per_ml`); quantities are Decimal with
two places (rules.VOLUME_ROUNDING_ML, rules.MASS_ROUNDING_MG). Times are UTC;
dates that the DEA reads (expiry, due dates, inventory date) are calendar dates
at the registered location.
"""

import uuid
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models

from neuroclinic.ledger.rules import LedgerRuleError, validate_dea_number

TWO_PLACES = Decimal("0.01")


def quantity_field(
    verbose_name: str | None = None, **kwargs: Any
) -> models.DecimalField:  # type: ignore[type-arg]
    return models.DecimalField(verbose_name, max_digits=12, decimal_places=2, **kwargs)


def dea_number_validator(value: str) -> None:
    try:
        validate_dea_number(value)
    except LedgerRuleError as exc:
        raise ValidationError(exc.message, code=str(exc.code)) from None


def as_quantity(value: Decimal | int | None) -> str | None:
    """The canonical text of a quantity in hashed content: always two places."""
    if value is None:
        return None
    return str(Decimal(value).quantize(TWO_PLACES))


class Schedule(models.TextChoices):
    CII = "CII", "Schedule II"
    CIII = "CIII", "Schedule III"
    CIV = "CIV", "Schedule IV"
    CV = "CV", "Schedule V"


class Registrant(models.Model):
    """A DEA registration: one per registered location (21 CFR 1304.21(a))."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey(
        "clinics.Organization", on_delete=models.PROTECT, related_name="+"
    )
    location = models.OneToOneField(
        "clinics.Location", on_delete=models.PROTECT, related_name="registrant"
    )
    name = models.CharField(max_length=200, help_text="As on the DEA registration.")
    address_line1 = models.CharField(max_length=200)
    address_line2 = models.CharField(max_length=200, blank=True)
    city = models.CharField(max_length=100)
    state = models.CharField(max_length=50)
    postal_code = models.CharField(max_length=20)
    dea_number = models.CharField(
        "DEA registration number",
        max_length=9,
        unique=True,
        validators=[dea_number_validator],
    )
    schedules = models.CharField(
        max_length=40,
        default="CII,CIII,CIV,CV",
        help_text="Schedules on the registration, comma-separated (CII, CIII, CIV, CV).",
    )
    registration_expiry_date = models.DateField(null=True, blank=True)
    opened_estimate_tolerance_ml = quantity_field(
        default=Decimal("0.00"),
        help_text=(
            "How far a count's estimate of an opened container may differ from the "
            "ledger before it opens a discrepancy. 0 means any difference does."
        ),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.dea_number})"

    @property
    def address(self) -> str:
        line2 = f", {self.address_line2}" if self.address_line2 else ""
        return (
            f"{self.address_line1}{line2}, {self.city}, {self.state} {self.postal_code}"
        )


class LedgerHead(models.Model):
    """The newest link of one registrant's chain, and its stock on hand.

    Every ledger writer locks this row (select_for_update) after locking the
    containers it moves, so a registrant's entries append one at a time.
    """

    organization = models.ForeignKey(
        "clinics.Organization", on_delete=models.PROTECT, related_name="+"
    )
    registrant = models.OneToOneField(
        Registrant, on_delete=models.PROTECT, related_name="head"
    )
    seq = models.PositiveBigIntegerField(default=0)
    hash = models.CharField(max_length=64)
    stock_on_hand_mg = quantity_field(default=Decimal("0.00"))
    next_vial_number = models.PositiveIntegerField(default=1)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["registrant", "id"]

    def __str__(self) -> str:
        return f"{self.registrant} at #{self.seq}"


class StorageLocation(models.Model):
    """A safe or locked cabinet at a registered location (21 CFR 1301.75)."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey(
        "clinics.Organization", on_delete=models.PROTECT, related_name="+"
    )
    registrant = models.ForeignKey(
        Registrant, on_delete=models.PROTECT, related_name="storage_locations"
    )
    location = models.ForeignKey(
        "clinics.Location", on_delete=models.PROTECT, related_name="+"
    )
    name = models.CharField(max_length=100)
    description = models.CharField(max_length=200, blank=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["registrant", "name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["registrant", "name"], name="ledger_storage_name_unique"
            )
        ]

    def __str__(self) -> str:
        return self.name


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


class Count(models.Model):
    """A count of the stock by two people: expected (ledger) against counted, per container."""

    class Kind(models.TextChoices):
        SHIFT = "shift", "Shift count"
        DAILY = "daily", "Daily count"
        SPOT = "spot", "Spot check"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey(
        "clinics.Organization", on_delete=models.PROTECT, related_name="+"
    )
    registrant = models.ForeignKey(
        Registrant, on_delete=models.PROTECT, related_name="counts"
    )
    storage_location = models.ForeignKey(
        StorageLocation, on_delete=models.PROTECT, related_name="counts"
    )
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.DAILY)
    counted_at = models.DateTimeField()
    counted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    second_counter = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    second_confirmed_at = models.DateTimeField()
    has_variance = models.BooleanField(default=False)
    notes = models.TextField(blank=True)

    class Meta:
        ordering = ["-counted_at", "id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.counted_at:%Y-%m-%d %H:%M}"


class CountLine(models.Model):
    organization = models.ForeignKey(
        "clinics.Organization", on_delete=models.PROTECT, related_name="+"
    )
    count = models.ForeignKey(Count, on_delete=models.PROTECT, related_name="lines")
    container = models.ForeignKey(
        Container, on_delete=models.PROTECT, related_name="count_lines"
    )
    expected_ml = quantity_field()
    counted_ml = quantity_field()
    estimated = models.BooleanField(
        default=False, help_text="An opened container, measured by estimate."
    )
    variance_ml = quantity_field()
    is_discrepancy = models.BooleanField(default=False)

    class Meta:
        ordering = ["count", "id"]

    def __str__(self) -> str:
        return f"{self.container}: expected {self.expected_ml} mL, counted {self.counted_ml} mL"


class Inventory(models.Model):
    """An initial or biennial inventory (21 CFR 1304.11), with every field the rule lists."""

    class Kind(models.TextChoices):
        INITIAL = "initial", "Initial inventory"
        BIENNIAL = "biennial", "Biennial inventory"
        OTHER = "other", "Other inventory"

    class TimeOfDay(models.TextChoices):
        OPENING = "opening", "Opening of business"
        CLOSE = "close", "Close of business"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey(
        "clinics.Organization", on_delete=models.PROTECT, related_name="+"
    )
    registrant = models.ForeignKey(
        Registrant, on_delete=models.PROTECT, related_name="inventories"
    )
    kind = models.CharField(max_length=10, choices=Kind.choices)
    taken_at = models.DateTimeField()
    taken_date = models.DateField(help_text="The date at the registered location.")
    time_of_day = models.CharField(max_length=10, choices=TimeOfDay.choices)
    taken_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    second_taker = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    registrant_name = models.CharField(max_length=200)
    registrant_address = models.CharField(max_length=400)
    registrant_dea_number = models.CharField(max_length=9)
    notes = models.TextField(blank=True)

    class Meta:
        ordering = ["-taken_at", "id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.taken_date:%Y-%m-%d}"


class InventoryLine(models.Model):
    organization = models.ForeignKey(
        "clinics.Organization", on_delete=models.PROTECT, related_name="+"
    )
    inventory = models.ForeignKey(
        Inventory, on_delete=models.PROTECT, related_name="lines"
    )
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+")
    container = models.ForeignKey(
        Container, on_delete=models.PROTECT, related_name="inventory_lines"
    )
    # Snapshots of what the rule lists, as they were on the day.
    product_name = models.CharField(max_length=200)
    ndc = models.CharField("NDC", max_length=13)
    strength = models.CharField(max_length=40)
    dosage_form = models.CharField(max_length=60)
    container_volume_ml = quantity_field()
    lot_number = models.CharField(max_length=40)
    opened = models.BooleanField()
    estimated = models.BooleanField()
    expected_ml = quantity_field()
    quantity_ml = quantity_field()
    quantity_mg = quantity_field()

    class Meta:
        ordering = ["inventory", "product_name", "opened", "id"]

    def __str__(self) -> str:
        return f"{self.product_name} {self.quantity_ml} mL"


class Discrepancy(models.Model):
    """A variance between the ledger and the stock: investigated, then resolved or escalated."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        INVESTIGATING = "investigating", "Under investigation"
        RESOLVED_MINOR = "resolved_minor", "Resolved: minor variance"
        ESCALATED = "escalated", "Escalated: theft or significant loss"

    class LossKind(models.TextChoices):
        THEFT = "theft", "Theft"
        SIGNIFICANT_LOSS = "significant_loss", "Significant loss"
        IN_TRANSIT = "in_transit", "Lost in transit"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey(
        "clinics.Organization", on_delete=models.PROTECT, related_name="+"
    )
    registrant = models.ForeignKey(
        Registrant, on_delete=models.PROTECT, related_name="discrepancies"
    )
    count = models.ForeignKey(
        Count,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="discrepancies",
    )
    inventory = models.ForeignKey(
        Inventory,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="discrepancies",
    )
    status = models.CharField(
        max_length=20, choices=Status.choices, default=Status.OPEN
    )
    discovered_at = models.DateTimeField()
    discovered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    variance_ml = quantity_field(help_text="Counted minus expected, all lines.")
    variance_mg = quantity_field()
    investigation_notes = models.TextField(blank=True)
    investigated_at = models.DateTimeField(null=True, blank=True)
    investigated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    resolution_notes = models.TextField(blank=True)
    loss_kind = models.CharField(max_length=20, choices=LossKind.choices, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        ordering = ["-discovered_at", "id"]
        verbose_name_plural = "discrepancies"

    def __str__(self) -> str:
        return (
            f"Discrepancy {self.discovered_at:%Y-%m-%d} ({self.get_status_display()})"
        )

    @property
    def is_closed(self) -> bool:
        return self.status in (self.Status.RESOLVED_MINOR, self.Status.ESCALATED)


class DiscrepancyLine(models.Model):
    organization = models.ForeignKey(
        "clinics.Organization", on_delete=models.PROTECT, related_name="+"
    )
    discrepancy = models.ForeignKey(
        Discrepancy, on_delete=models.PROTECT, related_name="lines"
    )
    container = models.ForeignKey(
        Container, on_delete=models.PROTECT, related_name="discrepancy_lines"
    )
    expected_ml = quantity_field()
    counted_ml = quantity_field()
    variance_ml = quantity_field()

    class Meta:
        ordering = ["discrepancy", "id"]

    def __str__(self) -> str:
        return f"{self.container}: {self.variance_ml} mL"


class ComplianceTask(models.Model):
    """Something the clinic owes the DEA by a date: the 1-business-day notice, Form 106."""

    class Kind(models.TextChoices):
        DEA_NOTICE = "dea_notice", "Written notice to the DEA Field Division Office"
        FORM_106 = "form_106", "DEA Form 106 (Theft/Loss Reporting online)"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        DONE = "done", "Done"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey(
        "clinics.Organization", on_delete=models.PROTECT, related_name="+"
    )
    registrant = models.ForeignKey(
        Registrant, on_delete=models.PROTECT, related_name="tasks"
    )
    discrepancy = models.ForeignKey(
        Discrepancy, on_delete=models.PROTECT, related_name="tasks"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    due_date = models.DateField()
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.OPEN
    )
    created_at = models.DateTimeField(auto_now_add=True)
    done_at = models.DateTimeField(null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    reference = models.CharField(
        max_length=100, blank=True, help_text="e.g. the TLR confirmation number"
    )

    class Meta:
        ordering = ["status", "due_date", "id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} due {self.due_date:%Y-%m-%d}"


class Form106Draft(models.Model):
    """The facts DEA Form 106 asks for, gathered for the person who files it online."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey(
        "clinics.Organization", on_delete=models.PROTECT, related_name="+"
    )
    discrepancy = models.OneToOneField(
        Discrepancy, on_delete=models.PROTECT, related_name="form_106"
    )
    registrant_name = models.CharField(max_length=200)
    registrant_address = models.CharField(max_length=400)
    registrant_dea_number = models.CharField(max_length=9)
    discovered_date = models.DateField()
    due_date = models.DateField()
    loss_kind = models.CharField(max_length=20, choices=Discrepancy.LossKind.choices)
    # One item per container: product, NDC, strength, form, lot, quantity lost.
    items = models.JSONField(default=list, encoder=DjangoJSONEncoder)
    narrative = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "id"]

    def __str__(self) -> str:
        return f"Form 106 draft due {self.due_date:%Y-%m-%d}"


class LedgerEntry(models.Model):
    """One movement of controlled substance. Append-only, hash-chained per registrant.

    `quantity_ml`/`quantity_mg` are the amount moved (never negative). The signed
    effects are `container_change_ml` (on the vial) and `session_change_ml` (on
    what is drawn and not yet administered or wasted for a session). The
    `*_after` columns are running balances; verify re-adds them all.
    """

    class Kind(models.TextChoices):
        RECEIVE = "receive", "Received"
        DRAW = "draw", "Drawn for a session"
        ADMINISTER = "administer", "Administered"
        WASTE = "waste", "Wasted"
        RETURN_TO_STOCK = "return_to_stock", "Returned to stock"
        TRANSFER_OUT = "transfer_out", "Transferred out"
        TRANSFER_IN = "transfer_in", "Transferred in"
        COUNT_ADJUSTMENT = "count_adjustment", "Count adjustment"
        REVERSE_DISTRIBUTOR = "reverse_distributor", "Sent to reverse distributor"
        DESTRUCTION = "destruction", "Destroyed on site"
        THEFT_LOSS = "theft_loss", "Theft or loss"
        REVERSAL = "reversal", "Reversal (correction)"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey(
        "clinics.Organization", on_delete=models.PROTECT, related_name="+"
    )
    registrant = models.ForeignKey(
        Registrant, on_delete=models.PROTECT, related_name="entries"
    )
    seq = models.PositiveBigIntegerField()
    kind = models.CharField(max_length=20, choices=Kind.choices)
    occurred_at = models.DateTimeField(help_text="When it happened (UTC).")
    recorded_at = models.DateTimeField(help_text="When it was written (UTC).")
    container = models.ForeignKey(
        Container, on_delete=models.PROTECT, related_name="entries"
    )
    lot = models.ForeignKey(Lot, on_delete=models.PROTECT, related_name="entries")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+")
    storage_location = models.ForeignKey(
        StorageLocation, on_delete=models.PROTECT, related_name="+"
    )
    quantity_ml = quantity_field()
    quantity_mg = quantity_field()
    container_change_ml = quantity_field()
    session_change_ml = quantity_field(default=Decimal("0.00"))
    container_balance_after_ml = quantity_field()
    lot_balance_after_ml = quantity_field()
    session_balance_after_ml = quantity_field(null=True, blank=True)
    stock_on_hand_after_mg = quantity_field()
    session_ref = models.CharField(
        max_length=36, blank=True, help_text="The infusion session's UUID."
    )
    patient = models.ForeignKey(
        "patients.Patient",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    actor_name = models.CharField(max_length=200)
    witness = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    witness_name = models.CharField(max_length=200, blank=True)
    witness_confirmed_at = models.DateTimeField(null=True, blank=True)
    reason = models.TextField(blank=True)
    reverses = models.OneToOneField(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reversed_by",
    )
    receipt = models.ForeignKey(
        Receipt,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="entries",
    )
    discrepancy = models.ForeignKey(
        Discrepancy,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="entries",
    )
    details = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["registrant", "seq", "id"]
        verbose_name_plural = "ledger entries"
        constraints = [
            models.UniqueConstraint(
                fields=["registrant", "seq"], name="ledger_entry_seq_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(quantity_ml__gte=0) & models.Q(quantity_mg__gte=0),
                name="ledger_entry_quantity_not_negative",
            ),
            models.CheckConstraint(
                condition=models.Q(container_balance_after_ml__gte=0)
                & models.Q(lot_balance_after_ml__gte=0)
                & models.Q(stock_on_hand_after_mg__gte=0),
                name="ledger_entry_balances_not_negative",
            ),
        ]
        indexes = [
            models.Index(fields=["registrant", "session_ref"], name="ledger_session"),
            models.Index(fields=["container", "seq"], name="ledger_container_seq"),
            models.Index(fields=["lot", "seq"], name="ledger_lot_seq"),
            models.Index(
                fields=["registrant", "kind", "occurred_at"], name="ledger_kind_time"
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.seq} {self.get_kind_display()} {self.quantity_ml} mL"

    def hashed_content(self) -> dict[str, Any]:
        """Everything the hash covers. Changing this changes every future hash."""
        confirmed = self.witness_confirmed_at
        return {
            "seq": self.seq,
            "uuid": str(self.uuid),
            "organization_id": self.organization_id,
            "registrant_id": self.registrant_id,
            "kind": self.kind,
            "occurred_at": self.occurred_at,
            "recorded_at": self.recorded_at,
            "container_id": self.container_id,
            "lot_id": self.lot_id,
            "product_id": self.product_id,
            "storage_location_id": self.storage_location_id,
            "quantity_ml": as_quantity(self.quantity_ml),
            "quantity_mg": as_quantity(self.quantity_mg),
            "container_change_ml": as_quantity(self.container_change_ml),
            "session_change_ml": as_quantity(self.session_change_ml),
            "container_balance_after_ml": as_quantity(self.container_balance_after_ml),
            "lot_balance_after_ml": as_quantity(self.lot_balance_after_ml),
            "session_balance_after_ml": as_quantity(self.session_balance_after_ml),
            "stock_on_hand_after_mg": as_quantity(self.stock_on_hand_after_mg),
            "session_ref": self.session_ref,
            "patient_id": self.patient_id,
            "actor_id": self.actor_id,
            "actor_name": self.actor_name,
            "witness_id": self.witness_id,
            "witness_name": self.witness_name,
            "witness_confirmed_at": confirmed,
            "reason": self.reason,
            "reverses_id": self.reverses_id,
            "receipt_id": self.receipt_id,
            "discrepancy_id": self.discrepancy_id,
            "details": self.details,
            "prev_hash": self.prev_hash,
        }


class LedgerCheck(models.Model):
    """The result of one verification of a registrant's chain (nightly, or on demand)."""

    class Source(models.TextChoices):
        NIGHTLY = "nightly", "Nightly check"
        COMMAND = "command", "Command line"
        WEB = "web", "Run from the ledger page"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey(
        "clinics.Organization", on_delete=models.PROTECT, related_name="+"
    )
    registrant = models.ForeignKey(
        Registrant, on_delete=models.PROTECT, related_name="checks"
    )
    ran_at = models.DateTimeField()
    source = models.CharField(max_length=10, choices=Source.choices)
    ok = models.BooleanField()
    entries_checked = models.PositiveBigIntegerField()
    first_bad_seq = models.PositiveBigIntegerField(null=True, blank=True)
    problem = models.TextField(blank=True)
    head_seq = models.PositiveBigIntegerField()
    head_hash = models.CharField(max_length=64)
    notified = models.TextField(
        blank=True, help_text="Who was emailed, comma-separated."
    )

    class Meta:
        ordering = ["-ran_at", "id"]

    def __str__(self) -> str:
        state = "intact" if self.ok else f"BROKEN at #{self.first_bad_seq}"
        return f"Check {self.ran_at:%Y-%m-%d %H:%M}: {state}"
