"""What happens at the bedside besides the pump: adverse events, as-needed medications
from the order, sedation (MOAA/S) and dissociation (CADSS-6) scores.

Each action runs in one transaction with its audit event; a tablet's resend (the same
`client_key`) returns the row it already charted.
"""

import uuid
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal

from django.db import transaction

from neuroclinic.accounts.models import User
from neuroclinic.audit.models import AuditEvent
from neuroclinic.audit.record import record
from neuroclinic.infusions import recovery
from neuroclinic.infusions.actions.common import (
    ZERO,
    already_sent,
    lock_session,
    require_open,
    when,
)
from neuroclinic.infusions.errors import InfusionError
from neuroclinic.infusions.models import (
    AdverseEvent,
    InfusionSession,
    PrnGiven,
    SedationScore,
    SessionQuestionnaire,
    VitalReading,
)
from neuroclinic.measures.actions.responses import record_response
from neuroclinic.measures.instruments import InvalidResponse
from neuroclinic.measures.models import QuestionnaireResponse
from neuroclinic.treatment.models import PrnOrder


@transaction.atomic
def record_adverse_event(
    session: InfusionSession,
    *,
    kind: str,
    severity: str,
    onset_at: datetime | None = None,
    description: str = "",
    intervention: str = "",
    client_key: uuid.UUID | None = None,
    now: datetime | None = None,
    by: User,
) -> AdverseEvent:
    session = lock_session(session)
    existing = already_sent(AdverseEvent, session, client_key)
    if existing is not None:
        return existing
    require_open(session, doing="record an adverse event")
    errors: dict[str, list[str]] = {}
    if kind not in AdverseEvent.Kind.values:
        errors["kind"] = ["Choose what happened."]
    if severity not in AdverseEvent.Severity.values:
        errors["severity"] = ["Choose how severe it is."]
    if kind == AdverseEvent.Kind.OTHER and not description.strip():
        errors["description"] = ["Describe it."]
    if errors:
        raise InfusionError(next(iter(errors.values()))[0], errors=errors)
    at = when(session, onset_at, field="onset_at", now=now)
    event = AdverseEvent.objects.create(
        session=session,
        kind=kind,
        severity=severity,
        onset_at=at,
        description=description.strip()[:500],
        intervention=intervention.strip()[:500],
        recorded_by=by,
        client_key=client_key,
    )
    record(
        AuditEvent.Action.INFUSION_ADVERSE_EVENT,
        actor=by,
        patient=session.patient,
        subject=event,
        kind=kind,
        severity=severity,
    )
    return event


@transaction.atomic
def give_prn(
    session: InfusionSession,
    *,
    prn_order: PrnOrder,
    dose: Decimal | None = None,
    route: str = "",
    given_at: datetime | None = None,
    adverse_event: AdverseEvent | None = None,
    note: str = "",
    client_key: uuid.UUID | None = None,
    now: datetime | None = None,
    by: User,
) -> PrnGiven:
    """An as-needed medication from the order: at most the ordered dose, by the ordered route."""
    session = lock_session(session)
    existing = already_sent(PrnGiven, session, client_key)
    if existing is not None:
        return existing
    require_open(session, doing="give a medication")
    if prn_order.order_id != session.order_id:
        raise InfusionError(
            "That medication is not on this infusion's order.", field="prn_order"
        )
    amount = prn_order.dose if dose is None else dose
    if not ZERO < amount <= prn_order.dose:
        raise InfusionError(
            f"The order is for {prn_order.dose_text}: give at most that.", field="dose"
        )
    if (route or prn_order.route) != prn_order.route:
        raise InfusionError(
            f"The order says {prn_order.get_route_display()}.", field="route"
        )
    count = PrnGiven.objects.filter(session=session, prn_order=prn_order).count()
    if count >= prn_order.max_doses_per_session:
        raise InfusionError(
            f"{prn_order.drug} may be given {prn_order.max_doses_per_session} time(s) per "
            "infusion under this order: ask the prescriber.",
            field="prn_order",
        )
    if adverse_event is not None and adverse_event.session_id != session.pk:
        raise InfusionError(
            "That event belongs to another infusion.", field="adverse_event"
        )
    at = when(session, given_at, field="given_at", now=now)
    given = PrnGiven.objects.create(
        session=session,
        prn_order=prn_order,
        adverse_event=adverse_event,
        drug=prn_order.drug,
        dose=amount,
        unit=prn_order.unit,
        route=prn_order.route,
        given_at=at,
        given_by=by,
        note=note.strip()[:300],
        client_key=client_key,
    )
    record(
        AuditEvent.Action.INFUSION_PRN_GIVEN,
        actor=by,
        patient=session.patient,
        subject=given,
        drug=given.drug,
        dose=f"{amount.normalize():f} {given.unit}",
        route=given.route,
    )
    return given


def _phase_now(session: InfusionSession) -> VitalReading.Phase:
    if session.started_at is None:
        return VitalReading.Phase.BASELINE
    if session.ended_at is None:
        return VitalReading.Phase.INFUSION
    return VitalReading.Phase.RECOVERY


@transaction.atomic
def record_sedation(
    session: InfusionSession,
    *,
    score: int,
    assessed_at: datetime | None = None,
    client_key: uuid.UUID | None = None,
    now: datetime | None = None,
    by: User,
) -> SedationScore:
    session = lock_session(session)
    existing = already_sent(SedationScore, session, client_key)
    if existing is not None:
        return existing
    require_open(session, doing="score sedation")
    try:
        recovery.moaas_label(score)
    except recovery.RecoveryInputError:
        raise InfusionError("MOAA/S is 0-5.", field="score") from None
    at = when(session, assessed_at, field="assessed_at", now=now)
    row = SedationScore.objects.create(
        session=session,
        score=score,
        assessed_at=at,
        phase=_phase_now(session),
        assessed_by=by,
        client_key=client_key,
    )
    record(
        AuditEvent.Action.INFUSION_SEDATION_SCORED,
        actor=by,
        patient=session.patient,
        subject=session,
        score=score,
    )
    return row


@transaction.atomic
def record_cadss6(
    session: InfusionSession,
    *,
    answers: Mapping[str, object],
    submission_key: uuid.UUID | None = None,
    now: datetime | None = None,
    by: User,
) -> SessionQuestionnaire:
    """CADSS-6 during or after the infusion, stored and scored by measures."""
    session = lock_session(session)
    require_open(session, doing="record CADSS-6")
    try:
        recorded = record_response(
            session.patient,
            instrument_code="cadss6",
            answers=answers,
            source=QuestionnaireResponse.Source.STAFF,
            by=by,
            submission_key=submission_key,
            completed_at=now,
        )
    except InvalidResponse as exc:
        errors: dict[str, list[str]] = {}
        for error in exc.errors:
            errors.setdefault(error.link_id or "answers", []).append(error.message)
        raise InfusionError("Answer every CADSS-6 item (0-4).", errors=errors) from None
    if recorded.created:
        # A response written just now, in this transaction: nothing links it yet.
        link = SessionQuestionnaire.objects.create(
            response=recorded.response, session=session, phase=_phase_now(session)
        )
    else:  # a resend of the same submission_key: the link it made, or a new one
        link, _ = SessionQuestionnaire.objects.get_or_create(
            response=recorded.response,
            defaults={"session": session, "phase": _phase_now(session)},
        )
    record(
        AuditEvent.Action.INFUSION_CADSS_RECORDED,
        actor=by,
        patient=session.patient,
        subject=session,
        total=recorded.response.total,
    )
    return link
