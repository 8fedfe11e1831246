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


class SmartClient(models.Model):
    """A machine client allowed SMART Backend Services: it signs a JWT with its key and
    gets a short-lived access token that acts as `user` (a service account whose role
    decides what it may read), narrowed to `scopes`."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey(
        "clinics.Organization", on_delete=models.PROTECT, related_name="+"
    )
    client_id = models.CharField(max_length=100, unique=True)
    name = models.CharField(max_length=100)
    user = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, related_name="smart_clients"
    )
    public_key_pem = models.TextField(help_text="RSA or EC public key (PEM).")
    scopes = models.JSONField(help_text='Allowed scopes, e.g. ["system/*.read"].')
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["client_id"]

    def __str__(self) -> str:
        return self.client_id


class SmartAccessToken(models.Model):
    client = models.ForeignKey(
        SmartClient, on_delete=models.CASCADE, related_name="tokens"
    )
    token_hash = models.CharField(max_length=64, unique=True)
    scopes = models.JSONField()
    issued_at = models.DateTimeField()
    expires_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"Access token for {self.client_id}"


class SmartAssertion(models.Model):
    """A client assertion's `jti`, kept until it expires so it cannot be replayed."""

    client = models.ForeignKey(SmartClient, on_delete=models.CASCADE, related_name="+")
    jti = models.CharField(max_length=200)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["client", "jti"], name="smart_jti_once")
        ]

    def __str__(self) -> str:
        return self.jti


class Hl7Message(models.Model):
    """Every HL7 v2 message the MLLP listener received, as sent, with what became of it.

    Nothing a monitor sends is lost: an accepted message's readings are in
    infusions.VitalReading; a refused one stays here with the reason.
    """

    class Outcome(models.TextChoices):
        ACCEPTED = "AA", "Accepted"
        ERROR = "AE", "Error"
        REJECTED = "AR", "Rejected"

    received_at = models.DateTimeField(db_index=True)
    raw = models.TextField()
    control_id = models.CharField(max_length=50, blank=True)
    device_key = models.CharField(max_length=64, blank=True)
    outcome = models.CharField(max_length=2, choices=Outcome.choices)
    reason = models.CharField(max_length=300, blank=True)
    session = models.ForeignKey(
        "infusions.InfusionSession",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        ordering = ["-received_at", "-id"]

    def __str__(self) -> str:
        return f"HL7 {self.control_id} {self.outcome}"


class ImportedObservation(models.Model):
    """A vital sign or an outside questionnaire total brought in by a FHIR import
    (Observation, LOINC code, UCUM unit; a total in `{score}`), served back at
    /fhir/Observation as `imported-<uuid>`.

    The clinic's own vitals belong to an infusion session (`infusions.VitalReading`)
    and are charted by a nurse or a monitor; a reading from another clinic's record
    has no session, so it is kept here, as it came, with who imported it. An outside
    total has no item-level answers, so it is not a `measures.QuestionnaireResponse`
    and does not enter the clinic's own scoring, alerts or outcomes. Append-only
    (interop 0003) and sealed. One value a row: a blood-pressure panel is two rows.
    The same code at the same moment for a patient is the same reading (importing a
    Bundle again adds nothing).
    """

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey(
        "clinics.Organization", on_delete=models.PROTECT, related_name="+"
    )
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="+"
    )
    loinc_code = models.CharField(max_length=20)
    name = models.CharField(max_length=100)
    value = models.DecimalField(max_digits=10, decimal_places=3)
    unit = models.CharField(max_length=20, help_text="UCUM")
    effective_at = models.DateTimeField()
    imported_at = models.DateTimeField()
    imported_by = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["patient", "effective_at", "loinc_code", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "loinc_code", "effective_at"],
                name="imported_observation_once",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.value} {self.unit}"


class PatientIdentifier(models.Model):
    """Another system's identifier for one of our patients (Patient.identifier of an
    imported or FHIR-created Patient: a hospital's MRN, a payer's member number).

    Our own MRN is `Patient.mrn`; these are the others, kept so the patient is served
    with them and found by them (`identifier=system|value`), and so importing the same
    Patient again matches this one. One (system, value) names one patient at a clinic.
    Append-only (interop 0004) and sealed: an identifier recorded is never edited.
    """

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey(
        "clinics.Organization", on_delete=models.PROTECT, related_name="+"
    )
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="+"
    )
    system = models.CharField(max_length=200, help_text="Identifier.system (a URI)")
    value = models.CharField(max_length=100)
    recorded_at = models.DateTimeField()
    recorded_by = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["patient", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "system", "value"],
                name="patient_identifier_once",
            )
        ]

    def __str__(self) -> str:
        return f"{self.system}|{self.value}"
