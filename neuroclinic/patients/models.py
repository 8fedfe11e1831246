import re
import uuid
from datetime import date, datetime
from typing import TYPE_CHECKING, Self

from django.contrib.auth.models import AnonymousUser
from django.core.validators import RegexValidator
from django.db import connection, models
from django.db.models import Q
from django.db.models.functions import Collate

from neuroclinic.accounts.roles import Capability
from neuroclinic.lib.text import digits, phone_search_key, search_key

if TYPE_CHECKING:
    from neuroclinic.accounts.models import User

SEARCH_LIMIT = 20
_MRN_RE = re.compile(r"^[A-Za-z]{1,8}-?\d{3,}$")
_DATE_FORMATS = ("%Y-%m-%d", "%m/%d/%Y", "%m-%d-%Y", "%m/%d/%y")

icd10_validator = RegexValidator(
    r"^[A-TV-Z][0-9][0-9AB](\.[0-9A-TV-Z]{1,4})?$",
    "Enter an ICD-10-CM code such as F33.2.",
)


def _parse_date(text: str) -> date | None:
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date()  # noqa: DTZ007 - a calendar date
        except ValueError:
            continue
    return None


def _prefix(field: str, value: str) -> Q:
    """`field` starts with `value`, in a form each database can answer from its index.

    PostgreSQL answers LIKE 'x%' from the varchar_pattern_ops index Django adds
    for db_index. SQLite's LIKE is case-insensitive and so skips a BINARY index;
    a range over the (already lower-cased) key uses it.
    """
    if connection.vendor == "sqlite":
        return Q(**{f"{field}__gte": value, f"{field}__lt": value + "\U0010ffff"})
    return Q(**{f"{field}__startswith": value})


class PatientQuerySet(models.QuerySet["Patient"]):
    def visible_to(self, user: "User | AnonymousUser") -> Self:
        """Patients this user may see. Every patient lookup goes through here.

        Staff see their own organization's patients, and only when a role
        lets them see the patient list at all.
        """
        if not user.is_authenticated or not user.is_active:
            return self.none()
        if user.organization_id is None or not user.can(Capability.VIEW_PATIENT_LIST):
            return self.none()
        return self.filter(organization_id=user.organization_id)

    def search(self, query: str) -> Self:
        """Patients matching a name, date of birth, MRN or phone number.

        Every word of a name must start a family, given or preferred name, in
        any order: "smi jo" finds Jo Smith.
        """
        text = query.strip()
        if not text:
            return self.none()
        if _MRN_RE.match(text) and any(c.isdigit() for c in text):
            mrn = text.upper()
            if "-" not in mrn:
                letters = mrn.rstrip("0123456789")
                mrn = f"{letters}-{mrn[len(letters) :]}"
            return self.filter(mrn=mrn)
        birth_date = _parse_date(text)
        if birth_date is not None:
            return self.filter(birth_date=birth_date)
        number = digits(text)
        if len(number) >= 7 and len(number) >= len(text.replace(" ", "")) - 4:
            return self.filter(_prefix("phone_search", phone_search_key(number)))
        result = self
        for word in search_key(text).split()[:4]:
            result = result.filter(
                _prefix("family_name_search", word)
                | _prefix("given_name_search", word)
                | _prefix("preferred_name_search", word)
            )
        if connection.vendor == "postgresql":
            # Under the database's collation the planner walks the family-name
            # index in order and filters, hoping for 20 early matches; for a
            # rare prefix that reads most of the table. Ordering under "C"
            # (the keys are lower-cased already) makes it fetch the matches
            # from the three name indexes and sort only those.
            return result.order_by(
                Collate("family_name_search", "C"),
                Collate("given_name_search", "C"),
                "id",
            )
        return result


class Patient(models.Model):
    class SexAtBirth(models.TextChoices):
        FEMALE = "female", "Female"
        MALE = "male", "Male"
        INTERSEX = "intersex", "Intersex"
        UNKNOWN = "unknown", "Unknown"
        DECLINED = "declined", "Declined to answer"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey(
        "clinics.Organization", on_delete=models.PROTECT, related_name="patients"
    )
    mrn = models.CharField("MRN", max_length=20, editable=False)
    family_name = models.CharField("Legal family name", max_length=100)
    given_name = models.CharField("Legal given name", max_length=100)
    middle_name = models.CharField(max_length=100, blank=True)
    preferred_name = models.CharField(max_length=100, blank=True)
    birth_date = models.DateField("Date of birth")
    sex_at_birth = models.CharField(max_length=10, choices=SexAtBirth.choices)
    gender_identity = models.CharField(max_length=60, blank=True)
    pronouns = models.CharField(max_length=40, blank=True)
    phone = models.CharField(max_length=30, blank=True)
    email = models.EmailField(max_length=200, blank=True)
    address_line1 = models.CharField(max_length=200, blank=True)
    address_line2 = models.CharField(max_length=200, blank=True)
    city = models.CharField(max_length=100, blank=True)
    state = models.CharField(max_length=50, blank=True)
    postal_code = models.CharField(max_length=20, blank=True)
    preferred_language = models.CharField(max_length=40, default="English")

    # Search keys, kept in step by the actions that write names and phones.
    family_name_search = models.CharField(max_length=100, db_index=True, editable=False)
    given_name_search = models.CharField(max_length=100, db_index=True, editable=False)
    preferred_name_search = models.CharField(
        max_length=100, db_index=True, editable=False
    )
    phone_search = models.CharField(max_length=10, db_index=True, editable=False)

    prescriber = models.ForeignKey(
        "accounts.User",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="patients_prescribed",
        help_text="The responsible prescriber: safety alerts go to them first.",
    )

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    created_by = models.ForeignKey(
        "accounts.User",
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
        editable=False,
    )

    objects = PatientQuerySet.as_manager()

    class Meta:
        ordering = ["family_name_search", "given_name_search", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "mrn"], name="patient_mrn_unique"
            )
        ]
        indexes = [
            models.Index(fields=["organization", "birth_date"], name="patient_org_dob")
        ]

    def __str__(self) -> str:
        return f"{self.display_name} ({self.mrn})"

    @property
    def display_name(self) -> str:
        given = self.preferred_name or self.given_name
        return f"{given} {self.family_name}"

    @property
    def legal_name(self) -> str:
        middle = f" {self.middle_name}" if self.middle_name else ""
        return f"{self.given_name}{middle} {self.family_name}"

    def age_on(self, on: date) -> int:
        before_birthday = (on.month, on.day) < (
            self.birth_date.month,
            self.birth_date.day,
        )
        return on.year - self.birth_date.year - before_birthday

    def refresh_search_keys(self) -> None:
        self.family_name_search = search_key(self.family_name)[:100]
        self.given_name_search = search_key(self.given_name)[:100]
        self.preferred_name_search = search_key(self.preferred_name)[:100]
        self.phone_search = phone_search_key(self.phone)


class Contact(models.Model):
    class Kind(models.TextChoices):
        EMERGENCY = "emergency", "Emergency contact"
        ESCORT = "escort", "Escort (drives the patient home)"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    patient = models.ForeignKey(
        Patient, on_delete=models.PROTECT, related_name="contacts"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    name = models.CharField(max_length=200)
    relationship = models.CharField(max_length=60, blank=True)
    phone = models.CharField(max_length=30)
    email = models.EmailField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["patient", "kind", "name", "id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_kind_display()})"


class CareTeamProvider(models.Model):
    """A clinician outside the clinic who cares for the patient."""

    class Role(models.TextChoices):
        REFERRING = "referring", "Referring provider"
        THERAPIST = "therapist", "Therapist"
        PRIMARY_CARE = "primary_care", "Primary care"
        SPECIALIST = "specialist", "Specialist asked for clearance"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    patient = models.ForeignKey(
        Patient, on_delete=models.PROTECT, related_name="care_team"
    )
    role = models.CharField(max_length=20, choices=Role.choices)
    name = models.CharField(max_length=200)
    npi = models.CharField("NPI", max_length=10, blank=True)
    practice = models.CharField(max_length=200, blank=True)
    phone = models.CharField(max_length=30, blank=True)
    fax = models.CharField(max_length=30, blank=True)
    email = models.EmailField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["patient", "role", "name", "id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_role_display()})"


class ClinicalListEntry(models.Model):
    """Shared shape of diagnoses, medications and allergies.

    Entries are never edited or deleted: one that no longer applies is ended
    (with who, when and why), and a mistaken one is ended as entered in error.
    """

    class EndReason(models.TextChoices):
        RESOLVED = "resolved", "Resolved / stopped"
        ENTERED_IN_ERROR = "entered_in_error", "Entered in error"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    recorded_at = models.DateTimeField(auto_now_add=True)
    recorded_by = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, related_name="+"
    )
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_by = models.ForeignKey(
        "accounts.User",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    end_reason = models.CharField(max_length=20, choices=EndReason.choices, blank=True)

    class Meta:
        abstract = True

    @property
    def is_active(self) -> bool:
        return self.ended_at is None


class Diagnosis(ClinicalListEntry):
    patient = models.ForeignKey(
        Patient, on_delete=models.PROTECT, related_name="diagnoses"
    )
    icd10_code = models.CharField(
        "ICD-10-CM code", max_length=8, validators=[icd10_validator]
    )
    description = models.CharField(max_length=200)

    class Meta:
        ordering = ["patient", "icd10_code", "id"]
        verbose_name_plural = "diagnoses"

    def __str__(self) -> str:
        return f"{self.icd10_code} {self.description}"


class Medication(ClinicalListEntry):
    patient = models.ForeignKey(
        Patient, on_delete=models.PROTECT, related_name="medications"
    )
    name = models.CharField(max_length=200)
    dose = models.CharField(
        max_length=100,
        blank=True,
        help_text="As the patient takes it, e.g. 20 mg daily.",
    )

    class Meta:
        ordering = ["patient", "name", "id"]

    def __str__(self) -> str:
        return f"{self.name} {self.dose}".strip()


class Allergy(ClinicalListEntry):
    class Severity(models.TextChoices):
        MILD = "mild", "Mild"
        MODERATE = "moderate", "Moderate"
        SEVERE = "severe", "Severe"
        UNKNOWN = "unknown", "Unknown"

    patient = models.ForeignKey(
        Patient, on_delete=models.PROTECT, related_name="allergies"
    )
    substance = models.CharField(max_length=200)
    reaction = models.CharField(max_length=200, blank=True)
    severity = models.CharField(
        max_length=10, choices=Severity.choices, default=Severity.UNKNOWN
    )

    class Meta:
        ordering = ["patient", "substance", "id"]
        verbose_name_plural = "allergies"

    def __str__(self) -> str:
        return self.substance
