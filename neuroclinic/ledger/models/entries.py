"""The ledger entry (one movement, append-only, hash-chained) and the checks that verify the chain."""

import uuid
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models

from neuroclinic.ledger.models.counts import Discrepancy
from neuroclinic.ledger.models.fields import as_quantity, quantity_field
from neuroclinic.ledger.models.registration import Registrant, StorageLocation
from neuroclinic.ledger.models.stock import Container, Lot, Product, Receipt


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
            # A session's actions and summary find its entries by organization and
            # reference, without the registrant (PostgreSQL before 18 cannot skip
            # the leading column of ledger_session).
            models.Index(
                fields=["organization", "session_ref"], name="ledger_org_session"
            ),
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
