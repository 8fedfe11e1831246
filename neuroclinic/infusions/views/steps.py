"""Every POST on the tablet screen goes to `session_step`, which checks the role and the
patient once and hands the session to the step's view (one per sub-domain module)."""

import uuid
from collections.abc import Callable

from django.http import Http404, HttpResponse
from django.views.decorators.http import require_POST

from neuroclinic.accounts.access import require_capability
from neuroclinic.accounts.roles import Capability
from neuroclinic.http import AuthenticatedHttpRequest, not_this_users_entry
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
    refused = not_this_users_entry(request)
    if refused is not None:
        return refused
    view = STEPS.get(step_name)
    if view is None:
        raise Http404("No such step.")
    return view(request, session)
