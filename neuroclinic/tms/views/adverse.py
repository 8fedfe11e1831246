"""Adverse-event reports on the course page: file one (run_tms), review and sign it (order_tms)."""

import uuid

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from neuroclinic.accounts.access import require_capability
from neuroclinic.accounts.roles import Capability
from neuroclinic.http import AuthenticatedHttpRequest
from neuroclinic.tms import forms as f
from neuroclinic.tms.access import get_adverse_event_for_user, get_course_for_user
from neuroclinic.tms.actions import adverse
from neuroclinic.tms.errors import TmsError
from neuroclinic.tms.views.course import course_context


@require_capability(Capability.RUN_TMS)
@require_POST
def file_report(
    request: AuthenticatedHttpRequest, course_uuid: uuid.UUID
) -> HttpResponse:
    course = get_course_for_user(
        request.user, course_uuid, capability=Capability.RUN_TMS
    )
    form = f.AdverseEventForm(
        request.POST, course=course, zone=course.location.time_zone, auto_id="ae-%s"
    )
    if form.is_valid():
        d = form.cleaned_data
        session = (
            course.sessions.filter(pk=d["session"]).first() if d["session"] else None
        )
        try:
            adverse.record_adverse_event(
                course,
                session=session,
                kind=d["kind"],
                description=d["description"],
                severity=d["severity"],
                serious=d["serious"],
                seriousness=d["seriousness"],
                onset_at=d["onset_at"],
                action_taken=d["action_taken"],
                outcome=d["outcome"],
                by=request.user,
            )
        except TmsError as exc:
            f.add_errors(form, exc)
        else:
            messages.success(request, "Adverse event filed.")
            return redirect(reverse("tms:course", args=[course.uuid]) + "#adverse")
    return render(
        request,
        "tms/course.html",
        course_context(request, course, adverse_form=form),
        status=422,
    )


@require_capability(Capability.ORDER_TMS)
@require_POST
def review_report(
    request: AuthenticatedHttpRequest, event_uuid: uuid.UUID
) -> HttpResponse:
    event = get_adverse_event_for_user(
        request.user, event_uuid, capability=Capability.ORDER_TMS
    )
    course = event.course
    form = f.AdverseEventReviewForm(request.POST, auto_id=f"ae{event.pk}-%s")
    if form.is_valid():
        d = form.cleaned_data
        try:
            adverse.review_adverse_event(
                event,
                causality=d["causality"],
                outcome=d["outcome"],
                note=d["note"],
                password=d["password"],
                by=request.user,
            )
        except TmsError as exc:
            f.add_errors(form, exc)
        else:
            messages.success(request, "Adverse event reviewed and signed.")
            return redirect(reverse("tms:course", args=[course.uuid]) + "#adverse")
    return render(
        request,
        "tms/course.html",
        course_context(request, course, adverse_review=(event.pk, form)),
        status=422,
    )
