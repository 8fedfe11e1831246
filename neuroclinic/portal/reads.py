"""The portal's reads that the audit log records (every read of patient data is audited).

These write only the audit event, never a domain row, so the GET pages that
call them stay read-only. The patient is not a staff user: the actor is None.
"""

from django.db import transaction

from neuroclinic.audit.models import AuditEvent
from neuroclinic.audit.record import record
from neuroclinic.audit.refusals import record_refusal
from neuroclinic.measures.models import PortalLink
from neuroclinic.patients.models import Patient


@transaction.atomic
def record_link_opened(link: PortalLink) -> None:
    record(
        AuditEvent.Action.PORTAL_LINK_OPENED,
        actor=None,
        patient=link.patient,
        subject=link,
    )


def record_link_refused(reason: str) -> None:
    """A questionnaire link that could not be used; the patient is not named.

    Counted per source and window, recorded in aggregate (audit/refusals.py).
    """
    record_refusal(AuditEvent.Action.PORTAL_LINK_REFUSED, reason=reason)


@transaction.atomic
def record_progress_viewed(patient: Patient) -> None:
    record(
        AuditEvent.Action.TRAJECTORY_VIEWED,
        actor=None,
        actor_username="(patient portal)",
        patient=patient,
        subject=patient,
        via="portal",
    )
