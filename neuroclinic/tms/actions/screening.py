"""The pre-course safety screen (Source: T6, T9 (docs/sources.md)) and the prescriber's decision."""

from collections.abc import Mapping
from datetime import datetime

from django.db import transaction

from neuroclinic.accounts.models import User
from neuroclinic.audit.models import AuditEvent
from neuroclinic.audit.record import record
from neuroclinic.patients.models import Patient
from neuroclinic.tms import screening
from neuroclinic.tms.actions.common import now_or
from neuroclinic.tms.errors import TmsError
from neuroclinic.tms.models import SafetyScreen, ScreenDecision


@transaction.atomic
def record_screen(
    patient: Patient,
    *,
    answers: Mapping[str, object],
    now: datetime | None = None,
    by: User,
) -> SafetyScreen:
    try:
        result = screening.evaluate_screen(answers)
    except screening.ScreenInputError as exc:
        raise TmsError("Answer every screening question.", errors=exc.errors) from None
    screen = SafetyScreen.objects.create(
        organization_id=patient.organization_id,
        patient=patient,
        answers=dict(answers),
        outcome=result.outcome.value,
        exclusions=list(result.exclusions),
        cautions=list(result.cautions),
        screened_by=by,
        screened_at=now_or(now),
    )
    record(
        AuditEvent.Action.TMS_SCREEN_RECORDED,
        actor=by,
        patient=patient,
        subject=screen,
        outcome_of_screen=result.outcome.value,
    )
    return screen


@transaction.atomic
def decide_screen(
    screen: SafetyScreen,
    *,
    cleared: bool,
    rationale: str,
    now: datetime | None = None,
    by: User,
) -> ScreenDecision:
    """The prescriber's risk-benefit decision on a screen with cautions (T6)."""
    screen = SafetyScreen.objects.select_for_update().get(pk=screen.pk)
    if screen.outcome == screening.Outcome.CLEAR:
        raise TmsError("This screen is clear: there is nothing to decide.")
    if screen.outcome == screening.Outcome.EXCLUDED and cleared:
        raise TmsError(
            "A device contraindication excludes TMS: it cannot be cleared here.",
            field="cleared",
        )
    if ScreenDecision.objects.filter(screen=screen).exists():
        raise TmsError("This screen is already decided: record a new screen instead.")
    if not rationale.strip():
        raise TmsError("Give the reasons for the decision.", field="rationale")
    decision = ScreenDecision.objects.create(
        screen=screen,
        cleared=cleared,
        rationale=rationale.strip()[:2000],
        decided_by=by,
        decided_at=now_or(now),
    )
    record(
        AuditEvent.Action.TMS_SCREEN_DECIDED,
        actor=by,
        patient=screen.patient,
        subject=screen,
        cleared=cleared,
    )
    return decision
