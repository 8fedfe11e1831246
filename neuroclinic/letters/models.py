"""Letter templates (versioned), letters (locked when signed) and each time one was sent."""

import uuid

from django.db import models


class LetterTemplate(models.Model):
    """One version of a letter template the clinic wrote. An edit is a new version."""

    class Kind(models.TextChoices):
        END_OF_SERIES = (
            "end_of_series",
            "End-of-series summary to the referring provider",
        )
        CONSULT = "consult", "Consult summary to the referring provider"
        THERAPIST = "therapist", "Note to the therapist"
        BOOSTER = "booster", "Booster or course-change notice"
        TMS_COURSE = "tms_course", "TMS course summary"
        CONCERNS = "concerns", "Answer to a provider's concerns"
        CLEARANCE = "clearance", "Clearance request to another provider"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey(
        "clinics.Organization", on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    version = models.PositiveIntegerField()
    body = models.TextField(help_text="Markdown with {{ fields }} from the chart.")
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["organization", "kind", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "kind", "version"],
                name="letters_template_version",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} v{self.version}"


class Letter(models.Model):
    """A letter about a patient to a care-team provider; locked once signed."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        SIGNED = "signed", "Signed"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey(
        "clinics.Organization", on_delete=models.PROTECT, related_name="+"
    )
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="+"
    )
    template = models.ForeignKey(
        LetterTemplate, on_delete=models.PROTECT, related_name="letters"
    )
    recipient = models.ForeignKey(
        "patients.CareTeamProvider", on_delete=models.PROTECT, related_name="+"
    )
    body = models.TextField(help_text="The filled Markdown, as signed.")
    status = models.CharField(
        max_length=8, choices=Status.choices, default=Status.DRAFT
    )
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, related_name="+"
    )
    signed_at = models.DateTimeField(null=True, blank=True)
    signed_by = models.ForeignKey(
        "accounts.User",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    body_sha256 = models.CharField(max_length=64, blank=True)
    part2 = models.BooleanField(
        default=False,
        help_text="Quotes substance-use records covered by 42 CFR Part 2: sent only "
        "with the patient's Part 2 consent for this recipient.",
    )
    eligibility_decision = models.ForeignKey(
        "intake.EligibilityDecision",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="A clearance request: the signed eligibility decision that asks for it.",
    )

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.template.get_kind_display()} ({self.get_status_display()})"


class LetterSend(models.Model):
    """One time a signed letter left the clinic: how, to which address, by whom."""

    class Channel(models.TextChoices):
        PRINT = "print", "Printed (handed or posted)"
        FAX = "fax", "Faxed from the PDF"
        EMAIL = "email", "Email (link, never an attachment)"

    letter = models.ForeignKey(Letter, on_delete=models.PROTECT, related_name="sends")
    channel = models.CharField(max_length=8, choices=Channel.choices)
    address = models.CharField(max_length=200, blank=True)
    sent_at = models.DateTimeField(auto_now_add=True)
    sent_by = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, related_name="+"
    )
    link_expires_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="Email only: when the signed link stops working.",
    )

    class Meta:
        ordering = ["sent_at", "id"]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} {self.sent_at:%Y-%m-%d}"


class LetterAddendum(models.Model):
    """Text added to a signed letter, signed in turn. The letter itself never changes."""

    letter = models.ForeignKey(Letter, on_delete=models.PROTECT, related_name="addenda")
    body = models.TextField()
    body_sha256 = models.CharField(max_length=64)
    signed_at = models.DateTimeField(auto_now_add=True)
    signed_by = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["signed_at", "id"]

    def __str__(self) -> str:
        return f"Addendum {self.signed_at:%Y-%m-%d}"


class Part2Consent(models.Model):
    """The patient's written consent (42 CFR 2.31) to disclose Part 2 records to one recipient."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey(
        "clinics.Organization", on_delete=models.PROTECT, related_name="+"
    )
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="+"
    )
    recipient = models.ForeignKey(
        "patients.CareTeamProvider", on_delete=models.PROTECT, related_name="+"
    )
    purpose = models.CharField(max_length=200)
    expires_on = models.DateField()
    recorded_at = models.DateTimeField(auto_now_add=True)
    recorded_by = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["patient", "-recorded_at", "-id"]

    def __str__(self) -> str:
        return f"Part 2 consent until {self.expires_on}"
