"""A staff member's calendar address: make or revoke it (signed in), and the feed itself
(by its secret address, no sign-in: calendar apps fetch it on their own)."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from neuroclinic.accounts.access import require_capability
from neuroclinic.accounts.roles import Capability
from neuroclinic.http import AuthenticatedHttpRequest
from neuroclinic.scheduling.actions import feeds
from neuroclinic.scheduling.errors import SchedulingError

REFUSED = {
    404: "This calendar address is not known.",
    410: "This calendar address was revoked. Make a new one in the clinic's calendar.",
}


@never_cache
@require_http_methods(["GET", "POST"])
@require_capability(Capability.VIEW_SCHEDULE)
def my_feed(request: AuthenticatedHttpRequest) -> HttpResponse:
    """GET: is there an address. POST make: a new one, shown once. POST revoke: stop it."""
    address = ""
    if request.method == "POST":
        choice = request.POST.get("choice", "")
        if choice == "make":
            _feed, raw = feeds.create_feed(request.user, by=request.user)
            address = request.build_absolute_uri(
                reverse("scheduling:feed", kwargs={"token": raw})
            )
        elif choice == "revoke":
            active = feeds.active_feed(request.user)
            if active is None:
                messages.error(request, "You have no calendar address to revoke.")
            else:
                try:
                    feeds.revoke_feed(active, by=request.user)
                except SchedulingError as exc:
                    messages.error(request, exc.message)
                else:
                    messages.success(
                        request, "Calendar address revoked: it no longer works."
                    )
            return redirect("scheduling:my_feed")
        else:
            messages.error(request, "Choose to make or to revoke the address.")
            return redirect("scheduling:my_feed")
    return render(
        request,
        "scheduling/my_feed.html",
        {"active": feeds.active_feed(request.user), "address": address},
    )


@never_cache
@require_GET
def feed(request: HttpRequest, token: str) -> HttpResponse:
    found, status = feeds.feed_for_token(token)
    if found is None:
        return HttpResponse(
            REFUSED[status], status=status, content_type="text/plain; charset=utf-8"
        )
    response = HttpResponse(
        feeds.read_feed(found), content_type="text/calendar; charset=utf-8"
    )
    response["Content-Disposition"] = 'inline; filename="visits.ics"'
    return response
