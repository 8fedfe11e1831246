"""The clinic's own public-site content: pages, FAQ, name, logo, colours, contact.

Nothing here is patient data. A page without a row shows the cited default
wording from `content.py`; the clinic admin's edits are stored here.
"""

import uuid

from django.core.validators import RegexValidator
from django.db import models

hex_colour = RegexValidator(
    r"^#[0-9a-fA-F]{6}$", "Enter a colour as # and six hex digits, such as #1f4e79."
)


class SiteSettings(models.Model):
    organization = models.OneToOneField(
        "clinics.Organization", on_delete=models.PROTECT, related_name="+"
    )
    clinic_name = models.CharField(
        max_length=200,
        blank=True,
        help_text="Shown on the site; blank uses the organization's name.",
    )
    tagline = models.CharField(max_length=200, blank=True)
    logo = models.FileField(upload_to="site/", max_length=200, blank=True)
    logo_content_type = models.CharField(max_length=40, blank=True)
    primary_colour = models.CharField(
        max_length=7, default="#1f4e79", validators=[hex_colour]
    )
    accent_colour = models.CharField(
        max_length=7, default="#8a4b08", validators=[hex_colour]
    )
    address = models.TextField(blank=True)
    phone = models.CharField(max_length=40, blank=True)
    email = models.EmailField(blank=True)
    hours = models.TextField(blank=True, help_text="One line per day or range.")
    infusion_setting = models.TextField(
        "How an infusion is given here",
        blank=True,
        help_text=(
            "Markdown, shown on the treatments page: the room, the pump, who watches "
            "and how. Describe only what is true of this clinic."
        ),
    )
    price_ranges = models.TextField(
        "Price ranges",
        blank=True,
        help_text=(
            "Markdown, shown on the treatments page only while the billing price list "
            "is empty (once it has prices, the page shows those)."
        ),
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "site settings"

    def __str__(self) -> str:
        return "Site settings"


class SitePage(models.Model):
    class Slug(models.TextChoices):
        HOME = "home", "Home"
        CONDITIONS = "conditions", "Conditions we treat"
        TREATMENTS = "treatments", "Treatments"
        PROCESS = "process", "Our process"
        FAQ = "faq", "Questions and answers"
        CONTACT = "contact", "Contact and location"

    organization = models.ForeignKey(
        "clinics.Organization", on_delete=models.PROTECT, related_name="+"
    )
    slug = models.CharField(max_length=16, choices=Slug.choices)
    title = models.CharField(max_length=120)
    meta_description = models.CharField(max_length=300)
    body = models.TextField(
        help_text="Markdown. HTML is removed except safe formatting."
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["organization", "slug"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "slug"], name="site_page_slug"
            )
        ]

    def __str__(self) -> str:
        return self.title


class FaqEntry(models.Model):
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey(
        "clinics.Organization", on_delete=models.PROTECT, related_name="+"
    )
    question = models.CharField(max_length=300)
    answer = models.TextField(help_text="Markdown.")
    position = models.PositiveSmallIntegerField(default=0)
    is_published = models.BooleanField(default=True)

    class Meta:
        ordering = ["organization", "position", "id"]
        verbose_name = "FAQ entry"
        verbose_name_plural = "FAQ entries"

    def __str__(self) -> str:
        return self.question


class ClinicianProfile(models.Model):
    """A clinician as the public site introduces them. Not a staff account: the
    clinic writes what patients should read."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey(
        "clinics.Organization", on_delete=models.PROTECT, related_name="+"
    )
    name = models.CharField(max_length=120)
    credentials = models.CharField(
        max_length=120,
        blank=True,
        help_text="For example: MD, board-certified psychiatrist.",
    )
    role = models.CharField(
        max_length=120, help_text="What they do here, such as Medical director."
    )
    bio = models.TextField(
        max_length=1200, blank=True, help_text="A short paragraph, in plain words."
    )
    photo = models.FileField(upload_to="site/people/", max_length=200, blank=True)
    position = models.PositiveSmallIntegerField(default=0)
    is_published = models.BooleanField("Shown on the site", default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["organization", "position", "id"]

    def __str__(self) -> str:
        return self.name


class SitePhoto(models.Model):
    """A photo of the clinic, stored as the re-encoded JPEG `site/images.py` made."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey(
        "clinics.Organization", on_delete=models.PROTECT, related_name="+"
    )
    image = models.FileField(upload_to="site/photos/", max_length=200)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    alt_text = models.CharField(
        "Description for people who cannot see it",
        max_length=200,
        help_text="What the photo shows, such as: An infusion room with a recliner and dimmed lights.",
    )
    caption = models.CharField(max_length=200, blank=True)
    position = models.PositiveSmallIntegerField(default=0)
    is_published = models.BooleanField("Shown on the site", default=True)
    uploaded_at = models.DateTimeField(auto_now_add=True)
    uploaded_by = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["organization", "position", "id"]

    def __str__(self) -> str:
        return self.alt_text
