"""Recovery (modified Aldrete, MOAA/S) and discharge against the protocol's criteria,
to a named escort, with the instructions given.

The rules are the pure `infusions.recovery` module (docs/clinical/recovery.md); a named
nurse still assesses and discharges. Each action runs in one transaction with its audit
event.
"""

import uuid
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from neuroclinic.accounts.models import User
from neuroclinic.audit.models import AuditEvent
from neuroclinic.audit.record import record
from neuroclinic.infusions import recovery
from neuroclinic.infusions.actions.common import (
    SessionRows,
    already_sent,
    lock_session,
    require_status,
    timeline_event,
)
from neuroclinic.infusions.errors import InfusionError
from neuroclinic.infusions.models import (
    InfusionSession,
    RecoveryAssessment,
    SedationScore,
    SessionAlarm,
    SessionEvent,
    VitalReading,
)
from neuroclinic.lib.compiled import CompiledRows
from neuroclinic.lib.messaging import send_email, send_sms


def minutes_since_end(session: InfusionSession, *, now: datetime | None = None) -> int:
    if session.ended_at is None:
        return 0
    return max(
        0, int(((now or timezone.now()) - session.ended_at).total_seconds() // 60)
    )


# The newest assessment and sedation score, and one unacknowledged alarm, compiled
# once per connection (lib.compiled): each recovery step and discharge reads them.
_LATEST_ASSESSMENT = SessionRows(
    lambda session_id: RecoveryAssessment.objects.filter(
        session_id=session_id
    ).order_by("-assessed_at", "-id")[:1]
)
_LATEST_SEDATION = SessionRows(
    lambda session_id: SedationScore.objects.filter(session_id=session_id).order_by(
        "-assessed_at", "-id"
    )[:1]
)
_UNACKNOWLEDGED_ALARM = CompiledRows(
    lambda session_id: (
        SessionAlarm.objects.filter(session_id=session_id, acknowledged_at__isnull=True)
        .order_by()
        .values_list("id")[:1]
    )
)


def latest_assessment(session: InfusionSession) -> RecoveryAssessment | None:
    return _LATEST_ASSESSMENT.first(session)


def unacknowledged_alarms(session: InfusionSession) -> bool:
    """Whether an alarm of the session waits for a nurse's acknowledgment."""
    return bool(_UNACKNOWLEDGED_ALARM.rows(session.pk))


def readiness(
    session: InfusionSession,
    *,
    escort_confirmed: bool | None = None,
    now: datetime | None = None,
) -> recovery.Readiness | None:
    assessment = latest_assessment(session)
    if assessment is None:
        return None
    protocol = session.order.protocol
    latest_sedation = _LATEST_SEDATION.first(session)
    moaas = assessment.moaas_score
    if (
        latest_sedation is not None
        and latest_sedation.assessed_at > assessment.assessed_at
    ):
        moaas = latest_sedation.score
    return recovery.discharge_readiness(
        aldrete_total=assessment.total,
        minutes_since_infusion_end=minutes_since_end(session, now=now),
        min_recovery_minutes=protocol.min_recovery_minutes,
        escort_confirmed=session.escort_confirmed
        if escort_confirmed is None
        else escort_confirmed,
        moaas_score=moaas,
        min_aldrete_total=protocol.min_aldrete_total,
        min_moaas_score=protocol.min_moaas_score,
    )


def suggested_aldrete(session: InfusionSession) -> dict[str, int]:
    """Circulation and SpO2 items from the latest vitals against the baseline (room air assumed)."""
    latest = session.vitals.order_by("-taken_at", "-id").first()
    baseline = (
        session.vitals.filter(phase=VitalReading.Phase.BASELINE)
        .order_by("-taken_at")
        .first()
    )
    found: dict[str, int] = {}
    if latest is not None and baseline is not None:
        found["circulation"] = recovery.aldrete_circulation_points(
            systolic_mmhg=latest.systolic_mmhg,
            baseline_systolic_mmhg=baseline.systolic_mmhg,
        )
    if latest is not None:
        found["spo2"] = recovery.aldrete_spo2_points(
            spo2_percent=latest.spo2_percent, on_supplemental_oxygen=False
        )
    return found


@transaction.atomic
def assess_recovery(
    session: InfusionSession,
    *,
    activity: int,
    respiration: int,
    circulation: int,
    consciousness: int,
    spo2: int,
    moaas_score: int | None = None,
    client_key: uuid.UUID | None = None,
    now: datetime | None = None,
    by: User,
) -> RecoveryAssessment:
    session = lock_session(session)
    existing = already_sent(RecoveryAssessment, session, client_key)
    if existing is not None:
        return existing
    require_status(session, InfusionSession.Status.RECOVERY, doing="assess recovery")
    try:
        score = recovery.score_aldrete(
            activity=activity,
            respiration=respiration,
            circulation=circulation,
            consciousness=consciousness,
            spo2=spo2,
        )
        if moaas_score is not None:
            recovery.moaas_label(moaas_score)
    except recovery.RecoveryInputError as exc:
        raise InfusionError(exc.message, field=exc.field) from None
    now = now or timezone.now()
    protocol = session.order.protocol
    ready = recovery.discharge_readiness(
        aldrete_total=score.total,
        minutes_since_infusion_end=minutes_since_end(session, now=now),
        min_recovery_minutes=protocol.min_recovery_minutes,
        escort_confirmed=session.escort_confirmed,
        moaas_score=moaas_score,
        min_aldrete_total=protocol.min_aldrete_total,
        min_moaas_score=protocol.min_moaas_score,
    )
    row = RecoveryAssessment.objects.create(
        session=session,
        assessed_at=now,
        assessed_by=by,
        activity=activity,
        respiration=respiration,
        circulation=circulation,
        consciousness=consciousness,
        spo2=spo2,
        total=score.total,
        moaas_score=moaas_score,
        ready=ready.ready,
        unmet=list(ready.unmet),
        client_key=client_key,
    )
    if moaas_score is not None:
        SedationScore.objects.create(
            session=session,
            score=moaas_score,
            assessed_at=now,
            phase=VitalReading.Phase.RECOVERY,
            assessed_by=by,
        )
    record(
        AuditEvent.Action.INFUSION_RECOVERY_ASSESSED,
        actor=by,
        patient=session.patient,
        subject=session,
        aldrete_total=score.total,
        moaas=moaas_score,
        ready=ready.ready,
    )
    return row


INSTRUCTION_CHANNELS = ("paper", "email", "sms")


def discharge_instructions(session: InfusionSession) -> list[str]:
    """What the patient takes home (K20 [V], K22 [P]); the clinic's phone last."""
    phone = session.location.phone or session.organization.phone
    return [
        "Do not drive or operate machinery until tomorrow, after a night's sleep.",
        "A responsible adult should stay with you for the rest of today.",
        "No alcohol or cannabis for 24 hours; avoid opioids and sleeping pills for 4 hours "
        "unless your prescriber said otherwise.",
        "Do not make important decisions today.",
        "Nausea, headache or feeling 'floaty' usually pass within a few hours.",
        f"Questions or worries: call the clinic at {phone or 'the number on your appointment card'}. "
        "In an emergency call 911. If you have thoughts of harming yourself, call or text 988.",
        "You will get a short questionnaire (PHQ-9) to answer about 24 hours from now.",
    ]


@transaction.atomic
def discharge(
    session: InfusionSession,
    *,
    escort_name: str,
    instructions_channel: str,
    now: datetime | None = None,
    by: User,
) -> InfusionSession:
    """Discharge against the protocol's criteria, to a named escort, with instructions given."""
    session = lock_session(session)
    require_status(session, InfusionSession.Status.RECOVERY, doing="discharge")
    errors: dict[str, list[str]] = {}
    if not escort_name.strip():
        errors["escort_name"] = ["Name the adult who is taking the patient home (K11)."]
    if instructions_channel not in INSTRUCTION_CHANNELS:
        errors["instructions_channel"] = [
            "Choose how the discharge instructions were given."
        ]
    patient = session.patient
    if instructions_channel == "email" and not patient.email:
        errors["instructions_channel"] = ["There is no email address for this patient."]
    if instructions_channel == "sms" and not patient.phone:
        errors["instructions_channel"] = ["There is no phone number for this patient."]
    if errors:
        raise InfusionError(next(iter(errors.values()))[0], errors=errors)
    now = now or timezone.now()
    ready = readiness(session, escort_confirmed=True, now=now)
    if ready is None:
        raise InfusionError(
            "Assess recovery (modified Aldrete) first.", field="recovery"
        )
    if not ready.ready:
        raise InfusionError(
            "Not ready for discharge: " + " ".join(ready.unmet), field="recovery"
        )
    if unacknowledged_alarms(session):
        raise InfusionError("Acknowledge every alarm first.", field="alarms")
    session.status = InfusionSession.Status.DISCHARGED
    session.discharged_at, session.discharged_by = now, by
    session.discharge_escort_name = escort_name.strip()[:200]
    session.instructions_channel = instructions_channel
    session.instructions_given_at = now
    session.save(
        update_fields=[
            "status",
            "discharged_at",
            "discharged_by",
            "discharge_escort_name",
            "instructions_channel",
            "instructions_given_at",
        ]
    )
    timeline_event(
        session,
        SessionEvent.Kind.DISCHARGED,
        at=now,
        data={"escort": session.discharge_escort_name},
        by=by,
    )
    timeline_event(
        session,
        SessionEvent.Kind.INSTRUCTIONS,
        at=now,
        data={"channel": instructions_channel},
        by=by,
    )
    if instructions_channel in ("email", "sms"):
        text = "\n".join(f"- {line}" for line in discharge_instructions(session))
        subject = f"Your aftercare instructions from {session.organization.name}"
        if instructions_channel == "email":
            email = patient.email
            transaction.on_commit(lambda: send_email(email, subject, text))
        else:
            phone = patient.phone
            transaction.on_commit(lambda: send_sms(phone, f"{subject}:\n{text}"))
    record(
        AuditEvent.Action.INFUSION_DISCHARGED,
        actor=by,
        patient=patient,
        subject=session,
        escort=session.discharge_escort_name,
        minutes_after_end=minutes_since_end(session, now=now),
    )
    record(
        AuditEvent.Action.INFUSION_INSTRUCTIONS_GIVEN,
        actor=by,
        patient=patient,
        subject=session,
        channel=instructions_channel,
    )
    return session
