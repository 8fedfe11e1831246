"""Who did what: the audit log, filtered, paged and exported as CSV."""

import csv
from collections.abc import Iterator
from datetime import datetime, time
from typing import Any

from django import forms
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from neuroclinic.accounts.access import require_capability
from neuroclinic.accounts.roles import Capability
from neuroclinic.audit.models import AuditEvent
from neuroclinic.audit.record import record
from neuroclinic.http import AuthenticatedHttpRequest
from neuroclinic.lib.replica import replica_reads, streamed_from_replica
from neuroclinic.patients.models import Patient

CSV_COLUMNS = [
    "seq",
    "occurred_at",
    "action",
    "outcome",
    "actor_username",
    "actor_roles",
    "patient_mrn",
    "subject_type",
    "subject_id",
    "source_ip",
    "data",
    "hash",
]


class AuditFilterForm(forms.Form):
    patient = forms.CharField(required=False, label="Patient MRN", max_length=20)
    user = forms.CharField(required=False, label="Username", max_length=150)
    action = forms.ChoiceField(
        required=False, choices=[("", "Any action"), *AuditEvent.Action.choices]
    )
    date_from = forms.DateField(
        required=False, label="From", widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        required=False, label="To", widget=forms.DateInput(attrs={"type": "date"})
    )

    def clean(self) -> dict[str, Any]:
        data: dict[str, Any] = super().clean() or {}
        if (
            data.get("date_from")
            and data.get("date_to")
            and data["date_from"] > data["date_to"]
        ):
            self.add_error("date_to", "The end date is before the start date.")
        return data


def _filtered(
    request: AuthenticatedHttpRequest, form: AuditFilterForm
) -> QuerySet[AuditEvent]:
    events = AuditEvent.objects.filter(
        organization_id=request.user.organization_pk
    ).select_related("patient")
    if not form.is_valid():
        return events.none()
    data = form.cleaned_data
    if data["patient"]:
        patient = (
            Patient.objects.visible_to(request.user)
            .filter(mrn=data["patient"].strip().upper())
            .first()
        )
        events = events.filter(patient=patient) if patient else events.none()
    if data["user"]:
        events = events.filter(actor_username=data["user"].strip())
    if data["action"]:
        events = events.filter(action=data["action"])
    zone = timezone.get_current_timezone()
    if data["date_from"]:
        events = events.filter(
            occurred_at__gte=datetime.combine(data["date_from"], time.min, zone)
        )
    if data["date_to"]:
        events = events.filter(
            occurred_at__lte=datetime.combine(data["date_to"], time.max, zone)
        )
    return events.order_by("-seq")


@require_capability(Capability.VIEW_AUDIT_LOG)
@require_GET
@replica_reads
def events(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = AuditFilterForm(request.GET or None)
    if not request.GET:
        form = AuditFilterForm({})
    page = Paginator(_filtered(request, form), 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "audit_viewer/events.html",
        {"form": form, "page": page, "query": query.urlencode()},
    )


class _Echo:
    def write(self, value: str) -> str:
        return value


def _csv_rows(events: QuerySet[AuditEvent]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow(CSV_COLUMNS)
    for event in events.iterator(chunk_size=2000):
        yield writer.writerow(
            [
                event.seq,
                event.occurred_at.isoformat(),
                event.action,
                event.outcome,
                event.actor_username,
                event.actor_roles,
                event.patient.mrn if event.patient else "",
                event.subject_type,
                event.subject_id,
                event.source_ip or "",
                event.data,
                event.hash,
            ]
        )


@require_capability(Capability.VIEW_AUDIT_LOG)
@require_GET
@replica_reads
def export_csv(
    request: AuthenticatedHttpRequest,
) -> HttpResponse | StreamingHttpResponse:
    form = AuditFilterForm(request.GET)
    events = _filtered(request, form)
    with transaction.atomic():
        record(
            AuditEvent.Action.AUDIT_LOG_EXPORTED,
            actor=request.user,
            filters={k: str(v) for k, v in form.cleaned_data.items() if v}
            if form.is_valid()
            else {},
        )
    response = StreamingHttpResponse(
        streamed_from_replica(_csv_rows(events)), content_type="text/csv"
    )
    response["Content-Disposition"] = (
        f'attachment; filename="audit-{timezone.now():%Y%m%d-%H%M%S}.csv"'
    )
    response["Cache-Control"] = "no-store"
    return response
