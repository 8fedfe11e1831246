"""Booster rule versions, booster suggestions and post-series follow-up tasks.

The rules themselves are pure (`boosters.py`, `summary.py`); these tables keep which
version of the clinic's rules was in force, what was suggested under it and on what
basis, and what the prescriber decided. Nothing here changes a plan or an order:
the prescriber confirms, and the order is signed through the treatment app.
"""

import uuid

from django.db import models
from django.db.models import Q

from neuroclinic.measures.outcomes import RESPONSE_REDUCTION_PERCENT
from neuroclinic.outcomes.boosters import BoosterRules, Urgency
from neuroclinic.outcomes.summary import (
    DEFAULT_REMISSION_MAX,
    PARTIAL_REDUCTION_PERCENT,
    RELAPSE_CONSECUTIVE_SCORES,
    OutcomeRules,
)

# The instrument each stored remission maximum belongs to (codes as in measures).
REMISSION_MAX_FIELDS = {
    "phq9": "remission_max_phq9",
    "qids-sr16": "remission_max_qids_sr16",
    "madrs": "remission_max_madrs",
    "hamd17": "remission_max_hamd17",
}


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
    # The clinic's outcome definitions (`summary.OutcomeRules`); the defaults are the
    # cited constants, so rows made before these settings existed read as before.
    response_reduction_percent = models.PositiveSmallIntegerField(
        default=RESPONSE_REDUCTION_PERCENT
    )
    partial_reduction_percent = models.PositiveSmallIntegerField(
        default=PARTIAL_REDUCTION_PERCENT
    )
    relapse_consecutive = models.PositiveSmallIntegerField(
        default=RELAPSE_CONSECUTIVE_SCORES
    )
    remission_max_phq9 = models.PositiveSmallIntegerField(
        default=DEFAULT_REMISSION_MAX["phq9"]
    )
    remission_max_qids_sr16 = models.PositiveSmallIntegerField(
        default=DEFAULT_REMISSION_MAX["qids-sr16"]
    )
    remission_max_madrs = models.PositiveSmallIntegerField(
        default=DEFAULT_REMISSION_MAX["madrs"]
    )
    remission_max_hamd17 = models.PositiveSmallIntegerField(
        default=DEFAULT_REMISSION_MAX["hamd17"]
    )
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

    def outcome_rules(self) -> OutcomeRules:
        return OutcomeRules(
            response_reduction_percent=self.response_reduction_percent,
            partial_reduction_percent=self.partial_reduction_percent,
            relapse_consecutive=self.relapse_consecutive,
            remission_max={
                code: getattr(self, name) for code, name in REMISSION_MAX_FIELDS.items()
            },
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
    appointment = models.ForeignKey(
        "scheduling.Appointment",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The booster visit the front desk booked for a confirmed suggestion.",
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
            # The worklist's "recently decided": newest decisions first, open ones left out.
            models.Index(
                fields=["organization", "-decided_at", "-id"],
                condition=~Q(status="open"),
                name="booster_decided",
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


class EpisodeSummaryRow(models.Model):
    """One episode (treatment plan) x instrument, summarised: a derived table, rebuilt from the chart.

    Written only by `actions.summaries` (the daily job, and every ten minutes for the
    patients whose scores, plans or infusions changed); read by the dashboard, which
    aggregates it in SQL instead of recomputing every episode per request. Nothing
    clinical lives only here: deleting every row and refreshing gives the same table.
    Checkpoint columns hold the summary status as it stood at that checkpoint ("" when
    the episode had no judged score in the checkpoint's window).
    """

    organization = models.ForeignKey(
        "clinics.Organization", on_delete=models.CASCADE, related_name="+"
    )
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.CASCADE, related_name="+"
    )
    plan = models.ForeignKey(
        "treatment.TreatmentPlan", on_delete=models.CASCADE, related_name="+"
    )
    instrument_code = models.CharField(max_length=32)
    protocol_name = models.CharField(max_length=200, blank=True)
    location = models.ForeignKey(
        "clinics.Location",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Where the first infusion was given.",
    )
    first_infusion_at = models.DateTimeField(null=True, blank=True)
    dose_mg_per_kg = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="The dose of the plan's first signed induction order.",
    )
    diagnosis_code = models.CharField(
        max_length=16,
        blank=True,
        help_text="The first ICD-10 code in the plan's indication; blank if none.",
    )
    status = models.CharField(max_length=20)
    baseline_total = models.IntegerField(null=True, blank=True)
    nadir_total = models.IntegerField(null=True, blank=True)
    latest_total = models.IntegerField(null=True, blank=True)
    latest_at = models.DateTimeField(null=True, blank=True)
    change_percent = models.DecimalField(
        max_digits=7, decimal_places=1, null=True, blank=True
    )
    response_on = models.DateField(null=True, blank=True)
    remission_on = models.DateField(null=True, blank=True)
    relapse_on = models.DateField(null=True, blank=True)
    at_end_of_series = models.CharField(max_length=20, blank=True)
    at_week_4 = models.CharField(max_length=20, blank=True)
    at_week_8 = models.CharField(max_length=20, blank=True)
    at_week_12 = models.CharField(max_length=20, blank=True)
    at_week_26 = models.CharField(max_length=20, blank=True)
    remission_to_relapse_days = models.IntegerField(null=True, blank=True)
    relapse_observed = models.BooleanField(default=False)
    series_end_on = models.DateField(null=True, blank=True)
    first_booster_on = models.DateField(null=True, blank=True)
    series_to_booster_days = models.IntegerField(
        null=True,
        blank=True,
        help_text="Days from the series end to the first booster (the Kaplan-Meier "
        "duration when a booster was given); blank without one.",
    )
    plan_ended_on = models.DateField(null=True, blank=True)
    intervals_under_3w = models.PositiveIntegerField(default=0)
    intervals_3_4w = models.PositiveIntegerField(default=0)
    intervals_4_5w = models.PositiveIntegerField(default=0)
    intervals_5_6w = models.PositiveIntegerField(default=0)
    intervals_6_8w = models.PositiveIntegerField(default=0)
    intervals_8w_plus = models.PositiveIntegerField(default=0)
    refreshed_at = models.DateTimeField()

    class Meta:
        ordering = ["plan", "instrument_code"]
        constraints = [
            models.UniqueConstraint(
                fields=["plan", "instrument_code"], name="episode_summary_row_unique"
            )
        ]
        indexes = [
            # The dashboard's rows: a clinic's, one instrument's, in a reporting period.
            models.Index(
                fields=["organization", "instrument_code", "first_infusion_at"],
                name="episode_summary_period",
            ),
            models.Index(fields=["patient"], name="episode_summary_patient"),
            # The two Kaplan-Meier inputs, read from the index alone (PostgreSQL's
            # index-only scan): the period's columns, then the curve's.
            models.Index(
                fields=[
                    "organization",
                    "instrument_code",
                    "first_infusion_at",
                    "remission_to_relapse_days",
                    "relapse_observed",
                ],
                condition=Q(remission_to_relapse_days__isnull=False),
                name="episode_summary_relapse",
            ),
            models.Index(
                fields=[
                    "organization",
                    "instrument_code",
                    "first_infusion_at",
                    "series_to_booster_days",
                    "series_end_on",
                    "plan_ended_on",
                ],
                condition=Q(series_end_on__isnull=False),
                name="episode_summary_booster",
            ),
        ]

    def __str__(self) -> str:
        return f"Episode summary ({self.instrument_code}, {self.status})"


class SummaryWatermark(models.Model):
    """Up to when each clinic's episode summaries took in changes (the incremental refresh)."""

    organization = models.OneToOneField(
        "clinics.Organization", on_delete=models.CASCADE, related_name="+"
    )
    changes_through = models.DateTimeField()
    full_refresh_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Episode summaries through {self.changes_through:%Y-%m-%d %H:%M}"


class EpisodeSummaryCount(models.Model):
    """The stored episode summaries counted per clinic day of first infusion and breakdown.

    Derived from `EpisodeSummaryRow` (rebuilt by `actions.summaries.refresh_counts` after
    every refresh, in the refresh's transaction), so the dashboard sums a few thousand
    rows instead of counting every episode per request. Its figures are by definition
    those of `dashboard.from_rows` over the summary rows; tests compare the two.
    Counts only rows with a first infusion (the dashboard's episodes). The days are
    the clinic's calendar days (`dashboard.reporting_zone`), the zone named in
    `time_zone`: one zone for all of a clinic's rows, the next recount moving them all
    when the clinic's zone changed.
    """

    organization = models.ForeignKey(
        "clinics.Organization", on_delete=models.CASCADE, related_name="+"
    )
    instrument_code = models.CharField(max_length=32)
    first_infusion_on = models.DateField(
        help_text="The day of the first infusion in the zone `time_zone` (the clinic's)."
    )
    time_zone = models.CharField(
        max_length=64,
        help_text="The IANA zone whose calendar `first_infusion_on` is a day of.",
    )
    protocol_name = models.CharField(max_length=200, blank=True)
    location = models.ForeignKey(
        "clinics.Location",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    dose_mg_per_kg = models.DecimalField(
        max_digits=5, decimal_places=2, null=True, blank=True
    )
    diagnosis_code = models.CharField(max_length=16, blank=True)
    episodes = models.PositiveIntegerField()
    judged = models.PositiveIntegerField()
    at_end_of_series_n = models.PositiveIntegerField()
    at_end_of_series_resp = models.PositiveIntegerField()
    at_end_of_series_rem = models.PositiveIntegerField()
    at_week_4_n = models.PositiveIntegerField()
    at_week_4_resp = models.PositiveIntegerField()
    at_week_4_rem = models.PositiveIntegerField()
    at_week_8_n = models.PositiveIntegerField()
    at_week_8_resp = models.PositiveIntegerField()
    at_week_8_rem = models.PositiveIntegerField()
    at_week_12_n = models.PositiveIntegerField()
    at_week_12_resp = models.PositiveIntegerField()
    at_week_12_rem = models.PositiveIntegerField()
    at_week_26_n = models.PositiveIntegerField()
    at_week_26_resp = models.PositiveIntegerField()
    at_week_26_rem = models.PositiveIntegerField()
    intervals_under_3w = models.PositiveIntegerField()
    intervals_3_4w = models.PositiveIntegerField()
    intervals_4_5w = models.PositiveIntegerField()
    intervals_5_6w = models.PositiveIntegerField()
    intervals_6_8w = models.PositiveIntegerField()
    intervals_8w_plus = models.PositiveIntegerField()
    as_of = models.DateTimeField(help_text="The oldest refreshed_at counted.")

    class Meta:
        indexes = [
            models.Index(
                fields=["organization", "instrument_code", "first_infusion_on"],
                name="episode_count_period",
            ),
        ]

    def __str__(self) -> str:
        return f"Episode counts ({self.instrument_code}, {self.first_infusion_on})"
