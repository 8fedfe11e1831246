"""The one door to a patient: every view and API handler comes through here."""

from uuid import UUID

from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.http import Http404

from neuroclinic.accounts.models import User
from neuroclinic.accounts.roles import Capability
from neuroclinic.patients.models import Patient


def get_patient_for_user(
    user: User | AnonymousUser, patient_uuid: UUID | str, *, capability: Capability
) -> Patient:
    """Return the patient if this user may see them and do `capability`, else raise.

    Not-found and another organization's patient look the same (404), so ids
    cannot be probed. A visible patient the role may not act on is 403.
    """
    try:
        patient = Patient.objects.visible_to(user).get(uuid=patient_uuid)
    except (Patient.DoesNotExist, ValueError):
        raise Http404("No such patient.") from None
    assert isinstance(user, User)  # visible_to returns none() for anyone else
    if not user.can(capability):
        raise PermissionDenied
    return patient
