"""The pre-infusion checklist: every hard stop, gathered from the apps that know.

Consent and eligibility come from intake, the safety alert from measures, the
order from treatment; fasting, pregnancy and baseline vitals are rules in the pure
`checklist` module. The start action calls `hard_stops()` again, so an item that
turns red after the checklist was confirmed (a new safety alert, say) still stops it.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.utils import timezone

from neuroclinic.infusions import checklist
from neuroclinic.infusions.actions.common import SessionRows
from neuroclinic.infusions.models import InfusionSession, VitalReading
from neuroclinic.measures.actions.alerts import safety_alert_blocks_treatment
from neuroclinic.measures.models import QuestionnaireResponse
from neuroclinic.treatment.actions.plans import consent_block, eligibility_block
from neuroclinic.treatment.models import InfusionOrder, TreatmentPlan
from neuroclinic.treatment.phases import series_problems


@dataclass(frozen=True)
class ChecklistItem:
    key: str
    label: str
    ok: bool
    hard_stop: bool  # not ok and blocks the start
    messages: list[str] = field(default_factory=list)  # why not, or cautions when ok
    detail: str = ""  # what was found when ok


def local_date(session: InfusionSession, moment: datetime) -> date:
    return moment.astimezone(ZoneInfo(session.location.time_zone)).date()


# The newest baseline reading, compiled once per connection (lib.compiled): the
# checklist reads it at the confirmation and again at the start.
_BASELINE = SessionRows(
    lambda session_id: VitalReading.objects.filter(
        session_id=session_id, phase=VitalReading.Phase.BASELINE
    ).order_by("-taken_at", "-id")[:1]
)


def baseline_reading(session: InfusionSession) -> VitalReading | None:
    return _BASELINE.first(session)


def pregnancy_detail(session: InfusionSession, *, applies: bool) -> str:
    """What the checklist's pregnancy item says: what was entered (and its note), even
    where the check does not apply; "Does not apply" only when nothing was entered."""
    entered = session.pregnancy_status
    if not entered:
        detail = "Not recorded" if applies else "Does not apply"
    else:
        detail = session.get_pregnancy_status_display()
        if not applies:
            detail += " (entered; not required for this patient)"
    if session.pregnancy_note:
        detail += f": {session.pregnancy_note}"
    return detail


def todays_phq9(session: InfusionSession) -> QuestionnaireResponse | None:
    """The newest current PHQ-9 completed on the session's day, in the clinic's time zone."""
    zone = ZoneInfo(session.location.time_zone)
    day_start = datetime.combine(session.service_date, time(0), tzinfo=zone)
    return (
        QuestionnaireResponse.objects.filter(
            patient_id=session.patient_id,
            instrument_code="phq9",
            amended_by__isnull=True,
            completed_at__gte=day_start,
            completed_at__lt=day_start + timedelta(days=1),
        )
        .order_by("-completed_at", "-id")
        .first()
    )


def _item(
    key: str, label: str, findings: list[checklist.Finding], detail: str = ""
) -> ChecklistItem:
    hard = [f.message for f in findings if f.hard_stop]
    if hard:
        return ChecklistItem(key, label, ok=False, hard_stop=True, messages=hard)
    return ChecklistItem(
        key,
        label,
        ok=True,
        hard_stop=False,
        messages=[f.message for f in findings],
        detail=detail,
    )


def _stop(message: str | None) -> list[checklist.Finding]:
    return [] if message is None else [checklist.Finding(True, message)]


def session_checklist(
    session: InfusionSession, *, now: datetime | None = None
) -> list[ChecklistItem]:
    now = now or timezone.now()
    order: InfusionOrder = session.order
    plan: TreatmentPlan = session.plan
    protocol = order.protocol
    patient = session.patient
    items: list[ChecklistItem] = []

    order_findings: list[checklist.Finding] = []
    if plan.status != TreatmentPlan.Status.ACTIVE:
        order_findings.append(checklist.Finding(True, "The treatment plan has ended."))
    if order.status != InfusionOrder.Status.ACTIVE:
        order_findings.append(
            checklist.Finding(
                True,
                f"The order is {order.get_status_display().lower()}: a prescriber must sign a new one.",
            )
        )
    if order.kind == InfusionOrder.Kind.INDUCTION:
        order_findings.extend(
            checklist.Finding(p.hard_stop, p.message)
            for p in series_problems(
                infusion_count=protocol.infusion_count,
                given_dates=[date.fromisoformat(d) for d in plan.induction_dates],
                on=session.service_date,
                series_window_days=protocol.series_window_days,
                min_days_between_infusions=protocol.min_days_between_infusions,
                infusions_per_week_max=protocol.infusions_per_week_max,
                spacing_overridden=bool(session.spacing_override_reason),
            )
        )
    else:
        order_findings.extend(_booster_findings(session, order))
    if session.spacing_override_reason:
        order_findings.append(
            checklist.Finding(
                False,
                "Checked in over the protocol's rhythm with a written reason: "
                f"{session.spacing_override_reason}. Overridden: "
                + " ".join(session.spacing_overridden),
            )
        )
    items.append(
        _item(
            "order",
            "Signed active order",
            order_findings,
            detail=f"{order.summary()}; signed by {order.signed_by.display_name} "
            f"on {order.signed_at:%Y-%m-%d}",
        )
    )
    items.append(
        _item(
            "eligibility",
            "Eligibility decision",
            _stop(eligibility_block(patient)),
            "Eligible",
        )
    )
    items.append(
        _item(
            "consent",
            "Consent current",
            _stop(consent_block(patient)),
            "Signed, current versions",
        )
    )
    items.append(
        _item(
            "safety",
            "No unresolved safety alert",
            _stop(safety_alert_blocks_treatment(patient)),
            "None open",
        )
    )
    items.append(
        _item(
            "npo",
            "Nothing by mouth per policy",
            checklist.npo_findings(
                last_solids_at=session.last_solids_at,
                last_clear_liquids_at=session.last_clear_liquids_at,
                now=now,
                solids_hours=protocol.npo_solids_hours,
                clear_liquids_hours=protocol.npo_clear_liquids_hours,
            ),
            f"Solids {protocol.npo_solids_hours} h, clear liquids "
            f"{protocol.npo_clear_liquids_hours} h",
        )
    )
    escort: list[checklist.Finding] = []
    if not (session.escort_confirmed and session.escort_name.strip()):
        escort.append(
            checklist.Finding(
                True, "Confirm the adult escort who will take the patient home (K11)."
            )
        )
    items.append(_item("escort", "Escort confirmed", escort, session.escort_name))
    applies = checklist.pregnancy_applies(
        sex_at_birth=patient.sex_at_birth,
        age_years=patient.age_on(session.service_date),
    )
    items.append(
        _item(
            "pregnancy",
            "Pregnancy status",
            checklist.pregnancy_findings(
                applies=applies,
                status=session.pregnancy_status,
                test_required=protocol.pregnancy_test_required,
            ),
            pregnancy_detail(session, applies=applies),
        )
    )
    phq9 = todays_phq9(session)
    items.append(
        _item(
            "phq9",
            "Today's pre-infusion PHQ-9",
            []
            if phq9 is not None
            else [
                checklist.Finding(True, "The patient has not completed today's PHQ-9.")
            ],
            f"Done at {phq9.completed_at.astimezone(ZoneInfo(session.location.time_zone)):%H:%M}: "
            f"{phq9.score_label}"
            if phq9
            else "",
        )
    )
    baseline = baseline_reading(session)
    items.append(
        _item(
            "baseline",
            "Baseline vital signs inside the limits",
            checklist.baseline_findings(
                baseline.as_vitals() if baseline else None,
                thresholds=protocol.thresholds(),
                systolic_max_mmhg=protocol.baseline_systolic_max_mmhg,
                diastolic_max_mmhg=protocol.baseline_diastolic_max_mmhg,
                systolic_caution_mmhg=protocol.baseline_systolic_caution_mmhg,
                diastolic_caution_mmhg=protocol.baseline_diastolic_caution_mmhg,
            ),
            str(baseline) if baseline else "",
        )
    )
    weight: list[checklist.Finding] = []
    if session.weight_kg is None or session.weight_recorded_at is None:
        weight.append(checklist.Finding(True, "Weigh the patient today."))
    elif local_date(session, session.weight_recorded_at) != session.service_date:
        weight.append(checklist.Finding(True, "The weight is not from today."))
    items.append(
        _item(
            "weight",
            "Today's weight",
            weight,
            f"{session.weight_kg} kg"
            + (
                f" ({session.weight_entered})"
                if session.weight_entered and not session.weight_entered.endswith(" kg")
                else ""
            ),
        )
    )
    return items


def _booster_findings(
    session: InfusionSession, order: InfusionOrder
) -> list[checklist.Finding]:
    findings: list[checklist.Finding] = []
    if order.given_count >= order.infusion_count:
        findings.append(
            checklist.Finding(
                True, "This booster order is used: a new order is needed."
            )
        )
    last = session.plan.last_infusion_at
    protocol = order.protocol
    if last is not None:
        gap = (session.service_date - local_date(session, last)).days
        if gap < protocol.min_days_between_infusions:
            findings.append(
                checklist.Finding(
                    not session.spacing_override_reason,
                    f"The last infusion was {gap} day(s) ago; the protocol asks for at least "
                    f"{protocol.min_days_between_infusions}.",
                )
            )
    return findings


def snapshot(items: list[ChecklistItem]) -> list[dict[str, Any]]:
    """The checklist as stored on the session when it is confirmed and at the start."""
    return [
        {
            "key": i.key,
            "label": i.label,
            "ok": i.ok,
            "messages": i.messages,
            "detail": i.detail,
        }
        for i in items
    ]


def hard_stops(items: list[ChecklistItem]) -> list[str]:
    return [
        f"{item.label}: {message}"
        for item in items
        if item.hard_stop
        for message in item.messages
    ]
