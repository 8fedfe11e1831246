"""Book an induction series from a patient: the proposal with its reasons, then one click."""

import json
import uuid
from datetime import date, datetime, time
from typing import Any

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from neuroclinic.accounts.access import require_capability
from neuroclinic.accounts.roles import Capability
from neuroclinic.http import AuthenticatedHttpRequest
from neuroclinic.patients.access import get_patient_for_user
from neuroclinic.scheduling import messages as messages_
from neuroclinic.scheduling import rules
from neuroclinic.scheduling.actions import series
from neuroclinic.scheduling.errors import SchedulingError
from neuroclinic.scheduling.forms import BookSeriesForm, SeriesForm
from neuroclinic.treatment.actions.plans import active_plan


def _adjusted(
    days: list[str], times: list[str], zone: str
) -> list[datetime] | SchedulingError:
    """The series as the desk adjusted it: a local day and time per visit, to UTC."""
    if len(days) != len(times) or not days or len(days) > 30:
        return SchedulingError("The proposal was not understood; propose again.")
    starts: list[datetime] = []
    for n, (raw_day, raw_time) in enumerate(zip(days, times, strict=True), start=1):
        try:
            day, at = date.fromisoformat(raw_day), time.fromisoformat(raw_time)
        except ValueError:
            return SchedulingError(
                f"Infusion {n}: enter a day and a time.", field="starts"
            )
        try:
            starts.append(rules.local_to_utc(day, at, zone))
        except rules.LocalTimeError as exc:
            return SchedulingError(f"Infusion {n}: {exc}", field="starts")
    return starts


def _starts(raw: str) -> list[datetime] | None:
    try:
        values = json.loads(raw)
        starts = [datetime.fromisoformat(v) for v in values]
    except (ValueError, TypeError):
        return None
    if not starts or len(starts) > 30 or any(s.tzinfo is None for s in starts):
        return None
    return starts


@require_http_methods(["GET", "POST"])
@require_capability(Capability.BOOK_APPOINTMENTS)
def series_page(
    request: AuthenticatedHttpRequest, patient_uuid: uuid.UUID
) -> HttpResponse:
    """GET: the form. POST "propose": the proposal (an htmx fragment). POST "book": book it."""
    patient = get_patient_for_user(
        request.user, patient_uuid, capability=Capability.BOOK_APPOINTMENTS
    )
    organization_id = patient.organization_id
    plan = active_plan(patient)
    context: dict[str, Any] = {"patient": patient, "plan": plan}
    if (
        request.method == "POST"
        and request.POST.get("step") == "book"
        and plan is not None
    ):
        book_form = BookSeriesForm(request.POST, organization_id=organization_id)
        starts: list[datetime] | SchedulingError | None = _starts(
            request.POST.get("starts", "")
        )
        days = request.POST.getlist("day")
        if days and book_form.is_valid():
            starts = _adjusted(
                days,
                request.POST.getlist("time"),
                book_form.cleaned_data["location"].time_zone,
            )
        if isinstance(starts, SchedulingError):
            context["refusal"] = starts
        elif book_form.is_valid() and starts is not None:
            try:
                made = series.book_series(
                    plan,
                    location=book_form.cleaned_data["location"],
                    starts=starts,
                    by=request.user,
                )
            except SchedulingError as exc:
                context["refusal"] = exc
            else:
                follow_up = series.follow_up_for(plan)
                messages.success(
                    request,
                    f"Booked {made.appointments.count()} infusions."
                    + (
                        f" Follow-up visit: {messages_.local_time(follow_up):%a %d %b %H:%M}."
                        if follow_up is not None
                        else " No follow-up time is free in the follow-up window: book it by hand."
                    ),
                )
                first = made.appointments.order_by("starts_at").first()
                response = redirect("scheduling:day")
                if first is not None:
                    response["Location"] += (
                        f"?location={first.location.uuid}&date={messages_.local_time(first).date().isoformat()}"
                    )
                return response
        else:
            context["refusal"] = SchedulingError(
                "The proposal was not understood; propose again."
            )
        form = SeriesForm(organization_id=organization_id)
    elif request.method == "POST" and plan is not None:
        form = SeriesForm(request.POST, organization_id=organization_id)
        if form.is_valid():
            location = form.cleaned_data["location"]
            try:
                proposal = series.propose_series(
                    plan,
                    location=location,
                    start=form.cleaned_data["start"],
                    preferred_times=form.preferred(),
                )
            except SchedulingError as exc:
                context["refusal"] = exc
            else:
                context |= {
                    "proposal": proposal,
                    "location": location,
                    "starts_json": json.dumps(
                        [v.starts_at.isoformat() for v in proposal.visits]
                    ),
                }
        if request.htmx:
            context["form"] = form
            return render(request, "scheduling/series.html#proposal", context)
    else:
        form = SeriesForm(organization_id=organization_id)
    context["form"] = form
    return render(request, "scheduling/series.html", context)
