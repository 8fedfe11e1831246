"""One time zone on screen: the clinic's (issue 18 item 7).

Storage stays UTC. At sign-in the zone of the organization's first active
location (the one the infusion and scheduling screens default to) is written
into the session; each request of that session then activates it, so templates,
forms and `timezone.localdate()` all speak the clinic's time, and base.html
names the zone once. Reading it from the session costs no query per request.
A zone changed in clinic settings reaches a session at its next sign-in.
Signed out (the public site, the portal, the API by token) nothing is activated
and Django's default, UTC, applies; exports and PDFs label their zone
themselves (the "T" date format).
"""

from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.http import HttpRequest, HttpResponse
from django.utils import timezone

SESSION_KEY = "clinic_time_zone"


def clinic_zone_name(organization_id: int | None) -> str:
    """The zone of the organization's first active location, "" if it has none."""
    from neuroclinic.clinics.models import Location

    if organization_id is None:
        return ""
    name = (
        Location.objects.filter(organization_id=organization_id, is_active=True)
        .order_by("name", "id")
        .values_list("time_zone", flat=True)
        .first()
    )
    return name or ""


def remember_zone(
    sender: Any, request: HttpRequest | None, user: Any, **_: Any
) -> None:
    """user_logged_in receiver: keep the clinic's zone in the new session."""
    if request is None or not hasattr(request, "session"):
        return
    request.session[SESSION_KEY] = clinic_zone_name(
        getattr(user, "organization_id", None)
    )


class ClinicTimeZoneMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        name = ""
        session = getattr(request, "session", None)
        if session is not None:
            name = session.get(SESSION_KEY, "")
        if name:
            try:
                timezone.activate(ZoneInfo(name))
            except (ZoneInfoNotFoundError, ValueError):
                timezone.deactivate()
        else:
            timezone.deactivate()
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()


def zone_context(request: HttpRequest) -> dict[str, str]:
    """Template context: the zone staff pages name once."""
    return {"clinic_zone": timezone.get_current_timezone_name()}
