"""The portal's one questionnaire flow, wherever the patient answers:

- by a link the clinic sent (`/q/<token>/`) or on the clinic tablet (`/kiosk/<token>/`):
  no account, the link is the key, its questionnaires one after another;
- signed in to the portal, the intake packet's baseline questionnaires
  (`/portal/questionnaires/<code>/`), through a measures link the portal keeps.

Both go through the same form, the same answer handling and the same check:
answers are scored and stored by `measures` (source "portal" or "kiosk"), and
an answer that on its own means risk (PHQ-9 item 9) raises the safety alert
and shows the crisis lines as soon as it is chosen, before the form is sent.
Source: M2, C1, C2 (docs/sources.md). A GET writes nothing but the audit of
the read; the measures link for the intake questionnaires is made on a POST.
"""

import uuid
from dataclasses import dataclass, field
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from neuroclinic.http import HtmxHttpRequest
from neuroclinic.intake.actions import packets
from neuroclinic.measures.actions.common import MeasuresError, PortalLinkInvalid
from neuroclinic.measures.actions.portal_links import (
    link_progress,
    open_portal_link,
    record_early_answer,
    submit_from_link,
)
from neuroclinic.measures.forms import (
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
    answer_raises_safety_alert,
)
from neuroclinic.measures.models import PortalLink
from neuroclinic.patients.models import Patient
from neuroclinic.portal import reads
from neuroclinic.portal.session import frame, portal_required


def risk_items(code: str) -> set[str]:
    """The items where some answer on its own raises a safety alert (checked as answered)."""
    instrument = INSTRUMENTS[code]
    return {
        item.link_id
        for item in instrument.items
        if any(
            answer_raises_safety_alert(code, item.link_id, o.value)
            for o in item.options
        )
    }


@dataclass
class Answered:
    """What became of a posted questionnaire."""

    saved: bool = False
    crisis: bool = False
    values: dict[str, object] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    general: list[str] = field(default_factory=list)


def _answer(request: HttpRequest, link: PortalLink, code: str) -> Answered:
    """Score and store one posted questionnaire through the link.

    Raises PortalLinkInvalid when the link can no longer be used.
    """
    answered = Answered()
    if code in INSTRUMENTS:
        answered.values = answers_from_post(INSTRUMENTS[code], request.POST)
    try:
        recorded = submit_from_link(
            link,
            instrument_code=code,
            answers=answered.values,
            submission_key=submission_key_from(request.POST),
        )
    except InvalidResponse as exc:
        answered.errors, answered.general = errors_by_item(exc)
    except PortalLinkInvalid:
        raise
    except MeasuresError as exc:
        answered.general.append(exc.message)
    else:
        link.refresh_from_db()
        answered.saved = True
        answered.crisis = bool(recorded.alerts) or link.alert_raised
    return answered


def _form(
    request: HttpRequest,
    *,
    patient: Patient,
    instrument: Instrument,
    check_url: str,
    context: dict[str, Any],
    answered: Answered | None = None,
) -> HttpResponse:
    answered = answered or Answered()
    return render(
        request,
        "portal/questionnaire.html",
        context
        | {
            "instrument": instrument,
            "items": item_views(
                instrument,
                wording=wording_for(patient.organization_id, instrument),
                values=answered.values,
                errors=answered.errors,
            ),
            "general_errors": answered.general,
            "submission_key": uuid.uuid4(),
            "check_url": check_url,
            "risk_items": risk_items(instrument.code),
        },
    )


def _crisis(
    request: HttpRequest, context: dict[str, Any], *, continue_url: str
) -> HttpResponse:
    return render(
        request, "portal/crisis.html", context | {"continue_url": continue_url}
    )


def _check(request: HttpRequest, link: PortalLink | None, code: str) -> HttpResponse:
    """htmx: one answer as it is chosen; a risk answer raises the alert and shows the crisis lines."""
    link_id = request.POST.get("item", "")
    raw = request.POST.get(link_id, "")
    if link is None or code not in link.instrument_codes or not raw.isdigit():
        return HttpResponse("")
    try:
        alert = record_early_answer(
            link, instrument_code=code, link_id=link_id, value=int(raw)
        )
    except InvalidResponse:
        return HttpResponse("")
    if alert is None:
        return HttpResponse("")
    return render(
        request,
        "portal/crisis_box.html",
        {"organization": link.patient.organization},
    )


# By a link the clinic sent, or on the clinic tablet ------------------------------------


def _refused(
    request: HttpRequest, exc: PortalLinkInvalid, *, kiosk: bool
) -> HttpResponse:
    reads.record_link_refused(exc.message)
    return render(
        request,
        "portal/link_refused.html",
        {"message": exc.message, "kiosk": kiosk},
        status=410,
    )


def _by_link(request: HttpRequest, token: str, *, kiosk: bool) -> HttpResponse:
    try:
        link = open_portal_link(token)
    except PortalLinkInvalid as exc:
        return _refused(request, exc, kiosk=kiosk)
    patient = link.patient
    done, remaining = link_progress(link)
    context = {
        "kiosk": kiosk,
        "organization": patient.organization,
        "first_name": patient.preferred_name or patient.given_name,
    }
    answered = None
    if request.method == "GET" and not done:
        reads.record_link_opened(link)
    if request.method == "POST":
        try:
            answered = _answer(request, link, request.POST.get("instrument", ""))
        except PortalLinkInvalid as exc:
            return _refused(request, exc, kiosk=kiosk)
        if answered.saved:
            done, remaining = link_progress(link)
            if answered.crisis:
                return _crisis(
                    request,
                    context | {"remaining": remaining},
                    continue_url=request.path if remaining else "",
                )
            answered = None
    if not remaining:
        return render(request, "portal/thanks.html", context | {"link": link})
    return _form(
        request,
        patient=patient,
        instrument=INSTRUMENTS[remaining[0]],
        check_url=request.path.rstrip("/") + "/check/",
        context=context | {"step": len(done) + 1, "steps": len(link.instrument_codes)},
        answered=answered,
    )


@never_cache
@require_http_methods(["GET", "POST"])
def by_link(request: HttpRequest, token: str) -> HttpResponse:
    return _by_link(request, token, kiosk=False)


@never_cache
@require_http_methods(["GET", "POST"])
def kiosk(request: HttpRequest, token: str) -> HttpResponse:
    return _by_link(request, token, kiosk=True)


@never_cache
@require_POST
def check_by_link(request: HttpRequest, token: str) -> HttpResponse:
    try:
        link = open_portal_link(token)
    except PortalLinkInvalid:
        return HttpResponse("")
    return _check(request, link, request.POST.get("instrument", ""))


# Signed in: the intake packet's baseline questionnaires -------------------------------


def _intake_status(patient: Patient, code: str) -> packets.InstrumentStatus | None:
    statuses = packets.instrument_statuses(packets.packet_for(patient))
    return next((s for s in statuses if s.code == code and s.by_patient), None)


@never_cache
@portal_required
def intake_list(
    request: HtmxHttpRequest, patient: Patient, state: dict[str, Any]
) -> HttpResponse:
    statuses = packets.instrument_statuses(packets.packet_for(patient))
    return render(
        request,
        "portal/questionnaires.html",
        frame(patient, state)
        | {
            "statuses": statuses,
            "next": next((s for s in statuses if not s.done and s.by_patient), None),
        },
    )


@never_cache
@require_http_methods(["GET", "POST"])
@portal_required
def intake_questionnaire(
    request: HtmxHttpRequest, patient: Patient, state: dict[str, Any], code: str
) -> HttpResponse:
    """One baseline questionnaire of the packet; the same form as a sent link's."""
    status = _intake_status(patient, code)
    if status is None or state.get("witness"):
        raise Http404("No such questionnaire.")
    if status.done:
        return redirect("portal:questionnaires")
    context = frame(patient, state)
    answered = None
    if request.method == "POST":
        link = packets.questionnaire_link(packets.open_packet(patient))
        if link is None or code not in link.instrument_codes:
            return redirect("portal:questionnaires")
        try:
            answered = _answer(request, link, code)
        except PortalLinkInvalid as exc:
            answered = Answered(general=[exc.message])
        if answered.crisis:
            return _crisis(
                request, context, continue_url=reverse("portal:questionnaires")
            )
        if answered.saved:
            return redirect("portal:questionnaires")
    return _form(
        request,
        patient=patient,
        instrument=INSTRUMENTS[code],
        check_url=reverse("portal:questionnaire_check", kwargs={"code": code}),
        context=context,
        answered=answered,
    )


@never_cache
@require_POST
@portal_required
def intake_check(
    request: HtmxHttpRequest, patient: Patient, state: dict[str, Any], code: str
) -> HttpResponse:
    if _intake_status(patient, code) is None or state.get("witness"):
        return HttpResponse("")
    return _check(
        request, packets.questionnaire_link(packets.open_packet(patient)), code
    )
