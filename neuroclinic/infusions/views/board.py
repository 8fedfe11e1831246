"""The nurse-station board: every infusion room with its patient, trend and alarms."""

import uuid
from datetime import datetime, timedelta
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from neuroclinic.accounts.access import polled, require_capability
from neuroclinic.accounts.roles import Capability
from neuroclinic.audit.models import AuditEvent
from neuroclinic.audit.record import record
from neuroclinic.clinics.models import Location, Room
from neuroclinic.http import AuthenticatedHttpRequest
from neuroclinic.infusions.actions.display_links import (
    active_link,
    create_display_link,
    revoke_display_link,
)
from neuroclinic.infusions.errors import InfusionError
from neuroclinic.infusions.models import BoardDisplayLink, InfusionSession, SessionAlarm
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


# Wall displays (issue 15 item 4, issue 18): the board without a staff sign-in ----


def display_cards(location: Location) -> list[dict[str, Any]]:
    """What a wall display may show: room, state, initials and the clock; no names,
    no vitals, no links into the chart."""
    cards = []
    for card in board_rooms(location):
        session = card["session"]
        shown: dict[str, Any] = {"room": card["room"].name, "occupied": False}
        if session is not None:
            patient = session.patient
            given = (patient.preferred_name or patient.given_name)[:1]
            shown |= {
                "occupied": True,
                "initials": f"{given}{patient.family_name[:1]}".upper(),
                "state": card["state"],
                "status": session.get_status_display(),
                "clock": card["clock"],
                "clock_label": card["clock_label"],
            }
        cards.append(shown)
    return cards


@require_capability(Capability.MANAGE_CLINIC)
def display_links(request: AuthenticatedHttpRequest) -> HttpResponse:
    """List, create and revoke the clinic's board display links."""
    locations = active_locations(request)
    error = ""
    created_url = ""
    if request.method == "POST":
        chosen = request.POST.get("location", "")
        try:
            location = locations.filter(uuid=chosen).first() if chosen else None
            if location is None:
                raise InfusionError("Choose a location.", field="location")
            _, raw = create_display_link(
                location, label=request.POST.get("label", ""), by=request.user
            )
            created_url = request.build_absolute_uri(
                reverse("infusions:display", args=[raw])
            )
        except InfusionError as exc:
            error = exc.message
        except (ValueError, ValidationError):  # not a UUID
            error = "Choose a location."
    links = BoardDisplayLink.objects.filter(
        organization_id=request.user.organization_pk
    ).select_related("location", "created_by", "revoked_by")
    return render(
        request,
        "infusions/display_links.html",
        {
            "links": links,
            "locations": locations,
            "error": error,
            "created_url": created_url,
        },
        status=422 if error else 200,
    )


@require_capability(Capability.MANAGE_CLINIC)
@require_POST
def revoke_display(
    request: AuthenticatedHttpRequest, link_uuid: uuid.UUID
) -> HttpResponse:
    link = get_object_or_404(
        BoardDisplayLink, uuid=link_uuid, organization_id=request.user.organization_pk
    )
    try:
        revoke_display_link(link, by=request.user)
        messages.success(request, f"Display link “{link.label}” revoked.")
    except InfusionError as exc:
        messages.error(request, exc.message)
    return redirect("infusions:display_links")


def _refused() -> HttpResponse:
    response = render_to_string("infusions/display_refused.html")
    return HttpResponse(response, status=410)


@polled
@require_GET
def display(request: HttpRequest, token: str) -> HttpResponse:
    link = active_link(token)
    if link is None:
        return _refused()
    return render(
        request,
        "infusions/display.html",
        {
            "link": link,
            "location": link.location,
            "cards": display_cards(link.location),
            "now": timezone.now(),
            "token": token,
        },
    )


@polled
@require_GET
def display_fragment(request: HttpRequest, token: str) -> HttpResponse:
    link = active_link(token)
    if link is None:
        return _refused()
    return render(
        request,
        "infusions/display_rooms.html",
        {
            "location": link.location,
            "cards": display_cards(link.location),
            "now": timezone.now(),
        },
    )
