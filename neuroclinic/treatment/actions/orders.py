"""Signed ketamine orders on a plan: within the protocol's limits, never edited (a dose
change is a new order that supersedes the old), discontinued with a reason."""

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from neuroclinic.accounts.models import User
from neuroclinic.accounts.roles import Role
from neuroclinic.audit.models import AuditEvent
from neuroclinic.audit.record import record
from neuroclinic.audit.seals import seal_objects
from neuroclinic.lib import dosing
from neuroclinic.lib.compiled import CompiledObjects
from neuroclinic.treatment import phases
from neuroclinic.treatment.actions.plans import intake_blocks, plan_status
from neuroclinic.treatment.actions.signatures import confirm_signature, content_hash
from neuroclinic.treatment.defaults import (
    ProtocolKind,
)
from neuroclinic.treatment.errors import TreatmentError
from neuroclinic.treatment.models import (
    InfusionOrder,
    PrnOrder,
    Protocol,
    TreatmentPlan,
)


@dataclass(frozen=True)
class PrnInput:
    drug: str
    dose: Decimal
    unit: str
    route: str
    indication: str
    max_doses_per_session: int = 1


def order_content(order: InfusionOrder, prn: Sequence[PrnInput]) -> dict[str, Any]:
    return {
        "patient": str(order.patient.uuid),
        "plan": str(order.plan.uuid),
        "protocol": f"{order.protocol.family}:v{order.protocol.version}",
        "kind": order.kind,
        "drug": order.drug,
        "infusion_count": order.infusion_count,
        "dose_mg_per_kg": order.dose_mg_per_kg,
        "duration_minutes": order.duration_minutes,
        "dosing_weight_rule": order.dosing_weight_rule,
        "max_dose_mg_per_kg": order.max_dose_mg_per_kg,
        "max_dose_mg": order.max_dose_mg,
        "diluent_volume_ml": order.diluent_volume_ml,
        "rate_min_percent": order.rate_min_percent,
        "rate_max_percent": order.rate_max_percent,
        "titration_instructions": order.titration_instructions,
        "prn": [asdict(p) for p in prn],
        "supersedes": str(order.supersedes.uuid) if order.supersedes else None,
    }


def protocol_prn(protocol: Protocol) -> list[PrnInput]:
    return [
        PrnInput(
            drug=p["drug"],
            dose=Decimal(str(p["dose"])),
            unit=p.get("unit", "mg"),
            route=p["route"],
            indication=p["indication"],
            max_doses_per_session=int(p.get("max_doses_per_session", 1)),
        )
        for p in protocol.prn_medications
    ]


def _check_order_values(
    protocol: Protocol,
    *,
    dose_mg_per_kg: Decimal,
    duration_minutes: int,
    dosing_weight_rule: str,
    max_dose_mg_per_kg: Decimal,
    max_dose_mg: Decimal,
    diluent_volume_ml: Decimal,
    rate_min_percent: int,
    rate_max_percent: int,
    prn: Sequence[PrnInput],
    supersedes: InfusionOrder | None,
) -> None:
    if not dosing.MIN_DOSE_MG_PER_KG <= dose_mg_per_kg <= dosing.MAX_DOSE_MG_PER_KG:
        raise TreatmentError(
            f"Must be {dosing.MIN_DOSE_MG_PER_KG}-{dosing.MAX_DOSE_MG_PER_KG} mg/kg.",
            field="dose_mg_per_kg",
        )
    if max_dose_mg_per_kg > protocol.max_dose_mg_per_kg:
        raise TreatmentError(
            f"The protocol's ceiling is {protocol.max_dose_mg_per_kg.normalize():f} mg/kg.",
            field="max_dose_mg_per_kg",
        )
    if dose_mg_per_kg > max_dose_mg_per_kg:
        raise TreatmentError(
            "The dose is above the order's mg/kg ceiling.", field="dose_mg_per_kg"
        )
    if not 0 < max_dose_mg <= protocol.max_dose_mg:
        raise TreatmentError(
            f"The absolute cap must be more than 0 and at most the protocol's "
            f"{protocol.max_dose_mg.normalize():f} mg.",
            field="max_dose_mg",
        )
    if (
        not dosing.MIN_DURATION_MINUTES
        <= duration_minutes
        <= dosing.MAX_DURATION_MINUTES
    ):
        raise TreatmentError("Must be 10-240 minutes.", field="duration_minutes")
    if dosing_weight_rule not in {r.value for r in dosing.DosingWeightRule}:
        raise TreatmentError(
            "Choose actual, ideal or adjusted.", field="dosing_weight_rule"
        )
    if not 0 <= diluent_volume_ml <= dosing.MAX_DILUENT_VOLUME_ML:
        raise TreatmentError("Must be 0-1000 mL.", field="diluent_volume_ml")
    if not (
        protocol.rate_min_percent
        <= rate_min_percent
        <= rate_max_percent
        <= protocol.rate_max_percent
    ):
        raise TreatmentError(
            f"The protocol allows rates of {protocol.rate_min_percent}-"
            f"{protocol.rate_max_percent}% of the calculated rate.",
            field="rate_min_percent",
        )
    if supersedes is not None:
        step = protocol.titration_step_mg_per_kg
        if dose_mg_per_kg - supersedes.dose_mg_per_kg > step:
            raise TreatmentError(
                f"Raise the dose by at most the protocol's titration step of "
                f"{step.normalize():f} mg/kg per order (from "
                f"{supersedes.dose_mg_per_kg.normalize():f} mg/kg).",
                field="dose_mg_per_kg",
            )
    for index, item in enumerate(prn):
        if not item.drug.strip() or not item.indication.strip():
            raise TreatmentError(
                "Each as-needed medication needs a drug and what it is for.",
                field=f"prn.{index}",
            )
        if item.dose <= 0:
            raise TreatmentError("Give the dose.", field=f"prn.{index}.dose")
        if item.route not in PrnOrder.Route.values:
            raise TreatmentError("Choose a route.", field=f"prn.{index}.route")


def sign_order(
    plan: TreatmentPlan,
    *,
    password: str,
    kind: ProtocolKind | str,
    dose_mg_per_kg: Decimal,
    duration_minutes: int,
    dosing_weight_rule: str,
    max_dose_mg_per_kg: Decimal,
    max_dose_mg: Decimal,
    diluent_volume_ml: Decimal,
    rate_min_percent: int,
    rate_max_percent: int,
    titration_instructions: str,
    prn: Sequence[PrnInput],
    reason: str = "",
    supersedes: InfusionOrder | None = None,
    by: User,
) -> InfusionOrder:
    """A prescriber signs an order on a plan. With `supersedes`, it is a dose change. The
    password is checked first, outside the order's transaction, so a refused signature
    stays on the audit log."""
    if Role.PRESCRIBER not in by.roles and Role.MEDICAL_DIRECTOR not in by.roles:
        raise TreatmentError("Only a prescriber signs orders.")
    confirm_signature(password, what=f"order for plan {plan.uuid}", by=by)
    return _sign_order(
        plan,
        kind=kind,
        dose_mg_per_kg=dose_mg_per_kg,
        duration_minutes=duration_minutes,
        dosing_weight_rule=dosing_weight_rule,
        max_dose_mg_per_kg=max_dose_mg_per_kg,
        max_dose_mg=max_dose_mg,
        diluent_volume_ml=diluent_volume_ml,
        rate_min_percent=rate_min_percent,
        rate_max_percent=rate_max_percent,
        titration_instructions=titration_instructions,
        prn=prn,
        reason=reason,
        supersedes=supersedes,
        by=by,
    )


@transaction.atomic
def _sign_order(
    plan: TreatmentPlan,
    *,
    kind: ProtocolKind | str,
    dose_mg_per_kg: Decimal,
    duration_minutes: int,
    dosing_weight_rule: str,
    max_dose_mg_per_kg: Decimal,
    max_dose_mg: Decimal,
    diluent_volume_ml: Decimal,
    rate_min_percent: int,
    rate_max_percent: int,
    titration_instructions: str,
    prn: Sequence[PrnInput],
    reason: str = "",
    supersedes: InfusionOrder | None = None,
    by: User,
    now: datetime | None = None,
) -> InfusionOrder:
    kind = ProtocolKind(kind)
    plan = TreatmentPlan.objects.select_for_update().get(pk=plan.pk)
    if plan.status != TreatmentPlan.Status.ACTIVE:
        raise TreatmentError("The plan has ended.")
    blocks = intake_blocks(plan.patient)
    if blocks:
        raise TreatmentError(" ".join(blocks))
    protocol = (
        plan.induction_protocol
        if kind is ProtocolKind.INDUCTION
        else plan.booster_protocol
    )
    if protocol is None:
        raise TreatmentError("The plan has no booster protocol.", field="kind")
    status = plan_status(plan)
    if supersedes is not None:
        supersedes = InfusionOrder.objects.select_for_update().get(pk=supersedes.pk)
        if (
            supersedes.plan_id != plan.pk
            or supersedes.status != InfusionOrder.Status.ACTIVE
        ):
            raise TreatmentError("Only an active order of this plan can be changed.")
        if supersedes.kind != kind:
            raise TreatmentError("A dose change keeps the order's kind.", field="kind")
        if not reason.strip():
            raise TreatmentError("Say why the dose changes.", field="reason")
    else:
        if plan.orders.filter(status=InfusionOrder.Status.ACTIVE, kind=kind).exists():
            raise TreatmentError(
                "There is already an active order of this kind: change its dose "
                "(a new order that replaces it) or discontinue it first.",
                field="kind",
            )
        if (
            kind is ProtocolKind.INDUCTION
            and status.phase is not phases.Phase.INDUCTION
        ):
            raise TreatmentError(
                "The induction series is complete: order a booster.", field="kind"
            )
        if kind is ProtocolKind.BOOSTER and status.phase is phases.Phase.INDUCTION:
            raise TreatmentError(
                "Boosters follow a completed induction series.", field="kind"
            )
    _check_order_values(
        protocol,
        dose_mg_per_kg=dose_mg_per_kg,
        duration_minutes=duration_minutes,
        dosing_weight_rule=dosing_weight_rule,
        max_dose_mg_per_kg=max_dose_mg_per_kg,
        max_dose_mg=max_dose_mg,
        diluent_volume_ml=diluent_volume_ml,
        rate_min_percent=rate_min_percent,
        rate_max_percent=rate_max_percent,
        prn=prn,
        supersedes=supersedes,
    )
    if kind is ProtocolKind.INDUCTION:
        count = max(protocol.infusion_count - len(plan.induction_dates), 1)
    else:
        count = protocol.infusion_count
    now = now or timezone.now()
    order = InfusionOrder(
        organization_id=plan.organization_id,
        patient=plan.patient,
        plan=plan,
        protocol=protocol,
        kind=kind,
        infusion_count=count,
        dose_mg_per_kg=dose_mg_per_kg,
        duration_minutes=duration_minutes,
        dosing_weight_rule=dosing_weight_rule,
        max_dose_mg_per_kg=max_dose_mg_per_kg,
        max_dose_mg=max_dose_mg,
        diluent_volume_ml=diluent_volume_ml,
        rate_min_percent=rate_min_percent,
        rate_max_percent=rate_max_percent,
        titration_instructions=titration_instructions.strip()
        or protocol.titration_instructions,
        reason=reason.strip(),
        supersedes=supersedes,
        signed_by=by,
        signed_at=now,
    )
    order.content_sha256 = content_hash(order_content(order, prn))
    if supersedes is not None:
        supersedes.status = InfusionOrder.Status.SUPERSEDED
        supersedes.ended_by, supersedes.ended_at = by, now
        supersedes.end_reason = f"Replaced: {reason.strip()}"
        supersedes.save(update_fields=["status", "ended_by", "ended_at", "end_reason"])
    order.save(force_insert=True)
    prn_orders = PrnOrder.objects.bulk_create(
        [
            PrnOrder(
                order=order,
                drug=item.drug.strip(),
                dose=item.dose,
                unit=item.unit,
                route=item.route,
                indication=item.indication.strip(),
                max_doses_per_session=item.max_doses_per_session,
            )
            for item in prn
        ]
    )
    seal_objects(prn_orders)  # bulk_create sends no post_save
    record(
        AuditEvent.Action.ORDER_SIGNED,
        actor=by,
        patient=plan.patient,
        subject=order,
        kind=str(kind),
        dose_mg_per_kg=dose_mg_per_kg,
        duration_minutes=duration_minutes,
        supersedes=str(supersedes.uuid) if supersedes else None,
        content_sha256=order.content_sha256,
    )
    return order


@transaction.atomic
def discontinue_order(order: InfusionOrder, *, reason: str, by: User) -> InfusionOrder:
    if not reason.strip():
        raise TreatmentError("Say why the order is discontinued.", field="reason")
    order = InfusionOrder.objects.select_for_update().get(pk=order.pk)
    if order.status != InfusionOrder.Status.ACTIVE:
        raise TreatmentError("Only an active order can be discontinued.")
    order.status = InfusionOrder.Status.DISCONTINUED
    order.ended_by, order.ended_at = by, timezone.now()
    order.end_reason = reason.strip()
    order.save(update_fields=["status", "ended_by", "ended_at", "end_reason"])
    record(
        AuditEvent.Action.ORDER_DISCONTINUED,
        actor=by,
        patient=order.patient,
        subject=order,
        reason=reason.strip(),
    )
    return order


def _active_orders(kind: str | None) -> CompiledObjects[InfusionOrder]:
    def build(plan_id: int) -> QuerySet[InfusionOrder]:
        orders = InfusionOrder.objects.filter(
            plan_id=plan_id, status=InfusionOrder.Status.ACTIVE
        )
        if kind is not None:
            orders = orders.filter(kind=kind)
        return orders.order_by("-signed_at", "-id")[:1]

    return CompiledObjects(build)


# The newest active order of a plan (of a kind, or of any), compiled once per
# connection (lib.compiled): every check-in and booster reads it.
_ACTIVE_ORDER = {
    kind: _active_orders(kind) for kind in (None, *InfusionOrder.Kind.values)
}
_ORDER_PLAN = InfusionOrder._meta.get_field("plan")


def active_order(
    plan: TreatmentPlan, kind: ProtocolKind | str | None = None
) -> InfusionOrder | None:
    compiled = _ACTIVE_ORDER.get(None if kind is None else str(kind))
    if compiled is None:  # not a kind of order: none is active
        return None
    order = compiled.first(plan.pk)
    if order is not None:  # as plan.orders gives it: its plan is this one
        _ORDER_PLAN.set_cached_value(order, plan)
    return order
