"""The clinic's calendar: appointment types, staff shifts, closures, appointments.

Rooms, devices, locations and opening hours are the clinic's own (clinics.models);
this app adds what a calendar needs on top: what each kind of visit takes, who
works when, what is closed when, and the appointments with their append-only
status history. Times are stored in UTC and shown in the location's zone.
"""

import uuid

from django.db import models

from neuroclinic.accounts.roles import Role
from neuroclinic.clinics.models import Device, Room


class AppointmentType(models.Model):
    """A kind of visit and the resources it holds: room kind, devices, one staff role."""

    class Code(models.TextChoices):
        CONSULT = "consult", "Consult"
        INTAKE_VISIT = "intake_visit", "Intake visit"
        INFUSION = "infusion", "Infusion"
        BOOSTER = "booster", "Booster infusion"
        TMS_SESSION = "tms_session", "TMS session"
        MOTOR_THRESHOLD = "motor_threshold", "Motor threshold"
        FOLLOW_UP = "follow_up", "Follow-up"
        PHONE_CHECK_IN = "phone_check_in", "Phone check-in"

    INFUSION_CODES = frozenset({Code.INFUSION, Code.BOOSTER})

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey(
        "clinics.Organization", on_delete=models.PROTECT, related_name="+"
    )
    code = models.CharField(max_length=20, choices=Code.choices)
    name = models.CharField(max_length=100)
    duration_minutes = models.PositiveSmallIntegerField()
    turnover_minutes = models.PositiveSmallIntegerField(
        default=0, help_text="Time the room and devices stay held after the visit."
    )
    room_kind = models.CharField(
        max_length=20,
        choices=Room.Kind.choices,
        blank=True,
        help_text="Blank: the visit needs no room (a phone check-in).",
    )
    device_kinds = models.JSONField(
        default=list, help_text="Device kinds held for the visit, one of each."
    )
    staff_role = models.CharField(
        max_length=30,
        choices=[(r.value, r.label) for r in Role],
        help_text="The role of the staff member who runs the visit.",
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["organization", "code", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "code"],
                name="scheduling_type_code_unique_per_org",
            ),
            models.CheckConstraint(
                condition=models.Q(duration_minutes__gt=0),
                name="scheduling_type_duration_positive",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_infusion(self) -> bool:
        return self.code in self.INFUSION_CODES


class SchedulingSettings(models.Model):
    """The clinic's staffing ratios and reminder timing (one row per organization)."""

    organization = models.OneToOneField(
        "clinics.Organization", on_delete=models.PROTECT, related_name="+"
    )
    nurse_max_running_infusions = models.PositiveSmallIntegerField(
        default=2, help_text="One nurse watches at most this many infusions at once."
    )
    prescriber_on_site_for_infusions = models.BooleanField(
        default=True,
        help_text="A prescriber must be on shift at the location while any infusion runs.",
    )
    reminder_hours = models.JSONField(
        default=list,
        help_text="Hours before a visit that reminders go out, e.g. [48, 2].",
    )
    slot_minutes = models.PositiveSmallIntegerField(
        default=30, help_text="Start times the series planner offers, in minutes."
    )
    late_cancel_hours = models.PositiveSmallIntegerField(
        default=24,
        help_text="A visit cancelled less than this many hours before it starts is "
        "recorded as a late cancel (0: never).",
    )
    waitlist_notice_minutes = models.PositiveSmallIntegerField(
        default=180,
        help_text="The least notice a freed time must give to be offered to the waitlist "
        "(a cancel, a move, or what is left of a no-show's time).",
    )
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Scheduling settings for organization {self.organization_id}"


class StaffShift(models.Model):
    """A staff member at a location from `starts_at` to `ends_at` (UTC)."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey(
        "clinics.Organization", on_delete=models.PROTECT, related_name="+"
    )
    location = models.ForeignKey(
        "clinics.Location", on_delete=models.PROTECT, related_name="+"
    )
    user = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, related_name="shifts"
    )
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()

    class Meta:
        ordering = ["starts_at", "id"]
        indexes = [models.Index(fields=["location", "starts_at"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")),
                name="scheduling_shift_ends_after_start",
            )
        ]

    def __str__(self) -> str:
        return f"Shift {self.starts_at:%Y-%m-%d %H:%M}"


class Closure(models.Model):
    """A room, a device, or (neither given) the whole location closed: holidays, repairs."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    location = models.ForeignKey(
        "clinics.Location", on_delete=models.PROTECT, related_name="+"
    )
    room = models.ForeignKey(
        Room, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    device = models.ForeignKey(
        Device, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    reason = models.CharField(max_length=200)

    class Meta:
        ordering = ["starts_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")),
                name="scheduling_closure_ends_after_start",
            )
        ]

    def __str__(self) -> str:
        return self.reason


class Series(models.Model):
    """An induction series booked in one action: its appointments point here."""

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
    explanation = models.JSONField(
        default=list, help_text="Why each visit was placed where it is."
    )
    created_by = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Series {self.uuid}"


class Appointment(models.Model):
    """One visit: a patient, a type, a time, the room, staff member and devices it holds.

    `status` is the latest entry of the append-only `history`
    (AppointmentStatusChange); the row's time and resources are the current ones,
    and every move is in the history with the old and new values.
    """

    class Status(models.TextChoices):
        BOOKED = "booked", "Booked"
        CONFIRMED = "confirmed", "Confirmed"
        MOVE_REQUESTED = "move_requested", "Patient asked to move"
        MOVED = "moved", "Moved"
        CHECKED_IN = "checked_in", "Checked in"
        CANCELLED = "cancelled", "Cancelled"
        LATE_CANCEL = "late_cancel", "Late cancel"
        NO_SHOW = "no_show", "No-show"

    # Statuses that hold their room, staff member and devices.
    HOLDING = (
        Status.BOOKED,
        Status.CONFIRMED,
        Status.MOVE_REQUESTED,
        Status.MOVED,
        Status.CHECKED_IN,
    )

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey(
        "clinics.Organization", on_delete=models.PROTECT, related_name="+"
    )
    location = models.ForeignKey(
        "clinics.Location", on_delete=models.PROTECT, related_name="+"
    )
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="appointments"
    )
    appointment_type = models.ForeignKey(
        AppointmentType, on_delete=models.PROTECT, related_name="+"
    )
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    held_until = models.DateTimeField(help_text="The end plus the type's turnover.")
    room = models.ForeignKey(
        Room, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    staff = models.ForeignKey(
        "accounts.User",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="appointments",
    )
    devices = models.ManyToManyField(Device, blank=True, related_name="+")
    series = models.ForeignKey(
        Series,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="appointments",
    )
    plan = models.ForeignKey(
        "treatment.TreatmentPlan",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    tms_course = models.ForeignKey(
        "tms.TmsCourse",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The TMS course this session visit belongs to.",
    )
    infusion_session = models.OneToOneField(
        "infusions.InfusionSession",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="appointment",
    )
    status = models.CharField(
        max_length=20, choices=Status.choices, default=Status.BOOKED
    )

    class BookedVia(models.TextChoices):
        STAFF = "staff", "Staff"
        PATIENT_PORTAL = "patient_portal", "The patient, in the portal"
        WAITLIST_LINK = "waitlist_link", "The patient, from a waitlist offer"

    # Staff bookings name the staff member; a patient's own booking names nobody
    # (the patient has no staff account) and says through which channel it came.
    booked_by = models.ForeignKey(
        "accounts.User",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Empty when the patient booked it (booked_via says where).",
    )
    booked_via = models.CharField(
        max_length=20, choices=BookedVia.choices, default=BookedVia.STAFF
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["starts_at", "id"]
        indexes = [
            models.Index(fields=["location", "starts_at"]),
            models.Index(fields=["patient", "starts_at"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at"))
                & models.Q(held_until__gte=models.F("ends_at")),
                name="scheduling_appointment_times_in_order",
            ),
            # Staff bookings name who booked; only a patient's own booking names nobody.
            models.CheckConstraint(
                condition=models.Q(booked_by__isnull=False)
                | ~models.Q(booked_via="staff"),
                name="scheduling_appointment_staff_booking_names_staff",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.appointment_type} {self.starts_at:%Y-%m-%d %H:%M}"

    @property
    def is_holding(self) -> bool:
        return self.status in self.HOLDING


class AppointmentStatusChange(models.Model):
    """One step in an appointment's life; never edited or deleted."""

    appointment = models.ForeignKey(
        Appointment, on_delete=models.PROTECT, related_name="history"
    )
    status = models.CharField(max_length=20, choices=Appointment.Status.choices)
    at = models.DateTimeField()
    by = models.ForeignKey(
        "accounts.User",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Empty when the patient acted from the portal or a reminder link.",
    )
    reason = models.CharField(max_length=300, blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.status} at {self.at:%Y-%m-%d %H:%M}"


class ReminderClaim(models.Model):
    """One reminder of one appointment, claimed before sending: never sent twice."""

    appointment = models.ForeignKey(
        Appointment, on_delete=models.PROTECT, related_name="reminders"
    )
    lead_hours = models.PositiveSmallIntegerField()
    channel = models.CharField(max_length=10)
    claimed_at = models.DateTimeField()

    class Meta:
        ordering = ["claimed_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["appointment", "lead_hours"],
                name="scheduling_reminder_once_per_lead",
            )
        ]

    def __str__(self) -> str:
        return f"Reminder {self.lead_hours} h"


class StaffCalendarFeed(models.Model):
    """A staff member's secret calendar address (item 9): their visits as iCalendar.

    The address carries a random token; only its SHA-256 is stored, so it cannot be
    rebuilt from the database, and revoking is a row update. One active feed per
    person: a new one revokes the old. The feed names patients by initials only.
    """

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey(
        "clinics.Organization", on_delete=models.PROTECT, related_name="+"
    )
    user = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, related_name="calendar_feeds"
    )
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
        constraints = [
            models.UniqueConstraint(
                fields=["user"],
                condition=models.Q(revoked_at__isnull=True),
                name="scheduling_one_active_feed_per_user",
            )
        ]

    def __str__(self) -> str:
        return f"Calendar feed {self.uuid}"


class WaitlistEntry(models.Model):
    """A patient who wants an earlier time (issue 9 item 8): for a visit already booked
    (`appointment`, to bring forward) or a new visit of a type. Offered freed times in
    the order entries were made."""

    class Status(models.TextChoices):
        WAITING = "waiting", "Waiting"
        OFFERED = "offered", "Offered a time"
        BOOKED = "booked", "Booked"
        WITHDRAWN = "withdrawn", "Withdrawn"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey(
        "clinics.Organization", on_delete=models.PROTECT, related_name="+"
    )
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="+"
    )
    appointment_type = models.ForeignKey(
        AppointmentType, on_delete=models.PROTECT, related_name="+"
    )
    location = models.ForeignKey(
        "clinics.Location",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Empty: any location.",
    )
    appointment = models.ForeignKey(
        "Appointment",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The booked visit to bring forward; empty for a new visit.",
    )
    status = models.CharField(
        max_length=12, choices=Status.choices, default=Status.WAITING
    )
    note = models.CharField(max_length=300, blank=True)
    created_by = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["organization", "status", "created_at"])]

    def __str__(self) -> str:
        return f"Waitlist entry {self.uuid}"


class WaitlistOffer(models.Model):
    """A freed time offered to one waitlist entry by message; the first to accept books it."""

    class Freed(models.TextChoices):
        CANCELLED = "cancelled", "Cancelled (also a late cancel)"
        MOVED = "moved", "Moved to another time"
        NO_SHOW = "no_show", "What was left of a no-show's time"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        ACCEPTED = "accepted", "Accepted"
        DECLINED = "declined", "Declined"
        EXPIRED = "expired", "Expired"
        TAKEN = "taken", "No longer free"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    entry = models.ForeignKey(
        WaitlistEntry, on_delete=models.PROTECT, related_name="offers"
    )
    freed_from = models.ForeignKey(
        "Appointment",
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The visit whose time was freed (cancelled, moved away, or a no-show).",
    )
    freed_because = models.CharField(
        max_length=10, choices=Freed.choices, default=Freed.CANCELLED
    )
    location = models.ForeignKey(
        "clinics.Location", on_delete=models.PROTECT, related_name="+"
    )
    starts_at = models.DateTimeField()
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.OPEN
    )
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    booked = models.ForeignKey(
        "Appointment",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        constraints = [
            # One open offer per freed time: offers go out one at a time, in order. A
            # visit moved twice frees two times, so the time is part of the key.
            models.UniqueConstraint(
                fields=["freed_from", "starts_at"],
                condition=models.Q(status="open"),
                name="scheduling_one_open_offer_per_freed_time",
            )
        ]

    def __str__(self) -> str:
        return f"Waitlist offer {self.uuid}"
