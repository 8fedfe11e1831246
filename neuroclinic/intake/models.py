"""Consult requests, intake packets, eligibility decisions and consents.

The journey from a public consult request to an eligible, consented patient
(docs/intake.md). Pure rules live in `eligibility.py` and `packet.py`;
every write goes through the `actions` package.
"""

import uuid

from django.db import models
from django.utils import timezone


class ConsultRequest(models.Model):
    """Someone asking the clinic for a consultation, from the public site or the API."""

    class Status(models.TextChoices):
        NEW = "new", "New"
        CONTACTED = "contacted", "Contacted"
        CONSULT_BOOKED = "consult_booked", "Consult booked"
        NOT_A_FIT = "not_a_fit", "Not a fit"
        CONVERTED = "converted", "Converted to patient"

    class ContactMethod(models.TextChoices):
        PHONE = "phone", "Phone call"
        TEXT = "text", "Text message"
        EMAIL = "email", "Email"

    class ContactTime(models.TextChoices):
        ANY = "any", "Any time"
        MORNING = "morning", "Morning"
        AFTERNOON = "afternoon", "Afternoon"
        EVENING = "evening", "Evening"

    class Interest(models.TextChoices):
        KETAMINE = "ketamine", "IV ketamine infusion"
        TMS = "tms", "TMS"
        UNSURE = "unsure", "Not sure yet"

    class HeardAbout(models.TextChoices):
        PROVIDER = "provider", "My doctor or therapist"
        SEARCH = "search", "Web search"
        FRIEND = "friend", "Friend or family"
        SOCIAL = "social", "Social media"
        OTHER = "other", "Other"

    class Source(models.TextChoices):
        SITE = "site", "Public site"
        API = "api", "API"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey(
        "clinics.Organization", on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(
        max_length=20, choices=Status.choices, default=Status.NEW, db_index=True
    )
    given_name = models.CharField("First name", max_length=100)
    family_name = models.CharField("Last name", max_length=100)
    phone = models.CharField(max_length=30, blank=True)
    email = models.EmailField(max_length=200, blank=True)
    contact_method = models.CharField(
        "Preferred contact method",
        max_length=10,
        choices=ContactMethod.choices,
        default=ContactMethod.PHONE,
    )
    contact_time = models.CharField(
        "Best time to reach you",
        max_length=10,
        choices=ContactTime.choices,
        default=ContactTime.ANY,
    )
    interest = models.CharField(
        "Treatment you are asking about",
        max_length=10,
        choices=Interest.choices,
        default=Interest.UNSURE,
    )
    seeking_help_for = models.TextField("What you are looking for help with")
    referring_provider = models.CharField(max_length=200, blank=True)
    heard_about = models.CharField(
        "How you heard about us", max_length=10, choices=HeardAbout.choices, blank=True
    )
    consent_to_contact = models.BooleanField(default=False)
    # Stored only when the visitor chose to attach it: [{instrument_code, answers, ...}].
    self_check = models.JSONField(default=list, blank=True)
    source = models.CharField(max_length=8, choices=Source.choices, default=Source.SITE)
    assigned_to = models.ForeignKey(
        "accounts.User",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    status_changed_at = models.DateTimeField(default=timezone.now)
    patient = models.ForeignKey(
        "patients.Patient",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="consult_requests",
    )
    converted_by = models.ForeignKey(
        "accounts.User",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    converted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["organization", "status", "created_at"],
                name="consult_queue",
            )
        ]

    def __str__(self) -> str:
        return f"Consult request {self.uuid}"

    @property
    def display_name(self) -> str:
        return f"{self.given_name} {self.family_name}"

    @property
    def is_open(self) -> bool:
        return self.status not in (self.Status.CONVERTED, self.Status.NOT_A_FIT)


class ConsultNote(models.Model):
    """A note on a consult request. Notes are only ever added."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    request = models.ForeignKey(
        ConsultRequest, on_delete=models.PROTECT, related_name="notes"
    )
    author = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, related_name="+"
    )
    text = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["request", "created_at", "id"]

    def __str__(self) -> str:
        return f"Note {self.uuid}"


class PortalSignInLink(models.Model):
    """A single-use magic link into the patient portal. Only the token's hash is stored."""

    class Channel(models.TextChoices):
        EMAIL = "email", "Email"
        SMS = "sms", "Text message"
        SHOWN = "shown", "Shown to staff"
        TABLET = "tablet", "Clinic tablet"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey(
        "clinics.Organization", on_delete=models.PROTECT, related_name="+"
    )
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="+"
    )
    token_hash = models.CharField(max_length=64, unique=True)
    channel = models.CharField(max_length=8, choices=Channel.choices)
    created_by = models.ForeignKey(
        "accounts.User",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Portal sign-in link {self.uuid}"


class IntakePacket(models.Model):
    """A patient's intake answers, saved section by section as they go.

    `sections` maps a section key (see `packet.SECTIONS`) to what the patient
    last saved there, so a dropped connection loses at most the field being typed.
    """

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey(
        "clinics.Organization", on_delete=models.PROTECT, related_name="+"
    )
    patient = models.OneToOneField(
        "patients.Patient", on_delete=models.PROTECT, related_name="intake_packet"
    )
    consult_request = models.ForeignKey(
        ConsultRequest,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    sections = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(null=True, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    last_reminder_at = models.DateTimeField(null=True, blank=True)
    reminder_count = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Intake packet {self.uuid}"


class IntakeDocument(models.Model):
    """A file the patient or staff uploaded (referral letter, records). Served only through a view."""

    class Kind(models.TextChoices):
        REFERRAL = "referral", "Referral letter"
        RECORDS = "records", "Medical records"
        INSURANCE = "insurance", "Insurance card"
        OTHER = "other", "Other"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey(
        "clinics.Organization", on_delete=models.PROTECT, related_name="+"
    )
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="intake_documents"
    )
    kind = models.CharField(max_length=10, choices=Kind.choices)
    original_name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=40)
    size_bytes = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    file = models.FileField(upload_to="intake/documents/", max_length=200)
    uploaded_by = models.ForeignKey(
        "accounts.User",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    uploaded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["patient", "uploaded_at", "id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.uuid}"


class EligibilityRuleSet(models.Model):
    """One version of a clinic's eligibility settings: overrides of the cited defaults.

    Never edited: a change is a new version. A decision keeps the version label
    it was made under.
    """

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey(
        "clinics.Organization", on_delete=models.PROTECT, related_name="+"
    )
    version = models.PositiveIntegerField()
    overrides = models.JSONField(default=dict, blank=True)
    reason = models.TextField()
    created_by = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["organization", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "version"], name="eligibility_rules_version"
            )
        ]

    def __str__(self) -> str:
        return f"Eligibility rules v{self.version}"


class EligibilityDecision(models.Model):
    """A prescriber's signed decision on whether a patient may start treatment."""

    class Outcome(models.TextChoices):
        ELIGIBLE = "eligible", "Eligible"
        ELIGIBLE_WITH_CONDITIONS = (
            "eligible_with_conditions",
            "Eligible with conditions",
        )
        NEEDS_CLEARANCE = "needs_clearance", "Needs clearance from another provider"
        NOT_ELIGIBLE = "not_eligible", "Not eligible"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey(
        "clinics.Organization", on_delete=models.PROTECT, related_name="+"
    )
    patient = models.ForeignKey(
        "patients.Patient",
        on_delete=models.PROTECT,
        related_name="eligibility_decisions",
    )
    outcome = models.CharField(max_length=32, choices=Outcome.choices)
    conditions = models.TextField(blank=True)
    reason = models.TextField(blank=True)
    referral_resources = models.TextField(blank=True)
    clearance_provider_name = models.CharField(max_length=200, blank=True)
    clearance_provider_practice = models.CharField(max_length=200, blank=True)
    clearance_provider_fax = models.CharField(max_length=30, blank=True)
    clearance_provider_email = models.EmailField(max_length=200, blank=True)
    clearance_question = models.TextField(blank=True)
    clearance_letter = models.FileField(
        upload_to="intake/letters/", max_length=200, blank=True
    )
    rules_version = models.CharField(max_length=40)
    findings = models.JSONField(default=list)
    facts = models.JSONField(default=dict)
    patient_message = models.TextField(
        help_text="What the patient was told in the portal, as shown."
    )
    decided_by = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, related_name="+"
    )
    signed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["patient", "-signed_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_outcome_display()} ({self.signed_at:%Y-%m-%d})"

    @property
    def allows_treatment(self) -> bool:
        return self.outcome in (
            self.Outcome.ELIGIBLE,
            self.Outcome.ELIGIBLE_WITH_CONDITIONS,
        )


DEFAULT_PATIENT_MESSAGES = {
    "pending": (
        "Thank you for completing your intake. A prescriber is reviewing it and we "
        "will be in touch."
    ),
    EligibilityDecision.Outcome.ELIGIBLE: (
        "Good news: our prescriber has reviewed your intake and you can go ahead. "
        "The next step is to read and sign the consent forms."
    ),
    EligibilityDecision.Outcome.ELIGIBLE_WITH_CONDITIONS: (
        "Our prescriber has reviewed your intake and you can go ahead, with some "
        "conditions we will go through with you: {conditions}"
    ),
    EligibilityDecision.Outcome.NEEDS_CLEARANCE: (
        "Before we can go ahead, we need a note from {provider}. We have written to "
        "them and will let you know when we hear back."
    ),
    EligibilityDecision.Outcome.NOT_ELIGIBLE: (
        "After careful review, our prescriber does not think this treatment is the "
        "right choice for you at this time. We will call you to talk it through. "
        "{resources}"
    ),
}

DEFAULT_REFERRAL_RESOURCES = (
    "Your own doctor or psychiatrist can talk through other options. "
    "SAMHSA's helpline (1-800-662-4357) is free, confidential and open 24/7. "
    "If you are in crisis, call or text 988."
)


class IntakeSettings(models.Model):
    """Clinic-controlled wording for what the patient is told after the eligibility review."""

    organization = models.OneToOneField(
        "clinics.Organization", on_delete=models.PROTECT, related_name="+"
    )
    message_pending = models.TextField(default=DEFAULT_PATIENT_MESSAGES["pending"])
    message_eligible = models.TextField(
        default=DEFAULT_PATIENT_MESSAGES[EligibilityDecision.Outcome.ELIGIBLE]
    )
    message_eligible_with_conditions = models.TextField(
        default=DEFAULT_PATIENT_MESSAGES[
            EligibilityDecision.Outcome.ELIGIBLE_WITH_CONDITIONS
        ],
        help_text="{conditions} is replaced by the prescriber's conditions.",
    )
    message_needs_clearance = models.TextField(
        default=DEFAULT_PATIENT_MESSAGES[EligibilityDecision.Outcome.NEEDS_CLEARANCE],
        help_text="{provider} is replaced by the provider's name.",
    )
    message_not_eligible = models.TextField(
        default=DEFAULT_PATIENT_MESSAGES[EligibilityDecision.Outcome.NOT_ELIGIBLE],
        help_text="{resources} is replaced by the referral resources.",
    )
    referral_resources = models.TextField(default=DEFAULT_REFERRAL_RESOURCES)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "intake settings"

    def __str__(self) -> str:
        return "Intake settings"


class ConsentDocument(models.Model):
    """One version of a consent form. Never edited: a change publishes a new version."""

    class Kind(models.TextChoices):
        KETAMINE = "ketamine", "IV ketamine treatment (off-label)"
        TMS = "tms", "TMS treatment"
        PRIVACY = "privacy", "Notice of privacy practices"
        FINANCIAL = "financial", "Financial policy"
        COMMUNICATION = "communication", "Communication preferences"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey(
        "clinics.Organization", on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    version = models.PositiveIntegerField()
    title = models.CharField(max_length=200)
    body = models.TextField(help_text="Markdown. Shown and signed exactly as written.")
    published_by = models.ForeignKey(
        "accounts.User",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    published_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["organization", "kind", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "kind", "version"], name="consent_version"
            )
        ]

    def __str__(self) -> str:
        return f"{self.title} v{self.version}"


class ConsentSignature(models.Model):
    """A patient's signature on one consent version: what they saw, when, from where."""

    class Channel(models.TextChoices):
        PORTAL = "portal", "Patient portal"
        TABLET = "tablet", "Clinic tablet"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey(
        "clinics.Organization", on_delete=models.PROTECT, related_name="+"
    )
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="consent_signatures"
    )
    document = models.ForeignKey(
        ConsentDocument, on_delete=models.PROTECT, related_name="signatures"
    )
    typed_name = models.CharField(max_length=200)
    signature_image = models.FileField(upload_to="intake/signatures/", max_length=200)
    signed_text = models.TextField(help_text="The exact text the patient signed.")
    text_sha256 = models.CharField(max_length=64)
    signed_at = models.DateTimeField(default=timezone.now)
    ip_address = models.CharField(max_length=45, blank=True)
    channel = models.CharField(max_length=8, choices=Channel.choices)
    witnessed_by = models.ForeignKey(
        "accounts.User",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The staff member who handed over the clinic tablet.",
    )
    pdf = models.FileField(upload_to="intake/consents/", max_length=200, blank=True)
    pdf_sha256 = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["patient", "-signed_at", "-id"]

    def __str__(self) -> str:
        return f"Consent signature {self.uuid}"
