"""A patient's TMS page: the safety screens and decisions, motor thresholds and course orders,
each recorded on its own page by the role that does it (screen and threshold: run_tms; decision
and course order: order_tms). Reached from the TMS home (patient picker) and each course page."""

import uuid
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from neuroclinic.accounts.access import require_capability
from neuroclinic.accounts.roles import Capability
from neuroclinic.audit.models import AuditEvent
from neuroclinic.audit.record import record
from neuroclinic.http import AuthenticatedHttpRequest
from neuroclinic.patients.models import Patient
from neuroclinic.tms import forms as f
from neuroclinic.tms import reads, screening
from neuroclinic.tms.access import get_patient_for_user
from neuroclinic.tms.actions import courses, thresholds
from neuroclinic.tms.actions import screening as screening_actions
from neuroclinic.tms.errors import TmsError
from neuroclinic.tms.models import MotorThreshold, SafetyScreen, TmsCourse


def _home(patient: Patient) -> str:
    return reverse("tms:patient", args=[patient.uuid])


@require_capability(Capability.VIEW_TMS)
@require_GET
def pick(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The TMS home's patient picker submits a patient's uuid (never a name) here."""
    value = request.GET.get("patient", "")
    try:
        patient = Patient.objects.visible_to(request.user).get(uuid=value)
    except (Patient.DoesNotExist, ValueError, ValidationError):
        raise Http404("No such patient.") from None
    return redirect(_home(patient))


@require_capability(Capability.VIEW_TMS)
@require_GET
def patient_page(
    request: AuthenticatedHttpRequest, patient_uuid: uuid.UUID
) -> HttpResponse:
    patient = get_patient_for_user(
        request.user, patient_uuid, capability=Capability.VIEW_TMS
    )
    screens = list(
        SafetyScreen.objects.filter(patient=patient)
        .select_related("screened_by", "decision__decided_by")
        .order_by("-screened_at", "-id")
    )
    with transaction.atomic():
        record(
            AuditEvent.Action.TMS_COURSE_VIEWED,
            actor=request.user,
            patient=patient,
            page="patient",
        )
    return render(
        request,
        "tms/patient.html",
        {
            "patient": patient,
            "screens": [
                {
                    "screen": s,
                    "exclusions": [_label(k) for k in s.exclusions],
                    "cautions": [_label(k) for k in s.cautions],
                }
                for s in screens
            ],
            "thresholds": list(
                MotorThreshold.objects.filter(patient=patient)
                .select_related("operator", "supervising_physician", "device")
                .order_by("-determined_on", "-id")
            ),
            "courses": list(
                TmsCourse.objects.filter(patient=patient).order_by("-ordered_at")
            ),
            "can_run": request.user.can(Capability.RUN_TMS),
            "can_order": request.user.can(Capability.ORDER_TMS),
            "rethreshold": reads.rethreshold_prompts(patient),
        },
    )


def _label(key: str) -> str:
    item = screening.ITEMS_BY_KEY.get(key)
    return item.question if item else key


def _form_page(
    request: AuthenticatedHttpRequest,
    patient: Patient,
    form: Any,
    *,
    title: str,
    button: str,
    findings: list[str] | None = None,
) -> HttpResponse:
    """Render a recording page; opening it shows the patient's name, so it is audited."""
    with transaction.atomic():
        record(
            AuditEvent.Action.TMS_COURSE_VIEWED,
            actor=request.user,
            patient=patient,
            page=title,
        )
    return render(
        request,
        "tms/record.html",
        {
            "patient": patient,
            "form": form,
            "title": title,
            "button": button,
            "findings": findings or [],
        },
    )


@require_capability(Capability.RUN_TMS)
@require_http_methods(["GET", "POST"])
def screen_page(
    request: AuthenticatedHttpRequest, patient_uuid: uuid.UUID
) -> HttpResponse:
    patient = get_patient_for_user(
        request.user, patient_uuid, capability=Capability.RUN_TMS
    )
    form = f.ScreenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            screen = screening_actions.record_screen(
                patient, answers=form.answers(), by=request.user
            )
        except TmsError as exc:
            f.add_errors(form, exc)
        else:
            messages.success(
                request, f"Safety screen recorded: {screen.get_outcome_display()}."
            )
            return redirect(_home(patient))
    return _form_page(
        request, patient, form, title="TMS safety screen", button="Record screen"
    )


@require_capability(Capability.ORDER_TMS)
@require_http_methods(["GET", "POST"])
def decide_page(
    request: AuthenticatedHttpRequest, screen_uuid: uuid.UUID
) -> HttpResponse:
    try:
        screen = (
            SafetyScreen.objects.filter(
                patient__in=Patient.objects.visible_to(request.user)
            )
            .select_related("patient")
            .get(uuid=screen_uuid)
        )
    except (SafetyScreen.DoesNotExist, ValueError, ValidationError):
        raise Http404("No such screen.") from None
    patient = screen.patient
    form = f.DecisionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            screening_actions.decide_screen(
                screen,
                cleared=form.cleaned_data["cleared"] == "yes",
                rationale=form.cleaned_data["rationale"],
                by=request.user,
            )
        except TmsError as exc:
            f.add_errors(form, exc)
        else:
            messages.success(request, "Decision signed.")
            return redirect(_home(patient))
    return _form_page(
        request,
        patient,
        form,
        title="Decision on the safety screen",
        button="Sign decision",
        findings=[_label(k) for k in [*screen.exclusions, *screen.cautions]],
    )


@require_capability(Capability.RUN_TMS)
@require_http_methods(["GET", "POST"])
def threshold_page(
    request: AuthenticatedHttpRequest, patient_uuid: uuid.UUID
) -> HttpResponse:
    patient = get_patient_for_user(
        request.user, patient_uuid, capability=Capability.RUN_TMS
    )
    form = f.ThresholdForm(
        request.POST or None, organization_id=patient.organization_id
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            thresholds.record_threshold(
                patient,
                value_percent_output=data["value_percent_output"],
                observation=data["observation"],
                procedure=data["procedure"],
                reason=data["reason"],
                coil=data["coil"],
                device=data["device"],
                supervising_physician=data["supervising_physician"],
                by=request.user,
            )
        except TmsError as exc:
            f.add_errors(form, exc)
        else:
            messages.success(request, "Motor threshold recorded.")
            return redirect(_home(patient))
    return _form_page(
        request, patient, form, title="Motor threshold", button="Record threshold"
    )


@require_capability(Capability.ORDER_TMS)
@require_http_methods(["GET", "POST"])
def order_page(
    request: AuthenticatedHttpRequest, patient_uuid: uuid.UUID
) -> HttpResponse:
    patient = get_patient_for_user(
        request.user, patient_uuid, capability=Capability.ORDER_TMS
    )
    form = f.CourseOrderForm(
        request.POST or None, organization_id=patient.organization_id
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            course = courses.order_course(
                patient,
                protocol_code=data["protocol_version"].code,
                protocol_version=data["protocol_version"],
                target=data["target"],
                target_detail=data["target_detail"],
                percent_of_mt=data["percent_of_mt"],
                acute_sessions=data["acute_sessions"],
                taper=data["taper"],
                start_date=data["start_date"],
                location=data["location"],
                by=request.user,
            )
        except TmsError as exc:
            f.add_errors(form, exc)
        else:
            messages.success(request, "Course ordered.")
            return redirect(reverse("tms:course", args=[course.uuid]))
    return _form_page(
        request, patient, form, title="TMS course order", button="Sign order"
    )
