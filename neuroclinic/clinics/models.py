import uuid
import zoneinfo

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(
            f"{value!r} is not a time zone name such as America/New_York."
        )


class Organization(models.Model):
    """A clinic business: the unit that owns patients, staff and stock.

    Every table that holds patient data carries the organization, so a clinic
    network can shard by it (docs/architecture.md, "Scale").
    """

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(max_length=200)
    phone = models.CharField(max_length=40, blank=True)
    email = models.EmailField(blank=True)
    website = models.URLField(blank=True)
    mrn_prefix = models.CharField(
        max_length=8,
        default="NC",
        help_text="Printed before every medical record number.",
    )
    next_mrn = models.PositiveIntegerField(default=1, editable=False)
    crisis_message = models.TextField(
        default=(
            "Thank you for telling us. A member of our clinical team will contact you "
            "today. If you are in danger now, call 911 or 988."
        ),
        help_text="Shown to a patient whose answers raise a safety alert, under the crisis lines.",
    )
    alert_escalation_minutes = models.PositiveSmallIntegerField(
        default=60,
        help_text="An unacknowledged safety alert goes to the medical director after this long.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class Location(models.Model):
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="locations"
    )
    name = models.CharField(max_length=200)
    address_line1 = models.CharField(max_length=200)
    address_line2 = models.CharField(max_length=200, blank=True)
    city = models.CharField(max_length=100)
    state = models.CharField(max_length=50)
    postal_code = models.CharField(max_length=20)
    country = models.CharField(max_length=2, default="US")
    phone = models.CharField(max_length=40, blank=True)
    time_zone = models.CharField(
        max_length=64, default="America/New_York", validators=[validate_time_zone]
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class OpeningHours(models.Model):
    class Weekday(models.IntegerChoices):
        MONDAY = 0, "Monday"
        TUESDAY = 1, "Tuesday"
        WEDNESDAY = 2, "Wednesday"
        THURSDAY = 3, "Thursday"
        FRIDAY = 4, "Friday"
        SATURDAY = 5, "Saturday"
        SUNDAY = 6, "Sunday"

    location = models.ForeignKey(
        Location, on_delete=models.CASCADE, related_name="hours"
    )
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    opens_at = models.TimeField()
    closes_at = models.TimeField()

    class Meta:
        ordering = ["location", "weekday", "opens_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(closes_at__gt=models.F("opens_at")),
                name="opening_hours_close_after_open",
            )
        ]

    def __str__(self) -> str:
        return (
            f"{self.get_weekday_display()} {self.opens_at:%H:%M}-{self.closes_at:%H:%M}"
        )


class Room(models.Model):
    class Kind(models.TextChoices):
        INFUSION = "infusion", "Infusion room"
        TMS = "tms", "TMS room"
        CONSULT = "consult", "Consult room"
        RECOVERY = "recovery", "Recovery area"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    location = models.ForeignKey(
        Location, on_delete=models.PROTECT, related_name="rooms"
    )
    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["location", "name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["location", "name"], name="room_name_unique_per_location"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_kind_display()})"


class Device(models.Model):
    class Kind(models.TextChoices):
        INFUSION_PUMP = "infusion_pump", "Infusion pump"
        MONITOR = "monitor", "Patient monitor"
        TMS_UNIT = "tms_unit", "TMS unit"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    location = models.ForeignKey(
        Location, on_delete=models.PROTECT, related_name="devices"
    )
    room = models.ForeignKey(
        Room, null=True, blank=True, on_delete=models.PROTECT, related_name="devices"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    name = models.CharField(max_length=100)
    manufacturer = models.CharField(max_length=100, blank=True)
    model_name = models.CharField(max_length=100, blank=True)
    serial_number = models.CharField(max_length=100, blank=True)
    # A TMS unit's limit, in % of its maximum stimulator output: the unit's label, its
    # coil or the clinic's policy may set it below 100. Every TMS intensity check
    # (order, start, change) refuses an output above it (docs/tms.md).
    max_output_percent = models.PositiveSmallIntegerField(
        default=100,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
        verbose_name="Maximum output (% of machine output)",
        help_text="TMS units: the highest output a session may use, 1-100 %.",
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["location", "kind", "name", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(max_output_percent__gte=1)
                & models.Q(max_output_percent__lte=100),
                name="device_max_output_1_to_100",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_kind_display()})"
