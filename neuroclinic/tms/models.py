"""TMS records: the safety screen, motor thresholds, the course order, sessions and seizures.

Clinical rows are append-only: a new screen, threshold or review is a new row with who
and when; a corrected value is a new record, never an edit. The one row that moves is
the session, through its steps (in progress -> completed, interrupted or stopped for a
seizure); what was charted in it (side effects, intensity changes, the seizure) is rows.

A course is on hold while any of its seizures has no physician review (docs/tms.md).
"""

import uuid
from uuid import uuid4

from django.conf import settings
from django.db import models

from neuroclinic.tms import adverse_events, postictal, screening


def _user(
    related_name: str = "+", *, null: bool = False
) -> "models.ForeignKey[object]":
    return models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name=related_name,
        null=null,
        blank=null,
    )


class SafetyScreen(models.Model):
    """The pre-course safety screen (IFCN topics; Source: T6, T9 (docs/sources.md))."""

    class Outcome(models.TextChoices):
        CLEAR = screening.Outcome.CLEAR.value, "Clear"
        NEEDS_REVIEW = (
            screening.Outcome.NEEDS_REVIEW.value,
            "Needs the prescriber's review",
        )
        EXCLUDED = (
            screening.Outcome.EXCLUDED.value,
            "Excluded (device contraindication)",
        )

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey(
        "clinics.Organization", on_delete=models.PROTECT, related_name="+"
    )
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="tms_screens"
    )
    answers = models.JSONField()
    outcome = models.CharField(max_length=16, choices=Outcome.choices)
    exclusions = models.JSONField(default=list)
    cautions = models.JSONField(default=list)
    screened_by = _user()
    screened_at = models.DateTimeField()

    class Meta:
        ordering = ["-screened_at", "-id"]

    def __str__(self) -> str:
        return f"TMS safety screen ({self.get_outcome_display()})"

    @property
    def is_cleared(self) -> bool:
        if self.outcome == screening.Outcome.CLEAR:
            return True
        decision = getattr(self, "decision", None)
        return (
            self.outcome == screening.Outcome.NEEDS_REVIEW
            and decision is not None
            and decision.cleared
        )


class ScreenDecision(models.Model):
    """The prescriber's signed decision on a screen that needs review."""

    screen = models.OneToOneField(
        SafetyScreen, on_delete=models.PROTECT, related_name="decision"
    )
    cleared = models.BooleanField()
    rationale = models.TextField()
    decided_by = _user()
    decided_at = models.DateTimeField()

    def __str__(self) -> str:
        return "Screen cleared" if self.cleared else "Screen declined"


class MotorThreshold(models.Model):
    """A resting motor threshold determination (Source: T5, T8, T8b (docs/sources.md))."""

    class Observation(models.TextChoices):
        VISUAL = "visual", "Visual (thumb movement)"
        EMG = "emg", "EMG"

    class Procedure(models.TextChoices):
        RELATIVE_FREQUENCY = "relative_frequency", "Relative frequency (e.g. 5 of 10)"
        ADAPTIVE = "adaptive", "Adaptive estimation"

    class Reason(models.TextChoices):
        INITIAL = "initial", "First determination"
        MEDICATION_CHANGE = "medication_change", "Medication change"
        SCHEDULED = "scheduled", "Scheduled re-check"
        OTHER = "other", "Other"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey(
        "clinics.Organization", on_delete=models.PROTECT, related_name="+"
    )
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="tms_thresholds"
    )
    determined_on = models.DateField()
    observation = models.CharField(max_length=8, choices=Observation.choices)
    procedure = models.CharField(max_length=20, choices=Procedure.choices)
    value_percent_output = models.PositiveSmallIntegerField()
    device = models.ForeignKey(
        "clinics.Device",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    coil = models.CharField(max_length=100)
    reason = models.CharField(max_length=20, choices=Reason.choices)
    operator = _user()
    supervising_physician = _user()
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["-recorded_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(value_percent_output__gte=1)
                & models.Q(value_percent_output__lte=100),
                name="tms_threshold_1_to_100",
            )
        ]

    def __str__(self) -> str:
        return f"Motor threshold {self.value_percent_output} % output"


class TmsProtocol(models.Model):
    """One version of a clinic's TMS protocol (docs/tms.md, "Protocol versions").

    A draft may change until a medical director signs it; a signed version never
    changes (a database trigger refuses it too): a change is a new version of the
    same family, which supersedes it when signed. The clinic orders under a family's
    newest signed version, and a course keeps the exact version it was ordered under.
    `parameters` is `protocols.snapshot()` of the settings.
    """

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey(
        "clinics.Organization", on_delete=models.PROTECT, related_name="+"
    )
    # Every version of one protocol shares its family and its code.
    family = models.UUIDField(default=uuid4, db_index=True)
    code = models.CharField(max_length=32)
    version = models.PositiveIntegerField()
    name = models.CharField(max_length=100)
    parameters = models.JSONField()
    change_note = models.TextField(blank=True)
    created_by = _user()
    created_at = models.DateTimeField()
    signed_by = _user(null=True)
    signed_at = models.DateTimeField(null=True, blank=True)
    content_sha256 = models.CharField(max_length=64, blank=True)
    # The signed version this one replaced, set when it is signed.
    supersedes = models.OneToOneField(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="superseded_by",
    )

    class Meta:
        ordering = ["code", "-version", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["family", "version"], name="tms_protocol_family_version"
            ),
            models.UniqueConstraint(
                fields=["organization", "code", "version"],
                name="tms_protocol_code_version",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} v{self.version}"

    @property
    def is_signed(self) -> bool:
        return self.signed_at is not None

    @property
    def signer_name(self) -> str:
        signer = self.signed_by
        full_name = getattr(signer, "get_full_name", None)
        return str(full_name()) if callable(full_name) else ""


class TmsCourse(models.Model):
    """A prescriber's course order: protocol, target, intensity as % MT, number of sessions."""

    class Target(models.TextChoices):
        BEAM_F3 = "beam_f3", "Beam F3"
        FIVE_CM = "5_5_cm", "5.5 cm rule"
        NEURONAVIGATION = "neuronavigation", "Neuronavigation coordinates"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey(
        "clinics.Organization", on_delete=models.PROTECT, related_name="+"
    )
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="tms_courses"
    )
    location = models.ForeignKey(
        "clinics.Location", on_delete=models.PROTECT, related_name="+"
    )
    screen = models.ForeignKey(SafetyScreen, on_delete=models.PROTECT, related_name="+")
    protocol_code = models.CharField(max_length=32)
    protocol_name = models.CharField(max_length=100)
    # The signed clinic version it was ordered under (courses ordered before versions
    # existed have none: their parameters are the defaults of the day).
    protocol_version = models.ForeignKey(
        TmsProtocol,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="courses",
    )
    # The protocol's parameters as ordered, so a later change of defaults cannot move them.
    parameters = models.JSONField()
    target = models.CharField(max_length=16, choices=Target.choices)
    target_detail = models.CharField(
        max_length=200, blank=True, help_text="Coordinates or measurements."
    )
    percent_of_mt = models.DecimalField(max_digits=5, decimal_places=1)
    acute_sessions = models.PositiveSmallIntegerField()
    taper = models.BooleanField(default=False)
    total_sessions = models.PositiveSmallIntegerField()
    start_date = models.DateField()
    ordered_by = _user()
    ordered_at = models.DateTimeField()

    class Meta:
        ordering = ["-ordered_at", "-id"]

    def __str__(self) -> str:
        return f"{self.protocol_name} ({self.total_sessions} sessions)"

    @property
    def target_text(self) -> str:
        label = self.get_target_display()
        return f"{label}: {self.target_detail}" if self.target_detail else str(label)


class TmsSession(models.Model):
    class Status(models.TextChoices):
        IN_PROGRESS = "in_progress", "In progress"
        COMPLETED = "completed", "Completed"
        INTERRUPTED = "interrupted", "Ended early"
        SEIZURE = "seizure", "Stopped: seizure"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    course = models.ForeignKey(
        TmsCourse, on_delete=models.PROTECT, related_name="sessions"
    )
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="tms_sessions"
    )
    number = models.PositiveSmallIntegerField()
    status = models.CharField(
        max_length=12, choices=Status.choices, default=Status.IN_PROGRESS
    )
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    daily_check = models.JSONField()
    daily_cautions = models.JSONField(default=list)
    threshold = models.ForeignKey(
        MotorThreshold, on_delete=models.PROTECT, related_name="+"
    )
    new_threshold = models.BooleanField(default=False)
    # The TMS unit the session ran on: its maximum output limits every intensity of the
    # session (start and changes, on every path). Sessions started before units were
    # recorded have none; their limit is the threshold's unit's (docs/tms.md).
    device = models.ForeignKey(
        "clinics.Device",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    percent_of_mt = models.DecimalField(max_digits=5, decimal_places=1)
    output_percent = models.PositiveSmallIntegerField()
    coil_position = models.CharField(max_length=250)
    trains_planned = models.PositiveSmallIntegerField()
    pulses_planned = models.PositiveIntegerField()
    trains_delivered = models.PositiveSmallIntegerField(null=True, blank=True)
    pulses_delivered = models.PositiveIntegerField(null=True, blank=True)
    cpt_code = models.CharField(max_length=5)
    note = models.TextField(blank=True)
    operator = _user()
    supervising_physician = _user()

    class Meta:
        ordering = ["course", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["course", "number"], name="tms_session_number"
            ),
            models.CheckConstraint(
                condition=models.Q(pulses_delivered__isnull=True)
                | models.Q(pulses_delivered__lte=models.F("pulses_planned")),
                name="tms_delivered_not_above_planned",
            ),
        ]

    def __str__(self) -> str:
        return f"TMS session {self.number}"

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.IN_PROGRESS


class IntensityChange(models.Model):
    """A change of intensity during a session, with its reason (e.g. a tolerability ramp-up)."""

    session = models.ForeignKey(
        TmsSession, on_delete=models.PROTECT, related_name="intensity_changes"
    )
    from_percent_of_mt = models.DecimalField(max_digits=5, decimal_places=1)
    to_percent_of_mt = models.DecimalField(max_digits=5, decimal_places=1)
    output_percent = models.PositiveSmallIntegerField()
    reason = models.CharField(max_length=300)
    changed_by = _user()
    changed_at = models.DateTimeField()
    # The tablet's key for the entry: a replay from its offline queue records it once.
    client_key = models.UUIDField(null=True, blank=True, unique=True, editable=False)

    def __str__(self) -> str:
        return f"Intensity to {self.to_percent_of_mt} % MT"


class SideEffect(models.Model):
    """Source: T9 (docs/sources.md) for the common side effects."""

    class Kind(models.TextChoices):
        SCALP_PAIN = "scalp_pain", "Scalp pain or discomfort"
        HEADACHE = "headache", "Headache"
        FACIAL_TWITCHING = "facial_twitching", "Facial twitching"
        TOOTHACHE = "toothache", "Toothache"
        # T9 [S], T11 [P]: raises a safety alert to the prescriber (actions.sessions).
        MANIC_SWITCH = "manic_switch", "Possible manic or hypomanic switch"
        OTHER = "other", "Other"

    class Severity(models.TextChoices):
        MILD = "mild", "Mild"
        MODERATE = "moderate", "Moderate"
        SEVERE = "severe", "Severe"

    session = models.ForeignKey(
        TmsSession, on_delete=models.PROTECT, related_name="side_effects"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    severity = models.CharField(max_length=10, choices=Severity.choices)
    description = models.CharField(max_length=300, blank=True)
    recorded_by = _user()
    recorded_at = models.DateTimeField()
    client_key = models.UUIDField(null=True, blank=True, unique=True, editable=False)

    def __str__(self) -> str:
        return str(self.get_kind_display())


class Interruption(models.Model):
    class Reason(models.TextChoices):
        DISCOMFORT = "discomfort", "Discomfort"
        PATIENT_REQUEST = "patient_request", "Patient asked to stop"
        DEVICE = "device", "Device or coil problem"
        CLINICAL = "clinical", "Clinical concern"
        OTHER = "other", "Other"

    session = models.ForeignKey(
        TmsSession, on_delete=models.PROTECT, related_name="interruptions"
    )
    reason = models.CharField(max_length=20, choices=Reason.choices)
    after_pulses = models.PositiveIntegerField()
    detail = models.CharField(max_length=300, blank=True)
    recorded_by = _user()
    recorded_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"Interrupted after {self.after_pulses} pulses"


class SeizureEvent(models.Model):
    """A seizure stops the session and holds the course until a physician review."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    session = models.OneToOneField(
        TmsSession, on_delete=models.PROTECT, related_name="seizure"
    )
    course = models.ForeignKey(
        TmsCourse, on_delete=models.PROTECT, related_name="seizures"
    )
    onset_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    post_ictal_status = models.CharField(max_length=300, blank=True)
    # Free text on seizures recorded before migration 0007; new ones use the fields below.
    vitals = models.CharField(max_length=300, blank=True)
    # Post-ictal vitals, structured (tms/postictal.py checks each range). NULL when not
    # taken: a nullable column is added in place on SQLite, keeping the table's triggers.
    vitals_taken_at = models.DateTimeField(null=True, blank=True)
    heart_rate_bpm = models.PositiveSmallIntegerField(null=True, blank=True)
    systolic_mmhg = models.PositiveSmallIntegerField(null=True, blank=True)
    diastolic_mmhg = models.PositiveSmallIntegerField(null=True, blank=True)
    spo2_percent = models.PositiveSmallIntegerField(null=True, blank=True)
    consciousness_avpu = models.CharField(  # noqa: DJ001
        max_length=12, null=True, blank=True, choices=postictal.AVPU_CHOICES
    )
    gcs_total = models.PositiveSmallIntegerField(null=True, blank=True)
    # The safety alert the seizure raised through measures' routing (none before 0007).
    safety_alert = models.OneToOneField(
        "measures.SafetyAlert",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    description = models.TextField(blank=True)
    recorded_by = _user()
    recorded_at = models.DateTimeField()

    def __str__(self) -> str:
        return "Seizure during TMS"

    @property
    def vitals_text(self) -> str:
        """The post-ictal vitals as one line (the free text of seizures before 0007)."""
        return (
            postictal.describe(
                heart_rate_bpm=self.heart_rate_bpm,
                systolic_mmhg=self.systolic_mmhg,
                diastolic_mmhg=self.diastolic_mmhg,
                spo2_percent=self.spo2_percent,
                consciousness_avpu=self.consciousness_avpu,
                gcs_total=self.gcs_total,
                taken_at=self.vitals_taken_at,
            )
            or self.vitals
        )


class SeizureReview(models.Model):
    class Decision(models.TextChoices):
        RESUME = "resume", "Resume the course"
        STOP = "stop", "Stop the course"

    seizure = models.OneToOneField(
        SeizureEvent, on_delete=models.PROTECT, related_name="review"
    )
    decision = models.CharField(max_length=8, choices=Decision.choices)
    note = models.TextField()
    reviewed_by = _user()
    reviewed_at = models.DateTimeField()

    def __str__(self) -> str:
        return str(self.get_decision_display())


class SessionAddendum(models.Model):
    """An addendum to a signed session note: the note never changes; addenda follow it, in order."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    session = models.ForeignKey(
        TmsSession, on_delete=models.PROTECT, related_name="addenda"
    )
    text = models.TextField()
    written_by = _user()
    written_at = models.DateTimeField()

    def __str__(self) -> str:
        return "Addendum"


class MissedSession(models.Model):
    """A planned session day the patient did not come, and whether it is made up.

    A made-up day moves the rest of the course one weekday on (the make-up is at the
    end of its phase); a day not made up drops that session from the course. Up to the
    protocol's `max_makeup_sessions` are made up (docs/tms.md).
    """

    class Reason(models.TextChoices):
        PATIENT_CANCELLED = "patient_cancelled", "Patient cancelled"
        NO_SHOW = "no_show", "Did not attend"
        ILLNESS = "illness", "Illness"
        CLINIC = "clinic", "Clinic (device, staff or closure)"
        OTHER = "other", "Other"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    course = models.ForeignKey(
        TmsCourse, on_delete=models.PROTECT, related_name="missed_sessions"
    )
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="+"
    )
    planned_on = models.DateField()
    phase = models.CharField(max_length=8)  # course_plan.Phase
    reason = models.CharField(max_length=20, choices=Reason.choices)
    detail = models.CharField(max_length=300, blank=True)
    made_up = models.BooleanField()
    recorded_by = _user()
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["course", "planned_on", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["course", "planned_on"], name="tms_missed_once_a_day"
            )
        ]

    def __str__(self) -> str:
        return f"Missed TMS session {self.planned_on:%Y-%m-%d}"


class AdverseEvent(models.Model):
    """A TMS adverse event, its own clinical record beside the session (docs/tms.md).

    Append-only and sealed: a later outcome is the physician's signed review (or a new
    report), never an edit. A seizure files one automatically; a possible manic switch
    recorded as a side effect files one too. Categories: tms/adverse_events.py.
    """

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey(
        "clinics.Organization", on_delete=models.PROTECT, related_name="+"
    )
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="tms_adverse_events"
    )
    course = models.ForeignKey(
        TmsCourse, on_delete=models.PROTECT, related_name="adverse_events"
    )
    session = models.ForeignKey(
        TmsSession,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="adverse_events",
    )
    seizure = models.OneToOneField(
        SeizureEvent,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="adverse_event",
    )
    kind = models.CharField(max_length=20, choices=adverse_events.KIND_CHOICES)
    description = models.TextField(blank=True)
    severity = models.CharField(max_length=10, choices=adverse_events.SEVERITY_CHOICES)
    serious = models.BooleanField()
    seriousness = models.JSONField(default=list)
    onset_at = models.DateTimeField()
    action_taken = models.CharField(
        max_length=24, choices=adverse_events.ACTION_CHOICES
    )
    outcome = models.CharField(max_length=24, choices=adverse_events.OUTCOME_CHOICES)
    recorded_by = _user()
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["-onset_at", "-id"]

    def __str__(self) -> str:
        return f"TMS adverse event: {self.get_kind_display()}"

    @property
    def seriousness_labels(self) -> list[str]:
        return [adverse_events.SERIOUSNESS_LABELS.get(c, c) for c in self.seriousness]


class AdverseEventReview(models.Model):
    """A physician's signed review of an adverse event: causality, outcome now, note.

    The signature is the reviewer's password; `content_sha256` binds the report as
    reviewed together with the review.
    """

    adverse_event = models.OneToOneField(
        AdverseEvent, on_delete=models.PROTECT, related_name="review"
    )
    causality = models.CharField(
        max_length=20, choices=adverse_events.CAUSALITY_CHOICES
    )
    outcome = models.CharField(max_length=24, choices=adverse_events.OUTCOME_CHOICES)
    note = models.TextField()
    reviewed_by = _user()
    reviewed_at = models.DateTimeField()
    content_sha256 = models.CharField(max_length=64)

    def __str__(self) -> str:
        return f"Reviewed: {self.get_causality_display()}"
