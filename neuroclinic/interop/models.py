"""Bulk Data exports: one row per `$export` request and one per NDJSON file it wrote.

Files live in the database (one row per file of at most `FILE_RESOURCES` resources),
so an export is transactional and backed up with everything else; they expire
`EXPORT_LIFETIME` after the export finishes (`interop.tasks.expire_bulk_exports`).
"""

import uuid
from datetime import timedelta

from django.db import models

EXPORT_LIFETIME = timedelta(hours=24)
FILE_RESOURCES = 10_000


class BulkExport(models.Model):
    class Level(models.TextChoices):
        SYSTEM = "system", "System"
        GROUP = "group", "Group (the clinic's patients)"
        PATIENT = "patient", "All patients"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey(
        "clinics.Organization", on_delete=models.PROTECT, related_name="+"
    )
    requested_by = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, related_name="+"
    )
    request_url = models.CharField(max_length=500)
    level = models.CharField(max_length=8, choices=Level.choices)
    resource_types = models.JSONField(help_text="FHIR resource types, in order.")
    since = models.DateTimeField(null=True, blank=True)
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.QUEUED
    )
    progress = models.CharField(max_length=100, blank=True)
    requested_at = models.DateTimeField()
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    error = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-requested_at", "-id"]
        indexes = [models.Index(fields=["status", "expires_at"], name="export_expiry")]

    def __str__(self) -> str:
        return f"FHIR export {self.uuid} ({self.status})"


class BulkExportFile(models.Model):
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    export = models.ForeignKey(
        BulkExport, on_delete=models.CASCADE, related_name="files"
    )
    resource_type = models.CharField(max_length=40)
    sequence = models.PositiveIntegerField()
    count = models.PositiveIntegerField()
    content = models.TextField(help_text="NDJSON: one resource per line.")

    class Meta:
        ordering = ["export", "sequence"]
        constraints = [
            models.UniqueConstraint(
                fields=["export", "sequence"], name="export_file_sequence"
            )
        ]

    def __str__(self) -> str:
        return f"{self.resource_type} file {self.sequence}"
