"""The DEA registration, the head of its chain, and its safes."""

import uuid
from decimal import Decimal

from django.db import models

from neuroclinic.ledger.models.fields import dea_number_validator, quantity_field


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
