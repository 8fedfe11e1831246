"""Booster rule versions, booster suggestions and post-series follow-up tasks.

The rules themselves are pure (`boosters.py`, `summary.py`); these tables keep which
version of the clinic's rules was in force, what was suggested under it and on what
basis, and what the prescriber decided. Nothing here changes a plan or an order:
the prescriber confirms, and the order is signed through the treatment app.
"""

import uuid

from django.db import models
from django.db.models import Q

from neuroclinic.outcomes.boosters import BoosterRules, Urgency


class BoosterRuleSet(models.Model):
    """One version of the clinic's booster rules, set by the medical director. Never edited."""

    organization = models.ForeignKey(
        "clinics.Organization", on_delete=models.PROTECT, related_name="+"
    )
    version = models.PositiveIntegerField()
    instrument_code = models.CharField(max_length=32, default="phq9")
    rise_points = models.PositiveSmallIntegerField()
    consecutive_rises = models.PositiveSmallIntegerField()
    band_threshold = models.PositiveSmallIntegerField(null=True, blank=True)
    learn_after_boosters = models.PositiveSmallIntegerField()
    lead_days = models.PositiveSmallIntegerField()
    due_soon_days = models.PositiveSmallIntegerField()
    overdue_after_days = models.PositiveSmallIntegerField()
    change_note = models.TextField()
    created_by = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["organization", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "version"], name="booster_rules_version_unique"
            )
        ]

    def __str__(self) -> str:
        return f"Booster rules v{self.version}"

    def rules(self) -> BoosterRules:
        return BoosterRules(
            version=self.version,
            instrument_code=self.instrument_code,
            rise_points=self.rise_points,
            consecutive_rises=self.consecutive_rises,
            band_threshold=self.band_threshold,
            learn_after_boosters=self.learn_after_boosters,
            lead_days=self.lead_days,
            due_soon_days=self.due_soon_days,
            overdue_after_days=self.overdue_after_days,
        )


class BoosterSuggestion(models.Model):
    """A booster the rules suggest for a plan, with its basis, until a prescriber decides."""

    class Status(models.TextChoices):
        OPEN = "open", "Awaiting a prescriber"
        CONFIRMED = "confirmed", "Confirmed by a prescriber"
        DISMISSED = "dismissed", "Dismissed with a reason"

    URGENCY_CHOICES = [(u.value, u.value.replace("_", " ")) for u in Urgency]

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey(
        "clinics.Organization", on_delete=models.PROTECT, related_name="+"
    )
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="+"
    )
    plan = models.ForeignKey(
        "treatment.TreatmentPlan", on_delete=models.PROTECT, related_name="+"
    )
    due_on = models.DateField(db_index=True)
    urgency_when_made = models.CharField(max_length=10, choices=URGENCY_CHOICES)
    basis = models.JSONField(help_text="[{rule, on, text}] from boosters.suggest.")
    rules_version = models.PositiveIntegerField(help_text="0: the built-in defaults.")
    rules = models.JSONField(help_text="The rule values in force when it was made.")
    last_infusion_on = models.DateField()
    made_at = models.DateTimeField()
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.OPEN
    )
    decided_by = models.ForeignKey(
        "accounts.User",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(blank=True)
    order = models.ForeignKey(
        "treatment.InfusionOrder",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        ordering = ["due_on", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["plan"],
                condition=Q(status="open"),
                name="booster_suggestion_one_open_per_plan",
            ),
        ]
        indexes = [
            models.Index(
                fields=["organization", "status", "due_on"], name="booster_worklist"
            ),
        ]

    def __str__(self) -> str:
        return f"Booster suggested for {self.due_on:%Y-%m-%d} ({self.get_status_display()})"


class FollowUpTask(models.Model):
    """Work due in the 10-14 day window after the induction series (Source: K5, K22)."""

    class Kind(models.TextChoices):
        FOLLOW_UP_VISIT = "follow_up_visit", "Follow-up visit after the series"
        NOTIFY_PROVIDER = (
            "notify_provider",
            "Tell the referring provider or therapist how the series went",
        )

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        DONE = "done", "Done"
        CANCELLED = "cancelled", "Cancelled"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey(
        "clinics.Organization", on_delete=models.PROTECT, related_name="+"
    )
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="+"
    )
    plan = models.ForeignKey(
        "treatment.TreatmentPlan", on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    due_from = models.DateField()
    due_until = models.DateField(db_index=True)
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.OPEN
    )
    created_at = models.DateTimeField(auto_now_add=True)
    done_by = models.ForeignKey(
        "accounts.User",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    done_at = models.DateTimeField(null=True, blank=True)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["due_until", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["plan", "kind"], name="follow_up_task_once_per_plan"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} by {self.due_until:%Y-%m-%d}"
