"""Every POST on the tablet screen goes to `session_step`, which checks the role and the
patient once and hands the session to the step's view (one per sub-domain module)."""

import uuid
from collections.abc import Callable

from django.http import Http404, HttpResponse
from django.views.decorators.http import require_POST

from neuroclinic.accounts.access import require_capability
from neuroclinic.accounts.roles import Capability
from neuroclinic.http import AuthenticatedHttpRequest
from neuroclinic.infusions.access import get_session_for_user
from neuroclinic.infusions.models import InfusionSession

# The step views, one module per sub-domain (the same names as the actions').
from neuroclinic.infusions.views import (
    dose_draw,
    events,
    monitoring,
    notes,
    recovery_discharge,
    session_flow,
)

Step = Callable[[AuthenticatedHttpRequest, InfusionSession], HttpResponse]

# The step's name in the URL (infusions:step) -> its view.
STEPS: dict[str, Step] = {
    "dose": dose_draw.dose,
    "check-dose": dose_draw.check_dose,
    "draw": dose_draw.draw,
    "waste": dose_draw.waste,
    "event": events.adverse_event,
    "prn": events.prn,
    "sedation": events.sedation,
    "cadss": events.cadss,
    "vitals": monitoring.vitals,
    "sign": notes.sign,
    "addendum": notes.addendum,
    "recovery": recovery_discharge.recovery,
    "discharge": recovery_discharge.discharge,
    "checklist": session_flow.checklist,
    "confirm-checklist": session_flow.confirm_checklist,
    "start": session_flow.start,
    "pause": session_flow.pause,
    "resume": session_flow.resume,
    "rate": session_flow.rate,
    "stop": session_flow.stop,
    "cancel": session_flow.cancel,
}


@require_capability(Capability.RUN_INFUSIONS)
@require_POST
def session_step(
    request: AuthenticatedHttpRequest, session_uuid: uuid.UUID, step_name: str
) -> HttpResponse:
    session = get_session_for_user(
        request.user, session_uuid, capability=Capability.RUN_INFUSIONS
    )
    refused = _not_this_users_entry(request)
    if refused is not None:
        return refused
    view = STEPS.get(step_name)
    if view is None:
        raise Http404("No such step.")
    return view(request, session)


def _not_this_users_entry(request: AuthenticatedHttpRequest) -> HttpResponse | None:
    """A tablet entry belongs to the person who made it (issue 14, item 5).

    The tablet marks each entry with its maker (`made_by`). An entry made by someone
    else, or a replay from the tablet's queue that does not say who made it, is refused
    with 409 and nothing is recorded: the tablet keeps it for its maker, who sends it
    when they sign in again. Nobody else's name goes on it.
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
