"""Who may do what with the calendar: the one place pages and the API ask.

An appointment is found through its patient's visibility (another clinic's
appointment and a missing one both answer 404), then the role is checked (403)
against accounts/roles.py.
"""

import uuid

from django.core.exceptions import PermissionDenied
from django.http import Http404

from neuroclinic.accounts.models import User
from neuroclinic.accounts.roles import Capability
from neuroclinic.patients.models import Patient
from neuroclinic.scheduling.models import Appointment


def check_in_capabilities(appointment: Appointment) -> frozenset[Capability]:
    """Checking in is the front desk's: the patient has arrived. For an infusion it opens
    the infusion session in its "checked in" state, with the appointment's nurse; the
    checklist, the start and everything after need run_infusions on the infusion pages."""
    return frozenset({Capability.CHECK_IN_PATIENTS})


def require(user: User, *capabilities: Capability) -> None:
    if not all(user.can(c) for c in capabilities):
        raise PermissionDenied


def get_appointment_for_user(
    user: User, appointment_uuid: uuid.UUID | str, *, capability: Capability
) -> Appointment:
    try:
        appointment = (
            Appointment.objects.filter(patient__in=Patient.objects.visible_to(user))
            .select_related("appointment_type", "location", "patient", "room", "staff")
            .get(uuid=appointment_uuid)
        )
    except (Appointment.DoesNotExist, ValueError):
        raise Http404("No such appointment.") from None
    require(user, capability)
    return appointment
