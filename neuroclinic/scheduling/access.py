"""Who may do what with the calendar: the one place pages and the API ask.

An appointment is found through its patient's visibility (another clinic's
appointment and a missing one both answer 404), then the role is checked (403)
against accounts/roles.py.
"""

import uuid

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404

from neuroclinic.accounts.models import User
from neuroclinic.accounts.roles import Capability
from neuroclinic.patients.models import Patient
from neuroclinic.scheduling.models import Appointment, WaitlistEntry, WaitlistOffer
from neuroclinic.treatment.models import TreatmentPlan


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


def waitlist_entries_for(
    user: User, *, capability: Capability
) -> "QuerySet[WaitlistEntry]":
    """The waitlist entries of patients this user may see (403 without the capability)."""
    require(user, capability)
    return WaitlistEntry.objects.filter(
        organization_id=user.organization_id or 0,
        patient__in=Patient.objects.visible_to(user),
    )


def get_waitlist_entry_for_user(
    user: User, entry_uuid: uuid.UUID | str, *, capability: Capability
) -> WaitlistEntry:
    try:
        entry = (
            WaitlistEntry.objects.filter(patient__in=Patient.objects.visible_to(user))
            .select_related("patient", "appointment_type", "location", "appointment")
            .get(uuid=entry_uuid)
        )
    except (WaitlistEntry.DoesNotExist, ValueError):
        raise Http404("No such waitlist entry.") from None
    require(user, capability)
    return entry


def get_waitlist_offer_for_user(
    user: User, offer_uuid: uuid.UUID | str, *, capability: Capability
) -> WaitlistOffer:
    try:
        offer = (
            WaitlistOffer.objects.filter(
                entry__patient__in=Patient.objects.visible_to(user)
            )
            .select_related("entry__patient", "entry__appointment_type", "location")
            .get(uuid=offer_uuid)
        )
    except (WaitlistOffer.DoesNotExist, ValueError):
        raise Http404("No such waitlist offer.") from None
    require(user, capability)
    return offer


def plans_for(user: User, *, capability: Capability) -> "QuerySet[TreatmentPlan]":
    """The active treatment plans of patients this user may see (403 without the
    capability): what the batch planner may propose for."""
    require(user, capability)
    return TreatmentPlan.objects.filter(
        organization_id=user.organization_id or 0,
        status=TreatmentPlan.Status.ACTIVE,
        patient__in=Patient.objects.visible_to(user),
    )
