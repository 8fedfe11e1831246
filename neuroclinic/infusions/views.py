"""The tablet screen, the nurse-station board and the reports. Views stay thin:
access check, form, action, render (STYLE.md B.8)."""

import logging
import uuid
from collections.abc import Callable
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django import forms
from django.contrib import messages
from django.db import transaction
from django.db.models import QuerySet
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from neuroclinic.accounts.access import require_capability
from neuroclinic.accounts.roles import Capability
from neuroclinic.audit.models import AuditEvent
from neuroclinic.audit.record import record
from neuroclinic.clinics.models import Location, Room
from neuroclinic.http import AuthenticatedHttpRequest
from neuroclinic.infusions import forms as f
from neuroclinic.infusions.access import get_session_for_user
from neuroclinic.infusions.actions import (
    common,
    dose_draw,
    events,
    monitoring,
    notes,
    recovery_discharge,
    session_flow,
)
from neuroclinic.infusions.errors import InfusionError
from neuroclinic.infusions.models import (
    InfusionSession,
    SessionAlarm,
    VitalReading,
)
from neuroclinic.infusions.note_text import build_note
from neuroclinic.infusions.readiness import hard_stops, session_checklist
from neuroclinic.infusions.sparkline import spark
from neuroclinic.ledger.errors import LedgerError
from neuroclinic.ledger.witness import WitnessConfirmation, confirm_witness
from neuroclinic.patients.access import get_patient_for_user
from neuroclinic.treatment import actions as treatment

logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)

VITALS_SHOWN = 12
TREND_READINGS = 20


def _zone(session: InfusionSession) -> ZoneInfo:
    return ZoneInfo(session.location.time_zone)


def elapsed_text(since: datetime | None, now: datetime) -> str:
    if since is None:
        return ""
    seconds = max(0, int((now - since).total_seconds()))
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


def _trend(readings: list[VitalReading]) -> list[dict[str, Any]]:
    """Sparklines of the last readings; the fixed floor and ceiling keep a flat normal
    trace flat instead of magnifying noise."""
    lines = [
        ("systolic", "Systolic", [r.systolic_mmhg for r in readings], 100, 180),
        ("heart-rate", "HR", [r.heart_rate_bpm for r in readings], 50, 120),
        ("spo2", "SpO2", [r.spo2_percent for r in readings], 88, 100),
    ]
    return [
        {"key": key, "label": label, "line": line}
        for key, label, values, low, high in lines
        if (line := spark(values, low=low, high=high)) is not None
    ]


def live_context(
    session: InfusionSession, *, now: datetime | None = None
) -> dict[str, Any]:
    now = now or timezone.now()
    recent = list(session.vitals.order_by("-taken_at", "-id")[:TREND_READINGS])
    recent.reverse()
    alarms = list(
        session.alarms.select_related("acknowledged_by").order_by("-raised_at")[:20]
    )
    return {
        "session": session,
        "now": now,
        "elapsed": elapsed_text(session.started_at, session.ended_at or now)
        if session.started_at
        else "",
        "recovery_elapsed": elapsed_text(session.ended_at, session.discharged_at or now)
        if session.ended_at
        else "",
        "recent": list(reversed(recent[-VITALS_SHOWN:])),
        "latest": recent[-1] if recent else None,
        "trend": _trend(recent),
        "unacknowledged": [a for a in alarms if a.acknowledged_at is None],
        "active_acknowledged": [
            a for a in alarms if a.acknowledged_at and a.cleared_at is None
        ],
        "estimated_ml": session_flow.estimated_volume_ml(session, at=now)
        if session.is_infusing
        else None,
        "ack_form": f.AcknowledgeForm(),
    }


def _session_context(
    request: AuthenticatedHttpRequest,
    session: InfusionSession,
    bound: dict[str, forms.Form],
) -> dict[str, Any]:
    user = request.user
    zone = session.location.time_zone
    dose = common.current_dose(session)
    summary = dose_draw.ledger_summary(session)
    order = session.order
    checklist_items = (
        session_checklist(session)
        if session.status == InfusionSession.Status.CHECKED_IN
        else []
    )
    limits = session_flow.rate_limits(session)
    latest_assessment = recovery_discharge.latest_assessment(session)
    ready = (
        recovery_discharge.readiness(session)
        if session.status == InfusionSession.Status.RECOVERY
        else None
    )
    note = (
        getattr(session, "note", None)
        if session.status == InfusionSession.Status.CLOSED
        else None
    )
    local = _zone(session)

    def local_value(moment: datetime | None) -> str:
        return moment.astimezone(local).strftime(f.LOCAL_FORMAT) if moment else ""

    forms_: dict[str, forms.Form] = {
        "checklist": f.ChecklistForm(
            zone=zone,
            initial={
                "height_cm": session.height_cm,
                "last_solids_at": local_value(session.last_solids_at),
                "last_clear_liquids_at": local_value(session.last_clear_liquids_at),
                "escort_name": session.escort_name,
                "escort_phone": session.escort_phone,
                "escort_confirmed": session.escort_confirmed,
                "pregnancy_status": session.pregnancy_status,
                "pregnancy_note": session.pregnancy_note,
            },
        ),
        "vitals": f.VitalsForm(),
        "dose": f.DoseForm(
            initial={
                "concentration_mg_per_ml": "50",
                "diluent_volume_ml": order.diluent_volume_ml,
            }
        ),
        "dose_check": f.DoseCheckForm(actor=user, prefix="check"),
        "draw": f.DrawForm(
            containers=dose_draw.draw_containers(session),
            initial={"volume_ml": dose.drug_volume_ml if dose else None},
        ),
        "start": f.TabletForm(),
        "pause": f.PauseForm(prefix="pause"),
        "resume": f.ResumeForm(prefix="resume"),
        "rate": f.RateForm(initial={"rate_ml_per_hour": session.rate_ml_per_hour}),
        "stop": f.StopForm(prefix="stop"),
        "event": f.AdverseEventForm(prefix="event"),
        "prn": f.PrnForm(session=session, prefix="prn"),
        "sedation": f.SedationForm(prefix="sedation"),
        "cadss": f.CadssForm(prefix="cadss"),
        "recovery": f.RecoveryForm(
            prefix="recovery",
            initial=recovery_discharge.suggested_aldrete(session)
            | {"activity": 2, "respiration": 2, "consciousness": 2},
        ),
        "discharge": f.DischargeForm(initial={"escort_name": session.escort_name}),
        "waste": f.WasteForm(
            actor=user,
            prefix="waste",
            initial={"volume_ml": summary.outstanding_ml or None},
        ),
        "sign": f.SignForm(prefix="sign"),
        "cosign": f.SignForm(prefix="cosign"),
        "addendum": f.AddendumForm(),
        "cancel": f.CancelForm(prefix="cancel"),
    } | bound
    return {
        "session": session,
        "patient": session.patient,
        "order": order,
        "protocol": order.protocol,
        "plan_status": treatment.plan_status(session.plan, today=session.service_date),
        "checklist": checklist_items,
        "hard_stops": hard_stops(checklist_items) if checklist_items else [],
        "dose": dose,
        "enough_drawn": dose is not None
        and summary.drawn_ml - summary.returned_ml >= dose.drug_volume_ml,
        "ledger": summary,
        "reconciliation_problem": dose_draw.reconciliation_problem(session),
        "rate_limits": limits,
        "latest_assessment": latest_assessment,
        "readiness": ready,
        "minutes_since_end": recovery_discharge.minutes_since_end(session),
        "events": session.events.select_related("by").order_by("-occurred_at", "-id"),
        "adverse_events": session.adverse_events.prefetch_related("prn_given").order_by(
            "onset_at"
        ),
        "prn_given": session.prn_given.select_related("given_by").order_by("given_at"),
        "sedation_scores": session.sedation_scores.order_by("assessed_at"),
        "cadss": session.questionnaires.select_related("response").order_by("id"),
        "note": note,
        "note_preview": build_note(session)
        if session.status == InfusionSession.Status.DISCHARGED
        else "",
        "instructions": recovery_discharge.discharge_instructions(session),
        "forms": forms_,
        "can_run": user.can(Capability.RUN_INFUSIONS),
        "can_cosign": user.can(Capability.WRITE_ORDERS),
        "second_check": order.protocol.second_check_required,
        "is_checked_in": session.status == InfusionSession.Status.CHECKED_IN,
        "is_infusing": session.is_infusing,
        "in_recovery": session.status == InfusionSession.Status.RECOVERY,
        "phq9_url": reverse(
            "measures:enter",
            kwargs={"patient_uuid": session.patient.uuid, "code": "phq9"},
        ),
        "kiosk_url": reverse(
            "measures:start_kiosk", kwargs={"patient_uuid": session.patient.uuid}
        ),
    } | live_context(session)


def _page(
    request: AuthenticatedHttpRequest,
    session: InfusionSession,
    bound: dict[str, forms.Form] | None = None,
) -> HttpResponse:
    return render(
        request,
        "infusions/session.html",
        _session_context(request, session, bound or {}),
    )


@require_capability(Capability.VIEW_INFUSIONS)
@require_GET
def session_page(
    request: AuthenticatedHttpRequest, session_uuid: uuid.UUID
) -> HttpResponse:
    session = get_session_for_user(
        request.user, session_uuid, capability=Capability.VIEW_INFUSIONS
    )
    with transaction.atomic():
        record(
            AuditEvent.Action.INFUSION_VIEWED,
            actor=request.user,
            patient=session.patient,
            subject=session,
        )
    return _page(request, session)


@require_capability(Capability.VIEW_INFUSIONS)
@require_GET
def session_live(
    request: AuthenticatedHttpRequest, session_uuid: uuid.UUID
) -> HttpResponse:
    """The part of the tablet screen that changes by itself: status, alarms, vitals (polled)."""
    session = get_session_for_user(
        request.user, session_uuid, capability=Capability.VIEW_INFUSIONS
    )
    context = live_context(session) | {
        "can_run": request.user.can(Capability.RUN_INFUSIONS)
    }
    if request.GET.get("part") == "readings":
        return render(request, "infusions/readings.html", context)
    return render(request, "infusions/live.html", context)


def _client_key(form: forms.Form) -> uuid.UUID | None:
    value = form.cleaned_data.get("client_key")
    return value if isinstance(value, uuid.UUID) else None


def _witness(
    request: AuthenticatedHttpRequest, form: f.WitnessFields
) -> WitnessConfirmation | None:
    """The witness on the form, confirmed now (password + code); None with form errors if not.

    Called before the action and outside its transaction: a wrong code counts
    against the witness's authenticator even though the action writes nothing.
    """
    witness = form.cleaned_data.get("witness")
    if witness is None:
        form.add_error("witness", "Choose the witness.")
        return None
    try:
        return confirm_witness(
            actor=request.user,
            witness_username=witness.username,
            password=form.cleaned_data.get("witness_password") or "",
            otp_code=form.cleaned_data.get("witness_code") or "",
        )
    except LedgerError as exc:
        field = exc.field if exc.field in form.fields else None
        form.add_error(field, exc.message)
        return None


Step = Callable[[AuthenticatedHttpRequest, InfusionSession], HttpResponse]
STEPS: dict[str, Step] = {}


def step(name: str) -> Callable[[Step], Step]:
    def register(view: Step) -> Step:
        STEPS[name] = view
        return view

    return register


def _done(
    request: AuthenticatedHttpRequest,
    session: InfusionSession,
    message: str,
    anchor: str = "",
) -> HttpResponse:
    messages.success(request, message)
    url = reverse("infusions:session", kwargs={"session_uuid": session.uuid})
    return redirect(f"{url}#{anchor}" if anchor else url)


def _refused(
    request: AuthenticatedHttpRequest,
    session: InfusionSession,
    name: str,
    form: forms.Form,
    exc: InfusionError | None = None,
) -> HttpResponse:
    if exc is not None:
        f.add_errors(form, exc)
    session.refresh_from_db()
    # 200, as Django forms do: a browser logs every 4xx as an error.
    return _page(request, session, {name: form})


@step("checklist")
def _checklist(
    request: AuthenticatedHttpRequest, session: InfusionSession
) -> HttpResponse:
    form = f.ChecklistForm(request.POST, zone=session.location.time_zone)
    if not form.is_valid():
        return _refused(request, session, "checklist", form)
    data = form.cleaned_data
    try:
        session_flow.save_checklist(
            session,
            by=request.user,
            weight=data["weight"] or "",
            weight_unit=data["weight_unit"],
            height_cm=data["height_cm"],
            last_solids_at=data["last_solids_at"],
            last_clear_liquids_at=data["last_clear_liquids_at"],
            escort_name=data["escort_name"],
            escort_phone=data["escort_phone"],
            escort_confirmed=data["escort_confirmed"],
            pregnancy_status=data["pregnancy_status"] or "",
            pregnancy_note=data["pregnancy_note"],
        )
    except InfusionError as exc:
        return _refused(request, session, "checklist", form, exc)
    return _done(request, session, "Checklist saved.", "checklist")


@step("confirm-checklist")
def _confirm(
    request: AuthenticatedHttpRequest, session: InfusionSession
) -> HttpResponse:
    try:
        session_flow.confirm_checklist(session, by=request.user)
    except InfusionError as exc:
        messages.error(request, exc.message)
        return redirect("infusions:session", session_uuid=session.uuid)
    return _done(
        request, session, "Checklist confirmed: every hard stop is clear.", "dose"
    )


@step("vitals")
def _vitals(
    request: AuthenticatedHttpRequest, session: InfusionSession
) -> HttpResponse:
    form = f.VitalsForm(request.POST)
    if not form.is_valid():
        return _refused(request, session, "vitals", form)
    values = {
        k: v
        for k, v in form.cleaned_data.items()
        if k not in ("client_key", "occurred_at")
    }
    try:
        result = monitoring.record_typed_vitals(
            session,
            values,
            by=request.user,
            taken_at=form.cleaned_data["occurred_at"],
            client_key=_client_key(form),
        )
    except InfusionError as exc:
        return _refused(request, session, "vitals", form, exc)
    new_alarms = [a for a in result.alarms if a.acknowledged_at is None]
    if new_alarms:
        messages.error(request, "ALARM: " + " ".join(a.message for a in new_alarms))
        return redirect("infusions:session", session_uuid=session.uuid)
    return _done(request, session, "Vital signs recorded.", "vitals")


@step("dose")
def _dose(request: AuthenticatedHttpRequest, session: InfusionSession) -> HttpResponse:
    form = f.DoseForm(request.POST)
    if not form.is_valid():
        return _refused(request, session, "dose", form)
    try:
        dose = dose_draw.calculate_dose(
            session,
            by=request.user,
            concentration_mg_per_ml=Decimal(
                form.cleaned_data["concentration_mg_per_ml"]
            ),
            diluent_volume_ml=form.cleaned_data["diluent_volume_ml"],
        )
    except InfusionError as exc:
        return _refused(request, session, "dose", form, exc)
    return _done(
        request,
        session,
        f"Dose calculated: {dose.dose_mg} mg at {dose.rate_ml_per_hour} mL/h.",
        "dose",
    )


@step("check-dose")
def _check_dose(
    request: AuthenticatedHttpRequest, session: InfusionSession
) -> HttpResponse:
    form = f.DoseCheckForm(request.POST, actor=request.user, prefix="check")
    confirmation = _witness(request, form) if form.is_valid() else None
    if confirmation is None:
        return _refused(request, session, "dose_check", form)
    try:
        dose_draw.check_dose(session, by=request.user, checker=confirmation)
    except InfusionError as exc:
        return _refused(request, session, "dose_check", form, exc)
    return _done(
        request,
        session,
        f"Dose checked by {confirmation.witness.display_name}.",
        "draw",
    )


@step("draw")
def _draw(request: AuthenticatedHttpRequest, session: InfusionSession) -> HttpResponse:
    form = f.DrawForm(request.POST, containers=dose_draw.draw_containers(session))
    if not form.is_valid():
        return _refused(request, session, "draw", form)
    try:
        dose_draw.draw(
            session,
            by=request.user,
            container=form.cleaned_data["container"],
            volume_ml=form.cleaned_data["volume_ml"],
        )
    except InfusionError as exc:
        return _refused(request, session, "draw", form, exc)
    return _done(
        request,
        session,
        f"Drew {form.cleaned_data['volume_ml']} mL (recorded in the ledger).",
        "infusion",
    )


def _pump_step(
    request: AuthenticatedHttpRequest,
    session: InfusionSession,
    name: str,
    form: f.TabletForm,
    run: Callable[[dict[str, Any]], object],
    message: str,
) -> HttpResponse:
    if not form.is_valid():
        return _refused(request, session, name, form)
    try:
        run(form.cleaned_data)
    except InfusionError as exc:
        return _refused(request, session, name, form, exc)
    return _done(request, session, message, "infusion")


@step("start")
def _start(request: AuthenticatedHttpRequest, session: InfusionSession) -> HttpResponse:
    form = f.TabletForm(request.POST)
    return _pump_step(
        request,
        session,
        "start",
        form,
        lambda d: session_flow.start(
            session,
            by=request.user,
            occurred_at=d["occurred_at"],
            client_key=_client_key(form),
        ),
        "Infusion started.",
    )


@step("pause")
def _pause(request: AuthenticatedHttpRequest, session: InfusionSession) -> HttpResponse:
    form = f.PauseForm(request.POST, prefix="pause")
    return _pump_step(
        request,
        session,
        "pause",
        form,
        lambda d: session_flow.pause(
            session,
            by=request.user,
            reason=d["reason"],
            occurred_at=d["occurred_at"],
            client_key=_client_key(form),
        ),
        "Infusion paused.",
    )


@step("resume")
def _resume(
    request: AuthenticatedHttpRequest, session: InfusionSession
) -> HttpResponse:
    form = f.ResumeForm(request.POST, prefix="resume")
    return _pump_step(
        request,
        session,
        "resume",
        form,
        lambda d: session_flow.resume(
            session,
            by=request.user,
            reason=d["reason"],
            occurred_at=d["occurred_at"],
            client_key=_client_key(form),
        ),
        "Infusion resumed.",
    )


@step("rate")
def _rate(request: AuthenticatedHttpRequest, session: InfusionSession) -> HttpResponse:
    form = f.RateForm(request.POST)
    return _pump_step(
        request,
        session,
        "rate",
        form,
        lambda d: session_flow.change_rate(
            session,
            by=request.user,
            rate_ml_per_hour=d["rate_ml_per_hour"],
            reason=d["reason"],
            occurred_at=d["occurred_at"],
            client_key=_client_key(form),
        ),
        "Rate changed.",
    )


@step("stop")
def _stop(request: AuthenticatedHttpRequest, session: InfusionSession) -> HttpResponse:
    form = f.StopForm(request.POST, prefix="stop")
    return _pump_step(
        request,
        session,
        "stop",
        form,
        lambda d: session_flow.stop(
            session,
            by=request.user,
            reason=d["reason"],
            completed=d["completed"] == "yes",
            volume_infused_ml=d["volume_infused_ml"],
            occurred_at=d["occurred_at"],
            client_key=_client_key(form),
        ),
        "Infusion stopped. Recovery has begun.",
    )


@step("event")
def _adverse_event(
    request: AuthenticatedHttpRequest, session: InfusionSession
) -> HttpResponse:
    form = f.AdverseEventForm(request.POST, prefix="event")
    if not form.is_valid():
        return _refused(request, session, "event", form)
    d = form.cleaned_data
    try:
        event = events.record_adverse_event(
            session,
            by=request.user,
            kind=d["kind"],
            severity=d["severity"],
            onset_at=d["occurred_at"],
            description=d["description"],
            intervention=d["intervention"],
            client_key=_client_key(form),
        )
    except InfusionError as exc:
        return _refused(request, session, "event", form, exc)
    return _done(request, session, f"{event} recorded.", "events")


@step("prn")
def _prn(request: AuthenticatedHttpRequest, session: InfusionSession) -> HttpResponse:
    form = f.PrnForm(request.POST, session=session, prefix="prn")
    if not form.is_valid():
        return _refused(request, session, "prn", form)
    d = form.cleaned_data
    try:
        given = events.give_prn(
            session,
            by=request.user,
            prn_order=d["prn_order"],
            dose=d["dose"],
            given_at=d["occurred_at"],
            adverse_event=d["adverse_event"],
            note=d["note"],
            client_key=_client_key(form),
        )
    except InfusionError as exc:
        return _refused(request, session, "prn", form, exc)
    return _done(request, session, f"{given} given.", "events")


@step("sedation")
def _sedation(
    request: AuthenticatedHttpRequest, session: InfusionSession
) -> HttpResponse:
    form = f.SedationForm(request.POST, prefix="sedation")
    if not form.is_valid():
        return _refused(request, session, "sedation", form)
    try:
        events.record_sedation(
            session,
            by=request.user,
            score=form.cleaned_data["score"],
            assessed_at=form.cleaned_data["occurred_at"],
            client_key=_client_key(form),
        )
    except InfusionError as exc:
        return _refused(request, session, "sedation", form, exc)
    return _done(
        request, session, f"MOAA/S {form.cleaned_data['score']} recorded.", "events"
    )


@step("cadss")
def _cadss(request: AuthenticatedHttpRequest, session: InfusionSession) -> HttpResponse:
    form = f.CadssForm(request.POST, prefix="cadss")
    if not form.is_valid():
        return _refused(request, session, "cadss", form)
    try:
        link = events.record_cadss6(
            session,
            by=request.user,
            answers=form.answers(),
            submission_key=_client_key(form),
        )
    except InfusionError as exc:
        return _refused(request, session, "cadss", form, exc)
    return _done(
        request, session, f"CADSS-6 recorded: {link.response.total} of 24.", "events"
    )


@step("recovery")
def _recovery(
    request: AuthenticatedHttpRequest, session: InfusionSession
) -> HttpResponse:
    form = f.RecoveryForm(request.POST, prefix="recovery")
    if not form.is_valid():
        return _refused(request, session, "recovery", form)
    d = form.cleaned_data
    try:
        assessment = recovery_discharge.assess_recovery(
            session,
            by=request.user,
            activity=d["activity"],
            respiration=d["respiration"],
            circulation=d["circulation"],
            consciousness=d["consciousness"],
            spo2=d["spo2"],
            moaas_score=d["moaas_score"],
            client_key=_client_key(form),
        )
    except InfusionError as exc:
        return _refused(request, session, "recovery", form, exc)
    text = f"Modified Aldrete {assessment.total}/10: " + (
        "discharge criteria met." if assessment.ready else "not yet ready."
    )
    return _done(request, session, text, "recovery")


@step("discharge")
def _discharge(
    request: AuthenticatedHttpRequest, session: InfusionSession
) -> HttpResponse:
    form = f.DischargeForm(request.POST)
    if not form.is_valid():
        return _refused(request, session, "discharge", form)
    try:
        recovery_discharge.discharge(
            session,
            by=request.user,
            escort_name=form.cleaned_data["escort_name"],
            instructions_channel=form.cleaned_data["instructions_channel"],
        )
    except InfusionError as exc:
        return _refused(request, session, "discharge", form, exc)
    return _done(
        request, session, "Discharged. Waste what remains, then sign the note.", "waste"
    )


@step("waste")
def _waste(request: AuthenticatedHttpRequest, session: InfusionSession) -> HttpResponse:
    form = f.WasteForm(request.POST, actor=request.user, prefix="waste")
    confirmation = _witness(request, form) if form.is_valid() else None
    if confirmation is None:
        return _refused(request, session, "waste", form)
    try:
        dose_draw.waste(
            session,
            by=request.user,
            volume_ml=form.cleaned_data["volume_ml"],
            witness=confirmation,
        )
    except InfusionError as exc:
        return _refused(request, session, "waste", form, exc)
    return _done(
        request,
        session,
        f"Wasted {form.cleaned_data['volume_ml']} mL, witnessed by {confirmation.witness.display_name}.",
        "note",
    )


@step("sign")
def _sign(request: AuthenticatedHttpRequest, session: InfusionSession) -> HttpResponse:
    form = f.SignForm(request.POST, prefix="sign")
    if not form.is_valid():
        return _refused(request, session, "sign", form)
    try:
        notes.sign_note(
            session, by=request.user, password=form.cleaned_data["password"]
        )
    except InfusionError as exc:
        return _refused(request, session, "sign", form, exc)
    return _done(
        request, session, "Note signed and locked. The prescriber will co-sign.", "note"
    )


@step("cancel")
def _cancel(
    request: AuthenticatedHttpRequest, session: InfusionSession
) -> HttpResponse:
    form = f.CancelForm(request.POST, prefix="cancel")
    if not form.is_valid():
        return _refused(request, session, "cancel", form)
    try:
        session_flow.cancel(
            session, by=request.user, reason=form.cleaned_data["reason"]
        )
    except InfusionError as exc:
        return _refused(request, session, "cancel", form, exc)
    return _done(request, session, "Infusion cancelled.")


@step("addendum")
def _addendum(
    request: AuthenticatedHttpRequest, session: InfusionSession
) -> HttpResponse:
    form = f.AddendumForm(request.POST)
    note = getattr(session, "note", None)
    if note is None:
        raise Http404("No signed note.")
    if not form.is_valid():
        return _refused(request, session, "addendum", form)
    try:
        notes.add_addendum(note, by=request.user, text=form.cleaned_data["text"])
    except InfusionError as exc:
        return _refused(request, session, "addendum", form, exc)
    return _done(request, session, "Addendum added.", "note")


@require_capability(Capability.RUN_INFUSIONS)
@require_POST
def session_step(
    request: AuthenticatedHttpRequest, session_uuid: uuid.UUID, step_name: str
) -> HttpResponse:
    session = get_session_for_user(
        request.user, session_uuid, capability=Capability.RUN_INFUSIONS
    )
    view = STEPS.get(step_name)
    if view is None:
        raise Http404("No such step.")
    return view(request, session)


@require_capability(Capability.WRITE_ORDERS)
@require_POST
def cosign(request: AuthenticatedHttpRequest, session_uuid: uuid.UUID) -> HttpResponse:
    session = get_session_for_user(
        request.user, session_uuid, capability=Capability.WRITE_ORDERS
    )
    note = getattr(session, "note", None)
    if note is None:
        raise Http404("No signed note.")
    form = f.SignForm(request.POST, prefix="cosign")
    if not form.is_valid():
        return _refused(request, session, "cosign", form)
    try:
        notes.cosign_note(note, by=request.user, password=form.cleaned_data["password"])
    except InfusionError as exc:
        return _refused(request, session, "cosign", form, exc)
    return _done(request, session, "Note co-signed.", "note")


@require_capability(Capability.RUN_INFUSIONS)
@require_POST
def acknowledge(
    request: AuthenticatedHttpRequest, session_uuid: uuid.UUID, alarm_uuid: uuid.UUID
) -> HttpResponse:
    session = get_session_for_user(
        request.user, session_uuid, capability=Capability.RUN_INFUSIONS
    )
    alarm = get_object_or_404(SessionAlarm, uuid=alarm_uuid, session=session)
    form = f.AcknowledgeForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    try:
        monitoring.acknowledge_alarm(alarm, by=request.user, note=note)
    except InfusionError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Alarm acknowledged: {alarm.message}")
    if request.htmx:
        return render(
            request, "infusions/live.html", live_context(session) | {"can_run": True}
        )
    return redirect("infusions:session", session_uuid=session.uuid)


@require_capability(Capability.VIEW_INFUSIONS)
@require_GET
def instructions_pdf(
    request: AuthenticatedHttpRequest, session_uuid: uuid.UUID
) -> HttpResponse:
    session = get_session_for_user(
        request.user, session_uuid, capability=Capability.VIEW_INFUSIONS
    )
    html = render_to_string(
        "infusions/instructions_print.html",
        {
            "session": session,
            "instructions": recovery_discharge.discharge_instructions(session),
            "now": timezone.now(),
        },
        request=request,
    )
    from weasyprint import HTML  # type: ignore[import-untyped]  # loads pango: only when needed

    pdf = HTML(string=html, base_url=request.build_absolute_uri("/")).write_pdf()
    with transaction.atomic():
        record(
            AuditEvent.Action.CHART_PRINTED,
            actor=request.user,
            patient=session.patient,
            subject=session,
            what="discharge instructions",
        )
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = (
        f'inline; filename="discharge-instructions-{session.service_date}.pdf"'
    )
    return response


# --- check-in, the day, the board, the log ---------------------------------------------


@require_capability(Capability.RUN_INFUSIONS)
@require_POST
def check_in(
    request: AuthenticatedHttpRequest, patient_uuid: uuid.UUID
) -> HttpResponse:
    patient = get_patient_for_user(
        request.user, patient_uuid, capability=Capability.RUN_INFUSIONS
    )
    form = f.CheckInForm(request.POST, organization_id=request.user.organization_pk)
    if not form.is_valid():
        messages.error(request, "Choose an infusion room.")
        return redirect("patients:chart", patient_uuid=patient.uuid)
    try:
        session = session_flow.check_in(
            patient, room=form.cleaned_data["room"], by=request.user
        )
    except InfusionError as exc:
        messages.error(request, exc.message)
        return redirect("patients:chart", patient_uuid=patient.uuid)
    messages.success(
        request, f"{patient.display_name} checked in to {session.room.name}."
    )
    return redirect("infusions:session", session_uuid=session.uuid)


def _locations(request: AuthenticatedHttpRequest) -> QuerySet[Location]:
    return Location.objects.filter(
        organization_id=request.user.organization_pk, is_active=True
    ).order_by("name", "id")


def _chosen_location(request: AuthenticatedHttpRequest) -> Location | None:
    chosen = request.GET.get("location")
    locations = _locations(request)
    if chosen:
        try:
            return locations.get(uuid=chosen)
        except (Location.DoesNotExist, ValueError, forms.ValidationError):
            raise Http404("No such location.") from None
    return locations.first()


@require_capability(Capability.VIEW_INFUSIONS)
@require_GET
def day(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The day's infusions at one location (report and worklist)."""
    location = _chosen_location(request)
    zone = ZoneInfo(location.time_zone) if location else ZoneInfo("UTC")
    today = timezone.now().astimezone(zone).date()
    try:
        on = (
            date.fromisoformat(request.GET.get("date", ""))
            if request.GET.get("date")
            else today
        )
    except ValueError:
        on = today
    sessions = (
        InfusionSession.objects.filter(location=location, service_date=on)
        .select_related("patient", "room", "order", "nurse")
        .prefetch_related("adverse_events", "prn_given")
        .order_by("checked_in_at")
        if location
        else InfusionSession.objects.none()
    )
    rows = list(sessions)
    with transaction.atomic():
        record(
            AuditEvent.Action.INFUSION_REPORT_VIEWED,
            actor=request.user,
            report="day",
            location=location.name if location else "",
            date=on.isoformat(),
            count=len(rows),
        )
    totals = {
        "count": len(rows),
        "given": sum(1 for s in rows if s.mg_given),
        "mg": sum((s.mg_given or Decimal(0) for s in rows), Decimal(0)),
        "early": sum(1 for s in rows if s.stopped_early),
        "events": sum(s.adverse_events.count() for s in rows),
    }
    return render(
        request,
        "infusions/day.html",
        {
            "location": location,
            "locations": _locations(request),
            "on": on,
            "previous": on - timedelta(days=1),
            "next": on + timedelta(days=1),
            "today": today,
            "rows": rows,
            "totals": totals,
        },
    )


@require_capability(Capability.VIEW_INFUSIONS)
@require_GET
def patient_log(
    request: AuthenticatedHttpRequest, patient_uuid: uuid.UUID
) -> HttpResponse:
    """Every infusion of one patient, with dose, delivery, events and the PHQ-9 around it."""
    patient = get_patient_for_user(
        request.user, patient_uuid, capability=Capability.VIEW_INFUSIONS
    )
    sessions = list(
        InfusionSession.objects.filter(patient=patient)
        .select_related("room", "location", "order", "nurse")
        .prefetch_related("adverse_events", "prn_given", "alarms", "doses")
        .order_by("checked_in_at")
    )
    from neuroclinic.measures.models import QuestionnaireResponse

    phq9 = list(
        QuestionnaireResponse.objects.filter(
            patient=patient, instrument_code="phq9", amended_by__isnull=True
        )
        .order_by("completed_at")
        .values_list("completed_at", "total")
    )

    def phq9_before(moment: datetime) -> int | None:
        found = [
            total
            for at, total in phq9
            if at <= moment and at >= moment - timedelta(days=3)
        ]
        return found[-1] if found else None

    def phq9_after(moment: datetime | None) -> int | None:
        if moment is None:
            return None
        found = [
            total for at, total in phq9 if moment < at <= moment + timedelta(days=3)
        ]
        return found[0] if found else None

    rows = [
        {
            "session": s,
            "dose": max(
                s.doses.all(), key=lambda d: (d.calculated_at, d.pk), default=None
            ),
            "phq9_before": phq9_before(s.started_at or s.checked_in_at),
            "phq9_after": phq9_after(s.ended_at),
            "events": list(s.adverse_events.all()),
            "prn": list(s.prn_given.all()),
            "alarms": len(s.alarms.all()),
        }
        for s in sessions
    ]
    plan = treatment.active_plan(patient)
    with transaction.atomic():
        record(
            AuditEvent.Action.INFUSION_REPORT_VIEWED,
            actor=request.user,
            patient=patient,
            report="patient_log",
            count=len(rows),
        )
    return render(
        request,
        "infusions/patient_log.html",
        {
            "patient": patient,
            "rows": rows,
            "plan": plan,
            "plan_status": treatment.plan_status(plan) if plan else None,
            "total_mg": sum((s.mg_given or Decimal(0) for s in sessions), Decimal(0)),
        },
    )


def board_rooms(
    location: Location, *, now: datetime | None = None
) -> list[dict[str, Any]]:
    """Every infusion room at the location with its open session, vitals trend and alarm state."""
    now = now or timezone.now()
    rooms = list(
        Room.objects.filter(
            location=location, kind=Room.Kind.INFUSION, is_active=True
        ).order_by("name", "id")
    )
    open_statuses = [
        InfusionSession.Status.CHECKED_IN,
        InfusionSession.Status.RUNNING,
        InfusionSession.Status.PAUSED,
        InfusionSession.Status.RECOVERY,
    ]
    sessions = {
        s.room_id: s
        for s in InfusionSession.objects.filter(
            room__in=rooms, status__in=open_statuses
        ).select_related("patient", "order")
    }
    alarms: dict[int, list[SessionAlarm]] = {}
    for alarm in SessionAlarm.objects.filter(
        session__in=list(sessions.values()), acknowledged_at__isnull=True
    ).order_by("-raised_at"):
        alarms.setdefault(alarm.session_id, []).append(alarm)
    active: dict[int, list[SessionAlarm]] = {}
    for alarm in SessionAlarm.objects.filter(
        session__in=list(sessions.values()),
        acknowledged_at__isnull=False,
        cleared_at__isnull=True,
    ):
        active.setdefault(alarm.session_id, []).append(alarm)
    cards = []
    for room in rooms:
        session = sessions.get(room.pk)
        card: dict[str, Any] = {"room": room, "session": session}
        if session is not None:
            recent = list(session.vitals.order_by("-taken_at", "-id")[:TREND_READINGS])
            recent.reverse()
            unacked = alarms.get(session.pk, [])
            state = "ok"
            if any(a.is_critical for a in unacked):
                state = "critical"
            elif unacked:
                state = "warning"
            elif active.get(session.pk):
                state = "acknowledged"
            if session.status == InfusionSession.Status.RECOVERY:
                clock, clock_label = elapsed_text(session.ended_at, now), "in recovery"
            elif session.started_at:
                clock, clock_label = (
                    elapsed_text(session.started_at, now),
                    "infusing"
                    if session.status == InfusionSession.Status.RUNNING
                    else "paused",
                )
            else:
                clock, clock_label = (
                    elapsed_text(session.checked_in_at, now),
                    "since check-in",
                )
            card |= {
                "latest": recent[-1] if recent else None,
                "trend": _trend(recent),
                "alarms": unacked,
                "active_alarms": active.get(session.pk, []),
                "state": state,
                "clock": clock,
                "clock_label": clock_label,
                "stale": bool(recent)
                and now - recent[-1].taken_at > timedelta(minutes=15),
            }
        cards.append(card)
    return cards


@require_capability(Capability.VIEW_INFUSIONS)
@require_GET
def board(request: AuthenticatedHttpRequest) -> HttpResponse:
    location = _chosen_location(request)
    if location is None:
        raise Http404("No location.")
    with transaction.atomic():
        record(
            AuditEvent.Action.INFUSION_REPORT_VIEWED,
            actor=request.user,
            report="board",
            location=location.name,
        )
    return render(
        request,
        "infusions/board.html",
        {
            "location": location,
            "locations": _locations(request),
            "cards": board_rooms(location),
            "now": timezone.now(),
        },
    )


@require_capability(Capability.VIEW_INFUSIONS)
@require_GET
def board_fragment(
    request: AuthenticatedHttpRequest, location_uuid: uuid.UUID
) -> HttpResponse:
    """What the board polls every second."""
    location = get_object_or_404(
        Location, uuid=location_uuid, organization_id=request.user.organization_pk
    )
    return render(
        request,
        "infusions/board_rooms.html",
        {"cards": board_rooms(location), "location": location, "now": timezone.now()},
    )
