"""Interop's writes: the audit trail of FHIR reads (and, below, exports and imports).

Each function runs in one transaction and records audit events; callers check
access first (`neuroclinic.interop.server.registry.authorise`).
"""

from collections.abc import Iterable

from django.db import transaction

from neuroclinic.accounts.models import User
from neuroclinic.audit.models import AuditEvent
from neuroclinic.audit.record import record
from neuroclinic.patients.models import Patient


@transaction.atomic
def record_fhir_read(
    found: Iterable[tuple[Patient | None, str]], *, resource_type: str, by: User
) -> None:
    """One `patients.read_api` event per patient whose records a FHIR answer carried,
    listing the resource ids shown."""
    by_patient: dict[int, tuple[Patient, list[str]]] = {}
    for patient, resource_id in found:
        if patient is None:
            continue
        by_patient.setdefault(patient.pk, (patient, []))[1].append(resource_id)
    for patient, ids in by_patient.values():
        record(
            AuditEvent.Action.PATIENT_READ_API,
            actor=by,
            patient=patient,
            subject=patient,
            via="fhir",
            resource_type=resource_type,
            ids=ids,
        )
