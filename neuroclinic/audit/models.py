from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models


class AuditEvent(models.Model):
    """An append-only record of something that happened: who, what, to whom, when, from where.

    Written only by `neuroclinic.audit.record()`, inside the transaction of the
    change it describes. Database triggers refuse UPDATE and DELETE. Fields
    follow ONC 170.315(d)(2) and ASTM E2147-18 (Source: P5, docs/sources.md).
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
        OTP_SECRETS_ROTATED = (
            "accounts.otp_secrets_rotated",
            "Authenticator secrets re-encrypted under a new key",
        )
        TABLET_LOCKED = "accounts.tablet_locked", "Tablet handed to a patient"
        TABLET_UNLOCKED = "accounts.tablet_unlocked", "Tablet handed back to staff"
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
        OBSERVATION_IMPORTED = (
            "patients.observation_imported",
            "Vital sign imported (FHIR)",
        )
        FHIR_IMPORTED = "patients.fhir_imported", "FHIR Bundle imported"
        IDENTIFIER_ADDED = (
            "patients.identifier_added",
            "Another system's patient identifier recorded",
        )
        LIST_ENTRY_ENDED = (
            "patients.list_entry_ended",
            "Diagnosis, medication or allergy ended",
        )
        # measures
        RESPONSE_RECORDED = "measures.response_recorded", "Questionnaire recorded"
        RESPONSE_AMENDED = "measures.response_amended", "Questionnaire amended"
        RESPONSE_VIEWED = "measures.response_viewed", "Questionnaire opened"
        SAFETY_ALERT_RAISED = "measures.alert_raised", "Safety alert raised"
        SAFETY_ALERT_ESCALATED = "measures.alert_escalated", "Safety alert escalated"
        SAFETY_ALERT_ACKNOWLEDGED = (
            "measures.alert_acknowledged",
            "Safety alert acknowledged",
        )
        SAFETY_ALERT_TREATMENT_RESUMED = (
            "measures.alert_treatment_resumed",
            "Treatment may resume after a safety alert",
        )
        PORTAL_LINK_SENT = "measures.link_sent", "Questionnaire link sent"
        PORTAL_LINK_OPENED = "measures.link_opened", "Questionnaire link opened"
        PORTAL_LINK_REFUSED = "measures.link_refused", "Questionnaire link refused"
        KIOSK_STARTED = "measures.kiosk_started", "Tablet handed to patient"
        MEASURES_SCHEDULED = "measures.scheduled", "Questionnaires scheduled"
        MEASURES_CONFIGURED = "measures.configured", "Measurement settings changed"
        MEASURES_WITHDRAWN = (
            "measures.withdrawn",
            "Questionnaires no longer due (the plan moved)",
        )
        TRAJECTORY_VIEWED = (
            "measures.trajectory_viewed",
            "Measures and trajectories opened",
        )
        # ledger
        LEDGER_SETUP_SAVED = "ledger.setup_saved", "Ledger setup saved"
        LEDGER_RECEIVED = "ledger.received", "Controlled substance received"
        LEDGER_SCAN_ATTACHED = "ledger.scan_attached", "Invoice scan attached"
        LEDGER_DRAWN = "ledger.drawn", "Controlled substance drawn"
        LEDGER_ADMINISTERED = "ledger.administered", "Controlled substance administered"
        LEDGER_WASTED = "ledger.wasted", "Controlled substance wasted"
        LEDGER_RETURNED = (
            "ledger.returned_to_stock",
            "Controlled substance returned to stock",
        )
        LEDGER_TRANSFERRED = "ledger.transferred", "Container transferred"
        LEDGER_SENT_TO_REVERSE_DISTRIBUTOR = (
            "ledger.sent_to_reverse_distributor",
            "Sent to reverse distributor",
        )
        LEDGER_DESTROYED = "ledger.destroyed", "Controlled substance destroyed"
        LEDGER_THEFT_LOSS = "ledger.theft_loss", "Theft or loss recorded"
        LEDGER_REVERSED = "ledger.reversed", "Ledger entry reversed"
        LEDGER_COUNTED = "ledger.counted", "Stock counted"
        LEDGER_DISCREPANCY_OPENED = "ledger.discrepancy_opened", "Discrepancy opened"
        LEDGER_DISCREPANCY_INVESTIGATED = (
            "ledger.discrepancy_investigated",
            "Discrepancy investigated",
        )
        LEDGER_DISCREPANCY_RESOLVED = (
            "ledger.discrepancy_resolved",
            "Discrepancy resolved as minor variance",
        )
        LEDGER_DISCREPANCY_ESCALATED = (
            "ledger.discrepancy_escalated",
            "Discrepancy escalated as theft or significant loss",
        )
        LEDGER_TASK_DONE = "ledger.task_done", "DEA task done"
        LEDGER_INVENTORY_TAKEN = "ledger.inventory_taken", "Inventory taken"
        LEDGER_REPORT_VIEWED = "ledger.report_viewed", "Ledger report opened"
        LEDGER_REPORT_EXPORTED = "ledger.report_exported", "Ledger report exported"
        LEDGER_CHECKED = "ledger.checked", "Ledger chain checked"
        # intake
        CONSULT_REQUESTED = "intake.consult_requested", "Consult requested"
        CONSULT_REFUSED = (
            "intake.consult_refused",
            "Consult request refused (rate limit)",
        )
        CONSULT_UPDATED = "intake.consult_updated", "Consult request updated"
        CONSULT_NOTE_ADDED = "intake.consult_note_added", "Consult request note added"
        CONSULT_VIEWED = "intake.consult_viewed", "Consult request opened"
        CONSULT_CONVERTED = (
            "intake.consult_converted",
            "Consult request converted to patient",
        )
        PORTAL_SIGN_IN_SENT = "intake.portal_link_sent", "Portal sign-in link sent"
        PORTAL_SIGNED_IN = "intake.portal_signed_in", "Patient signed in to the portal"
        PORTAL_SIGN_IN_REFUSED = (
            "intake.portal_link_refused",
            "Portal sign-in link refused",
        )
        INTAKE_SECTION_SAVED = "intake.section_saved", "Intake section saved"
        INTAKE_SUBMITTED = "intake.submitted", "Intake submitted"
        INTAKE_REMINDER_SENT = "intake.reminder_sent", "Intake reminder sent"
        INTAKE_VIEWED = "intake.viewed", "Intake answers opened"
        DOCUMENT_UPLOADED = "intake.document_uploaded", "Document uploaded"
        DOCUMENT_VIEWED = "intake.document_viewed", "Document opened"
        ELIGIBILITY_REVIEWED = (
            "intake.eligibility_reviewed",
            "Eligibility review opened",
        )
        ELIGIBILITY_DECIDED = (
            "intake.eligibility_decided",
            "Eligibility decided and signed",
        )
        ELIGIBILITY_SIGN_REFUSED = (
            "intake.eligibility_sign_refused",
            "Eligibility signature refused (wrong password)",
        )
        ELIGIBILITY_RULES_CHANGED = "intake.rules_changed", "Eligibility rules changed"
        CLEARANCE_LETTER_VIEWED = "intake.letter_viewed", "Clearance letter opened"
        INTAKE_SETTINGS_CHANGED = "intake.settings_changed", "Intake wording changed"
        CONSENT_PUBLISHED = "intake.consent_published", "Consent form version published"
        CONSENT_SIGNED = "intake.consent_signed", "Consent signed"
        CONSENT_TABLET_STARTED = (
            "intake.consent_tablet",
            "Tablet handed to patient to sign",
        )
        CONSENT_VIEWED = "intake.consent_viewed", "Signed consent opened"
        SITE_EDITED = "site.edited", "Public site edited"
        # treatment
        PROTOCOL_DRAFTED = "treatment.protocol_drafted", "Protocol version drafted"
        PROTOCOL_SIGNED = (
            "treatment.protocol_signed",
            "Protocol signed by the medical director",
        )
        PLAN_CREATED = "treatment.plan_created", "Treatment plan created"
        PLAN_ENDED = "treatment.plan_ended", "Treatment plan ended"
        PLAN_VIEWED = "treatment.plan_viewed", "Treatment plan opened"
        ORDER_SIGNED = "treatment.order_signed", "Infusion order signed"
        ORDER_DISCONTINUED = (
            "treatment.order_discontinued",
            "Infusion order discontinued",
        )
        SIGNATURE_REFUSED = (
            "treatment.signature_refused",
            "Signature refused (wrong password)",
        )
        # infusions
        INFUSION_CHECKED_IN = (
            "infusions.checked_in",
            "Patient checked in for an infusion",
        )
        INFUSION_VIEWED = "infusions.viewed", "Infusion record opened"
        INFUSION_CHECKLIST_SAVED = (
            "infusions.checklist_saved",
            "Infusion checklist saved",
        )
        INFUSION_CHECKLIST_CONFIRMED = (
            "infusions.checklist_confirmed",
            "Infusion checklist confirmed",
        )
        INFUSION_DOSE_CALCULATED = (
            "infusions.dose_calculated",
            "Infusion dose calculated",
        )
        INFUSION_DOSE_CHECKED = (
            "infusions.dose_checked",
            "Infusion dose checked by a second nurse",
        )
        INFUSION_STARTED = "infusions.started", "Infusion started"
        INFUSION_PAUSED = "infusions.paused", "Infusion paused"
        INFUSION_RESUMED = "infusions.resumed", "Infusion resumed"
        INFUSION_RATE_CHANGED = "infusions.rate_changed", "Infusion rate changed"
        INFUSION_STOPPED = "infusions.stopped", "Infusion stopped"
        INFUSION_VITALS_RECORDED = "infusions.vitals_recorded", "Vital signs recorded"
        INFUSION_VITALS_REJECTED = "infusions.vitals_rejected", "Vital signs refused"
        INFUSION_ALARM_RAISED = "infusions.alarm_raised", "Infusion alarm raised"
        INFUSION_ALARM_ACKNOWLEDGED = (
            "infusions.alarm_acknowledged",
            "Infusion alarm acknowledged",
        )
        INFUSION_ALARM_CLEARED = "infusions.alarm_cleared", "Infusion alarm cleared"
        INFUSION_ADVERSE_EVENT = "infusions.adverse_event", "Adverse event recorded"
        INFUSION_PRN_GIVEN = "infusions.prn_given", "As-needed medication given"
        INFUSION_SEDATION_SCORED = (
            "infusions.sedation_scored",
            "Sedation scored (MOAA/S)",
        )
        INFUSION_CADSS_RECORDED = (
            "infusions.cadss_recorded",
            "CADSS-6 recorded for an infusion",
        )
        INFUSION_RECOVERY_ASSESSED = (
            "infusions.recovery_assessed",
            "Recovery assessed (Aldrete)",
        )
        INFUSION_DISCHARGED = (
            "infusions.discharged",
            "Patient discharged after an infusion",
        )
        INFUSION_INSTRUCTIONS_GIVEN = (
            "infusions.instructions_given",
            "Discharge instructions given",
        )
        INFUSION_WASTED = "infusions.wasted", "Infusion remainder wasted"
        INFUSION_NOTE_SIGNED = (
            "infusions.note_signed",
            "Infusion note signed and locked",
        )
        INFUSION_NOTE_COSIGNED = "infusions.note_cosigned", "Infusion note co-signed"
        INFUSION_ADDENDUM_ADDED = (
            "infusions.addendum_added",
            "Addendum added to an infusion note",
        )
        INFUSION_CANCELLED = "infusions.cancelled", "Infusion session cancelled"
        INFUSION_REPORT_VIEWED = "infusions.report_viewed", "Infusion report opened"
        # tms
        TMS_SCREEN_RECORDED = "tms.screen_recorded", "TMS safety screen recorded"
        TMS_SCREEN_DECIDED = "tms.screen_decided", "TMS safety screen decided"
        TMS_THRESHOLD_RECORDED = "tms.threshold_recorded", "Motor threshold recorded"
        TMS_COURSE_ORDERED = "tms.course_ordered", "TMS course ordered"
        TMS_SESSION_STARTED = "tms.session_started", "TMS session started"
        TMS_SESSION_ENDED = "tms.session_ended", "TMS session ended and signed"
        TMS_INTENSITY_CHANGED = "tms.intensity_changed", "TMS intensity changed"
        TMS_SIDE_EFFECT = "tms.side_effect", "TMS side effect recorded"
        TMS_SEIZURE_RECORDED = "tms.seizure_recorded", "Seizure during TMS recorded"
        TMS_SEIZURE_REVIEWED = "tms.seizure_reviewed", "Seizure reviewed by a physician"
        TMS_COURSE_VIEWED = "tms.course_viewed", "TMS course opened"
        TMS_ADVERSE_EVENT_FILED = "tms.adverse_event_filed", "TMS adverse event filed"
        TMS_ADVERSE_EVENT_REVIEWED = (
            "tms.adverse_event_reviewed",
            "TMS adverse event reviewed and signed",
        )
        TMS_ADDENDUM_ADDED = "tms.addendum_added", "Addendum to a TMS session note"
        TMS_SESSION_MISSED = "tms.session_missed", "Missed TMS session recorded"
        TMS_PROTOCOL_DRAFTED = "tms.protocol_drafted", "TMS protocol version drafted"
        TMS_PROTOCOL_EDITED = "tms.protocol_edited", "TMS protocol draft changed"
        TMS_PROTOCOL_SIGNED = "tms.protocol_signed", "TMS protocol version signed"
        # billing
        BILLING_SETUP_SAVED = "billing.setup_saved", "Billing identity saved"
        BILLING_PRICE_SET = "billing.price_set", "Price or package version set"
        BILLING_PAYER_STATUS = (
            "billing.payer_status",
            "Uninsured or self-pay answer recorded",
        )
        BILLING_ESTIMATE_GIVEN = "billing.estimate_given", "Good-faith estimate given"
        BILLING_PACKAGE_SOLD = "billing.package_sold", "Package sold"
        BILLING_PACKAGE_CLOSED = (
            "billing.package_closed",
            "Package closed, unused sessions settled",
        )
        BILLING_INVOICED = "billing.invoiced", "Invoice issued"
        BILLING_PAYMENT = "billing.payment", "Payment recorded"
        BILLING_REFUND = "billing.refund", "Refund recorded"
        BILLING_CREDIT_APPLIED = (
            "billing.credit_applied",
            "Credit applied to an invoice",
        )
        BILLING_SUPERBILL_MADE = "billing.superbill_made", "Superbill made"
        BILLING_STATEMENT_MADE = "billing.statement_made", "Patient statement made"
        BILLING_EM_RULES_CHANGED = (
            "billing.em_rules_changed",
            "Office-visit time rules changed",
        )
        BILLING_ACCOUNT_VIEWED = "billing.account_viewed", "Billing account opened"
        BILLING_DOCUMENT_VIEWED = "billing.document_viewed", "Billing document opened"
        BILLING_REPORT_VIEWED = "billing.report_viewed", "Billing report opened"
        # letters
        LETTER_TEMPLATE_SAVED = "letters.template_saved", "Letter template saved"
        LETTER_DRAFTED = "letters.drafted", "Letter drafted"
        LETTER_SIGNED = "letters.signed", "Letter signed"
        LETTER_SENT = "letters.sent", "Letter sent"
        LETTER_VIEWED = "letters.viewed", "Letter opened"
        LETTER_ADDENDUM = "letters.addendum", "Addendum signed on a letter"
        LETTER_PART2_CONSENT = (
            "letters.part2_consent",
            "Part 2 disclosure consent recorded",
        )
        LETTER_LINK_OPENED = "letters.link_opened", "Emailed letter link opened"
        # outcomes
        BOOSTER_RULES_CHANGED = (
            "outcomes.booster_rules_changed",
            "Booster rules changed",
        )
        BOOSTER_SUGGESTED = "outcomes.booster_suggested", "Booster suggested"
        BOOSTER_CONFIRMED = "outcomes.booster_confirmed", "Booster confirmed"
        BOOSTER_DISMISSED = "outcomes.booster_dismissed", "Booster suggestion dismissed"
        FOLLOW_UP_TASK_OPENED = "outcomes.follow_up_opened", "Follow-up task opened"
        FOLLOW_UP_TASK_DONE = "outcomes.follow_up_done", "Follow-up task done"
        OUTCOMES_VIEWED = "outcomes.viewed", "Outcomes report opened"
        RESEARCH_EXPORTED = (
            "outcomes.research_exported",
            "De-identified research export",
        )
        # scheduling
        APPOINTMENT_BOOKED = "scheduling.booked", "Appointment booked"
        APPOINTMENT_MOVED = "scheduling.moved", "Appointment moved"
        APPOINTMENT_CANCELLED = "scheduling.cancelled", "Appointment cancelled"
        APPOINTMENT_NO_SHOW = "scheduling.no_show", "Appointment marked no-show"
        APPOINTMENT_CONFIRMED = "scheduling.confirmed", "Appointment confirmed"
        APPOINTMENT_MOVE_REQUESTED = (
            "scheduling.move_requested",
            "Patient asked to move an appointment",
        )
        APPOINTMENT_CHECKED_IN = "scheduling.checked_in", "Patient checked in"
        SERIES_BOOKED = "scheduling.series_booked", "Induction series booked"
        APPOINTMENT_REMINDED = "scheduling.reminded", "Appointment reminder sent"
        CALENDAR_VIEWED = "scheduling.calendar_viewed", "Calendar opened"
        WAITLIST_OFFER_DECLINED = (
            "scheduling.offer_declined",
            "Waitlist offer declined",
        )
        SCHEDULING_CONFIGURED = (
            "scheduling.configured",
            "Calendar set-up changed (types, shifts, closures)",
        )
        # audit
        AUDIT_LOG_EXPORTED = "audit.exported", "Audit log exported"
        # operations
        BACKUP_MADE = "operations.backup_made", "Backup made"
        BACKUP_FAILED = "operations.backup_failed", "Backup failed"
        DATABASE_RESTORED = "operations.restored", "Database restored from a backup"
        CLINIC_SET_UP = "operations.clinic_set_up", "Clinic set up with its first admin"
        TASK_RETRIED = "operations.task_retried", "Failed background task retried"
        CHECKPOINT_WRITTEN = (
            "operations.checkpoint_written",
            "Signed chain checkpoint written",
        )

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


class Seal(models.Model):
    """The content hash of one clinical or DEA record as the application last wrote it.

    Written by `neuroclinic.audit.seals` after every save of a sealed model (and
    a tombstone after a delete), never updated (database triggers). Each seal
    carries an HMAC keyed by INTEGRITY_KEY, a secret kept outside the database,
    so a raw-SQL edit of a record cannot be hidden by writing a matching seal.
    `neuroclinic verify` compares every sealed record with its newest seal.
    """

    model = models.CharField(max_length=100)  # app_label.modelname
    object_id = models.CharField(max_length=64)
    # Empty when the record was deleted through the application.
    content_hash = models.CharField(max_length=64, blank=True)
    # The columns the hash covers, comma-separated, as they were at sealing time.
    fields = models.TextField()
    organization_id = models.BigIntegerField(null=True, blank=True)
    sealed_at = models.DateTimeField()
    mac = models.CharField(max_length=64)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["model", "object_id", "id"], name="audit_seal_object"),
        ]

    def __str__(self) -> str:
        return f"seal of {self.model} {self.object_id}"
