"""Every write to questionnaires, safety alerts, links and schedules goes through here.

Each action runs in one transaction and records an audit event. Callers
check capabilities and patient access first.
"""

import hashlib
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone

from neuroclinic.accounts.models import User
from neuroclinic.accounts.roles import Role
from neuroclinic.audit.models import AuditEvent
from neuroclinic.audit.record import record
from neuroclinic.clinics.models import Location
from neuroclinic.lib.messaging import send_email, send_sms
from neuroclinic.measures import schedules
from neuroclinic.measures.instruments import (
    INSTRUMENTS,
    ScoreFlag,
    answer_raises_safety_alert,
    get_instrument,
    score,
)
from neuroclinic.measures.models import (
    DueMeasure,
    InstrumentWording,
    MeasurementRule,
    PortalLink,
    QuestionnaireResponse,
    SafetyAlert,
)
from neuroclinic.notifications.actions import notify
from neuroclinic.patients.models import Patient

PORTAL_LINK_HOURS = 72
KIOSK_LINK_MINUTES = 60
PORTAL_SALT = "neuroclinic.measures.portal-link"

# Which score flag raises which kind of alert (Source: M2, M10, C4 (docs/sources.md)).
ALERT_REASONS = {
    ScoreFlag.PHQ9_ITEM9_POSITIVE: SafetyAlert.Reason.PHQ9_ITEM9,
    ScoreFlag.QIDS_ITEM12_POSITIVE: SafetyAlert.Reason.QIDS_ITEM12,
    ScoreFlag.MADRS_ITEM10_POSITIVE: SafetyAlert.Reason.MADRS_ITEM10,
    ScoreFlag.CSSRS_POSITIVE: SafetyAlert.Reason.CSSRS,
}
# Which alert an instrument's suicide item or screen raises.
INSTRUMENT_ALERT_REASONS = {
    "phq9": SafetyAlert.Reason.PHQ9_ITEM9,
    "qids-sr16": SafetyAlert.Reason.QIDS_ITEM12,
    "madrs": SafetyAlert.Reason.MADRS_ITEM10,
    "cssrs-screener": SafetyAlert.Reason.CSSRS,
}
# A structured risk assessment must say something about each of these
# (Joint Commission NPSG 15.01.01; Source: C1).
ASSESSMENT_FIELDS = ("ideation", "plan", "intent", "behaviors", "protective_factors")


class MeasuresError(Exception):
    """A refused request, with a message for the person who made it."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class PortalLinkInvalid(MeasuresError):
    pass


@dataclass(frozen=True)
class Recorded:
    response: QuestionnaireResponse
    alerts: list[SafetyAlert]
    created: bool


# Responses ---------------------------------------------------------------------


@transaction.atomic
def record_response(
    patient: Patient,
    *,
    instrument_code: str,
    answers: Mapping[str, object],
    source: QuestionnaireResponse.Source,
    completed_at: datetime | None = None,
    sex: str | None = None,
    submission_key: UUID | None = None,
    portal_link: PortalLink | None = None,
    amends: QuestionnaireResponse | None = None,
    amendment_reason: str = "",
    by: User | None,
) -> Recorded:
    """Score and store a response; raise the safety alerts it calls for.

    `by` is the member of staff who entered it; None when the patient did
    (portal, clinic tablet, self-check). Raises `InvalidResponse` (from the
    pure scorer) when the answers cannot be scored: nothing is written then.
    The same `submission_key` twice stores one response and returns it.
    """
    if submission_key is not None:
        existing = QuestionnaireResponse.objects.filter(
            submission_key=submission_key
        ).first()
        if existing is not None:
            if existing.patient_id != patient.pk:
                raise MeasuresError("That submission key belongs to another response.")
            return Recorded(existing, list(existing.safety_alerts.all()), created=False)
    instrument = get_instrument(instrument_code)
    result = score(instrument, answers, sex=sex)
    response = QuestionnaireResponse(
        organization_id=patient.organization_id,
        patient=patient,
        instrument_code=instrument.code,
        instrument_version=instrument.version,
        answers=dict(answers),
        sex_for_scoring=sex or "",
        total=result.total,
        severity=str(result.severity or ""),
        flags=[str(f) for f in result.flags],
        subscales=dict(result.subscales),
        triage=str(result.triage or ""),
        raises_safety_alert=result.safety_alert,
        source=source,
        entered_by=by,
        completed_at=completed_at or timezone.now(),
        submission_key=submission_key,
        portal_link=portal_link,
        amends=amends,
        amendment_reason=amendment_reason,
        version=amends.version + 1 if amends is not None else 1,
    )
    try:
        with transaction.atomic():
            response.save(force_insert=True)
    except IntegrityError:
        # A concurrent double submit with the same key won the race.
        existing = QuestionnaireResponse.objects.get(submission_key=submission_key)
        if existing.patient_id != patient.pk:
            raise MeasuresError(
                "That submission key belongs to another response."
            ) from None
        return Recorded(existing, list(existing.safety_alerts.all()), created=False)
    record(
        AuditEvent.Action.RESPONSE_RECORDED,
        actor=by,
        patient=patient,
        subject=response,
        instrument=instrument.code,
        total=result.total,
        source=source,
    )
    alerts = []
    if result.safety_alert:
        for flag in result.flags:
            reason = ALERT_REASONS.get(flag)
            if reason is not None:
                alerts.append(
                    raise_safety_alert(
                        patient,
                        reason=reason,
                        response=response,
                        by=by,
                        portal_link=portal_link,
                    )
                )
    _fulfil_due_measure(response)
    return Recorded(response, alerts, created=True)


def _fulfil_due_measure(response: QuestionnaireResponse) -> None:
    open_items = list(
        DueMeasure.objects.select_for_update()
        .filter(
            patient_id=response.patient_id,
            instrument_code=response.instrument_code,
            status=DueMeasure.Status.DUE,
        )
        .order_by("due_at", "id")
    )
    index = schedules.first_open(
        [(item.due_at, item.overdue_at) for item in open_items],
        completed_at=response.completed_at,
    )
    if index is not None:
        item = open_items[index]
        item.status = DueMeasure.Status.COMPLETED
        item.response = response
        item.save(update_fields=["status", "response"])


@transaction.atomic
def amend_response(
    original: QuestionnaireResponse,
    *,
    answers: Mapping[str, object],
    reason: str,
    by: User,
) -> Recorded:
    """A corrected version of a response; the original stays as it was."""
    if not reason.strip():
        raise MeasuresError("Say why the response is amended.", field="reason")
    if QuestionnaireResponse.objects.filter(amends=original).exists():
        raise MeasuresError(
            "This version was already amended; amend the newest version."
        )
    recorded = record_response(
        original.patient,
        instrument_code=original.instrument_code,
        answers=answers,
        source=QuestionnaireResponse.Source.STAFF,
        completed_at=original.completed_at,
        sex=original.sex_for_scoring or None,
        amends=original,
        amendment_reason=reason.strip(),
        by=by,
    )
    amended = recorded.response
    record(
        AuditEvent.Action.RESPONSE_AMENDED,
        actor=by,
        patient=original.patient,
        subject=amended,
        amends=str(original.uuid),
        reason=reason.strip(),
    )
    return recorded


def current_responses(patient: Patient) -> Any:
    """The patient's responses without those an amendment replaced."""
    return QuestionnaireResponse.objects.filter(
        patient=patient, amended_by__isnull=True
    )


# Safety alerts -----------------------------------------------------------------


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


@transaction.atomic
def raise_safety_alert(
    patient: Patient,
    *,
    reason: SafetyAlert.Reason,
    response: QuestionnaireResponse | None = None,
    detail: str = "",
    portal_link: PortalLink | None = None,
    by: User | None = None,
) -> SafetyAlert:
    """Raise (once) and route a safety alert: the prescriber first, else the medical director.

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
        patient.prescriber
        if patient.prescriber and patient.prescriber.is_active
        else None
    )
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
            subject="Safety alert: a patient needs a risk assessment",
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


def safety_alert_blocks_treatment(patient: Patient) -> str | None:
    """Why treatment may not start today because of a safety alert, or None.

    The infusion and TMS checklists call this: a positive item 9 blocks "ready
    to treat" until a clinician documents a risk assessment (Source: C1, M10).
    """
    alerts = open_safety_alerts(patient)
    if not alerts:
        return None
    reasons = ", ".join(sorted({a.get_reason_display() for a in alerts}))
    return f"Unresolved safety alert ({reasons}): a prescriber must document a risk assessment first."


# Portal links and the clinic tablet -------------------------------------------


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def create_portal_link(
    patient: Patient,
    *,
    instrument_codes: Sequence[str],
    channel: PortalLink.Channel,
    lifetime: timedelta = timedelta(hours=PORTAL_LINK_HOURS),
    by: User | None,
) -> tuple[PortalLink, str]:
    """A single-use link; returns it and its token (shown or sent once, stored hashed).

    `by` is None when the reminder job sends it.
    """
    codes = list(dict.fromkeys(instrument_codes))
    unknown = [c for c in codes if c not in INSTRUMENTS]
    if not codes or unknown:
        raise MeasuresError("Choose at least one questionnaire.", field="instruments")
    token = signing.dumps(secrets.token_urlsafe(24), salt=PORTAL_SALT, compress=True)
    link = PortalLink.objects.create(
        organization_id=patient.organization_id,
        patient=patient,
        instrument_codes=codes,
        token_hash=_hash(token),
        channel=channel,
        created_by=by,
        expires_at=timezone.now() + lifetime,
    )
    record(
        AuditEvent.Action.KIOSK_STARTED
        if channel == PortalLink.Channel.KIOSK
        else AuditEvent.Action.PORTAL_LINK_SENT,
        actor=by,
        patient=patient,
        subject=link,
        channel=channel,
        instruments=codes,
    )
    return link, token


def portal_url(token: str) -> str:
    return settings.PUBLIC_BASE_URL.rstrip("/") + reverse(
        "portal_questionnaire", kwargs={"token": token}
    )


def send_portal_link(link: PortalLink, token: str) -> None:
    """Send the link by its channel, after the transaction commits. The message holds no clinical content."""
    patient = link.patient
    clinic = patient.organization.name
    text = f"{clinic}: please answer a short questionnaire before your visit: {portal_url(token)}"
    if link.channel == PortalLink.Channel.EMAIL:
        if not patient.email:
            raise MeasuresError(
                "The patient has no email address on file.", field="channel"
            )
        transaction.on_commit(
            lambda: send_email(patient.email, f"{clinic}: a short questionnaire", text)
        )
    elif link.channel == PortalLink.Channel.SMS:
        if not patient.phone:
            raise MeasuresError(
                "The patient has no phone number on file.", field="channel"
            )
        transaction.on_commit(lambda: send_sms(patient.phone, text))


def open_portal_link(token: str) -> PortalLink:
    """The link behind a token, if it may still be used; else PortalLinkInvalid saying why, and nothing more."""
    try:
        signing.loads(token, salt=PORTAL_SALT)
    except signing.BadSignature:
        raise PortalLinkInvalid(
            "This link is not valid. Check you copied all of it."
        ) from None
    link = (
        PortalLink.objects.select_related("patient", "patient__organization")
        .filter(token_hash=_hash(token))
        .first()
    )
    if link is None:
        raise PortalLinkInvalid("This link is not valid. Check you copied all of it.")
    if link.used_at is not None:
        raise PortalLinkInvalid(
            "This link was already used. Ask the clinic for a new one if you need it."
        )
    if link.expires_at <= timezone.now():
        raise PortalLinkInvalid("This link has expired. Ask the clinic for a new one.")
    return link


def link_progress(link: PortalLink) -> tuple[list[str], list[str]]:
    """(done, to do) instrument codes for this link, in the link's order."""
    done = set(
        QuestionnaireResponse.objects.filter(portal_link=link).values_list(
            "instrument_code", flat=True
        )
    )
    codes: list[str] = list(link.instrument_codes)
    return [c for c in codes if c in done], [c for c in codes if c not in done]


@transaction.atomic
def submit_from_link(
    link: PortalLink,
    *,
    instrument_code: str,
    answers: Mapping[str, object],
    submission_key: UUID | None,
) -> Recorded:
    """A patient's answers through a portal link or the clinic tablet."""
    link = (
        PortalLink.objects.select_for_update().select_related("patient").get(pk=link.pk)
    )
    if not link.is_usable:
        raise PortalLinkInvalid("This link can no longer be used.")
    if instrument_code not in link.instrument_codes:
        raise MeasuresError("That questionnaire is not part of this link.")
    source = (
        QuestionnaireResponse.Source.KIOSK
        if link.channel == PortalLink.Channel.KIOSK
        else QuestionnaireResponse.Source.PORTAL
    )
    recorded = record_response(
        link.patient,
        instrument_code=instrument_code,
        answers=answers,
        source=source,
        by=None,
        sex=_sex_for(link.patient),
        submission_key=submission_key,
        portal_link=link,
    )
    if recorded.alerts:
        link.alert_raised = True
        link.save(update_fields=["alert_raised"])
    _, remaining = link_progress(link)
    if not remaining:
        link.used_at = timezone.now()
        link.save(update_fields=["used_at"])
    return recorded


@transaction.atomic
def record_early_answer(
    link: PortalLink, *, instrument_code: str, link_id: str, value: object
) -> SafetyAlert | None:
    """An answer that on its own means risk (item 9) raises the alert before the form is sent.

    The alert must not depend on the patient finishing the whole form: a patient
    who answers item 9 and then closes the page is still seen (Source: C4, M10). Returns the alert, or None when the answer raises none.
    Raises InvalidResponse for an answer that is not one of the item's options.
    """
    if instrument_code not in link.instrument_codes or not link.is_usable:
        return None
    if not answer_raises_safety_alert(instrument_code, link_id, value):
        return None
    link = (
        PortalLink.objects.select_for_update().select_related("patient").get(pk=link.pk)
    )
    instrument = get_instrument(instrument_code)
    alert = raise_safety_alert(
        link.patient,
        reason=INSTRUMENT_ALERT_REASONS[instrument.code],
        detail=f"Answered while completing the {instrument.name}, before submitting it.",
        portal_link=link,
    )
    if not link.alert_raised:
        link.alert_raised = True
        link.save(update_fields=["alert_raised"])
    return alert


def _sex_for(patient: Patient) -> str | None:
    return patient.sex_at_birth if patient.sex_at_birth in ("male", "female") else None


# Schedules ----------------------------------------------------------------------


def rules_for(organization_id: int) -> list[schedules.Rule]:
    """The clinic's rules, or the cited defaults when it has set none."""
    rows = MeasurementRule.objects.filter(
        organization_id=organization_id, is_active=True
    )
    if not MeasurementRule.objects.filter(organization_id=organization_id).exists():
        return list(schedules.DEFAULT_RULES)
    return [
        schedules.Rule(
            instrument_code=r.instrument_code,
            trigger=schedules.Trigger(r.trigger),
            offset_hours=r.offset_hours,
            repeat_count=r.repeat_count,
            repeat_every_days=r.repeat_every_days,
            window_hours=r.window_hours,
        )
        for r in rows
    ]


@transaction.atomic
def schedule_measures(
    patient: Patient,
    *,
    trigger: schedules.Trigger,
    event_at: datetime,
    event_ref: str,
    by: User | None = None,
) -> list[DueMeasure]:
    """Make the due questionnaires for a treatment event. Calling twice makes them once."""
    made = []
    for item in schedules.due_items(
        rules_for(patient.organization_id), trigger=trigger, event_at=event_at
    ):
        due, created = DueMeasure.objects.get_or_create(
            patient=patient,
            instrument_code=item.instrument_code,
            trigger=str(trigger),
            event_ref=event_ref,
            due_at=item.due_at,
            defaults={
                "organization_id": patient.organization_id,
                "overdue_at": item.overdue_at,
            },
        )
        if created:
            made.append(due)
    if made:
        record(
            AuditEvent.Action.MEASURES_SCHEDULED,
            actor=by,
            patient=patient,
            trigger=str(trigger),
            event_ref=event_ref,
            count=len(made),
        )
    return made


def send_due_reminders(*, now: datetime | None = None) -> int:
    """Send each patient one link for what is due now and not yet reminded (run hourly).

    A second reminder goes out when an item is still open a day after the first.
    Safe with several workers: each patient's items are locked and looked at again
    inside the transaction that sends, so a second runner finds them reminded.
    """
    now = now or timezone.now()

    def unreminded() -> QuerySet[DueMeasure]:
        return (
            DueMeasure.objects.filter(status=DueMeasure.Status.DUE, due_at__lte=now)
            .exclude(last_reminded_at__gt=now - timedelta(hours=24))
            .filter(reminders_sent__lt=2)
        )

    pending = unreminded().select_related("patient")
    by_patient: dict[int, list[DueMeasure]] = {}
    for item in pending:
        by_patient.setdefault(item.patient_id, []).append(item)
    sent = 0
    for items in by_patient.values():
        patient = items[0].patient
        channel = (
            PortalLink.Channel.EMAIL
            if patient.email
            else PortalLink.Channel.SMS
            if patient.phone
            else None
        )
        if channel is None:
            continue
        with transaction.atomic():
            items = list(
                unreminded()
                .select_for_update()
                .filter(pk__in=[i.pk for i in items])
                .order_by("pk")
            )
            if not items:
                continue  # another runner reminded them since we looked
            link, token = create_portal_link(
                patient,
                instrument_codes=[i.instrument_code for i in items],
                channel=channel,
                by=None,
            )
            send_portal_link(link, token)
            for item in items:
                item.reminders_sent += 1
                item.last_reminded_at = now
                item.save(update_fields=["reminders_sent", "last_reminded_at"])
        sent += 1
    return sent


def worklist(
    organization_id: int, *, now: datetime | None = None
) -> Iterable[DueMeasure]:
    """What is due or overdue by the end of today in the clinic's time zone, oldest first."""
    now = now or timezone.now()
    zone_name = (
        Location.objects.filter(organization_id=organization_id, is_active=True)
        .order_by("id")
        .values_list("time_zone", flat=True)
        .first()
    ) or "UTC"
    local = now.astimezone(ZoneInfo(zone_name))
    end_of_day = local.replace(hour=23, minute=59, second=59, microsecond=999999)
    return (
        DueMeasure.objects.filter(
            organization_id=organization_id,
            status=DueMeasure.Status.DUE,
            due_at__lte=end_of_day,
        )
        .select_related("patient")
        .order_by("due_at", "id")
    )


@transaction.atomic
def record_api_read(patient: Patient, *, by: User, what: str) -> None:
    record(
        AuditEvent.Action.TRAJECTORY_VIEWED,
        actor=by,
        patient=patient,
        subject=patient,
        via="api",
        what=what,
    )


# Clinic configuration (medical director) ------------------------------------


@transaction.atomic
def save_item_wording(
    organization_id: int,
    *,
    instrument_code: str,
    texts: Mapping[str, str],
    by: User,
) -> int:
    """Store the clinic's licensed wording for an instrument's items; a blank text removes it.

    Returns how many items now have the clinic's own wording.
    """
    instrument = get_instrument(instrument_code)
    if instrument.wording_redistributable:
        raise MeasuresError(f"{instrument.name} ships with its published wording.")
    known = {item.link_id for item in instrument.items}
    unknown = sorted(set(texts) - known)
    if unknown:
        raise MeasuresError(
            f"{unknown[0]!r} is not an item of {instrument.name}.", field=unknown[0]
        )
    changed = []
    for link_id, raw in texts.items():
        text = raw.strip()
        existing = InstrumentWording.objects.filter(
            organization_id=organization_id,
            instrument_code=instrument.code,
            link_id=link_id,
        ).first()
        if not text:
            if existing is not None:
                existing.delete()
                changed.append(link_id)
        elif existing is None:
            InstrumentWording.objects.create(
                organization_id=organization_id,
                instrument_code=instrument.code,
                link_id=link_id,
                text=text,
                updated_by=by,
            )
            changed.append(link_id)
        elif existing.text != text:
            existing.text = text
            existing.updated_by = by
            existing.save(update_fields=["text", "updated_by", "updated_at"])
            changed.append(link_id)
    if changed:
        record(
            AuditEvent.Action.MEASURES_CONFIGURED,
            actor=by,
            what="item_wording",
            instrument=instrument.code,
            items=changed,
        )
    return InstrumentWording.objects.filter(
        organization_id=organization_id, instrument_code=instrument.code
    ).count()


@transaction.atomic
def add_measurement_rule(
    organization_id: int,
    *,
    instrument_code: str,
    trigger: str,
    offset_hours: int,
    repeat_count: int,
    repeat_every_days: int,
    window_hours: int,
    by: User,
) -> MeasurementRule:
    """Add a schedule rule. A clinic's first rule starts from the cited defaults, so they are kept."""
    if instrument_code not in INSTRUMENTS:
        raise MeasuresError("Choose a questionnaire.", field="instrument_code")
    if trigger not in MeasurementRule.Trigger.values:
        raise MeasuresError("Choose when it falls due.", field="trigger")
    if repeat_count < 1 or (repeat_count > 1 and repeat_every_days < 1):
        raise MeasuresError(
            "A repeating rule needs days between repeats.", field="repeat_every_days"
        )
    if not MeasurementRule.objects.filter(organization_id=organization_id).exists():
        for default in schedules.DEFAULT_RULES:
            MeasurementRule.objects.create(
                organization_id=organization_id,
                instrument_code=default.instrument_code,
                trigger=str(default.trigger),
                offset_hours=default.offset_hours,
                repeat_count=default.repeat_count,
                repeat_every_days=default.repeat_every_days,
                window_hours=default.window_hours,
            )
    rule = MeasurementRule.objects.create(
        organization_id=organization_id,
        instrument_code=instrument_code,
        trigger=trigger,
        offset_hours=offset_hours,
        repeat_count=repeat_count,
        repeat_every_days=repeat_every_days,
        window_hours=window_hours,
    )
    record(
        AuditEvent.Action.MEASURES_CONFIGURED,
        actor=by,
        what="rule_added",
        instrument=instrument_code,
        trigger=trigger,
        offset_hours=offset_hours,
        repeat_count=repeat_count,
    )
    return rule


@transaction.atomic
def set_rule_active(rule: MeasurementRule, *, active: bool, by: User) -> None:
    if rule.is_active == active:
        return
    rule.is_active = active
    rule.save(update_fields=["is_active"])
    record(
        AuditEvent.Action.MEASURES_CONFIGURED,
        actor=by,
        what="rule_active" if active else "rule_inactive",
        rule=rule.pk,
    )
