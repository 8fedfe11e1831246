"""Treatment plans: created for an eligible, consented patient under the clinic's active
protocols, ended with a reason; the infusions given counted against them (phases)."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone

from neuroclinic.accounts.models import User
from neuroclinic.audit.models import AuditEvent
from neuroclinic.audit.record import record
from neuroclinic.clinics.time_zone import clinic_zone_name
from neuroclinic.intake.checks import (
    consent_blocks_treatment,
    eligibility_blocks_treatment,
)
from neuroclinic.lib.compiled import CompiledGet, CompiledObjects
from neuroclinic.patients.models import Patient
from neuroclinic.treatment import phases
from neuroclinic.treatment.defaults import (
    ProtocolKind,
)
from neuroclinic.treatment.errors import TreatmentError
from neuroclinic.treatment.models import (
    InfusionOrder,
    Protocol,
    TreatmentPlan,
)


def eligibility_block(patient: Patient) -> str | None:
    """Why a signed eligibility decision does not allow treatment, or None (intake, issue #4)."""
    return eligibility_blocks_treatment(patient)


def consent_block(patient: Patient) -> str | None:
    """Why the patient's ketamine consents are not current, or None (intake, issue #4)."""
    return consent_blocks_treatment(patient, treatment="ketamine")


def intake_blocks(patient: Patient) -> list[str]:
    """Why the patient may not be treated with ketamine yet (eligibility, consent), or []."""
    return [
        reason
        for reason in (eligibility_block(patient), consent_block(patient))
        if reason is not None
    ]


def clinic_today(organization_id: int, *, now: datetime | None = None) -> date:
    """Today's date in the clinic's time zone (its first active location's)."""
    zone = clinic_zone_name(organization_id) or "UTC"
    return (now or timezone.now()).astimezone(ZoneInfo(zone)).date()


@transaction.atomic
def create_plan(
    patient: Patient,
    *,
    induction_protocol: Protocol,
    booster_protocol: Protocol | None,
    indication: str,
    by: User,
    now: datetime | None = None,
) -> TreatmentPlan:
    """A plan for an eligible, consented patient, under the clinic's active protocols."""
    blocks = intake_blocks(patient)
    if blocks:
        raise TreatmentError(" ".join(blocks))
    for field, protocol, kind in (
        ("induction_protocol", induction_protocol, ProtocolKind.INDUCTION),
        ("booster_protocol", booster_protocol, ProtocolKind.BOOSTER),
    ):
        if protocol is None:
            continue
        if (
            protocol.organization_id != patient.organization_id
            or protocol.kind != kind
            or protocol.status != Protocol.Status.ACTIVE
        ):
            raise TreatmentError(
                f"Choose an active, signed {kind} protocol.", field=field
            )
    if not indication.strip():
        raise TreatmentError("Say what the plan treats.", field="indication")
    if TreatmentPlan.objects.filter(
        patient=patient, status=TreatmentPlan.Status.ACTIVE
    ).exists():
        raise TreatmentError("The patient already has an active plan: end it first.")
    plan = TreatmentPlan.objects.create(
        organization_id=patient.organization_id,
        patient=patient,
        induction_protocol=induction_protocol,
        booster_protocol=booster_protocol,
        indication=indication.strip(),
        created_by=by,
        created_at=now or timezone.now(),
    )
    record(
        AuditEvent.Action.PLAN_CREATED,
        actor=by,
        patient=patient,
        subject=plan,
        induction_protocol=str(induction_protocol),
        booster_protocol=str(booster_protocol) if booster_protocol else None,
    )
    return plan


@transaction.atomic
def end_plan(plan: TreatmentPlan, *, reason: str, by: User) -> TreatmentPlan:
    if not reason.strip():
        raise TreatmentError("Say why the plan ends.", field="reason")
    plan = TreatmentPlan.objects.select_for_update().get(pk=plan.pk)
    if plan.status != TreatmentPlan.Status.ACTIVE:
        raise TreatmentError("The plan has already ended.")
    now = timezone.now()
    for order in plan.orders.select_for_update().filter(
        status=InfusionOrder.Status.ACTIVE
    ):
        order.status = InfusionOrder.Status.DISCONTINUED
        order.ended_by, order.ended_at, order.end_reason = by, now, "Plan ended"
        order.save(update_fields=["status", "ended_by", "ended_at", "end_reason"])
    plan.status = TreatmentPlan.Status.ENDED
    plan.ended_by, plan.ended_at, plan.end_reason = by, now, reason.strip()
    plan.save(update_fields=["status", "ended_by", "ended_at", "end_reason"])
    record(
        AuditEvent.Action.PLAN_ENDED,
        actor=by,
        patient=plan.patient,
        subject=plan,
        reason=reason.strip(),
    )
    return plan


def plan_status(plan: TreatmentPlan, *, today: date | None = None) -> phases.PlanStatus:
    protocol = plan.induction_protocol
    return phases.plan_status(
        induction_target=protocol.infusion_count,
        induction_dates=[date.fromisoformat(d) for d in plan.induction_dates],
        today=today or clinic_today(plan.organization_id),
        follow_up_start_days=protocol.follow_up_window_start_days,
        follow_up_end_days=protocol.follow_up_window_end_days,
        series_window_days=protocol.series_window_days,
        ended=plan.status == TreatmentPlan.Status.ENDED,
    )


# Compiled once per connection (lib.compiled): every check-in reads it, and its two
# protocols made compiling it cost more than running it (issue 18, item 10).
_active_plan = CompiledObjects(
    lambda patient_id: TreatmentPlan.objects.filter(
        patient_id=patient_id, status=TreatmentPlan.Status.ACTIVE
    ).select_related("induction_protocol", "booster_protocol")[:1]  # as first()
)


def active_plan(patient: Patient) -> TreatmentPlan | None:
    return _active_plan.first(patient.pk)


# The plan and order rows an infusion is counted on, locked; compiled once per
# connection (lib.compiled), as the session locks are.
_locked_plan = CompiledGet(lambda: TreatmentPlan.objects.select_for_update())
_locked_order = CompiledGet(lambda: InfusionOrder.objects.select_for_update())


def record_infusion_given(
    order: InfusionOrder, *, ended_at: datetime, on: date
) -> bool:
    """Count an infusion that was given (also when stopped early) against its plan.

    Call from inside the infusion action's transaction. Returns True when this
    infusion completes the induction series.
    """
    plan = _locked_plan(order.plan_id)
    order = _locked_order(order.pk)
    completes_series = False
    if order.kind == InfusionOrder.Kind.INDUCTION:
        plan.induction_dates = [*plan.induction_dates, on.isoformat()]
        target = plan.induction_protocol.infusion_count
        if len(plan.induction_dates) >= target and plan.induction_completed_at is None:
            plan.induction_completed_at = ended_at
            completes_series = True
        if (
            len(plan.induction_dates) >= target
            and order.status == InfusionOrder.Status.ACTIVE
        ):
            order.status = InfusionOrder.Status.COMPLETED
            order.ended_at = ended_at
            order.end_reason = "All infusions of the series given"
            order.save(update_fields=["status", "ended_at", "end_reason"])
    else:
        plan.booster_count += 1
    order.given_count += 1
    order.save(update_fields=["given_count"])
    if (
        order.kind == InfusionOrder.Kind.BOOSTER
        and order.given_count >= order.infusion_count
        and order.status == InfusionOrder.Status.ACTIVE
    ):
        order.status = InfusionOrder.Status.COMPLETED
        order.ended_at = ended_at
        order.end_reason = "Booster given"
        order.save(update_fields=["status", "ended_at", "end_reason"])
    plan.last_infusion_at = ended_at
    plan.save(
        update_fields=[
            "induction_dates",
            "booster_count",
            "last_infusion_at",
            "induction_completed_at",
        ]
    )
    return completes_series
