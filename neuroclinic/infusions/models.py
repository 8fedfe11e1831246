"""The infusion session, from check-in to the signed note, and everything charted in it.

Clinical rows are never edited after the fact: a vital sign, an event, a dose
given is a row with who and when; the note is locked when signed and corrected
by addenda. The session's UUID is its reference in the controlled-substance
ledger (`session_ref`), which keeps the draw, administration and waste.
"""

import uuid
from typing import Any

from django.db import models
from django.db.models import Q

from neuroclinic.lib.vitals import (
    ECG_RHYTHMS,
    VitalSigns,
    ecg_needs_review,
    ecg_rhythm_label,
)


def decimal_field(max_digits: int = 7, places: int = 2, **kwargs: Any) -> Any:
    return models.DecimalField(max_digits=max_digits, decimal_places=places, **kwargs)


class InfusionSession(models.Model):
    class Status(models.TextChoices):
        CHECKED_IN = "checked_in", "Checked in"
        RUNNING = "running", "Infusing"
        PAUSED = "paused", "Paused"
        RECOVERY = "recovery", "Recovery"
        DISCHARGED = "discharged", "Discharged"
        CLOSED = "closed", "Closed (note signed)"
        CANCELLED = "cancelled", "Cancelled"

    class PregnancyStatus(models.TextChoices):
        UNKNOWN = "", "Not recorded"
        NOT_APPLICABLE = "not_applicable", "Does not apply"
        REPORTED_NOT_PREGNANT = "reported_not_pregnant", "Not pregnant (patient report)"
        TEST_NEGATIVE = "test_negative", "Not pregnant (test negative today)"
        PREGNANT = "pregnant", "Pregnant or possibly pregnant"

    OPEN_STATUSES = (
        Status.CHECKED_IN,
        Status.RUNNING,
        Status.PAUSED,
        Status.RECOVERY,
        Status.DISCHARGED,
    )
    INFUSING_STATUSES = (Status.RUNNING, Status.PAUSED)

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey(
        "clinics.Organization", on_delete=models.PROTECT, related_name="+"
    )
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="infusion_sessions"
    )
    plan = models.ForeignKey(
        "treatment.TreatmentPlan", on_delete=models.PROTECT, related_name="sessions"
    )
    order = models.ForeignKey(
        "treatment.InfusionOrder", on_delete=models.PROTECT, related_name="sessions"
    )
    location = models.ForeignKey(
        "clinics.Location", on_delete=models.PROTECT, related_name="+"
    )
    room = models.ForeignKey(
        "clinics.Room", on_delete=models.PROTECT, related_name="infusion_sessions"
    )
    status = models.CharField(
        max_length=12, choices=Status.choices, default=Status.CHECKED_IN
    )
    # Infusion number within the series ("3 of 6"), set at check-in.
    sequence_number = models.PositiveSmallIntegerField()
    sequence_total = models.PositiveSmallIntegerField()
    service_date = models.DateField(help_text="The clinic's calendar date.")

    checked_in_by = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, related_name="+"
    )
    checked_in_at = models.DateTimeField()
    nurse = models.ForeignKey(
        "accounts.User",
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The nurse running the infusion.",
    )
    # Checked in over the protocol's rhythm (minimum days between infusions, weekly
    # maximum, booster interval): the written reason, and the rules it overrode.
    spacing_override_reason = models.CharField(max_length=500, blank=True)
    spacing_overridden = models.JSONField(default=list, blank=True)

    # Checklist
    weight_kg = decimal_field(5, 1, null=True, blank=True)
    weight_entered = models.CharField(
        max_length=20, blank=True, help_text="As typed, e.g. '176 lb'."
    )
    weight_recorded_at = models.DateTimeField(null=True, blank=True)
    height_cm = decimal_field(5, 1, null=True, blank=True)
    last_solids_at = models.DateTimeField(null=True, blank=True)
    last_clear_liquids_at = models.DateTimeField(null=True, blank=True)
    escort_name = models.CharField(max_length=200, blank=True)
    escort_phone = models.CharField(max_length=30, blank=True)
    escort_confirmed = models.BooleanField(default=False)
    pregnancy_status = models.CharField(
        max_length=24, choices=PregnancyStatus.choices, blank=True, default=""
    )
    pregnancy_note = models.CharField(max_length=200, blank=True)
    checklist_confirmed_by = models.ForeignKey(
        "accounts.User",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    checklist_confirmed_at = models.DateTimeField(null=True, blank=True)
    # The checklist as it stood when the infusion started (confirmed, then re-checked
    # at the start): the note shows this, not a re-evaluation after the fact.
    checklist_snapshot = models.JSONField(default=list, blank=True)

    # The infusion
    rate_ml_per_hour = decimal_field(7, 1, null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    end_reason = models.CharField(max_length=200, blank=True)
    stopped_early = models.BooleanField(default=False)
    volume_infused_ml = decimal_field(7, 2, null=True, blank=True)
    mg_given = decimal_field(7, 2, null=True, blank=True)
    mg_per_kg_given = decimal_field(6, 3, null=True, blank=True)

    # Recovery and discharge
    discharged_at = models.DateTimeField(null=True, blank=True)
    discharged_by = models.ForeignKey(
        "accounts.User",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    discharge_escort_name = models.CharField(max_length=200, blank=True)
    instructions_channel = models.CharField(max_length=10, blank=True)
    instructions_given_at = models.DateTimeField(null=True, blank=True)

    closed_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancel_reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-checked_in_at", "-id"]
        indexes = [
            models.Index(
                fields=["location", "service_date"], name="session_location_day"
            ),
            models.Index(
                fields=["patient", "checked_in_at"], name="session_patient_time"
            ),
            models.Index(fields=["room", "status"], name="session_room_status"),
            # The clinic's infusions given (outcomes' rates), in a reporting period.
            models.Index(
                fields=["organization", "status", "service_date"],
                name="session_org_status_day",
            ),
        ]
        constraints = [
            # One open session per room and per patient at a time.
            models.UniqueConstraint(
                fields=["room"],
                condition=Q(status__in=["checked_in", "running", "paused", "recovery"]),
                name="session_one_open_per_room",
            ),
            models.UniqueConstraint(
                fields=["patient"],
                condition=Q(
                    status__in=[
                        "checked_in",
                        "running",
                        "paused",
                        "recovery",
                        "discharged",
                    ]
                ),
                name="session_one_open_per_patient",
            ),
        ]

    def __str__(self) -> str:
        return f"Infusion {self.sequence_number} of {self.sequence_total} on {self.service_date}"

    @property
    def ledger_ref(self) -> str:
        return str(self.uuid)

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES

    @property
    def is_infusing(self) -> bool:
        return self.status in self.INFUSING_STATUSES

    @property
    def progress(self) -> str:
        return f"{self.sequence_number} of {self.sequence_total}"


class SessionEvent(models.Model):
    """The session's timeline: each step with its time, who, and why."""

    class Kind(models.TextChoices):
        CHECKED_IN = "checked_in", "Checked in"
        CHECKLIST_CONFIRMED = "checklist_confirmed", "Checklist confirmed"
        DOSE_CALCULATED = "dose_calculated", "Dose calculated"
        DOSE_CHECKED = "dose_checked", "Dose checked by a second nurse"
        DRAWN = "drawn", "Drawn from stock"
        STARTED = "started", "Infusion started"
        PAUSED = "paused", "Infusion paused"
        RESUMED = "resumed", "Infusion resumed"
        RATE_CHANGED = "rate_changed", "Rate changed"
        STOPPED = "stopped", "Infusion stopped"
        ADMINISTERED = "administered", "Administration recorded in the ledger"
        DISCHARGED = "discharged", "Discharged"
        INSTRUCTIONS = "instructions", "Discharge instructions given"
        WASTED = "wasted", "Remainder wasted (witnessed)"
        NOTE_SIGNED = "note_signed", "Note signed"
        NOTE_COSIGNED = "note_cosigned", "Note co-signed"
        CANCELLED = "cancelled", "Cancelled"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    session = models.ForeignKey(
        InfusionSession, on_delete=models.PROTECT, related_name="events"
    )
    kind = models.CharField(max_length=24, choices=Kind.choices)
    occurred_at = models.DateTimeField()
    recorded_at = models.DateTimeField(auto_now_add=True)
    by = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(max_length=300, blank=True)
    rate_ml_per_hour = decimal_field(7, 1, null=True, blank=True)
    data = models.JSONField(default=dict, blank=True)
    # Offline replays carry the key the tablet made, so a resend is recorded once.
    client_key = models.UUIDField(null=True, blank=True, unique=True)

    class Meta:
        ordering = ["occurred_at", "id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} at {self.occurred_at:%H:%M}"


class DoseRecord(models.Model):
    """One run of the dose calculator for the session, with its working. The newest counts."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    session = models.ForeignKey(
        InfusionSession, on_delete=models.PROTECT, related_name="doses"
    )
    weight_kg = decimal_field(5, 1)
    height_cm = decimal_field(5, 1, null=True, blank=True)
    sex = models.CharField(max_length=10, blank=True)
    dose_mg_per_kg = decimal_field(5, 3)
    dosing_weight_rule = models.CharField(max_length=10)
    concentration_mg_per_ml = decimal_field(6, 1)
    diluent_volume_ml = decimal_field(7, 1)
    duration_minutes = models.PositiveSmallIntegerField()
    max_dose_mg = decimal_field(7, 1, null=True, blank=True)
    max_dose_mg_per_kg = decimal_field(5, 3, null=True, blank=True)
    dosing_weight_kg = decimal_field(5, 1)
    dose_mg = decimal_field(7, 1)
    drug_volume_ml = decimal_field(7, 2)
    total_volume_ml = decimal_field(7, 2)
    final_concentration_mg_per_ml = decimal_field(7, 3)
    rate_ml_per_hour = decimal_field(7, 1)
    dose_rate_mg_per_min = decimal_field(7, 3)
    capped = models.BooleanField()
    cap_reason = models.CharField(max_length=24, blank=True)
    warnings = models.JSONField(default=list)
    working = models.JSONField(default=list)
    calculated_by = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, related_name="+"
    )
    calculated_at = models.DateTimeField()
    checked_by = models.ForeignKey(
        "accounts.User",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    checked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["calculated_at", "id"]

    def __str__(self) -> str:
        return f"{self.dose_mg} mg at {self.rate_ml_per_hour} mL/h"


class VitalReading(models.Model):
    """One set of vital signs, typed by a nurse or sent by a monitor.

    A monitor's readings are idempotent on (device, device timestamp): the same
    reading sent twice is stored once. Typed readings carry the tablet's key.
    """

    class Source(models.TextChoices):
        TYPED = "typed", "Typed by a nurse"
        MONITOR = "monitor", "Monitor (API)"
        HL7 = "hl7", "Monitor (HL7 v2)"

    class Phase(models.TextChoices):
        BASELINE = "baseline", "Baseline"
        INFUSION = "infusion", "During infusion"
        RECOVERY = "recovery", "Recovery"

    organization = models.ForeignKey(
        "clinics.Organization", on_delete=models.PROTECT, related_name="+"
    )
    session = models.ForeignKey(
        InfusionSession, on_delete=models.PROTECT, related_name="vitals"
    )
    taken_at = models.DateTimeField()
    received_at = models.DateTimeField()
    source = models.CharField(max_length=8, choices=Source.choices)
    phase = models.CharField(max_length=10, choices=Phase.choices)
    device = models.ForeignKey(
        "clinics.Device",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # The monitor's identity as it sent it (its Device UUID); "" for typed readings.
    device_key = models.CharField(max_length=64, blank=True)
    client_key = models.UUIDField(null=True, blank=True, unique=True)
    entered_by = models.ForeignKey(
        "accounts.User",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    systolic_mmhg = models.PositiveSmallIntegerField()
    diastolic_mmhg = models.PositiveSmallIntegerField()
    heart_rate_bpm = models.PositiveSmallIntegerField()
    spo2_percent = models.PositiveSmallIntegerField()
    respiratory_rate_per_min = models.PositiveSmallIntegerField()
    etco2_mmhg = models.PositiveSmallIntegerField(null=True, blank=True)
    # Optional ECG rhythm (issue #14 item 8; lib/vitals.ECG_RHYTHMS). NULL, not "", when
    # not recorded: SQLite adds a nullable column in place, keeping the table's
    # append-only triggers (a NOT NULL column would rebuild the table without them).
    ecg_rhythm = models.CharField(  # noqa: DJ001
        max_length=24,
        null=True,
        blank=True,
        choices=[(k, v) for k, v in ECG_RHYTHMS.items()],
    )
    ecg_rhythm_other = models.CharField(max_length=100, null=True, blank=True)  # noqa: DJ001

    class Meta:
        ordering = ["taken_at", "id"]
        indexes = [
            models.Index(fields=["session", "taken_at"], name="vitals_session_time"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["device_key", "taken_at"],
                condition=~Q(device_key=""),
                name="vitals_device_time_unique",
            )
        ]

    def __str__(self) -> str:
        return f"{self.systolic_mmhg}/{self.diastolic_mmhg} HR {self.heart_rate_bpm} SpO2 {self.spo2_percent}%"

    def as_vitals(self) -> VitalSigns:
        return VitalSigns(
            systolic_mmhg=self.systolic_mmhg,
            diastolic_mmhg=self.diastolic_mmhg,
            heart_rate_bpm=self.heart_rate_bpm,
            spo2_percent=self.spo2_percent,
            respiratory_rate_per_min=self.respiratory_rate_per_min,
            etco2_mmhg=self.etco2_mmhg,
        )

    @property
    def ecg_rhythm_label(self) -> str:
        return ecg_rhythm_label(self.ecg_rhythm, self.ecg_rhythm_other)

    @property
    def ecg_needs_review(self) -> bool:
        return ecg_needs_review(self.ecg_rhythm)


class RejectedReading(models.Model):
    """A reading that could not be stored as vital signs, kept as it arrived with the reasons."""

    organization = models.ForeignKey(
        "clinics.Organization", on_delete=models.PROTECT, related_name="+"
    )
    session = models.ForeignKey(
        InfusionSession, on_delete=models.PROTECT, related_name="rejected_readings"
    )
    received_at = models.DateTimeField()
    source = models.CharField(max_length=8, choices=VitalReading.Source.choices)
    payload = models.JSONField()
    errors = models.JSONField()
    received_by = models.ForeignKey(
        "accounts.User",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        ordering = ["received_at", "id"]

    def __str__(self) -> str:
        return f"Rejected reading at {self.received_at:%H:%M:%S}"


class SessionAlarm(models.Model):
    """An alarm the protocol's thresholds raised. It stays until a nurse acknowledges it."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    session = models.ForeignKey(
        InfusionSession, on_delete=models.PROTECT, related_name="alarms"
    )
    code = models.CharField(max_length=32)
    severity = models.CharField(max_length=10)
    message = models.CharField(max_length=300)
    action = models.TextField()
    source = models.CharField(max_length=100)
    raised_at = models.DateTimeField()
    reading_taken_at = models.DateTimeField()
    cleared_at = models.DateTimeField(null=True, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        "accounts.User",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    acknowledgment_note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-raised_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["session", "code"],
                condition=Q(cleared_at__isnull=True),
                name="alarm_one_active_per_code",
            )
        ]

    def __str__(self) -> str:
        return self.message

    @property
    def is_critical(self) -> bool:
        return self.severity == "critical"

    @property
    def needs_acknowledgment(self) -> bool:
        return self.acknowledged_at is None


class AdverseEvent(models.Model):
    class Kind(models.TextChoices):
        NAUSEA = "nausea", "Nausea"
        VOMITING = "vomiting", "Vomiting"
        HYPERTENSION = "hypertension", "Hypertension"
        TACHYCARDIA = "tachycardia", "Tachycardia"
        DISSOCIATION = "dissociation", "Dissociation or emergence reaction"
        OVERSEDATION = "oversedation", "Oversedation"
        HEADACHE = "headache", "Headache"
        ANXIETY = "anxiety", "Anxiety"
        OTHER = "other", "Other"

    class Severity(models.TextChoices):
        MILD = "mild", "Mild"
        MODERATE = "moderate", "Moderate"
        SEVERE = "severe", "Severe"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    session = models.ForeignKey(
        InfusionSession, on_delete=models.PROTECT, related_name="adverse_events"
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    severity = models.CharField(max_length=10, choices=Severity.choices)
    onset_at = models.DateTimeField()
    description = models.CharField(max_length=500, blank=True)
    intervention = models.CharField(
        max_length=500, blank=True, help_text="What was done, besides medication."
    )
    recorded_by = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)
    client_key = models.UUIDField(null=True, blank=True, unique=True)

    class Meta:
        ordering = ["onset_at", "id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.get_severity_display().lower()})"


class PrnGiven(models.Model):
    """An as-needed medication given under the order: drug, dose, route, time, by whom."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    session = models.ForeignKey(
        InfusionSession, on_delete=models.PROTECT, related_name="prn_given"
    )
    prn_order = models.ForeignKey(
        "treatment.PrnOrder", on_delete=models.PROTECT, related_name="+"
    )
    adverse_event = models.ForeignKey(
        AdverseEvent,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="prn_given",
    )
    drug = models.CharField(max_length=80)
    dose = decimal_field(7, 3)
    unit = models.CharField(max_length=10)
    route = models.CharField(max_length=4)
    given_at = models.DateTimeField()
    given_by = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, related_name="+"
    )
    note = models.CharField(max_length=300, blank=True)
    client_key = models.UUIDField(null=True, blank=True, unique=True)

    class Meta:
        ordering = ["given_at", "id"]

    def __str__(self) -> str:
        return f"{self.drug} {self.dose.normalize():f} {self.unit} {self.route}"


class SedationScore(models.Model):
    """MOAA/S (0-5), during and after the infusion."""

    session = models.ForeignKey(
        InfusionSession, on_delete=models.PROTECT, related_name="sedation_scores"
    )
    score = models.PositiveSmallIntegerField()
    assessed_at = models.DateTimeField()
    phase = models.CharField(max_length=10, choices=VitalReading.Phase.choices)
    assessed_by = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, related_name="+"
    )
    client_key = models.UUIDField(null=True, blank=True, unique=True)

    class Meta:
        ordering = ["assessed_at", "id"]

    def __str__(self) -> str:
        return f"MOAA/S {self.score}"


class SessionQuestionnaire(models.Model):
    """A questionnaire (CADSS-6) taken during or after the infusion; stored by measures."""

    session = models.ForeignKey(
        InfusionSession, on_delete=models.PROTECT, related_name="questionnaires"
    )
    response = models.OneToOneField(
        "measures.QuestionnaireResponse", on_delete=models.PROTECT, related_name="+"
    )
    phase = models.CharField(max_length=10, choices=VitalReading.Phase.choices)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.response} ({self.phase})"


class RecoveryAssessment(models.Model):
    """Modified Aldrete (0-10) with its items, and what discharge_readiness said then."""

    session = models.ForeignKey(
        InfusionSession, on_delete=models.PROTECT, related_name="recovery_assessments"
    )
    assessed_at = models.DateTimeField()
    assessed_by = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, related_name="+"
    )
    activity = models.PositiveSmallIntegerField()
    respiration = models.PositiveSmallIntegerField()
    circulation = models.PositiveSmallIntegerField()
    consciousness = models.PositiveSmallIntegerField()
    spo2 = models.PositiveSmallIntegerField()
    total = models.PositiveSmallIntegerField()
    moaas_score = models.PositiveSmallIntegerField(null=True, blank=True)
    ready = models.BooleanField()
    unmet = models.JSONField(default=list)
    client_key = models.UUIDField(null=True, blank=True, unique=True)

    class Meta:
        ordering = ["assessed_at", "id"]

    def __str__(self) -> str:
        return f"Aldrete {self.total}"


class InfusionNote(models.Model):
    """The nursing note, built from what was charted. Locked once the nurse signs it."""

    session = models.OneToOneField(
        InfusionSession, on_delete=models.PROTECT, related_name="note"
    )
    body = models.TextField()
    body_sha256 = models.CharField(max_length=64)
    signed_by = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, related_name="+"
    )
    signed_at = models.DateTimeField()
    cosigned_by = models.ForeignKey(
        "accounts.User",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    cosigned_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-signed_at", "-id"]

    def __str__(self) -> str:
        return f"Note signed {self.signed_at:%Y-%m-%d %H:%M}"


class NoteAddendum(models.Model):
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    note = models.ForeignKey(
        InfusionNote, on_delete=models.PROTECT, related_name="addenda"
    )
    text = models.TextField()
    added_by = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, related_name="+"
    )
    added_at = models.DateTimeField()

    class Meta:
        ordering = ["added_at", "id"]

    def __str__(self) -> str:
        return f"Addendum {self.added_at:%Y-%m-%d %H:%M}"


class BoardDisplayLink(models.Model):
    """A wall display of the nurse-station board that needs no staff sign-in.

    Issue 15 item 4: an unattended screen must sign out, so a board that must stay
    up runs on this link instead. The link carries a random token; only its
    SHA-256 is stored. It shows rooms, states and patients' initials only, and
    stops working the moment it is revoked.
    """

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey(
        "clinics.Organization", on_delete=models.PROTECT, related_name="+"
    )
    location = models.ForeignKey(
        "clinics.Location", on_delete=models.PROTECT, related_name="+"
    )
    label = models.CharField(max_length=100)
    token_sha256 = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        "accounts.User",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Board display {self.label}"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
