"""Book a TMS course on the calendar: one form (the preferred time), all sessions or none."""

import uuid

from django import forms
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from neuroclinic.accounts.access import require_capability
from neuroclinic.accounts.roles import Capability
from neuroclinic.http import AuthenticatedHttpRequest
from neuroclinic.scheduling.actions import tms as tms_booking
from neuroclinic.scheduling.errors import SchedulingError
from neuroclinic.scheduling.models import Appointment
from neuroclinic.tms.access import get_course_for_user


class TmsCourseForm(forms.Form):
    preferred_time = forms.TimeField(
        required=False,
        label="Preferred time",
        widget=forms.TimeInput(attrs={"type": "time", "step": 900}),
        help_text="Optional: each session at this time or the first free time after it.",
    )


@require_http_methods(["GET", "POST"])
@require_capability(Capability.BOOK_APPOINTMENTS)
def book_course(
    request: AuthenticatedHttpRequest, course_uuid: uuid.UUID
) -> HttpResponse:
    course = get_course_for_user(
        request.user, course_uuid, capability=Capability.BOOK_APPOINTMENTS
    )
    form = TmsCourseForm(request.POST or None)
    refusal = ""
    if request.method == "POST" and form.is_valid():
        try:
            made = tms_booking.book_tms_course(
                course,
                preferred_time=form.cleaned_data["preferred_time"],
                by=request.user,
            )
        except SchedulingError as exc:
            refusal = exc.message
        else:
            messages.success(request, f"Booked {len(made)} TMS sessions.")
            return redirect("scheduling:tms_course", course_uuid=course.uuid)
    booked = list(
        Appointment.objects.filter(tms_course=course, status__in=Appointment.HOLDING)
        .select_related("room", "staff", "location")
        .order_by("starts_at")
    )
    return render(
        request,
        "scheduling/tms_course.html",
        {"course": course, "form": form, "refusal": refusal, "booked": booked},
    )
