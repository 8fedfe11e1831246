"""Who may read and change the clinic's devices, in one place for the API (issue 10).

Reading the devices (TMS units with their maximum output, pumps, monitors) is for the
roles that run or see TMS and for the clinic admin; changing them is the clinic
admin's, as on the settings page. Another organization's device is a 404.
"""

import uuid

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404

from neuroclinic.accounts.models import User
from neuroclinic.accounts.roles import Capability
from neuroclinic.clinics.models import Device

READ_DEVICES = (Capability.VIEW_TMS, Capability.MANAGE_CLINIC)
CHANGE_DEVICES = Capability.MANAGE_CLINIC


def may_read_devices(user: User) -> bool:
    return any(user.can(c) for c in READ_DEVICES)


def require_device_reader(user: User) -> int:
    """The user's organization, if the role may read its devices (else 403)."""
    if user.organization_id is None or not may_read_devices(user):
        raise PermissionDenied
    return user.organization_id


def require_device_manager(user: User) -> int:
    if user.organization_id is None or not user.can(CHANGE_DEVICES):
        raise PermissionDenied
    return user.organization_id


def devices_for(organization_id: int) -> QuerySet[Device]:
    return Device.objects.filter(location__organization_id=organization_id)


def get_device(organization_id: int, device_uuid: uuid.UUID | str) -> Device:
    try:
        return (
            devices_for(organization_id)
            .select_related("location", "room")
            .get(uuid=device_uuid)
        )
    except (Device.DoesNotExist, ValueError):
        raise Http404("No such device.") from None
