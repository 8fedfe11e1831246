import json
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import Prefetch
from django.forms import ModelForm
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from neuroclinic.accounts.access import require_capability
from neuroclinic.accounts.roles import Capability
from neuroclinic.audit.models import AuditEvent
from neuroclinic.http import AuthenticatedHttpRequest
from neuroclinic.patients import actions
from neuroclinic.patients.access import get_patient_for_user
from neuroclinic.patients.chart_panels import chart_panels
from neuroclinic.patients.forms import (
    AllergyForm,
    ContactForm,
    DiagnosisForm,
    EndEntryForm,
    MedicationForm,
    PatientForm,
    ProviderForm,
)
from neuroclinic.patients.models import (
    SEARCH_LIMIT,
    Allergy,
    Diagnosis,
    Medication,
    Patient,
)
from neuroclinic.patients.schemas import PatientChartOut

# The chart's list sections: form, action, heading. One view serves them all.
LIST_SECTIONS: dict[str, tuple[type[ModelForm], Any, str]] = {  # type: ignore[type-arg]
    "contact": (ContactForm, actions.add_contact, "Add an emergency contact or escort"),
    "provider": (
        ProviderForm,
        actions.add_care_team_provider,
        "Add a referring provider or therapist",
    ),
    "diagnosis": (DiagnosisForm, actions.add_diagnosis, "Add a diagnosis"),
    "medication": (MedicationForm, actions.add_medication, "Add a current medication"),
    "allergy": (AllergyForm, actions.add_allergy, "Add an allergy"),
}
ENDABLE = {"diagnosis": Diagnosis, "medication": Medication, "allergy": Allergy}


@require_capability(Capability.VIEW_PATIENT_LIST)
@require_http_methods(["GET", "POST"])
def patient_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Newest patients, and search by name, date of birth, MRN or phone.

    A search is a POST, so names and dates of birth never sit in a URL, a
    browser history or a web server's access log.
    """
    query = request.POST.get("q", "").strip()[:100] if request.method == "POST" else ""
    patients = Patient.objects.visible_to(request.user)
    page = None
    if query:
        results = list(patients.search(query)[:SEARCH_LIMIT])
        actions.record_search(query, results, by=request.user, via="web")
    elif request.method == "POST":
        results = []
    else:
        page = Paginator(patients.order_by("-created_at", "-id"), 25).get_page(
            request.GET.get("page")
        )
        results = list(page.object_list)
    context = {"query": query, "patients": results, "page": page}
    if request.htmx and request.htmx.target in (
        "search-results",
        "global-search-results",
    ):
        return render(request, "patients/patient_list.html#search-results", context)
    return render(request, "patients/patient_list.html", context)


@require_capability(Capability.REGISTER_PATIENT)
@require_http_methods(["GET", "POST"])
def register(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = PatientForm(request.POST or None)
    duplicates: list[Patient] = []
    if request.method == "POST" and form.is_valid():
        assert request.user.organization is not None
        try:
            patient = actions.register_new_patient(
                request.user.organization,
                allow_duplicate=request.POST.get("confirm_not_duplicate") == "yes",
                by=request.user,
                via="web",
                **form.cleaned_data,
            )
        except actions.DuplicatePatient as exc:
            duplicates = exc.existing
        else:
            messages.success(
                request, f"Registered {patient.display_name}, MRN {patient.mrn}."
            )
            return redirect("patients:chart", patient_uuid=patient.uuid)
    return render(
        request,
        "patients/patient_form.html",
        {
            "form": form,
            "duplicates": duplicates,
            "patient": None,
            "today": timezone.localdate(),
        },
    )


@require_capability(Capability.EDIT_DEMOGRAPHICS)
@require_http_methods(["GET", "POST"])
def edit(request: AuthenticatedHttpRequest, patient_uuid: str) -> HttpResponse:
    patient = get_patient_for_user(
        request.user, patient_uuid, capability=Capability.EDIT_DEMOGRAPHICS
    )
    form = PatientForm(request.POST or None, instance=patient)
    if request.method == "POST" and form.is_valid():
        # A ModelForm writes into the instance while validating; start from the
        # stored row so the action sees (and audits) the real old values.
        fresh = Patient.objects.get(pk=patient.pk)
        actions.update_patient(fresh, by=request.user, **form.cleaned_data)
        messages.success(request, "Saved.")
        return redirect("patients:chart", patient_uuid=patient.uuid)
    return render(
        request,
        "patients/patient_form.html",
        {"form": form, "patient": patient, "duplicates": []},
    )


def _chart_patient(
    request: AuthenticatedHttpRequest, patient_uuid: str, capability: Capability
) -> Patient:
    patient = get_patient_for_user(request.user, patient_uuid, capability=capability)
    # Load the chart's lists in a fixed number of queries, whatever their length.
    return (
        Patient.objects.filter(pk=patient.pk)
        .prefetch_related(
            "contacts",
            "care_team",
            Prefetch(
                "diagnoses", queryset=Diagnosis.objects.select_related("recorded_by")
            ),
            Prefetch(
                "medications", queryset=Medication.objects.select_related("recorded_by")
            ),
            Prefetch(
                "allergies", queryset=Allergy.objects.select_related("recorded_by")
            ),
        )
        .get()
    )


@require_capability(Capability.VIEW_PATIENT_LIST)
@require_GET
def chart(request: AuthenticatedHttpRequest, patient_uuid: str) -> HttpResponse:
    """The chart. Roles without VIEW_CHART (front desk, billing, admin) see demographics only."""
    patient = _chart_patient(request, patient_uuid, Capability.VIEW_PATIENT_LIST)
    scope = "full" if request.user.can(Capability.VIEW_CHART) else "demographics"
    actions.record_chart_access(
        patient, action=AuditEvent.Action.CHART_VIEWED, by=request.user, scope=scope
    )
    return render(request, "patients/chart.html", _chart_context(request, patient))


def _chart_context(
    request: AuthenticatedHttpRequest, patient: Patient
) -> dict[str, Any]:
    active_allergies = [a for a in patient.allergies.all() if a.is_active]
    can_view_clinical = request.user.can(Capability.VIEW_CHART)
    panels = chart_panels(request, patient) if can_view_clinical else []
    return {
        "patient": patient,
        "age": patient.age_on(timezone.localdate()),
        "active_allergies": active_allergies,
        "list_forms": {key: spec[0]() for key, spec in LIST_SECTIONS.items()},
        "can_view_clinical": can_view_clinical,
        "panels": panels,
        "can_edit_lists": request.user.can(Capability.EDIT_CLINICAL_LISTS),
        "can_edit_demographics": request.user.can(Capability.EDIT_DEMOGRAPHICS),
        "can_export": request.user.can(Capability.EXPORT_CHART),
        "can_book_appointments": request.user.can(Capability.BOOK_APPOINTMENTS),
        "can_bill": request.user.can(Capability.BILLING_VIEW),
        "can_write_letters": request.user.can(Capability.WRITE_LETTERS),
        "end_form": EndEntryForm(),
        "alerts": [alert for panel in panels for alert in panel.alerts],
    }


@require_capability(Capability.EXPORT_CHART)
@require_GET
def chart_print(request: AuthenticatedHttpRequest, patient_uuid: str) -> HttpResponse:
    patient = _chart_patient(request, patient_uuid, Capability.EXPORT_CHART)
    actions.record_chart_access(
        patient, action=AuditEvent.Action.CHART_PRINTED, by=request.user
    )
    context = _chart_context(request, patient) | {"printed_at": timezone.now()}
    return render(request, "patients/chart_print.html", context)


@require_capability(Capability.EXPORT_CHART)
@require_GET
def chart_export(request: AuthenticatedHttpRequest, patient_uuid: str) -> HttpResponse:
    patient = _chart_patient(request, patient_uuid, Capability.EXPORT_CHART)
    actions.record_chart_access(
        patient, action=AuditEvent.Action.CHART_EXPORTED, by=request.user, format="json"
    )
    body = json.dumps(
        PatientChartOut.from_orm(patient).model_dump(mode="json"),
        cls=DjangoJSONEncoder,
        indent=2,
    )
    response = HttpResponse(body, content_type="application/json")
    # The file name carries the opaque UUID, never the patient's name.
    response["Content-Disposition"] = (
        f'attachment; filename="chart-{patient.uuid}.json"'
    )
    response["Cache-Control"] = "no-store"
    return response


@require_capability(Capability.VIEW_PATIENT_LIST)
@require_http_methods(["GET", "POST"])
def add_entry(
    request: AuthenticatedHttpRequest, patient_uuid: str, section: str
) -> HttpResponse:
    if section not in LIST_SECTIONS:
        raise PermissionDenied
    needed = (
        Capability.EDIT_DEMOGRAPHICS
        if section in ("contact", "provider")
        else Capability.EDIT_CLINICAL_LISTS
    )
    patient = get_patient_for_user(request.user, patient_uuid, capability=needed)
    form_class, action, heading = LIST_SECTIONS[section]
    form = form_class(request.POST or None)
    if request.method == "POST" and form.is_valid():
        action(patient, by=request.user, **form.cleaned_data)
        messages.success(request, "Added.")
        return redirect("patients:chart", patient_uuid=patient.uuid)
    return render(
        request,
        "patients/entry_form.html",
        {"patient": patient, "form": form, "heading": heading, "section": section},
    )


@require_capability(Capability.EDIT_CLINICAL_LISTS)
@require_POST
def end_entry(
    request: AuthenticatedHttpRequest, patient_uuid: str, section: str, entry_uuid: str
) -> HttpResponse:
    patient = get_patient_for_user(
        request.user, patient_uuid, capability=Capability.EDIT_CLINICAL_LISTS
    )
    model = ENDABLE.get(section)
    if model is None:
        raise PermissionDenied
    entry = get_object_or_404(model, patient=patient, uuid=entry_uuid)
    form = EndEntryForm(request.POST)
    if form.is_valid():
        actions.end_list_entry(
            entry, reason=form.cleaned_data["reason"], by=request.user
        )
        messages.success(request, "Ended; the entry stays on record.")
    else:
        messages.error(request, "Choose why the entry ends.")
    return redirect("patients:chart", patient_uuid=patient.uuid)
