"""Writes to clinic configuration: one transaction and one audit event each."""

from django.db import transaction
from django.db.models import Model

from neuroclinic.accounts.models import User
from neuroclinic.audit.models import AuditEvent
from neuroclinic.audit.record import record
from neuroclinic.clinics.models import Device, Location, Organization, Room

_ACTIONS: dict[type[Model], AuditEvent.Action] = {
    Organization: AuditEvent.Action.CLINIC_UPDATED,
    Location: AuditEvent.Action.LOCATION_SAVED,
    Room: AuditEvent.Action.ROOM_SAVED,
    Device: AuditEvent.Action.DEVICE_SAVED,
}


@transaction.atomic
def save_clinic_object(obj: Model, *, changed_fields: list[str], by: User) -> Model:
    """Save an organization, location, room or device made or changed by a form."""
    created = obj.pk is None
    obj.save()
    record(
        _ACTIONS[type(obj)],
        actor=by,
        subject=obj,
        organization=by.organization,
        created=created,
        fields=sorted(changed_fields),
    )
    return obj
