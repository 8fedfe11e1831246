"""Counting a safe, and the discrepancies and tasks a variance opens."""

import uuid

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from neuroclinic.accounts.access import require_capability
from neuroclinic.accounts.roles import Capability
from neuroclinic.http import AuthenticatedHttpRequest
from neuroclinic.ledger.actions.counts import (
    CountInput,
    complete_task,
    escalate_significant_loss,
    investigate_discrepancy,
    record_count,
    resolve_minor_variance,
)
from neuroclinic.ledger.errors import LedgerError
from neuroclinic.ledger.forms import (
    CountForm,
    EscalateForm,
    NotesForm,
    TaskDoneForm,
)
from neuroclinic.ledger.models import (
    ComplianceTask,
    Container,
    Count,
    Discrepancy,
    StorageLocation,
)
from neuroclinic.ledger.views.frame import own_object, render_page, show_refusal


def _safe_contents(safe: StorageLocation) -> list[Container]:
    return list(
        Container.objects.filter(
            storage_location=safe,
            status__in=[Container.Status.SEALED, Container.Status.OPEN],
        )
        .select_related("product", "lot")
        .order_by("lot__expiry_date", "vial_identifier", "id")
    )


@require_capability(Capability.LEDGER_COUNT)
@require_http_methods(["GET", "POST"])
def count_new(request: AuthenticatedHttpRequest, safe_uuid: uuid.UUID) -> HttpResponse:
    safe = own_object(request, StorageLocation, safe_uuid)
    containers = _safe_contents(safe)
    form = CountForm(request.POST or None, actor=request.user, containers=containers)
    if request.method == "POST" and form.is_valid():
        witness = form.confirm()
        if witness is not None:
            try:
                made = record_count(
                    safe,
                    lines=[CountInput(c, v) for c, v in form.counted()],
                    by=request.user,
                    witness=witness,
                    kind=form.cleaned_data["kind"],
                    notes=form.cleaned_data["notes"],
                )
            except LedgerError as exc:
                show_refusal(form, exc)
            else:
                if made.has_variance:
                    messages.warning(
                        request,
                        "The count differs from the ledger: a discrepancy is open. "
                        "Investigate it today.",
                    )
                else:
                    messages.success(request, "Count recorded: it matches the ledger.")
                return redirect("ledger:count", count_uuid=made.uuid)
    rows = [(c, form[f"counted_{c.uuid}"]) for c in containers]
    return render_page(
        request,
        "ledger/count_form.html",
        safe.registrant,
        form=form,
        safe=safe,
        rows=rows,
    )


@require_capability(Capability.LEDGER_VIEW)
@require_GET
def count(request: AuthenticatedHttpRequest, count_uuid: uuid.UUID) -> HttpResponse:
    found = own_object(request, Count, count_uuid)
    return render_page(
        request,
        "ledger/count.html",
        found.registrant,
        count=found,
        lines=found.lines.select_related("container__product", "container__lot"),
        discrepancy=found.discrepancies.first(),
    )


# --- discrepancies --------------------------------------------------------------------


@require_capability(Capability.LEDGER_VIEW)
@require_http_methods(["GET", "POST"])
def discrepancy(
    request: AuthenticatedHttpRequest, discrepancy_uuid: uuid.UUID
) -> HttpResponse:
    found = own_object(request, Discrepancy, discrepancy_uuid)
    step = request.POST.get("step", "") if request.method == "POST" else ""
    investigate_form = NotesForm(
        request.POST if step == "investigate" else None, prefix="investigate"
    )
    resolve_form = NotesForm(
        request.POST if step == "resolve" else None, prefix="resolve"
    )
    escalate_form = EscalateForm(
        request.POST if step == "escalate" else None, prefix="escalate"
    )
    if request.method == "POST":
        if not request.user.can(Capability.LEDGER_ADJUST):
            raise PermissionDenied
        form = {
            "investigate": investigate_form,
            "resolve": resolve_form,
            "escalate": escalate_form,
        }.get(step)
        if form is None:
            raise Http404("No such step.")
        if form.is_valid():
            try:
                if step == "investigate":
                    investigate_discrepancy(
                        found,
                        notes=form.cleaned_data["notes"],
                        by=request.user,
                    )
                    messages.success(request, "Investigation notes saved.")
                elif step == "resolve":
                    resolve_minor_variance(
                        found,
                        notes=form.cleaned_data["notes"],
                        by=request.user,
                    )
                    messages.success(
                        request, "Resolved as a minor variance; the ledger is adjusted."
                    )
                else:
                    escalate_significant_loss(
                        found,
                        loss_kind=form.cleaned_data["loss_kind"],
                        notes=form.cleaned_data["notes"],
                        by=request.user,
                    )
                    messages.warning(
                        request,
                        "Escalated: the DEA notice and Form 106 tasks are open below.",
                    )
            except LedgerError as exc:
                show_refusal(form, exc)
            else:
                return redirect("ledger:discrepancy", discrepancy_uuid=found.uuid)
    return render_page(
        request,
        "ledger/discrepancy.html",
        found.registrant,
        discrepancy=found,
        lines=found.lines.select_related("container__product", "container__lot"),
        tasks=found.tasks.order_by("due_date", "id"),
        form_106=getattr(found, "form_106", None),
        adjustments=found.entries.select_related("container").order_by("seq"),
        investigate_form=investigate_form,
        resolve_form=resolve_form,
        escalate_form=escalate_form,
        task_form=TaskDoneForm(),
    )


@require_capability(Capability.LEDGER_ADJUST)
@require_POST
def task_done(request: AuthenticatedHttpRequest, task_uuid: uuid.UUID) -> HttpResponse:
    task = own_object(request, ComplianceTask, task_uuid)
    form = TaskDoneForm(request.POST)
    if form.is_valid():
        try:
            complete_task(
                task, reference=form.cleaned_data["reference"], by=request.user
            )
        except LedgerError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f"{task.get_kind_display()}: done.")
    else:
        messages.error(request, "Give a reference for the task.")
    return redirect("ledger:discrepancy", discrepancy_uuid=task.discrepancy.uuid)
