"""The tablet screen of one infusion: the page, its live part (polled), the printed
discharge instructions, and what every step's view shares (the refusal shown on the
page, the success message, the witness confirmed on a form)."""

import hashlib
import logging
import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django import forms
from django.contrib import messages
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from neuroclinic.accounts.access import polled, require_capability
from neuroclinic.accounts.roles import Capability
from neuroclinic.audit.models import AuditEvent
from neuroclinic.audit.record import record
from neuroclinic.http import AuthenticatedHttpRequest
from neuroclinic.infusions import forms as f
from neuroclinic.infusions.access import get_session_for_user
from neuroclinic.infusions.actions import (
    common,
    dose_draw,
    recovery_discharge,
    session_flow,
)
from neuroclinic.infusions.errors import InfusionError
from neuroclinic.infusions.models import InfusionSession, VitalReading
from neuroclinic.infusions.note_text import build_note
from neuroclinic.infusions.readiness import hard_stops, session_checklist
from neuroclinic.infusions.sparkline import spark
from neuroclinic.infusions.stepper import STEPS, Progress, current_step, step_states
from neuroclinic.ledger.witness import WitnessConfirmation, WitnessForm
from neuroclinic.treatment.actions.plans import plan_status

logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)


VITALS_SHOWN = 12


TREND_READINGS = 20


def local_zone(session: InfusionSession) -> ZoneInfo:
    return ZoneInfo(session.location.time_zone)


def elapsed_text(since: datetime | None, now: datetime) -> str:
    if since is None:
        return ""
    seconds = max(0, int((now - since).total_seconds()))
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


def trend(readings: list[VitalReading]) -> list[dict[str, Any]]:
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
        "trend": trend(recent),
        "unacknowledged": [a for a in alarms if a.acknowledged_at is None],
        "active_acknowledged": [
            a for a in alarms if a.acknowledged_at and a.cleared_at is None
        ],
        "estimated_ml": session_flow.estimated_volume_ml(session, at=now)
        if session.is_infusing
        else None,
        "ack_form": f.AcknowledgeForm(),
    }


def steps_version(session: InfusionSession, *, now: datetime | None = None) -> str:
    """A short fingerprint of what the open step shows that can change without this
    tablet: the status, the checklist, the dose and its check, the draws and waste, the
    recovery scores, the recovery minutes (until the protocol's minimum has passed),
    the note. The polled steps answer 204 while it is unchanged, so a nurse's half-typed
    form is not replaced every few seconds, and the new step shows by itself when it
    changes (another tablet, the offline queue, the minutes of recovery passing)."""
    dose = common.current_dose(session)
    summary = dose_draw.ledger_summary(session)
    assessment = recovery_discharge.latest_assessment(session)
    recovery_minutes = (
        min(
            recovery_discharge.minutes_since_end(session, now=now),
            session.order.protocol.min_recovery_minutes,
        )
        if session.status == InfusionSession.Status.RECOVERY
        else 0
    )
    note = getattr(session, "note", None)
    parts = (
        session.status,
        session.checklist_confirmed_at,
        session.escort_confirmed,
        session.weight_kg,
        dose.pk if dose else None,
        dose.checked_by_id if dose else None,
        summary.drawn_ml,
        summary.returned_ml,
        summary.administered_ml,
        summary.wasted_ml,
        assessment.pk if assessment else None,
        session.sedation_scores.order_by("-id").values_list("id", flat=True).first(),
        recovery_minutes,
        session.discharged_at,
        note.pk if note else None,
    )
    # str, not repr: the same facts read from the database or held in memory after an
    # action (a choices enum, a datetime's tzinfo, a Decimal's places) give one version.
    text = "|".join(
        str(part.normalize()) if isinstance(part, Decimal) else str(part)
        for part in parts
    )
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def session_context(
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
    local = local_zone(session)
    vials = dose_draw.vial_plan(session)
    enough_drawn = (
        dose is not None
        and summary.drawn_ml - summary.returned_ml >= dose.drug_volume_ml
    )
    second_check = order.protocol.second_check_required
    step = current_step(
        Progress(
            status=session.status,
            checklist_confirmed=session.checklist_confirmed_at is not None,
            ready_to_start=enough_drawn
            and not (second_check and dose is not None and dose.checked_by is None),
            ready_for_discharge=ready is not None and ready.ready,
            outstanding_ml=summary.outstanding_ml,
        )
    )
    states = step_states(step)

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
            containers=vials.vials,
            suggested=vials.suggested,
            initial={"volume_ml": vials.suggested_ml},
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
        "plan_status": plan_status(session.plan, today=session.service_date),
        "checklist": checklist_items,
        "hard_stops": hard_stops(checklist_items) if checklist_items else [],
        "dose": dose,
        "enough_drawn": enough_drawn,
        "step": step,
        "steps": states,
        "stepper": [
            {"key": key, "label": label, "state": states[key]} for key, label in STEPS
        ],
        "ledger": summary,
        "vial_note": vials.note,
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
        "second_check": second_check,
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
        "can_collect_consent": user.can(Capability.COLLECT_CONSENT),
        "consent_tablet_url": reverse(
            "intake:consent_tablet", kwargs={"patient_uuid": session.patient.uuid}
        ),
        "steps_version": steps_version(session),
    } | live_context(session)


def page(
    request: AuthenticatedHttpRequest,
    session: InfusionSession,
    bound: dict[str, forms.Form] | None = None,
) -> HttpResponse:
    return render(
        request,
        "infusions/session.html",
        session_context(request, session, bound or {}),
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
    return page(request, session)


@polled
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


@polled
@require_capability(Capability.VIEW_INFUSIONS)
@require_GET
def session_steps(
    request: AuthenticatedHttpRequest, session_uuid: uuid.UUID
) -> HttpResponse:
    """The steps, polled: 204 while nothing they show has changed (`v` is the version
    the screen has), else the steps again, with the new step open. Polling is not
    activity, so an unattended tablet still signs out when idle."""
    session = get_session_for_user(
        request.user, session_uuid, capability=Capability.VIEW_INFUSIONS
    )
    if request.GET.get("v") == steps_version(session):
        return HttpResponse(status=204)
    return render(
        request,
        "infusions/session.html#steps",
        session_context(request, session, {}),
    )


def client_key(form: forms.Form) -> uuid.UUID | None:
    value = form.cleaned_data.get("client_key")
    return value if isinstance(value, uuid.UUID) else None


def witness_confirmation(
    request: AuthenticatedHttpRequest, form: WitnessForm
) -> WitnessConfirmation | None:
    """The witness on the form, confirmed now (password + code); None with form errors if not.

    Called before the action and outside its transaction: a wrong code counts
    against the witness's authenticator even though the action writes nothing.
    """
    return form.confirm()


def done(
    request: AuthenticatedHttpRequest,
    session: InfusionSession,
    message: str,
    anchor: str = "",
) -> HttpResponse:
    messages.success(request, message)
    url = reverse("infusions:session", kwargs={"session_uuid": session.uuid})
    return redirect(f"{url}#{anchor}" if anchor else url)


def refused(
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
    return page(request, session, {name: form})


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
