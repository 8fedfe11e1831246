"""The infusion note, written from what was charted: nothing in it is typed twice."""

from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from neuroclinic.accounts.models import User
from neuroclinic.infusions.models import InfusionSession, SessionEvent, VitalReading
from neuroclinic.infusions.readiness import session_checklist, snapshot
from neuroclinic.infusions.recovery import MOAAS_LABELS


def _n(value: Decimal | None) -> str:
    return "—" if value is None else f"{value.normalize():f}"


def build_note(
    session: InfusionSession,
    *,
    signed_by: User | None = None,
    signed_at: datetime | None = None,
) -> str:
    zone = ZoneInfo(session.location.time_zone)

    def t(moment: datetime | None) -> str:
        return "—" if moment is None else moment.astimezone(zone).strftime("%H:%M")

    patient = session.patient
    order = session.order
    lines: list[str] = []
    add = lines.append
    kind = "induction series" if order.kind == "induction" else "booster"
    number = (
        f"Infusion {session.progress} ({kind})"
        if order.kind == "induction"
        else f"Booster infusion {session.sequence_number}"
    )
    add("IV KETAMINE INFUSION — NURSING NOTE")
    add(
        f"Patient: {patient.legal_name} (MRN {patient.mrn}), born {patient.birth_date:%Y-%m-%d}"
    )
    add(
        f"Date: {session.service_date:%Y-%m-%d}, {session.location.name}, {session.room.name}"
    )
    add(f"{number}. Nurse: {session.nurse.display_name}")
    add(
        f"Order: {order.summary()}. Signed by {order.signed_by.display_name} on "
        f"{order.signed_at.astimezone(zone):%Y-%m-%d} (protocol {order.protocol})."
    )
    add("")
    add(
        f"CHECKLIST (confirmed {t(session.checklist_confirmed_at)}"
        + (
            f" by {session.checklist_confirmed_by.display_name})"
            if session.checklist_confirmed_by
            else ")"
        )
    )
    items: list[dict[str, Any]] = session.checklist_snapshot or snapshot(
        session_checklist(session, now=session.started_at or session.checked_in_at)
    )
    for item in items:
        status = "met" if item["ok"] else "NOT MET"
        detail = f": {item['detail']}" if item["ok"] and item["detail"] else ""
        add(f"- {item['label']} — {status}{detail}")
        for message in item["messages"]:
            add(f"    {message}")
    add(
        f"- Fasting: last solids {t(session.last_solids_at)}, last clear liquids "
        f"{t(session.last_clear_liquids_at)}. Escort: {session.escort_name or '—'} {session.escort_phone}".rstrip()
    )
    add("")
    dose = session.doses.order_by("-calculated_at", "-id").first()
    if dose is not None:
        entered = (
            f" (entered as {session.weight_entered})"
            if session.weight_entered.endswith(" lb")
            else ""
        )
        add("DOSE")
        add(
            f"Weight {_n(dose.weight_kg)} kg{entered}; dosing weight "
            f"{_n(dose.dosing_weight_kg)} kg ({dose.dosing_weight_rule})."
        )
        add(
            f"{_n(dose.dose_mg)} mg ({_n(dose.dose_mg_per_kg)} mg/kg) = {_n(dose.drug_volume_ml)} mL of "
            f"{_n(dose.concentration_mg_per_ml)} mg/mL in {_n(dose.diluent_volume_ml)} mL diluent = "
            f"{_n(dose.total_volume_ml)} mL at {_n(dose.final_concentration_mg_per_ml)} mg/mL; pump "
            f"{_n(dose.rate_ml_per_hour)} mL/h over {dose.duration_minutes} min "
            f"({_n(dose.dose_rate_mg_per_min)} mg/min)."
        )
        if dose.capped:
            add(f"Capped by the order ({dose.cap_reason}).")
        for warning in dose.warnings:
            add(f"Calculator warning: {warning}")
        add(
            f"Calculated by {dose.calculated_by.display_name} at {t(dose.calculated_at)}"
            + (
                f"; checked by {dose.checked_by.display_name} at {t(dose.checked_at)}."
                if dose.checked_by
                else "."
            )
        )
        add("")
    add("INFUSION")
    for event in session.events.select_related("by").order_by("occurred_at", "id"):
        if event.kind in (
            SessionEvent.Kind.CHECKED_IN,
            SessionEvent.Kind.NOTE_SIGNED,
            SessionEvent.Kind.NOTE_COSIGNED,
        ):
            continue
        text = f"{t(event.occurred_at)} {event.get_kind_display()}"
        if event.rate_ml_per_hour is not None:
            text += f" at {_n(event.rate_ml_per_hour)} mL/h"
        extra = event.data
        if event.kind == SessionEvent.Kind.DRAWN:
            text += f": {extra.get('volume_ml')} mL from vial {extra.get('vial')}"
        elif event.kind == SessionEvent.Kind.ADMINISTERED:
            text += f": {extra.get('volume_ml')} mL ({extra.get('mg')} mg)"
        elif event.kind == SessionEvent.Kind.WASTED:
            text += (
                f": {extra.get('volume_ml')} mL, witnessed by {extra.get('witness')}"
            )
        elif event.kind == SessionEvent.Kind.INSTRUCTIONS:
            text += f" ({extra.get('channel')})"
        if event.reason:
            text += f" — {event.reason}"
        add(f"- {text} ({event.by.display_name})")
    if session.ended_at is not None:
        add(
            f"Totals: {_n(session.volume_infused_ml)} mL infused; ketamine given {_n(session.mg_given)} mg = "
            f"{_n(session.mg_per_kg_given)} mg/kg"
            + (f" of dosing weight {_n(dose.dosing_weight_kg)} kg" if dose else "")
            + (
                f". STOPPED EARLY: {session.end_reason}."
                if session.stopped_early
                else "."
            )
        )
    add("")
    add("VITAL SIGNS")
    readings = list(session.vitals.order_by("taken_at", "id"))
    for phase in VitalReading.Phase:
        rows = [r for r in readings if r.phase == phase]
        if not rows:
            continue
        systolic = max(r.systolic_mmhg for r in rows)
        heart = max(r.heart_rate_bpm for r in rows)
        spo2 = min(r.spo2_percent for r in rows)
        rr = min(r.respiratory_rate_per_min for r in rows)
        add(
            f"- {phase.label}: {len(rows)} reading(s), first {rows[0]} at {t(rows[0].taken_at)}, "
            f"last {rows[-1]} at {t(rows[-1].taken_at)}; highest systolic {systolic}, "
            f"highest HR {heart}, lowest SpO2 {spo2}%, lowest RR {rr}"
        )
    alarms = list(
        session.alarms.select_related("acknowledged_by").order_by("raised_at", "id")
    )
    if alarms:
        add("ALARMS")
        for alarm in alarms:
            ack = (
                f"acknowledged {t(alarm.acknowledged_at)} by {alarm.acknowledged_by.display_name}"
                if alarm.acknowledged_by
                else "NOT acknowledged"
            )
            note = (
                f" ({alarm.acknowledgment_note})" if alarm.acknowledgment_note else ""
            )
            add(f"- {t(alarm.raised_at)} {alarm.message}; {ack}{note}")
    adverse = list(
        session.adverse_events.select_related("recorded_by").order_by("onset_at", "id")
    )
    add("")
    add("ADVERSE EVENTS AND INTERVENTIONS")
    if not adverse:
        add("- None recorded.")
    for effect in adverse:
        text = f"- {t(effect.onset_at)} {effect.get_kind_display()} ({effect.get_severity_display().lower()})"
        if effect.description:
            text += f": {effect.description}"
        if effect.intervention:
            text += f". Intervention: {effect.intervention}"
        add(text)
    for given in session.prn_given.select_related("given_by").order_by(
        "given_at", "id"
    ):
        add(
            f"- {t(given.given_at)} {given.drug} {_n(given.dose)} {given.unit} {given.route} given by "
            f"{given.given_by.display_name}"
            + (f" ({given.note})" if given.note else "")
        )
    scores = list(session.sedation_scores.order_by("assessed_at", "id"))
    cadss = list(session.questionnaires.select_related("response").order_by("id"))
    if scores or cadss:
        add("")
        add("SEDATION AND DISSOCIATION")
        for score in scores:
            add(
                f"- {t(score.assessed_at)} MOAA/S {score.score} ({MOAAS_LABELS[score.score]}), {score.phase}"
            )
        for taken in cadss:
            add(
                f"- {t(taken.response.completed_at)} CADSS-6 total {taken.response.total} of 24, {taken.phase}"
            )
    assessments = list(session.recovery_assessments.order_by("assessed_at", "id"))
    add("")
    add("RECOVERY AND DISCHARGE")
    for a in assessments:
        add(
            f"- {t(a.assessed_at)} modified Aldrete {a.total}/10 (activity {a.activity}, respiration "
            f"{a.respiration}, circulation {a.circulation}, consciousness {a.consciousness}, SpO2 {a.spo2})"
            + ("; ready" if a.ready else "; not ready: " + " ".join(a.unmet))
        )
    if session.discharged_at is not None:
        minutes = (
            int((session.discharged_at - session.ended_at).total_seconds() // 60)
            if session.ended_at
            else 0
        )
        add(
            f"- Discharged {t(session.discharged_at)} ({minutes} min after the infusion ended) to "
            f"{session.discharge_escort_name} by "
            f"{session.discharged_by.display_name if session.discharged_by else '—'}; instructions "
            f"given by {session.instructions_channel} (no driving until tomorrow; whom to call)."
        )
    add("- 24-hour post-infusion PHQ-9 scheduled.")
    if signed_by is not None and signed_at is not None:
        add("")
        add(
            f"Signed by {signed_by.display_name} at {signed_at.astimezone(zone):%Y-%m-%d %H:%M %Z}."
        )
    return "\n".join(lines)
