"""The nurse-station board: every infusion room with its patient, trend and alarms."""

import uuid
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.views.decorators.http import require_GET

from neuroclinic.accounts.access import polled, require_capability
from neuroclinic.accounts.roles import Capability
from neuroclinic.audit.models import AuditEvent
from neuroclinic.audit.record import record
from neuroclinic.clinics.models import Location, Room
from neuroclinic.http import AuthenticatedHttpRequest
from neuroclinic.infusions.models import InfusionSession, SessionAlarm
from neuroclinic.infusions.views.reports import active_locations, chosen_location
from neuroclinic.infusions.views.screen import (
    TREND_READINGS,
    elapsed_text,
    trend,
)


def board_rooms(
    location: Location, *, now: datetime | None = None
) -> list[dict[str, Any]]:
    """Every infusion room at the location with its open session, vitals trend and alarm state."""
    now = now or timezone.now()
    rooms = list(
        Room.objects.filter(
            location=location, kind=Room.Kind.INFUSION, is_active=True
        ).order_by("name", "id")
    )
    open_statuses = [
        InfusionSession.Status.CHECKED_IN,
        InfusionSession.Status.RUNNING,
        InfusionSession.Status.PAUSED,
        InfusionSession.Status.RECOVERY,
    ]
    sessions = {
        s.room_id: s
        for s in InfusionSession.objects.filter(
            room__in=rooms, status__in=open_statuses
        ).select_related("patient", "order")
    }
    alarms: dict[int, list[SessionAlarm]] = {}
    for alarm in SessionAlarm.objects.filter(
        session__in=list(sessions.values()), acknowledged_at__isnull=True
    ).order_by("-raised_at"):
        alarms.setdefault(alarm.session_id, []).append(alarm)
    active: dict[int, list[SessionAlarm]] = {}
    for alarm in SessionAlarm.objects.filter(
        session__in=list(sessions.values()),
        acknowledged_at__isnull=False,
        cleared_at__isnull=True,
    ):
        active.setdefault(alarm.session_id, []).append(alarm)
    cards = []
    for room in rooms:
        session = sessions.get(room.pk)
        card: dict[str, Any] = {"room": room, "session": session}
        if session is not None:
            recent = list(session.vitals.order_by("-taken_at", "-id")[:TREND_READINGS])
            recent.reverse()
            unacked = alarms.get(session.pk, [])
            state = "ok"
            if any(a.is_critical for a in unacked):
                state = "critical"
            elif unacked:
                state = "warning"
            elif active.get(session.pk):
                state = "acknowledged"
            if session.status == InfusionSession.Status.RECOVERY:
                clock, clock_label = elapsed_text(session.ended_at, now), "in recovery"
            elif session.started_at:
                clock, clock_label = (
                    elapsed_text(session.started_at, now),
                    "infusing"
                    if session.status == InfusionSession.Status.RUNNING
                    else "paused",
                )
            else:
                clock, clock_label = (
                    elapsed_text(session.checked_in_at, now),
                    "since check-in",
                )
            card |= {
                "latest": recent[-1] if recent else None,
                "trend": trend(recent),
                "alarms": unacked,
                "active_alarms": active.get(session.pk, []),
                "state": state,
                "clock": clock,
                "clock_label": clock_label,
                "stale": bool(recent)
                and now - recent[-1].taken_at > timedelta(minutes=15),
            }
        cards.append(card)
    return cards


@require_capability(Capability.VIEW_INFUSIONS)
@require_GET
def board(request: AuthenticatedHttpRequest) -> HttpResponse:
    location = chosen_location(request)
    if location is None:
        raise Http404("No location.")
    with transaction.atomic():
        record(
            AuditEvent.Action.INFUSION_REPORT_VIEWED,
            actor=request.user,
            report="board",
            location=location.name,
        )
    return render(
        request,
        "infusions/board.html",
        {
            "location": location,
            "locations": active_locations(request),
            "cards": board_rooms(location),
            "now": timezone.now(),
        },
    )


@polled
@require_capability(Capability.VIEW_INFUSIONS)
@require_GET
def board_fragment(
    request: AuthenticatedHttpRequest, location_uuid: uuid.UUID
) -> HttpResponse:
    """What the board polls every second."""
    location = get_object_or_404(
        Location, uuid=location_uuid, organization_id=request.user.organization_pk
    )
    return render(
        request,
        "infusions/board_rooms.html",
        {"cards": board_rooms(location), "location": location, "now": timezone.now()},
    )
