"""Questionnaire responses: record one (scoring it and raising its alerts), amend one, read the current ones."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from django.db import IntegrityError, transaction
from django.utils import timezone

from neuroclinic.accounts.models import User
from neuroclinic.audit.models import AuditEvent
from neuroclinic.audit.record import record
from neuroclinic.measures import schedules
from neuroclinic.measures.actions.alerts import raise_safety_alert
from neuroclinic.measures.actions.common import ALERT_REASONS, MeasuresError
from neuroclinic.measures.instruments import (
    get_instrument,
    score,
)
from neuroclinic.measures.models import (
    DueMeasure,
    PortalLink,
    QuestionnaireResponse,
    SafetyAlert,
)
from neuroclinic.patients.models import Patient


@dataclass(frozen=True)
class Recorded:
    response: QuestionnaireResponse
    alerts: list[SafetyAlert]
    created: bool


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
