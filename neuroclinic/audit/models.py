from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models


class AuditEvent(models.Model):
    """An append-only record of something that happened: who, what, to whom, when, from where.

    Written only by `neuroclinic.audit.record()`, inside the transaction of the
    change it describes. Database triggers refuse UPDATE and DELETE. Fields
    follow domain.md section 6.5 (ONC 170.315(d)(2), ASTM E2147-18).
    """

    class Action(models.TextChoices):
        # accounts
        SIGNED_IN = "accounts.signed_in", "Signed in"
        SIGNED_OUT = "accounts.signed_out", "Signed out"
        SIGN_IN_FAILED = "accounts.sign_in_failed", "Sign-in failed"
        LOCKED_OUT = "accounts.locked_out", "Locked out"
        TWO_FACTOR_ENROLLED = "accounts.two_factor_enrolled", "Two-factor enrolled"
        RECOVERY_CODE_USED = "accounts.recovery_code_used", "Recovery code used"
        PASSWORD_CHANGED = "accounts.password_changed", "Password changed"
        USER_CREATED = "accounts.user_created", "User created"
        USER_UPDATED = "accounts.user_updated", "User updated"
        ROLES_CHANGED = "accounts.roles_changed", "Roles changed"
        TWO_FACTOR_RESET = "accounts.two_factor_reset", "Two-factor reset"
        TOKEN_CREATED = "accounts.token_created", "API token created"
        TOKEN_REVOKED = "accounts.token_revoked", "API token revoked"
        TOKEN_USED = "accounts.token_used", "API token used"
        TOKEN_REFUSED = "accounts.token_refused", "API token refused"
        TOTP_SHOWN = "accounts.totp_shown", "TOTP code shown by support command"
        # clinics
        CLINIC_UPDATED = "clinics.updated", "Clinic settings updated"
        LOCATION_SAVED = "clinics.location_saved", "Location saved"
        ROOM_SAVED = "clinics.room_saved", "Room saved"
        DEVICE_SAVED = "clinics.device_saved", "Device saved"
        # patients
        PATIENT_REGISTERED = "patients.registered", "Patient registered"
        PATIENT_UPDATED = "patients.updated", "Patient demographics updated"
        PATIENTS_SEARCHED = "patients.searched", "Patients searched"
        CHART_VIEWED = "patients.chart_viewed", "Chart opened"
        CHART_PRINTED = "patients.chart_printed", "Chart printed"
        CHART_EXPORTED = "patients.chart_exported", "Chart exported"
        PATIENT_READ_API = "patients.read_api", "Patient read through the API"
        CONTACT_ADDED = "patients.contact_added", "Contact added"
        PROVIDER_ADDED = "patients.provider_added", "Care-team provider added"
        DIAGNOSIS_ADDED = "patients.diagnosis_added", "Diagnosis added"
        MEDICATION_ADDED = "patients.medication_added", "Medication added"
        ALLERGY_ADDED = "patients.allergy_added", "Allergy added"
        LIST_ENTRY_ENDED = (
            "patients.list_entry_ended",
            "Diagnosis, medication or allergy ended",
        )
        # audit
        AUDIT_LOG_EXPORTED = "audit.exported", "Audit log exported"

    class Outcome(models.TextChoices):
        SUCCESS = "success", "Success"
        DENIED = "denied", "Denied"
        FAILURE = "failure", "Failure"

    seq = models.PositiveBigIntegerField(unique=True, editable=False)
    occurred_at = models.DateTimeField(db_index=True)
    # No `choices=` on purpose: every app adds its own codes to Action, and a
    # new code should not need a migration of the audit table.
    action = models.CharField(max_length=64, db_index=True)
    outcome = models.CharField(
        max_length=10, choices=Outcome.choices, default=Outcome.SUCCESS
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # Snapshots, so the event still says who it was if a name or role changes.
    actor_username = models.CharField(max_length=150, blank=True)
    actor_roles = models.CharField(max_length=200, blank=True)
    organization = models.ForeignKey(
        "clinics.Organization",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    patient = models.ForeignKey(
        "patients.Patient",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    subject_type = models.CharField(max_length=64, blank=True)
    subject_id = models.CharField(max_length=64, blank=True)
    # Text, not inet: the hash must see the same string PostgreSQL gives back.
    source_ip = models.CharField(max_length=45, blank=True)
    data = models.JSONField(default=dict, encoder=DjangoJSONEncoder)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["seq"]
        indexes = [
            models.Index(fields=["patient", "occurred_at"], name="audit_patient_time"),
            models.Index(fields=["actor", "occurred_at"], name="audit_actor_time"),
        ]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} {self.occurred_at:%Y-%m-%d %H:%M:%S}"

    @property
    def action_label(self) -> str:
        try:
            return str(self.Action(self.action).label)
        except ValueError:
            return self.action

    def hashed_content(self) -> dict[str, Any]:
        """Everything the hash covers. Changing this changes every future hash."""
        return {
            "seq": self.seq,
            "occurred_at": self.occurred_at,
            "action": self.action,
            "outcome": self.outcome,
            "actor_id": self.actor_id,
            "actor_username": self.actor_username,
            "actor_roles": self.actor_roles,
            "organization_id": self.organization_id,
            "patient_id": self.patient_id,
            "subject_type": self.subject_type,
            "subject_id": self.subject_id,
            "source_ip": self.source_ip,
            "data": self.data,
            "prev_hash": self.prev_hash,
        }


class ChainHead(models.Model):
    """The newest link of a hash chain. Locked by each writer to serialize appends."""

    name = models.CharField(max_length=64, unique=True)
    seq = models.PositiveBigIntegerField(default=0)
    hash = models.CharField(max_length=64)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return f"{self.name} at #{self.seq}"
