"""Who may reach what in the letters app, decided here for the pages and the API alike."""

from uuid import UUID

from django.http import Http404

from neuroclinic.accounts.models import User
from neuroclinic.accounts.roles import Capability
from neuroclinic.intake.models import EligibilityDecision
from neuroclinic.patients.access import get_patient_for_user


def clearance_decision(user: User, decision_uuid: UUID) -> EligibilityDecision:
    """A decision asking for clearance, in this user's clinic and visible to them, else 404."""
    decision = (
        EligibilityDecision.objects.select_related("patient", "decided_by")
        .filter(
            uuid=decision_uuid,
            organization_id=user.organization_pk,
            outcome=EligibilityDecision.Outcome.NEEDS_CLEARANCE,
        )
        .first()
    )
    if decision is None:
        raise Http404("No such clearance request.")
    get_patient_for_user(
        user, decision.patient.uuid, capability=Capability.WRITE_LETTERS
    )
    return decision
