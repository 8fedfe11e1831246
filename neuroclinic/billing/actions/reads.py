"""Audit of every billing read of a patient (account, invoice, estimate, superbill, report)."""

from typing import Any

from django.db import models, transaction

from neuroclinic.accounts.models import User
from neuroclinic.audit.models import AuditEvent
from neuroclinic.audit.record import record
from neuroclinic.patients.models import Patient


@transaction.atomic
def record_read(
    action: AuditEvent.Action,
    *,
    patient: Patient | None = None,
    subject: models.Model | None = None,
    by: User,
    **data: Any,
) -> None:
    record(
        action,
        actor=by,
        patient=patient,
        subject=subject,
        organization=by.organization if patient is None else None,
        **data,
    )


@transaction.atomic
def record_portal_read(
    action: AuditEvent.Action,
    *,
    patient: Patient,
    subject: models.Model,
    **data: Any,
) -> None:
    """The patient read their own billing documents in the portal (no staff actor)."""
    record(
        action,
        actor=None,
        actor_username="(patient portal)",
        patient=patient,
        subject=subject,
        via="portal",
        **data,
    )
