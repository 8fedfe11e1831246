"""The day's infusions at a location and one patient's infusion log (audited reads)."""

import uuid
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django import forms
from django.db import transaction
from django.db.models import QuerySet
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from neuroclinic.accounts.access import require_capability
from neuroclinic.accounts.roles import Capability
from neuroclinic.audit.models import AuditEvent
from neuroclinic.audit.record import record
from neuroclinic.clinics.models import Location
from neuroclinic.http import AuthenticatedHttpRequest
from neuroclinic.infusions.models import InfusionSession
from neuroclinic.measures.models import QuestionnaireResponse
from neuroclinic.patients.access import get_patient_for_user
from neuroclinic.treatment.actions.plans import active_plan, plan_status


def active_locations(request: AuthenticatedHttpRequest) -> QuerySet[Location]:
    return Location.objects.filter(
        organization_id=request.user.organization_pk, is_active=True
    ).order_by("name", "id")


def chosen_location(request: AuthenticatedHttpRequest) -> Location | None:
    chosen = request.GET.get("location")
    found = active_locations(request)
    if chosen:
        try:
            return found.get(uuid=chosen)
        except (Location.DoesNotExist, ValueError, forms.ValidationError):
            raise Http404("No such location.") from None
    return found.first()


@require_capability(Capability.VIEW_INFUSIONS)
@require_GET
def day(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The day's infusions at one location (report and worklist)."""
    location = chosen_location(request)
    zone = ZoneInfo(location.time_zone) if location else ZoneInfo("UTC")
    today = timezone.now().astimezone(zone).date()
    try:
        on = (
            date.fromisoformat(request.GET.get("date", ""))
            if request.GET.get("date")
            else today
        )
    except ValueError:
        on = today
    sessions = (
        InfusionSession.objects.filter(location=location, service_date=on)
        .select_related("patient", "room", "order", "nurse")
        .prefetch_related("adverse_events", "prn_given")
        .order_by("checked_in_at")
        if location
        else InfusionSession.objects.none()
    )
    rows = list(sessions)
    with transaction.atomic():
        record(
            AuditEvent.Action.INFUSION_REPORT_VIEWED,
            actor=request.user,
            report="day",
            location=location.name if location else "",
            date=on.isoformat(),
            count=len(rows),
        )
    totals = {
        "count": len(rows),
        "given": sum(1 for s in rows if s.mg_given),
        "mg": sum((s.mg_given or Decimal(0) for s in rows), Decimal(0)),
        "early": sum(1 for s in rows if s.stopped_early),
        "events": sum(s.adverse_events.count() for s in rows),
    }
    return render(
        request,
        "infusions/day.html",
        {
            "location": location,
            "locations": active_locations(request),
            "on": on,
            "previous": on - timedelta(days=1),
            "next": on + timedelta(days=1),
            "today": today,
            "rows": rows,
            "totals": totals,
        },
    )


@require_capability(Capability.VIEW_INFUSIONS)
@require_GET
def patient_log(
    request: AuthenticatedHttpRequest, patient_uuid: uuid.UUID
) -> HttpResponse:
    """Every infusion of one patient, with dose, delivery, events and the PHQ-9 around it."""
    patient = get_patient_for_user(
        request.user, patient_uuid, capability=Capability.VIEW_INFUSIONS
    )
    sessions = list(
        InfusionSession.objects.filter(patient=patient)
        .select_related("room", "location", "order", "nurse")
        .prefetch_related("adverse_events", "prn_given", "alarms", "doses")
        .order_by("checked_in_at")
    )

    phq9 = list(
        QuestionnaireResponse.objects.filter(
            patient=patient, instrument_code="phq9", amended_by__isnull=True
        )
        .order_by("completed_at")
        .values_list("completed_at", "total")
    )

    def phq9_before(moment: datetime) -> int | None:
        found = [
            total
            for at, total in phq9
            if at <= moment and at >= moment - timedelta(days=3)
        ]
        return found[-1] if found else None

    def phq9_after(moment: datetime | None) -> int | None:
        if moment is None:
            return None
        found = [
            total for at, total in phq9 if moment < at <= moment + timedelta(days=3)
        ]
        return found[0] if found else None

    rows = [
        {
            "session": s,
            "dose": max(
                s.doses.all(), key=lambda d: (d.calculated_at, d.pk), default=None
            ),
            "phq9_before": phq9_before(s.started_at or s.checked_in_at),
            "phq9_after": phq9_after(s.ended_at),
            "events": list(s.adverse_events.all()),
            "prn": list(s.prn_given.all()),
            "alarms": len(s.alarms.all()),
        }
        for s in sessions
    ]
    plan = active_plan(patient)
    with transaction.atomic():
        record(
            AuditEvent.Action.INFUSION_REPORT_VIEWED,
            actor=request.user,
            patient=patient,
            report="patient_log",
            count=len(rows),
        )
    return render(
        request,
        "infusions/patient_log.html",
        {
            "patient": patient,
            "rows": rows,
            "plan": plan,
            "plan_status": plan_status(plan) if plan else None,
            "total_mg": sum((s.mg_given or Decimal(0) for s in sessions), Decimal(0)),
        },
    )
