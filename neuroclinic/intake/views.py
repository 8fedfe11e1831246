"""Staff pages: the consult queue, conversion, intake status, eligibility review and
decision, consent status and forms, documents, and the clinic's rule settings.

Views are thin: access check, form, action, render. Consult
requests are not patients yet: they are scoped to the staff member's
organization here, and another clinic's request is a 404 like a missing one.
"""

import json
import uuid
from datetime import timedelta

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.files.storage import default_storage
from django.db.models import Count
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from neuroclinic.accounts import tablet_lock
from neuroclinic.accounts.access import require_capability
from neuroclinic.accounts.roles import Capability
from neuroclinic.clinics.models import Organization
from neuroclinic.http import AuthenticatedHttpRequest
from neuroclinic.intake import consent_defaults, eligibility, packet, uploads
from neuroclinic.intake.actions import (
    consents,
    consult_requests,
    eligibility_decisions,
    packets,
    sign_in,
)
from neuroclinic.intake.checks import (
    consent_states,
    consent_states_for,
    current_documents,
    latest_decisions,
)
from neuroclinic.intake.errors import DuplicatesFound, IntakeError
from neuroclinic.intake.forms import (
    ConsentDocumentForm,
    ConsultNoteForm,
    ConsultUpdateForm,
    ConvertForm,
    DecisionForm,
    IntakeSettingsForm,
    ReminderForm,
    RulesForm,
    SendLinkForm,
    UploadForm,
)
from neuroclinic.intake.interactions import FLAGS_BY_CODE, flags_for
from neuroclinic.intake.models import (
    ConsentDocument,
    ConsentSignature,
    ConsultRequest,
    EligibilityDecision,
    IntakeDocument,
    IntakePacket,
    PortalSignInLink,
)
from neuroclinic.lib.safe_markdown import render_markdown
from neuroclinic.patients.access import get_patient_for_user
from neuroclinic.patients.models import Patient

OPEN_STATUSES = (
    ConsultRequest.Status.NEW,
    ConsultRequest.Status.CONTACTED,
    ConsultRequest.Status.CONSULT_BOOKED,
)


def _organization(request: AuthenticatedHttpRequest) -> Organization:
    return Organization.objects.get(pk=request.user.organization_pk)


def _consult(
    request: AuthenticatedHttpRequest, request_uuid: uuid.UUID
) -> ConsultRequest:
    found = (
        ConsultRequest.objects.select_related("assigned_to", "patient")
        .filter(organization_id=request.user.organization_pk, uuid=request_uuid)
        .first()
    )
    if found is None:
        raise Http404("No such request.")
    return found


# Consult queue --------------------------------------------------------------------------


@require_capability(Capability.WORK_CONSULT_QUEUE)
@require_GET
def queue(request: AuthenticatedHttpRequest) -> HttpResponse:
    status = request.GET.get("status", "open")
    requests = ConsultRequest.objects.filter(
        organization_id=request.user.organization_pk
    ).select_related("assigned_to")
    if status == "open":
        requests = requests.filter(status__in=OPEN_STATUSES)
    elif status in ConsultRequest.Status.values:
        requests = requests.filter(status=status)
    elif status != "all":
        status = "open"
        requests = requests.filter(status__in=OPEN_STATUSES)
    if request.GET.get("mine"):
        requests = requests.filter(assigned_to=request.user)
    counts = dict(
        ConsultRequest.objects.filter(organization_id=request.user.organization_pk)
        .values_list("status")
        .annotate(n=Count("id"))
        .values_list("status", "n")
    )
    return render(
        request,
        "intake/queue.html",
        {
            "requests": requests.order_by("created_at", "id")[:200]
            if status in ("open", "new")
            else requests[:200],
            "status": status,
            "statuses": [
                (value, label, counts.get(value, 0))
                for value, label in ConsultRequest.Status.choices
            ],
            "open_count": sum(counts.get(s, 0) for s in OPEN_STATUSES),
            "now": timezone.now(),
            "stale": timezone.now() - timedelta(days=1),
        },
    )


@require_capability(Capability.WORK_CONSULT_QUEUE)
@require_http_methods(["GET", "POST"])
def consult_detail(
    request: AuthenticatedHttpRequest, request_uuid: uuid.UUID
) -> HttpResponse:
    consult = _consult(request, request_uuid)
    organization_id = request.user.organization_pk
    update_form = ConsultUpdateForm(
        request.POST if request.POST.get("form") == "update" else None,
        organization_id=organization_id,
        initial={"status": consult.status, "assigned_to": consult.assigned_to},
    )
    note_form = ConsultNoteForm(
        request.POST if request.POST.get("form") == "note" else None
    )
    if request.method == "POST":
        try:
            if request.POST.get("form") == "update" and update_form.is_valid():
                consult_requests.update_consult_request(
                    consult,
                    by=request.user,
                    status=update_form.cleaned_data["status"]
                    if consult.status != ConsultRequest.Status.CONVERTED
                    else None,
                    assigned_to=update_form.cleaned_data["assigned_to"],
                )
                messages.success(request, "Request updated.")
                return redirect("intake:consult", request_uuid=consult.uuid)
            if request.POST.get("form") == "note" and note_form.is_valid():
                consult_requests.add_consult_note(
                    consult, by=request.user, text=note_form.cleaned_data["text"]
                )
                return redirect("intake:consult", request_uuid=consult.uuid)
        except IntakeError as exc:
            target = update_form if request.POST.get("form") == "update" else note_form
            target.add_error(
                exc.field if exc.field in target.fields else None, exc.message
            )
    else:
        consult_requests.record_consult_viewed(consult, by=request.user)
    return render(
        request,
        "intake/consult_detail.html",
        {
            "consult": consult,
            "update_form": update_form,
            "note_form": note_form,
            "notes": consult.notes.select_related("author"),
            "convert_form": ConvertForm(
                initial={
                    "given_name": consult.given_name,
                    "family_name": consult.family_name,
                }
            ),
            "can_convert": request.user.can(Capability.REGISTER_PATIENT),
        },
    )


@require_capability(Capability.WORK_CONSULT_QUEUE)
@require_POST
def convert(request: AuthenticatedHttpRequest, request_uuid: uuid.UUID) -> HttpResponse:
    """One click: register (or link) the patient, open the packet, keep the self-check as baseline."""
    if not request.user.can(Capability.REGISTER_PATIENT):
        raise PermissionDenied
    consult = _consult(request, request_uuid)
    form = ConvertForm(request.POST)
    duplicates: list[Patient] = []
    if form.is_valid():
        data = form.cleaned_data
        existing = None
        if data.get("existing"):
            existing = (
                Patient.objects.visible_to(request.user)
                .filter(uuid=data["existing"])
                .first()
            )
            if existing is None:
                raise Http404("No such patient.")
        try:
            patient = consult_requests.convert_consult_request(
                consult,
                by=request.user,
                birth_date=data["birth_date"],
                sex_at_birth=data["sex_at_birth"],
                family_name=data["family_name"],
                given_name=data["given_name"],
                existing=existing,
                confirm_new=data.get("confirm_new", False),
            )
        except DuplicatesFound as exc:
            duplicates = exc.duplicates
            form.add_error(None, exc.message)
        except IntakeError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(
                request,
                f"{patient.display_name} is registered ({patient.mrn}). Send the intake link next.",
            )
            return redirect("intake:patient", patient_uuid=patient.uuid)
    return render(
        request,
        "intake/consult_detail.html",
        {
            "consult": consult,
            "update_form": ConsultUpdateForm(
                organization_id=request.user.organization_pk,
                initial={"status": consult.status, "assigned_to": consult.assigned_to},
            ),
            "note_form": ConsultNoteForm(),
            "notes": consult.notes.select_related("author"),
            "convert_form": form,
            "duplicates": duplicates,
            "can_convert": True,
        },
        status=422,
    )


# Intake worklist and a patient's intake -------------------------------------------------------


@require_capability(Capability.MANAGE_INTAKE)
@require_GET
def worklist(request: AuthenticatedHttpRequest) -> HttpResponse:
    organization_id = request.user.organization_pk
    packet_rows = list(
        IntakePacket.objects.filter(organization_id=organization_id)
        .select_related("patient")
        .order_by("-created_at")[:200]
    )
    patient_ids = [p.patient_id for p in packet_rows]
    reads = packets.load_packet_reads(packet_rows)
    decisions = latest_decisions(patient_ids)
    consents = consent_states_for(organization_id, patient_ids)
    rows = []
    for packet_row in packet_rows:
        statuses = packets.packet_status(packet_row, reads=reads)
        rows.append(
            {
                "packet": packet_row,
                "patient": packet_row.patient,
                "done": sum(1 for s in statuses if s.complete),
                "total": len(statuses),
                "decision": decisions.get(packet_row.patient_id),
                "consent_ok": all(
                    s.is_current
                    for s in consents[packet_row.patient_id]
                    if s.current is not None
                    and s.kind in ("ketamine", "privacy", "financial")
                ),
            }
        )
    return render(
        request,
        "intake/worklist.html",
        {
            "rows": rows,
            "can_manage_forms": request.user.can(Capability.MANAGE_CONSENT_FORMS),
            "can_configure": request.user.can(Capability.CONFIGURE_ELIGIBILITY),
        },
    )


@require_capability(Capability.MANAGE_INTAKE)
@require_GET
def patient_intake(
    request: AuthenticatedHttpRequest, patient_uuid: uuid.UUID
) -> HttpResponse:
    patient = get_patient_for_user(
        request.user, patient_uuid, capability=Capability.MANAGE_INTAKE
    )
    packet_row = packets.packet_for(patient)
    link_token = request.session.pop("intake_shown_link", None)
    return render(
        request,
        "intake/patient.html",
        {
            "patient": patient,
            "packet": packet_row,
            "statuses": packets.packet_status(packet_row),
            "send_form": SendLinkForm(),
            "reminder_form": ReminderForm(),
            "upload_form": UploadForm(),
            "shown_link": sign_in.sign_in_url(link_token) if link_token else "",
            "documents": IntakeDocument.objects.filter(patient=patient),
            "decisions": EligibilityDecision.objects.filter(
                patient=patient
            ).select_related("decided_by"),
            "consents": consent_states(patient),
            "can_view_intake": request.user.can(Capability.VIEW_INTAKE),
            "can_write_letters": request.user.can(Capability.WRITE_LETTERS),
            "can_decide": request.user.can(Capability.DECIDE_ELIGIBILITY),
            "can_collect": request.user.can(Capability.COLLECT_CONSENT),
            "can_view_consents": request.user.can(Capability.VIEW_CONSENTS),
        },
    )


@require_capability(Capability.MANAGE_INTAKE)
@require_POST
def send_link(
    request: AuthenticatedHttpRequest, patient_uuid: uuid.UUID
) -> HttpResponse:
    patient = get_patient_for_user(
        request.user, patient_uuid, capability=Capability.MANAGE_INTAKE
    )
    form = SendLinkForm(request.POST)
    if form.is_valid():
        channel = PortalSignInLink.Channel(form.cleaned_data["channel"])
        try:
            token = packets.send_intake_link(patient, channel=channel, by=request.user)
        except IntakeError as exc:
            messages.error(request, exc.message)
        else:
            if channel == PortalSignInLink.Channel.SHOWN:
                # Shown once, on the next page only; never stored in clear.
                request.session["intake_shown_link"] = token
            else:
                messages.success(
                    request, f"Sign-in link sent by {channel.label.lower()}."
                )
    return redirect("intake:patient", patient_uuid=patient.uuid)


@require_capability(Capability.MANAGE_INTAKE)
@require_POST
def remind(request: AuthenticatedHttpRequest, patient_uuid: uuid.UUID) -> HttpResponse:
    patient = get_patient_for_user(
        request.user, patient_uuid, capability=Capability.MANAGE_INTAKE
    )
    form = ReminderForm(request.POST)
    if form.is_valid():
        try:
            packets.send_reminder(
                packets.open_packet(patient),
                by=request.user,
                channel=PortalSignInLink.Channel(form.cleaned_data["channel"]),
            )
        except IntakeError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, "Reminder sent with a new sign-in link.")
    return redirect("intake:patient", patient_uuid=patient.uuid)


@require_capability(Capability.MANAGE_INTAKE)
@require_POST
def upload(request: AuthenticatedHttpRequest, patient_uuid: uuid.UUID) -> HttpResponse:
    patient = get_patient_for_user(
        request.user, patient_uuid, capability=Capability.MANAGE_INTAKE
    )
    form = UploadForm(request.POST, request.FILES)
    if form.is_valid():
        upload_file = form.cleaned_data["file"]
        try:
            packets.upload_document(
                patient,
                kind=form.cleaned_data["kind"],
                name=upload_file.name or "",
                content=upload_file.read(uploads.MAX_DOCUMENT_BYTES + 1),
                by=request.user,
            )
        except IntakeError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, "Document stored.")
    else:
        messages.error(request, "Choose a file and what kind of document it is.")
    return redirect("intake:patient", patient_uuid=patient.uuid)


@require_capability(Capability.VIEW_INTAKE)
@require_GET
def answers(request: AuthenticatedHttpRequest, patient_uuid: uuid.UUID) -> HttpResponse:
    patient = get_patient_for_user(
        request.user, patient_uuid, capability=Capability.VIEW_INTAKE
    )
    packet_row = packets.packet_for(patient)
    packets.record_intake_viewed(patient, by=request.user)
    sections = packet_row.sections
    meds = packet.rows(sections.get("medications", {}), "medications")
    return render(
        request,
        "intake/answers.html",
        {
            "patient": patient,
            "packet": packet_row,
            "statuses": packets.packet_status(packet_row),
            "s": sections,
            "medical_history": list(eligibility.MEDICAL_HISTORY.items()),
            "psychiatric_questions": list(packet.PSYCHIATRIC_QUESTIONS.items()),
            "trials": packet.rows(sections.get("trials", {}), "trials"),
            "effects": dict(eligibility.TRIAL_EFFECT_LABELS),
            "medications": [
                (m, [FLAGS_BY_CODE[f].label for f in flags_for(m["name"])])
                for m in meds
            ],
            "allergies": packet.rows(sections.get("allergies", {}), "allergies"),
            "instruments": packets.instrument_statuses(packet_row),
        },
    )


def _file_response(
    name: str | None, content_type: str, download_name: str
) -> FileResponse:
    if not name:
        raise Http404("No such file.")
    response = FileResponse(default_storage.open(name, "rb"), content_type=content_type)
    response["Content-Disposition"] = f'inline; filename="{download_name}"'
    response["Cache-Control"] = "private, no-store"
    return response


@require_capability(Capability.VIEW_INTAKE)
@require_GET
def document(
    request: AuthenticatedHttpRequest, document_uuid: uuid.UUID
) -> FileResponse:
    found = (
        IntakeDocument.objects.select_related("patient")
        .filter(uuid=document_uuid)
        .first()
    )
    if found is None:
        raise Http404("No such document.")
    get_patient_for_user(
        request.user, found.patient.uuid, capability=Capability.VIEW_INTAKE
    )
    packets.record_document_viewed(found, by=request.user)
    return _file_response(
        found.file.name,
        found.content_type,
        f"{found.kind}-{found.uuid}.{uploads.EXTENSIONS[found.content_type]}",
    )


# Eligibility ----------------------------------------------------------------------------


@never_cache
@require_capability(Capability.VIEW_INTAKE)
@require_http_methods(["GET", "POST"])
def eligibility_review(
    request: AuthenticatedHttpRequest, patient_uuid: uuid.UUID
) -> HttpResponse:
    patient = get_patient_for_user(
        request.user, patient_uuid, capability=Capability.VIEW_INTAKE
    )
    can_decide = request.user.can(Capability.DECIDE_ELIGIBILITY)
    form = DecisionForm(request.POST or None)
    if request.method == "POST":
        if not can_decide:
            raise PermissionDenied
        if form.is_valid():
            data = {k: v for k, v in form.cleaned_data.items() if k != "password"}
            try:
                decision = eligibility_decisions.decide_eligibility(
                    patient,
                    by=request.user,
                    password=form.cleaned_data["password"],
                    **data,
                )
            except IntakeError as exc:
                if exc.field == "password":
                    eligibility_decisions.record_refused_signature(
                        patient, by=request.user
                    )
                form.add_error(
                    exc.field if exc.field in form.fields else None, exc.message
                )
            else:
                messages.success(
                    request,
                    f"Decision signed: {decision.get_outcome_display()}. The patient sees it in the portal.",
                )
                if (
                    decision.outcome == EligibilityDecision.Outcome.NEEDS_CLEARANCE
                    and request.user.can(Capability.WRITE_LETTERS)
                ):
                    # The clearance request is a letter: drafted, signed and sent there.
                    return redirect("letters:clearance", decision_uuid=decision.uuid)
                return redirect("intake:eligibility", patient_uuid=patient.uuid)
    else:
        eligibility_decisions.record_review_opened(patient, by=request.user)
    review = eligibility_decisions.review_for(patient)
    packet_row = packets.packet_for(patient)
    referring = patient.care_team.filter(role="referring").first()
    if not form.is_bound and referring is not None:
        form.initial.update(
            {
                "clearance_provider_name": referring.name,
                "clearance_provider_practice": referring.practice,
                "clearance_provider_fax": referring.fax,
                "clearance_provider_email": referring.email,
            }
        )
    return render(
        request,
        "intake/eligibility.html",
        {
            "patient": patient,
            "packet": packet_row,
            "review": review.review,
            "facts": review.facts,
            "failed_trials": review.facts.failed_adequate_trials,
            "form": form,
            "can_decide": can_decide,
            "decisions": EligibilityDecision.objects.filter(
                patient=patient
            ).select_related("decided_by"),
            "statuses": packets.packet_status(packet_row),
            "instruments": packets.instrument_statuses(packet_row),
        },
        status=422 if form.is_bound and form.errors else 200,
    )


@require_capability(Capability.VIEW_INTAKE)
@require_GET
def clearance_letter(
    request: AuthenticatedHttpRequest, decision_uuid: uuid.UUID
) -> FileResponse:
    decision = (
        EligibilityDecision.objects.select_related("patient")
        .filter(uuid=decision_uuid)
        .first()
    )
    if decision is None or not decision.clearance_letter:
        raise Http404("No such letter.")
    get_patient_for_user(
        request.user, decision.patient.uuid, capability=Capability.VIEW_INTAKE
    )
    eligibility_decisions.record_letter_viewed(decision, by=request.user)
    return _file_response(
        decision.clearance_letter.name,
        "application/pdf",
        f"clearance-request-{decision.uuid}.pdf",
    )


# Consent -----------------------------------------------------------------------------------


@require_capability(Capability.VIEW_CONSENTS)
@require_GET
def consent_pdf(
    request: AuthenticatedHttpRequest, signature_uuid: uuid.UUID
) -> FileResponse:
    signature = (
        ConsentSignature.objects.select_related("patient")
        .filter(uuid=signature_uuid)
        .first()
    )
    if signature is None or not signature.pdf:
        raise Http404("No such consent.")
    get_patient_for_user(
        request.user, signature.patient.uuid, capability=Capability.VIEW_CONSENTS
    )
    consents.record_consent_viewed(signature, by=request.user)
    return _file_response(
        signature.pdf.name, "application/pdf", f"consent-{signature.uuid}.pdf"
    )


@require_capability(Capability.COLLECT_CONSENT)
@require_POST
def consent_tablet(
    request: AuthenticatedHttpRequest, patient_uuid: uuid.UUID
) -> HttpResponse:
    """Hand this device to the patient: the staff session is locked to the portal's
    consent pages until the nurse's authenticator code hands it back."""
    patient = get_patient_for_user(
        request.user, patient_uuid, capability=Capability.COLLECT_CONSENT
    )
    token = consents.start_consent_tablet(patient, by=request.user)
    tablet_lock.lock(
        request,
        allowed=("/portal/",),
        return_to=tablet_lock.safe_next(
            request, reverse("intake:patient", kwargs={"patient_uuid": patient.uuid})
        ),
        purpose="consent",
        by=request.user,
    )
    return redirect(reverse("portal:sign_in", kwargs={"token": token}))


@require_capability(Capability.MANAGE_CONSENT_FORMS)
@require_GET
def consent_forms(request: AuthenticatedHttpRequest) -> HttpResponse:
    current = current_documents(request.user.organization_pk)
    kinds = [
        (kind, label, current.get(kind)) for kind, label in ConsentDocument.Kind.choices
    ]
    return render(request, "intake/consent_forms.html", {"kinds": kinds})


@require_capability(Capability.MANAGE_CONSENT_FORMS)
@require_http_methods(["GET", "POST"])
def consent_form_edit(request: AuthenticatedHttpRequest, kind: str) -> HttpResponse:
    if kind not in ConsentDocument.Kind.values:
        raise Http404("No such form.")
    current = current_documents(request.user.organization_pk).get(kind)
    default_title, default_body = consent_defaults.DEFAULTS[kind]
    form = ConsentDocumentForm(
        request.POST or None,
        initial={
            "title": current.title if current else default_title,
            "body": current.body if current else default_body,
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            document = consents.publish_consent(
                _organization(request),
                kind=kind,
                title=form.cleaned_data["title"],
                body=form.cleaned_data["body"],
                by=request.user,
            )
        except IntakeError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(
                request,
                f"Version {document.version} published. Patients sign it before their next treatment.",
            )
            return redirect("intake:consent_forms")
    versions = ConsentDocument.objects.filter(
        organization_id=request.user.organization_pk, kind=kind
    ).annotate(signed=Count("signatures"))
    return render(
        request,
        "intake/consent_form_edit.html",
        {
            "form": form,
            "kind": ConsentDocument.Kind(kind),
            "current": current,
            "versions": versions,
            "preview": render_markdown(form["body"].value() or ""),
        },
    )


# Rules and wording -------------------------------------------------------------------------


@require_capability(Capability.CONFIGURE_ELIGIBILITY)
@require_http_methods(["GET", "POST"])
def rules(request: AuthenticatedHttpRequest) -> HttpResponse:
    organization = _organization(request)
    current = eligibility_decisions.current_rules(organization.pk)
    rules_form = RulesForm(
        request.POST if request.POST.get("form") == "rules" else None,
        initial={
            "overrides": json.dumps(current.overrides if current else {}, indent=2)
        },
    )
    settings_row = eligibility_decisions.intake_settings(organization.pk)
    wording_form = IntakeSettingsForm(
        request.POST if request.POST.get("form") == "wording" else None,
        instance=settings_row,
    )
    if request.method == "POST":
        if request.POST.get("form") == "rules" and rules_form.is_valid():
            try:
                saved = eligibility_decisions.save_rules(
                    organization,
                    by=request.user,
                    overrides=rules_form.cleaned_data["overrides"],
                    reason=rules_form.cleaned_data["reason"],
                )
            except IntakeError as exc:
                rules_form.add_error(
                    exc.field if exc.field in rules_form.fields else None, exc.message
                )
            else:
                messages.success(request, f"Rules version {saved.version} saved.")
                return redirect("intake:rules")
        if request.POST.get("form") == "wording" and wording_form.is_valid():
            wording = wording_form.cleaned_data
            eligibility_decisions.save_intake_settings(
                organization,
                message_pending=wording["message_pending"],
                message_eligible=wording["message_eligible"],
                message_eligible_with_conditions=wording[
                    "message_eligible_with_conditions"
                ],
                message_needs_clearance=wording["message_needs_clearance"],
                message_not_eligible=wording["message_not_eligible"],
                referral_resources=wording["referral_resources"],
                by=request.user,
            )
            messages.success(request, "Wording saved.")
            return redirect("intake:rules")
    configured = eligibility.configured_rules(current.overrides if current else {})
    return render(
        request,
        "intake/rules.html",
        {
            "rules": configured,
            "current": current,
            "version": eligibility.version_label(current.version if current else None),
            "rules_form": rules_form,
            "wording_form": wording_form,
        },
    )
