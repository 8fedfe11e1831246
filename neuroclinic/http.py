"""Typed requests, so `request.user` and `request.htmx` type-check under --strict; the
tablet's check that an entry is sent by the person who made it."""

from django.http import HttpRequest, HttpResponse
from django_htmx.middleware import HtmxDetails

from neuroclinic.accounts.models import User


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


class AuthenticatedHttpRequest(HtmxHttpRequest):
    user: User  # narrowed: views behind require_capability


def not_this_users_entry(request: AuthenticatedHttpRequest) -> HttpResponse | None:
    """A tablet entry belongs to the person who made it (issue 14, item 5).

    The tablet (static/js/infusion-tablet.js, used by the infusion and TMS screens)
    marks each entry with its maker (`made_by`). An entry made by someone else, or a
    replay from the tablet's queue that does not say who made it, is refused with 409
    and nothing is recorded: the tablet keeps it for its maker, who sends it when they
    sign in again. Nobody else's name goes on it.
    """
    made_by = request.POST.get("made_by")
    replay = request.headers.get("X-Tablet-Replay") == "1"
    if made_by is None and not replay:
        return None
    if made_by == str(request.user.uuid):
        return None
    return HttpResponse(
        '<p class="message-error">Not recorded: this entry was made on this tablet by '
        "someone else. It stays saved for them, to send when they sign in.</p>",
        status=409,
    )
