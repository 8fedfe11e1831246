"""Every write to protocols, plans and orders goes through here.

Each action runs in one transaction and records an audit event. Callers check
capabilities and patient access first; the actions check the clinical rules
(who may sign, what an order may say) and raise TreatmentError, writing nothing.
"""

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, fields
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from neuroclinic.accounts.models import User
from neuroclinic.accounts.roles import Role
from neuroclinic.audit.models import AuditEvent
from neuroclinic.audit.record import record
from neuroclinic.clinics.models import Location, Organization
from neuroclinic.intake.checks import (
    consent_blocks_treatment,
    eligibility_blocks_treatment,
)
from neuroclinic.lib import dosing
from neuroclinic.lib.vitals import AlarmThresholds
from neuroclinic.patients.models import Patient
from neuroclinic.treatment import phases
from neuroclinic.treatment.defaults import (
    DEFAULT_CITATIONS,
    DEFAULTS_BY_KIND,
    ProtocolDefaults,
    ProtocolKind,
)
from neuroclinic.treatment.models import (
    InfusionOrder,
    PrnOrder,
    Protocol,
    TreatmentPlan,
)

# Protocol fields a director may change (everything clinical; not identity or signature).
PROTOCOL_FIELDS = tuple(
    f.name
    for f in fields(ProtocolDefaults)
    if f.name not in ("kind", "prn_medications")
)


class TreatmentError(Exception):
    """A refused request, with a message for the person who made it and the field at fault."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


@dataclass(frozen=True)
class PrnInput:
    drug: str
    dose: Decimal
    unit: str
    route: str
    indication: str
    max_doses_per_session: int = 1


# --- signatures ----------------------------------------------------------------------


def confirm_signature(user: User, password: str, *, what: str) -> None:
    """A signature is the signer re-entering their password, on top of the 2FA session.

    A wrong password is audited as a denied signature and refused.
    """
    if not password or not user.check_password(password):
        with transaction.atomic():
            record(
                AuditEvent.Action.SIGNATURE_REFUSED,
                actor=user,
                outcome=AuditEvent.Outcome.DENIED,
                what=what,
            )
        raise TreatmentError(
            "That password is not right: your password signs this.", field="password"
        )


def _content_hash(content: Mapping[str, Any]) -> str:
    text = json.dumps(content, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


# --- protocols -----------------------------------------------------------------------


def _default_values(defaults: ProtocolDefaults) -> dict[str, Any]:
    values = {name: getattr(defaults, name) for name in PROTOCOL_FIELDS}
    values["prn_medications"] = [
        {
            "drug": p.drug,
            "dose": str(p.dose),
            "unit": p.unit,
            "route": p.route,
            "indication": p.indication,
            "max_doses_per_session": p.max_doses_per_session,
            "source": p.source,
        }
        for p in defaults.prn_medications
    ]
    values["alarm_thresholds"] = asdict(AlarmThresholds())
    return values


def validate_protocol_values(values: Mapping[str, Any]) -> None:
    """Refuse settings that contradict each other or the dose calculator's limits."""

    def number(name: str) -> Decimal:
        try:
            return Decimal(str(values[name]))
        except (KeyError, InvalidOperation):
            raise TreatmentError(f"{name} is missing.", field=name) from None

    for name in ("dose_mg_per_kg", "max_dose_mg_per_kg"):
        if not dosing.MIN_DOSE_MG_PER_KG <= number(name) <= dosing.MAX_DOSE_MG_PER_KG:
            raise TreatmentError(
                f"Must be {dosing.MIN_DOSE_MG_PER_KG}-{dosing.MAX_DOSE_MG_PER_KG} mg/kg.",
                field=name,
            )
    if number("dose_mg_per_kg") > number("max_dose_mg_per_kg"):
        raise TreatmentError(
            "The dose is above the protocol's mg/kg ceiling.", field="dose_mg_per_kg"
        )
    if (
        not dosing.MIN_DURATION_MINUTES
        <= number("duration_minutes")
        <= dosing.MAX_DURATION_MINUTES
    ):
        raise TreatmentError("Must be 10-240 minutes.", field="duration_minutes")
    if number("max_dose_mg") <= 0:
        raise TreatmentError("Must be more than 0 mg.", field="max_dose_mg")
    if not 0 <= number("diluent_volume_ml") <= dosing.MAX_DILUENT_VOLUME_ML:
        raise TreatmentError("Must be 0-1000 mL.", field="diluent_volume_ml")
    if not 0 < number("rate_min_percent") <= number("rate_max_percent") <= 100:
        raise TreatmentError(
            "Rate limits must satisfy 0 < minimum <= maximum <= 100%.",
            field="rate_min_percent",
        )
    if number("infusion_count") < 1:
        raise TreatmentError("At least 1 infusion.", field="infusion_count")
    if number("infusions_per_week_min") > number("infusions_per_week_max"):
        raise TreatmentError(
            "The weekly minimum is above the maximum.", field="infusions_per_week_min"
        )
    if number("follow_up_window_start_days") > number("follow_up_window_end_days"):
        raise TreatmentError(
            "The follow-up window must start before it ends.",
            field="follow_up_window_start_days",
        )
    if number("booster_interval_days_min") > number("booster_interval_days_max"):
        raise TreatmentError(
            "The booster interval minimum is above its maximum.",
            field="booster_interval_days_min",
        )
    if not 0 <= number("min_aldrete_total") <= 10:
        raise TreatmentError(
            "Modified Aldrete totals are 0-10.", field="min_aldrete_total"
        )
    if not 0 <= number("min_moaas_score") <= 5:
        raise TreatmentError("MOAA/S scores are 0-5.", field="min_moaas_score")
    if number("baseline_systolic_caution_mmhg") > number("baseline_systolic_max_mmhg"):
        raise TreatmentError(
            "The caution level is above the hard stop.",
            field="baseline_systolic_caution_mmhg",
        )
    if values.get("dosing_weight_rule") not in {
        r.value for r in dosing.DosingWeightRule
    }:
        raise TreatmentError(
            "Choose actual, ideal or adjusted.", field="dosing_weight_rule"
        )
    try:
        AlarmThresholds(**dict(values.get("alarm_thresholds") or {}))
    except (TypeError, ValueError) as exc:
        raise TreatmentError(
            f"Alarm thresholds: {exc}", field="alarm_thresholds"
        ) from None


@transaction.atomic
def draft_protocol(
    organization: Organization,
    *,
    kind: ProtocolKind | str,
    drafted_by: User,
    base: Protocol | None = None,
    changes: Mapping[str, Any] | None = None,
    change_note: str = "",
) -> Protocol:
    """A new draft: the cited defaults, or a copy of `base` (a new version of it), with changes."""
    kind = ProtocolKind(kind)
    if base is not None:
        if base.organization_id != organization.pk or base.kind != kind:
            raise TreatmentError("That protocol belongs elsewhere.", field="base")
        values = {name: getattr(base, name) for name in PROTOCOL_FIELDS}
        values["prn_medications"] = list(base.prn_medications)
        values["alarm_thresholds"] = dict(base.alarm_thresholds)
        citations = dict(base.citations)
        family = base.family
        version = (
            Protocol.objects.filter(family=family).aggregate(v=Max("version"))["v"] or 0
        ) + 1
    else:
        values = _default_values(DEFAULTS_BY_KIND[kind])
        citations = dict(DEFAULT_CITATIONS)
        family = None
        version = 1
    for name, value in (changes or {}).items():
        if name not in values:
            raise TreatmentError(f"Unknown protocol setting {name!r}.", field=name)
        if value != values[name]:
            values[name] = value
            if base is not None:
                citations[name] = (
                    f"Changed by {drafted_by.display_name} in version {version}: "
                    f"{change_note.strip() or 'no note'}"
                )
    validate_protocol_values(values)
    protocol = Protocol(
        organization=organization,
        kind=kind,
        version=version,
        status=Protocol.Status.DRAFT,
        citations=citations,
        change_note=change_note.strip(),
        supersedes=None,
        created_by=drafted_by,
        **values,
    )
    if family is not None:
        protocol.family = family
    protocol.save(force_insert=True)
    record(
        AuditEvent.Action.PROTOCOL_DRAFTED,
        actor=drafted_by,
        subject=protocol,
        organization=organization,
        name=protocol.name,
        version=version,
        changed=sorted((changes or {}).keys()),
    )
    return protocol


def protocol_content(protocol: Protocol) -> dict[str, Any]:
    content = {name: getattr(protocol, name) for name in PROTOCOL_FIELDS}
    content |= {
        "kind": protocol.kind,
        "version": protocol.version,
        "family": str(protocol.family),
        "prn_medications": protocol.prn_medications,
        "alarm_thresholds": protocol.alarm_thresholds,
    }
    return content


def sign_protocol(protocol: Protocol, *, signed_by: User, password: str) -> Protocol:
    """The medical director signs a draft; it replaces the family's active version."""
    if Role.MEDICAL_DIRECTOR not in signed_by.roles:
        raise TreatmentError("Only the medical director signs protocols.")
    if signed_by.organization_id != protocol.organization_id:
        raise TreatmentError("That protocol belongs to another clinic.")
    # Outside the signing transaction, so a refused signature stays on the audit log.
    confirm_signature(signed_by, password, what=f"protocol {protocol.uuid}")
    return _sign_protocol(protocol, signed_by=signed_by)


@transaction.atomic
def _sign_protocol(protocol: Protocol, *, signed_by: User) -> Protocol:
    protocol = Protocol.objects.select_for_update().get(pk=protocol.pk)
    if protocol.status != Protocol.Status.DRAFT:
        raise TreatmentError(
            "Only a draft can be signed; this version is already signed."
        )
    now = timezone.now()
    previous = (
        Protocol.objects.select_for_update()
        .filter(family=protocol.family, status=Protocol.Status.ACTIVE)
        .first()
    )
    if previous is not None:
        previous.status = Protocol.Status.RETIRED
        previous.retired_at = now
        previous.save(update_fields=["status", "retired_at"])
        protocol.supersedes = previous
    protocol.status = Protocol.Status.ACTIVE
    protocol.signed_by = signed_by
    protocol.signed_at = now
    protocol.content_sha256 = _content_hash(protocol_content(protocol))
    protocol.save(
        update_fields=[
            "status",
            "signed_by",
            "signed_at",
            "content_sha256",
            "supersedes",
        ]
    )
    record(
        AuditEvent.Action.PROTOCOL_SIGNED,
        actor=signed_by,
        subject=protocol,
        organization=protocol.organization,
        name=protocol.name,
        version=protocol.version,
        content_sha256=protocol.content_sha256,
        replaces_version=previous.version if previous else None,
    )
    return protocol


def active_protocols(organization_id: int, kind: ProtocolKind | str) -> list[Protocol]:
    return list(
        Protocol.objects.filter(
            organization_id=organization_id,
            kind=str(kind),
            status=Protocol.Status.ACTIVE,
        ).order_by("name", "id")
    )


@transaction.atomic
def install_default_protocols(
    organization: Organization, *, director: User, password: str
) -> list[Protocol]:
    """Draft and sign the cited default induction and booster protocols (a new clinic, the demo)."""
    made = []
    for kind in ProtocolKind:
        draft = draft_protocol(organization, kind=kind, drafted_by=director)
        made.append(sign_protocol(draft, signed_by=director, password=password))
    return made


# --- intake: eligibility and consent --------------------------------------------------


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


# --- plans ---------------------------------------------------------------------------


def clinic_today(organization_id: int, *, now: datetime | None = None) -> date:
    """Today's date in the clinic's time zone (its first active location's)."""
    zone = (
        Location.objects.filter(organization_id=organization_id, is_active=True)
        .order_by("id")
        .values_list("time_zone", flat=True)
        .first()
    ) or "UTC"
    return (now or timezone.now()).astimezone(ZoneInfo(zone)).date()


@transaction.atomic
def create_plan(
    patient: Patient,
    *,
    induction_protocol: Protocol,
    booster_protocol: Protocol | None,
    indication: str,
    created_by: User,
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
        created_by=created_by,
    )
    record(
        AuditEvent.Action.PLAN_CREATED,
        actor=created_by,
        patient=patient,
        subject=plan,
        induction_protocol=str(induction_protocol),
        booster_protocol=str(booster_protocol) if booster_protocol else None,
    )
    return plan


@transaction.atomic
def end_plan(plan: TreatmentPlan, *, ended_by: User, reason: str) -> TreatmentPlan:
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
        order.ended_by, order.ended_at, order.end_reason = ended_by, now, "Plan ended"
        order.save(update_fields=["status", "ended_by", "ended_at", "end_reason"])
    plan.status = TreatmentPlan.Status.ENDED
    plan.ended_by, plan.ended_at, plan.end_reason = ended_by, now, reason.strip()
    plan.save(update_fields=["status", "ended_by", "ended_at", "end_reason"])
    record(
        AuditEvent.Action.PLAN_ENDED,
        actor=ended_by,
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


# --- orders --------------------------------------------------------------------------


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
    signed_by: User,
    password: str,
    **order: Any,
) -> InfusionOrder:
    """A prescriber signs an order on a plan (see `_sign_order` for the fields). With
    `supersedes`, it is a dose change. The password is checked first, outside the
    order's transaction, so a refused signature stays on the audit log."""
    if (
        Role.PRESCRIBER not in signed_by.roles
        and Role.MEDICAL_DIRECTOR not in signed_by.roles
    ):
        raise TreatmentError("Only a prescriber signs orders.")
    confirm_signature(signed_by, password, what=f"order for plan {plan.uuid}")
    return _sign_order(plan, signed_by=signed_by, **order)


@transaction.atomic
def _sign_order(
    plan: TreatmentPlan,
    *,
    kind: ProtocolKind | str,
    signed_by: User,
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
    now = timezone.now()
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
        signed_by=signed_by,
        signed_at=now,
    )
    order.content_sha256 = _content_hash(order_content(order, prn))
    if supersedes is not None:
        supersedes.status = InfusionOrder.Status.SUPERSEDED
        supersedes.ended_by, supersedes.ended_at = signed_by, now
        supersedes.end_reason = f"Replaced: {reason.strip()}"
        supersedes.save(update_fields=["status", "ended_by", "ended_at", "end_reason"])
    order.save(force_insert=True)
    PrnOrder.objects.bulk_create(
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
    record(
        AuditEvent.Action.ORDER_SIGNED,
        actor=signed_by,
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
def discontinue_order(
    order: InfusionOrder, *, discontinued_by: User, reason: str
) -> InfusionOrder:
    if not reason.strip():
        raise TreatmentError("Say why the order is discontinued.", field="reason")
    order = InfusionOrder.objects.select_for_update().get(pk=order.pk)
    if order.status != InfusionOrder.Status.ACTIVE:
        raise TreatmentError("Only an active order can be discontinued.")
    order.status = InfusionOrder.Status.DISCONTINUED
    order.ended_by, order.ended_at = discontinued_by, timezone.now()
    order.end_reason = reason.strip()
    order.save(update_fields=["status", "ended_by", "ended_at", "end_reason"])
    record(
        AuditEvent.Action.ORDER_DISCONTINUED,
        actor=discontinued_by,
        patient=order.patient,
        subject=order,
        reason=reason.strip(),
    )
    return order


def active_order(
    plan: TreatmentPlan, kind: ProtocolKind | str | None = None
) -> InfusionOrder | None:
    orders = plan.orders.filter(status=InfusionOrder.Status.ACTIVE)
    if kind is not None:
        orders = orders.filter(kind=str(kind))
    return orders.order_by("-signed_at", "-id").first()


def active_plan(patient: Patient) -> TreatmentPlan | None:
    return (
        TreatmentPlan.objects.filter(
            patient=patient, status=TreatmentPlan.Status.ACTIVE
        )
        .select_related("induction_protocol", "booster_protocol")
        .first()
    )


def record_infusion_given(
    order: InfusionOrder, *, ended_at: datetime, on: date
) -> bool:
    """Count an infusion that was given (also when stopped early) against its plan.

    Call from inside the infusion action's transaction. Returns True when this
    infusion completes the induction series.
    """
    plan = TreatmentPlan.objects.select_for_update().get(pk=order.plan_id)
    order = InfusionOrder.objects.select_for_update().get(pk=order.pk)
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
