"""The patient's intake portal: magic-link sign-in, the resumable packet, baseline
questionnaires, document upload, the eligibility message and consent signing.

A portal session is a key in the Django session separate from staff sign-in
(`PORTAL_SESSION`); portal pages never show staff UI and never read
`request.user`. Every section saves as the patient goes (htmx autosave, or
the Save button without JavaScript).
"""

import base64
import binascii
import contextlib
import time
import uuid
from collections.abc import Callable
from functools import wraps
from typing import Any, Concatenate

from django.contrib.auth import logout
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from neuroclinic.accounts.models import User
from neuroclinic.audit.models import AuditEvent
from neuroclinic.audit.record import client_ip, record
from neuroclinic.http import HtmxHttpRequest
from neuroclinic.intake import eligibility, packet, uploads
from neuroclinic.intake.actions import consents as consent_actions
from neuroclinic.intake.actions import (
    consult_requests,
    eligibility_decisions,
    packets,
)
from neuroclinic.intake.actions import sign_in as sign_in_actions
from neuroclinic.intake.checks import ConsentState, consent_states, latest_decision
from neuroclinic.intake.errors import IntakeError, SignInLinkInvalid
from neuroclinic.intake.forms import UploadForm, section_data
from neuroclinic.intake.models import (
    ConsentDocument,
    ConsentSignature,
    IntakeDocument,
    PortalSignInLink,
)
from neuroclinic.lib.safe_markdown import render_markdown
from neuroclinic.measures import actions as measures_actions
from neuroclinic.measures.forms import (
    answers_from_post,
    errors_by_item,
    item_views,
    submission_key_from,
    wording_for,
)
from neuroclinic.measures.instruments import (
    INSTRUMENTS,
    InvalidResponse,
    answer_raises_safety_alert,
)
from neuroclinic.measures.progress import trajectories_for
from neuroclinic.patients.models import Patient

PORTAL_SESSION = "intake_portal"
PORTAL_IDLE_SECONDS = 60 * 60


def _sign_in(request: HttpRequest, link: PortalSignInLink) -> None:
    tablet = link.channel == PortalSignInLink.Channel.TABLET
    if tablet:
        # The tablet is handed to the patient: nothing of the staff session may remain.
        logout(request)
    request.session.cycle_key()
    request.session[PORTAL_SESSION] = {
        "patient": str(link.patient.uuid),
        "witness": link.created_by_id if tablet else None,
        "seen": time.time(),
    }


def _portal_patient(request: HttpRequest) -> tuple[Patient, dict[str, Any]] | None:
    state = request.session.get(PORTAL_SESSION)
    if not isinstance(state, dict):
        return None
    if time.time() - float(state.get("seen", 0)) > PORTAL_IDLE_SECONDS:
        request.session.pop(PORTAL_SESSION, None)
        return None
    patient = (
        Patient.objects.select_related("organization")
        .filter(uuid=str(state.get("patient", "")))
        .first()
    )
    if patient is None:
        return None
    state["seen"] = time.time()
    request.session[PORTAL_SESSION] = state
    return patient, state


def portal_required[**P](
    view: Callable[
        Concatenate[HtmxHttpRequest, Patient, dict[str, Any], P], HttpResponse
    ],
) -> Callable[Concatenate[HtmxHttpRequest, P], HttpResponse]:
    @wraps(view)
    def wrapped(
        request: HtmxHttpRequest, /, *args: P.args, **kwargs: P.kwargs
    ) -> HttpResponse:
        found = _portal_patient(request)
        if found is None:
            return render(
                request, "intake/portal/signed_out.html", {"expired": True}, status=401
            )
        patient, state = found
        return view(request, patient, state, *args, **kwargs)

    return wrapped


def _relevant_consents(patient: Patient) -> list[ConsentState]:
    """The published forms this patient is asked to sign: those for the treatment they seek."""
    treatment = packets.open_packet(patient).sections.get("about", {}).get("treatment")
    kinds = {
        "ketamine": {"ketamine", "privacy", "financial", "communication"},
        "tms": {"tms", "privacy", "financial", "communication"},
    }.get(str(treatment), {k.value for k in ConsentDocument.Kind})
    return [
        s for s in consent_states(patient) if s.current is not None and s.kind in kinds
    ]


def _base(patient: Patient, state: dict[str, Any]) -> dict[str, Any]:
    return {
        "organization": patient.organization,
        "patient": patient,
        "first_name": patient.preferred_name or patient.given_name,
        "tablet": bool(state.get("witness")),
        "kiosk": False,
    }


@never_cache
@require_http_methods(["GET", "POST"])
def sign_in(request: HttpRequest, token: str) -> HttpResponse:
    """GET asks for a tap (mail scanners follow links); POST spends the link."""
    if request.method == "GET":
        return render(request, "intake/portal/sign_in.html", {"token": token})
    try:
        link = sign_in_actions.use_sign_in_link(token)
    except SignInLinkInvalid as exc:
        sign_in_actions.record_refused_sign_in(exc.message)
        return render(
            request,
            "intake/portal/link_refused.html",
            {"message": exc.message},
            status=410,
        )
    _sign_in(request, link)
    if link.channel == PortalSignInLink.Channel.TABLET:
        return redirect("intake_portal:consents")
    return redirect("intake_portal:home")


@require_POST
def sign_out(request: HttpRequest) -> HttpResponse:
    tablet = isinstance(request.session.get(PORTAL_SESSION), dict) and bool(
        request.session[PORTAL_SESSION].get("witness")
    )
    request.session.flush()
    return render(request, "intake/portal/signed_out.html", {"tablet": tablet})


@never_cache
@portal_required
def home(
    request: HtmxHttpRequest, patient: Patient, state: dict[str, Any]
) -> HttpResponse:
    if state.get("witness"):
        return redirect("intake_portal:consents")
    packet_row = packets.open_packet(patient)
    statuses = packets.packet_status(packet_row)
    decision = latest_decision(patient)
    consents = _relevant_consents(patient)
    return render(
        request,
        "intake/portal/home.html",
        _base(patient, state)
        | {
            "packet": packet_row,
            "statuses": statuses,
            "done": sum(1 for s in statuses if s.patient_done),
            "ready": packets.patient_part_complete(statuses),
            "message": eligibility_decisions.portal_status_message(patient)
            if packet_row.submitted_at or decision
            else "",
            "decision": decision,
            "consents": consents
            if decision is not None and decision.allows_treatment
            else [],
        },
    )


@never_cache
@require_http_methods(["GET", "POST"])
@portal_required
def section(
    request: HtmxHttpRequest, patient: Patient, state: dict[str, Any], key: str
) -> HttpResponse:
    if key not in packet.FORM_SECTIONS or state.get("witness"):
        raise Http404("No such section.")
    packet_row = packets.open_packet(patient)
    error = ""
    if request.method == "POST":
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
                "intake/portal/section.html#save-status",
                {
                    "saved_at": timezone.now(),
                    "missing": packet.missing_fields(key, data),
                    "error": error,
                },
            )
        if not error:
            if request.POST.get("next") == "home":
                return redirect("intake_portal:home")
            return redirect(_next_url(key))
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
        "intake/portal/section.html",
        _base(patient, state)
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
            "substance_instruments": list(
                packets.instrument_statuses(packet_row, packet.SUBSTANCE_INSTRUMENTS)
            ),
        },
    )


def _next_url(key: str) -> str:
    index = packet.SECTION_KEYS.index(key)
    if index + 1 < len(packet.SECTION_KEYS):
        following = packet.SECTION_KEYS[index + 1]
        if following == "questionnaires":
            return reverse("intake_portal:questionnaires")
        if following == "documents":
            return reverse("intake_portal:documents")
        return reverse("intake_portal:section", kwargs={"key": following})
    return reverse("intake_portal:home")


@never_cache
@portal_required
def questionnaires(
    request: HtmxHttpRequest, patient: Patient, state: dict[str, Any]
) -> HttpResponse:
    packet_row = packets.open_packet(patient)
    statuses = packets.instrument_statuses(packet_row)
    return render(
        request,
        "intake/portal/questionnaires.html",
        _base(patient, state)
        | {
            "statuses": statuses,
            "next": next((s for s in statuses if not s.done and s.by_patient), None),
        },
    )


def _risk_items(code: str) -> set[str]:
    instrument = INSTRUMENTS[code]
    return {
        item.link_id
        for item in instrument.items
        if any(
            answer_raises_safety_alert(code, item.link_id, o.value)
            for o in item.options
        )
    }


@never_cache
@require_http_methods(["GET", "POST"])
@portal_required
def questionnaire(
    request: HtmxHttpRequest, patient: Patient, state: dict[str, Any], code: str
) -> HttpResponse:
    """One baseline questionnaire, answered through measures (scored, alerts raised as answered)."""
    packet_row = packets.open_packet(patient)
    status = next(
        (s for s in packets.instrument_statuses(packet_row) if s.code == code), None
    )
    if status is None or not status.by_patient or state.get("witness"):
        raise Http404("No such questionnaire.")
    if status.done:
        return redirect("intake_portal:questionnaires")
    link = packets.questionnaire_link(packet_row)
    if link is None or code not in link.instrument_codes:
        return redirect("intake_portal:questionnaires")
    instrument = INSTRUMENTS[code]
    errors: dict[str, str] = {}
    general: list[str] = []
    values: dict[str, object] = {}
    if request.method == "POST":
        values = answers_from_post(instrument, request.POST)
        key = submission_key_from(request.POST)
        try:
            recorded = measures_actions.submit_from_link(
                link, instrument_code=code, answers=values, submission_key=key
            )
        except InvalidResponse as exc:
            errors, general = errors_by_item(exc)
        except measures_actions.MeasuresError as exc:
            general.append(exc.message)
        else:
            link.refresh_from_db()
            if recorded.alerts or link.alert_raised:
                return render(
                    request, "intake/portal/crisis.html", _base(patient, state)
                )
            return redirect("intake_portal:questionnaires")
    return render(
        request,
        "intake/portal/questionnaire.html",
        _base(patient, state)
        | {
            "instrument": instrument,
            "items": item_views(
                instrument,
                wording=wording_for(patient.organization_id, instrument),
                values=values,
                errors=errors,
            ),
            "general_errors": general,
            "submission_key": uuid.uuid4(),
            "check_url": reverse(
                "intake_portal:questionnaire_check", kwargs={"code": code}
            ),
            "risk_items": _risk_items(code),
        },
    )


@never_cache
@require_POST
@portal_required
def questionnaire_check(
    request: HtmxHttpRequest, patient: Patient, state: dict[str, Any], code: str
) -> HttpResponse:
    """htmx: a risk answer raises the alert and shows the crisis lines before the form is sent."""
    packet_row = packets.open_packet(patient)
    link = packets.questionnaire_link(packet_row)
    link_id = request.POST.get("item", "")
    raw = request.POST.get(link_id, "")
    if link is None or code not in link.instrument_codes or not raw.isdigit():
        return HttpResponse("")
    try:
        alert = measures_actions.record_early_answer(
            link, instrument_code=code, link_id=link_id, value=int(raw)
        )
    except InvalidResponse:
        return HttpResponse("")
    if alert is None:
        return HttpResponse("")
    return render(
        request, "portal/crisis_box.html", {"organization": patient.organization}
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
                return redirect("intake_portal:documents")
    return render(
        request,
        "intake/portal/documents.html",
        _base(patient, state)
        | {"form": form, "documents": IntakeDocument.objects.filter(patient=patient)},
    )


@require_POST
@portal_required
def submit(
    request: HtmxHttpRequest, patient: Patient, state: dict[str, Any]
) -> HttpResponse:
    packet_row = packets.open_packet(patient)
    # When something is missing the home page lists it; nothing else to say here.
    with contextlib.suppress(IntakeError):
        packets.submit_packet(packet_row)
    return redirect("intake_portal:home")


@never_cache
@portal_required
def consents(
    request: HtmxHttpRequest, patient: Patient, state: dict[str, Any]
) -> HttpResponse:
    states = _relevant_consents(patient)
    return render(
        request,
        "intake/portal/consents.html",
        _base(patient, state) | {"states": states},
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
            return redirect("intake_portal:consents")
    signed = (
        ConsentSignature.objects.filter(patient=patient, document=document)
        .order_by("-signed_at")
        .first()
    )
    return render(
        request,
        "intake/portal/consent.html",
        _base(patient, state)
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
    """The patient's own questionnaire scores over time (issue #3: trajectories in the portal)."""
    with transaction.atomic():
        record(
            AuditEvent.Action.TRAJECTORY_VIEWED,
            actor=None,
            actor_username="(patient portal)",
            patient=patient,
            subject=patient,
            via="portal",
        )
    return render(
        request,
        "intake/portal/progress.html",
        _base(patient, state) | {"trajectories": trajectories_for(patient)},
    )
