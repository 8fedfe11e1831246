"""The patient portal: magic-link sign-in, the resumable intake packet, documents, the
eligibility message, consent signing and the patient's own progress.

Questionnaires, by a sent link, on the clinic tablet or in the packet, are in
`questionnaires.py` (one flow). Every section saves as the patient goes (htmx
autosave, or the Save button without JavaScript). Views are thin: session,
form, an intake or measures action, render. A GET writes nothing but the audit
of what was read; the packet is created when the sign-in link is issued or on
the patient's first save.
"""

import base64
import binascii
import contextlib
import uuid
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from neuroclinic.accounts import tablet_lock
from neuroclinic.accounts.models import User
from neuroclinic.audit.record import client_ip
from neuroclinic.http import HtmxHttpRequest
from neuroclinic.intake import eligibility, packet, uploads
from neuroclinic.intake.actions import consents as consent_actions
from neuroclinic.intake.actions import consult_requests, eligibility_decisions, packets
from neuroclinic.intake.actions import sign_in as sign_in_actions
from neuroclinic.intake.checks import ConsentState, consent_states, latest_decision
from neuroclinic.intake.errors import IntakeError, SignInLinkInvalid
from neuroclinic.intake.forms import UploadForm, section_data
from neuroclinic.intake.models import (
    ConsentDocument,
    ConsentSignature,
    IntakeDocument,
    IntakePacket,
    PortalSignInLink,
)
from neuroclinic.lib.safe_markdown import render_markdown
from neuroclinic.measures.progress import trajectories_for
from neuroclinic.outcomes.progress import progress_for
from neuroclinic.patients.models import Patient
from neuroclinic.portal import reads
from neuroclinic.portal.session import (
    PORTAL_SESSION,
    frame,
    on_tablet,
    open_session,
    portal_required,
)

# The forms a patient is asked to sign, by the treatment they ask about.
CONSENTS_FOR_TREATMENT = {
    "ketamine": {"ketamine", "privacy", "financial", "communication"},
    "tms": {"tms", "privacy", "financial", "communication"},
}


def _relevant_consents(
    patient: Patient, packet_row: IntakePacket
) -> list[ConsentState]:
    """The published forms this patient is asked to sign: those for the treatment they seek."""
    treatment = packet_row.sections.get("about", {}).get("treatment")
    kinds = CONSENTS_FOR_TREATMENT.get(
        str(treatment), {k.value for k in ConsentDocument.Kind}
    )
    return [
        s for s in consent_states(patient) if s.current is not None and s.kind in kinds
    ]


@never_cache
@require_http_methods(["GET", "POST"])
def sign_in(request: HttpRequest, token: str) -> HttpResponse:
    """GET asks for a tap (mail scanners follow links); POST spends the link."""
    if request.method == "GET":
        return render(request, "portal/sign_in.html", {"token": token})
    try:
        link = sign_in_actions.use_sign_in_link(token)
    except SignInLinkInvalid as exc:
        sign_in_actions.record_refused_sign_in(exc.message)
        return render(
            request, "portal/link_refused.html", {"message": exc.message}, status=410
        )
    open_session(request, link)
    if link.channel == PortalSignInLink.Channel.TABLET:
        return redirect("portal:consents")
    return redirect("portal:home")


@require_POST
def sign_out(request: HttpRequest) -> HttpResponse:
    if tablet_lock.is_locked(request):
        # The patient is done: the tablet goes back to the nurse, who is still signed in.
        request.session.pop(PORTAL_SESSION, None)
        return redirect("accounts:unlock")
    tablet = on_tablet(request)
    request.session.flush()
    return render(request, "portal/signed_out.html", {"tablet": tablet})


@never_cache
@require_GET
@portal_required
def home(
    request: HtmxHttpRequest, patient: Patient, state: dict[str, Any]
) -> HttpResponse:
    if state.get("witness"):
        return redirect("portal:consents")
    packet_row = packets.packet_for(patient)
    statuses = packets.packet_status(packet_row)
    decision = latest_decision(patient)
    return render(
        request,
        "portal/home.html",
        frame(patient, state)
        | {
            "packet": packet_row,
            "statuses": statuses,
            "done": sum(1 for s in statuses if s.patient_done),
            "ready": packets.patient_part_complete(statuses),
            "message": decision.patient_message
            if decision is not None
            else eligibility_decisions.portal_status_message(patient)
            if packet_row.submitted_at
            else "",
            "decision": decision,
            "consents": _relevant_consents(patient, packet_row)
            if decision is not None and decision.allows_treatment
            else [],
        },
    )


def _next_url(key: str) -> str:
    index = packet.SECTION_KEYS.index(key)
    if index + 1 < len(packet.SECTION_KEYS):
        following = packet.SECTION_KEYS[index + 1]
        if following == "questionnaires":
            return reverse("portal:questionnaires")
        if following == "documents":
            return reverse("portal:documents")
        return reverse("portal:section", kwargs={"key": following})
    return reverse("portal:home")


@never_cache
@require_http_methods(["GET", "POST"])
@portal_required
def section(
    request: HtmxHttpRequest, patient: Patient, state: dict[str, Any], key: str
) -> HttpResponse:
    if key not in packet.FORM_SECTIONS or state.get("witness"):
        raise Http404("No such section.")
    error = ""
    if request.method == "POST":
        packet_row = packets.open_packet(patient)
        try:
            packet_row = packets.save_section(
                packet_row, key, section_data(key, request.POST)
            )
        except IntakeError as exc:
            error = exc.message
        if request.htmx:
            data = packet_row.sections.get(key, {})
            return render(
                request,
                "portal/section.html#save-status",
                {
                    "saved_at": timezone.now(),
                    "missing": packet.missing_fields(key, data),
                    "error": error,
                },
            )
        if not error:
            if request.POST.get("next") == "home":
                return redirect("portal:home")
            return redirect(_next_url(key))
    else:
        packet_row = packets.packet_for(patient)
    data = packet_row.sections.get(key, {})
    index = packet.SECTION_KEYS.index(key)
    rows: list[dict[str, str]] = []
    if key in packet.LIST_FIELDS:
        found = packet.rows(data, key)
        blanks = max(packet.LIST_ROWS[key] - len(found), 2)
        rows = found + [
            dict.fromkeys(packet.LIST_FIELDS[key], "") for _ in range(blanks)
        ]
    return render(
        request,
        "portal/section.html",
        frame(patient, state)
        | {
            "key": key,
            "section": packet.SECTIONS[index],
            "step": index + 1,
            "steps": len(packet.SECTIONS),
            "data": data,
            "rows": rows,
            "none_flag": packet.NONE_FLAGS.get(key, ""),
            "missing": packet.missing_fields(key, data) if data else [],
            "error": error,
            "submitted": packet_row.submitted_at is not None,
            "medical_history": list(eligibility.MEDICAL_HISTORY.items()),
            "psychiatric_questions": list(packet.PSYCHIATRIC_QUESTIONS.items()),
            "yes_no_unsure": packet.YES_NO_UNSURE,
            "treatment_choices": packet.TREATMENT_CHOICES,
            "effects": list(eligibility.TRIAL_EFFECT_LABELS.items()),
            "substance_instruments": packets.instrument_statuses(
                packet_row, packet.SUBSTANCE_INSTRUMENTS
            )
            if key == "substance"
            else [],
        },
    )


@never_cache
@require_http_methods(["GET", "POST"])
@portal_required
def documents(
    request: HtmxHttpRequest, patient: Patient, state: dict[str, Any]
) -> HttpResponse:
    if state.get("witness"):
        raise Http404("Not here.")
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST":
        if consult_requests.rate_limited("upload", client_ip(request), limit=20):
            form.add_error(
                None, "Too many uploads in the last hour. Please try again later."
            )
        elif form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                packets.upload_document(
                    patient,
                    kind=form.cleaned_data["kind"],
                    name=upload.name or "",
                    content=upload.read(uploads.MAX_DOCUMENT_BYTES + 1),
                    by=None,
                )
            except IntakeError as exc:
                form.add_error("file" if exc.field == "file" else None, exc.message)
            else:
                return redirect("portal:documents")
    return render(
        request,
        "portal/documents.html",
        frame(patient, state)
        | {"form": form, "documents": IntakeDocument.objects.filter(patient=patient)},
    )


@require_POST
@portal_required
def submit(
    request: HtmxHttpRequest, patient: Patient, state: dict[str, Any]
) -> HttpResponse:
    # When something is missing the home page lists it; nothing else to say here.
    with contextlib.suppress(IntakeError):
        packets.submit_packet(packets.open_packet(patient))
    return redirect("portal:home")


@never_cache
@require_GET
@portal_required
def consents(
    request: HtmxHttpRequest, patient: Patient, state: dict[str, Any]
) -> HttpResponse:
    return render(
        request,
        "portal/consents.html",
        frame(patient, state)
        | {"states": _relevant_consents(patient, packets.packet_for(patient))},
    )


def _png_from_data_url(value: str) -> bytes:
    prefix = "data:image/png;base64,"
    if not value.startswith(prefix):
        return b""
    try:
        return base64.b64decode(value[len(prefix) :], validate=True)
    except (binascii.Error, ValueError):
        return b""


@never_cache
@require_http_methods(["GET", "POST"])
@portal_required
def consent(
    request: HtmxHttpRequest,
    patient: Patient,
    state: dict[str, Any],
    document_uuid: uuid.UUID,
) -> HttpResponse:
    document = ConsentDocument.objects.filter(
        organization_id=patient.organization_id, uuid=document_uuid
    ).first()
    if document is None:
        raise Http404("No such form.")
    errors: dict[str, str] = {}
    typed_name = ""
    if request.method == "POST":
        typed_name = request.POST.get("typed_name", "")
        witness = None
        if state.get("witness"):
            witness = User.objects.filter(
                pk=state["witness"], organization_id=patient.organization_id
            ).first()
        try:
            consent_actions.sign_consent(
                patient,
                document,
                typed_name=typed_name,
                signature_png=_png_from_data_url(request.POST.get("signature", "")),
                ip_address=client_ip(request),
                channel=ConsentSignature.Channel.TABLET
                if witness
                else ConsentSignature.Channel.PORTAL,
                by=witness,
            )
        except IntakeError as exc:
            errors[exc.field or "form"] = exc.message
        else:
            return redirect("portal:consents")
    signed = (
        ConsentSignature.objects.filter(patient=patient, document=document)
        .order_by("-signed_at")
        .first()
    )
    return render(
        request,
        "portal/consent.html",
        frame(patient, state)
        | {
            "document": document,
            "body": render_markdown(document.body),
            "signed": signed,
            "errors": errors,
            "typed_name": typed_name,
        },
    )


@never_cache
@require_GET
@portal_required
def progress(
    request: HtmxHttpRequest, patient: Patient, state: dict[str, Any]
) -> HttpResponse:
    """The patient's own questionnaire scores over time (issue #3: trajectories in the
    portal) and each treatment episode summarised in plain words (issue #11). Only the
    signed-in patient's chart is read; the one audit event covers both."""
    reads.record_progress_viewed(patient)
    return render(
        request,
        "portal/progress.html",
        frame(patient, state)
        | {
            "trajectories": trajectories_for(patient),
            "episodes": progress_for(patient),
        },
    )
