"""Protocols, treatment plans and signed infusion orders.

A protocol is the clinic's configuration of an IV ketamine series or booster,
versioned and signed by the medical director; a plan applies one to a patient;
an order is what a prescriber signs for that patient, and a dose change is a new
order that supersedes the old one. Records keep the version they were made under.
"""

import uuid
from dataclasses import fields as dataclass_fields
from typing import Any
from uuid import uuid4

from django.db import models
from django.db.models import Q
from django.utils import timezone

from neuroclinic.lib.vitals import AlarmThresholds
from neuroclinic.treatment.defaults import ProtocolKind


def decimal_field(max_digits: int = 7, places: int = 2, **kwargs: Any) -> Any:
    return models.DecimalField(max_digits=max_digits, decimal_places=places, **kwargs)


class DosingWeightRule(models.TextChoices):
    ACTUAL = "actual", "Actual body weight"
    IDEAL = "ideal", "Ideal body weight (Devine)"
    ADJUSTED = "adjusted", "Adjusted body weight (IBW + 0.4 x (actual - IBW))"


class Protocol(models.Model):
    """One version of a clinic protocol. Signed versions are never edited: a change is
    a new draft version, which replaces the active one when the director signs it."""

    class Kind(models.TextChoices):
        INDUCTION = ProtocolKind.INDUCTION.value, "Induction series"
        BOOSTER = ProtocolKind.BOOSTER.value, "Booster"

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        ACTIVE = "active", "Active (signed)"
        RETIRED = "retired", "Retired"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey(
        "clinics.Organization", on_delete=models.PROTECT, related_name="+"
    )
    # Every version of one protocol shares its family.
    family = models.UUIDField(default=uuid4, db_index=True)
    version = models.PositiveIntegerField(default=1)
    kind = models.CharField(max_length=12, choices=Kind.choices)
    name = models.CharField(max_length=120)
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.DRAFT
    )

    infusion_count = models.PositiveSmallIntegerField()
    infusions_per_week_min = models.PositiveSmallIntegerField()
    infusions_per_week_max = models.PositiveSmallIntegerField()
    series_window_days = models.PositiveSmallIntegerField()
    min_days_between_infusions = models.PositiveSmallIntegerField()
    dose_mg_per_kg = decimal_field(5, 3)
    duration_minutes = models.PositiveSmallIntegerField()
    dosing_weight_rule = models.CharField(
        max_length=10, choices=DosingWeightRule.choices
    )
    titration_step_mg_per_kg = decimal_field(5, 3)
    max_dose_mg_per_kg = decimal_field(5, 3)
    max_dose_mg = decimal_field(7, 1)
    diluent_volume_ml = decimal_field(7, 1)
    rate_min_percent = models.PositiveSmallIntegerField()
    rate_max_percent = models.PositiveSmallIntegerField()
    vitals_interval_minutes = models.PositiveSmallIntegerField()
    recovery_vitals_interval_minutes = models.PositiveSmallIntegerField()
    baseline_systolic_max_mmhg = models.PositiveSmallIntegerField()
    baseline_diastolic_max_mmhg = models.PositiveSmallIntegerField()
    baseline_systolic_caution_mmhg = models.PositiveSmallIntegerField()
    baseline_diastolic_caution_mmhg = models.PositiveSmallIntegerField()
    npo_solids_hours = models.PositiveSmallIntegerField()
    npo_clear_liquids_hours = models.PositiveSmallIntegerField()
    min_recovery_minutes = models.PositiveSmallIntegerField()
    min_aldrete_total = models.PositiveSmallIntegerField()
    min_moaas_score = models.PositiveSmallIntegerField()
    follow_up_window_start_days = models.PositiveSmallIntegerField()
    follow_up_window_end_days = models.PositiveSmallIntegerField()
    booster_interval_days_min = models.PositiveSmallIntegerField()
    booster_interval_days_max = models.PositiveSmallIntegerField()
    pregnancy_test_required = models.BooleanField()
    second_check_required = models.BooleanField(
        help_text="A second nurse confirms each calculated dose before the draw."
    )
    titration_instructions = models.TextField()
    # vitals.AlarmThresholds fields -> value (None switches an alarm off).
    alarm_thresholds = models.JSONField(default=dict)
    # [{"drug", "dose", "unit", "route", "indication", "max_doses_per_session", "source"}]
    prn_medications = models.JSONField(default=list)
    citations = models.JSONField(
        default=dict, help_text="Field -> source of its value."
    )
    change_note = models.TextField(blank=True)

    supersedes = models.OneToOneField(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="superseded_by",
    )
    created_by = models.ForeignKey(
        "accounts.User", null=True, on_delete=models.PROTECT, related_name="+"
    )
    # Set by the action (its `now`, as the demo's history gives it); never changed.
    created_at = models.DateTimeField(default=timezone.now)
    signed_by = models.ForeignKey(
        "accounts.User",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    signed_at = models.DateTimeField(null=True, blank=True)
    content_sha256 = models.CharField(max_length=64, blank=True)
    retired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["kind", "name", "-version", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["family", "version"], name="protocol_family_version_unique"
            ),
            models.UniqueConstraint(
                fields=["family"],
                condition=Q(status="active"),
                name="protocol_one_active_version",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} v{self.version}"

    def thresholds(self) -> AlarmThresholds:
        known = {f.name for f in dataclass_fields(AlarmThresholds)}
        return AlarmThresholds(
            **{k: v for k, v in self.alarm_thresholds.items() if k in known}
        )

    @property
    def is_signed(self) -> bool:
        return self.signed_at is not None


class TreatmentPlan(models.Model):
    """A patient's course: an induction protocol, then boosters under a booster protocol.

    The infusion counters are kept by `treatment.actions.plans.record_infusion_given`,
    which the infusion app calls when an infusion ends (this app cannot import it).
    """

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        ENDED = "ended", "Ended"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey(
        "clinics.Organization", on_delete=models.PROTECT, related_name="+"
    )
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="treatment_plans"
    )
    induction_protocol = models.ForeignKey(
        Protocol, on_delete=models.PROTECT, related_name="+"
    )
    booster_protocol = models.ForeignKey(
        Protocol, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    indication = models.CharField(max_length=200)
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.ACTIVE
    )
    # Dates (clinic time zone) of induction infusions given, kept by record_infusion_given.
    induction_dates = models.JSONField(default=list)
    booster_count = models.PositiveSmallIntegerField(default=0)
    last_infusion_at = models.DateTimeField(null=True, blank=True)
    induction_completed_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, related_name="+"
    )
    # Set by the action (its `now`, as the demo's history gives it); never changed.
    created_at = models.DateTimeField(default=timezone.now)
    ended_by = models.ForeignKey(
        "accounts.User",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    ended_at = models.DateTimeField(null=True, blank=True)
    end_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["patient"],
                condition=Q(status="active"),
                name="plan_one_active_per_patient",
            )
        ]

    def __str__(self) -> str:
        return f"Plan {self.created_at:%Y-%m-%d} ({self.get_status_display()})"


class InfusionOrder(models.Model):
    """A signed ketamine order. Never edited: a dose change supersedes it with a new one."""

    class Kind(models.TextChoices):
        INDUCTION = ProtocolKind.INDUCTION.value, "Induction series"
        BOOSTER = ProtocolKind.BOOSTER.value, "Booster"

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        SUPERSEDED = "superseded", "Superseded by a later order"
        DISCONTINUED = "discontinued", "Discontinued"
        COMPLETED = "completed", "All infusions given"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey(
        "clinics.Organization", on_delete=models.PROTECT, related_name="+"
    )
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="infusion_orders"
    )
    plan = models.ForeignKey(
        TreatmentPlan, on_delete=models.PROTECT, related_name="orders"
    )
    protocol = models.ForeignKey(Protocol, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    status = models.CharField(
        max_length=14, choices=Status.choices, default=Status.ACTIVE
    )
    drug = models.CharField(max_length=60, default="Ketamine HCl (RxNorm 6130)")
    infusion_count = models.PositiveSmallIntegerField()
    dose_mg_per_kg = decimal_field(5, 3)
    duration_minutes = models.PositiveSmallIntegerField()
    dosing_weight_rule = models.CharField(
        max_length=10, choices=DosingWeightRule.choices
    )
    max_dose_mg_per_kg = decimal_field(5, 3)
    max_dose_mg = decimal_field(7, 1)
    diluent_volume_ml = decimal_field(7, 1)
    rate_min_percent = models.PositiveSmallIntegerField()
    rate_max_percent = models.PositiveSmallIntegerField()
    titration_instructions = models.TextField()
    given_count = models.PositiveSmallIntegerField(
        default=0, help_text="Infusions given under this order."
    )
    reason = models.TextField(blank=True, help_text="Why this order (a dose change).")
    supersedes = models.OneToOneField(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="superseded_by",
    )
    signed_by = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, related_name="+"
    )
    signed_at = models.DateTimeField()
    content_sha256 = models.CharField(max_length=64)
    ended_by = models.ForeignKey(
        "accounts.User",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    ended_at = models.DateTimeField(null=True, blank=True)
    end_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-signed_at", "-id"]
        indexes = [
            models.Index(fields=["plan", "status"], name="order_plan_status"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} order {self.dose_mg_per_kg.normalize():f} mg/kg over {self.duration_minutes} min"

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.ACTIVE

    def summary(self) -> str:
        return (
            f"Ketamine {self.dose_mg_per_kg.normalize():f} mg/kg IV over "
            f"{self.duration_minutes} min ({self.get_dosing_weight_rule_display().lower()}), "
            f"ceiling {self.max_dose_mg_per_kg.normalize():f} mg/kg and "
            f"{self.max_dose_mg.normalize():f} mg; {self.infusion_count} infusion"
            f"{'s' if self.infusion_count != 1 else ''}"
        )


class PrnOrder(models.Model):
    """An as-needed medication on an order: drug, dose, route, what for, how often."""

    class Route(models.TextChoices):
        IV = "IV", "Intravenous (IV)"
        PO = "PO", "By mouth (PO)"
        ODT = "ODT", "Orally disintegrating tablet (ODT)"
        IM = "IM", "Intramuscular (IM)"
        SL = "SL", "Sublingual (SL)"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    order = models.ForeignKey(
        InfusionOrder, on_delete=models.PROTECT, related_name="prn_medications"
    )
    drug = models.CharField(max_length=80)
    dose = decimal_field(7, 3)
    unit = models.CharField(max_length=10, default="mg")
    route = models.CharField(max_length=4, choices=Route.choices)
    indication = models.CharField(max_length=200)
    max_doses_per_session = models.PositiveSmallIntegerField(default=1)

    class Meta:
        ordering = ["order", "drug", "id"]

    def __str__(self) -> str:
        return f"{self.drug} {self.dose.normalize():f} {self.unit} {self.route} PRN {self.indication.lower()}"

    @property
    def dose_text(self) -> str:
        return f"{self.dose.normalize():f} {self.unit}"
