"""The prescribers' booster worklist and the post-series follow-up worklist."""

from datetime import UTC, datetime, time
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from django import forms
from django.contrib import messages
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from neuroclinic.accounts.access import require_capability
from neuroclinic.accounts.roles import Capability
from neuroclinic.audit.models import AuditEvent
from neuroclinic.audit.record import record
from neuroclinic.clinics.models import Location
from neuroclinic.http import AuthenticatedHttpRequest
from neuroclinic.outcomes import worklist
from neuroclinic.outcomes.actions import boosters, follow_up
from neuroclinic.outcomes.actions.common import OutcomesError
from neuroclinic.outcomes.boosters import URGENCY_LABELS, Urgency
from neuroclinic.outcomes.models import BoosterSuggestion, FollowUpTask
from neuroclinic.treatment.actions.plans import clinic_today

URGENCY_ORDER = [Urgency.OVERDUE, Urgency.DUE_NOW, Urgency.DUE_SOON, Urgency.NOT_DUE]


class ConfirmForm(forms.Form):
    password = forms.CharField(widget=forms.PasswordInput, max_length=200)
    note = forms.CharField(required=False, max_length=500)


class DismissForm(forms.Form):
    reason = forms.CharField(max_length=500)


class DoneForm(forms.Form):
    note = forms.CharField(required=False, max_length=500)


def _suggestion(
    request: AuthenticatedHttpRequest, suggestion_uuid: UUID
) -> BoosterSuggestion:
    try:
        return BoosterSuggestion.objects.select_related("patient").get(
            uuid=suggestion_uuid, organization_id=request.user.organization_pk
        )
    except BoosterSuggestion.DoesNotExist:
        raise Http404("No such suggestion.") from None


@require_capability(Capability.WRITE_ORDERS)
@require_GET
def booster_worklist(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Open suggestions by urgency (under the rules each was made with), and recent decisions."""
    today = clinic_today(request.user.organization_pk)
    open_rows = worklist.open_suggestions(request.user.organization_pk, today)
    groups: dict[Urgency, list[worklist.OpenRow]] = {u: [] for u in URGENCY_ORDER}
    for row in open_rows:
        groups[row.urgency].append(row)
    decided = worklist.recent_decisions(request.user.organization_pk)
    with transaction.atomic():
        record(
            AuditEvent.Action.OUTCOMES_VIEWED,
            actor=request.user,
            report="booster_worklist",
            count=len(open_rows),
        )
    return render(
        request,
        "outcomes/booster_worklist.html",
        {
            "groups": [(URGENCY_LABELS[u], groups[u]) for u in URGENCY_ORDER],
            "decided": decided,
            "today": today,
        },
    )


@require_capability(Capability.WRITE_ORDERS)
@require_POST
def confirm(request: AuthenticatedHttpRequest, suggestion_uuid: UUID) -> HttpResponse:
    suggestion = _suggestion(request, suggestion_uuid)
    form = ConfirmForm(request.POST)
    if form.is_valid():
        try:
            boosters.confirm_booster(
                suggestion,
                password=form.cleaned_data["password"],
                note=form.cleaned_data["note"],
                by=request.user,
            )
        except OutcomesError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, "Booster confirmed and its order signed.")
            return redirect("outcomes:boosters")
    return render(
        request,
        "outcomes/booster_decide.html",
        {"suggestion": suggestion, "confirm_form": form, "dismiss_form": DismissForm()},
        status=422,
    )


@require_capability(Capability.WRITE_ORDERS)
@require_POST
def dismiss(request: AuthenticatedHttpRequest, suggestion_uuid: UUID) -> HttpResponse:
    suggestion = _suggestion(request, suggestion_uuid)
    form = DismissForm(request.POST)
    if form.is_valid():
        try:
            boosters.dismiss_booster(
                suggestion, reason=form.cleaned_data["reason"], by=request.user
            )
        except OutcomesError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, "Suggestion dismissed.")
            return redirect("outcomes:boosters")
    return render(
        request,
        "outcomes/booster_decide.html",
        {"suggestion": suggestion, "confirm_form": ConfirmForm(), "dismiss_form": form},
        status=422,
    )


@require_capability(Capability.WORK_FOLLOW_UPS)
@require_GET
def follow_ups(request: AuthenticatedHttpRequest) -> HttpResponse:
    today = clinic_today(request.user.organization_pk)
    tasks = list(
        FollowUpTask.objects.filter(
            organization_id=request.user.organization_pk,
            status=FollowUpTask.Status.OPEN,
        )
        .select_related("patient")
        .order_by("due_until", "id")[:500]
    )
    with transaction.atomic():
        record(
            AuditEvent.Action.OUTCOMES_VIEWED,
            actor=request.user,
            report="follow_ups",
            count=len(tasks),
        )
    return render(request, "outcomes/follow_ups.html", {"tasks": tasks, "today": today})


@require_capability(Capability.WORK_FOLLOW_UPS)
@require_POST
def follow_up_done(request: AuthenticatedHttpRequest, task_uuid: UUID) -> HttpResponse:
    try:
        task = FollowUpTask.objects.get(
            uuid=task_uuid, organization_id=request.user.organization_pk
        )
    except FollowUpTask.DoesNotExist:
        raise Http404("No such task.") from None
    form = DoneForm(request.POST)
    if form.is_valid():
        try:
            follow_up.complete_follow_up_task(
                task, note=form.cleaned_data["note"], by=request.user
            )
        except OutcomesError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, "Task done.")
    return redirect("outcomes:follow_ups")


class BookForm(forms.Form):
    location = forms.ModelChoiceField(queryset=Location.objects.none())
    day = forms.DateField(label="Date")
    at = forms.TimeField(label="Time (the location's local time)")

    def __init__(self, *args: Any, organization_id: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        location_field = self.fields["location"]
        assert isinstance(location_field, forms.ModelChoiceField)
        location_field.queryset = Location.objects.filter(
            organization_id=organization_id, is_active=True
        ).order_by("name")

    def starts_at(self) -> datetime:
        location = self.cleaned_data["location"]
        local = datetime.combine(self.cleaned_data["day"], self.cleaned_data["at"])
        return local.replace(tzinfo=ZoneInfo(location.time_zone)).astimezone(UTC)


def _to_book(organization_id: int) -> list[BoosterSuggestion]:
    return list(
        BoosterSuggestion.objects.filter(
            organization_id=organization_id,
            status=BoosterSuggestion.Status.CONFIRMED,
            appointment__isnull=True,
        )
        .select_related("patient", "decided_by")
        .order_by("due_on", "id")[:500]
    )


def _render_to_book(
    request: AuthenticatedHttpRequest,
    forms_by_uuid: dict[str, BookForm] | None = None,
    status: int = 200,
) -> HttpResponse:
    rows = _to_book(request.user.organization_pk)
    forms_by_uuid = forms_by_uuid or {}
    with transaction.atomic():
        record(
            AuditEvent.Action.OUTCOMES_VIEWED,
            actor=request.user,
            report="boosters_to_book",
            count=len(rows),
        )
    return render(
        request,
        "outcomes/boosters_to_book.html",
        {
            "rows": [
                (
                    s,
                    forms_by_uuid.get(str(s.uuid))
                    or BookForm(
                        organization_id=request.user.organization_pk,
                        initial={"day": s.due_on, "at": time(9, 0)},
                        prefix=str(s.uuid),
                    ),
                )
                for s in rows
            ]
        },
        status=status,
    )


@require_capability(Capability.BOOK_APPOINTMENTS)
@require_GET
def boosters_to_book(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Confirmed boosters without a visit yet: the front desk books each in the calendar."""
    return _render_to_book(request)


@require_capability(Capability.BOOK_APPOINTMENTS)
@require_POST
def book(request: AuthenticatedHttpRequest, suggestion_uuid: UUID) -> HttpResponse:
    suggestion = _suggestion(request, suggestion_uuid)
    form = BookForm(
        request.POST,
        organization_id=request.user.organization_pk,
        prefix=str(suggestion.uuid),
    )
    if form.is_valid():
        try:
            appointment = boosters.book_confirmed_booster(
                suggestion,
                location=form.cleaned_data["location"],
                starts_at=form.starts_at(),
                by=request.user,
            )
        except OutcomesError as error:
            form.add_error(None, str(error))
        else:
            local = appointment.starts_at.astimezone(
                ZoneInfo(appointment.location.time_zone)
            )
            messages.success(request, f"Booster booked for {local:%Y-%m-%d %H:%M}.")
            return redirect("outcomes:to_book")
    return _render_to_book(request, {str(suggestion.uuid): form}, status=422)
