"""Questionnaire responses, safety alerts, portal links and measurement schedules.

Scoring lives in the pure `instruments` package; these tables keep what was
answered, how it scored under which definition version, who entered it, and
what the clinic did about it.
"""

import uuid

from django.db import models
from django.utils import timezone

from neuroclinic.measures.instruments import INSTRUMENTS, Instrument

INSTRUMENT_CHOICES = [
    (code, instrument.name) for code, instrument in INSTRUMENTS.items()
]


class QuestionnaireResponse(models.Model):
    """One completed questionnaire. Never edited: an amendment is a new version with a reason."""

    class Source(models.TextChoices):
        STAFF = "staff", "Entered by staff"
        PORTAL = "portal", "Patient, by portal link"
        KIOSK = "kiosk", "Patient, on the clinic tablet"
        SELF_CHECK = "self_check", "Patient, public self-check"
        API = "api", "API"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey(
        "clinics.Organization", on_delete=models.PROTECT, related_name="+"
    )
    patient = models.ForeignKey(
        "patients.Patient",
        on_delete=models.PROTECT,
        related_name="questionnaire_responses",
    )
    instrument_code = models.CharField(max_length=32, choices=INSTRUMENT_CHOICES)
    instrument_version = models.CharField(max_length=16)
    answers = models.JSONField(help_text="Item answers by linkId, as given.")
    sex_for_scoring = models.CharField(max_length=10, blank=True)
    total = models.SmallIntegerField(null=True, blank=True)
    severity = models.CharField(max_length=32, blank=True)
    flags = models.JSONField(default=list)
    subscales = models.JSONField(default=dict)
    triage = models.CharField(max_length=16, blank=True)
    raises_safety_alert = models.BooleanField(default=False)
    source = models.CharField(max_length=16, choices=Source.choices)
    entered_by = models.ForeignKey(
        "accounts.User",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    completed_at = models.DateTimeField(default=timezone.now, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # Idempotency: a form or client resubmitting the same key stores one response.
    submission_key = models.UUIDField(null=True, blank=True, unique=True)
    portal_link = models.ForeignKey(
        "PortalLink",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="responses",
        help_text="The link or tablet session it was answered through.",
    )
    amends = models.OneToOneField(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="amended_by",
    )
    amendment_reason = models.TextField(blank=True)
    version = models.PositiveSmallIntegerField(default=1)

    class Meta:
        ordering = ["patient", "instrument_code", "completed_at", "id"]
        indexes = [
            models.Index(
                fields=["patient", "instrument_code", "completed_at"],
                name="response_trajectory",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_instrument_code_display()} {self.total if self.total is not None else self.triage}"

    @property
    def instrument(self) -> Instrument:
        return INSTRUMENTS[self.instrument_code]

    @property
    def score_label(self) -> str:
        if self.total is not None:
            return f"{self.total}" + (
                f" ({self.severity.replace('_', ' ')})" if self.severity else ""
            )
        return f"triage: {self.triage}" if self.triage else "—"


class SafetyAlert(models.Model):
    """A possible risk of self-harm that a clinician must assess before treatment goes on.

    Raised by a suicide item (PHQ-9 item 9, QIDS-SR16 item 12, MADRS item 10,
    HAM-D17 item 3),
    a positive C-SSRS screen, or a clinician's flag (Source: M2, M10, C4).
    """

    class Reason(models.TextChoices):
        PHQ9_ITEM9 = "phq9_item9_positive", "PHQ-9 item 9 positive"
        QIDS_ITEM12 = "qids_item12_positive", "QIDS-SR16 item 12 positive"
        MADRS_ITEM10 = "madrs_item10_positive", "MADRS item 10 positive"
        HAMD17_ITEM3 = "hamd17_item3_positive", "HAM-D17 item 3 (suicide) positive"
        CSSRS = "cssrs_positive", "C-SSRS screen positive"
        CLINICIAN = "clinician_flag", "Clinician's concern"
        MANIC_SWITCH = "possible_manic_switch", "Possible manic or hypomanic switch"
        # Raised by the TMS seizure path for the supervising physician; closed by the
        # physician's seizure review on the TMS course page, not by a risk assessment.
        TMS_SEIZURE = "tms_seizure", "Seizure during a TMS session"

    class RiskLevel(models.TextChoices):
        LOW = "low", "Low"
        MODERATE = "moderate", "Moderate"
        HIGH = "high", "High"

    class Disposition(models.TextChoices):
        NO_ACTION = "no_action_needed", "No further action needed (reason documented)"
        SAFETY_PLAN = "safety_plan", "Safety plan reviewed and updated"
        TREAT_WITH_MONITORING = (
            "treat_with_monitoring",
            "Treatment may continue with closer monitoring",
        )
        PAUSE_TREATMENT = "pause_treatment", "Treatment paused pending review"
        URGENT_EVALUATION = (
            "urgent_evaluation",
            "Referred for urgent psychiatric evaluation",
        )
        EMERGENCY = "emergency_services", "Emergency services contacted"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey(
        "clinics.Organization", on_delete=models.PROTECT, related_name="+"
    )
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="safety_alerts"
    )
    reason = models.CharField(max_length=32, choices=Reason.choices)
    response = models.ForeignKey(
        QuestionnaireResponse,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="safety_alerts",
    )
    portal_link = models.ForeignKey(
        "PortalLink",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="safety_alerts",
        help_text="The link the patient was answering when an answer raised the alert.",
    )
    detail = models.TextField(blank=True)
    raised_by = models.ForeignKey(
        "accounts.User",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    raised_at = models.DateTimeField(default=timezone.now, db_index=True)
    assigned_to = models.ForeignKey(
        "accounts.User",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    escalated_at = models.DateTimeField(null=True, blank=True)
    escalated_to = models.ForeignKey(
        "accounts.User",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        "accounts.User",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # The documented risk assessment: a C-SSRS screener response, or a structured note.
    assessment_response = models.ForeignKey(
        QuestionnaireResponse,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    assessment = models.JSONField(default=dict, blank=True)
    risk_level = models.CharField(max_length=10, choices=RiskLevel.choices, blank=True)
    disposition = models.CharField(
        max_length=32, choices=Disposition.choices, blank=True
    )
    disposition_note = models.TextField(blank=True)

    class Meta:
        ordering = ["-raised_at", "-id"]
        indexes = [
            models.Index(
                fields=["patient", "acknowledged_at"], name="alert_open_by_patient"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_reason_display()} ({self.status})"

    # Closed like this, the alert keeps holding treatment until a prescriber signs a
    # TreatmentResumption (issue 14, item 3).
    HOLDING_DISPOSITIONS = frozenset(
        {
            Disposition.PAUSE_TREATMENT,
            Disposition.URGENT_EVALUATION,
            Disposition.EMERGENCY,
        }
    )

    @property
    def is_open(self) -> bool:
        return self.acknowledged_at is None

    @property
    def holds_treatment_when_closed(self) -> bool:
        return (
            self.risk_level == self.RiskLevel.HIGH
            or self.disposition in self.HOLDING_DISPOSITIONS
        )

    @property
    def status(self) -> str:
        if self.acknowledged_at is not None:
            return "acknowledged"
        return "escalated" if self.escalated_at is not None else "open"


class TreatmentResumption(models.Model):
    """A prescriber's signed decision that treatment may resume after an alert that was
    closed as high risk or with a pause, an urgent evaluation or emergency services.
    Append-only: one per alert, never edited."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    alert = models.OneToOneField(
        SafetyAlert, on_delete=models.PROTECT, related_name="resumption"
    )
    reason = models.TextField()
    signed_by = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, related_name="+"
    )
    signed_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"Treatment resumed {self.signed_at:%Y-%m-%d}"


class PortalLink(models.Model):
    """A signed, single-use, expiring link by which a patient completes questionnaires.

    The link's token is a signed value naming this row; only its SHA-256 hash
    is stored, so a database reader cannot rebuild a working link.
    """

    class Channel(models.TextChoices):
        EMAIL = "email", "Email"
        SMS = "sms", "Text message"
        KIOSK = "kiosk", "Clinic tablet"
        NONE = "none", "Not sent (copied by staff)"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey(
        "clinics.Organization", on_delete=models.PROTECT, related_name="+"
    )
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="portal_links"
    )
    instrument_codes = models.JSONField(help_text="Instruments to complete, in order.")
    token_hash = models.CharField(max_length=64, unique=True)
    channel = models.CharField(max_length=10, choices=Channel.choices)
    created_by = models.ForeignKey(
        "accounts.User",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    alert_raised = models.BooleanField(default=False)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Portal link {self.uuid} ({self.get_channel_display()})"

    @property
    def is_usable(self) -> bool:
        return self.used_at is None and self.expires_at > timezone.now()


class MeasurementRule(models.Model):
    """When an instrument falls due, relative to a treatment event (clinic-configurable)."""

    class Trigger(models.TextChoices):
        INTAKE = "intake", "At intake"
        BEFORE_INFUSION = "before_infusion", "Before each infusion"
        AFTER_INFUSION = "after_infusion", "After each infusion"
        AFTER_INDUCTION_WEEKLY = (
            "after_induction_weekly",
            "Weekly after the induction series",
        )
        BEFORE_BOOSTER = "before_booster", "Before each booster"
        TMS_COURSE_START = "tms_course_start", "From the first day of a TMS course"
        TMS_COURSE_WEEK = "tms_course_week", "Each week of a TMS course"
        TMS_COURSE_END = "tms_course_end", "On the last day of a TMS course"

    organization = models.ForeignKey(
        "clinics.Organization",
        on_delete=models.PROTECT,
        related_name="measurement_rules",
    )
    instrument_code = models.CharField(max_length=32, choices=INSTRUMENT_CHOICES)
    trigger = models.CharField(max_length=32, choices=Trigger.choices)
    offset_hours = models.SmallIntegerField(
        default=0, help_text="Hours after the event it falls due (negative: before)."
    )
    repeat_count = models.PositiveSmallIntegerField(
        default=1, help_text="How many times (e.g. 8 for weekly for 8 weeks)."
    )
    repeat_every_days = models.PositiveSmallIntegerField(default=0)
    window_hours = models.PositiveSmallIntegerField(
        default=24, help_text="Hours after falling due before it counts as overdue."
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["organization", "trigger", "instrument_code", "id"]

    def __str__(self) -> str:
        return (
            f"{self.get_instrument_code_display()} {self.get_trigger_display().lower()}"
        )


class DueMeasure(models.Model):
    """A questionnaire a patient should complete by a time, made by a rule from an event."""

    class Status(models.TextChoices):
        DUE = "due", "Due"
        COMPLETED = "completed", "Completed"
        CANCELLED = "cancelled", "Cancelled"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey(
        "clinics.Organization", on_delete=models.PROTECT, related_name="+"
    )
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="due_measures"
    )
    instrument_code = models.CharField(max_length=32, choices=INSTRUMENT_CHOICES)
    trigger = models.CharField(max_length=32, choices=MeasurementRule.Trigger.choices)
    event_ref = models.CharField(
        max_length=80, blank=True, help_text="The event it came from."
    )
    due_at = models.DateTimeField(db_index=True)
    overdue_at = models.DateTimeField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DUE)
    response = models.ForeignKey(
        QuestionnaireResponse,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    reminders_sent = models.PositiveSmallIntegerField(default=0)
    last_reminded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["due_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "instrument_code", "trigger", "event_ref", "due_at"],
                name="due_measure_once_per_event",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_instrument_code_display()} due {self.due_at:%Y-%m-%d %H:%M}"

    @property
    def is_overdue(self) -> bool:
        return self.status == self.Status.DUE and self.overdue_at < timezone.now()


class InstrumentWording(models.Model):
    """The clinic's own wording for an item whose published text we may not ship."""

    organization = models.ForeignKey(
        "clinics.Organization", on_delete=models.PROTECT, related_name="+"
    )
    instrument_code = models.CharField(max_length=32, choices=INSTRUMENT_CHOICES)
    link_id = models.CharField(max_length=40)
    text = models.TextField()
    updated_by = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["instrument_code", "link_id", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "instrument_code", "link_id"],
                name="wording_once_per_item",
            )
        ]

    def __str__(self) -> str:
        return f"{self.instrument_code} {self.link_id}"
