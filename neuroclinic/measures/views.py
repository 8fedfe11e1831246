"""Staff pages for questionnaires, trajectories, safety alerts and the worklist."""

import uuid
from datetime import timedelta

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.forms import ChoiceField
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from neuroclinic.accounts import tablet_lock
from neuroclinic.accounts.access import require_capability
from neuroclinic.accounts.roles import Capability
from neuroclinic.audit.models import AuditEvent
from neuroclinic.audit.record import record
from neuroclinic.http import AuthenticatedHttpRequest
from neuroclinic.measures.actions import due_measures
from neuroclinic.measures.actions import responses as response_actions
from neuroclinic.measures.actions.alerts import (
    acknowledge_alert,
    raise_safety_alert,
    resume_treatment_after_alert,
)
from neuroclinic.measures.actions.common import (
    ASSESSMENT_FIELDS,
    KIOSK_LINK_MINUTES,
    MeasuresError,
)
from neuroclinic.measures.actions.configuration import (
    add_measurement_rule,
    save_item_wording,
    set_rule_active,
)
from neuroclinic.measures.actions.portal_links import (
    create_portal_link,
    portal_url,
    send_portal_link,
)
from neuroclinic.measures.actions.responses import (
    current_responses,
    record_response,
)
from neuroclinic.measures.forms import (
    AcknowledgeForm,
    AmendForm,
    FlagConcernForm,
    SendLinkForm,
    answers_from_post,
    errors_by_item,
    item_views,
    submission_key_from,
    wording_for,
)
from neuroclinic.measures.instruments import (
    INSTRUMENTS,
    Instrument,
    InvalidResponse,
    UnknownInstrument,
    get_instrument,
)
from neuroclinic.measures.models import (
    MeasurementRule,
    PortalLink,
    QuestionnaireResponse,
    SafetyAlert,
    TreatmentResumption,
)
from neuroclinic.measures.outcome_rules import clinic_outcome_rules
from neuroclinic.measures.progress import trajectory_summary, treatment_events
from neuroclinic.measures.schedules import DEFAULT_RULES
from neuroclinic.patients.access import get_patient_for_user
from neuroclinic.patients.models import Patient

PATIENT_INSTRUMENTS = [
    code for code, i in INSTRUMENTS.items() if i.rater == "patient" and i.collected
]


def _instrument(code: str) -> Instrument:
    try:
        return get_instrument(code)
    except UnknownInstrument:
        raise Http404("No such questionnaire.") from None


@require_capability(Capability.VIEW_CHART)
@require_GET
def patient_measures(
    request: AuthenticatedHttpRequest, patient_uuid: str
) -> HttpResponse:
    patient = get_patient_for_user(
        request.user, patient_uuid, capability=Capability.VIEW_CHART
    )
    responses = list(
        current_responses(patient)
        .select_related("entered_by")
        .order_by("completed_at", "id")
    )
    by_code: dict[str, list[QuestionnaireResponse]] = {}
    for response in responses:
        by_code.setdefault(response.instrument_code, []).append(response)
    events = treatment_events(patient)
    rules = clinic_outcome_rules(patient.organization_id)  # read once for every chart
    trajectories = [
        trajectory_summary(INSTRUMENTS[code], items, events, rules)
        for code, items in sorted(by_code.items())
    ]
    with transaction.atomic():  # a read of clinical data: on the audit log
        record(
            AuditEvent.Action.TRAJECTORY_VIEWED,
            actor=request.user,
            patient=patient,
            subject=patient,
        )
    return render(
        request,
        "measures/patient_measures.html",
        {
            "patient": patient,
            "trajectories": trajectories,
            "responses": list(reversed(responses))[:100],
            "alerts": SafetyAlert.objects.filter(patient=patient).select_related(
                "acknowledged_by"
            )[:50],
            "patient_instruments": [INSTRUMENTS[c] for c in PATIENT_INSTRUMENTS],
            "clinician_instruments": [
                i for i in INSTRUMENTS.values() if i.rater != "patient"
            ],
            "send_form": SendLinkForm(
                instrument_choices=[
                    (c, INSTRUMENTS[c].name) for c in PATIENT_INSTRUMENTS
                ]
            ),
            "can_record": request.user.can(Capability.RECORD_MEASURES),
            "can_send": request.user.can(Capability.SEND_QUESTIONNAIRES),
            "can_flag": request.user.can(Capability.FLAG_SAFETY_CONCERN),
            "flag_form": FlagConcernForm(),
        },
    )


@require_capability(Capability.RECORD_MEASURES)
@require_http_methods(["GET", "POST"])
def enter_response(
    request: AuthenticatedHttpRequest, patient_uuid: str, code: str
) -> HttpResponse:
    patient = get_patient_for_user(
        request.user, patient_uuid, capability=Capability.RECORD_MEASURES
    )
    instrument = _instrument(code)
    # Where the entry was asked for (the infusion checklist's "Enter today's PHQ-9"),
    # if on this site; else the patient's measures.
    back = tablet_lock.safe_next(
        request, reverse("measures:patient", kwargs={"patient_uuid": patient.uuid})
    )
    values: dict[str, object] = {}
    errors: dict[str, str] = {}
    general: list[str] = []
    if request.method == "POST":
        values = answers_from_post(instrument, request.POST)
        key = submission_key_from(request.POST)
        sex = request.POST.get("sex") or (
            patient.sex_at_birth if patient.sex_at_birth in ("male", "female") else None
        )
        try:
            recorded = record_response(
                patient,
                instrument_code=instrument.code,
                answers=values,
                source=QuestionnaireResponse.Source.STAFF,
                by=request.user,
                sex=sex,
                submission_key=key,
            )
        except InvalidResponse as exc:
            errors, general = errors_by_item(exc)
        except MeasuresError as exc:
            general = [exc.message]
        else:
            if recorded.alerts:
                messages.error(
                    request,
                    "Safety alert raised: the responsible prescriber has been notified. "
                    "Stay with the patient and follow the clinic's safety procedure.",
                )
            else:
                messages.success(
                    request,
                    f"{instrument.name} recorded: {recorded.response.score_label}.",
                )
            return redirect(back)
    return render(
        request,
        "measures/enter_response.html",
        {
            "patient": patient,
            "instrument": instrument,
            "items": item_views(
                instrument,
                wording=wording_for(patient.organization_id, instrument),
                values=values,
                errors=errors,
            ),
            "general_errors": general,
            "submission_key": uuid.uuid4(),
            "back": back,
            "needs_sex": instrument.sex_specific_cutoffs
            and patient.sex_at_birth not in ("male", "female"),
        },
    )


@require_capability(Capability.VIEW_CHART)
@require_GET
def response_detail(
    request: AuthenticatedHttpRequest, patient_uuid: str, response_uuid: str
) -> HttpResponse:
    patient = get_patient_for_user(
        request.user, patient_uuid, capability=Capability.VIEW_CHART
    )
    response = get_object_or_404(
        QuestionnaireResponse, patient=patient, uuid=response_uuid
    )
    with transaction.atomic():
        record(
            AuditEvent.Action.RESPONSE_VIEWED,
            actor=request.user,
            patient=patient,
            subject=response,
        )
    instrument = response.instrument
    return render(
        request,
        "measures/response_detail.html",
        {
            "patient": patient,
            "response": response,
            "instrument": instrument,
            "items": item_views(
                instrument,
                wording=wording_for(patient.organization_id, instrument),
                values=response.answers,
                errors={},
            ),
            "amended_by": QuestionnaireResponse.objects.filter(amends=response).first(),
            "can_record": request.user.can(Capability.RECORD_MEASURES),
        },
    )


@require_capability(Capability.RECORD_MEASURES)
@require_http_methods(["GET", "POST"])
def amend_response(
    request: AuthenticatedHttpRequest, patient_uuid: str, response_uuid: str
) -> HttpResponse:
    patient = get_patient_for_user(
        request.user, patient_uuid, capability=Capability.RECORD_MEASURES
    )
    original = get_object_or_404(
        QuestionnaireResponse, patient=patient, uuid=response_uuid
    )
    instrument = original.instrument
    form = AmendForm(request.POST or None)
    values: dict[str, object] = dict(original.answers)
    errors: dict[str, str] = {}
    general: list[str] = []
    if request.method == "POST":
        values = answers_from_post(instrument, request.POST)
        if form.is_valid():
            try:
                recorded = response_actions.amend_response(
                    original,
                    answers=values,
                    reason=form.cleaned_data["reason"],
                    by=request.user,
                )
            except InvalidResponse as exc:
                errors, general = errors_by_item(exc)
            except MeasuresError as exc:
                general = [exc.message]
            else:
                messages.success(
                    request,
                    f"Amended; version {recorded.response.version} replaces the original.",
                )
                return redirect(
                    "measures:response",
                    patient_uuid=patient.uuid,
                    response_uuid=recorded.response.uuid,
                )
    return render(
        request,
        "measures/enter_response.html",
        {
            "patient": patient,
            "instrument": instrument,
            "items": item_views(
                instrument,
                wording=wording_for(patient.organization_id, instrument),
                values=values,
                errors=errors,
            ),
            "general_errors": general,
            "amend_form": form,
            "amending": original,
            "submission_key": "",
            "needs_sex": False,
        },
    )


@require_capability(Capability.SEND_QUESTIONNAIRES)
@require_POST
def send_link(request: AuthenticatedHttpRequest, patient_uuid: str) -> HttpResponse:
    patient = get_patient_for_user(
        request.user, patient_uuid, capability=Capability.SEND_QUESTIONNAIRES
    )
    form = SendLinkForm(
        request.POST,
        instrument_choices=[(c, INSTRUMENTS[c].name) for c in PATIENT_INSTRUMENTS],
    )
    if not form.is_valid():
        messages.error(request, "Choose at least one questionnaire and how to send it.")
        return redirect(_back(request, patient))
    channel = PortalLink.Channel(form.cleaned_data["channel"])
    try:
        with transaction.atomic():
            link, token = create_portal_link(
                patient,
                instrument_codes=form.cleaned_data["instruments"],
                channel=channel,
                by=request.user,
            )
            send_portal_link(link, token)
    except MeasuresError as exc:
        messages.error(request, exc.message)
        return redirect(_back(request, patient))
    if channel == PortalLink.Channel.NONE:
        return render(
            request,
            "measures/link_created.html",
            {"patient": patient, "url": portal_url(token), "link": link},
        )
    messages.success(
        request, f"Questionnaire link sent by {link.get_channel_display().lower()}."
    )
    return redirect(_back(request, patient))


def _back(request: AuthenticatedHttpRequest, patient: Patient) -> str:
    if request.user.can(Capability.VIEW_CHART):
        return reverse("measures:patient", kwargs={"patient_uuid": patient.uuid})
    return reverse("measures:worklist")


@require_capability(Capability.SEND_QUESTIONNAIRES)
@require_POST
def start_kiosk(request: AuthenticatedHttpRequest, patient_uuid: str) -> HttpResponse:
    """Hand the tablet to the patient: the staff session is locked to this questionnaire
    until the nurse's authenticator code hands it back (accounts/tablet_lock.py)."""
    patient = get_patient_for_user(
        request.user, patient_uuid, capability=Capability.SEND_QUESTIONNAIRES
    )
    codes = request.POST.getlist("instruments") or ["phq9"]
    try:
        _, token = create_portal_link(
            patient,
            instrument_codes=codes,
            channel=PortalLink.Channel.KIOSK,
            by=request.user,
            lifetime=timedelta(minutes=KIOSK_LINK_MINUTES),
        )
    except MeasuresError as exc:
        messages.error(request, exc.message)
        return redirect(_back(request, patient))
    questionnaire = reverse("kiosk_questionnaire", kwargs={"token": token})
    tablet_lock.lock(
        request,
        allowed=(questionnaire,),
        return_to=tablet_lock.safe_next(request, _back(request, patient)),
        purpose="questionnaire",
        by=request.user,
    )
    return redirect(questionnaire)


@require_capability(Capability.FLAG_SAFETY_CONCERN)
@require_POST
def flag_concern(request: AuthenticatedHttpRequest, patient_uuid: str) -> HttpResponse:
    patient = get_patient_for_user(
        request.user, patient_uuid, capability=Capability.FLAG_SAFETY_CONCERN
    )
    form = FlagConcernForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Describe the concern.")
        return redirect("measures:patient", patient_uuid=patient.uuid)
    alert = raise_safety_alert(
        patient,
        reason=SafetyAlert.Reason.CLINICIAN,
        detail=form.cleaned_data["detail"],
        by=request.user,
    )
    messages.warning(
        request, "Safety alert raised and sent to the responsible prescriber."
    )
    return redirect("measures:alert", alert_uuid=alert.uuid)


def _visible_alert(request: AuthenticatedHttpRequest, alert_uuid: str) -> SafetyAlert:
    alert = get_object_or_404(
        SafetyAlert.objects.select_related(
            "patient", "response", "assigned_to", "acknowledged_by"
        ),
        uuid=alert_uuid,
        organization_id=request.user.organization_pk,
    )
    # The same door as every patient read.
    get_patient_for_user(
        request.user, alert.patient.uuid, capability=Capability.VIEW_CHART
    )
    return alert


@require_capability(Capability.VIEW_CHART)
@require_GET
def alert_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    alerts = (
        SafetyAlert.objects.filter(
            organization_id=request.user.organization_pk, acknowledged_at__isnull=True
        )
        .select_related("patient", "assigned_to")
        .order_by("raised_at")
    )
    mine = [
        a
        for a in alerts
        if a.assigned_to_id == request.user.pk or a.escalated_to_id == request.user.pk
    ]
    others = [a for a in alerts if a not in mine]
    return render(
        request,
        "measures/alert_list.html",
        {"mine": mine, "others": others, "now": timezone.now()},
    )


@require_capability(Capability.VIEW_CHART)
@require_http_methods(["GET", "POST"])
def alert_detail(request: AuthenticatedHttpRequest, alert_uuid: str) -> HttpResponse:
    alert = _visible_alert(request, alert_uuid)
    cssrs = list(
        QuestionnaireResponse.objects.filter(
            patient=alert.patient,
            instrument_code="cssrs-screener",
            completed_at__gte=alert.raised_at - timedelta(minutes=5),
        ).order_by("-completed_at")
    )
    form = AcknowledgeForm(request.POST or None)
    choice_field = form.fields["assessment_response"]
    assert isinstance(choice_field, ChoiceField)
    choice_field.choices = [("", "— none: I document the assessment below —")] + [
        (str(r.uuid), f"C-SSRS {r.completed_at:%Y-%m-%d %H:%M} UTC, triage {r.triage}")
        for r in cssrs
    ]
    if request.method == "POST":
        if not request.user.can(Capability.ACKNOWLEDGE_SAFETY_ALERTS):
            raise PermissionDenied
        if form.is_valid():
            data = form.cleaned_data
            chosen = next(
                (r for r in cssrs if str(r.uuid) == data["assessment_response"]), None
            )
            try:
                acknowledge_alert(
                    alert,
                    by=request.user,
                    risk_level=data["risk_level"],
                    disposition=data["disposition"],
                    disposition_note=data["disposition_note"],
                    assessment={f: data[f] for f in ASSESSMENT_FIELDS},
                    assessment_response=chosen,
                )
            except MeasuresError as exc:
                form.add_error(
                    exc.field if exc.field in form.fields else None, exc.message
                )
            else:
                messages.success(
                    request, "Alert acknowledged; the assessment is on the record."
                )
                return redirect("measures:patient", patient_uuid=alert.patient.uuid)
    return _alert_page(request, alert, form=form)


class ResumeForm(forms.Form):
    reason = forms.CharField(
        label="Why treatment may resume", widget=forms.Textarea(attrs={"rows": 3})
    )
    password = forms.CharField(
        label="Your password (signs this)", widget=forms.PasswordInput
    )


def _alert_page(
    request: AuthenticatedHttpRequest,
    alert: SafetyAlert,
    *,
    form: forms.Form | None = None,
    resume_form: ResumeForm | None = None,
) -> HttpResponse:
    return render(
        request,
        "measures/alert_detail.html",
        {
            "alert": alert,
            "patient": alert.patient,
            "form": form,
            "resume_form": resume_form or ResumeForm(),
            "resumption": TreatmentResumption.objects.filter(alert=alert)
            .select_related("signed_by")
            .first(),
            "can_acknowledge": request.user.can(Capability.ACKNOWLEDGE_SAFETY_ALERTS),
            "can_record": request.user.can(Capability.RECORD_MEASURES),
        },
    )


@require_capability(Capability.ACKNOWLEDGE_SAFETY_ALERTS)
@require_POST
def alert_resume(request: AuthenticatedHttpRequest, alert_uuid: str) -> HttpResponse:
    """A prescriber signs that treatment may resume after an alert that holds it."""
    alert = _visible_alert(request, alert_uuid)
    resume_form = ResumeForm(request.POST)
    if resume_form.is_valid():
        try:
            resume_treatment_after_alert(
                alert,
                reason=resume_form.cleaned_data["reason"],
                password=resume_form.cleaned_data["password"],
                by=request.user,
            )
        except MeasuresError as exc:
            resume_form.add_error(
                exc.field if exc.field in resume_form.fields else None, exc.message
            )
        else:
            messages.success(request, "Signed: treatment may resume.")
            return redirect("measures:alert", alert_uuid=alert.uuid)
    return _alert_page(request, alert, form=AcknowledgeForm(), resume_form=resume_form)


@require_capability(Capability.SEND_QUESTIONNAIRES)
@require_GET
def worklist(request: AuthenticatedHttpRequest) -> HttpResponse:
    items = list(due_measures.worklist(request.user.organization_pk))
    now = timezone.now()
    return render(
        request,
        "measures/worklist.html",
        {
            "overdue": [i for i in items if i.overdue_at < now],
            "due": [i for i in items if i.overdue_at >= now],
            "today": timezone.localdate(),
        },
    )


class RuleForm(forms.Form):
    instrument_code = forms.ChoiceField(
        label="Questionnaire", choices=[(c, i.name) for c, i in INSTRUMENTS.items()]
    )
    trigger = forms.ChoiceField(
        label="Falls due", choices=MeasurementRule.Trigger.choices
    )
    offset_hours = forms.IntegerField(
        label="Hours after the event (negative: before)",
        min_value=-24 * 30,
        max_value=24 * 365,
        initial=0,
    )
    repeat_count = forms.IntegerField(
        label="How many times", min_value=1, max_value=52, initial=1
    )
    repeat_every_days = forms.IntegerField(
        label="Days between repeats", min_value=0, max_value=365, initial=0
    )
    window_hours = forms.IntegerField(
        label="Hours before it is overdue", min_value=1, max_value=24 * 30, initial=24
    )


@require_capability(Capability.CONFIGURE_MEASURES)
@require_http_methods(["GET", "POST"])
def measure_settings(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Schedules and licensed item wording: the medical director's page."""
    organization_id = request.user.organization_pk
    form = RuleForm(request.POST if request.POST.get("form") == "rule" else None)
    if request.method == "POST":
        kind = request.POST.get("form")
        if kind == "rule" and form.is_valid():
            try:
                add_measurement_rule(
                    organization_id, by=request.user, **form.cleaned_data
                )
            except MeasuresError as exc:
                form.add_error(
                    exc.field if exc.field in form.fields else None, exc.message
                )
            else:
                messages.success(request, "Schedule rule added.")
                return redirect("measures:settings")
        elif kind == "toggle":
            rule = get_object_or_404(
                MeasurementRule,
                pk=request.POST.get("rule"),
                organization_id=organization_id,
            )
            set_rule_active(rule, active=not rule.is_active, by=request.user)
            messages.success(request, "Schedule rule updated.")
            return redirect("measures:settings")
    rules = list(MeasurementRule.objects.filter(organization_id=organization_id))
    return render(
        request,
        "measures/settings.html",
        {
            "rules": rules,
            "default_rules": DEFAULT_RULES if not rules else [],
            "form": form,
            "licensed": [
                i for i in INSTRUMENTS.values() if not i.wording_redistributable
            ],
        },
    )


@require_capability(Capability.CONFIGURE_MEASURES)
@require_http_methods(["GET", "POST"])
def item_wording(request: AuthenticatedHttpRequest, code: str) -> HttpResponse:
    instrument = _instrument(code)
    if instrument.wording_redistributable:
        raise Http404("This questionnaire ships with its published wording.")
    organization_id = request.user.organization_pk
    error = ""
    if request.method == "POST":
        texts = {
            item.link_id: request.POST.get(item.link_id, "")[:2000]
            for item in instrument.items
        }
        try:
            count = save_item_wording(
                organization_id,
                instrument_code=instrument.code,
                texts=texts,
                by=request.user,
            )
        except MeasuresError as exc:
            error = exc.message
        else:
            messages.success(
                request,
                f"Saved: {count} of {len(instrument.items)} items use the clinic's wording.",
            )
            return redirect("measures:settings")
    current = wording_for(organization_id, instrument)
    return render(
        request,
        "measures/item_wording.html",
        {
            "instrument": instrument,
            "items": [
                (item, current.get(item.link_id, "")) for item in instrument.items
            ],
            "error": error,
        },
    )
