"""Counts, inventories, discrepancies and the compliance tasks and Form 106 drafts they open."""

import uuid

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models

from neuroclinic.ledger.models.fields import quantity_field
from neuroclinic.ledger.models.registration import Registrant, StorageLocation
from neuroclinic.ledger.models.stock import Container, Product


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
