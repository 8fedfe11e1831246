"""Questionnaires a patient answers by link (phone) or on the clinic tablet (kiosk).

No account is needed: the link is the key. An expired, used or mistyped link
says so and shows nothing else. A patient whose answers raise a safety alert
sees the crisis lines at once.
"""

import uuid

from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from neuroclinic.audit.models import AuditEvent
from neuroclinic.audit.record import record
from neuroclinic.measures import actions
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
from neuroclinic.measures.models import PortalLink


def _refused(
    request: HttpRequest, exc: actions.PortalLinkInvalid, *, kiosk: bool
) -> HttpResponse:
    with transaction.atomic():
        record(
            AuditEvent.Action.PORTAL_LINK_REFUSED,
            actor=None,
            outcome=AuditEvent.Outcome.DENIED,
            reason=exc.message,
        )
    return render(
        request,
        "portal/link_refused.html",
        {"message": exc.message, "kiosk": kiosk},
        status=410,
    )


def _questionnaire(request: HttpRequest, token: str, *, kiosk: bool) -> HttpResponse:
    try:
        link = actions.open_portal_link(token)
    except actions.PortalLinkInvalid as exc:
        return _refused(request, exc, kiosk=kiosk)
    done, remaining = actions.link_progress(link)
    errors: dict[str, str] = {}
    general: list[str] = []
    values: dict[str, object] = {}
    if request.method == "GET" and not done:
        with transaction.atomic():
            record(
                AuditEvent.Action.PORTAL_LINK_OPENED,
                actor=None,
                patient=link.patient,
                subject=link,
            )
    if request.method == "POST":
        code = request.POST.get("instrument", "")
        values = (
            answers_from_post(INSTRUMENTS[code], request.POST)
            if code in INSTRUMENTS
            else {}
        )
        key = submission_key_from(request.POST)
        try:
            recorded = actions.submit_from_link(
                link, instrument_code=code, answers=values, submission_key=key
            )
        except InvalidResponse as exc:
            errors, general = errors_by_item(exc)
        except actions.PortalLinkInvalid as exc:
            return _refused(request, exc, kiosk=kiosk)
        except actions.MeasuresError as exc:
            general.append(exc.message)
        else:
            link.refresh_from_db()
            done, remaining = actions.link_progress(link)
            if recorded.alerts or link.alert_raised:
                return _crisis(
                    request, link, kiosk=kiosk, remaining=remaining, token=token
                )
    if not remaining:
        return render(
            request,
            "portal/thanks.html",
            {"link": link, "kiosk": kiosk, "organization": link.patient.organization},
        )
    instrument = INSTRUMENTS[remaining[0]]
    return render(
        request,
        "portal/questionnaire.html",
        {
            "kiosk": kiosk,
            "token": token,
            "organization": link.patient.organization,
            "first_name": link.patient.preferred_name or link.patient.given_name,
            "instrument": instrument,
            "items": item_views(
                instrument,
                wording=wording_for(link.patient.organization_id, instrument),
                values=values,
                errors=errors,
            ),
            "general_errors": general,
            "step": len(done) + 1,
            "steps": len(link.instrument_codes),
            "submission_key": uuid.uuid4(),
            "check_url": request.path.rstrip("/") + "/check/",
            "risk_items": _risk_items(instrument.code),
        },
    )


def _risk_items(code: str) -> set[str]:
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


def _crisis(
    request: HttpRequest,
    link: PortalLink,
    *,
    kiosk: bool,
    remaining: list[str],
    token: str,
) -> HttpResponse:
    return render(
        request,
        "portal/crisis.html",
        {
            "kiosk": kiosk,
            "organization": link.patient.organization,
            "remaining": remaining,
            "token": token,
        },
    )


@never_cache
@require_http_methods(["GET", "POST"])
def questionnaire(request: HttpRequest, token: str) -> HttpResponse:
    return _questionnaire(request, token, kiosk=False)


@never_cache
@require_http_methods(["GET", "POST"])
def kiosk(request: HttpRequest, token: str) -> HttpResponse:
    return _questionnaire(request, token, kiosk=True)


@never_cache
@require_POST
def check_answer(request: HttpRequest, token: str) -> HttpResponse:
    """htmx: one answer as it is given; a risk answer shows the crisis lines and raises the alert now."""
    try:
        link = actions.open_portal_link(token)
    except actions.PortalLinkInvalid:
        return HttpResponse("")
    code = request.POST.get("instrument", "")
    link_id = request.POST.get("item", "")
    raw = request.POST.get(link_id, "")
    if code not in INSTRUMENTS or not raw.isdigit():
        return HttpResponse("")
    try:
        alert = actions.record_early_answer(
            link, instrument_code=code, link_id=link_id, value=int(raw)
        )
    except InvalidResponse:
        return HttpResponse("")
    if alert is None:
        return HttpResponse("")
    return render(
        request, "portal/crisis_box.html", {"organization": link.patient.organization}
    )
