"""Safety alerts: raise one, acknowledge it with a structured risk assessment, escalate the overdue ones."""

from collections.abc import Mapping
from datetime import datetime, timedelta

from django.db import models, transaction
from django.urls import reverse
from django.utils import timezone

from neuroclinic.accounts.models import User
from neuroclinic.accounts.roles import Capability, Role
from neuroclinic.audit.models import AuditEvent
from neuroclinic.audit.record import record
from neuroclinic.measures.actions.common import ASSESSMENT_FIELDS, MeasuresError
from neuroclinic.measures.models import (
    PortalLink,
    QuestionnaireResponse,
    SafetyAlert,
    TreatmentResumption,
)
from neuroclinic.notifications.actions import notify
from neuroclinic.patients.models import Patient


def _directors(organization_id: int) -> list[User]:
    return list(
        User.objects.filter(
            organization_id=organization_id,
            is_active=True,
            groups__name=Role.MEDICAL_DIRECTOR.value,
        ).order_by("id")
    )


def _alert_link(alert: SafetyAlert) -> str:
    return reverse("measures:alert", kwargs={"alert_uuid": alert.uuid})


# The notification's subject where "needs a risk assessment" is not what is asked.
_SUBJECTS = {
    SafetyAlert.Reason.TMS_SEIZURE: "Safety alert: seizure during a TMS session, review needed now",
}


@transaction.atomic
def raise_safety_alert(
    patient: Patient,
    *,
    reason: SafetyAlert.Reason,
    response: QuestionnaireResponse | None = None,
    detail: str = "",
    portal_link: PortalLink | None = None,
    assign_to: User | None = None,
    by: User | None = None,
) -> SafetyAlert:
    """Raise (once) and route a safety alert: the prescriber first, else the medical director.

    `assign_to` names who the alert goes to first instead (the supervising physician of a
    TMS session for a seizure); when that user is inactive the usual routing applies.

    An alert already raised for the same reason by the same response, or by an
    answer given earlier through the same portal link, is reused (and linked to
    the response) rather than doubled.
    """
    existing = None
    if portal_link is not None:
        existing = SafetyAlert.objects.filter(
            portal_link=portal_link, reason=reason
        ).first()
    if existing is None and response is not None:
        existing = SafetyAlert.objects.filter(response=response, reason=reason).first()
    if existing is not None:
        if response is not None and existing.response_id is None:
            existing.response = response
            existing.save(update_fields=["response"])
        return existing
    assignee = (
        assign_to
        if assign_to is not None
        and assign_to.is_active
        and assign_to.organization_id == patient.organization_id
        else None
    )
    if assignee is None and patient.prescriber and patient.prescriber.is_active:
        assignee = patient.prescriber
    if assignee is None:
        directors = _directors(patient.organization_id)
        assignee = directors[0] if directors else None
    alert = SafetyAlert.objects.create(
        organization_id=patient.organization_id,
        patient=patient,
        reason=reason,
        response=response,
        portal_link=portal_link,
        detail=detail,
        raised_by=by,
        assigned_to=assignee,
    )
    record(
        AuditEvent.Action.SAFETY_ALERT_RAISED,
        actor=by,
        patient=patient,
        subject=alert,
        reason=reason,
        assigned_to=assignee.username if assignee else None,
    )
    recipients = [assignee] if assignee else _directors(patient.organization_id)
    for recipient in recipients:
        notify(
            recipient,
            subject=_SUBJECTS.get(
                reason, "Safety alert: a patient needs a risk assessment"
            ),
            body=f"{alert.get_reason_display()}. Open the alert to assess and acknowledge.",
            link=_alert_link(alert),
            urgent=True,
        )
    return alert


@transaction.atomic
def acknowledge_alert(
    alert: SafetyAlert,
    *,
    risk_level: str,
    disposition: str,
    disposition_note: str,
    assessment: Mapping[str, str] | None = None,
    assessment_response: QuestionnaireResponse | None = None,
    by: User,
) -> SafetyAlert:
    """Close an alert with a documented risk assessment and a disposition.

    The assessment is a C-SSRS screener of this patient completed since the
    alert was raised, or a structured note covering ideation, plan, intent,
    behaviours and protective factors.
    """
    alert = SafetyAlert.objects.select_for_update().get(pk=alert.pk)
    if not alert.is_open:
        raise MeasuresError("This alert was already acknowledged.")
    if alert.reason == SafetyAlert.Reason.TMS_SEIZURE:
        raise MeasuresError(
            "A seizure alert is closed by the physician's seizure review on the TMS "
            "course page."
        )
    note = {
        k: str(v).strip()
        for k, v in (assessment or {}).items()
        if k in ASSESSMENT_FIELDS
    }
    if assessment_response is not None:
        if (
            assessment_response.patient_id != alert.patient_id
            or assessment_response.instrument_code != "cssrs-screener"
        ):
            raise MeasuresError(
                "Choose a C-SSRS screener of this patient.", field="assessment_response"
            )
        if assessment_response.completed_at < alert.raised_at - timedelta(minutes=5):
            raise MeasuresError(
                "That C-SSRS was completed before the alert; assess the risk now.",
                field="assessment_response",
            )
    else:
        missing = [f for f in ASSESSMENT_FIELDS if not note.get(f)]
        if missing:
            raise MeasuresError(
                "Document the risk assessment: "
                + ", ".join(m.replace("_", " ") for m in missing)
                + ".",
                field=missing[0],
            )
    if risk_level not in SafetyAlert.RiskLevel.values:
        raise MeasuresError("Choose the risk level.", field="risk_level")
    if disposition not in SafetyAlert.Disposition.values:
        raise MeasuresError("Choose what happens next.", field="disposition")
    if (
        disposition == SafetyAlert.Disposition.NO_ACTION
        and not disposition_note.strip()
    ):
        raise MeasuresError(
            "Say why no further action is needed.", field="disposition_note"
        )
    alert.acknowledged_at = timezone.now()
    alert.acknowledged_by = by
    alert.assessment = note
    alert.assessment_response = assessment_response
    alert.risk_level = risk_level
    alert.disposition = disposition
    alert.disposition_note = disposition_note.strip()
    alert.save(
        update_fields=[
            "acknowledged_at",
            "acknowledged_by",
            "assessment",
            "assessment_response",
            "risk_level",
            "disposition",
            "disposition_note",
        ]
    )
    record(
        AuditEvent.Action.SAFETY_ALERT_ACKNOWLEDGED,
        actor=by,
        patient=alert.patient,
        subject=alert,
        risk_level=risk_level,
        disposition=disposition,
    )
    return alert


@transaction.atomic
def close_by_seizure_review(
    alert: SafetyAlert, *, resumed: bool, note: str, by: User
) -> SafetyAlert:
    """Close a TMS seizure alert with the physician's documented seizure review.

    Resumed, the disposition is "treatment may continue with closer monitoring"; a
    stopped course is "no further action" with the review as its reason (the stop is
    on the TMS course). Neither holds other treatment once closed.
    """
    alert = SafetyAlert.objects.select_for_update().get(pk=alert.pk)
    if alert.reason != SafetyAlert.Reason.TMS_SEIZURE:
        raise MeasuresError("Only a seizure alert is closed by a seizure review.")
    if not alert.is_open:
        return alert
    alert.acknowledged_at = timezone.now()
    alert.acknowledged_by = by
    alert.disposition = (
        SafetyAlert.Disposition.TREAT_WITH_MONITORING
        if resumed
        else SafetyAlert.Disposition.NO_ACTION
    )
    alert.disposition_note = (
        "Seizure review: "
        + ("the TMS course resumes. " if resumed else "the TMS course is stopped. ")
        + note.strip()
    )
    alert.save(
        update_fields=[
            "acknowledged_at",
            "acknowledged_by",
            "disposition",
            "disposition_note",
        ]
    )
    record(
        AuditEvent.Action.SAFETY_ALERT_ACKNOWLEDGED,
        actor=by,
        patient=alert.patient,
        subject=alert,
        risk_level="",
        disposition=alert.disposition,
    )
    return alert


def escalate_overdue_alerts(*, now: datetime | None = None) -> list[SafetyAlert]:
    """Send alerts nobody acknowledged in time to the medical director (run every minute)."""
    now = now or timezone.now()
    escalated = []
    candidates = SafetyAlert.objects.filter(
        acknowledged_at__isnull=True, escalated_at__isnull=True
    ).select_related("organization", "patient")
    for alert in candidates:
        deadline = alert.raised_at + timedelta(
            minutes=alert.organization.alert_escalation_minutes
        )
        if deadline <= now:
            with transaction.atomic():
                locked = SafetyAlert.objects.select_for_update().get(pk=alert.pk)
                if (
                    locked.escalated_at is not None
                    or locked.acknowledged_at is not None
                ):
                    continue
                directors = _directors(alert.organization_id)
                locked.escalated_at = now
                locked.escalated_to = directors[0] if directors else None
                locked.save(update_fields=["escalated_at", "escalated_to"])
                record(
                    AuditEvent.Action.SAFETY_ALERT_ESCALATED,
                    actor=None,
                    actor_username="(escalation job)",
                    patient=alert.patient,
                    subject=locked,
                    minutes=alert.organization.alert_escalation_minutes,
                )
                for director in directors:
                    notify(
                        director,
                        subject="Escalated: a safety alert is not acknowledged",
                        body=(
                            f"{locked.get_reason_display()}, raised {alert.organization.alert_escalation_minutes}"
                            " or more minutes ago, has no documented risk assessment yet."
                        ),
                        link=_alert_link(locked),
                        urgent=True,
                    )
                escalated.append(locked)
    return escalated


def open_safety_alerts(patient: Patient) -> list[SafetyAlert]:
    return list(
        SafetyAlert.objects.filter(patient=patient, acknowledged_at__isnull=True)
    )


def alerts_holding_treatment(patient: Patient) -> list[SafetyAlert]:
    """Open alerts, and alerts closed as high risk or with a pause, an urgent evaluation
    or emergency services that no prescriber has yet signed treatment back on after."""
    # One query for both kinds (each infusion and TMS start asks): the open ones first,
    # then the closed ones still holding, each in the model's order.
    holding = list(
        SafetyAlert.objects.filter(patient=patient).filter(
            models.Q(acknowledged_at__isnull=True)
            | (
                models.Q(resumption__isnull=True)
                & (
                    models.Q(risk_level=SafetyAlert.RiskLevel.HIGH)
                    | models.Q(disposition__in=list(SafetyAlert.HOLDING_DISPOSITIONS))
                )
            )
        )
    )
    return [a for a in holding if a.is_open] + [a for a in holding if not a.is_open]


def safety_alert_blocks_treatment(patient: Patient) -> str | None:
    """Why treatment may not start today because of a safety alert, or None.

    The infusion and TMS checklists call this: a positive item 9 blocks "ready
    to treat" until a clinician documents a risk assessment (Source: C1, M10); an
    alert closed as high risk, or with a pause, an urgent evaluation or emergency
    services, blocks until a prescriber signs that treatment may resume.
    """
    alerts = alerts_holding_treatment(patient)
    if not alerts:
        return None
    open_ = [a for a in alerts if a.is_open]
    if open_:
        reasons = ", ".join(sorted({a.get_reason_display() for a in open_}))
        return f"Unresolved safety alert ({reasons}): a prescriber must document a risk assessment first."
    closed = sorted(
        {a.get_disposition_display() or a.get_risk_level_display() for a in alerts}
    )
    return (
        f"A safety alert was closed with {', '.join(closed).lower()}: treatment stays on "
        "hold until a prescriber signs that it may resume."
    )


@transaction.atomic
def resume_treatment_after_alert(
    alert: SafetyAlert, *, reason: str, password: str, by: User
) -> TreatmentResumption:
    """A prescriber signs (password) that treatment may resume after a holding alert."""
    alert = SafetyAlert.objects.select_for_update().get(pk=alert.pk)
    if not (
        by.can(Capability.ACKNOWLEDGE_SAFETY_ALERTS)
        and (Role.PRESCRIBER in by.roles or Role.MEDICAL_DIRECTOR in by.roles)
    ):
        raise MeasuresError("Only a prescriber decides that treatment may resume.")
    if alert.is_open:
        raise MeasuresError("Acknowledge the alert with a risk assessment first.")
    if not alert.holds_treatment_when_closed:
        raise MeasuresError("This alert does not hold treatment.")
    if TreatmentResumption.objects.filter(alert=alert).exists():
        raise MeasuresError("Treatment was already resumed after this alert.")
    if not reason.strip():
        raise MeasuresError("Say why treatment may resume.", field="reason")
    if not password or not by.check_password(password):
        raise MeasuresError(
            "That password is not right: your password signs this.", field="password"
        )
    resumption = TreatmentResumption.objects.create(
        alert=alert, reason=reason.strip(), signed_by=by, signed_at=timezone.now()
    )
    record(
        AuditEvent.Action.SAFETY_ALERT_TREATMENT_RESUMED,
        actor=by,
        patient=alert.patient,
        subject=alert,
        risk_level=alert.risk_level,
        disposition=alert.disposition,
    )
    return resumption
